#!/bin/sh
# Makes a throwaway certificate authority and a server certificate for
# trying config-examples/with-tls.conf (prepare.sh with-tls runs it):
#
#   sh config-examples/make-tls.sh DIR
#
# DIR/ca.pem      the CA's certificate: give it to devices (--cafile)
# DIR/ca.key      its private key (0600): signs more certificates, if you
#                 want client certificates too; delete it otherwise
# DIR/server.pem  the broker's certificate, signed by the CA, for
#                 DNS:localhost and IP:127.0.0.1 (so that a device's host
#                 name check passes on this machine)
# DIR/server.key  its private key (0600)
#
# Keys are EC P-256; certificates are valid for TLS_DAYS days (default 30).
# Existing files are kept; remove DIR to start again. This is for trying
# the plugin: a real deployment uses certificates from its own CA, with
# the broker's real host name.
set -eu
dir=${1:?usage: make-tls.sh DIR}
days=${TLS_DAYS:-30}

if [ -f "$dir/server.pem" ] && [ -f "$dir/server.key" ] && [ -f "$dir/ca.pem" ]; then
	exit 0
fi
mkdir -p "$dir"
chmod 0700 "$dir"
umask 077
ext="$dir/server.ext"
trap 'rm -f "$ext" "$dir/server.csr"' EXIT

# openssl's chatter is shown only when it fails.
quiet() {
	out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

# "-config /dev/null": the system's openssl.cnf adds nothing unexpected.
quiet openssl req -config /dev/null -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" \
	-subj "/CN=mosquitto-bootstrap example CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "subjectKeyIdentifier=hash"

quiet openssl req -config /dev/null -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	-nodes -keyout "$dir/server.key" -out "$dir/server.csr" \
	-subj "/CN=localhost"

cat > "$ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
quiet openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
	-set_serial "0x$(openssl rand -hex 16)" -days "$days" -extfile "$ext" \
	-out "$dir/server.pem"

chmod 0644 "$dir/ca.pem" "$dir/server.pem"
chmod 0600 "$dir/ca.key" "$dir/server.key"
