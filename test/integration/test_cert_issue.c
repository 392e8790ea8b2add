/*
 * Certificate issuance on a real broker, end to end (protocol 3.3 and the
 * certificate identity of section 5): the plugin has an issuing CA made by
 * config-examples/make-issuing-ca.sh; the reference device client makes
 * its key pair and bootstraps with a CSR, over the plain listener and over
 * a TLS one; every certificate it gets is checked with openssl verify
 * against the issuing CA and its fields with openssl x509 -text; then the
 * device logs in by that certificate alone on a TLS listener with
 * require_certificate and use_identity_as_username whose cafile is the
 * issuing CA, and uses its channel. Disabling the config shuts it out;
 * renewing (bootstrapping again with a new CSR) shuts the old certificate
 * out and lets the new one in. Reads show cert_serial and cert_expires_at,
 * and listConfigs finds the config by cert_expires_before, through the
 * admin protocol and through mosquitto_bootstrap_ctrl.
 *
 * Bad CSRs (a bad signature, RSA 1024, a curve the contract does not
 * allow, garbage, a 12 KB garbage PEM) and a CSR sent to a broker without
 * an issuing CA are answered invalid_request (the client exits 1), and the
 * config is left as it was.
 *
 * Listeners of the issuing broker: the plain one (admin, bootstrap); the
 * harness's TLS one (tls_port) without a client certificate, for
 * bootstrapping over TLS; and cert_port, the certificate login.
 */
#define _XOPEN_SOURCE 700       /* strptime */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "tool_run.h"

#include <ctype.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEVICE_BIN ((char *)device_bin())
#define CERT_DAYS 30
#define DROP_MS 2000

enum { ST_OK = 0, ST_REPLY = 1 };

static broker_t B;              /* with an issuing CA */
static broker_t N;              /* without one */
static int cert_port;
static char issuing_ca[IT_PATH_MAX + 32];
static const pub_opts_t qos1 = { .qos = 1 };

/* ---- the brokers ------------------------------------------------------ */

/*
 * The harness's TLS listener loses its client-certificate requirement (a
 * device bootstraps there with --cafile alone); the certificate login
 * listener on cert_port checks clients against the issuing CA.
 */
static int write_listeners(void)
{
	return broker_add_cert_listener(&B, issuing_ca, &cert_port);
}

static int suite_init(void)
{
	char dir[IT_PATH_MAX + 16], extra[256];

	snprintf(extra, sizeof extra, "plugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow\n"
			"plugin_opt_ca_cert @DIR@/issuing/issuing-ca.pem\n"
			"plugin_opt_ca_key @DIR@/issuing/issuing-ca.key\n"
			"plugin_opt_cert_days %d\n", CERT_DAYS);
	if (broker_prepare(&B, extra, BROKER_TLS) != 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/issuing", B.dir);
	snprintf(issuing_ca, sizeof issuing_ca, "%s/issuing-ca.pem", dir);
	char *script[] = { "sh", "config-examples/make-issuing-ca.sh", dir, NULL };
	if (run_quiet(script) != 0) {
		fprintf(stderr, "config-examples/make-issuing-ca.sh failed\n");
		broker_cleanup(&B);
		return -1;
	}
	if (write_listeners() != 0 || broker_launch(&B) != 0) {
		char log[IT_PATH_MAX + 32];
		snprintf(log, sizeof log, "%s/mosquitto.log", B.dir);
		char *text = read_file_text(log, NULL), *line = text ? strstr(text, "bootstrap:") : NULL;
		fprintf(stderr, "the broker with plugin_opt_ca_cert/ca_key did not start: %.*s\n",
				line != NULL ? (int)strcspn(line, "\n") : 14,
				line != NULL ? line : "(no log line)");
		free(text);
		broker_cleanup(&B);
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

static int no_ca_init(void)
{
	return broker_start(&N, "plugin_opt_client_auth true");
}

static int no_ca_clean(void)
{
	broker_cleanup(&N);
	return 0;
}

/* ---- running programs ------------------------------------------------- */

static run_t device(const broker_t *b, int port, const char *key, const char *first, ...)
{
	char portbuf[16];
	char *argv[TOOL_MAX_ARGS] = { DEVICE_BIN, "-h", "127.0.0.1", "-p", portbuf, "-W", "5",
		"--key-file", "-" };
	va_list ap;

	(void)b;
	snprintf(portbuf, sizeof portbuf, "%d", port);
	va_start(ap, first);
	run_t r = run_tool(argv, 9, key, first, ap);
	va_end(ap);
	if (r.status != 0 && r.err != NULL)
		fprintf(stderr, "[device client, exit %d] %s", r.status, r.err);
	return r;
}

/* The admin tool as the harness's admin against B. */
#define ctrl(...) ctrl_admin(&B, __VA_ARGS__)

/* openssl's stdout for argv, or NULL (its stderr shown) when it failed. */
static char *openssl_out(char *const argv[])
{
	char *out = NULL, *err = NULL;

	if (run_capture(argv, NULL, &out, &err) != 0) {
		fprintf(stderr, "openssl %s failed: %s", argv[1], err != NULL ? err : "");
		free(out);
		out = NULL;
	}
	free(err);
	return out;
}

static char *path_in(const char *dir, const char *name)
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

/* ---- a device --------------------------------------------------------- */

typedef struct {
	boot_cfg_t cfg;
	char filter[IT_PATH_MAX], topic[IT_PATH_MAX];
	char *dir;                  /* this device's files, under B's directory */
} device_t;

static void device_free(device_t *d)
{
	boot_cfg_free(&d->cfg);
	free(d->dir);
	memset(d, 0, sizeof *d);
}

static bool new_device(const broker_t *b, const char *prefix, device_t *d)
{
	char *ext = unique_name(prefix);

	memset(d, 0, sizeof *d);
	bool ok = ext != NULL && make_config(b, ext, NULL, true, &d->cfg) == 0 &&
		(d->dir = path_in(b->dir, ext)) != NULL && mkdir(d->dir, 0700) == 0;
	if (ok) {
		snprintf(d->filter, sizeof d->filter, "channels/%s/messages/#", d->cfg.channel_id);
		snprintf(d->topic, sizeof d->topic, "channels/%s/messages/t", d->cfg.channel_id);
	}
	free(ext);
	return CHECK(ok);
}

/* The files of one bootstrap: <dir>/<name>/ (--out-dir) and
 * <dir>/<name>.key (--key-out). */
typedef struct {
	char *out_dir, *key, *cert;
} issued_t;

static void issued_free(issued_t *i)
{
	free(i->out_dir);
	free(i->key);
	free(i->cert);
	memset(i, 0, sizeof *i);
}

static void issued_paths(const device_t *d, const char *name, issued_t *i)
{
	char key[64];

	snprintf(key, sizeof key, "%s.key", name);
	i->out_dir = path_in(d->dir, name);
	i->key = path_in(d->dir, key);
	i->cert = i->out_dir != NULL ? path_in(i->out_dir, "client_cert.pem") : NULL;
}

/*
 * Bootstraps d with --csr (key_type) in mode over the plain listener, or
 * over the bootstrap TLS listener with tls: true when the plugin issued a
 * certificate the client wrote with its key (i's files).
 */
static bool bootstrap_csr(const device_t *d, const char *name, const char *mode,
		const char *version, const char *key_type, bool tls, issued_t *i)
{
	char ca[IT_PATH_MAX + 16];
	run_t r;

	issued_paths(d, name, i);
	snprintf(ca, sizeof ca, "%s/ca.pem", B.dir);
	if (tls)
		r = device(&B, B.tls_port, d->cfg.external_key, "--cafile", ca, "-V", version,
				"--mode", mode, "-E", d->cfg.external_id, "--csr", "--key-type", key_type,
				"--key-out", i->key, "--out-dir", i->out_dir, NULL);
	else
		r = device(&B, B.port, d->cfg.external_key, "-V", version, "--mode", mode,
				"-E", d->cfg.external_id, "--csr", "--key-type", key_type,
				"--key-out", i->key, "--out-dir", i->out_dir, NULL);
	bool ok = CHECK(r.status == ST_OK);
	if (!ok)
		fprintf(stderr, "the plugin issued no certificate for a %s CSR in %s mode "
				"over %s (device client exit %d)\n", key_type, mode,
				tls ? "TLS" : "TCP", r.status);
	run_free(&r);
	return ok && CHECK(mode_of(i->key) == 0600) && CHECK(mode_of(i->cert) == 0644);
}

/* ---- the certificate ------------------------------------------------- */

/* "Dec  2 15:40:00 2026 GMT" (openssl's dates) as a time_t, or -1. */
static time_t openssl_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	const char *end = s != NULL ? strptime(s, "%b %d %H:%M:%S %Y GMT", &tm) : NULL;
	return end != NULL ? timegm(&tm) : (time_t)-1;
}

/* An RFC 3339 UTC time ("2026-12-02T15:40:00Z", fractions allowed). */
static time_t rfc3339_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	const char *end = s != NULL ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (end != NULL && *end == '.')
		end += 1 + strspn(end + 1, "0123456789");
	return end != NULL && strcmp(end, "Z") == 0 ? timegm(&tm) : (time_t)-1;
}

static void format_rfc3339(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The line after the one that contains head in text, trimmed (malloc()ed). */
static char *line_after(const char *text, const char *head)
{
	const char *at = text != NULL ? strstr(text, head) : NULL;
	const char *nl = at != NULL ? strchr(at, '\n') : NULL;

	if (nl == NULL)
		return NULL;
	nl++;
	nl += strspn(nl, " ");
	return strndup(nl, strcspn(nl, "\n"));
}

/* A serial as lowercase hex without leading zeros (malloc()ed). */
static char *serial_norm(const char *hex)
{
	char *out;

	if (hex == NULL)
		return NULL;
	while (*hex == '0' && hex[1] != '\0')
		hex++;
	out = strdup(hex);
	for (char *p = out; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

typedef struct {
	char *serial;               /* lowercase hex, as normalised */
	time_t not_before, not_after;
} cert_info_t;

/*
 * The issued certificate checked as protocol 3.3 says: openssl verify
 * against the issuing CA; subject CN=<client_id>; basicConstraints CA:FALSE
 * critical, keyUsage digitalSignature critical (alone), extendedKeyUsage
 * clientAuth, subject and authority key identifiers; a positive random
 * serial of at least 64 bits (at least 48 significant bits are required
 * here: a 64-bit random number has fewer with a chance of 1 in 65536);
 * valid from 5 minutes before now for CERT_DAYS days; for the key the
 * client wrote.
 */
static bool check_issued(const device_t *d, const issued_t *i, time_t asked, cert_info_t *info)
{
	char *verify[] = { "openssl", "verify", "-CAfile", issuing_ca, i->cert, NULL };
	char *text_argv[] = { "openssl", "x509", "-in", i->cert, "-noout", "-text", NULL };
	char *serial_argv[] = { "openssl", "x509", "-in", i->cert, "-noout", "-serial",
		"-startdate", "-enddate", NULL };
	char *pub_cert[] = { "openssl", "x509", "-in", i->cert, "-noout", "-pubkey", NULL };
	char *pub_key[] = { "openssl", "pkey", "-in", i->key, "-pubout", NULL };
	char *v = openssl_out(verify), *text = openssl_out(text_argv);
	char *dates = openssl_out(serial_argv), *pa = openssl_out(pub_cert), *pb = openssl_out(pub_key);
	char subject[400], *l;
	bool ok = true;

	memset(info, 0, sizeof *info);
	ok = CHECK(v != NULL && strstr(v, ": OK") != NULL) && ok;
	snprintf(subject, sizeof subject, "Subject: CN = %s\n", d->cfg.client_id);
	if (!CHECK(text != NULL && strstr(text, subject) != NULL))
		ok = false, fprintf(stderr, "want \"%s\" in:\n%s\n", subject, text ? text : "");
	l = line_after(text, "X509v3 Basic Constraints: critical");
	ok = CHECK_STR(l, "CA:FALSE") && ok;
	free(l);
	l = line_after(text, "X509v3 Key Usage: critical");
	ok = CHECK_STR(l, "Digital Signature") && ok;
	free(l);
	l = line_after(text, "X509v3 Extended Key Usage:");
	ok = CHECK_STR(l, "TLS Web Client Authentication") && ok;
	free(l);
	ok = CHECK(text != NULL && strstr(text, "X509v3 Subject Key Identifier:") != NULL) && ok;
	ok = CHECK(text != NULL && strstr(text, "X509v3 Authority Key Identifier:") != NULL) && ok;
	ok = CHECK(pa != NULL && pb != NULL && strcmp(pa, pb) == 0) && ok;

	const char *s = dates != NULL ? strstr(dates, "serial=") : NULL;
	if (CHECK(s != NULL)) {
		char *hex = strndup(s + 7, strcspn(s + 7, "\n"));
		info->serial = serial_norm(hex);
		free(hex);
		size_t bits = info->serial != NULL ? strlen(info->serial) * 4 : 0;
		if (!CHECK(info->serial != NULL && info->serial[0] != '-' && bits >= 48))
			ok = false, fprintf(stderr, "serial %s\n", info->serial ? info->serial : "?");
	}
	const char *nb = dates != NULL ? strstr(dates, "notBefore=") : NULL;
	const char *na = dates != NULL ? strstr(dates, "notAfter=") : NULL;
	info->not_before = nb != NULL ? openssl_time(nb + 10) : -1;
	info->not_after = na != NULL ? openssl_time(na + 9) : -1;
	time_t now = time(NULL);
	if (!CHECK(info->not_before >= asked - 300 - 60 && info->not_before <= now - 300 + 60))
		ok = false, fprintf(stderr, "notBefore %s", nb ? nb : "?\n");
	if (!CHECK(info->not_after >= asked + CERT_DAYS * 86400L - 300 - 60 &&
				info->not_after <= now + CERT_DAYS * 86400L + 60))
		ok = false, fprintf(stderr, "notAfter %s", na ? na : "?\n");
	free(v);
	free(text);
	free(dates);
	free(pa);
	free(pb);
	return ok;
}

/* getConfig shows the certificate: client_cert its PEM, cert_serial its
 * serial (lowercase hex), cert_expires_at its notAfter, no client key. */
static bool check_config_shows(const device_t *d, const issued_t *i, const cert_info_t *info)
{
	json_t *cfg = admin_get_config(&B, "client_id", d->cfg.client_id);
	char *pem = read_file_text(i->cert, NULL);
	const char *serial = jstr(cfg, "cert_serial");
	char *norm = serial_norm(serial);
	bool ok = CHECK(cfg != NULL);

	ok = CHECK_STR(jstr(cfg, "client_cert"), pem) && ok;
	ok = CHECK(serial != NULL && strspn(serial, "0123456789abcdef") == strlen(serial)) && ok;
	ok = CHECK_STR(norm, info->serial) && ok;
	time_t exp = rfc3339_time(jstr(cfg, "cert_expires_at"));
	if (!CHECK(exp != -1 && exp == info->not_after))
		ok = false, fprintf(stderr, "cert_expires_at %s\n",
				jstr(cfg, "cert_expires_at") ? jstr(cfg, "cert_expires_at") : "(none)");
	ok = CHECK(!json_is_true(json_object_get(cfg, "has_client_key"))) && ok;
	free(norm);
	free(pem);
	json_decref(cfg);
	return ok;
}

/* ---- logging in by certificate --------------------------------------- */

static client_t *connect_cert(int version, const issued_t *i, int *connack)
{
	broker_t at = B;

	at.tls_port = cert_port;
	return client_connect_tls(&at, version, NULL, i->cert, i->key, connack);
}

static bool granted(int suback)
{
	return suback >= 0 && suback < 0x80;
}

/* c subscribes to its channel, publishes there and hears itself. */
static bool uses_channel(client_t *c, const device_t *d)
{
	bool ok = CHECK(granted(client_subscribe(c, d->filter, 1)));
	int puback = client_publish(c, d->topic, "hello", 5, &qos1);

	ok = CHECK(puback >= 0 && puback < 0x80) && ok;
	it_msg_t *m = client_wait(c, IT_WAIT_MS);
	ok = CHECK(m != NULL && strcmp(m->topic, d->topic) == 0) && ok;
	msg_free(m);
	return ok;
}

static bool cert_works(int version, const device_t *d, const issued_t *i)
{
	int connack = -1;
	client_t *c = connect_cert(version, i, &connack);
	bool ok = CHECK(c != NULL);

	if (!ok)
		fprintf(stderr, "the issued certificate was not let in (connack %d)\n", connack);
	else
		ok = uses_channel(c, d);
	client_close(c);
	return ok;
}

/* Refused at CONNACK, or let in with nothing granted and dropped. */
static void cert_shut_out(int version, const device_t *d, const issued_t *i)
{
	int connack = -1;
	client_t *c = connect_cert(version, i, &connack);

	if (!CHECK(c != NULL || connack > 0))
		return;
	if (c != NULL) {
		CHECK(!granted(client_subscribe(c, d->filter, 1)));
		CHECK(client_wait_gone(c, DROP_MS));
	}
	client_close(c);
}

/* ---- listConfigs by cert_expires_before ------------------------------ */

static bool listed(json_t *data, const char *client_id)
{
	size_t k;
	json_t *item;

	json_array_foreach(json_object_get(data, "configs"), k, item) {
		if (strcmp(jstr(item, "client_id") ? jstr(item, "client_id") : "", client_id) == 0)
			return true;
	}
	return false;
}

static json_t *list_before(time_t t)
{
	char when[32];

	format_rfc3339(t, when);
	return admin_ok_take(&B, json_pack("{ss ss si}", "command", "listConfigs",
				"cert_expires_before", when, "limit", 1000));
}

static void check_listed_by_expiry(const device_t *d, const cert_info_t *info)
{
	char when[32];
	json_t *after = list_before(info->not_after + 86400);
	json_t *before = list_before(info->not_after - 86400);

	CHECK(after != NULL && listed(after, d->cfg.client_id));
	CHECK(before != NULL && !listed(before, d->cfg.client_id));
	json_decref(after);
	json_decref(before);

	/* The admin tool: the flag, the text of a read, the table's column. */
	format_rfc3339(info->not_after + 86400, when);
	run_t r = ctrl("listConfigs", "--cert-expires-before", when, "--all", "--json", NULL);
	json_t *list = r.out != NULL ? json_loads(r.out, 0, NULL) : NULL;
	CHECK(r.status == 0 && listed(list, d->cfg.client_id));
	json_decref(list);
	run_free(&r);
	r = ctrl("listConfigs", "--cert-expires-before", when, "--all", NULL);
	CHECK(r.status == 0 && r.out != NULL && strstr(r.out, "CERT_EXPIRES") != NULL &&
			strstr(r.out, d->cfg.client_id) != NULL);
	run_free(&r);
	r = ctrl("getConfig", d->cfg.client_id, NULL);
	CHECK(r.status == 0 && r.out != NULL && strstr(r.out, "cert_serial:") != NULL &&
			strstr(r.out, "cert_expires_at:") != NULL);
	run_free(&r);
}

/* ---- the loop --------------------------------------------------------- */

/*
 * Bootstrap with a CSR over TCP (encrypt mode, MQTT v5), check the
 * certificate and the config's reads, log in by certificate and use the
 * channel; disable: dropped and shut out; enable; renew over TLS (plain
 * mode, MQTT 3.1.1) with a new key: the old certificate is shut out, the
 * new one works and is the one the reads show.
 */
static void test_tls_loop_issue_login_disable_renew(void)
{
	device_t d;
	issued_t first = { 0 }, second = { 0 };
	cert_info_t a = { 0 }, b = { 0 };
	time_t asked = time(NULL);

	if (!new_device(&B, "loop", &d))
		return;
	if (!bootstrap_csr(&d, "first", "encrypt", "5", "ec", false, &first))
		goto out;
	check_issued(&d, &first, asked, &a);
	check_config_shows(&d, &first, &a);
	check_listed_by_expiry(&d, &a);

	/* The key file, certificate and CA the client wrote. */
	char *ca_out = path_in(first.out_dir, "ca_cert.pem");
	char *ca_text = ca_out != NULL ? read_file_text(ca_out, NULL) : NULL;
	char *issuing = read_file_text(issuing_ca, NULL);
	CHECK_STR(ca_text, issuing);
	free(ca_out);
	free(ca_text);
	free(issuing);

	client_t *c = connect_cert(5, &first, NULL);
	if (!CHECK(c != NULL) || !uses_channel(c, &d)) {
		fprintf(stderr, "the device could not use its channel by certificate\n");
		client_close(c);
		goto out;
	}
	json_t *off = admin_ok_take(&B, admin_cmd_by("disableConfig", "client_id", d.cfg.client_id));
	CHECK(off != NULL);
	json_decref(off);
	CHECK(client_wait_gone(c, DROP_MS));
	client_close(c);
	cert_shut_out(5, &d, &first);
	cert_shut_out(4, &d, &first);
	json_t *on = admin_ok_take(&B, admin_cmd_by("enableConfig", "client_id", d.cfg.client_id));
	CHECK(on != NULL);
	json_decref(on);
	cert_works(4, &d, &first);

	/* Renewal: a new key pair, a new CSR, over TLS this time. The live
	 * session on the old certificate has used its channel: a silent one
	 * is only refused at its first publish or subscribe (README, limits). */
	c = connect_cert(5, &first, NULL);
	CHECK(c != NULL && uses_channel(c, &d));
	asked = time(NULL);
	if (bootstrap_csr(&d, "second", "plain", "311", "ec", true, &second)) {
		check_issued(&d, &second, asked, &b);
		CHECK(a.serial != NULL && b.serial != NULL && strcmp(a.serial, b.serial) != 0);
		check_config_shows(&d, &second, &b);
		if (c != NULL)
			CHECK(client_wait_gone(c, DROP_MS));
		cert_shut_out(5, &d, &first);
		cert_works(5, &d, &second);
		cert_works(4, &d, &second);
	}
	client_close(c);
out:
	free(a.serial);
	free(b.serial);
	issued_free(&first);
	issued_free(&second);
	device_free(&d);
}

/* Challenge mode, MQTT 3.1.1, an RSA 2048 key: issued, and it logs in. */
static void test_challenge_mode_rsa_key(void)
{
	device_t d;
	issued_t i = { 0 };
	cert_info_t info = { 0 };
	time_t asked = time(NULL);

	if (!new_device(&B, "rsa", &d))
		return;
	if (bootstrap_csr(&d, "rsa", "challenge", "311", "rsa", false, &i) &&
			check_issued(&d, &i, asked, &info)) {
		char *text_argv[] = { "openssl", "x509", "-in", i.cert, "-noout", "-text", NULL };
		char *text = openssl_out(text_argv);
		CHECK(text != NULL && strstr(text, "Public-Key: (2048 bit)") != NULL);
		free(text);
		check_config_shows(&d, &i, &info);
		cert_works(5, &d, &i);
	}
	free(info.serial);
	issued_free(&i);
	device_free(&d);
}

/* A certificate the admin stored (no cert_serial) counts for
 * cert_expires_before too: "issued or stored". */
static void test_stored_certificate_listed_by_expiry(void)
{
	boot_cfg_t cfg;
	char *ext = unique_name("stored"), *cert = NULL, *key = NULL;
	json_t *extra = NULL, *soon = NULL, *later = NULL;
	time_t now = time(NULL);

	/* make_cert: valid for 2 days. */
	if (!CHECK(ext != NULL && make_cert(B.dir, ext, &cert, &key) == 0))
		goto out;
	extra = json_pack("{ss}", "client_cert", cert);
	if (!CHECK(make_config(&B, ext, extra, false, &cfg) == 0))
		goto out;
	soon = list_before(now + 86400);
	later = list_before(now + 3 * 86400);
	CHECK(soon != NULL && !listed(soon, cfg.client_id));
	CHECK(later != NULL && listed(later, cfg.client_id));
	boot_cfg_free(&cfg);
out:
	json_decref(soon);
	json_decref(later);
	json_decref(extra);
	free(cert);
	free(key);
	free(ext);
}

/* ---- bad CSRs --------------------------------------------------------- */

/* A CSR from openssl req for a new key made with newkey_args. */
static int openssl_csr(const char *path, const char *keypath, const char *const *newkey)
{
	char *argv[24] = { "openssl", "req", "-config", "/dev/null", "-new" };
	size_t n = 5;

	for (; *newkey != NULL; newkey++)
		argv[n++] = (char *)*newkey;
	char *rest[] = { "-nodes", "-keyout", (char *)keypath, "-out", (char *)path,
		"-subj", "/CN=bad", NULL };
	for (size_t k = 0; rest[k] != NULL; k++)
		argv[n++] = rest[k];
	argv[n] = NULL;
	return run_quiet(argv);
}

/* A good EC CSR with the last byte of its signature flipped: still a CSR,
 * whose signature no longer verifies. */
static int flipped_csr(const char *path, const char *keypath)
{
	static const char *const ec[] = { "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", NULL };
	unsigned char *der = NULL;
	int rc = -1;

	if (openssl_csr(path, keypath, ec) != 0)
		return -1;
	FILE *f = fopen(path, "r");
	X509_REQ *req = f != NULL ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	int len = req != NULL ? i2d_X509_REQ(req, &der) : -1;
	X509_REQ_free(req);
	if (len > 0) {
		der[len - 1] ^= 0x01;
		const unsigned char *p = der;
		X509_REQ *bad = d2i_X509_REQ(NULL, &p, len);
		if (bad != NULL && (f = fopen(path, "w")) != NULL) {
			rc = PEM_write_X509_REQ(f, bad) == 1 ? 0 : -1;
			if (fclose(f) != 0)
				rc = -1;
		}
		X509_REQ_free(bad);
	}
	OPENSSL_free(der);
	return rc;
}

/* "-----BEGIN CERTIFICATE REQUEST-----", n bytes of base64-looking
 * garbage in lines of 64, the END line. */
static char *garbage_pem(size_t n)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(n + n / 64 + 128), *w = out;

	if (out == NULL)
		return NULL;
	w += sprintf(w, "-----BEGIN CERTIFICATE REQUEST-----\n");
	for (size_t k = 0; k < n; k++) {
		*w++ = alphabet[(k * 7 + 3) % 64];
		if (k % 64 == 63)
			*w++ = '\n';
	}
	sprintf(w, "\n-----END CERTIFICATE REQUEST-----\n");
	return out;
}

/* The CSR file csr sent by d's client (plain mode): invalid_request, exit
 * 1, and getConfig as it was before. */
static void refused_csr(const broker_t *b, const device_t *d, const char *csr, const char *what)
{
	json_t *before = admin_get_config(b, "client_id", d->cfg.client_id), *after;
	run_t r = device(b, b->port, d->cfg.external_key, "--mode", "plain",
			"-E", d->cfg.external_id, "--csr-file", csr, NULL);

	if (!CHECK(r.status == ST_REPLY && r.err != NULL && strstr(r.err, "invalid_request") != NULL))
		fprintf(stderr, "%s: the client exited %d, want 1 with invalid_request\n",
				what, r.status);
	run_free(&r);
	after = admin_get_config(b, "client_id", d->cfg.client_id);
	if (!CHECK(before != NULL && after != NULL && json_equal(before, after)))
		fprintf(stderr, "%s: the config changed\n", what);
	json_decref(before);
	json_decref(after);
}

static void test_bad_csrs_are_invalid_requests(void)
{
	static const char *const rsa1024[] = { "-newkey", "rsa:1024", NULL };
	static const char *const k256[] = { "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:secp256k1", NULL };
	static const char *const p192[] = { "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime192v1", NULL };
	device_t d;
	char *csr = NULL, *key = NULL, *pem = NULL;

	if (!new_device(&B, "badcsr", &d))
		return;
	csr = path_in(d.dir, "bad.csr");
	key = path_in(d.dir, "bad.key");
	if (!CHECK(csr != NULL && key != NULL))
		goto out;
	if (CHECK(flipped_csr(csr, key) == 0))
		refused_csr(&B, &d, csr, "a CSR with a bad signature");
	if (CHECK(openssl_csr(csr, key, rsa1024) == 0))
		refused_csr(&B, &d, csr, "an RSA 1024 CSR");
	if (CHECK(openssl_csr(csr, key, k256) == 0))
		refused_csr(&B, &d, csr, "a secp256k1 CSR");
	if (CHECK(openssl_csr(csr, key, p192) == 0))
		refused_csr(&B, &d, csr, "a P-192 CSR");
	if (CHECK(write_file_text(csr, "not a certificate signing request\n") == 0))
		refused_csr(&B, &d, csr, "garbage");
	pem = garbage_pem(48);
	if (CHECK(pem != NULL && write_file_text(csr, pem) == 0))
		refused_csr(&B, &d, csr, "a garbage PEM");
	free(pem);
	pem = garbage_pem(12 * 1024);
	if (CHECK(pem != NULL && write_file_text(csr, pem) == 0))
		refused_csr(&B, &d, csr, "a 12 KB garbage PEM");
out:
	free(pem);
	free(csr);
	free(key);
	device_free(&d);
}

/* A CSR to a broker without an issuing CA: invalid_request, no key file,
 * the config as it was. */
static void test_csr_without_ca_is_invalid_request(void)
{
	device_t d;
	issued_t i = { 0 };

	if (!new_device(&N, "noca", &d))
		return;
	issued_paths(&d, "noca", &i);
	json_t *before = admin_get_config(&N, "client_id", d.cfg.client_id);
	run_t r = device(&N, N.port, d.cfg.external_key, "-E", d.cfg.external_id, "--csr",
			"--key-out", i.key, "--out-dir", i.out_dir, NULL);
	if (!CHECK(r.status == ST_REPLY && r.err != NULL && strstr(r.err, "invalid_request") != NULL))
		fprintf(stderr, "a CSR without an issuing CA: the client exited %d, want 1 with "
				"invalid_request\n", r.status);
	run_free(&r);
	CHECK(mode_of(i.key) == (mode_t)-1);
	CHECK(mode_of(i.cert) == (mode_t)-1);
	json_t *after = admin_get_config(&N, "client_id", d.cfg.client_id);
	CHECK(before != NULL && after != NULL && json_equal(before, after));
	json_decref(before);
	json_decref(after);
	issued_free(&i);
	device_free(&d);
}

static const cu_test_t issuing_tests[] = {
	{ "tls_loop_issue_login_disable_renew", test_tls_loop_issue_login_disable_renew },
	{ "challenge_mode_rsa_key", test_challenge_mode_rsa_key },
	{ "stored_certificate_listed_by_expiry", test_stored_certificate_listed_by_expiry },
	{ "bad_csrs_are_invalid_requests", test_bad_csrs_are_invalid_requests },
	{ NULL, NULL },
};

static const cu_test_t no_ca_tests[] = {
	{ "csr_without_ca_is_invalid_request", test_csr_without_ca_is_invalid_request },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("issuing CA", suite_init, suite_clean, issuing_tests);
	cu_add_suite("no CA", no_ca_init, no_ca_clean, no_ca_tests);
	return cu_run("test_cert_issue");
}
