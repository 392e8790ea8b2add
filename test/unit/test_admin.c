/*
 * Unit tests of the admin protocol (section 4) through bs_admin_handle:
 * channels, configs, input checks, batches, kicks, the audit log and the
 * certificate checks. Each test runs on a fresh database in its own
 * temporary directory; certificate material is made with openssl there.
 */
#include "admin.h"
#include "core.h"
#include "admin_env.h"
#include "cu_main.h"
#include "store_sqlite.h"
#include "error.h"
#include "options.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}

#define MAX_FILE 65536
#define T0_TEXT "2023-11-14T22:13:20Z"
#define T1 ((time_t)1700000600)
#define T1_TEXT "2023-11-14T22:23:20Z"
#define T2 ((time_t)1700001200)
#define T2_TEXT "2023-11-14T22:33:20Z"
#define GIVEN_KEY "ek-given-0123456789abcdef"
#define GIVEN_SECRET "cs-given-fedcba9876543210"

/* ---- environment -------------------------------------------------------- */

/* Frees p when the environment closes; returns p. */

/* A fresh directory and database; the admin is "admin" on "admin-cli". */

/* ---- running commands --------------------------------------------------- */

/* Runs a raw payload; returns the responses array (owned by env). */

/* Runs {"commands": cmds} (cmds is stolen). */

/* Runs one command (stolen); returns its response, the only one. */

/* The data of a successful response (NULL, with a failure, otherwise). */

static json_t *get_config(const char *field, const char *value)
{
	return run1(json_pack("{s:s, s:s}", "command", "getConfig", field, value));
}

/* createConfig with a client_id, an external_id and a given key. */
static json_t *create_config(const char *client_id, const char *external_id)
{
	return run1(json_pack("{s:s, s:s, s:s, s:s}", "command", "createConfig",
			"client_id", client_id, "external_id", external_id,
			"external_key", GIVEN_KEY));
}

/* ---- looking at the store and the log ----------------------------------- */

/* Row counts and state of the whole store, as one comparable string. */

/* The plugin holds its database exclusively while it is open, so raw
 * checks go through its own connection then, and open the file otherwise. */

static void snapshot(char *out, size_t outlen)
{
	static const char sql[] = "SELECT (SELECT count(*) FROM configs) || '/' "
		"|| (SELECT count(*) FROM channels) || '/' "
		"|| (SELECT count(*) FROM config_channels) || '/' "
		"|| (SELECT total(enabled) FROM configs) || '/' "
		"|| (SELECT ifnull(max(updated_at), '') FROM configs)";
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	snprintf(out, outlen, "unreadable");
	if ((db = raw_conn()) != NULL
			&& sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK
			&& sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	raw_release(db);
}

static size_t count_rows(const char *table)
{
	char snap[256];
	unsigned long configs = 0, channels = 0;

	snapshot(snap, sizeof(snap));
	if (sscanf(snap, "%lu/%lu", &configs, &channels) != 2)
		return (size_t)-1;
	return strcmp(table, "configs") == 0 ? configs : channels;
}

/* The i-th audit line, or "" when there are fewer. */

/* 1 when no log line contains text. */

/* 1 when the last batch ends every session of client_id. */
static int kicked(const char *client_id)
{
	for (size_t i = 0; i < env.last.neffects; i++) {
		if (env.last.effects[i].kind == BS_FX_END_ALL
				&& strcmp(env.last.effects[i].target, client_id) == 0)
			return 1;
	}
	return 0;
}

/* ---- shapes ------------------------------------------------------------- */

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_uuid4(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static int is_url_safe(const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
				|| (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return s != NULL;
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static int is_rfc3339_utc(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	}
	return 1;
}

/* n copies of c, NUL-terminated, freed with the environment. */

/* ---- channels ----------------------------------------------------------- */

static void test_create_channel_with_id_and_metadata(void)
{
	json_t *meta = json_pack("{s:i, s:{s:s}}", "floor", 2, "tags", "k", "v");
	json_t *data;

	env_open();
	data = ok_data(run1(json_pack("{s:s, s:s, s:s, s:O}", "command",
			"createChannel", "id", "kitchen", "name", "Kitchen",
			"metadata", meta)));
	CU_ASSERT_STRING_EQUAL(str(data, "id"), "kitchen");
	CU_ASSERT_STRING_EQUAL(str(data, "name"), "Kitchen");
	CU_ASSERT_TRUE(json_equal(json_object_get(data, "metadata"), meta));
	data = ok_data(run1(json_pack("{s:s, s:s}", "command", "getChannel",
			"id", "kitchen")));
	CU_ASSERT_STRING_EQUAL(str(data, "name"), "Kitchen");
	CU_ASSERT_TRUE(json_equal(json_object_get(data, "metadata"), meta));
	json_decref(meta);
	env_close();
}

static void test_create_channel_without_id_generates_uuid4(void)
{
	json_t *data;
	const char *id;

	env_open();
	data = ok_data(run1(json_pack("{s:s, s:s}", "command", "createChannel",
			"name", "anonymous")));
	id = str(data, "id");
	CU_ASSERT_TRUE(is_uuid4(id));
	CU_ASSERT_TRUE(json_is_object(json_object_get(data, "metadata")));
	CU_ASSERT_EQUAL(json_object_size(json_object_get(data, "metadata")), 0);
	data = ok_data(run1(json_pack("{s:s, s:s}", "command", "getChannel",
			"id", id)));
	CU_ASSERT_STRING_EQUAL(str(data, "name"), "anonymous");
	env_close();
}

static void test_create_channel_bad_input_is_invalid_request(void)
{
	env_open();
	expect_error(run1(json_pack("{s:s, s:s, s:s, s:s}", "command",
			"createChannel", "id", "c", "name", "n", "metadata", "text")),
			"invalid_request", "metadata a string");
	expect_error(run1(json_pack("{s:s, s:s, s:s, s:[i]}", "command",
			"createChannel", "id", "c", "name", "n", "metadata", 1)),
			"invalid_request", "metadata an array");
	expect_error(run1(json_pack("{s:s, s:s}", "command", "createChannel",
			"id", "c")), "invalid_request", "missing name");
	expect_error(run1(json_pack("{s:s, s:s, s:i}", "command", "createChannel",
			"id", "c", "name", 5)), "invalid_request", "name a number");
	CU_ASSERT_EQUAL(count_rows("channels"), 0);
	env_close();
}

static void test_create_channel_duplicate_id_conflicts(void)
{
	json_t *data;

	env_open();
	ok_data(create_channel("dup", "first"));
	expect_error(create_channel("dup", "second"), "conflict", "duplicate");
	data = ok_data(run1(json_pack("{s:s, s:s}", "command", "getChannel",
			"id", "dup")));
	CU_ASSERT_STRING_EQUAL(str(data, "name"), "first");
	env_close();
}

static void test_get_channel_unknown_is_not_found(void)
{
	env_open();
	expect_error(run1(json_pack("{s:s, s:s}", "command", "getChannel",
			"id", "nope")), "not_found", "unknown channel");
	env_close();
}

/* ---- createConfig and getConfig ----------------------------------------- */

static void test_create_config_generates_ids_and_secrets(void)
{
	json_t *data;
	char key[300];

	env_open();
	data = ok_data(run1(json_pack("{s:s, s:s}", "command", "createConfig",
			"external_id", "dev-ext")));
	CU_ASSERT_TRUE(is_uuid4(str(data, "client_id")));
	CU_ASSERT_TRUE(str(data, "client_secret") != NULL
			&& strlen(str(data, "client_secret")) >= 22);
	CU_ASSERT_TRUE(is_url_safe(str(data, "client_secret")));
	CU_ASSERT_TRUE(str(data, "external_key") != NULL
			&& strlen(str(data, "external_key")) >= 22);
	CU_ASSERT_STRING_NOT_EQUAL(str(data, "external_key"),
			str(data, "client_secret"));
	CU_ASSERT_STRING_EQUAL(str(data, "external_id"), "dev-ext");
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "disabled");
	CU_ASSERT_STRING_EQUAL(str(data, "name"), "");
	CU_ASSERT_STRING_EQUAL(str(data, "content"), "");
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(data, "last_bootstrap_at")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(data, "channels")), 0);
	CU_ASSERT_PTR_NULL(json_object_get(data, "client_key"));
	CU_ASSERT_TRUE(is_rfc3339_utc(str(data, "created_at")));
	CU_ASSERT_STRING_EQUAL(str(data, "created_at"), T0_TEXT);
	CU_ASSERT_STRING_EQUAL(str(data, "updated_at"), T0_TEXT);
	/* The external_key is shown once: no read shows it again. */
	snprintf(key, sizeof(key), "%s", str(data, "external_key"));
	data = ok_data(get_config("external_id", "dev-ext"));
	CU_ASSERT_PTR_NULL(json_object_get(data, "external_key"));
	CU_ASSERT_PTR_NULL(strstr(env.last.payload, key));
	env_close();
}

static void test_create_config_keeps_given_fields_and_channel_order(void)
{
	json_t *data, *chans;

	env_open();
	ok_data(create_channel("ch1", "one"));
	ok_data(create_channel("ch2", "two"));
	data = ok_data(run1(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s, {s:s}]}",
			"command", "createConfig", "client_id", "dev-1",
			"client_secret", GIVEN_SECRET, "external_id", "ext-1",
			"external_key", GIVEN_KEY, "name", "Thermostat",
			"content", "{\"interval\":30}", "channels", "ch2", "id", "ch1")));
	CU_ASSERT_STRING_EQUAL(str(data, "client_id"), "dev-1");
	CU_ASSERT_STRING_EQUAL(str(data, "client_secret"), GIVEN_SECRET);
	CU_ASSERT_STRING_EQUAL(str(data, "external_key"), GIVEN_KEY);
	CU_ASSERT_STRING_EQUAL(str(data, "name"), "Thermostat");
	CU_ASSERT_STRING_EQUAL(str(data, "content"), "{\"interval\":30}");
	chans = json_object_get(data, "channels");
	CU_ASSERT_EQUAL_FATAL(json_array_size(chans), 2);
	CU_ASSERT_STRING_EQUAL(str(json_array_get(chans, 0), "id"), "ch2");
	CU_ASSERT_STRING_EQUAL(str(json_array_get(chans, 0), "name"), "two");
	CU_ASSERT_STRING_EQUAL(str(json_array_get(chans, 1), "id"), "ch1");
	env_close();
}

/* A read of dev-1: the config without its write-only secrets. */
static void assert_read_view(json_t *data, const char *how)
{
	CHECK_CASE(str(data, "client_id") && strcmp(str(data, "client_id"), "dev-1") == 0, how);
	CHECK_CASE(json_object_get(data, "external_key") == NULL, how);
	CHECK_CASE(json_object_get(data, "client_key") == NULL, how);
	CHECK_CASE(json_is_boolean(json_object_get(data, "has_client_key")), how);
	CHECK_CASE(str(data, "state") && strcmp(str(data, "state"), "disabled") == 0, how);
	CHECK_CASE(json_array_size(json_object_get(data, "channels")) == 1, how);
	CHECK_CASE(strstr(env.last.payload, GIVEN_KEY) == NULL, how);
}

static void test_get_config_by_client_id_or_external_id_hides_secrets(void)
{
	env_open();
	ok_data(create_channel("ch1", "one"));
	ok_data(run1(json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "command",
			"createConfig", "client_id", "dev-1", "external_id", "ext-1",
			"external_key", GIVEN_KEY, "channels", "ch1")));
	assert_read_view(ok_data(get_config("client_id", "dev-1")), "by client_id");
	assert_read_view(ok_data(get_config("external_id", "ext-1")), "by external_id");
	expect_error(get_config("client_id", "nope"), "not_found", "unknown client_id");
	expect_error(get_config("external_id", "nope"), "not_found", "unknown external_id");
	expect_error(run1(json_pack("{s:s}", "command", "getConfig")),
			"invalid_request", "no id");
	env_close();
}

/* ---- bad input ---------------------------------------------------------- */

/* A channel "ch1" and a config "base" (external_id "base-ext"). */
static void seed(void)
{
	ok_data(create_channel("ch1", "one"));
	ok_data(create_config("base", "base-ext"));
	clear_lines();
}

/* Runs createConfig with field set to value (stolen; NULL removes the
 * field) and expects invalid_request, one audit line and no change. */
static void expect_create_invalid(const char *name, const char *field, json_t *value)
{
	json_t *cmd = json_pack("{s:s, s:s, s:s}", "command", "createConfig",
			"client_id", "fresh", "external_id", "fresh-ext");
	char before[256], after[256];
	size_t audits = count_audit();

	if (value != NULL)
		json_object_set_new(cmd, field, value);
	else
		json_object_del(cmd, field);
	snapshot(before, sizeof(before));
	CHECK_CASE(strcmp(before, "unreadable") != 0, name);
	expect_error(run1(cmd), "invalid_request", name);
	snapshot(after, sizeof(after));
	CHECK_CASE(strcmp(before, after) == 0, name);
	CHECK_CASE(count_audit() == audits + 1, name);
	CHECK_CASE(strstr(audit_line(audits), "result=invalid_request") != NULL, name);
}

typedef struct {
	const char *name;
	const char *payload;
	size_t len;
} raw_case_t;

#define RAW(name, text) { name, text, sizeof(text) - 1 }

static void test_payload_that_is_not_a_batch_gives_one_invalid_request(void)
{
	static const raw_case_t cases[] = {
		RAW("not JSON", "{\"commands\": [ {\"command\": \"getConfig\""),
		RAW("empty payload", ""),
		RAW("an array", "[{\"command\": \"getConfig\"}]"),
		RAW("a string", "\"commands\""),
		RAW("no commands", "{\"command\": \"createConfig\", \"external_id\": \"x\"}"),
		RAW("commands an object", "{\"commands\": {\"command\": \"getConfig\"}}"),
		RAW("commands a string", "{\"commands\": \"createConfig\"}"),
		RAW("invalid UTF-8", "{\"commands\": [{\"command\": \"createConfig\", "
				"\"external_id\": \"ab\xc3\x28\"}]}"),
		RAW("invalid UTF-8 byte", "{\"commands\": [{\"command\": \"createConfig\", "
				"\"external_id\": \"ab\xff\"}]}"),
		RAW("trailing garbage", "{\"commands\": []} x"),
	};
	char before[256], after[256];

	env_open();
	seed();
	snapshot(before, sizeof(before));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *list = run_raw(cases[i].payload, cases[i].len);
		json_t *r = json_array_get(list, 0);
		CHECK_CASE(json_array_size(list) == 1, cases[i].name);
		CHECK_CASE(str(r, "command") && strcmp(str(r, "command"), "") == 0,
				cases[i].name);
		expect_error(r, "invalid_request", cases[i].name);
	}
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	CU_ASSERT_EQUAL(count_audit(), 0);
	env_close();
}

static void test_nul_inside_a_string_is_invalid_request(void)
{
	static const char payload[] = "{\"commands\": [{\"command\": \"createConfig\", "
		"\"external_id\": \"ab\\u0000cd\"}]}";
	char before[256], after[256];
	json_t *list;

	env_open();
	seed();
	snapshot(before, sizeof(before));
	list = run_raw(payload, sizeof(payload) - 1);
	CU_ASSERT_EQUAL(json_array_size(list), 1);
	expect_error(json_array_get(list, 0), "invalid_request", "\\u0000");
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	env_close();
}

static void test_commands_that_are_not_commands_are_invalid_request(void)
{
	static const char payload[] = "{\"commands\": [1, \"createConfig\", null, "
		"{\"command\": 5, \"external_id\": \"x1\"}, "
		"{\"external_id\": \"x2\"}, "
		"{\"command\": \"dropEverything\", \"external_id\": \"x3\"}, "
		"{\"command\": \"createconfig\", \"external_id\": \"x4\"}]}";
	char before[256], after[256];
	json_t *list;

	env_open();
	seed();
	snapshot(before, sizeof(before));
	list = run_raw(payload, sizeof(payload) - 1);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 7);
	for (size_t i = 0; i < 7; i++) {
		char name[32];
		snprintf(name, sizeof(name), "command %zu", i);
		expect_error(json_array_get(list, i), "invalid_request", name);
		CHECK_CASE(json_is_string(json_object_get(json_array_get(list, i),
				"command")), name);
	}
	CU_ASSERT_STRING_EQUAL(str(json_array_get(list, 5), "command"), "dropEverything");
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	CU_ASSERT_EQUAL(count_audit(), 0);
	env_close();
}

/* Found by fuzz_admin: a message quotes at most 64 bytes of a name, and a
 * cut inside a UTF-8 character made a text Jansson refused, so the
 * response went out with no message at all. */
static void test_message_quoting_a_long_utf8_name_is_kept(void)
{
	/* 63 ASCII bytes, then a two-byte character across the 64-byte cut. */
	char name[] = "createConfig" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9";
	char id[] = "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\xc3\xa9";
	json_t *unknown, *missing;

	CU_ASSERT_EQUAL_FATAL(strlen(name), 65);
	CU_ASSERT_EQUAL_FATAL(strlen(id), 65);
	env_open();
	unknown = run1(json_pack("{s:s}", "command", name));
	missing = run1(json_pack("{s:s, s:s}", "command", "getChannel", "id", id));
	expect_error(unknown, "invalid_request", "unknown command");
	expect_error(missing, "not_found", "unknown channel");
	CU_ASSERT_PTR_NOT_NULL(strstr(str(unknown, "message") ? str(unknown, "message") : "",
			"unknown command 'createConfigxxx"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(missing, "message") ? str(missing, "message") : "",
			"no channel with id 'ccc"));
	env_close();
}

static void test_create_config_wrong_types_are_invalid_request(void)
{
	env_open();
	seed();
	expect_create_invalid("external_id a number", "external_id", json_integer(5));
	expect_create_invalid("external_id null", "external_id", json_null());
	expect_create_invalid("channels not an array", "channels", json_string("ch1"));
	expect_create_invalid("channels of numbers", "channels", json_pack("[i]", 1));
	expect_create_invalid("channels object without id", "channels",
			json_pack("[{s:s}]", "name", "ch1"));
	expect_create_invalid("content a number", "content", json_integer(3));
	expect_create_invalid("name a boolean", "name", json_true());
	expect_create_invalid("client_id a number", "client_id", json_integer(1));
	expect_create_invalid("external_key an array", "external_key", json_array());
	expect_create_invalid("client_secret a number", "client_secret", json_real(1.5));
	expect_create_invalid("client_cert a number", "client_cert", json_integer(1));
	env_close();
}

static void test_create_config_bad_external_id_is_invalid_request(void)
{
	env_open();
	seed();
	expect_create_invalid("missing external_id", "external_id", NULL);
	expect_create_invalid("external_id with /", "external_id", json_string("a/b"));
	expect_create_invalid("external_id with +", "external_id", json_string("a+b"));
	expect_create_invalid("external_id with #", "external_id", json_string("a#b"));
	expect_create_invalid("external_id with \\u0001", "external_id",
			json_string("a\001b"));
	expect_create_invalid("external_id with newline", "external_id",
			json_string("a\nb"));
	expect_create_invalid("external_id with DEL", "external_id",
			json_string("a\177b"));
	expect_create_invalid("external_id of 257 bytes", "external_id",
			json_string(repeat('e', 257)));
	expect_create_invalid("empty external_id", "external_id", json_string(""));
	expect_create_invalid("client_id with /", "client_id", json_string("a/b"));
	expect_create_invalid("empty client_id", "client_id", json_string(""));
	env_close();
}

static void test_create_config_sizes_out_of_range_are_invalid_request(void)
{
	env_open();
	seed();
	expect_create_invalid("external_key of 7 bytes", "external_key",
			json_string("1234567"));
	expect_create_invalid("external_key of 257 bytes", "external_key",
			json_string(repeat('k', 257)));
	expect_create_invalid("empty external_key", "external_key", json_string(""));
	expect_create_invalid("name of 257 bytes", "name", json_string(repeat('n', 257)));
	expect_create_invalid("content of 65537 bytes", "content",
			json_string(repeat('c', 65537)));
	env_close();
}

static void test_create_config_sizes_at_the_limits_are_accepted(void)
{
	json_t *data;
	char *ext;

	env_open();
	ext = repeat('e', 256);
	data = ok_data(run1(json_pack("{s:s, s:s, s:s, s:s, s:s}", "command",
			"createConfig", "external_id", ext,
			"external_key", repeat('k', 256), "name", repeat('n', 256),
			"content", repeat('c', 65536))));
	CU_ASSERT_EQUAL(strlen(str(data, "external_id")), 256);
	CU_ASSERT_EQUAL(strlen(str(data, "external_key")), 256);
	CU_ASSERT_EQUAL(strlen(str(data, "name")), 256);
	CU_ASSERT_EQUAL(strlen(str(data, "content")), 65536);
	ok_data(run1(json_pack("{s:s, s:s, s:s}", "command", "createConfig",
			"external_id", "x", "external_key", "12345678")));
	data = ok_data(get_config("external_id", ext));
	CU_ASSERT_EQUAL(strlen(str(data, "content")), 65536);
	env_close();
}

static void test_create_config_with_state_is_invalid_request(void)
{
	env_open();
	seed();
	expect_create_invalid("state enabled", "state", json_string("enabled"));
	expect_create_invalid("state disabled", "state", json_string("disabled"));
	env_close();
}

static void test_create_config_same_channel_twice_is_invalid_request(void)
{
	env_open();
	seed();
	expect_create_invalid("ch1 twice", "channels", json_pack("[s, s]", "ch1", "ch1"));
	expect_create_invalid("ch1 twice, as id and object", "channels",
			json_pack("[s, {s:s}]", "ch1", "id", "ch1"));
	env_close();
}

static void test_create_config_unknown_channel_is_not_found_and_not_created(void)
{
	char before[256], after[256];

	env_open();
	seed();
	snapshot(before, sizeof(before));
	expect_error(run1(json_pack("{s:s, s:s, s:s, s:[s, s]}", "command",
			"createConfig", "client_id", "fresh", "external_id", "fresh-ext",
			"channels", "ch1", "ghost")), "not_found", "unknown channel");
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	expect_error(get_config("external_id", "fresh-ext"), "not_found", "not created");
	expect_error(get_config("client_id", "fresh"), "not_found", "not created");
	env_close();
}

static void test_create_config_duplicates_conflict(void)
{
	char before[256], after[256];
	json_t *data;

	env_open();
	seed();
	snapshot(before, sizeof(before));
	expect_error(create_config("other", "base-ext"), "conflict", "external_id");
	expect_error(create_config("base", "other-ext"), "conflict", "client_id");
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	data = ok_data(get_config("client_id", "base"));
	CU_ASSERT_STRING_EQUAL(str(data, "external_id"), "base-ext");
	expect_error(get_config("external_id", "other-ext"), "not_found", "not created");
	env_close();
}

/* ---- batches ------------------------------------------------------------ */

static void test_batch_answers_in_order_and_failure_stops_nothing(void)
{
	json_t *list, *corr;

	env_open();
	ok_data(create_channel("ch1", "one"));
	list = run_batch(json_pack("[{s:s, s:s, s:s}, {s:s, s:i, s:s, s:[s]}, "
			"{s:s, s:{s:i}, s:s}]",
			"command", "createConfig", "correlationData", "first",
			"external_id", "e1",
			"command", "createConfig", "correlationData", 2,
			"external_id", "e2", "channels", "ghost",
			"command", "createConfig", "correlationData", "n", 3,
			"external_id", "e3"));
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 3);
	ok_data(json_array_get(list, 0));
	expect_error(json_array_get(list, 1), "not_found", "second");
	ok_data(json_array_get(list, 2));
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(str(json_array_get(list, i), "command"), "createConfig");
	CU_ASSERT_STRING_EQUAL(str(json_array_get(list, 0), "correlationData"), "first");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(list, 1),
			"correlationData")), 2);
	corr = json_object_get(json_array_get(list, 2), "correlationData");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(corr, "n")), 3);
	ok_data(get_config("external_id", "e1"));
	expect_error(get_config("external_id", "e2"), "not_found", "failed one");
	ok_data(get_config("external_id", "e3"));
	CU_ASSERT_EQUAL(count_rows("configs"), 2);
	env_close();
}

/* {"commands": [n times cmd]} in a buffer freed with the environment. */
static char *many_commands(size_t n, const char *cmd)
{
	size_t cmdlen = strlen(cmd), size = 32 + n * (cmdlen + 1);
	char *buf = keep(malloc(size));
	size_t off;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	off = (size_t)snprintf(buf, size, "{\"commands\":[");
	for (size_t i = 0; i < n; i++) {
		memcpy(buf + off, cmd, cmdlen);
		off += cmdlen;
		buf[off++] = i + 1 < n ? ',' : ']';
	}
	snprintf(buf + off, size - off, "}");
	return buf;
}

static void test_more_than_10000_commands_is_one_invalid_request(void)
{
	json_t *list;

	env_open();
	list = run_text(many_commands(10001,
			"{\"command\":\"createChannel\",\"name\":\"n\"}"));
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 1);
	CU_ASSERT_STRING_EQUAL(str(json_array_get(list, 0), "command"), "");
	expect_error(json_array_get(list, 0), "invalid_request", "10001 commands");
	CU_ASSERT_EQUAL(count_rows("channels"), 0);
	CU_ASSERT_EQUAL(count_audit(), 0);
	/* 10000 is still one batch. */
	list = run_text(many_commands(10000,
			"{\"command\":\"getChannel\",\"id\":\"none\"}"));
	CU_ASSERT_EQUAL(json_array_size(list), 10000);
	expect_error(json_array_get(list, 9999), "not_found", "10000th");
	env_close();
}

/* ---- state changes and deletion ----------------------------------------- */

static json_t *state_cmd(const char *command, const char *client_id)
{
	return run1(json_pack("{s:s, s:s}", "command", command,
			"client_id", client_id));
}

static void test_enable_and_disable_flip_state_and_set_updated_at(void)
{
	json_t *data;

	env_open();
	ok_data(create_config("dev-1", "ext-1"));
	/* A new config's login view, for the login replica. */
	CU_ASSERT_EQUAL_FATAL(env.last.neffects, 1);
	CU_ASSERT_EQUAL(env.last.effects[0].kind, BS_FX_LOGIN);
	CU_ASSERT_STRING_EQUAL(env.last.effects[0].target, "dev-1");
	env.ctx.now = T1;
	data = ok_data(state_cmd("enableConfig", "dev-1"));
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "enabled");
	CU_ASSERT_STRING_EQUAL(str(data, "updated_at"), T1_TEXT);
	CU_ASSERT_STRING_EQUAL(str(data, "created_at"), T0_TEXT);
	CU_ASSERT_PTR_NULL(json_object_get(data, "external_key"));
	/* Its login view changed, for the login replica; no session ends. */
	CU_ASSERT_EQUAL_FATAL(env.last.neffects, 1);
	CU_ASSERT_EQUAL(env.last.effects[0].kind, BS_FX_LOGIN);
	CU_ASSERT_FALSE(kicked("dev-1"));
	data = ok_data(get_config("client_id", "dev-1"));
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "enabled");
	env.ctx.now = T2;
	data = ok_data(state_cmd("disableConfig", "dev-1"));
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "disabled");
	CU_ASSERT_STRING_EQUAL(str(data, "updated_at"), T2_TEXT);
	CU_ASSERT_EQUAL(env.last.neffects, 1);
	CU_ASSERT_TRUE(kicked("dev-1"));
	data = ok_data(get_config("client_id", "dev-1"));
	CU_ASSERT_STRING_EQUAL(str(data, "state"), "disabled");
	CU_ASSERT_STRING_EQUAL(str(data, "updated_at"), T2_TEXT);
	env_close();
}

static void test_enable_or_disable_unknown_is_not_found_without_kick(void)
{
	env_open();
	expect_error(state_cmd("enableConfig", "ghost"), "not_found", "enable");
	expect_error(state_cmd("disableConfig", "ghost"), "not_found", "disable");
	CU_ASSERT_EQUAL(env.last.neffects, 0);
	expect_error(run1(json_pack("{s:s}", "command", "enableConfig")),
			"invalid_request", "no client_id");
	env_close();
}

static void test_delete_config_kicks_and_removes_it(void)
{
	json_t *data;

	env_open();
	ok_data(create_config("dev-1", "ext-1"));
	data = ok_data(state_cmd("deleteConfig", "dev-1"));
	CU_ASSERT_EQUAL(json_object_size(data), 0);
	CU_ASSERT_EQUAL(env.last.neffects, 1);
	CU_ASSERT_TRUE(kicked("dev-1"));
	expect_error(get_config("client_id", "dev-1"), "not_found", "deleted");
	expect_error(get_config("external_id", "ext-1"), "not_found", "deleted");
	/* The external_id is free again. */
	ok_data(create_config("dev-2", "ext-1"));
	env_close();
}

static void test_delete_config_unknown_is_not_found_without_kick(void)
{
	env_open();
	expect_error(state_cmd("deleteConfig", "ghost"), "not_found", "unknown");
	CU_ASSERT_EQUAL(env.last.neffects, 0);
	env_close();
}

/* ---- audit -------------------------------------------------------------- */

static void test_audit_one_line_per_change_with_result(void)
{
	static const audit_want_t want[] = {
		{ "createChannel", "ch1", "ok" },
		{ "createConfig", "dev-1", "ok" },
		{ "createConfig", "dev-1", "conflict" },
		{ "enableConfig", "dev-1", "ok" },
		{ "enableConfig", "ghost", "not_found" },
		{ "disableConfig", "dev-1", "ok" },
		{ "disableConfig", "ghost", "not_found" },
		{ "deleteConfig", "dev-1", "ok" },
		{ "deleteConfig", "dev-1", "not_found" },
	};

	env_open();
	ok_data(create_channel("ch1", "one"));
	ok_data(create_config("dev-1", "ext-1"));
	expect_error(create_config("dev-1", "ext-2"), "conflict", "again");
	ok_data(state_cmd("enableConfig", "dev-1"));
	expect_error(state_cmd("enableConfig", "ghost"), "not_found", "enable");
	ok_data(state_cmd("disableConfig", "dev-1"));
	expect_error(state_cmd("disableConfig", "ghost"), "not_found", "disable");
	ok_data(state_cmd("deleteConfig", "dev-1"));
	expect_error(state_cmd("deleteConfig", "dev-1"), "not_found", "delete");
	assert_audit_lines(want, sizeof(want) / sizeof(want[0]));
	env_close();
}

static void test_audit_of_a_failed_create_names_the_given_client_id(void)
{
	env_open();
	expect_error(run1(json_pack("{s:s, s:s, s:s}", "command", "createConfig",
			"client_id", "named-dev", "external_id", "bad/ext")),
			"invalid_request", "bad external_id");
	CU_ASSERT_EQUAL(count_audit(), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(audit_line(0), "named-dev"));
	CU_ASSERT_PTR_NOT_NULL(strstr(audit_line(0), "result=invalid_request"));
	env_close();
}

static void test_audit_never_logs_secrets(void)
{
	json_t *data;
	char secret[128], key[128];

	env_open();
	data = ok_data(run1(json_pack("{s:s, s:s}", "command", "createConfig",
			"external_id", "gen-ext")));
	snprintf(secret, sizeof(secret), "%s", str(data, "client_secret"));
	snprintf(key, sizeof(key), "%s", str(data, "external_key"));
	ok_data(run1(json_pack("{s:s, s:s, s:s, s:s, s:s}", "command",
			"createConfig", "client_id", "dev-g", "external_id", "given-ext",
			"external_key", GIVEN_KEY, "client_secret", GIVEN_SECRET)));
	expect_error(run1(json_pack("{s:s, s:s, s:s, s:s}", "command",
			"createConfig", "external_id", "given-ext",
			"external_key", GIVEN_KEY, "client_secret", GIVEN_SECRET)),
			"conflict", "duplicate with secrets");
	ok_data(state_cmd("enableConfig", "dev-g"));
	CU_ASSERT_EQUAL(count_audit(), 4);
	CU_ASSERT_TRUE(log_free_of(secret));
	CU_ASSERT_TRUE(log_free_of(key));
	CU_ASSERT_TRUE(log_free_of(GIVEN_KEY));
	CU_ASSERT_TRUE(log_free_of(GIVEN_SECRET));
	env_close();
}

static void test_reads_write_no_audit_line(void)
{
	env_open();
	ok_data(create_channel("ch1", "one"));
	ok_data(create_config("dev-1", "ext-1"));
	clear_lines();
	ok_data(get_config("client_id", "dev-1"));
	ok_data(get_config("external_id", "ext-1"));
	expect_error(get_config("client_id", "ghost"), "not_found", "unknown");
	ok_data(run1(json_pack("{s:s, s:s}", "command", "getChannel", "id", "ch1")));
	expect_error(run1(json_pack("{s:s, s:s}", "command", "getChannel",
			"id", "ghost")), "not_found", "unknown channel");
	CU_ASSERT_EQUAL(count_audit(), 0);
	CU_ASSERT_EQUAL(env.nlines, 0);
	env_close();
}

static void test_newline_in_username_does_not_split_the_audit_line(void)
{
	env_open();
	env.ctx.username = "mallory\naudit: user=admin client=x command=deleteConfig";
	env.ctx.client_id = "cli\r\nent";
	ok_data(create_config("dev-1", "ext-1"));
	CU_ASSERT_EQUAL(env.nlines, 1);
	CU_ASSERT_EQUAL(count_audit(), 1);
	for (size_t i = 0; i < env.nlines; i++) {
		CU_ASSERT_PTR_NULL(strchr(env.lines[i], '\n'));
		CU_ASSERT_PTR_NULL(strchr(env.lines[i], '\r'));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(audit_line(0), "user=mallory"));
	env_close();
}

/* ---- certificates -------------------------------------------------------- */

typedef struct {
	char *cert;      /* self-signed RSA certificate, PEM */
	char *key;       /* its private key, PEM */
	char *ec_key;    /* an unrelated EC private key, PEM */
	char *der_b64;   /* the certificate as base64 DER, one line */
	char key_line[65]; /* a line from the middle of the key's body */
} material_t;

/* Runs openssl with args in the environment's directory, quietly. */
static int run_openssl(char *const args[])
{
	char logpath[160];
	int status = -1;
	pid_t pid;

	env_path(logpath, sizeof(logpath), "openssl.log");
	pid = fork();
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || chdir(env.dir) != 0)
			_exit(127);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(args[0], args);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A file of the environment's directory, NUL-terminated, kept; *len set. */
static char *read_env_file(const char *name, size_t *len)
{
	char path[160];
	char *buf = keep(malloc(MAX_FILE + 1));
	int fd;
	ssize_t n;

	env_path(path, sizeof(path), name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	n = read(fd, buf, MAX_FILE);
	close(fd);
	CU_ASSERT_FATAL(n > 0);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void make_material(material_t *m)
{
	char *req[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
		"-subj", "/CN=bs-unit", NULL };
	char *ec[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
		"ec_paramgen_curve:P-256", "-out", "ec.pem", NULL };
	char *der[] = { "openssl", "x509", "-in", "cert.pem", "-outform", "DER",
		"-out", "cert.der", NULL };
	size_t len, derlen;
	const char *line;

	CU_ASSERT_EQUAL_FATAL(run_openssl(req), 0);
	CU_ASSERT_EQUAL_FATAL(run_openssl(ec), 0);
	CU_ASSERT_EQUAL_FATAL(run_openssl(der), 0);
	m->cert = read_env_file("cert.pem", &len);
	m->key = read_env_file("key.pem", &len);
	m->ec_key = read_env_file("ec.pem", &len);
	const char *bytes = read_env_file("cert.der", &derlen);
	m->der_b64 = keep(malloc(4 * (derlen / 3 + 1) + 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->der_b64);
	EVP_EncodeBlock((unsigned char *)m->der_b64, (const unsigned char *)bytes,
			(int)derlen);
	/* The third line of the key body: 64 base64 characters. */
	line = strchr(m->key, '\n');
	for (int i = 0; i < 2 && line != NULL; i++)
		line = strchr(line + 1, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	snprintf(m->key_line, sizeof(m->key_line), "%.64s", line + 1);
	CU_ASSERT_EQUAL(strlen(m->key_line), 64);
}

static json_t *create_with_certs(const char *client_id, const char *cert,
		const char *key)
{
	json_t *cmd = json_pack("{s:s, s:s, s:s}", "command", "createConfig",
			"client_id", client_id, "external_id", client_id);

	if (cert != NULL)
		json_object_set_new(cmd, "client_cert", json_string(cert));
	if (key != NULL)
		json_object_set_new(cmd, "client_key", json_string(key));
	return run1(cmd);
}

static void assert_key_not_shown(const material_t *m, const char *how)
{
	CHECK_CASE(strstr(env.last.payload, m->key_line) == NULL, how);
	CHECK_CASE(strstr(env.last.payload, "PRIVATE KEY") == NULL, how);
}

static void test_cert_matching_pair_is_accepted_and_key_never_read_back(void)
{
	material_t m = { 0 };
	json_t *data;

	env_open();
	make_material(&m);
	data = ok_data(create_with_certs("dev-c", m.cert, m.key));
	CU_ASSERT_STRING_EQUAL(str(data, "client_cert"), m.cert);
	CU_ASSERT_TRUE(json_is_true(json_object_get(data, "has_client_key")));
	CU_ASSERT_PTR_NULL(json_object_get(data, "client_key"));
	assert_key_not_shown(&m, "create reply");
	data = ok_data(get_config("client_id", "dev-c"));
	CU_ASSERT_TRUE(json_is_true(json_object_get(data, "has_client_key")));
	CU_ASSERT_PTR_NULL(json_object_get(data, "client_key"));
	CU_ASSERT_STRING_EQUAL(str(data, "client_cert"), m.cert);
	assert_key_not_shown(&m, "getConfig");
	data = ok_data(get_config("external_id", "dev-c"));
	assert_key_not_shown(&m, "getConfig by external_id");
	ok_data(state_cmd("enableConfig", "dev-c"));
	assert_key_not_shown(&m, "enableConfig");
	CU_ASSERT_TRUE(log_free_of(m.key_line));
	env_close();
}

static void test_cert_mismatching_pair_is_invalid_request(void)
{
	material_t m = { 0 };
	char before[256], after[256];

	env_open();
	make_material(&m);
	snapshot(before, sizeof(before));
	expect_error(create_with_certs("dev-m", m.cert, m.ec_key),
			"invalid_request", "RSA cert with EC key");
	CU_ASSERT_PTR_NULL(strstr(env.last.payload, "PRIVATE KEY"));
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	/* The EC key alone is a fine key; the pair is what is wrong. */
	ok_data(create_with_certs("dev-ec", NULL, m.ec_key));
	env_close();
}

static void test_cert_garbage_is_invalid_request(void)
{
	static const char broken_pem[] = "-----BEGIN CERTIFICATE-----\n"
		"bm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
	material_t m = { 0 };
	char before[256], after[256];

	env_open();
	make_material(&m);
	snapshot(before, sizeof(before));
	expect_error(create_with_certs("dev-g1", "hello, world", NULL),
			"invalid_request", "text");
	expect_error(create_with_certs("dev-g2", broken_pem, NULL),
			"invalid_request", "PEM of junk");
	expect_error(create_with_certs("dev-g3", m.key, NULL),
			"invalid_request", "a key as the certificate");
	expect_error(create_with_certs("dev-g4", m.cert, "not a key"),
			"invalid_request", "garbage key");
	snapshot(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(before, after);
	env_close();
}

static void test_cert_base64_der_is_accepted(void)
{
	material_t m = { 0 };
	json_t *data;

	env_open();
	make_material(&m);
	data = ok_data(create_with_certs("dev-d", m.der_b64, NULL));
	CU_ASSERT_STRING_EQUAL(str(data, "client_cert"), m.der_b64);
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	data = ok_data(create_with_certs("dev-dk", m.der_b64, m.key));
	CU_ASSERT_TRUE(json_is_true(json_object_get(data, "has_client_key")));
	env_close();
}

/* ---- main ---------------------------------------------------------------- */

static const cu_test_t channel_tests[] = {
	T(test_create_channel_with_id_and_metadata),
	T(test_create_channel_without_id_generates_uuid4),
	T(test_create_channel_bad_input_is_invalid_request),
	T(test_create_channel_duplicate_id_conflicts),
	T(test_get_channel_unknown_is_not_found),
	{ NULL, NULL },
};

static const cu_test_t config_tests[] = {
	T(test_create_config_generates_ids_and_secrets),
	T(test_create_config_keeps_given_fields_and_channel_order),
	T(test_get_config_by_client_id_or_external_id_hides_secrets),
	T(test_enable_and_disable_flip_state_and_set_updated_at),
	T(test_enable_or_disable_unknown_is_not_found_without_kick),
	T(test_delete_config_kicks_and_removes_it),
	T(test_delete_config_unknown_is_not_found_without_kick),
	{ NULL, NULL },
};

static const cu_test_t input_tests[] = {
	T(test_payload_that_is_not_a_batch_gives_one_invalid_request),
	T(test_nul_inside_a_string_is_invalid_request),
	T(test_commands_that_are_not_commands_are_invalid_request),
	T(test_message_quoting_a_long_utf8_name_is_kept),
	T(test_create_config_wrong_types_are_invalid_request),
	T(test_create_config_bad_external_id_is_invalid_request),
	T(test_create_config_sizes_out_of_range_are_invalid_request),
	T(test_create_config_sizes_at_the_limits_are_accepted),
	T(test_create_config_with_state_is_invalid_request),
	T(test_create_config_same_channel_twice_is_invalid_request),
	T(test_create_config_unknown_channel_is_not_found_and_not_created),
	T(test_create_config_duplicates_conflict),
	{ NULL, NULL },
};

static const cu_test_t batch_tests[] = {
	T(test_batch_answers_in_order_and_failure_stops_nothing),
	T(test_more_than_10000_commands_is_one_invalid_request),
	{ NULL, NULL },
};

static const cu_test_t audit_tests[] = {
	T(test_audit_one_line_per_change_with_result),
	T(test_audit_of_a_failed_create_names_the_given_client_id),
	T(test_audit_never_logs_secrets),
	T(test_reads_write_no_audit_line),
	T(test_newline_in_username_does_not_split_the_audit_line),
	{ NULL, NULL },
};

static const cu_test_t cert_tests[] = {
	T(test_cert_matching_pair_is_accepted_and_key_never_read_back),
	T(test_cert_mismatching_pair_is_invalid_request),
	T(test_cert_garbage_is_invalid_request),
	T(test_cert_base64_der_is_accepted),
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("admin_channels", NULL, suite_clean, channel_tests);
	cu_add_suite("admin_configs", NULL, suite_clean, config_tests);
	cu_add_suite("admin_input", NULL, suite_clean, input_tests);
	cu_add_suite("admin_batch", NULL, suite_clean, batch_tests);
	cu_add_suite("admin_audit", NULL, suite_clean, audit_tests);
	cu_add_suite("admin_certs", NULL, suite_clean, cert_tests);
	return cu_run("admin");
}
