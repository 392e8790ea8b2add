/*
 * The reference device client's certificate side (--csr, --key-type,
 * --key-out, --csr-file), tested on its own: the broker runs without the
 * plugin, and a stand-in, a child process subscribed to bootstrap/req,
 * answers in the plugin's place as protocol 3.3 says, signing each CSR
 * with a test CA by the openssl command (or, by the external ID's prefix,
 * answering without a certificate, with a certificate for another key, or
 * with an error). The stand-in keeps every request it gets, so that the
 * checks see what the client sent: a CSR that openssl req -verify accepts,
 * for a key of the type asked for, in every mode. The key file must be
 * written, 0600, only when a certificate for that key came back.
 *
 * Over MQTT 3.1.1 only: there the client subscribes to its reply topic,
 * where the stand-in publishes. Over MQTT v5 it counts on the plugin's
 * directed reply, which a client such as the stand-in cannot send.
 *
 * test_cert_issue.c runs the same client against the plugin itself.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "tool_run.h"
#include "sealed.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEVICE_BIN ((char *)device_bin())
/* Every device of the stand-in has this key: it cannot look one up. */
#define KEY "stand-in-key-0001"

enum { ST_OK = 0, ST_REPLY = 1, ST_USAGE = 2, ST_BADREPLY = 4, ST_OUTPUT = 8 };

static broker_t B;
static pid_t stand_in;

/* ---- the stand-in ----------------------------------------------------- */

static char *b64(const uint8_t *data, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* plaintext sealed as protocol 3.1 says, under external_id's key (KEY). */
static json_t *seal(const char *external_id, const char *plaintext,
		const uint8_t *aad, size_t aadlen)
{
	uint8_t key[32], iv[12], *ct = NULL;
	size_t len = strlen(plaintext);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	json_t *out = NULL;

	ct = malloc(len + 16);
	if (ctx != NULL && ct != NULL && sealed_key(KEY, external_id, key) == 0 &&
			RAND_bytes(iv, sizeof iv) == 1 &&
			EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
			EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1 &&
			EVP_EncryptUpdate(ctx, ct, &n, (const uint8_t *)plaintext, (int)len) == 1 &&
			EVP_EncryptFinal_ex(ctx, ct + n, &fin) == 1 &&
			EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct + n + fin) == 1) {
		char *iv64 = b64(iv, sizeof iv), *data64 = b64(ct, (size_t)(n + fin) + 16);
		out = json_pack("{s{ssssss}}", "encrypted", "alg", "A256GCM", "iv", iv64,
				"data", data64);
		free(iv64);
		free(data64);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(ct);
	return out;
}

static char *dir_file(const char *name, const char *ext)
{
	size_t n = strlen(B.dir) + strlen(name) + strlen(ext) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s", B.dir, name, ext);
	return p;
}

/* A certificate for the CSR text, from the test CA (PEM, malloc()ed). */
static char *sign_csr(const char *ext, const char *csr)
{
	char *in = dir_file(ext, ".csr"), *out = dir_file(ext, ".issued.pem"),
	     *ca = dir_file("ca", ".pem"), *cakey = dir_file("ca", ".key"), *pem = NULL;
	char *argv[] = { "openssl", "x509", "-req", "-in", in, "-CA", ca, "-CAkey", cakey,
		"-CAcreateserial", "-days", "1", "-out", out, NULL };

	if (in != NULL && out != NULL && ca != NULL && cakey != NULL &&
			write_file_text(in, csr) == 0 && run_quiet(argv) == 0)
		pem = read_file_text(out, NULL);
	free(in);
	free(out);
	free(ca);
	free(cakey);
	return pem;
}

/* The answer to one request, as the plugin would give it (new reference). */
static json_t *answer(const json_t *req, const uint8_t *nonce)
{
	const char *ext = jstr(req, "external_id"), *csr = jstr(req, "csr");
	char *cert = NULL, *ca = NULL, *text = NULL;
	json_t *cfg = NULL, *out = NULL;

	if (ext == NULL)
		return json_pack("{ss ss}", "error", "invalid_request", "message", "no external_id");
	if (strncmp(ext, "refuse", 6) == 0)
		return json_pack("{ss ss}", "error", "invalid_request", "message", "bad csr");
	cfg = json_pack("{ss ss s[]}", "client_id", ext, "client_secret", "stand-in-secret",
			"channels");
	if (strncmp(ext, "other", 5) == 0) {
		char *name = dir_file(ext, "-other"), *base = strrchr(name, '/') + 1;
		if (make_signed_cert(B.dir, "ca", base, ext, &cert, NULL) != 0)
			cert = NULL;
		free(name);
	} else if (strncmp(ext, "nocert", 6) != 0 && csr != NULL) {
		cert = sign_csr(ext, csr);
	}
	char *capath = dir_file("ca", ".pem");
	ca = read_file_text(capath, NULL);
	free(capath);
	if (cert != NULL)
		json_object_set_new(cfg, "client_cert", json_string(cert));
	if (ca != NULL)
		json_object_set_new(cfg, "ca_cert", json_string(ca));
	if (nonce != NULL || json_is_true(json_object_get(req, "encrypt"))) {
		size_t idlen = strlen(ext);
		uint8_t aad[300 + 32];
		memcpy(aad, ext, idlen);
		if (nonce != NULL)
			memcpy(aad + idlen, nonce, 32);
		text = json_dumps(cfg, JSON_COMPACT);
		out = text != NULL ? seal(ext, text, aad, idlen + (nonce != NULL ? 32 : 0)) : NULL;
	} else {
		out = json_incref(cfg);
	}
	free(text);
	free(cert);
	free(ca);
	json_decref(cfg);
	return out;
}

/* Keeps req as <external_id>.req (the last request that was no challenge). */
static void keep(const json_t *req)
{
	const char *ext = jstr(req, "external_id");
	char *path = ext != NULL && strlen(ext) < 300 ? dir_file(ext, ".req") : NULL;
	char *text = json_dumps(req, JSON_COMPACT);

	if (path != NULL && text != NULL)
		write_file_text(path, text);
	free(path);
	free(text);
}

/* One request: answered on its Response Topic (v5) or bootstrap/res/<id>. */
static void serve_one(client_t *c, const it_msg_t *m, uint8_t nonce[32], bool *have_nonce)
{
	json_t *req = msg_json(m), *reply;
	const char *op = jstr(req, "op");

	if (op != NULL && strcmp(op, "challenge") == 0) {
		RAND_bytes(nonce, 32);
		*have_nonce = true;
		char *n64 = b64(nonce, 32);
		reply = json_pack("{ss si}", "nonce", n64, "expires_in", 60);
		free(n64);
	} else {
		keep(req);
		reply = answer(req, jstr(req, "nonce") != NULL && *have_nonce ? nonce : NULL);
	}
	if (reply != NULL && jstr(req, "id") != NULL)
		json_object_set_new(reply, "id", json_string(jstr(req, "id")));
	char *text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
	char topic[400];
	pub_opts_t o = { .qos = 1, .corr = m->corr, .corr_len = m->corr_len };
	if (m->resp_topic != NULL)
		snprintf(topic, sizeof topic, "%s", m->resp_topic);
	else
		snprintf(topic, sizeof topic, "bootstrap/res/%s",
				jstr(req, "external_id") ? jstr(req, "external_id") : "");
	if (text != NULL)
		client_publish(c, topic, text, (int)strlen(text), &o);
	free(text);
	json_decref(reply);
	json_decref(req);
}

/* The stand-in's loop; a byte on ready once it is subscribed. */
static void serve(int ready)
{
	client_t *c = client_connect(&B, 5, "stand-in", NULL, NULL);
	uint8_t nonce[32];
	bool have_nonce = false;

	if (c == NULL || client_subscribe(c, "bootstrap/req", 1) != 1 ||
			write(ready, "1", 1) != 1)
		_exit(1);
	close(ready);
	for (;;) {
		it_msg_t *m = client_wait(c, 1000);
		if (getppid() == 1)
			_exit(0);
		if (m != NULL)
			serve_one(c, m, nonce, &have_nonce);
		msg_free(m);
	}
}

/* ---- the broker ------------------------------------------------------- */

static int suite_clean(void);

static int suite_init(void)
{
	FILE *f;

	if (broker_prepare(&B, NULL, BROKER_NO_CONF) != 0)
		return -1;
	if ((f = fopen(B.conf, "w")) == NULL || broker_conf_base(f, &B) != 0 ||
			fclose(f) != 0 || make_ca(B.dir, "ca") != 0 || broker_launch(&B) != 0) {
		broker_cleanup(&B);
		return -1;
	}
	int ready[2];
	char byte = 0;
	struct pollfd p = { .events = POLLIN };
	if (pipe(ready) != 0) {
		broker_cleanup(&B);
		return -1;
	}
	fflush(NULL);
	if ((stand_in = fork()) == 0) {
		close(ready[0]);
		serve(ready[1]);
	}
	close(ready[1]);
	/* Subscribed before the first test asks anything. */
	p.fd = ready[0];
	bool up = stand_in > 0 && poll(&p, 1, 10000) == 1 && read(ready[0], &byte, 1) == 1;
	close(ready[0]);
	if (!up) {
		fprintf(stderr, "the stand-in did not subscribe to bootstrap/req\n");
		suite_clean();
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	if (stand_in > 0) {
		kill(stand_in, SIGTERM);
		waitpid(stand_in, NULL, 0);
	}
	broker_cleanup(&B);
	return 0;
}

/* ---- running the client ----------------------------------------------- */

/* The client against the broker over MQTT 3.1.1 with -W 5, the key on
 * stdin, then the arguments (NULL-terminated). */
static run_t device(const char *first, ...)
{
	char port[16];
	char *argv[TOOL_MAX_ARGS] = { DEVICE_BIN, "-h", "127.0.0.1", "-p", port, "-W", "5",
		"--key-file", "-", "-V", "311" };
	va_list ap;

	snprintf(port, sizeof port, "%d", B.port);
	va_start(ap, first);
	run_t r = run_tool(argv, 11, KEY, first, ap);
	va_end(ap);
	if (r.status != 0 && r.err != NULL)
		fprintf(stderr, "[device client, exit %d] %s", r.status, r.err);
	return r;
}

/* A fresh directory for one run's files (malloc()ed path). */
static char *new_dir(void)
{
	char *d = unique_name("out");
	char *path = d != NULL ? dir_file(d, "") : NULL;

	free(d);
	if (path != NULL && mkdir(path, 0700) != 0) {
		free(path);
		path = NULL;
	}
	return path;
}

static char *in_dir(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* openssl's output for argv (stdout and stderr), or NULL when it failed. */
static char *openssl_out(char *const argv[])
{
	char *out = NULL, *err = NULL;
	int st = run_capture(argv, NULL, &out, &err);

	if (st != 0) {
		fprintf(stderr, "%s %s failed: %s", argv[0], argv[1], err ? err : "");
		free(out);
		out = NULL;
	}
	free(err);
	return out;
}

/* The public key of a certificate (x509) or of a private key (pkey), PEM. */
static char *pubkey_of(const char *kind, const char *path)
{
	char *cert[] = { "openssl", "x509", "-in", (char *)path, "-noout", "-pubkey", NULL };
	char *key[] = { "openssl", "pkey", "-in", (char *)path, "-pubout", NULL };

	return openssl_out(strcmp(kind, "x509") == 0 ? cert : key);
}

/* The request the stand-in got from ext, parsed, and its CSR kept as a
 * file (*csr_path, malloc()ed). */
static json_t *sent(const char *ext, char **csr_path)
{
	char *path = dir_file(ext, ".req"), *text = path ? read_file_text(path, NULL) : NULL;
	json_t *req = text != NULL ? json_loads(text, 0, NULL) : NULL;

	*csr_path = dir_file(ext, ".sent.csr");
	if (jstr(req, "csr") == NULL || *csr_path == NULL ||
			write_file_text(*csr_path, jstr(req, "csr")) != 0) {
		free(*csr_path);
		*csr_path = NULL;
	}
	free(text);
	free(path);
	return req;
}

/* The CSR file verifies (its signature, by its own key), and its text. */
static char *csr_checked(const char *csr_path)
{
	char *verify[] = { "openssl", "req", "-in", (char *)csr_path, "-verify", "-noout",
		"-text", NULL };
	char *text = csr_path != NULL ? openssl_out(verify) : NULL;

	CHECK(text != NULL);
	return text;
}

/*
 * One --csr bootstrap that the stand-in signs: exit 0, the CSR sent
 * verifies and names the device, its key is of key_type (text in the
 * openssl req -text output), the key file is 0600 and the certificate
 * written (client_cert.pem in the run's directory) is for it.
 */
static void issued_case(const char *mode, const char *key_type,
		const char *key_text, bool default_key_path)
{
	char *ext = unique_name("sign"), *dir = new_dir(), *csr = NULL, *text = NULL;
	char *keyf = dir != NULL ? in_dir(dir, default_key_path ? "client_key.pem" : "../dev.key") : NULL;
	char *certf = dir != NULL ? in_dir(dir, "client_cert.pem") : NULL;
	char *a = NULL, *b = NULL, subject[400];
	json_t *req = NULL;
	run_t r = { 0 };

	if (!CHECK(ext != NULL && dir != NULL && keyf != NULL && certf != NULL))
		goto out;
	if (default_key_path)
		r = device("-E", ext, "--mode", mode, "--csr", "--key-type", key_type,
				"--out-dir", dir, NULL);
	else
		r = device("-E", ext, "--mode", mode, "--csr", "--key-type", key_type,
				"--out-dir", dir, "--key-out", keyf, NULL);
	CHECK(r.status == ST_OK);
	req = sent(ext, &csr);
	CHECK(req != NULL && csr != NULL);
	/* The key crosses the wire in plain and encrypt modes only. */
	CHECK((jstr(req, "external_key") != NULL) == (strcmp(mode, "challenge") != 0));
	CHECK((jstr(req, "proof") != NULL) == (strcmp(mode, "challenge") == 0));
	text = csr_checked(csr);
	snprintf(subject, sizeof subject, "Subject: CN = %s", ext);
	CHECK(text != NULL && strstr(text, subject) != NULL);
	if (!CHECK(text != NULL && strstr(text, key_text) != NULL))
		fprintf(stderr, "CSR: %s\n", text ? text : "(none)");
	CHECK(text != NULL && strstr(text, "PRIVATE KEY") == NULL);
	CHECK(mode_of(keyf) == 0600);
	a = pubkey_of("x509", certf);
	b = pubkey_of("pkey", keyf);
	CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
	/* The reply's other files as usual. */
	char *id = in_dir(dir, "client_id");
	CHECK(id != NULL && mode_of(id) == 0644);
	free(id);
out:
	run_free(&r);
	json_decref(req);
	free(a);
	free(b);
	free(text);
	free(csr);
	free(keyf);
	free(certf);
	free(dir);
	free(ext);
}

/* ---- issued --------------------------------------------------------- */

static void test_plain_ec_key_out(void)
{
	issued_case("plain", "ec", "ASN1 OID: prime256v1", false);
}

static void test_encrypt_rsa_in_out_dir(void)
{
	issued_case("encrypt", "rsa", "Public-Key: (2048 bit)", true);
}

static void test_challenge_ec_in_out_dir(void)
{
	issued_case("challenge", "ec", "ASN1 OID: prime256v1", true);
}

static void test_challenge_rsa_key_out(void)
{
	issued_case("challenge", "rsa", "Public-Key: (2048 bit)", false);
}

/* Printed, not written: the JSON has the certificate and no key; the key
 * goes to its file alone. Bootstrapping again makes a new key. */
static void test_printed_with_key_out(void)
{
	char *ext = unique_name("sign"), *keyf = ext ? dir_file(ext, ".key") : NULL;
	char *first = NULL;
	json_t *got = NULL;
	run_t r = device("-E", ext, "--mode", "plain", "--csr", "--key-out", keyf, NULL);

	CHECK(r.status == ST_OK);
	got = r.out != NULL ? json_loads(r.out, 0, NULL) : NULL;
	CHECK(jstr(got, "client_cert") != NULL);
	CHECK(json_object_get(got, "client_key") == NULL);
	CHECK(r.out != NULL && strstr(r.out, "PRIVATE KEY") == NULL);
	CHECK(mode_of(keyf) == 0600);
	first = keyf != NULL ? read_file_text(keyf, NULL) : NULL;
	run_free(&r);
	r = device("-E", ext, "--mode", "plain", "--csr", "--key-out", keyf, NULL);
	CHECK(r.status == ST_OK);
	char *second = keyf != NULL ? read_file_text(keyf, NULL) : NULL;
	CHECK(first != NULL && second != NULL && strcmp(first, second) != 0);
	CHECK(mode_of(keyf) == 0600);
	free(second);
	run_free(&r);
	json_decref(got);
	free(first);
	free(keyf);
	free(ext);
}

/* An external ID too long for a common name (64 characters): the CSR has
 * an empty subject, and still verifies. */
static void test_long_external_id(void)
{
	char ext[120], *keyf, *csr = NULL, *text = NULL;
	json_t *req = NULL;

	snprintf(ext, sizeof ext, "sign-%0100d", 7);
	keyf = dir_file("long", ".key");
	run_t r = device("-E", ext, "--mode", "plain", "--csr", "--key-out", keyf, NULL);
	CHECK(r.status == ST_OK);
	req = sent(ext, &csr);
	text = csr_checked(csr);
	CHECK(text != NULL && strstr(text, "CN = ") == NULL);
	CHECK(mode_of(keyf) == 0600);
	run_free(&r);
	json_decref(req);
	free(text);
	free(csr);
	free(keyf);
}

/* ---- refused: no key is written -------------------------------------- */

/*
 * A bootstrap of ext with --csr that must fail with status, the reason
 * (why) on stderr: the key file, which holds "old" before, still does, and
 * nothing else was written to the run's directory but what the reply
 * carried (with --out-dir, nothing at all on a failure).
 */
static void refused_case(const char *prefix, int status, const char *why)
{
	char *ext = unique_name(prefix), *dir = new_dir();
	char *keyf = dir != NULL ? in_dir(dir, "client_key.pem") : NULL;
	char *id = dir != NULL ? in_dir(dir, "client_id") : NULL;
	run_t r = { 0 };

	if (!CHECK(ext != NULL && keyf != NULL && id != NULL && write_file_text(keyf, "old") == 0))
		goto out;
	r = device("-E", ext, "--mode", "plain", "--csr", "--out-dir", dir, NULL);
	CHECK(r.status == status);
	if (!CHECK(r.err != NULL && strstr(r.err, why) != NULL))
		fprintf(stderr, "stderr: %s\n", r.err ? r.err : "(none)");
	char *still = read_file_text(keyf, NULL);
	CHECK_STR(still, "old");
	free(still);
	CHECK(mode_of(id) == (mode_t)-1);
out:
	run_free(&r);
	free(id);
	free(keyf);
	free(dir);
	free(ext);
}

static void test_reply_without_certificate(void)
{
	refused_case("nocert", ST_BADREPLY, "no certificate");
}

static void test_certificate_for_another_key(void)
{
	refused_case("other", ST_BADREPLY, "not for this device's key");
}

static void test_error_reply(void)
{
	refused_case("refuse", ST_REPLY, "invalid_request");
}

/* ---- --csr-file ------------------------------------------------------- */

/* A CSR made elsewhere is sent as it is; the certificate must be for it;
 * no key is written by the client. */
static void test_csr_file(void)
{
	char *ext = unique_name("sign"), *other = unique_name("other");
	char *csrf = dir_file("made-elsewhere", ".csr"), *keyf = dir_file("made-elsewhere", ".key");
	char *want = NULL, *sent_csr = NULL;
	json_t *req = NULL;
	run_t r = { 0 };
	char *make[] = { "openssl", "req", "-config", "/dev/null", "-new", "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyf,
		"-out", csrf, "-subj", "/CN=elsewhere", NULL };

	if (!CHECK(ext != NULL && other != NULL && run_quiet(make) == 0))
		goto out;
	want = read_file_text(csrf, NULL);
	r = device("-E", ext, "--mode", "encrypt", "--csr-file", csrf, NULL);
	CHECK(r.status == ST_OK);
	CHECK(r.out != NULL && strstr(r.out, "BEGIN CERTIFICATE") != NULL);
	req = sent(ext, &sent_csr);
	CHECK_STR(jstr(req, "csr"), want);
	run_free(&r);
	r = device("-E", other, "--mode", "plain", "--csr-file", csrf, NULL);
	CHECK(r.status == ST_BADREPLY);
	CHECK(r.err != NULL && strstr(r.err, "not for this device's key") != NULL);
out:
	run_free(&r);
	json_decref(req);
	free(sent_csr);
	free(want);
	free(csrf);
	free(keyf);
	free(other);
	free(ext);
}

/* ---- usage ------------------------------------------------------------ */

static void expect_usage(int status, const char *a, const char *b, const char *c,
		const char *d)
{
	char *ext = unique_name("sign");
	run_t r = device("-E", ext, a, b, c, d, NULL);

	CHECK(r.status == status);
	CHECK(r.err != NULL && r.err[0] != '\0');
	char *req = dir_file(ext, ".req");
	CHECK(mode_of(req) == (mode_t)-1);      /* nothing was asked */
	free(req);
	run_free(&r);
	free(ext);
}

static void test_bad_usage(void)
{
	expect_usage(ST_USAGE, "--csr", NULL, NULL, NULL);
	expect_usage(ST_USAGE, "--key-out", "x.key", NULL, NULL);
	expect_usage(ST_USAGE, "--csr", "--key-type", "dsa", "--key-out");
	expect_usage(ST_USAGE, "--key-type", "rsa", "--out-dir", "/tmp");
	expect_usage(ST_USAGE, "--csr", "--csr-file", "/dev/null", NULL);
	expect_usage(ST_USAGE, "--csr-file", "/nonexistent/x.csr", NULL, NULL);
	expect_usage(ST_USAGE, "--csr-file", "/dev/null", NULL, NULL);
	expect_usage(ST_OUTPUT, "--csr", "--key-out", "/nonexistent/dir/x.key", NULL);
	expect_usage(ST_OUTPUT, "--csr", "--key-out", "/tmp", NULL);
}

static const cu_test_t tests[] = {
	{ "plain_ec_key_out", test_plain_ec_key_out },
	{ "encrypt_rsa_in_out_dir", test_encrypt_rsa_in_out_dir },
	{ "challenge_ec_in_out_dir", test_challenge_ec_in_out_dir },
	{ "challenge_rsa_key_out", test_challenge_rsa_key_out },
	{ "printed_with_key_out", test_printed_with_key_out },
	{ "long_external_id", test_long_external_id },
	{ "reply_without_certificate", test_reply_without_certificate },
	{ "certificate_for_another_key", test_certificate_for_another_key },
	{ "error_reply", test_error_reply },
	{ "csr_file", test_csr_file },
	{ "bad_usage", test_bad_usage },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("device client --csr", suite_init, suite_clean, tests);
	return cu_run("test_device_csr");
}
