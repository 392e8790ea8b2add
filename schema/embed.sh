#!/bin/sh
# Turns the migrations given as arguments (001_*.sql, 002_*.sql, ... in
# order) into a C array of strings; migration N brings the database to
# PRAGMA user_version = N, so the numbering must have no gap.
# -n PREFIX names the array PREFIX_migrations and the count PREFIX_count
# (bs_schema by default; bs_pg_schema for schema/pg/).
set -eu
prefix=bs_schema
if [ "${1:-}" = "-n" ]; then
	prefix=$2
	shift 2
fi
n=0
echo '/* Generated from the migrations in schema/ by schema/embed.sh; do not edit. */'
echo '#include <stddef.h>'
echo "const char *const ${prefix}_migrations[] = {"
for f in "$@"; do
	n=$((n + 1))
	want=$(printf '%03d_' "$n")
	case "$(basename "$f")" in
	"$want"*) ;;
	*) echo "schema/embed.sh: $f: expected a name starting with $want" >&2; exit 1 ;;
	esac
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$f"
	echo '	,'
done
echo '	NULL'
echo '};'
echo "const int ${prefix}_count = $n;"
