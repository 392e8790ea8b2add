#!/bin/sh
# Fleet import benchmark: starts mosquitto with the plugin on a free
# loopback port in a throwaway directory, makes a CSV of N devices
# (default 100000), imports it with mosquitto_bootstrap_ctrl import --enable
# (a createConfig and an enableConfig per device, 5000 commands per
# message, several messages in flight) and prints the figure. CTRL names
# the tool (default: the default build's).
#   test/bench/import.sh [N]
set -eu
n=${1:-100000}
top=$(cd "$(dirname "$0")/../.." && pwd)
ctrl=${CTRL:-$top/build/default/tools/mosquitto_bootstrap_ctrl}
dir=$(mktemp -d /tmp/bs-bench-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

start_broker() {
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$(( (($$ + try * 7919) % 30000) + 20000 ))
		cat > "$dir/mosquitto.conf" <<CONF
per_listener_settings false
user root
persistence false
log_dest file $dir/mosquitto.log
listener $port 127.0.0.1
allow_anonymous false
password_file $dir/passwd
plugin $top/plugin/mosquitto_bootstrap.so
plugin_opt_db_path $dir/bootstrap.db
plugin_opt_key_file $dir/bootstrap.key
plugin_opt_admin_users admin
CONF
		mosquitto -c "$dir/mosquitto.conf" 2>>"$dir/stderr" &
		pid=$!
		for wait in 1 2 3 4 5 6 7 8 9 10; do
			sleep 0.2
			kill -0 "$pid" 2>/dev/null || break
			if mosquitto_pub -h 127.0.0.1 -p "$port" -u admin -P bench \
					-t bench/ping -m x 2>/dev/null; then
				return 0
			fi
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	done
	echo "cannot start mosquitto" >&2
	cat "$dir/stderr" >&2
	return 1
}

mosquitto_passwd -c -b "$dir/passwd" admin bench
start_broker
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "%02x:%02x:%02x:%02x,key-%08d,device %d\n", int(i / 16777216) % 256, int(i / 65536) % 256, int(i / 256) % 256, i % 256, i, i }' > "$dir/fleet.csv"
echo "import of $n devices (createConfig + enableConfig, 5000 commands per message):"
"$ctrl" -h 127.0.0.1 -p "$port" -u admin -P bench -W 60 import --enable \
	--out "$dir/fleet-secrets.csv" "$dir/fleet.csv"
