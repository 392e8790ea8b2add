/*
 * The reference device client, tools/mosquitto_bootstrap_device, as built
 * by make, run against a real broker with the plugin: each mode over MQTT
 * v5 and 3.1.1, over TCP and TLS (with and without a client certificate),
 * its --out-dir files and their modes, and its exit status for each
 * outcome. What it prints is checked against the config the admin made.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "tool_run.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEVICE_BIN ((char *)device_bin())
#define CONTENT "{\"interval\": 30}"
#define MAX_FAILURES 3

/* The exit statuses documented in the client's --help. */
enum { ST_OK = 0, ST_USAGE = 2, ST_CONN = 3, ST_UNAUTHORIZED = 5,
	ST_DISABLED = 6, ST_RATE_LIMITED = 7 };

static broker_t B;
static int cert_port;           /* TLS requiring a client certificate */

/* ---- the broker ------------------------------------------------------- */

/*
 * The harness's TLS listener (b->tls_port) loses its client-certificate
 * requirement, so that a device needs only the CA (--cafile); a second TLS
 * listener, on cert_port, keeps it.
 */
static int write_tls_listeners(void)
{
	char ca[IT_PATH_MAX];

	if (broker_path(&B, "ca.pem", ca, sizeof(ca)) != 0)
		return -1;
	return broker_add_cert_listener(&B, ca, &cert_port);
}

static int suite_init(void)
{
	char extra[64];

	snprintf(extra, sizeof extra, "plugin_opt_max_failures %d\n", MAX_FAILURES);
	if (broker_prepare(&B, extra, BROKER_TLS) != 0)
		return -1;
	if (write_tls_listeners() != 0 ||
			make_signed_cert(B.dir, "ca", "device", "device-cn", NULL, NULL) != 0 ||
			broker_launch(&B) != 0) {
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

/* ---- running the client ----------------------------------------------- */

/*
 * The client against 127.0.0.1:port with -W 5 and the further arguments
 * (NULL-terminated); in goes to its stdin.
 */
static run_t device(int port, const char *in, ...)
{
	char portbuf[16];
	char *argv[TOOL_MAX_ARGS] = { DEVICE_BIN, "-h", "127.0.0.1", "-p", portbuf, "-W", "5" };
	va_list ap;

	snprintf(portbuf, sizeof portbuf, "%d", port);
	va_start(ap, in);
	const char *first = va_arg(ap, const char *);
	run_t r = run_tool(argv, 7, in, first, ap);
	va_end(ap);
	if (r.status != 0 && r.err != NULL)
		fprintf(stderr, "[device client, exit %d] %s", r.status, r.err);
	return r;
}

/* The key of cfg in a file of the broker's directory: its path. */
static char *key_file(const boot_cfg_t *cfg)
{
	char name[300], *path = malloc(IT_PATH_MAX);

	snprintf(name, sizeof name, "%s.key", cfg->external_id);
	if (path == NULL || broker_path(&B, name, path, IT_PATH_MAX) != 0 ||
			write_file_text(path, cfg->external_key) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* A new enabled config with CONTENT on one channel. */
static int new_config(const char *prefix, bool enable, boot_cfg_t *cfg)
{
	char *ext = unique_name(prefix);
	json_t *extra = json_pack("{ss}", "content", CONTENT);
	int rc = ext != NULL && extra != NULL ? make_config(&B, ext, extra, enable, cfg) : -1;

	json_decref(extra);
	free(ext);
	return rc;
}

/* What a device needs, printed as JSON: the config's own values. */
static void check_printed(const run_t *r, const boot_cfg_t *cfg)
{
	json_t *got = r->out != NULL ? json_loads(r->out, 0, NULL) : NULL;
	json_t *channels = json_object_get(got, "channels");

	CHECK(r->status == ST_OK);
	if (!CHECK(got != NULL))
		return;
	CHECK_STR(jstr(got, "client_id"), cfg->client_id);
	CHECK_STR(jstr(got, "client_secret"), cfg->client_secret);
	CHECK_STR(jstr(got, "content"), CONTENT);
	CHECK(json_array_size(channels) == 1);
	CHECK_STR(jstr(json_array_get(channels, 0), "id"), cfg->channel_id);
	CHECK(json_object_get(got, "id") == NULL);
	json_decref(got);
}

/* One bootstrap in mode over version, by TCP or TLS, the key from a file. */
static void bootstrap_case(const char *mode, const char *version, bool tls)
{
	boot_cfg_t cfg;
	char *keyf = NULL, *ca = path_in(B.dir, "ca.pem");
	run_t r;

	if (!CHECK(new_config("devcli", true, &cfg) == 0))
		goto out;
	if (!CHECK((keyf = key_file(&cfg)) != NULL))
		goto out_cfg;
	r = tls ? device(B.tls_port, NULL, "--cafile", ca, "-V", version, "--mode", mode,
			"-E", cfg.external_id, "--key-file", keyf, NULL)
		: device(B.port, NULL, "-V", version, "--mode", mode,
			"-E", cfg.external_id, "--key-file", keyf, NULL);
	check_printed(&r, &cfg);
	run_free(&r);
out_cfg:
	boot_cfg_free(&cfg);
out:
	free(keyf);
	free(ca);
}

/* ---- each mode, each version, each transport ------------------------- */

static void test_plain_v5(void) { bootstrap_case("plain", "5", false); }
static void test_plain_v311(void) { bootstrap_case("plain", "311", false); }
static void test_encrypt_v5(void) { bootstrap_case("encrypt", "mqttv5", false); }
static void test_encrypt_v311(void) { bootstrap_case("encrypt", "mqttv311", false); }
static void test_challenge_v5(void) { bootstrap_case("challenge", "5", false); }
static void test_challenge_v311(void) { bootstrap_case("challenge", "311", false); }
static void test_tls_plain_v5(void) { bootstrap_case("plain", "5", true); }
static void test_tls_plain_v311(void) { bootstrap_case("plain", "311", true); }
static void test_tls_encrypt_v5(void) { bootstrap_case("encrypt", "5", true); }
static void test_tls_challenge_v311(void) { bootstrap_case("challenge", "311", true); }

/* A listener requiring a client certificate lets the device in with
 * --cert/--key, and not without them. */
static void test_tls_client_certificate(void)
{
	boot_cfg_t cfg;
	char *ca = path_in(B.dir, "ca.pem"), *crt = path_in(B.dir, "device.pem"),
	     *key = path_in(B.dir, "device.key");
	run_t r;

	if (!CHECK(new_config("devcert", true, &cfg) == 0))
		goto out;
	r = device(cert_port, cfg.external_key, "--cafile", ca, "--cert", crt,
			"--key", key, "-E", cfg.external_id, "--key-file", "-", NULL);
	check_printed(&r, &cfg);
	run_free(&r);
	r = device(cert_port, cfg.external_key, "--cafile", ca,
			"-E", cfg.external_id, "--key-file", "-", NULL);
	CHECK(r.status == ST_CONN);
	CHECK(r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	boot_cfg_free(&cfg);
out:
	free(key);
	free(crt);
	free(ca);
}

/* The key given as -K, and the default mode (encrypt) and version. */
static void test_key_on_the_command_line(void)
{
	boot_cfg_t cfg;
	run_t r;

	if (!CHECK(new_config("devarg", true, &cfg) == 0))
		return;
	r = device(B.port, NULL, "-E", cfg.external_id, "-K", cfg.external_key, NULL);
	check_printed(&r, &cfg);
	CHECK(r.out != NULL && strstr(r.out, cfg.external_key) == NULL);
	run_free(&r);
	boot_cfg_free(&cfg);
}

/* ---- --out-dir -------------------------------------------------------- */

static mode_t mode_of(const char *dir, const char *name)
{
	char *p = path_in(dir, name);
	struct stat st;
	mode_t m = p != NULL && stat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;

	free(p);
	return m;
}

static char *text_of(const char *dir, const char *name)
{
	char *p = path_in(dir, name), *t = p != NULL ? read_file_text(p, NULL) : NULL;

	free(p);
	return t;
}

static void check_file(const char *dir, const char *name, const char *want,
		mode_t mode)
{
	char *got = text_of(dir, name);

	CHECK_STR(got, want);
	if (!CHECK(mode_of(dir, name) == mode))
		fprintf(stderr, "%s: mode %o, want %o\n", name, mode_of(dir, name), mode);
	free(got);
}

/* Each field in its own file, secrets 0600, in a new 0700 directory; a
 * second bootstrap after the certificates were cleared removes theirs. */
static void test_out_dir_files_and_modes(void)
{
	boot_cfg_t cfg;
	char *cert = NULL, *key = NULL, *dir = unique_name("/tmp/bs-it-out");
	json_t *extra = NULL, *channels = NULL;
	run_t r;

	if (!CHECK(dir != NULL && make_cert(B.dir, "outdir", &cert, &key) == 0))
		goto out;
	extra = json_pack("{ss ss ss ss}", "content", CONTENT, "client_cert", cert,
			"client_key", key, "ca_cert", cert);
	char *ext = unique_name("devout");
	int made = make_config(&B, ext, extra, true, &cfg);
	free(ext);
	if (!CHECK(made == 0))
		goto out;
	r = device(B.port, NULL, "--mode", "challenge", "-E", cfg.external_id,
			"-K", cfg.external_key, "--out-dir", dir, NULL);
	CHECK(r.status == ST_OK);
	CHECK(r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	CHECK(mode_of(dir, ".") == 0700);
	check_file(dir, "client_id", cfg.client_id, 0644);
	check_file(dir, "client_secret", cfg.client_secret, 0600);
	check_file(dir, "content", CONTENT, 0644);
	check_file(dir, "client_cert.pem", cert, 0644);
	check_file(dir, "client_key.pem", key, 0600);
	check_file(dir, "ca_cert.pem", cert, 0644);
	char *ch = text_of(dir, "channels.json");
	channels = ch != NULL ? json_loads(ch, 0, NULL) : NULL;
	free(ch);
	CHECK(json_array_size(channels) == 1);
	CHECK_STR(jstr(json_array_get(channels, 0), "id"), cfg.channel_id);

	json_t *data = admin_ok_take(&B, json_pack("{ss ss sn sn}", "command",
				"modifyConfig", "client_id", cfg.client_id, "client_cert",
				"client_key"));
	CHECK(data != NULL);
	json_decref(data);
	r = device(B.port, NULL, "-E", cfg.external_id, "-K", cfg.external_key,
			"--out-dir", dir, NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	CHECK(mode_of(dir, "client_cert.pem") == (mode_t)-1);
	CHECK(mode_of(dir, "client_key.pem") == (mode_t)-1);
	check_file(dir, "ca_cert.pem", cert, 0644);
	check_file(dir, "client_secret", cfg.client_secret, 0600);
	boot_cfg_free(&cfg);
out:
	if (dir != NULL) {
		char *rm[] = { "rm", "-rf", dir, NULL };
		run_quiet(rm);
	}
	json_decref(channels);
	json_decref(extra);
	free(cert);
	free(key);
	free(dir);
}

/* ---- refusals --------------------------------------------------------- */

/* A wrong key: the unauthorized status, no secret anywhere, no files, and
 * the key given is not echoed. */
static void wrong_key(const char *mode)
{
	static const char wrong[] = "not-the-key-1234";
	boot_cfg_t cfg;
	char *dir = unique_name("/tmp/bs-it-out");
	run_t r;

	if (!CHECK(dir != NULL && new_config("devbad", true, &cfg) == 0))
		goto out;
	r = device(B.port, NULL, "--mode", mode, "-E", cfg.external_id, "-K", wrong,
			"--out-dir", dir, NULL);
	CHECK(r.status == ST_UNAUTHORIZED);
	CHECK(r.err != NULL && strstr(r.err, "unauthorized") != NULL);
	CHECK(r.err != NULL && strstr(r.err, wrong) == NULL);
	CHECK(r.out != NULL && r.out[0] == '\0');
	CHECK(mode_of(dir, "client_secret") == (mode_t)-1);
	CHECK(mode_of(dir, "client_id") == (mode_t)-1);
	run_free(&r);
	boot_cfg_free(&cfg);
out:
	if (dir != NULL)
		rmdir(dir);
	free(dir);
}

static void test_wrong_key_plain(void) { wrong_key("plain"); }
static void test_wrong_key_encrypt(void) { wrong_key("encrypt"); }
static void test_wrong_key_challenge(void) { wrong_key("challenge"); }

static void test_disabled_config(void)
{
	boot_cfg_t cfg;
	run_t r;

	if (!CHECK(new_config("devoff", false, &cfg) == 0))
		return;
	r = device(B.port, NULL, "-E", cfg.external_id, "-K", cfg.external_key, NULL);
	CHECK(r.status == ST_DISABLED);
	CHECK(r.err != NULL && strstr(r.err, "disabled") != NULL);
	CHECK(r.out != NULL && strstr(r.out, cfg.client_secret) == NULL);
	run_free(&r);
	boot_cfg_free(&cfg);
}

/* After MAX_FAILURES wrong keys, even the right one is rate_limited, and
 * the client says when to retry. */
static void test_rate_limited_says_when_to_retry(void)
{
	boot_cfg_t cfg;
	run_t r;

	if (!CHECK(new_config("devlock", true, &cfg) == 0))
		return;
	for (int i = 0; i < MAX_FAILURES; i++) {
		r = device(B.port, NULL, "--mode", "plain", "-E", cfg.external_id,
				"-K", "wrong-key-5678", NULL);
		CHECK(r.status == ST_UNAUTHORIZED);
		run_free(&r);
	}
	r = device(B.port, NULL, "-E", cfg.external_id, "-K", cfg.external_key, NULL);
	CHECK(r.status == ST_RATE_LIMITED);
	CHECK(r.err != NULL && strstr(r.err, "rate_limited") != NULL &&
			strstr(r.err, "retry after") != NULL);
	run_free(&r);
	boot_cfg_free(&cfg);
}

/* ---- usage and connection --------------------------------------------- */

static void expect_usage(int port, const char *in, const char *a, const char *b,
		const char *c, const char *d)
{
	run_t r = device(port, in, a, b, c, d, NULL);

	CHECK(r.status == ST_USAGE);
	CHECK(r.err != NULL && strstr(r.err, "--help") != NULL);
	run_free(&r);
}

static void test_bad_usage(void)
{
	expect_usage(B.port, NULL, "-K", "key-12345678", NULL, NULL);   /* no -E */
	expect_usage(B.port, NULL, "-E", "dev-1", NULL, NULL);          /* no key */
	expect_usage(B.port, NULL, "-E", "dev-1", "-K", "short");
	expect_usage(B.port, NULL, "-E", "a/b", "-K", "key-12345678");
	expect_usage(B.port, NULL, "-E", "dev-1", "--mode", "loud");
	expect_usage(B.port, NULL, "-E", "dev-1", "-V", "7");
	expect_usage(B.port, NULL, "-E", "dev-1", "extra-argument", NULL);

	run_t r = device(B.port, NULL, "-E", "dev-1", "--key-file", "/nonexistent/k", NULL);
	CHECK(r.status == ST_USAGE);
	CHECK(r.err != NULL && strstr(r.err, "cannot read the key file") != NULL);
	run_free(&r);

	/* A mistyped option's value (perhaps a key) is not echoed. */
	r = device(B.port, NULL, "-E", "dev-1", "--externl-key=hush-12345678", NULL);
	CHECK(r.status == ST_USAGE);
	CHECK(r.err != NULL && strstr(r.err, "hush-12345678") == NULL);
	run_free(&r);

	r = device(B.port, NULL, "--help", NULL);
	CHECK(r.status == ST_OK);
	CHECK(r.out != NULL && strstr(r.out, "Exit status") != NULL);
	run_free(&r);
}

/* Nothing listening, a peer that never answers (within -W), a broker
 * that refuses the request: the connection status, each said clearly. */
static void test_no_connection_or_no_answer(void)
{
	int port = it_free_port(), quiet_port = 0, s;
	run_t r = device(port, NULL, "-E", "dev-1", "-K", "key-12345678", NULL);

	CHECK(r.status == ST_CONN);
	CHECK(r.err != NULL && strstr(r.err, "Connection refused") != NULL);
	run_free(&r);
	if (CHECK((s = silent_listener(&quiet_port)) >= 0)) {
		r = device(quiet_port, NULL, "-E", "dev-1", "-K", "key-12345678",
				"-W", "1", NULL);
		CHECK(r.status == ST_CONN);
		CHECK(r.err != NULL && strstr(r.err, "within 1 s") != NULL);
		run_free(&r);
		close(s);
	}
	/* No ACL source lets anyone publish outside the plugin's topics. */
	r = device(B.port, NULL, "-E", "dev-1", "-K", "key-12345678",
			"--topic-prefix", "elsewhere", NULL);
	CHECK(r.status == ST_CONN);
	CHECK(r.err != NULL && strstr(r.err, "refused the request") != NULL);
	run_free(&r);
}

/* A broker whose certificate the CA given did not sign is not trusted. */
static void test_tls_wrong_ca(void)
{
	char *other = path_in(B.dir, "other.pem");
	run_t r;

	if (!CHECK(other != NULL && make_ca(B.dir, "other") == 0))
		goto out;
	r = device(B.tls_port, NULL, "--cafile", other, "-E", "dev-1",
			"-K", "key-12345678", NULL);
	CHECK(r.status == ST_CONN);
	CHECK(r.err != NULL && strstr(r.err, "certificate verify failed") != NULL);
	run_free(&r);
out:
	free(other);
}

/* ---- registration ----------------------------------------------------- */

static const cu_test_t tests[] = {
	{ "plain_v5", test_plain_v5 },
	{ "plain_v311", test_plain_v311 },
	{ "encrypt_v5", test_encrypt_v5 },
	{ "encrypt_v311", test_encrypt_v311 },
	{ "challenge_v5", test_challenge_v5 },
	{ "challenge_v311", test_challenge_v311 },
	{ "tls_plain_v5", test_tls_plain_v5 },
	{ "tls_plain_v311", test_tls_plain_v311 },
	{ "tls_encrypt_v5", test_tls_encrypt_v5 },
	{ "tls_challenge_v311", test_tls_challenge_v311 },
	{ "tls_client_certificate", test_tls_client_certificate },
	{ "key_on_the_command_line", test_key_on_the_command_line },
	{ "out_dir_files_and_modes", test_out_dir_files_and_modes },
	{ "wrong_key_plain", test_wrong_key_plain },
	{ "wrong_key_encrypt", test_wrong_key_encrypt },
	{ "wrong_key_challenge", test_wrong_key_challenge },
	{ "disabled_config", test_disabled_config },
	{ "rate_limited_says_when_to_retry", test_rate_limited_says_when_to_retry },
	{ "bad_usage", test_bad_usage },
	{ "no_connection_or_no_answer", test_no_connection_or_no_answer },
	{ "tls_wrong_ca", test_tls_wrong_ca },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("device client", suite_init, suite_clean, tests);
	return cu_run("test_device_client");
}
