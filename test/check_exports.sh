#!/bin/sh
# The plugin must export exactly the three mosquitto_plugin_* entry points.
set -u
so=plugin/mosquitto_bootstrap.so
got=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort | tr '\n' ' ')
want="mosquitto_plugin_cleanup mosquitto_plugin_init mosquitto_plugin_version "
if [ "$got" = "$want" ]; then
	echo "exports: 1 passed, 0 failed"
else
	echo "exported symbols: $got"
	echo "expected: $want"
	echo "exports: 0 passed, 1 failed"
	exit 1
fi
