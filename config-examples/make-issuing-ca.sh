#!/bin/sh
# Makes a throwaway issuing CA for the plugin's certificate issuance
# (protocol 3.3), for trying config-examples/with-issuing.conf
# (prepare.sh with-issuing runs it) or any broker of your own:
#
#   sh config-examples/make-issuing-ca.sh DIR
#   CA_KEY_TYPE=rsa sh config-examples/make-issuing-ca.sh DIR
#
# DIR/issuing-ca.pem  the CA's certificate: plugin_opt_ca_cert, and the
#                     cafile of a TLS listener whose clients log in with
#                     the certificates the plugin issues
# DIR/issuing-ca.key  its private key (0600, DIR 0700): plugin_opt_ca_key;
#                     the broker must be able to read it, nobody else
#
# The key is EC P-256, or RSA 2048 bits with CA_KEY_TYPE=rsa. The
# certificate is valid for CA_DAYS days (default 365) and has what a CA
# needs: basicConstraints critical CA:TRUE (pathlen 0: it signs device
# certificates only), keyUsage critical keyCertSign and cRLSign, and a
# subject key identifier. Existing files are kept; remove them to start
# again. It ends by printing the two plugin_opt lines for DIR. This is for
# trying the plugin: a real deployment keeps its issuing CA's key as it
# keeps any CA key, and signs the issuing CA with its own root.
set -eu
dir=${1:?usage: make-issuing-ca.sh DIR (CA_KEY_TYPE=ec|rsa, CA_DAYS=365)}
days=${CA_DAYS:-365}
case ${CA_KEY_TYPE:-ec} in
ec) newkey="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1" ;;
rsa) newkey="-newkey rsa:2048" ;;
*)
	echo "make-issuing-ca.sh: CA_KEY_TYPE is ec or rsa, not ${CA_KEY_TYPE}" >&2
	exit 2
	;;
esac

cert="$dir/issuing-ca.pem"
key="$dir/issuing-ca.key"
if [ ! -f "$cert" ] || [ ! -f "$key" ]; then
	mkdir -p "$dir"
	chmod 0700 "$dir"
	umask 077

	# openssl's chatter is shown only when it fails.
	out=$(
		# "-config /dev/null": the system's openssl.cnf adds nothing
		# unexpected; the extensions are exactly these.
		openssl req -config /dev/null -x509 $newkey -nodes \
			-keyout "$key" -out "$cert" -days "$days" \
			-subj "/CN=mosquitto-bootstrap issuing CA" \
			-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-addext "subjectKeyIdentifier=hash" 2>&1
	) || { printf '%s\n' "$out" >&2; exit 1; }
	chmod 0644 "$cert"
	chmod 0600 "$key"
fi

echo "plugin_opt_ca_cert $cert"
echo "plugin_opt_ca_key $key"
