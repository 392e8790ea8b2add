/*
 * mosquitto_bootstrap_device: bootstraps one device through the plugin
 * (PROTOCOL.md section 3) and prints what it got, or writes it to files.
 * The three modes:
 *
 *   plain      the external key is sent; the reply comes in clear
 *   encrypt    the external key is sent; the reply is sealed (3.1)
 *   challenge  the key never crosses the wire: the device proves it knows
 *              the key with an HMAC of a fresh nonce; sealed reply (3.2)
 *
 * In any mode, --csr asks for a certificate (3.3): the device makes a key
 * pair, sends a certificate signing request for it, checks that the
 * certificate that comes back is for that key, and only then writes the
 * key (0600, --key-out). The private key never leaves the device.
 *
 * The external key is never printed, and where it came from the command
 * line its copy in argv is overwritten at once (--key-file is better).
 */
#include "device.h"
#include "link.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <mosquitto.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY_FILE 4096
#define MAX_CSR_FILE 65536
#define NONCE_LEN 32
#define REQ_ID_BYTES 8

static const char USAGE[] =
"Usage: " DEV_NAME " -E EXTERNAL_ID (-K KEY | --key-file FILE) [options]\n"
"\n"
"Bootstraps a device through the mosquitto-bootstrap plugin and prints its\n"
"configuration (client_id, client_secret, channels, content, certificates)\n"
"as JSON, or writes it to files with --out-dir.\n"
"\n"
"Device:\n"
"  -E, --external-id ID    the device's external ID\n"
"  -K, --external-key KEY  its external key (visible to other local users\n"
"                          while the program starts: prefer --key-file)\n"
"      --key-file FILE     read the key from FILE (- for stdin); one\n"
"                          trailing newline (or CR LF) is ignored\n"
"      --mode MODE         plain, encrypt (the default) or challenge\n"
"      --topic-prefix P    the plugin's topic prefix (default bootstrap)\n"
"      --out-dir DIR       write client_id, client_secret, channels.json,\n"
"                          content, client_cert.pem, client_key.pem and\n"
"                          ca_cert.pem in DIR (created 0700; secrets 0600)\n"
"                          instead of printing\n"
"Certificate (the plugin signs one for a key made here):\n"
"      --csr               make a key pair and send a certificate signing\n"
"                          request for it (subject CN=<external ID>)\n"
"      --key-type TYPE     ec (P-256, the default) or rsa (2048 bits)\n"
"      --key-out FILE      where the private key goes (0600), once a\n"
"                          certificate for it has come back; default\n"
"                          client_key.pem in --out-dir (one of the two\n"
"                          is needed)\n"
"      --csr-file FILE     send the CSR in FILE instead (its key stays\n"
"                          where it is); the certificate must be for it\n"
"Broker:\n"
"  -h, --host HOST         default localhost\n"
"  -p, --port PORT         default 1883, or 8883 with --cafile/--capath\n"
"  -V, --protocol-version  5 (mqttv5, the default) or 311 (mqttv311)\n"
"  -u, --username USER     -P, --pw PASSWORD: a broker login, if it needs one\n"
"  -i, --id ID             the MQTT client id (default: a random one)\n"
"  -W, --timeout SECONDS   for the whole run (default 10)\n"
"      --cafile FILE       TLS, checking the broker against this CA\n"
"      --capath DIR        TLS, with a directory of CA certificates\n"
"      --cert FILE         --key FILE: a client certificate and its key\n"
"      --insecure          do not check the broker's host name\n"
"      --help              this text\n"
"\n"
"Exit status:\n"
"  0 success\n"
"  1 the plugin answered another error (invalid_request, internal_error)\n"
"  2 bad usage, or an unreadable key or TLS file\n"
"  3 no connection, refused login, or no reply within the timeout\n"
"  4 a reply that is not the protocol's, or that does not decrypt; with\n"
"    --csr or --csr-file, a reply without a certificate for the key\n"
"  5 unauthorized: unknown external ID or wrong key\n"
"  6 disabled: the configuration exists but is not enabled yet\n"
"  7 rate_limited: too many failures; retry after the time shown\n"
"  8 the result could not be written (stdout, --out-dir or --key-out)\n";

/* ---- options ---------------------------------------------------------- */

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, DEV_NAME ": %s%s%s\nTry '" DEV_NAME " --help'.\n", what,
			arg != NULL ? ": " : "", arg != NULL ? arg : "");
	return DEV_EUSAGE;
}

static int parse_version(const char *s, int *out)
{
	if (strcmp(s, "5") == 0 || strcmp(s, "mqttv5") == 0)
		*out = 5;
	else if (strcmp(s, "311") == 0 || strcmp(s, "mqttv311") == 0)
		*out = 4;
	else
		return -1;
	return 0;
}

static int parse_key_type(const char *s, dev_key_type_t *out)
{
	if (strcmp(s, "ec") == 0)
		*out = KEY_EC;
	else if (strcmp(s, "rsa") == 0)
		*out = KEY_RSA;
	else
		return -1;
	return 0;
}

static int parse_mode(const char *s, dev_mode_t *out)
{
	if (strcmp(s, "plain") == 0)
		*out = MODE_PLAIN;
	else if (strcmp(s, "encrypt") == 0)
		*out = MODE_ENCRYPT;
	else if (strcmp(s, "challenge") == 0)
		*out = MODE_CHALLENGE;
	else
		return -1;
	return 0;
}

/* Fits in a topic level (protocol section 2's rules for external_id, and
 * the same for the prefix, which may have levels of its own). */
static bool topic_text(const char *s, size_t max, bool slash_ok)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '+' || *p == '#' ||
				(*p == '/' && !slash_ok))
			return false;
	}
	return true;
}

/* The key from path ("-": stdin), without one trailing newline. */
static char *read_key_file(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = malloc(MAX_KEY_FILE + 1);
	size_t n = 0;

	if (f != NULL && buf != NULL) {
		n = fread(buf, 1, MAX_KEY_FILE + 1, f);
		if (ferror(f) || n > MAX_KEY_FILE || memchr(buf, '\0', n) != NULL)
			n = SIZE_MAX;
	}
	if (f != NULL && f != stdin)
		fclose(f);
	if (f == NULL || buf == NULL || n == SIZE_MAX) {
		if (buf != NULL)
			OPENSSL_cleanse(buf, MAX_KEY_FILE + 1);
		free(buf);
		return NULL;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	buf[n] = '\0';
	return buf;
}

/* The CSR of --csr-file, sent as it is (the plugin judges it): at most
 * MAX_CSR_FILE bytes of text. */
static char *read_csr_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(MAX_CSR_FILE + 1);
	size_t n = 0;

	if (f != NULL && buf != NULL) {
		n = fread(buf, 1, MAX_CSR_FILE + 1, f);
		if (ferror(f) || n > MAX_CSR_FILE || n == 0 || memchr(buf, '\0', n) != NULL)
			n = SIZE_MAX;
	}
	if (f != NULL)
		fclose(f);
	if (f == NULL || buf == NULL || n == SIZE_MAX) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Takes the key from argv and overwrites it there, so that ps shows it
 * for as short a time as this program can manage. */
static char *take_arg_key(char *arg)
{
	char *key = strdup(arg);

	OPENSSL_cleanse(arg, strlen(arg));
	return key;
}

enum { OPT_KEY_FILE = 256, OPT_MODE, OPT_PREFIX, OPT_OUT_DIR, OPT_CAFILE,
	OPT_CAPATH, OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_CSR, OPT_KEY_TYPE,
	OPT_KEY_OUT, OPT_CSR_FILE, OPT_HELP };

static const struct option LONG_OPTS[] = {
	{ "external-id", required_argument, NULL, 'E' },
	{ "external-key", required_argument, NULL, 'K' },
	{ "key-file", required_argument, NULL, OPT_KEY_FILE },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "topic-prefix", required_argument, NULL, OPT_PREFIX },
	{ "out-dir", required_argument, NULL, OPT_OUT_DIR },
	{ "csr", no_argument, NULL, OPT_CSR },
	{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
	{ "key-out", required_argument, NULL, OPT_KEY_OUT },
	{ "csr-file", required_argument, NULL, OPT_CSR_FILE },
	{ "host", required_argument, NULL, 'h' },
	{ "port", required_argument, NULL, 'p' },
	{ "protocol-version", required_argument, NULL, 'V' },
	{ "username", required_argument, NULL, 'u' },
	{ "pw", required_argument, NULL, 'P' },
	{ "id", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, 'W' },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "capath", required_argument, NULL, OPT_CAPATH },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* One option into o: 0, or an exit status (-1 for --help). */
static int take_opt(dev_opts_t *o, int c, char *arg, const char **key_file,
		bool *key_type_given)
{
	switch (c) {
	case 'E': o->external_id = arg; break;
	case 'K':
		if (o->external_key != NULL)
			return usage_error("the external key is given twice", NULL);
		if ((o->external_key = take_arg_key(arg)) == NULL)
			return usage_error("out of memory", NULL);
		break;
	case OPT_KEY_FILE: *key_file = arg; break;
	case OPT_MODE:
		if (parse_mode(arg, &o->mode) != 0)
			return usage_error("--mode takes plain, encrypt or challenge", arg);
		break;
	case OPT_PREFIX: o->prefix = arg; break;
	case OPT_OUT_DIR: o->out_dir = arg; break;
	case OPT_CSR: o->csr = true; break;
	case OPT_KEY_TYPE:
		if (parse_key_type(arg, &o->key_type) != 0)
			return usage_error("--key-type takes ec or rsa", arg);
		*key_type_given = true;
		break;
	case OPT_KEY_OUT: o->key_out = arg; break;
	case OPT_CSR_FILE: o->csr_file = arg; break;
	case 'h': o->host = arg; break;
	case 'p':
		if (tool_parse_int(arg, 1, 65535, &o->port) != 0)
			return usage_error("bad port", arg);
		break;
	case 'V':
		if (parse_version(arg, &o->version) != 0)
			return usage_error("-V takes 5, mqttv5, 311 or mqttv311", arg);
		break;
	case 'u': o->username = arg; break;
	case 'P': o->password = arg; break;
	case 'i': o->client_id = arg; break;
	case 'W':
		if (tool_parse_int(arg, 1, 3600, &o->timeout) != 0)
			return usage_error("-W takes 1 to 3600 seconds", arg);
		break;
	case OPT_CAFILE: o->cafile = arg; break;
	case OPT_CAPATH: o->capath = arg; break;
	case OPT_CERT: o->certfile = arg; break;
	case OPT_KEY: o->keyfile = arg; break;
	case OPT_INSECURE: o->insecure = true; break;
	case OPT_HELP: return -1;
	default: return DEV_EUSAGE;     /* parse_args has said why */
	}
	return 0;
}

/* An option that getopt refused, named without any "=value" (which could
 * be a mistyped key option's key). */
static int bad_option(int c, const char *arg)
{
	const char *what = c == ':' ? "missing argument" : "unknown option";

	if (optopt != 0)
		fprintf(stderr, DEV_NAME ": %s: -%c\n", what, optopt);
	else
		fprintf(stderr, DEV_NAME ": %s: %.*s\n", what,
				(int)strcspn(arg, "="), arg);
	fputs("Try '" DEV_NAME " --help'.\n", stderr);
	return DEV_EUSAGE;
}

/* The key, from -K or --key-file (one of them), checked against the
 * protocol's 8 to 256 bytes (without ever echoing it). */
static int take_key(dev_opts_t *o, const char *key_file)
{
	if (key_file != NULL && o->external_key != NULL)
		return usage_error("give the key with -K or --key-file, not both", NULL);
	if (key_file != NULL && (o->external_key = read_key_file(key_file)) == NULL) {
		fprintf(stderr, DEV_NAME ": cannot read the key file %s%s%s\n", key_file,
				errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return DEV_EUSAGE;
	}
	if (o->external_key == NULL)
		return usage_error("the external key is missing (-K or --key-file)", NULL);
	size_t n = strlen(o->external_key);
	if (n < 8 || n > 256)
		return usage_error("the external key must be 8 to 256 bytes", NULL);
	return 0;
}

/* --csr and its options, --csr-file: which go together, and the CSR file
 * read now, so that a missing one costs no round trip. */
static int check_csr_opts(dev_opts_t *o, bool key_type_given)
{
	if (o->csr && o->csr_file != NULL)
		return usage_error("give --csr or --csr-file, not both", NULL);
	if (!o->csr && (o->key_out != NULL || key_type_given))
		return usage_error(o->csr_file != NULL
				? "--key-out and --key-type go with --csr (the key of "
				"--csr-file stays where it is)" : "--key-out and --key-type "
				"need --csr", NULL);
	if (o->csr && o->key_out == NULL && o->out_dir == NULL)
		return usage_error("--csr needs --key-out FILE or --out-dir DIR for the "
				"private key", NULL);
	if (o->csr_file != NULL && (o->csr_text = read_csr_file(o->csr_file)) == NULL) {
		fprintf(stderr, DEV_NAME ": cannot read the CSR file %s%s%s\n", o->csr_file,
				errno != 0 ? ": " : " (empty, too large or not text)",
				errno != 0 ? strerror(errno) : "");
		return DEV_EUSAGE;
	}
	return 0;
}

static int check_opts(dev_opts_t *o)
{
	if (o->external_id == NULL)
		return usage_error("the external ID is missing (-E)", NULL);
	if (!topic_text(o->external_id, 256, false))
		return usage_error("the external ID must be 1 to 256 bytes without "
				"'/', '+', '#' or control characters", NULL);
	if (!topic_text(o->prefix, 200, true))
		return usage_error("bad --topic-prefix", o->prefix);
	if ((o->certfile == NULL) != (o->keyfile == NULL))
		return usage_error("--cert and --key go together", NULL);
	bool tls = o->cafile != NULL || o->capath != NULL;
	if (!tls && (o->certfile != NULL || o->insecure))
		return usage_error("--cert, --key and --insecure need --cafile or --capath",
				NULL);
	if (o->password != NULL && o->username == NULL)
		return usage_error("-P needs -u", NULL);
	if (o->port == 0)
		o->port = tls ? 8883 : 1883;
	return 0;
}

/* Fills o from argv: 0, or an exit status (-1: --help was asked). */
static int parse_args(dev_opts_t *o, int argc, char **argv)
{
	const char *key_file = NULL;
	bool key_type_given = false;
	int c, rc;

	*o = (dev_opts_t){ .host = "localhost", .version = 5, .prefix = "bootstrap",
		.timeout = 10, .mode = MODE_ENCRYPT };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":E:K:h:p:V:u:P:i:W:", LONG_OPTS, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bad_option(c, argv[optind - 1]);
		if ((rc = take_opt(o, c, optarg, &key_file, &key_type_given)) != 0)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	errno = 0;
	if ((rc = take_key(o, key_file)) != 0)
		return rc;
	if ((rc = check_opts(o)) != 0)
		return rc;
	errno = 0;
	return check_csr_opts(o, key_type_given);
}

/* ---- the exchange ----------------------------------------------------- */

/* Sends req (stolen) with a fresh "id" and returns the reply. The request
 * text holds the key in two of the modes: it is cleansed once sent. */
static int ask(dev_conn_t *c, json_t *req, json_t **reply)
{
	char id[2 * REQ_ID_BYTES + 1];
	char *text = NULL;
	int rc = DEV_ECONN;

	if (req != NULL && dev_random_hex(id, REQ_ID_BYTES) == 0 &&
			json_object_set_new(req, "id", json_string(id)) == 0)
		text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL) {
		fprintf(stderr, DEV_NAME ": cannot build the request\n");
		return DEV_ECONN;
	}
	rc = dev_mqtt_ask(c, text, id, reply);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

/* DEV_OK when reply is no error reply; else the error's exit status,
 * with its code and message on stderr. */
static int error_reply(const json_t *reply)
{
	static const struct { const char *code; int status; } MAP[] = {
		{ "unauthorized", DEV_EUNAUTHORIZED },
		{ "disabled", DEV_EDISABLED },
		{ "rate_limited", DEV_ERATELIMITED },
	};
	const json_t *err = json_object_get(reply, "error");
	json_int_t retry = json_integer_value(json_object_get(reply, "retry_after"));
	int status = DEV_EREPLY;

	if (err == NULL)
		return DEV_OK;
	char *code = dev_printable(json_string_value(err));
	char *msg = dev_printable(json_string_value(json_object_get(reply, "message")));
	for (size_t i = 0; code != NULL && i < sizeof MAP / sizeof MAP[0]; i++) {
		if (strcmp(code, MAP[i].code) == 0)
			status = MAP[i].status;
	}
	fprintf(stderr, DEV_NAME ": bootstrap refused: %s: %s", code ? code : "?",
			msg ? msg : "?");
	if (status == DEV_ERATELIMITED && retry > 0)
		fprintf(stderr, " (retry after %lld s)", (long long)retry);
	fputc('\n', stderr);
	free(code);
	free(msg);
	return status;
}

/* A success reply's config must have what every device needs. */
static int check_config(const json_t *cfg)
{
	if (!json_is_object(cfg) || !json_is_string(json_object_get(cfg, "client_id")) ||
			!json_is_string(json_object_get(cfg, "client_secret")) ||
			!json_is_array(json_object_get(cfg, "channels"))) {
		fprintf(stderr, DEV_NAME ": the reply lacks client_id, client_secret "
				"or channels\n");
		return DEV_EBADREPLY;
	}
	return DEV_OK;
}

/* The config sealed in reply (3.1) under the key of o, with aad. */
static int open_reply(const dev_opts_t *o, const json_t *reply,
		const uint8_t *aad, size_t aadlen, json_t **cfg)
{
	const json_t *enc = json_object_get(reply, "encrypted");
	uint8_t key[32];

	*cfg = NULL;
	if (!json_is_object(enc)) {
		fprintf(stderr, DEV_NAME ": the reply is not encrypted, though the "
				"request asked for it%s\n", json_object_get(reply, "client_secret")
				? " (the secret crossed the wire in clear)" : "");
		return DEV_EBADREPLY;
	}
	if (dev_reply_key(o->external_key, o->external_id, key) == 0)
		*cfg = dev_open_sealed(enc, key, aad, aadlen);
	OPENSSL_cleanse(key, sizeof key);
	if (*cfg == NULL) {
		fprintf(stderr, DEV_NAME ": the encrypted reply does not open with "
				"this device's key\n");
		return DEV_EBADREPLY;
	}
	return DEV_OK;
}

/* A request naming the device; with_key: the request that gets the
 * configuration, which carries the key (plain, encrypt) when o's mode
 * sends it, and the CSR when there is one. */
static json_t *request(const dev_opts_t *o, bool with_key)
{
	json_t *req = json_pack("{ss}", "external_id", o->external_id);
	bool send_key = with_key && o->mode != MODE_CHALLENGE;

	if (req != NULL && ((send_key && json_object_set_new(req, "external_key",
						json_string(o->external_key)) != 0) ||
				(with_key && o->csr_text != NULL && json_object_set_new(req, "csr",
						json_string(o->csr_text)) != 0))) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* Plain and encrypt modes: one request carrying the key. */
static int bootstrap_with_key(dev_conn_t *c, const dev_opts_t *o, json_t **cfg)
{
	json_t *req = request(o, true), *reply = NULL;
	int rc;

	if (req != NULL && o->mode == MODE_ENCRYPT)
		json_object_set_new(req, "encrypt", json_true());
	if ((rc = ask(c, req, &reply)) == DEV_OK && (rc = error_reply(reply)) == DEV_OK) {
		if (o->mode == MODE_ENCRYPT)
			rc = open_reply(o, reply, (const uint8_t *)o->external_id,
					strlen(o->external_id), cfg);
		else if (json_object_get(reply, "encrypted") != NULL) {
			fprintf(stderr, DEV_NAME ": an encrypted reply to a plain request\n");
			rc = DEV_EBADREPLY;
		} else {
			json_object_del(reply, "id");
			*cfg = json_incref(reply);
		}
	}
	json_decref(reply);
	return rc;
}

/* Challenge mode, step 1: the nonce (NONCE_LEN bytes, malloc()ed) and its
 * text as the plugin sent it. */
static int get_nonce(dev_conn_t *c, const dev_opts_t *o, uint8_t **nonce,
		char **nonce64)
{
	json_t *req = request(o, false), *reply = NULL;
	size_t len = 0;
	int rc;

	*nonce = NULL;
	*nonce64 = NULL;
	if (req != NULL)
		json_object_set_new(req, "op", json_string("challenge"));
	if ((rc = ask(c, req, &reply)) != DEV_OK || (rc = error_reply(reply)) != DEV_OK)
		goto out;
	const char *text = json_string_value(json_object_get(reply, "nonce"));
	if (text != NULL)
		*nonce = dev_b64_decode(text, &len);
	if (*nonce == NULL || len != NONCE_LEN || (*nonce64 = strdup(text)) == NULL) {
		fprintf(stderr, DEV_NAME ": the challenge reply has no %d-byte nonce\n",
				NONCE_LEN);
		free(*nonce);
		*nonce = NULL;
		rc = DEV_EBADREPLY;
	}
out:
	json_decref(reply);
	return rc;
}

/* Challenge mode: nonce, then proof; AAD = external_id || nonce. */
static int bootstrap_challenge(dev_conn_t *c, const dev_opts_t *o, json_t **cfg)
{
	uint8_t *nonce = NULL, *aad = NULL;
	char *nonce64 = NULL, *proof = NULL;
	size_t idlen = strlen(o->external_id);
	json_t *req, *reply = NULL;
	int rc = get_nonce(c, o, &nonce, &nonce64);

	if (rc != DEV_OK)
		return rc;
	proof = dev_proof(o->external_key, nonce, NONCE_LEN, o->external_id);
	aad = malloc(idlen + NONCE_LEN);
	req = request(o, true);
	if (proof == NULL || aad == NULL || req == NULL ||
			json_object_set_new(req, "nonce", json_string(nonce64)) != 0 ||
			json_object_set_new(req, "proof", json_string(proof)) != 0) {
		fprintf(stderr, DEV_NAME ": cannot compute the proof\n");
		json_decref(req);
		rc = DEV_ECONN;
		goto out;
	}
	memcpy(aad, o->external_id, idlen);
	memcpy(aad + idlen, nonce, NONCE_LEN);
	if ((rc = ask(c, req, &reply)) == DEV_OK && (rc = error_reply(reply)) == DEV_OK)
		rc = open_reply(o, reply, aad, idlen + NONCE_LEN, cfg);
out:
	json_decref(reply);
	free(aad);
	free(proof);
	free(nonce64);
	free(nonce);
	return rc;
}

/*
 * With --csr or --csr-file: the reply must carry a certificate for the
 * device's key (key, or the CSR's), or the key would be kept for nothing.
 * The plugin sends no client_key with an issued certificate; one that
 * came anyway is dropped: this device's key is its own.
 */
static int check_issued(const dev_opts_t *o, json_t *cfg, EVP_PKEY *key)
{
	const char *cert = json_string_value(json_object_get(cfg, "client_cert"));
	EVP_PKEY *csr_key = key == NULL ? dev_csr_pubkey(o->csr_text) : NULL;
	int rc = DEV_EBADREPLY;

	if (cert == NULL)
		fprintf(stderr, DEV_NAME ": the reply carries no certificate for the CSR "
				"(a plugin without certificate issuance ignores it)\n");
	else if (key == NULL && csr_key == NULL)
		fprintf(stderr, DEV_NAME ": %s is not a PEM CSR this program can read: "
				"the certificate cannot be checked\n", o->csr_file);
	else if (dev_cert_for_key(cert, key != NULL ? key : csr_key) != 0)
		fprintf(stderr, DEV_NAME ": the certificate in the reply is not for this "
				"device's key\n");
	else
		rc = DEV_OK;
	EVP_PKEY_free(csr_key);
	if (rc == DEV_OK)
		json_object_del(cfg, "client_key");
	return rc;
}

/* --key-out, or client_key.pem in --out-dir (malloc()ed). */
static char *key_out_path(const dev_opts_t *o)
{
	size_t n;
	char *path;

	if (o->key_out != NULL)
		return strdup(o->key_out);
	n = strlen(o->out_dir) + sizeof "/client_key.pem";
	if ((path = malloc(n)) != NULL)
		snprintf(path, n, "%s/client_key.pem", o->out_dir);
	return path;
}

/* The private key, to its file (0600), atomically. */
static int write_key(const char *path, EVP_PKEY *key)
{
	char *pem = dev_key_pem(key);
	int rc;

	if (pem == NULL) {
		fprintf(stderr, DEV_NAME ": cannot encode the private key\n");
		return DEV_EOUTPUT;
	}
	rc = dev_out_file(path, pem, 0600);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	return rc;
}

static int run(dev_opts_t *o)
{
	dev_conn_t *c = NULL;
	json_t *cfg = NULL;
	EVP_PKEY *key = NULL;
	char *key_path = NULL;
	int rc;

	/* A directory that cannot take the result is found before the
	 * bootstrap, not after the broker has answered. */
	if (o->out_dir != NULL && (rc = dev_out_prepare(o->out_dir)) != DEV_OK)
		return rc;
	if (o->csr) {
		if ((key_path = key_out_path(o)) == NULL ||
				(rc = dev_out_prepare_file(key_path)) != DEV_OK) {
			rc = DEV_EOUTPUT;
			goto out;
		}
		/* The key pair is made here, for this bootstrap: a failed one
		 * leaves no key behind, and the next makes a new one. */
		if ((key = dev_key_new(o->key_type)) == NULL ||
				(o->csr_text = dev_csr_new(key, o->external_id)) == NULL) {
			rc = DEV_EUSAGE;
			goto out;
		}
	}
	if ((rc = dev_mqtt_open(o, &c)) != DEV_OK)
		goto out;
	rc = o->mode == MODE_CHALLENGE ? bootstrap_challenge(c, o, &cfg)
		: bootstrap_with_key(c, o, &cfg);
	dev_mqtt_close(c);
	if (rc == DEV_OK)
		rc = check_config(cfg);
	if (rc == DEV_OK && o->csr_text != NULL)
		rc = check_issued(o, cfg, key);
	if (rc == DEV_OK)
		rc = o->out_dir != NULL ? dev_out_dir(o->out_dir, cfg) : dev_out_print(cfg);
	/* Last: with --out-dir the reply's files are in place, and the key
	 * joins the certificate it belongs to. */
	if (rc == DEV_OK && key != NULL)
		rc = write_key(key_path, key);
out:
	json_decref(cfg);
	EVP_PKEY_free(key);
	free(key_path);
	return rc;
}

int main(int argc, char **argv)
{
	dev_opts_t o;
	int rc = parse_args(&o, argc, argv);

	if (rc == -1) {
		fputs(USAGE, stdout);
		rc = DEV_OK;
	} else if (rc == 0) {
		mosquitto_lib_init();
		rc = run(&o);
		mosquitto_lib_cleanup();
	}
	if (o.external_key != NULL) {
		OPENSSL_cleanse(o.external_key, strlen(o.external_key));
		free(o.external_key);
	}
	free(o.csr_text);
	return rc;
}
