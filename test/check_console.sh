#!/bin/sh
# The web console in a real browser (test/console/browser.mjs): headless
# chromium against a broker with the plugin, serving build/console.
if ! command -v node >/dev/null; then
	echo "node is missing (make deps installs it)"
	echo "console: 0 passed, 1 failed"
	exit 1
fi
exec node test/console/browser.mjs
