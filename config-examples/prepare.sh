#!/bin/sh
# Prepares ./var/ for config-examples/mosquitto.conf: the directory for the
# database and key file, and a password file with the user "admin".
# Started as root, mosquitto switches to the "mosquitto" user before it
# loads the plugin, so that user must own ./var/.
set -eu
mkdir -p var
if [ ! -f var/passwd ]; then
	mosquitto_passwd -c -b var/passwd admin admin-password
fi
chmod 0700 var
chmod 0600 var/passwd
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
	chown -R mosquitto: var
fi
