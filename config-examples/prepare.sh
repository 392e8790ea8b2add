#!/bin/sh
# Prepares ./var/ for one of the example configurations; run it from the
# project's top directory, then start mosquitto with the matching file:
#
#   sh config-examples/prepare.sh               mosquitto.conf (make run)
#   sh config-examples/prepare.sh plugin-alone  plugin-alone.conf
#   sh config-examples/prepare.sh with-files    with-files.conf
#   sh config-examples/prepare.sh with-dynsec   with-dynsec.conf
#   sh config-examples/prepare.sh with-tls      with-tls.conf
#   sh config-examples/prepare.sh with-issuing  with-issuing.conf
#
# It creates the directory for the database and key file, and the accounts:
# a password file with the user "admin" (with-files: also "ops", password
# "ops-password"), or for with-dynsec the dynamic-security plugin's file with
# its admin client "admin"; with-tls also makes a throwaway CA and server
# certificate in var/tls/ (make-tls.sh), and with-issuing those and an
# issuing CA in var/issuing/ (make-issuing-ca.sh). Files that exist already
# are kept, and the examples share them: once with-files has added "ops" to
# var/passwd, the other files that read var/passwd let ops log in too
# (remove var/ first to keep them apart).
#
# ADMIN_PASSWORD (default "admin-password") sets the admin's password;
# VAR_DIR (default "var") puts the files elsewhere, for a configuration
# whose var/ paths were rewritten to match.
#
# Started as root, mosquitto switches to the "mosquitto" user before it
# loads the plugin, so that user must own the directory.
set -eu
setup=${1:-default}
var=${VAR_DIR:-var}
admin_password=${ADMIN_PASSWORD:-admin-password}

case $setup in
default | plugin-alone | with-files | with-dynsec | with-tls | with-issuing) ;;
*)
	sed -n '2,11p' "$0" >&2
	exit 2
	;;
esac

mkdir -p "$var"
chmod 0700 "$var"
if [ "$setup" = with-dynsec ]; then
	# mosquitto_ctrl writes the file with one client, "admin", whose role
	# may use $CONTROL/dynamic-security/#; the plugin makes it its admin too.
	if [ ! -f "$var/dynsec.json" ]; then
		mosquitto_ctrl dynsec init "$var/dynsec.json" admin "$admin_password" >/dev/null
	fi
	chmod 0600 "$var/dynsec.json"
else
	if [ ! -f "$var/passwd" ]; then
		mosquitto_passwd -c -b "$var/passwd" admin "$admin_password"
	fi
	if [ "$setup" = with-files ] && ! grep -q '^ops:' "$var/passwd"; then
		mosquitto_passwd -b "$var/passwd" ops ops-password
	fi
	chmod 0600 "$var/passwd"
fi
if [ "$setup" = with-tls ] || [ "$setup" = with-issuing ]; then
	sh "$(dirname "$0")/make-tls.sh" "$var/tls"
fi
if [ "$setup" = with-issuing ]; then
	sh "$(dirname "$0")/make-issuing-ca.sh" "$var/issuing" >/dev/null
fi
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
	chown -R mosquitto: "$var"
fi
