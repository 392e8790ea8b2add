#!/bin/sh
# Every man page in man/ renders with man -l, without a warning from groff,
# and has the sections a reader looks for.
set -u
passed=0
failed=0
for page in man/*.[0-9]; do
	warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
	ok=1
	if [ -n "$warnings" ]; then
		echo "$page: $warnings"
		ok=0
	fi
	for section in NAME SYNOPSIS DESCRIPTION "SEE ALSO"; do
		if ! printf '%s\n' "$text" | grep -q "^$section\$"; then
			echo "$page: no $section section"
			ok=0
		fi
	done
	if [ $ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "man: $passed passed, $failed failed"
[ $failed = 0 ]
