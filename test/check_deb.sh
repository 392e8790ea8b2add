#!/bin/sh
# make test-deb: installs the package built by make deb with dpkg -i on this
# machine (a throwaway one: CI's), starts Debian's mosquitto, as root so
# that it drops to the mosquitto user before loading plugins, on a config
# that reads /etc/mosquitto/conf.d as Debian's own does, and bootstraps a
# device with the installed client, and fetches the installed web console
# from a websockets listener whose http_dir is where the package put it.
# Then purges the package and the database and key it made, leaving the
# machine as it was.
set -u
deb=$1
state=/var/lib/mosquitto
dir=$(mktemp -d /tmp/bs-deb-XXXXXX) || exit 1
pid=
fail() { echo "$*"; echo "deb: 0 passed, 1 failed"; exit 1; }
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	dpkg -P mosquitto-bootstrap >/dev/null 2>&1
	rm -f "$state/bootstrap.db" "$state/bootstrap.db-wal" "$state/bootstrap.db-shm" \
		"$state/bootstrap.key"
	rm -rf "$dir"
}
[ "$(id -u)" = 0 ] || fail "make test-deb installs a package: run it as root"
[ -e "$state/bootstrap.db" ] && fail "$state/bootstrap.db exists: not a throwaway machine"
trap cleanup EXIT
dpkg -i "$deb" >"$dir/dpkg.log" 2>&1 || fail "dpkg -i failed: $(cat "$dir/dpkg.log")"
for f in /usr/lib/"$(dpkg-architecture -qDEB_HOST_MULTIARCH)"/mosquitto_bootstrap.so \
		/usr/bin/mosquitto_bootstrap_device /etc/mosquitto/conf.d/mosquitto-bootstrap.conf \
		/usr/share/man/man7/mosquitto_bootstrap.7.gz \
		/usr/share/mosquitto-bootstrap/console/index.html \
		/usr/share/mosquitto-bootstrap/console/console.js; do
	[ -f "$f" ] || fail "not installed: $f"
done
man mosquitto_bootstrap >/dev/null 2>&1 || fail "man mosquitto_bootstrap does not render"

chmod 0755 "$dir"
mosquitto_passwd -b -c "$dir/passwd" admin deb-admin-pw
chown mosquitto "$dir/passwd"
touch "$dir/mosquitto.log" && chown mosquitto "$dir/mosquitto.log"
# A port that is free: the broker exits at once when it is not.
start() {
	port=$1
	wsport=$((port + 1))
	cat > "$dir/mosquitto.conf" <<CONF
persistence false
log_dest file $dir/mosquitto.log
listener $port 127.0.0.1
allow_anonymous true
listener $wsport 127.0.0.1
protocol websockets
http_dir /usr/share/mosquitto-bootstrap/console
password_file $dir/passwd
include_dir /etc/mosquitto/conf.d
CONF
	mosquitto -c "$dir/mosquitto.conf" >"$dir/stderr" 2>&1 &
	pid=$!
	sleep 0.5
	kill -0 "$pid" 2>/dev/null
}
for try in 1 2 3 4 5; do
	start $(( 20000 + ($$ * 7 + try * 7919) % 30000 )) && break
	pid=
done
[ -n "$pid" ] || fail "the broker does not start: $(cat "$dir/stderr")"
rr() {
	mosquitto_rr -h 127.0.0.1 -p "$port" -u admin -P deb-admin-pw -W 5 \
		-t '$CONTROL/bootstrap/v1' -e '$CONTROL/bootstrap/v1/response' -m "$1"
}
up=
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	sleep 0.25
	if rr '{"commands":[]}' >/dev/null 2>&1; then up=1; break; fi
done
[ -n "$up" ] || fail "the broker did not answer: $(cat "$dir/stderr" "$dir/mosquitto.log")"
reply=$(rr '{"commands":[{"command":"createConfig","client_id":"deb-dev","external_id":"deb-ext","external_key":"deb-external-key-1"},{"command":"enableConfig","client_id":"deb-dev"}]}')
echo "$reply" | grep -q '"client_secret"' || fail "createConfig failed: $reply"
printf 'deb-external-key-1' > "$dir/dev.key"
out=$(mosquitto_bootstrap_device -h 127.0.0.1 -p "$port" -E deb-ext --key-file "$dir/dev.key")
echo "$out" | grep -q '"client_id": *"deb-dev"' || fail "the device did not bootstrap: $out"
page=$(node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => console.log(t), () => process.exit(1))' \
	"http://127.0.0.1:$wsport/") || fail "the installed console is not served: $(cat "$dir/mosquitto.log")"
echo "$page" | grep -q '<title>Bootstrap console</title>' || fail "the console served is not the console: $page"
owner=$(stat -c %U "$state/bootstrap.db")
[ "$owner" = mosquitto ] || fail "$state/bootstrap.db is owned by $owner, not mosquitto"
echo "deb: 1 passed, 0 failed"
