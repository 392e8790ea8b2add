/*
 * Unit tests of lib/device.c: the device bootstrap of protocol section 3,
 * driven through bs_device_handle on a real store in a temporary directory,
 * with configs made through bs_admin_handle.
 */
#include "admin.h"
#include "core.h"
#include "cu_main.h"
#include "tmpdir.h"
#include "device.h"
#include "error.h"
#include "model.h"
#include "options.h"
#include "sealed.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}
/* A payload literal and its length, NUL bytes inside included. */
#define P(s) s, sizeof(s) - 1

#define EXT "dev-1"
#define KEY "key-12345678"
#define WRONG_KEY "wrong-key-123"
#define CID "cid-1"
#define SECRET "client-secret-1"
#define CONTENT "{\"interval\": 30}"
#define RES_DEV "bootstrap/res/" EXT
#define RES "bootstrap/res"
#define GOOD_REQ "{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\",\"id\":\"r1\"}"
#define NOW ((time_t)1767323045)
#define MAX_FILE 65536

/* Compares two strings, either may be NULL, and says which differed. */
#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	bool same_ = g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0; \
	CU_ASSERT_TRUE(same_); \
	if (!same_) \
		fprintf(stderr, "\n    %s: got \"%s\", want \"%s\"\n", #got, \
				g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

typedef struct {
	char dir[32];
	bs_core_t *core;
	bs_reply_t reply;
	json_t *json;           /* the last reply, parsed */
	time_t now;             /* what the next request's context carries */
	const char *address;    /* and its client address (NULL: 192.0.2.7) */
	bool open;
} fixture_t;

static fixture_t fx;

/* ---- fixture ------------------------------------------------------------ */

static void forget_reply(void)
{
	bs_reply_free(&fx.reply);
	json_decref(fx.json);
	fx.json = NULL;
}

/* Closes what the last test left open (a fatal assert skips its end). */
static void fx_close(void)
{
	if (!fx.open)
		return;
	forget_reply();
	bs_core_close(fx.core);
	fx.core = NULL;
	tmpdir_remove(fx.dir);
	fx.open = false;
}

static int suite_clean(void)
{
	fx_close();
	return 0;
}

static void set_opt(bs_options_t *o, const char *name, const char *value)
{
	char err[256];
	int rc = bs_options_set(o, name, value, err, sizeof err);

	if (rc != BS_OK)
		fprintf(stderr, "\n    %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, BS_OK);
}

static const char *in_dir(const char *name)
{
	static char path[128];

	snprintf(path, sizeof path, "%s/%s", fx.dir, name);
	return path;
}

/* A fresh directory, store and core; name/value is one extra option. */
static void fx_open_with(const char *name, const char *value)
{
	bs_options_t o;
	char err[256];
	int rc;

	fx_close();
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "%s", "/tmp/bs-unit-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(fx.dir) != NULL);
	fx.open = true;
	fx.now = NOW;
	CU_ASSERT_EQUAL_FATAL(bs_options_init(&o), BS_OK);
	set_opt(&o, "db_path", in_dir("bootstrap.db"));
	set_opt(&o, "key_file", in_dir("bootstrap.key"));
	if (name != NULL)
		set_opt(&o, name, value);
	rc = bs_options_finish(&o, err, sizeof err);
	if (rc == BS_OK)
		rc = bs_core_open(&o, NULL, NULL, &fx.core, err, sizeof err);
	bs_options_free(&o);
	if (rc != BS_OK)
		fprintf(stderr, "\n    cannot open the core: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, BS_OK);
}

static void fx_open(void)
{
	fx_open_with(NULL, NULL);
}

/* ---- admin -------------------------------------------------------------- */

/* Runs a batch of commands (stolen); returns the responses array. */
static json_t *admin_batch(json_t *commands)
{
	bs_admin_ctx_t ctx = { .username = "admin", .client_id = "admin-1",
		.now = fx.now };
	bs_admin_result_t res;
	json_t *batch = json_pack("{s:o}", "commands", commands), *root, *list;
	char *text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
	int rc;

	json_decref(batch);
	CU_ASSERT_FATAL(text != NULL);
	rc = bs_admin_handle(fx.core, &ctx, text, strlen(text), &res);
	free(text);
	CU_ASSERT_EQUAL_FATAL(rc, BS_OK);
	root = json_loadb(res.payload, res.payloadlen, 0, NULL);
	bs_admin_result_free(&res);
	list = json_incref(json_object_get(root, "responses"));
	json_decref(root);
	CU_ASSERT_FATAL(json_is_array(list));
	return list;
}

/* Runs commands that must all succeed; returns the last one's data. */
static json_t *admin_ok(json_t *commands)
{
	json_t *list = admin_batch(commands), *r, *data = NULL;
	size_t i;

	json_array_foreach(list, i, r) {
		json_t *e = json_object_get(r, "error");
		CU_ASSERT_PTR_NULL(e);
		if (e != NULL)
			fprintf(stderr, "\n    admin %s: %s: %s\n",
					json_string_value(json_object_get(r, "command")),
					json_string_value(e),
					json_string_value(json_object_get(r, "message")));
		data = json_object_get(r, "data");
	}
	json_incref(data);
	json_decref(list);
	return data;
}

static void admin_ok_quiet(json_t *commands)
{
	json_decref(admin_ok(commands));
}

static json_t *cmd_channel(const char *id, const char *name)
{
	return json_pack("{s:s, s:s, s:s, s:{s:s}}", "command", "createChannel",
			"id", id, "name", name, "metadata", "unit", "C");
}

static json_t *cmd_state(const char *command, const char *client_id)
{
	return json_pack("{s:s, s:s}", "command", command, "client_id", client_id);
}

/* createConfig for CID/EXT/KEY; extra (stolen, may be NULL) adds fields. */
static json_t *cmd_config(json_t *extra)
{
	json_t *cmd = json_pack("{s:s, s:s, s:s, s:s, s:s}",
			"command", "createConfig", "client_id", CID,
			"client_secret", SECRET, "external_id", EXT, "external_key", KEY);

	CU_ASSERT_FATAL(cmd != NULL);
	if (extra != NULL)
		json_object_update(cmd, extra);
	json_decref(extra);
	return cmd;
}

/* The usual config: one channel, content, enabled. */
static void setup_default(void)
{
	fx_open();
	admin_ok_quiet(json_pack("[o, o, o]", cmd_channel("c1", "telemetry"),
			cmd_config(json_pack("{s:s, s:[s]}", "content", CONTENT,
					"channels", "c1")),
			cmd_state("enableConfig", CID)));
}

/* The config as getConfig shows it (new reference). */
static json_t *get_config(void)
{
	json_t *data = admin_ok(json_pack("[{s:s, s:s}]", "command", "getConfig",
			"client_id", CID));

	CU_ASSERT_FATAL(json_is_object(data));
	return data;
}

/* ---- device requests ---------------------------------------------------- */

static bool contains(const char *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++) {
		if (memcmp(buf + i, needle, n) == 0)
			return true;
	}
	return false;
}

static const char *str_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool has(json_t *obj, const char *key)
{
	return json_object_get(obj, key) != NULL;
}

/* What every reply must be: a JSON object whose error matches err, and
 * never a key a request carried. */
static void check_reply_shape(void)
{
	const bs_reply_t *r = &fx.reply;
	json_error_t jerr;

	CU_ASSERT_FATAL(r->payload != NULL && r->topic != NULL);
	CU_ASSERT_PTR_NULL(memchr(r->payload, '\0', r->payloadlen));
	CU_ASSERT_FALSE(contains(r->payload, r->payloadlen, KEY));
	CU_ASSERT_FALSE(contains(r->payload, r->payloadlen, WRONG_KEY));
	fx.json = json_loadb(r->payload, r->payloadlen, 0, &jerr);
	CU_ASSERT_FATAL(json_is_object(fx.json));
	CU_ASSERT_FALSE(has(fx.json, "external_key"));
	if (r->err == BS_OK) {
		CU_ASSERT_FALSE(has(fx.json, "error"));
		return;
	}
	CHECK_STR(str_at(fx.json, "error"), bs_error_code(r->err));
	CU_ASSERT_TRUE(json_string_length(json_object_get(fx.json, "message")) > 0);
	CU_ASSERT_FALSE(has(fx.json, "client_secret"));
	CU_ASSERT_FALSE(contains(r->payload, r->payloadlen, SECRET));
}

/* Sends payload with a Response Topic (or NULL); the reply is in fx. */
static void ask_on(const char *response_topic, const void *payload, size_t len)
{
	bs_request_ctx_t ctx = { .client_id = "device-1",
		.address = fx.address ? fx.address : "192.0.2.7",
		.response_topic = response_topic, .now = fx.now };

	forget_reply();
	CU_ASSERT_EQUAL_FATAL(bs_device_handle(fx.core, &ctx, payload, len,
				&fx.reply), BS_OK);
	check_reply_shape();
}

static void ask_len(const void *payload, size_t len)
{
	ask_on(NULL, payload, len);
}

static void ask(const char *payload)
{
	ask_on(NULL, payload, strlen(payload));
}

/* The last reply is a success on topic. */
static void expect_success(const char *topic)
{
	CU_ASSERT_EQUAL(fx.reply.err, BS_OK);
	CHECK_STR(fx.reply.topic, topic);
	CHECK_STR(str_at(fx.json, "client_id"), CID);
	CHECK_STR(str_at(fx.json, "client_secret"), SECRET);
	CU_ASSERT_TRUE(json_is_array(json_object_get(fx.json, "channels")));
}

/* The last reply is the error code on topic. */
static void expect_error(const char *code, const char *topic)
{
	CHECK_STR(str_at(fx.json, "error"), code);
	CHECK_STR(fx.reply.topic, topic);
	CU_ASSERT_EQUAL(fx.reply.on_response_topic, 0);
}

/* A request from the parts; NULL leaves a field out. */
static char *request(const char *ext, const char *key, const char *id)
{
	json_t *o = json_object();
	char *text;

	if (ext != NULL)
		json_object_set_new(o, "external_id", json_string(ext));
	if (key != NULL)
		json_object_set_new(o, "external_key", json_string(key));
	if (id != NULL)
		json_object_set_new(o, "id", json_string(id));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	CU_ASSERT_FATAL(text != NULL);
	return text;
}

static void ask_parts(const char *ext, const char *key, const char *id)
{
	char *text = request(ext, key, id);

	ask(text);
	free(text);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	CU_ASSERT_FATAL(s != NULL);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- certificates ------------------------------------------------------- */

/* Runs argv with its output in a log file of the fixture dir. */
static int run_quiet(char *const argv[], const char *log)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, MAX_FILE + 1);
	size_t n = 0;

	if (f != NULL && buf != NULL)
		n = fread(buf, 1, MAX_FILE, f);
	if (f != NULL)
		fclose(f);
	if (buf != NULL && n == 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* A self-signed EC certificate and its key, made in the fixture dir. */
static void make_cert(const char *name, char **cert, char **key)
{
	char cpath[128], kpath[128], subj[64];

	snprintf(cpath, sizeof cpath, "%s/%s.pem", fx.dir, name);
	snprintf(kpath, sizeof kpath, "%s/%s.key", fx.dir, name);
	snprintf(subj, sizeof subj, "/CN=%s", name);
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", kpath, "-out", cpath, "-days", "2", "-subj", subj, NULL };
	CU_ASSERT_EQUAL_FATAL(run_quiet(argv, in_dir("openssl.log")), 0);
	*cert = read_text(cpath);
	*key = read_text(kpath);
	CU_ASSERT_FATAL(*cert != NULL && *key != NULL);
}

/* ---- success ------------------------------------------------------------ */

static void test_success_reply_fields(void)
{
	json_t *chans, *ch;

	setup_default();
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	CU_ASSERT_EQUAL(fx.reply.on_response_topic, 0);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	CHECK_STR(str_at(fx.json, "content"), CONTENT);
	chans = json_object_get(fx.json, "channels");
	CU_ASSERT_FATAL(json_array_size(chans) == 1);
	ch = json_array_get(chans, 0);
	CHECK_STR(str_at(ch, "id"), "c1");
	CHECK_STR(str_at(ch, "name"), "telemetry");
	CHECK_STR(str_at(json_object_get(ch, "metadata"), "unit"), "C");
	CU_ASSERT_EQUAL(json_object_size(ch), 3);
	CU_ASSERT_FALSE(has(fx.json, "client_cert"));
	CU_ASSERT_FALSE(has(fx.json, "client_key"));
	CU_ASSERT_FALSE(has(fx.json, "ca_cert"));
	CU_ASSERT_EQUAL(json_object_size(fx.json), 5);
	fx_close();
}

/* Channels are cached for bootstraps: a change must show at once. */
static void test_channel_changes_show_in_the_next_reply(void)
{
	json_t *chans;

	setup_default();
	admin_ok_quiet(json_pack("[o, {s:s, s:s, s:[s, s]}]", cmd_channel("c2", "alarms"),
			"command", "modifyConfig", "client_id", CID, "channels", "c1", "c2"));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	admin_ok_quiet(json_pack("[{s:s, s:s, s:s, s:{s:s}}]", "command", "modifyChannel",
			"id", "c1", "name", "renamed", "metadata", "unit", "K"));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	chans = json_object_get(fx.json, "channels");
	CU_ASSERT_FATAL(json_array_size(chans) == 2);
	CHECK_STR(str_at(json_array_get(chans, 0), "name"), "renamed");
	CHECK_STR(str_at(json_object_get(json_array_get(chans, 0), "metadata"), "unit"), "K");
	admin_ok_quiet(json_pack("[{s:s, s:s}]", "command", "deleteChannel", "id", "c1"));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	chans = json_object_get(fx.json, "channels");
	CU_ASSERT_FATAL(json_array_size(chans) == 1);
	CHECK_STR(str_at(json_array_get(chans, 0), "id"), "c2");
	fx_close();
}

static void test_success_without_id_has_no_id(void)
{
	setup_default();
	ask_parts(EXT, KEY, NULL);
	expect_success(RES_DEV);
	CU_ASSERT_FALSE(has(fx.json, "id"));
	fx_close();
}

static void test_success_leaves_out_empty_fields(void)
{
	fx_open();
	admin_ok_quiet(json_pack("[o, o]", cmd_config(json_pack("{s:s}",
			"content", "")), cmd_state("enableConfig", CID)));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	CU_ASSERT_FALSE(has(fx.json, "content"));
	CU_ASSERT_FALSE(has(fx.json, "client_cert"));
	CU_ASSERT_FALSE(has(fx.json, "client_key"));
	CU_ASSERT_FALSE(has(fx.json, "ca_cert"));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(fx.json, "channels")), 0);
	CU_ASSERT_EQUAL(json_object_size(fx.json), 4);
	fx_close();
}

static void test_success_carries_certificates(void)
{
	char *cert, *key, *ca, *ca_key;

	fx_open();
	make_cert("device", &cert, &key);
	make_cert("ca", &ca, &ca_key);
	admin_ok_quiet(json_pack("[o, o]", cmd_config(json_pack("{s:s, s:s, s:s}",
			"client_cert", cert, "client_key", key, "ca_cert", ca)),
			cmd_state("enableConfig", CID)));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	CHECK_STR(str_at(fx.json, "client_cert"), cert);
	CHECK_STR(str_at(fx.json, "client_key"), key);
	CHECK_STR(str_at(fx.json, "ca_cert"), ca);
	CU_ASSERT_FALSE(has(fx.json, "content"));
	free(cert);
	free(key);
	free(ca);
	free(ca_key);
	fx_close();
}

static void test_success_only_client_key_and_ca(void)
{
	char *cert, *key;

	fx_open();
	make_cert("device", &cert, &key);
	admin_ok_quiet(json_pack("[o, o]", cmd_config(json_pack("{s:s, s:s}",
			"client_key", key, "ca_cert", cert)),
			cmd_state("enableConfig", CID)));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	CHECK_STR(str_at(fx.json, "client_key"), key);
	CHECK_STR(str_at(fx.json, "ca_cert"), cert);
	CU_ASSERT_FALSE(has(fx.json, "client_cert"));
	free(cert);
	free(key);
	fx_close();
}

static void test_success_sets_last_bootstrap_at(void)
{
	char want[BS_TIME_LEN];
	json_t *cfg;

	setup_default();
	cfg = get_config();
	CU_ASSERT_TRUE(json_is_null(json_object_get(cfg, "last_bootstrap_at")));
	json_decref(cfg);
	fx.now = NOW + 100;
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	bs_time_format(NOW + 100, want);
	cfg = get_config();
	CHECK_STR(str_at(cfg, "last_bootstrap_at"), want);
	CHECK_STR(str_at(cfg, "state"), "enabled");
	json_decref(cfg);
	fx_close();
}

static void test_failure_leaves_last_bootstrap_at(void)
{
	char want[BS_TIME_LEN];
	json_t *cfg;

	setup_default();
	ask(GOOD_REQ);
	fx.now = NOW + 500;
	ask_parts(EXT, WRONG_KEY, NULL);
	expect_error("unauthorized", RES_DEV);
	bs_time_format(NOW, want);
	cfg = get_config();
	CHECK_STR(str_at(cfg, "last_bootstrap_at"), want);
	json_decref(cfg);
	fx_close();
}

static void test_success_repeats(void)
{
	setup_default();
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	fx_close();
}

static void test_encrypt_false_is_a_plain_success(void)
{
	setup_default();
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\",\"encrypt\":false}");
	expect_success(RES_DEV);
	fx_close();
}

static void test_id_of_64_bytes_echoed(void)
{
	char *id = repeat('i', BS_REQ_ID_MAX);

	setup_default();
	ask_parts(EXT, KEY, id);
	expect_success(RES_DEV);
	CHECK_STR(str_at(fx.json, "id"), id);
	free(id);
	fx_close();
}

/* ---- reply topics ------------------------------------------------------- */

static void test_topic_without_external_id(void)
{
	setup_default();
	ask_parts(NULL, KEY, "r1");
	expect_error("invalid_request", RES);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	fx_close();
}

static void test_topic_with_unusable_external_id(void)
{
	static const char *bad[] = { "a/b", "dev+1", "dev#", "" };

	setup_default();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ask_parts(bad[i], KEY, "r1");
		expect_error("invalid_request", RES);
		CHECK_STR(str_at(fx.json, "id"), "r1");
	}
	fx_close();
}

static void test_response_topic_used(void)
{
	setup_default();
	ask_on("devices/dev-1/boot", P(GOOD_REQ));
	expect_success("devices/dev-1/boot");
	CU_ASSERT_EQUAL(fx.reply.on_response_topic, 1);
	ask_on("caf\xc3\xa9/reply", P(GOOD_REQ));
	expect_success("caf\xc3\xa9/reply");
	CU_ASSERT_EQUAL(fx.reply.on_response_topic, 1);
	fx_close();
}

static void test_response_topic_used_for_errors(void)
{
	char *req = request(EXT, WRONG_KEY, "r9");

	setup_default();
	ask_on("devices/dev-1/boot", req, strlen(req));
	CHECK_STR(str_at(fx.json, "error"), "unauthorized");
	CHECK_STR(fx.reply.topic, "devices/dev-1/boot");
	CU_ASSERT_EQUAL(fx.reply.on_response_topic, 1);
	CHECK_STR(str_at(fx.json, "id"), "r9");
	free(req);
	fx_close();
}

static void test_response_topic_invalid(void)
{
	static const char *bad[] = { "a/+", "+", "a/#", "#", "a/+/b", "",
		"bad\xc3", "\xed\xa0\x80" };

	setup_default();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ask_on(bad[i], P(GOOD_REQ));
		expect_error("invalid_request", RES_DEV);
		CHECK_STR(str_at(fx.json, "id"), "r1");
	}
	fx_close();
}

static void test_custom_prefix_reply_topic(void)
{
	fx_open_with("topic_prefix", "acme/boot");
	admin_ok_quiet(json_pack("[o, o]", cmd_config(NULL),
			cmd_state("enableConfig", CID)));
	ask(GOOD_REQ);
	expect_success("acme/boot/res/" EXT);
	ask("[]");
	expect_error("invalid_request", "acme/boot/res");
	fx_close();
}

/* ---- authentication ----------------------------------------------------- */

static void test_unknown_and_wrong_key_identical(void)
{
	char *unknown = request("nobody-here", WRONG_KEY, "r1");
	char *wrong = request(EXT, WRONG_KEY, "r1");
	char *first;
	size_t first_len;

	setup_default();
	ask(unknown);
	expect_error("unauthorized", "bootstrap/res/nobody-here");
	CU_ASSERT_EQUAL(fx.reply.err, BS_ERR_UNAUTHORIZED);
	first_len = fx.reply.payloadlen;
	first = malloc(first_len);
	CU_ASSERT_FATAL(first != NULL);
	memcpy(first, fx.reply.payload, first_len);
	ask(wrong);
	expect_error("unauthorized", RES_DEV);
	CU_ASSERT_EQUAL(fx.reply.payloadlen, first_len);
	CU_ASSERT_TRUE(fx.reply.payloadlen == first_len
			&& memcmp(fx.reply.payload, first, first_len) == 0);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	free(first);
	free(unknown);
	free(wrong);
	fx_close();
}

static void test_near_keys_refused(void)
{
	static const char *near[] = { "key-1234567", "key-123456789", "KEY-12345678",
		"", "key-12345678 " };

	setup_default();
	for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		ask_parts(EXT, near[i], NULL);
		expect_error("unauthorized", RES_DEV);
	}
	fx_close();
}

static void test_disabled_config(void)
{
	fx_open();
	admin_ok_quiet(json_pack("[o]", cmd_config(NULL)));
	ask(GOOD_REQ);
	expect_error("disabled", RES_DEV);
	CU_ASSERT_EQUAL(fx.reply.err, BS_ERR_DISABLED);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	ask_parts(EXT, WRONG_KEY, NULL);
	expect_error("unauthorized", RES_DEV);
	fx_close();
}

static void test_reenabling_works(void)
{
	setup_default();
	admin_ok_quiet(json_pack("[o]", cmd_state("disableConfig", CID)));
	ask(GOOD_REQ);
	expect_error("disabled", RES_DEV);
	admin_ok_quiet(json_pack("[o]", cmd_state("enableConfig", CID)));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	admin_ok_quiet(json_pack("[o]", cmd_state("disableConfig", CID)));
	ask(GOOD_REQ);
	expect_error("disabled", RES_DEV);
	admin_ok_quiet(json_pack("[o]", cmd_state("enableConfig", CID)));
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	fx_close();
}

static void test_deleted_config_unauthorized(void)
{
	setup_default();
	admin_ok_quiet(json_pack("[o]", cmd_state("deleteConfig", CID)));
	ask(GOOD_REQ);
	expect_error("unauthorized", RES_DEV);
	fx_close();
}

static void test_sql_metacharacters_unauthorized(void)
{
	setup_default();
	ask_parts("x' OR '1'='1", KEY, NULL);
	expect_error("unauthorized", "bootstrap/res/x' OR '1'='1");
	ask_parts("dev-1' --", KEY, NULL);
	expect_error("unauthorized", "bootstrap/res/dev-1' --");
	ask_parts("%", KEY, NULL);
	expect_error("unauthorized", "bootstrap/res/%");
	ask_parts(EXT, "' OR '1'='1", NULL);
	expect_error("unauthorized", RES_DEV);
	ask_parts("\"; DROP TABLE configs; --", KEY, NULL);
	expect_error("unauthorized", "bootstrap/res/\"; DROP TABLE configs; --");
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	fx_close();
}

static void test_external_id_of_256_bytes_is_well_formed(void)
{
	char *ext = repeat('e', BS_ID_MAX);
	char topic[300];

	setup_default();
	ask_parts(ext, KEY, NULL);
	snprintf(topic, sizeof topic, "bootstrap/res/%s", ext);
	expect_error("unauthorized", topic);
	free(ext);
	fx_close();
}

/* ---- encrypted replies and challenge mode (protocol 3.1, 3.2) ----------- */

/* The reply key, derived by the openssl command, not by the plugin. */
static void openssl_reply_key(const char *key, const char *ext, uint8_t out[32])
{
	CU_ASSERT_EQUAL_FATAL(sealed_key(key, ext, out), 0);
}

/* The last reply's "encrypted" object opened with key and aad. */
static json_t *open_reply(const uint8_t key[32], const void *aad, size_t aadlen)
{
	return sealed_open(fx.json, key, aad, aadlen);
}

static void test_encrypted_reply_opens_with_a_key_made_by_openssl(void)
{
	uint8_t key[32];
	json_t *plain;

	setup_default();
	openssl_reply_key(KEY, EXT, key);
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\","
			"\"encrypt\":true,\"id\":\"r1\"}");
	CU_ASSERT_EQUAL(fx.reply.err, BS_OK);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	CU_ASSERT_FALSE(has(fx.json, "client_secret"));
	CU_ASSERT_FALSE(contains(fx.reply.payload, fx.reply.payloadlen, SECRET));
	plain = open_reply(key, EXT, strlen(EXT));
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CHECK_STR(str_at(plain, "client_id"), CID);
	CHECK_STR(str_at(plain, "client_secret"), SECRET);
	CHECK_STR(str_at(plain, "content"), CONTENT);
	CU_ASSERT_FALSE(has(plain, "id"));
	json_decref(plain);
	/* The wrong AAD does not open it. */
	CU_ASSERT_PTR_NULL(open_reply(key, "dev-2", 5));
	/* Errors are never encrypted. */
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" WRONG_KEY "\",\"encrypt\":true}");
	expect_error("unauthorized", RES_DEV);
	fx_close();
}

static void test_encrypt_must_be_a_boolean(void)
{
	setup_default();
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\",\"encrypt\":1}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\",\"encrypt\":\"yes\"}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\",\"encrypt\":false}");
	expect_success(RES_DEV);
	fx_close();
}

/* Asks for a nonce for ext; returns it decoded into nonce. */
static void get_nonce(const char *ext, uint8_t nonce[32])
{
	char req[400];
	uint8_t raw[48];
	json_t *n;

	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"op\":\"challenge\",\"id\":\"c1\"}", ext);
	ask(req);
	CU_ASSERT_EQUAL_FATAL(fx.reply.err, BS_OK);
	CHECK_STR(str_at(fx.json, "id"), "c1");
	n = json_object_get(fx.json, "expires_in");
	CU_ASSERT_TRUE(json_is_integer(n) && json_integer_value(n) == 60);
	CU_ASSERT_FATAL(str_at(fx.json, "nonce") != NULL);
	CU_ASSERT_EQUAL_FATAL(strlen(str_at(fx.json, "nonce")), 44);
	/* EVP_DecodeBlock writes the padding's bytes too: 33 for 44 chars. */
	CU_ASSERT_EQUAL_FATAL(sealed_unb64(str_at(fx.json, "nonce"), raw), 32);
	memcpy(nonce, raw, 32);
}

/* Answers nonce for ext with a proof made with key. */
static void answer(const char *ext, const char *key, const uint8_t nonce[32])
{
	char proof[64], nonce64[64], req[512];

	CU_ASSERT_EQUAL_FATAL(sealed_proof(fx.dir, key, nonce, ext, proof), 0);
	EVP_EncodeBlock((unsigned char *)nonce64, nonce, 32);
	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"nonce\":\"%s\","
			"\"proof\":\"%s\",\"id\":\"r2\"}", ext, nonce64, proof);
	ask(req);
}

static void test_challenge_then_proof_bootstraps_sealed(void)
{
	uint8_t nonce[32], key[32], aad[64];
	json_t *plain;

	setup_default();
	get_nonce(EXT, nonce);
	CHECK_STR(fx.reply.topic, RES_DEV);
	answer(EXT, KEY, nonce);
	CU_ASSERT_EQUAL_FATAL(fx.reply.err, BS_OK);
	CHECK_STR(str_at(fx.json, "id"), "r2");
	openssl_reply_key(KEY, EXT, key);
	memcpy(aad, EXT, strlen(EXT));
	memcpy(aad + strlen(EXT), nonce, 32);
	plain = open_reply(key, aad, strlen(EXT) + 32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CHECK_STR(str_at(plain, "client_secret"), SECRET);
	json_decref(plain);
	/* Without the nonce in the AAD (the 3.1 AAD) it does not open. */
	CU_ASSERT_PTR_NULL(open_reply(key, EXT, strlen(EXT)));
	fx_close();
}

static void test_a_nonce_is_used_once_for_its_id_within_its_time(void)
{
	uint8_t nonce[32];

	setup_default();
	get_nonce(EXT, nonce);
	answer(EXT, WRONG_KEY, nonce);
	expect_error("unauthorized", RES_DEV);
	/* Used up by the wrong answer: the right one comes too late. */
	answer(EXT, KEY, nonce);
	expect_error("unauthorized", RES_DEV);
	get_nonce("dev-2", nonce);
	answer(EXT, KEY, nonce);
	expect_error("unauthorized", RES_DEV);
	get_nonce(EXT, nonce);
	fx.now += 60;
	answer(EXT, KEY, nonce);
	expect_error("unauthorized", RES_DEV);
	fx.now = NOW;
	get_nonce(EXT, nonce);
	fx.now += 59;
	answer(EXT, KEY, nonce);
	CU_ASSERT_EQUAL(fx.reply.err, BS_OK);
	answer(EXT, KEY, nonce);
	expect_error("unauthorized", RES_DEV);
	fx_close();
}

/* An unknown ID gets a nonce, and its answer the same refusal, byte for
 * byte, as a wrong proof for a known one. */
static void test_unknown_id_is_indistinguishable_in_challenge_mode(void)
{
	uint8_t nonce[32];
	char *known, *unknown;

	setup_default();
	get_nonce(EXT, nonce);
	answer(EXT, WRONG_KEY, nonce);
	known = strndup(fx.reply.payload, fx.reply.payloadlen);
	get_nonce("nobody", nonce);
	CHECK_STR(fx.reply.topic, "bootstrap/res/nobody");
	answer("nobody", WRONG_KEY, nonce);
	expect_error("unauthorized", "bootstrap/res/nobody");
	unknown = strndup(fx.reply.payload, fx.reply.payloadlen);
	CHECK_STR(unknown, known);
	free(known);
	free(unknown);
	fx_close();
}

static void test_malformed_challenge_requests_are_invalid(void)
{
	setup_default();
	ask("{\"external_id\":\"" EXT "\",\"op\":\"other\"}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"op\":\"challenge\",\"external_key\":\"" KEY "\"}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"nonce\":\"AAAA\",\"proof\":\"AAAA\"}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"nonce\":\"not base64!\",\"proof\":\"AAAA\"}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"proof\":\"AAAA\"}");
	expect_error("invalid_request", RES_DEV);
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\","
			"\"nonce\":\"AAAA\",\"proof\":\"AAAA\"}");
	expect_error("invalid_request", RES_DEV);
	fx_close();
}

/* ---- lockout (protocol section 6) --------------------------------------- */

static void test_failures_lock_the_pair_out_before_any_key_check(void)
{
	json_t *wait;

	setup_default();
	for (int i = 0; i < 5; i++) {
		ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" WRONG_KEY "\"}");
		expect_error("unauthorized", RES_DEV);
	}
	/* Locked: even the right key is refused, and told how long to wait. */
	ask(GOOD_REQ);
	expect_error("rate_limited", RES_DEV);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	wait = json_object_get(fx.json, "retry_after");
	CU_ASSERT_TRUE(json_is_integer(wait) && json_integer_value(wait) == 60);
	ask("{\"external_id\":\"" EXT "\",\"op\":\"challenge\"}");
	expect_error("rate_limited", RES_DEV);
	/* From another address the device bootstraps. */
	fx.address = "192.0.2.8";
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	fx.address = NULL;
	fx.now += 60;
	ask(GOOD_REQ);
	expect_success(RES_DEV);
	fx_close();
}

/* ---- bad input ---------------------------------------------------------- */

typedef struct {
	const char *label;
	const char *payload;
	size_t len;
	const char *topic;
} bad_case_t;

static void run_bad_cases(const bad_case_t *cases, size_t n)
{
	setup_default();
	for (size_t i = 0; i < n; i++) {
		ask_len(cases[i].payload, cases[i].len);
		if (!has(fx.json, "error") || strcmp(fx.reply.topic, cases[i].topic) != 0)
			fprintf(stderr, "\n    case \"%s\":", cases[i].label);
		expect_error("invalid_request", cases[i].topic);
		CU_ASSERT_EQUAL(fx.reply.err, BS_ERR_INVALID);
	}
	fx_close();
}

static void test_not_a_json_object(void)
{
	static const bad_case_t cases[] = {
		{ "truncated", P("{\"external_id\":\"dev-1\","), RES },
		{ "garbage", P("hello"), RES },
		{ "empty", P(""), RES },
		{ "array", P("[\"dev-1\",\"key-12345678\"]"), RES },
		{ "string", P("\"dev-1\""), RES },
		{ "number", P("42"), RES },
		{ "null", P("null"), RES },
		{ "true", P("true"), RES },
		{ "trailing", P(GOOD_REQ " x"), RES },
		{ "two objects", P(GOOD_REQ GOOD_REQ), RES },
		{ "duplicate key", P("{\"external_id\":\"dev-1\",\"external_id\":\"x\","
				"\"external_key\":\"key-12345678\"}"), RES },
	};

	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_bad_external_id(void)
{
	static const bad_case_t cases[] = {
		{ "missing", P("{\"external_key\":\"key-12345678\"}"), RES },
		{ "number", P("{\"external_id\":1,\"external_key\":\"key-12345678\"}"), RES },
		{ "null", P("{\"external_id\":null,\"external_key\":\"key-12345678\"}"), RES },
		{ "array", P("{\"external_id\":[\"dev-1\"],\"external_key\":\"key-12345678\"}"), RES },
		{ "slash", P("{\"external_id\":\"dev/1\",\"external_key\":\"key-12345678\"}"), RES },
		{ "plus", P("{\"external_id\":\"dev+1\",\"external_key\":\"key-12345678\"}"), RES },
		{ "hash", P("{\"external_id\":\"dev#1\",\"external_key\":\"key-12345678\"}"), RES },
		{ "escaped control", P("{\"external_id\":\"dev\\u0001\",\"external_key\":\"key-12345678\"}"), RES },
		{ "newline", P("{\"external_id\":\"dev\\n1\",\"external_key\":\"key-12345678\"}"), RES },
		{ "DEL", P("{\"external_id\":\"dev\\u007f\",\"external_key\":\"key-12345678\"}"), RES },
		{ "raw control", P("{\"external_id\":\"dev\x01\",\"external_key\":\"key-12345678\"}"), RES },
		{ "empty", P("{\"external_id\":\"\",\"external_key\":\"key-12345678\"}"), RES },
	};

	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_external_id_of_257_bytes(void)
{
	char *ext = repeat('e', BS_ID_MAX + 1);

	setup_default();
	ask_parts(ext, KEY, "r1");
	expect_error("invalid_request", RES);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	free(ext);
	fx_close();
}

static void test_bad_external_key(void)
{
	static const bad_case_t cases[] = {
		{ "missing", P("{\"external_id\":\"dev-1\",\"id\":\"r1\"}"), RES_DEV },
		{ "number", P("{\"external_id\":\"dev-1\",\"external_key\":12345678}"), RES_DEV },
		{ "null", P("{\"external_id\":\"dev-1\",\"external_key\":null}"), RES_DEV },
		{ "object", P("{\"external_id\":\"dev-1\",\"external_key\":{}}"), RES_DEV },
	};

	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_external_key_of_257_bytes(void)
{
	char *key = repeat('k', BS_KEY_MAX + 1);

	setup_default();
	ask_parts(EXT, key, "r1");
	expect_error("invalid_request", RES_DEV);
	CHECK_STR(str_at(fx.json, "id"), "r1");
	CU_ASSERT_FALSE(contains(fx.reply.payload, fx.reply.payloadlen, key));
	free(key);
	fx_close();
}

/* A bad id: the external_id is still usable, so the reply goes to it. */
static void test_bad_id(void)
{
	static const bad_case_t cases[] = {
		{ "number", P("{\"external_id\":\"dev-1\",\"external_key\":\"key-12345678\",\"id\":1}"), RES_DEV },
		{ "object", P("{\"external_id\":\"dev-1\",\"external_key\":\"key-12345678\",\"id\":{}}"), RES_DEV },
	};

	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_id_of_65_bytes(void)
{
	char *id = repeat('i', BS_REQ_ID_MAX + 1);

	setup_default();
	ask_parts(EXT, KEY, id);
	expect_error("invalid_request", RES_DEV);
	CU_ASSERT_FALSE(has(fx.json, "id"));
	CU_ASSERT_FALSE(has(fx.json, "client_secret"));
	free(id);
	fx_close();
}

static void test_bad_bytes(void)
{
	static const bad_case_t cases[] = {
		{ "invalid UTF-8", P("{\"external_id\":\"dev-\xff\",\"external_key\":\"key-12345678\"}"), RES },
		{ "overlong UTF-8", P("{\"external_id\":\"dev-\xc0\xaf\",\"external_key\":\"key-12345678\"}"), RES },
		{ "surrogate UTF-8", P("{\"external_id\":\"dev-\xed\xa0\x80\",\"external_key\":\"key-12345678\"}"), RES },
		{ "truncated UTF-8", P("{\"external_id\":\"dev-1\",\"external_key\":\"key-12345678\xc3\"}"), RES },
		{ "NUL in string", P("{\"external_id\":\"dev\0-1\",\"external_key\":\"key-12345678\"}"), RES },
		{ "NUL after object", P(GOOD_REQ "\0"), RES },
		{ "NUL first", P("\0" GOOD_REQ), RES },
		{ "escaped NUL in id", P("{\"external_id\":\"dev\\u0000-1\",\"external_key\":\"key-12345678\"}"), RES },
		{ "escaped NUL in key", P("{\"external_id\":\"dev-1\",\"external_key\":\"key-1234\\u00005678\"}"), RES },
		{ "escaped NUL in request id", P("{\"external_id\":\"dev-1\",\"external_key\":\"key-12345678\",\"id\":\"r\\u00001\"}"), RES },
		{ "lone surrogate escape", P("{\"external_id\":\"dev\\ud800\",\"external_key\":\"key-12345678\"}"), RES },
	};

	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_empty_payload_without_buffer(void)
{
	setup_default();
	ask_len(NULL, 0);
	expect_error("invalid_request", RES);
	fx_close();
}

/* depth brackets, optionally inside {"external_id": ...}. */
static char *nested(size_t depth, bool in_object)
{
	const char *head = in_object ? "{\"external_id\":" : "";
	size_t hlen = strlen(head);
	char *s = malloc(hlen + depth + 1);

	CU_ASSERT_FATAL(s != NULL);
	memcpy(s, head, hlen);
	memset(s + hlen, '[', depth);
	s[hlen + depth] = '\0';
	return s;
}

static void test_deep_nesting(void)
{
	char *bare = nested(10000, false), *inner = nested(10000, true);

	setup_default();
	ask(bare);
	expect_error("invalid_request", RES);
	ask(inner);
	expect_error("invalid_request", RES);
	free(bare);
	free(inner);
	fx_close();
}

/* GOOD_REQ padded with spaces to exactly len bytes. */
static char *padded(size_t len)
{
	size_t base = strlen(GOOD_REQ);
	char *s = malloc(len + 1);

	CU_ASSERT_FATAL(s != NULL && len >= base);
	s[0] = '{';
	memset(s + 1, ' ', len - base);
	memcpy(s + 1 + len - base, GOOD_REQ + 1, base - 1);
	s[len] = '\0';
	return s;
}

static void test_max_request_bytes(void)
{
	char *at = padded(256), *over = padded(257), *far = padded(300);

	fx_open_with("max_request_bytes", "256");
	admin_ok_quiet(json_pack("[o, o]", cmd_config(NULL),
			cmd_state("enableConfig", CID)));
	ask(at);
	expect_success(RES_DEV);
	ask(over);
	expect_error("invalid_request", RES);
	ask(far);
	expect_error("invalid_request", RES);
	free(at);
	free(over);
	free(far);
	fx_close();
}

static void test_default_max_request_bytes(void)
{
	char *big = padded(16385), *at = padded(16384);

	setup_default();
	ask(big);
	expect_error("invalid_request", RES);
	ask(at);
	expect_success(RES_DEV);
	free(big);
	free(at);
	fx_close();
}

static void test_id_echoed_in_errors(void)
{
	setup_default();
	ask_parts("nobody", WRONG_KEY, "e1");
	CHECK_STR(str_at(fx.json, "id"), "e1");
	ask("{\"external_id\":\"dev-1\",\"id\":\"e2\"}");
	CHECK_STR(str_at(fx.json, "id"), "e2");
	ask("{\"external_id\":\"a/b\",\"external_key\":\"" KEY "\",\"id\":\"e3\"}");
	CHECK_STR(str_at(fx.json, "id"), "e3");
	ask("{\"external_id\":\"" EXT "\",\"external_key\":\"" KEY "\","
			"\"encrypt\":true,\"id\":\"e4\"}");
	CHECK_STR(str_at(fx.json, "id"), "e4");
	ask_parts("nobody", WRONG_KEY, NULL);
	CU_ASSERT_FALSE(has(fx.json, "id"));
	fx_close();
}

int main(void)
{
	static const cu_test_t success_tests[] = {
		T(test_success_reply_fields),
		T(test_success_without_id_has_no_id),
		T(test_success_leaves_out_empty_fields),
		T(test_success_carries_certificates),
		T(test_success_only_client_key_and_ca),
		T(test_success_sets_last_bootstrap_at),
		T(test_failure_leaves_last_bootstrap_at),
		T(test_success_repeats),
		T(test_channel_changes_show_in_the_next_reply),
		T(test_encrypt_false_is_a_plain_success),
		T(test_id_of_64_bytes_echoed),
		{ NULL, NULL }
	};
	static const cu_test_t topic_tests[] = {
		T(test_topic_without_external_id),
		T(test_topic_with_unusable_external_id),
		T(test_response_topic_used),
		T(test_response_topic_used_for_errors),
		T(test_response_topic_invalid),
		T(test_custom_prefix_reply_topic),
		{ NULL, NULL }
	};
	static const cu_test_t auth_tests[] = {
		T(test_unknown_and_wrong_key_identical),
		T(test_near_keys_refused),
		T(test_disabled_config),
		T(test_reenabling_works),
		T(test_deleted_config_unauthorized),
		T(test_sql_metacharacters_unauthorized),
		T(test_external_id_of_256_bytes_is_well_formed),
		T(test_encrypted_reply_opens_with_a_key_made_by_openssl),
		T(test_encrypt_must_be_a_boolean),
		T(test_challenge_then_proof_bootstraps_sealed),
		T(test_a_nonce_is_used_once_for_its_id_within_its_time),
		T(test_unknown_id_is_indistinguishable_in_challenge_mode),
		T(test_malformed_challenge_requests_are_invalid),
		T(test_failures_lock_the_pair_out_before_any_key_check),
		{ NULL, NULL }
	};
	static const cu_test_t bad_tests[] = {
		T(test_not_a_json_object),
		T(test_bad_external_id),
		T(test_external_id_of_257_bytes),
		T(test_bad_external_key),
		T(test_external_key_of_257_bytes),
		T(test_bad_id),
		T(test_id_of_65_bytes),
		T(test_bad_bytes),
		T(test_empty_payload_without_buffer),
		T(test_deep_nesting),
		T(test_max_request_bytes),
		T(test_default_max_request_bytes),
		T(test_id_echoed_in_errors),
		{ NULL, NULL }
	};

	cu_add_suite("success", NULL, suite_clean, success_tests);
	cu_add_suite("reply topics", NULL, suite_clean, topic_tests);
	cu_add_suite("authentication", NULL, suite_clean, auth_tests);
	cu_add_suite("bad input", NULL, suite_clean, bad_tests);
	return cu_run("device");
}
