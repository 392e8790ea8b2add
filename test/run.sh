#!/bin/sh
# Runs each test program given (binaries, or .sh scripts; pg:PROGRAM runs
# PROGRAM with BS_TEST_BACKEND=postgresql, on a PostgreSQL it starts), shows
# its output, and ends with one line adding up every program's "N passed,
# N failed" and the "N skipped" some programs print beside it.
# Exits non-zero when any test failed or any program did not report.
set -u
passed=0
failed=0
skipped=0
status=0
for t in "$@"; do
	echo "==> $t"
	case "$t" in
	*.sh) out=$(sh "$t" 2>&1) ;;
	pg:*) out=$(BS_TEST_BACKEND=postgresql "./${t#pg:}" 2>&1) ;;
	*) out=$("./$t" 2>&1) ;;
	esac
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "$t: exited $rc without a result line"
		failed=$((failed + 1))
		status=1
		continue
	fi
	p=$(printf '%s\n' "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(printf '%s\n' "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	s=$(printf '%s\n' "$out" | grep -E '^[^ ]+: [0-9]+ skipped$' | tail -n 1 |
		sed -E 's/.*: ([0-9]+) skipped$/\1/')
	passed=$((passed + p))
	skipped=$((skipped + ${s:-0}))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
		status=1
	fi
done
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
