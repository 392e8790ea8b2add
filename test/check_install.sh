#!/bin/sh
# make install puts the plugin, the tools, the man pages, the conf.d snippet,
# the documents and the web console under DESTDIR/PREFIX.
set -u
dir=$(mktemp -d /tmp/bs-install-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
make -s install DESTDIR="$dir" PREFIX=/opt/bs >/dev/null 2>&1 || {
	echo "make install failed"; echo "install: 0 passed, 1 failed"; exit 1; }
failed=0
arch=$(cc -print-multiarch)
for f in opt/bs/lib/$arch/mosquitto_bootstrap.so \
		opt/bs/bin/mosquitto_bootstrap_device \
		opt/bs/share/man/man1/mosquitto_bootstrap_device.1 \
		opt/bs/share/man/man7/mosquitto_bootstrap.7 \
		opt/bs/etc/mosquitto/conf.d/mosquitto-bootstrap.conf \
		opt/bs/bin/mosquitto_bootstrap_ctrl \
		opt/bs/share/man/man1/mosquitto_bootstrap_ctrl.1 \
		opt/bs/bin/mosquitto_bootstrap_copy \
		opt/bs/share/man/man1/mosquitto_bootstrap_copy.1 \
		opt/bs/share/doc/mosquitto-bootstrap/README.md \
		opt/bs/share/doc/mosquitto-bootstrap/examples/plugin-alone.conf \
		opt/bs/share/mosquitto-bootstrap/console/index.html \
		opt/bs/share/mosquitto-bootstrap/console/console.js \
		opt/bs/share/mosquitto-bootstrap/console/console.css \
		opt/bs/share/mosquitto-bootstrap/console/THIRD-PARTY.txt; do
	if [ ! -s "$dir/$f" ]; then
		echo "missing after install: $f"
		failed=$((failed + 1))
	fi
done
for tool in mosquitto_bootstrap_device mosquitto_bootstrap_ctrl mosquitto_bootstrap_copy; do
	if [ ! -x "$dir/opt/bs/bin/$tool" ] ||
			[ "$(stat -c %a "$dir/opt/bs/bin/$tool")" != 755 ]; then
		echo "$tool is not installed with mode 0755"
		failed=$((failed + 1))
	fi
done
if [ -n "$(find "$dir" -path "$dir/opt" -prune -o -type f -print)" ]; then
	echo "files installed outside DESTDIR/PREFIX"
	failed=$((failed + 1))
fi
# With PREFIX=/usr the snippet goes where Debian's mosquitto.conf reads it.
if ! make -s -n install DESTDIR="$dir" PREFIX=/usr | grep -q "$dir/etc/mosquitto/conf.d"; then
	echo "with PREFIX=/usr the conf.d snippet is not in /etc/mosquitto/conf.d"
	failed=$((failed + 1))
fi
echo "install: $((20 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
