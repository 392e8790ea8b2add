/*
 * Unit tests of the admin commands that list, modify and delete (section 4)
 * through bs_admin_handle: listChannels, modifyChannel, deleteChannel,
 * listConfigs, modifyConfig, the forbidden answer for a sender without a
 * username, the payload size limit and the audit lines of these commands.
 * Each test runs on a fresh database in its own temporary directory; the
 * certificate suite makes two RSA pairs with openssl once.
 */
#define _GNU_SOURCE /* strcasestr */

#include "admin.h"
#include "core.h"
#include "admin_env.h"
#include "tmpdir.h"
#include "cu_main.h"
#include "store_sqlite.h"
#include "device.h"
#include "error.h"
#include "options.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <jansson.h>
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
#define NEW_KEY "ek-new-Zq8Wm3Rt6Yp1Xc4Vb7"

/* ---- environment -------------------------------------------------------- */

/* Frees p when the environment closes; returns p. */

/* A fresh directory and database; the admin is "admin" on "admin-cli". */

/* ---- running commands --------------------------------------------------- */

/* Runs a raw payload; returns the responses array (owned by env). */

/* Runs {"commands": cmds} (cmds is stolen). */

/* Runs one command (stolen); returns its response, the only one. */

/* The data of a successful response. */

static json_t *get_config(const char *client_id)
{
	return run1(json_pack("{s:s, s:s}", "command", "getConfig",
			"client_id", client_id));
}

static json_t *get_channel(const char *id)
{
	return run1(json_pack("{s:s, s:s}", "command", "getChannel", "id", id));
}

/* createConfig with a client_id, an external_id, a given key and channels
 * (stolen; NULL for none). */
static json_t *create_config(const char *client_id, const char *external_id,
		json_t *channels)
{
	json_t *cmd = json_pack("{s:s, s:s, s:s, s:s}", "command", "createConfig",
			"client_id", client_id, "external_id", external_id,
			"external_key", GIVEN_KEY);

	if (channels != NULL)
		json_object_set_new(cmd, "channels", channels);
	return run1(cmd);
}

/* modifyConfig of client_id with the fields of fields (stolen). */
static json_t *modify_config(const char *client_id, json_t *fields)
{
	json_object_set_new(fields, "command", json_string("modifyConfig"));
	json_object_set_new(fields, "client_id", json_string(client_id));
	return run1(fields);
}

/* The ids of a channels array, joined with ",". */
static const char *channel_ids(json_t *channels)
{
	static char buf[512];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(channels) && off < sizeof(buf); i++) {
		const char *id = str(json_array_get(channels, i), "id");
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
				i ? "," : "", id ? id : "?");
	}
	return buf;
}

/* ---- looking at the store and the log ----------------------------------- */

#define DUMP_CHANNELS "SELECT id || '|' || name || '|' || metadata || '|' " \
	"|| created_at || '|' || updated_at AS r FROM channels ORDER BY id"
#define DUMP_CONFIGS "SELECT client_id || '|' || name || '|' || external_id " \
	"|| '|' || hex(external_key) || '|' || hex(client_secret) || '|' " \
	"|| content || '|' || ifnull(client_cert, '-') || '|' || hex(client_key) " \
	"|| '|' || ifnull(ca_cert, '-') || '|' || enabled || '|' || created_at " \
	"|| '|' || updated_at || '|' || ifnull((SELECT at FROM bootstraps WHERE config_id = id), '-') AS r " \
	"FROM configs ORDER BY client_id"
#define DUMP_LINKS "SELECT client_id || '|' || channel_id || '|' || position " \
	"AS r FROM config_channels ORDER BY client_id, position"

/* Every row of the store, sealed columns included, as one string (kept).
 * A re-sealed secret changes its bytes, so any write shows. */

/* The plugin holds its database exclusively while it is open, so raw
 * checks go through its own connection then, and open the file otherwise. */

static const char *snapshot(void)
{
	static const char sql[] =
		"SELECT ifnull((SELECT group_concat(r, ';') FROM (" DUMP_CHANNELS
		")), '') || '#' || ifnull((SELECT group_concat(r, ';') FROM ("
		DUMP_CONFIGS ")), '') || '#' || ifnull((SELECT group_concat(r, ';') "
		"FROM (" DUMP_LINKS ")), '')";
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *out = NULL;

	if ((db = raw_conn()) != NULL
			&& sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK
			&& sqlite3_step(s) == SQLITE_ROW)
		out = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	raw_release(db);
	CU_ASSERT_PTR_NOT_NULL_FATAL(keep(out));
	return out;
}

/* The i-th audit line, or "" when there are fewer. */

/* 1 when no log line contains text. */

/* n copies of c, NUL-terminated, freed with the environment. */

/* ---- listChannels ------------------------------------------------------- */

/* Runs a batch (stolen) of n commands that must all succeed. */
static void run_all_ok(json_t *cmds, size_t n)
{
	json_t *list = run_batch(cmds);

	CU_ASSERT_EQUAL_FATAL(json_array_size(list), n);
	for (size_t i = 0; i < n; i++)
		ok_data(json_array_get(list, i));
}

#define NCHAN 15

/* Channel i: created at T0 for i < 9, else at T1; ids out of order. */
static void channel_id(unsigned i, char *out, size_t outlen)
{
	unsigned k = (i * 4 + 1) % 9;

	if (i < 9)
		snprintf(out, outlen, "ch-%02u", k);
	else
		snprintf(out, outlen, "a-%02u", (NCHAN - 1) - i);
}

/* The ids in listChannels order: by created_at, then id. */
static void expected_channel_order(char ids[NCHAN][16])
{
	for (unsigned k = 0; k < 9; k++)
		snprintf(ids[k], 16, "ch-%02u", k);
	for (unsigned k = 0; k < NCHAN - 9; k++)
		snprintf(ids[9 + k], 16, "a-%02u", k);
}

static void seed_channels(void)
{
	json_t *cmds = json_array();
	char id[16];

	for (unsigned i = 0; i < NCHAN; i++) {
		if (i == 9) {
			run_all_ok(cmds, 9);
			cmds = json_array();
			env.ctx.now = T1;
		}
		channel_id(i, id, sizeof(id));
		json_array_append_new(cmds, json_pack("{s:s, s:s, s:s}", "command",
				"createChannel", "id", id, "name", id));
	}
	run_all_ok(cmds, NCHAN - 9);
}

/* listChannels with offset and limit (-1 leaves a field out). */
static json_t *list_channels(long offset, long limit)
{
	json_t *cmd = json_pack("{s:s}", "command", "listChannels");

	if (offset >= 0)
		json_object_set_new(cmd, "offset", json_integer(offset));
	if (limit >= 0)
		json_object_set_new(cmd, "limit", json_integer(limit));
	return run1(cmd);
}

/* The page matches ids[offset .. offset + count). */
static void assert_channel_page(json_t *data, long offset, long limit,
		size_t count, char ids[NCHAN][16], const char *how)
{
	json_t *items = json_object_get(data, "channels");

	CHECK_CASE(json_integer_value(json_object_get(data, "total")) == NCHAN, how);
	CHECK_CASE(json_integer_value(json_object_get(data, "offset")) == offset, how);
	CHECK_CASE(json_integer_value(json_object_get(data, "limit")) == limit, how);
	CHECK_CASE(json_is_array(items) && json_array_size(items) == count, how);
	for (size_t i = 0; i < count && i < json_array_size(items); i++) {
		json_t *ch = json_array_get(items, i);
		CHECK_CASE(str_is(ch, "id", ids[(size_t)offset + i]), how);
		CHECK_CASE(json_is_object(json_object_get(ch, "metadata")), how);
		CHECK_CASE(json_is_string(json_object_get(ch, "name")), how);
	}
}

static void test_list_channels_default_page_is_first_10_with_total(void)
{
	char ids[NCHAN][16];

	env_open();
	seed_channels();
	expected_channel_order(ids);
	assert_channel_page(ok_data(list_channels(-1, -1)), 0, 10, 10, ids,
			"default page");
	env_close();
}

static void test_list_channels_pages_in_creation_then_id_order(void)
{
	char ids[NCHAN][16];

	env_open();
	seed_channels();
	expected_channel_order(ids);
	assert_channel_page(ok_data(list_channels(0, 1000)), 0, 1000, NCHAN, ids,
			"all");
	assert_channel_page(ok_data(list_channels(4, 7)), 4, 7, 7, ids, "middle");
	assert_channel_page(ok_data(list_channels(12, 10)), 12, 10, 3, ids, "tail");
	assert_channel_page(ok_data(list_channels(14, 1)), 14, 1, 1, ids, "last one");
	assert_channel_page(ok_data(list_channels(3, -1)), 3, 10, 10, ids,
			"offset only");
	env_close();
}

static void test_list_channels_offset_past_the_end_is_empty_with_total(void)
{
	char ids[NCHAN][16];

	env_open();
	seed_channels();
	expected_channel_order(ids);
	assert_channel_page(ok_data(list_channels(NCHAN, 10)), NCHAN, 10, 0, ids,
			"at the end");
	assert_channel_page(ok_data(list_channels(5000, 1000)), 5000, 1000, 0, ids,
			"far past the end");
	env_close();
}

static void test_list_channels_bad_offset_or_limit_is_invalid_request(void)
{
	static const char *const cases[] = {
		"{\"command\": \"listChannels\", \"limit\": 0}",
		"{\"command\": \"listChannels\", \"limit\": 1001}",
		"{\"command\": \"listChannels\", \"limit\": -1}",
		"{\"command\": \"listChannels\", \"limit\": \"10\"}",
		"{\"command\": \"listChannels\", \"limit\": 1.5}",
		"{\"command\": \"listChannels\", \"limit\": null}",
		"{\"command\": \"listChannels\", \"offset\": -1}",
		"{\"command\": \"listChannels\", \"offset\": \"0\"}",
		"{\"command\": \"listChannels\", \"offset\": 0.5}",
	};

	env_open();
	ok_data(create_channel("c1", "one"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_error_t jerr;
		json_t *cmd = json_loads(cases[i], 0, &jerr);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
		expect_error(run1(cmd), "invalid_request", cases[i]);
	}
	/* The limits themselves are fine. */
	ok_data(list_channels(0, 1));
	ok_data(list_channels(0, 1000));
	env_close();
}

/* ---- modifyChannel ------------------------------------------------------ */

/* ch1 and ch2; dev-1 has [ch1, ch2], dev-2 has [ch2]. */
static void seed_linked(void)
{
	ok_data(create_channel("ch1", "one"));
	ok_data(create_channel("ch2", "two"));
	ok_data(create_config("dev-1", "ext-1", json_pack("[s, s]", "ch1", "ch2")));
	ok_data(create_config("dev-2", "ext-2", json_pack("[s]", "ch2")));
}

static json_t *modify_channel(json_t *fields)
{
	json_object_set_new(fields, "command", json_string("modifyChannel"));
	return run1(fields);
}

static void test_modify_channel_changes_name_and_metadata_everywhere(void)
{
	json_t *meta = json_pack("{s:s, s:i}", "room", "attic", "floor", 3);
	json_t *data, *chans;

	env_open();
	seed_linked();
	env.ctx.now = T1;
	data = ok_data(modify_channel(json_pack("{s:s, s:s, s:O}", "id", "ch2",
			"name", "Second", "metadata", meta)));
	CU_ASSERT_TRUE(str_is(data, "id", "ch2"));
	CU_ASSERT_TRUE(str_is(data, "name", "Second"));
	CU_ASSERT_TRUE(json_equal(json_object_get(data, "metadata"), meta));
	data = ok_data(get_channel("ch2"));
	CU_ASSERT_TRUE(str_is(data, "name", "Second"));
	CU_ASSERT_TRUE(json_equal(json_object_get(data, "metadata"), meta));
	chans = json_object_get(ok_data(get_config("dev-1")), "channels");
	CU_ASSERT_STRING_EQUAL(channel_ids(chans), "ch1,ch2");
	CU_ASSERT_TRUE(str_is(json_array_get(chans, 1), "name", "Second"));
	CU_ASSERT_TRUE(json_equal(json_object_get(json_array_get(chans, 1),
			"metadata"), meta));
	chans = json_object_get(ok_data(get_config("dev-2")), "channels");
	CU_ASSERT_TRUE(str_is(json_array_get(chans, 0), "name", "Second"));
	/* The other channel is untouched. */
	CU_ASSERT_TRUE(str_is(ok_data(get_channel("ch1")), "name", "one"));
	json_decref(meta);
	env_close();
}

static void test_modify_channel_name_alone_keeps_metadata_and_back(void)
{
	json_t *meta = json_pack("{s:b}", "k", 1);
	json_t *data;

	env_open();
	ok_data(run1(json_pack("{s:s, s:s, s:s, s:O}", "command", "createChannel",
			"id", "c", "name", "before", "metadata", meta)));
	data = ok_data(modify_channel(json_pack("{s:s, s:s}", "id", "c",
			"name", "after")));
	CU_ASSERT_TRUE(json_equal(json_object_get(data, "metadata"), meta));
	data = ok_data(modify_channel(json_pack("{s:s, s:{s:i}}", "id", "c",
			"metadata", "n", 1)));
	CU_ASSERT_TRUE(str_is(data, "name", "after"));
	data = ok_data(get_channel("c"));
	CU_ASSERT_TRUE(str_is(data, "name", "after"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(data,
			"metadata"), "n")), 1);
	json_decref(meta);
	env_close();
}

static void test_modify_channel_null_metadata_resets_to_empty_object(void)
{
	json_t *data;

	env_open();
	ok_data(run1(json_pack("{s:s, s:s, s:s, s:{s:s}}", "command",
			"createChannel", "id", "c", "name", "n", "metadata", "k", "v")));
	data = ok_data(modify_channel(json_pack("{s:s, s:n}", "id", "c",
			"metadata")));
	CU_ASSERT_TRUE(json_is_object(json_object_get(data, "metadata")));
	CU_ASSERT_EQUAL(json_object_size(json_object_get(data, "metadata")), 0);
	data = ok_data(get_channel("c"));
	CU_ASSERT_TRUE(json_is_object(json_object_get(data, "metadata")));
	CU_ASSERT_EQUAL(json_object_size(json_object_get(data, "metadata")), 0);
	CU_ASSERT_TRUE(str_is(data, "name", "n"));
	env_close();
}

static void test_modify_channel_bad_input_is_refused_and_changes_nothing(void)
{
	const char *before, *after;

	env_open();
	seed_linked();
	before = snapshot();
	expect_error(modify_channel(json_pack("{s:s, s:s}", "id", "ch1",
			"metadata", "text")), "invalid_request", "metadata a string");
	expect_error(modify_channel(json_pack("{s:s, s:[i]}", "id", "ch1",
			"metadata", 1)), "invalid_request", "metadata an array");
	expect_error(modify_channel(json_pack("{s:s, s:i}", "id", "ch1",
			"metadata", 7)), "invalid_request", "metadata a number");
	expect_error(modify_channel(json_pack("{s:s, s:s}", "id", "ghost",
			"name", "x")), "not_found", "unknown id");
	expect_error(modify_channel(json_pack("{s:s}", "name", "x")),
			"invalid_request", "missing id");
	expect_error(modify_channel(json_pack("{s:i, s:s}", "id", 1, "name", "x")),
			"invalid_request", "id a number");
	expect_error(modify_channel(json_pack("{s:s, s:i}", "id", "ch1",
			"name", 5)), "invalid_request", "name a number");
	expect_error(modify_channel(json_pack("{s:s, s:s, s:{}}", "id", "ch1",
			"name", repeat('n', 257), "metadata")), "invalid_request",
			"name of 257 bytes");
	after = snapshot();
	CU_ASSERT_STRING_EQUAL(before, after);
	CU_ASSERT_TRUE(str_is(ok_data(get_channel("ch1")), "name", "one"));
	/* 256 bytes is still a name. */
	ok_data(modify_channel(json_pack("{s:s, s:s}", "id", "ch1",
			"name", repeat('n', 256))));
	env_close();
}

/* ---- deleteChannel ------------------------------------------------------ */

/* c1, c2, c3 at T0; a: [c3, c2, c1], b: [c1], c: [c3]. */
static void seed_three(void)
{
	ok_data(create_channel("c1", "one"));
	ok_data(create_channel("c2", "two"));
	ok_data(create_channel("c3", "three"));
	ok_data(create_config("a", "ext-a", json_pack("[s, s, s]", "c3", "c2", "c1")));
	ok_data(create_config("b", "ext-b", json_pack("[s]", "c1")));
	ok_data(create_config("c", "ext-c", json_pack("[s]", "c3")));
}

static void expect_config(const char *client_id, const char *chans,
		const char *updated_at)
{
	json_t *data = ok_data(get_config(client_id));

	CHECK_CASE(strcmp(channel_ids(json_object_get(data, "channels")), chans) == 0,
			client_id);
	CHECK_CASE(str_is(data, "updated_at", updated_at), client_id);
	CHECK_CASE(str_is(data, "created_at", T0_TEXT), client_id);
}

static json_t *delete_channel(const char *id)
{
	return run1(json_pack("{s:s, s:s}", "command", "deleteChannel", "id", id));
}

static void test_delete_channel_leaves_configs_keeping_the_others_order(void)
{
	json_t *data;

	env_open();
	seed_three();
	env.ctx.now = T1;
	data = ok_data(delete_channel("c2"));
	CU_ASSERT_EQUAL(json_object_size(data), 0);
	expect_config("a", "c3,c1", T1_TEXT);
	expect_config("b", "c1", T0_TEXT);
	expect_config("c", "c3", T0_TEXT);
	expect_error(get_channel("c2"), "not_found", "deleted channel");
	env.ctx.now = T2;
	ok_data(delete_channel("c1"));
	expect_config("a", "c3", T2_TEXT);
	expect_config("b", "", T2_TEXT);
	expect_config("c", "c3", T0_TEXT);
	ok_data(get_channel("c3"));
	env_close();
}

static void test_delete_channel_unknown_is_not_found_and_changes_nothing(void)
{
	const char *before;

	env_open();
	seed_three();
	before = snapshot();
	expect_error(delete_channel("ghost"), "not_found", "unknown");
	expect_error(run1(json_pack("{s:s}", "command", "deleteChannel")),
			"invalid_request", "missing id");
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	env_close();
}

static void test_deleted_channel_cannot_be_named_by_configs(void)
{
	const char *before;

	env_open();
	seed_three();
	ok_data(delete_channel("c2"));
	expect_error(delete_channel("c2"), "not_found", "deleted twice");
	before = snapshot();
	expect_error(create_config("new", "ext-new", json_pack("[s, s]", "c1", "c2")),
			"not_found", "createConfig naming it");
	expect_error(modify_config("b", json_pack("{s:[s]}", "channels", "c2")),
			"not_found", "modifyConfig naming it");
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	expect_error(get_config("new"), "not_found", "not created");
	/* Its id is free again. */
	ok_data(create_channel("c2", "again"));
	expect_config("a", "c3,c1", T0_TEXT);
	env_close();
}

/* ---- listConfigs -------------------------------------------------------- */

#define NCFG 300
#define NBATCH 3

typedef struct {
	char client_id[16];
	char external_id[16];
	char name[32];
	int enabled;
	time_t created;
} ref_t;

/* What was created, in listConfigs order once sorted. */
static ref_t refs[NCFG];

/* Config number i of the creation order: client_ids are scrambled so that
 * creation order and client_id order differ. */
static void make_ref(unsigned i, ref_t *r)
{
	unsigned k = (i * 7 + 3) % NCFG;

	snprintf(r->client_id, sizeof(r->client_id), "dev-%03u", k);
	snprintf(r->external_id, sizeof(r->external_id), "ext-%03u", k);
	switch (k % 6) {
	case 0: snprintf(r->name, sizeof(r->name), "Boiler %03u", k); break;
	case 1: snprintf(r->name, sizeof(r->name), "BOILER room %03u", k); break;
	case 2: snprintf(r->name, sizeof(r->name), "steam-boiler"); break;
	case 3: snprintf(r->name, sizeof(r->name), "Thermostat %03u", k); break;
	case 4: r->name[0] = '\0'; break;
	default: snprintf(r->name, sizeof(r->name), "Room %03u", k); break;
	}
	r->enabled = (k * 5) % 11 < 4;
	/* Two batches in the first second, one in the next. */
	r->created = i < 200 ? T0 : T0 + 1;
}

static int ref_order(const void *a, const void *b)
{
	const ref_t *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->client_id, y->client_id);
}

/* Creates the NCFG configs in NBATCH batches, then enables some. */
static void seed_configs(void)
{
	static const unsigned ends[NBATCH] = { 120, 200, NCFG };
	json_t *cmds, *enable = json_array();
	size_t nenable = 0;
	unsigned i = 0;

	for (unsigned b = 0; b < NBATCH; b++) {
		cmds = json_array();
		for (; i < ends[b]; i++) {
			make_ref(i, &refs[i]);
			json_array_append_new(cmds, json_pack("{s:s, s:s, s:s, s:s, s:s}",
					"command", "createConfig", "client_id", refs[i].client_id,
					"external_id", refs[i].external_id, "name", refs[i].name,
					"external_key", GIVEN_KEY));
			if (!refs[i].enabled)
				continue;
			nenable++;
			json_array_append_new(enable, json_pack("{s:s, s:s}", "command",
					"enableConfig", "client_id", refs[i].client_id));
		}
		/* One created_at per batch. */
		env.ctx.now = refs[ends[b] - 1].created;
		run_all_ok(cmds, ends[b] - (b ? ends[b - 1] : 0));
	}
	env.ctx.now = T0 + 5;
	run_all_ok(enable, nenable);
	qsort(refs, NCFG, sizeof(refs[0]), ref_order);
	clear_lines();
}

typedef struct {
	const char *what;
	const char *state;      /* NULL: no such field */
	const char *name;
	const char *external_id;
	long offset;            /* -1: no such field */
	long limit;
} list_case_t;

/* ASCII case-insensitive substring. */
static int contains_nocase(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

static int ref_matches(const ref_t *r, const list_case_t *c)
{
	if (c->state != NULL && r->enabled != (strcmp(c->state, "enabled") == 0))
		return 0;
	if (c->name != NULL && !contains_nocase(r->name, c->name))
		return 0;
	return c->external_id == NULL || strcmp(r->external_id, c->external_id) == 0;
}

static json_t *list_configs(const list_case_t *c)
{
	json_t *cmd = json_pack("{s:s}", "command", "listConfigs");

	if (c->state != NULL)
		json_object_set_new(cmd, "state", json_string(c->state));
	if (c->name != NULL)
		json_object_set_new(cmd, "name", json_string(c->name));
	if (c->external_id != NULL)
		json_object_set_new(cmd, "external_id", json_string(c->external_id));
	if (c->offset >= 0)
		json_object_set_new(cmd, "offset", json_integer(c->offset));
	if (c->limit >= 0)
		json_object_set_new(cmd, "limit", json_integer(c->limit));
	return run1(cmd);
}

/* An item of listConfigs is the admin view of r. */
static void assert_item(json_t *item, const ref_t *r, const char *what)
{
	CHECK_CASE(str_is(item, "client_id", r->client_id), what);
	CHECK_CASE(str_is(item, "external_id", r->external_id), what);
	CHECK_CASE(str_is(item, "name", r->name), what);
	CHECK_CASE(str_is(item, "state", r->enabled ? "enabled" : "disabled"), what);
	CHECK_CASE(str_is(item, "created_at", r->created == T0 ? T0_TEXT
			: "2023-11-14T22:13:21Z"), what);
	CHECK_CASE(json_object_get(item, "external_key") == NULL, what);
	CHECK_CASE(json_object_get(item, "client_key") == NULL, what);
	CHECK_CASE(json_is_false(json_object_get(item, "has_client_key")), what);
	CHECK_CASE(json_is_array(json_object_get(item, "channels")), what);
}

/* Runs case c and compares total and page with the reference. */
static void check_list_case(const list_case_t *c)
{
	long offset = c->offset >= 0 ? c->offset : 0;
	long limit = c->limit >= 0 ? c->limit : 10;
	json_t *data = ok_data(list_configs(c));
	json_t *items = json_object_get(data, "configs");
	size_t total = 0, want = 0;

	for (size_t i = 0; i < NCFG; i++) {
		if (!ref_matches(&refs[i], c))
			continue;
		if (total++ < (size_t)offset || want >= (size_t)limit)
			continue;
		assert_item(json_array_get(items, want++), &refs[i], c->what);
	}
	CHECK_CASE(json_integer_value(json_object_get(data, "total")) == (long)total,
			c->what);
	CHECK_CASE(json_array_size(items) == want, c->what);
	CHECK_CASE(json_integer_value(json_object_get(data, "offset")) == offset, c->what);
	CHECK_CASE(json_integer_value(json_object_get(data, "limit")) == limit, c->what);
	CHECK_CASE(strstr(env.last.payload, GIVEN_KEY) == NULL, c->what);
}

static void test_list_configs_filters_and_pages_match_the_reference(void)
{
	static const list_case_t cases[] = {
		{ "everything", NULL, NULL, NULL, 0, 1000 },
		{ "default page", NULL, NULL, NULL, -1, -1 },
		{ "second page", NULL, NULL, NULL, 10, 10 },
		{ "across the two seconds", NULL, NULL, NULL, 190, 20 },
		{ "enabled", "enabled", NULL, NULL, 0, 1000 },
		{ "disabled", "disabled", NULL, NULL, 0, 1000 },
		{ "disabled, a page", "disabled", NULL, NULL, 40, 25 },
		{ "name BoIlEr", NULL, "BoIlEr", NULL, 0, 1000 },
		{ "name ROOM, a page", NULL, "ROOM", NULL, 5, 20 },
		{ "name with a space", NULL, "r ro", NULL, 0, 1000 },
		{ "name nowhere", NULL, "zzz", NULL, 0, 1000 },
		{ "external_id exact", NULL, NULL, "ext-042", 0, 10 },
		{ "external_id prefix", NULL, NULL, "ext-04", 0, 10 },
		{ "external_id other case", NULL, NULL, "EXT-042", 0, 10 },
		{ "enabled + BoIlEr", "enabled", "BoIlEr", NULL, 0, 1000 },
		{ "disabled + boiler, a page", "disabled", "boiler", NULL, 3, 7 },
		{ "enabled + a disabled external_id", "enabled", NULL, "ext-001", 0, 10 },
		{ "disabled + its external_id", "disabled", NULL, "ext-001", 0, 10 },
		{ "name + external_id", NULL, "boiler", "ext-006", 0, 10 },
		{ "name + other external_id", NULL, "thermo", "ext-006", 0, 10 },
		{ "offset at the end", NULL, NULL, NULL, NCFG, 10 },
		{ "offset past the end", "enabled", NULL, NULL, 5000, 10 },
	};

	env_open();
	seed_configs();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_list_case(&cases[i]);
	CU_ASSERT_EQUAL(count_audit(), 0);
	env_close();
}

/* Walks listConfigs with limit; every client_id once, in order. */
static void walk_pages(long limit)
{
	size_t seen = 0;
	char what[64];

	snprintf(what, sizeof(what), "walk by %ld", limit);
	for (long offset = 0, pages = 0; pages < NCFG + 1; offset += limit, pages++) {
		list_case_t c = { what, NULL, NULL, NULL, offset, limit };
		json_t *data = ok_data(list_configs(&c));
		json_t *items = json_object_get(data, "configs");
		CHECK_CASE(json_integer_value(json_object_get(data, "total")) == NCFG, what);
		for (size_t i = 0; i < json_array_size(items) && seen < NCFG; i++, seen++)
			CHECK_CASE(str_is(json_array_get(items, i), "client_id",
					refs[seen].client_id), what);
		if (json_array_size(items) < (size_t)limit)
			break;
	}
	CHECK_CASE(seen == NCFG, what);
}

static void test_list_configs_pages_cover_the_set_once_in_order(void)
{
	env_open();
	seed_configs();
	walk_pages(37);
	walk_pages(100);
	walk_pages(1000);
	env_close();
}

/* The client_ids of a listConfigs page for a name filter, joined. */
static const char *names_matching(const char *name)
{
	list_case_t c = { name, NULL, name, NULL, 0, 1000 };
	json_t *items = json_object_get(ok_data(list_configs(&c)), "configs");
	static char buf[128];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(items) && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
				i ? "," : "", str(json_array_get(items, i), "client_id"));
	return buf;
}

static void test_list_configs_name_filter_takes_wildcards_literally(void)
{
	static const char *const names[] = { "50% off", "a_b", "aXb", "A\\B" };
	char id[8];

	env_open();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(id, sizeof(id), "d%zu", i);
		ok_data(run1(json_pack("{s:s, s:s, s:s, s:s}", "command",
				"createConfig", "client_id", id, "external_id", id,
				"name", names[i])));
	}
	CU_ASSERT_STRING_EQUAL(names_matching("%"), "d0");
	CU_ASSERT_STRING_EQUAL(names_matching("_"), "d1");
	CU_ASSERT_STRING_EQUAL(names_matching("a_"), "d1");
	CU_ASSERT_STRING_EQUAL(names_matching("\\"), "d3");
	CU_ASSERT_STRING_EQUAL(names_matching("ab"), "");
	CU_ASSERT_STRING_EQUAL(names_matching("XB"), "d2");
	env_close();
}

static void test_list_configs_bad_filter_or_page_is_invalid_request(void)
{
	static const char *const cases[] = {
		"{\"command\": \"listConfigs\", \"state\": \"ENABLED\"}",
		"{\"command\": \"listConfigs\", \"state\": \"on\"}",
		"{\"command\": \"listConfigs\", \"state\": \"\"}",
		"{\"command\": \"listConfigs\", \"state\": 1}",
		"{\"command\": \"listConfigs\", \"state\": true}",
		"{\"command\": \"listConfigs\", \"name\": 5}",
		"{\"command\": \"listConfigs\", \"external_id\": [\"x\"]}",
		"{\"command\": \"listConfigs\", \"limit\": 0}",
		"{\"command\": \"listConfigs\", \"limit\": 1001}",
		"{\"command\": \"listConfigs\", \"limit\": \"10\"}",
		"{\"command\": \"listConfigs\", \"offset\": -1}",
	};

	env_open();
	ok_data(create_config("dev-1", "ext-1", NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *cmd = json_loads(cases[i], 0, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
		expect_error(run1(cmd), "invalid_request", cases[i]);
	}
	env_close();
}

/* ---- modifyConfig: plain fields ----------------------------------------- */

static void test_modify_config_name_and_content_keep_created_at(void)
{
	json_t *data;

	env_open();
	ok_data(create_config("dev-1", "ext-1", NULL));
	env.ctx.now = T1;
	data = ok_data(modify_config("dev-1", json_pack("{s:s, s:s}", "name",
			"Kitchen boiler", "content", "{\"interval\":60}")));
	CU_ASSERT_TRUE(str_is(data, "name", "Kitchen boiler"));
	CU_ASSERT_TRUE(str_is(data, "content", "{\"interval\":60}"));
	CU_ASSERT_TRUE(str_is(data, "created_at", T0_TEXT));
	CU_ASSERT_TRUE(str_is(data, "updated_at", T1_TEXT));
	CU_ASSERT_TRUE(str_is(data, "external_id", "ext-1"));
	CU_ASSERT_TRUE(str_is(data, "state", "disabled"));
	CU_ASSERT_PTR_NULL(json_object_get(data, "external_key"));
	CU_ASSERT_PTR_NULL(json_object_get(data, "client_key"));
	env.ctx.now = T2;
	data = ok_data(modify_config("dev-1", json_pack("{s:s}", "content", "")));
	CU_ASSERT_TRUE(str_is(data, "name", "Kitchen boiler"));
	data = ok_data(get_config("dev-1"));
	CU_ASSERT_TRUE(str_is(data, "name", "Kitchen boiler"));
	CU_ASSERT_TRUE(str_is(data, "content", ""));
	CU_ASSERT_TRUE(str_is(data, "created_at", T0_TEXT));
	CU_ASSERT_TRUE(str_is(data, "updated_at", T2_TEXT));
	env_close();
}

static void test_modify_config_channels_replace_reorder_and_empty(void)
{
	json_t *data;

	env_open();
	ok_data(create_channel("c1", "one"));
	ok_data(create_channel("c2", "two"));
	ok_data(create_channel("c3", "three"));
	ok_data(create_config("dev-1", "ext-1", json_pack("[s, s]", "c1", "c2")));
	data = ok_data(modify_config("dev-1", json_pack("{s:[s, s]}", "channels",
			"c3", "c1")));
	CU_ASSERT_STRING_EQUAL(channel_ids(json_object_get(data, "channels")), "c3,c1");
	CU_ASSERT_STRING_EQUAL(channel_ids(json_object_get(ok_data(get_config("dev-1")),
			"channels")), "c3,c1");
	ok_data(modify_config("dev-1", json_pack("{s:[s, {s:s}, s]}", "channels",
			"c2", "id", "c1", "c3")));
	data = ok_data(get_config("dev-1"));
	CU_ASSERT_STRING_EQUAL(channel_ids(json_object_get(data, "channels")), "c2,c1,c3");
	CU_ASSERT_TRUE(str_is(json_array_get(json_object_get(data, "channels"), 0),
			"name", "two"));
	ok_data(modify_config("dev-1", json_pack("{s:s}", "name", "no channels field")));
	CU_ASSERT_STRING_EQUAL(channel_ids(json_object_get(ok_data(get_config("dev-1")),
			"channels")), "c2,c1,c3");
	data = ok_data(modify_config("dev-1", json_pack("{s:[]}", "channels")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(data, "channels")), 0);
	data = ok_data(get_config("dev-1"));
	CU_ASSERT_TRUE(json_is_array(json_object_get(data, "channels")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(data, "channels")), 0);
	env_close();
}

static void test_modify_config_unknown_channel_is_not_found_and_keeps_all(void)
{
	const char *before;

	env_open();
	ok_data(create_channel("c1", "one"));
	ok_data(create_channel("c2", "two"));
	ok_data(create_config("dev-1", "ext-1", json_pack("[s, s]", "c1", "c2")));
	before = snapshot();
	env.ctx.now = T1;
	expect_error(modify_config("dev-1", json_pack("{s:s, s:[s, s]}", "name",
			"changed", "channels", "c2", "ghost")), "not_found", "ghost");
	expect_error(modify_config("dev-1", json_pack("{s:[s, s]}", "channels",
			"c2", "c2")), "invalid_request", "twice");
	expect_error(modify_config("dev-1", json_pack("{s:s}", "channels", "c1")),
			"invalid_request", "not an array");
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	CU_ASSERT_STRING_EQUAL(channel_ids(json_object_get(ok_data(get_config("dev-1")),
			"channels")), "c1,c2");
	env_close();
}

static void test_modify_config_fixed_fields_are_invalid_request(void)
{
	static const char *const fixed[] = { "external_id", "client_secret", "state" };
	const char *before;

	env_open();
	ok_data(create_config("dev-1", "ext-1", NULL));
	before = snapshot();
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		json_t *f = json_pack("{s:s}", "name", "changed");
		json_object_set_new(f, fixed[i], json_string(i == 2 ? "enabled"
				: "a-new-value-1234"));
		expect_error(modify_config("dev-1", f), "invalid_request", fixed[i]);
	}
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	env_close();
}

static void test_modify_config_unknown_or_missing_client_id(void)
{
	const char *before;

	env_open();
	ok_data(create_config("dev-1", "ext-1", NULL));
	before = snapshot();
	expect_error(modify_config("ghost", json_pack("{s:s}", "name", "x")),
			"not_found", "unknown client_id");
	expect_error(run1(json_pack("{s:s, s:s}", "command", "modifyConfig",
			"name", "x")), "invalid_request", "missing client_id");
	expect_error(modify_config("dev-1", json_pack("{s:s}", "name",
			repeat('n', 257))), "invalid_request", "name of 257 bytes");
	expect_error(modify_config("dev-1", json_pack("{s:s}", "content",
			repeat('c', 65537))), "invalid_request", "content of 65537 bytes");
	expect_error(modify_config("dev-1", json_pack("{s:i}", "name", 3)),
			"invalid_request", "name a number");
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	env_close();
}

/* ---- modifyConfig: external_key and the device -------------------------- */

/* Bootstraps ext with key; returns the reply's err, *payload kept. */
static int bootstrap(const char *ext, const char *key, const char **payload)
{
	bs_request_ctx_t ctx = { .client_id = "device-cli", .address = "192.0.2.7",
		.now = T2 };
	json_t *req = json_pack("{s:s, s:s}", "external_id", ext, "external_key", key);
	char *text = json_dumps(req, JSON_COMPACT);
	bs_reply_t reply;
	int err;

	json_decref(req);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL_FATAL(bs_device_handle(env.core, &ctx, text, strlen(text),
			&reply), BS_OK);
	free(text);
	err = reply.err;
	if (payload != NULL)
		*payload = keep(strndup(reply.payload, reply.payloadlen));
	bs_reply_free(&reply);
	return err;
}

static void test_modify_config_external_key_is_shown_once_and_used(void)
{
	const char *reply = NULL;
	json_t *data;

	env_open();
	ok_data(create_config("dev-k", "ext-k", NULL));
	ok_data(run1(json_pack("{s:s, s:s}", "command", "enableConfig",
			"client_id", "dev-k")));
	CU_ASSERT_EQUAL(bootstrap("ext-k", GIVEN_KEY, NULL), BS_OK);
	env.ctx.now = T1;
	data = ok_data(modify_config("dev-k", json_pack("{s:s}", "external_key",
			NEW_KEY)));
	CU_ASSERT_TRUE(str_is(data, "external_key", NEW_KEY));
	CU_ASSERT_TRUE(str_is(data, "updated_at", T1_TEXT));
	data = ok_data(get_config("dev-k"));
	CU_ASSERT_PTR_NULL(json_object_get(data, "external_key"));
	CU_ASSERT_PTR_NULL(strstr(env.last.payload, NEW_KEY));
	data = ok_data(modify_config("dev-k", json_pack("{s:s}", "name", "n")));
	CU_ASSERT_PTR_NULL(json_object_get(data, "external_key"));
	CU_ASSERT_PTR_NULL(strstr(env.last.payload, NEW_KEY));
	CU_ASSERT_EQUAL(bootstrap("ext-k", GIVEN_KEY, &reply), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply, "\"unauthorized\""));
	CU_ASSERT_EQUAL(bootstrap("ext-k", NEW_KEY, &reply), BS_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply, "\"dev-k\""));
	CU_ASSERT_TRUE(log_free_of(NEW_KEY));
	CU_ASSERT_TRUE(log_free_of(GIVEN_KEY));
	env_close();
}

static void test_modify_config_bad_external_key_keeps_the_old_one(void)
{
	const char *before;

	env_open();
	ok_data(create_config("dev-k", "ext-k", NULL));
	ok_data(run1(json_pack("{s:s, s:s}", "command", "enableConfig",
			"client_id", "dev-k")));
	before = snapshot();
	expect_error(modify_config("dev-k", json_pack("{s:s}", "external_key",
			"short")), "invalid_request", "7 bytes or less");
	expect_error(modify_config("dev-k", json_pack("{s:s}", "external_key",
			repeat('k', 257))), "invalid_request", "257 bytes");
	expect_error(modify_config("dev-k", json_pack("{s:n}", "external_key")),
			"invalid_request", "null");
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	CU_ASSERT_EQUAL(bootstrap("ext-k", GIVEN_KEY, NULL), BS_OK);
	CU_ASSERT_TRUE(log_free_of("short"));
	env_close();
}

/* ---- modifyConfig: certificates ----------------------------------------- */

typedef struct {
	char *cert;      /* self-signed RSA certificate, PEM */
	char *key;       /* its private key, PEM */
	char line[65];   /* a line from the middle of the key's body */
} pair_t;

static pair_t pair_a, pair_b;

/* Runs openssl in dir, quietly. */
static int run_openssl(const char *dir, char *const args[])
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = chdir(dir) == 0 ? open("openssl.log", O_WRONLY | O_CREAT
				| O_APPEND, 0600) : -1;
		if (fd < 0)
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

/* dir/name, NUL-terminated and malloc()ed, or NULL. */
static char *read_file(const char *dir, const char *name)
{
	char path[160];
	char *buf = malloc(MAX_FILE + 1);
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (buf != NULL && fd >= 0)
		n = read(fd, buf, MAX_FILE);
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int make_pair(const char *dir, const char *cn, pair_t *p)
{
	char subj[64], keyname[32], certname[32];
	char *req[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", keyname, "-out", certname, "-days", "2", "-subj", subj, NULL };
	const char *line;

	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	snprintf(keyname, sizeof(keyname), "%s.key", cn);
	snprintf(certname, sizeof(certname), "%s.pem", cn);
	if (run_openssl(dir, req) != 0)
		return -1;
	p->cert = read_file(dir, certname);
	p->key = read_file(dir, keyname);
	if (p->cert == NULL || p->key == NULL)
		return -1;
	/* The third line of the key body: 64 base64 characters. */
	line = strchr(p->key, '\n');
	for (int i = 0; i < 2 && line != NULL; i++)
		line = strchr(line + 1, '\n');
	if (line == NULL)
		return -1;
	snprintf(p->line, sizeof(p->line), "%.64s", line + 1);
	return strlen(p->line) == 64 ? 0 : -1;
}

static void free_pair(pair_t *p)
{
	free(p->cert);
	free(p->key);
	memset(p, 0, sizeof(*p));
}

static int certs_init(void)
{
	char dir[64];
	int rc;

	if (tmpdir_make(dir, sizeof(dir), "/tmp/bs-edit-XXXXXX") != 0)
		return -1;
	rc = make_pair(dir, "pair-a", &pair_a);
	if (rc == 0)
		rc = make_pair(dir, "pair-b", &pair_b);
	tmpdir_remove(dir);
	return rc;
}

static int certs_clean(void)
{
	env_close();
	free_pair(&pair_a);
	free_pair(&pair_b);
	return 0;
}

/* modifyConfig with one certificate field set to v (NULL: JSON null). */
static json_t *set_pem(const char *client_id, const char *field, const char *v)
{
	json_t *f = json_object();

	json_object_set_new(f, field, v ? json_string(v) : json_null());
	return modify_config(client_id, f);
}

static void expect_pem(json_t *data, const char *field, const char *want,
		const char *how)
{
	json_t *v = json_object_get(data, field);

	CHECK_CASE(want ? str_is(data, field, want) : json_is_null(v), how);
}

static void assert_no_key_shown(const char *how)
{
	CHECK_CASE(strstr(env.last.payload, pair_a.line) == NULL, how);
	CHECK_CASE(strstr(env.last.payload, pair_b.line) == NULL, how);
	CHECK_CASE(strstr(env.last.payload, "PRIVATE KEY") == NULL, how);
}

/* The client_key a device of ext receives (kept), or NULL. */
static const char *served_key(const char *ext)
{
	const char *payload = NULL;
	json_t *reply;
	char *key = NULL;

	CU_ASSERT_EQUAL_FATAL(bootstrap(ext, GIVEN_KEY, &payload), BS_OK);
	reply = json_loads(payload, 0, NULL);
	if (str(reply, "client_key") != NULL)
		key = keep(strdup(str(reply, "client_key")));
	json_decref(reply);
	return key;
}

static void test_modify_config_certs_set_replace_and_clear(void)
{
	json_t *data;

	env_open();
	ok_data(create_config("dev-c", "ext-c", NULL));
	ok_data(run1(json_pack("{s:s, s:s}", "command", "enableConfig",
			"client_id", "dev-c")));
	data = ok_data(modify_config("dev-c", json_pack("{s:s, s:s, s:s}",
			"client_cert", pair_a.cert, "client_key", pair_a.key,
			"ca_cert", pair_b.cert)));
	expect_pem(data, "client_cert", pair_a.cert, "set");
	expect_pem(data, "ca_cert", pair_b.cert, "set");
	CU_ASSERT_TRUE(json_is_true(json_object_get(data, "has_client_key")));
	assert_no_key_shown("set reply");
	data = ok_data(get_config("dev-c"));
	expect_pem(data, "client_cert", pair_a.cert, "set, read");
	CU_ASSERT_TRUE(json_is_true(json_object_get(data, "has_client_key")));
	CU_ASSERT_PTR_NULL(json_object_get(data, "client_key"));
	assert_no_key_shown("set, read");
	CU_ASSERT_STRING_EQUAL(served_key("ext-c"), pair_a.key);
	/* Replace the pair in one command. */
	data = ok_data(modify_config("dev-c", json_pack("{s:s, s:s}",
			"client_cert", pair_b.cert, "client_key", pair_b.key)));
	expect_pem(data, "client_cert", pair_b.cert, "replaced");
	assert_no_key_shown("replace reply");
	CU_ASSERT_STRING_EQUAL(served_key("ext-c"), pair_b.key);
	/* null clears, one field at a time. */
	data = ok_data(set_pem("dev-c", "ca_cert", NULL));
	expect_pem(data, "ca_cert", NULL, "ca cleared");
	expect_pem(data, "client_cert", pair_b.cert, "ca cleared");
	data = ok_data(set_pem("dev-c", "client_key", NULL));
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	expect_pem(data, "client_cert", pair_b.cert, "key cleared");
	CU_ASSERT_PTR_NULL(served_key("ext-c"));
	data = ok_data(set_pem("dev-c", "client_cert", NULL));
	expect_pem(data, "client_cert", NULL, "cert cleared");
	data = ok_data(get_config("dev-c"));
	expect_pem(data, "client_cert", NULL, "all cleared, read");
	expect_pem(data, "ca_cert", NULL, "all cleared, read");
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	env_close();
}

static void test_modify_config_cert_not_matching_stored_key_changes_nothing(void)
{
	const char *before;
	json_t *data;

	env_open();
	ok_data(create_config("dev-c", "ext-c", NULL));
	ok_data(modify_config("dev-c", json_pack("{s:s, s:s}", "client_cert",
			pair_a.cert, "client_key", pair_a.key)));
	before = snapshot();
	env.ctx.now = T1;
	expect_error(set_pem("dev-c", "client_cert", pair_b.cert),
			"invalid_request", "cert of another key");
	expect_error(set_pem("dev-c", "client_key", pair_b.key),
			"invalid_request", "key of another cert");
	expect_error(modify_config("dev-c", json_pack("{s:s, s:s}", "name", "x",
			"client_key", pair_b.key)), "invalid_request", "with a name");
	expect_error(set_pem("dev-c", "client_cert", pair_a.key),
			"invalid_request", "a key as the certificate");
	assert_no_key_shown("refused");
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	data = ok_data(get_config("dev-c"));
	expect_pem(data, "client_cert", pair_a.cert, "kept");
	CU_ASSERT_TRUE(str_is(data, "updated_at", T0_TEXT));
	CU_ASSERT_TRUE(log_free_of(pair_a.line));
	CU_ASSERT_TRUE(log_free_of(pair_b.line));
	env_close();
}

static void test_modify_config_clearing_the_key_allows_a_new_cert(void)
{
	json_t *data;

	env_open();
	ok_data(create_config("dev-1", "ext-1", NULL));
	ok_data(create_config("dev-2", "ext-2", NULL));
	ok_data(modify_config("dev-1", json_pack("{s:s, s:s}", "client_cert",
			pair_a.cert, "client_key", pair_a.key)));
	ok_data(modify_config("dev-2", json_pack("{s:s, s:s}", "client_cert",
			pair_a.cert, "client_key", pair_a.key)));
	/* Two commands. */
	data = ok_data(set_pem("dev-1", "client_key", NULL));
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	data = ok_data(set_pem("dev-1", "client_cert", pair_b.cert));
	expect_pem(data, "client_cert", pair_b.cert, "two commands");
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	/* One command. */
	data = ok_data(modify_config("dev-2", json_pack("{s:n, s:s}", "client_key",
			"client_cert", pair_b.cert)));
	expect_pem(data, "client_cert", pair_b.cert, "one command");
	CU_ASSERT_TRUE(json_is_false(json_object_get(data, "has_client_key")));
	/* And the matching key can come back. */
	data = ok_data(set_pem("dev-2", "client_key", pair_b.key));
	CU_ASSERT_TRUE(json_is_true(json_object_get(data, "has_client_key")));
	env_close();
}

static void test_modify_config_secrets_never_reach_the_log(void)
{
	env_open();
	ok_data(create_config("dev-s", "ext-s", NULL));
	ok_data(modify_config("dev-s", json_pack("{s:s, s:s, s:s}", "external_key",
			NEW_KEY, "client_cert", pair_a.cert, "client_key", pair_a.key)));
	expect_error(modify_config("dev-s", json_pack("{s:s, s:s}", "external_key",
			GIVEN_KEY "-2", "client_key", pair_b.key)), "invalid_request",
			"mismatch with a key");
	expect_error(modify_config("ghost", json_pack("{s:s, s:s}", "external_key",
			NEW_KEY "-3", "client_key", pair_b.key)), "not_found", "unknown");
	CU_ASSERT_EQUAL(count_audit(), 4);
	CU_ASSERT_TRUE(log_free_of(NEW_KEY));
	CU_ASSERT_TRUE(log_free_of(GIVEN_KEY));
	CU_ASSERT_TRUE(log_free_of(pair_a.line));
	CU_ASSERT_TRUE(log_free_of(pair_b.line));
	CU_ASSERT_TRUE(log_free_of("PRIVATE KEY"));
	env_close();
}

/* ---- forbidden and size -------------------------------------------------- */

static void test_no_username_is_forbidden_for_every_command(void)
{
	static const char *const names[] = { "createChannel", "getChannel",
		"listChannels", "modifyChannel", "deleteChannel", "createConfig",
		"getConfig", "listConfigs", "modifyConfig", "enableConfig",
		"disableConfig", "deleteConfig" };
	const size_t n = sizeof(names) / sizeof(names[0]);
	const char *before;
	json_t *cmds = json_array(), *list;

	env_open();
	seed_linked();
	before = snapshot();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cmds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
				"command", names[i], "id", "ch1", "client_id", "dev-1",
				"name", "x", "external_id", "ext-new", "correlationData", names[i]));
	json_array_append_new(cmds, json_pack("{s:s}", "command", "dropEverything"));
	json_array_append_new(cmds, json_pack("{s:s, s:s}", "command", "getconfig",
			"client_id", "dev-1"));
	env.ctx.username = NULL;
	list = run_batch(cmds);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), n + 2);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(list, i);
		expect_error(r, "forbidden", names[i]);
		CHECK_CASE(str_is(r, "command", names[i]), names[i]);
		CHECK_CASE(str_is(r, "correlationData", names[i]), names[i]);
	}
	expect_error(json_array_get(list, n), "invalid_request", "unknown command");
	expect_error(json_array_get(list, n + 1), "invalid_request", "wrong case");
	CU_ASSERT_EQUAL(env.last.neffects, 0);
	/* Each forbidden change is still an event, with no user to name. */
	CU_ASSERT_EQUAL(env.last.nevents, 8);
	for (size_t i = 0; i < env.last.nevents; i++) {
		json_t *ev = json_loads(env.last.events[i], 0, NULL);
		CU_ASSERT(str_is(ev, "result", "forbidden"));
		CU_ASSERT_PTR_NULL(json_object_get(ev, "user"));
		json_decref(ev);
	}
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	env.ctx.username = "admin";
	CU_ASSERT_TRUE(str_is(ok_data(get_channel("ch1")), "name", "one"));
	env_close();
}

/* A field no command defines is refused, named, and changes nothing: a
 * misspelt external_key must never answer success. */
static void test_unknown_fields_are_refused_by_name(void)
{
	/* Each with a field it does define, and one it does not. */
	static const char *const cases[][3] = {
		{ "createChannel", "name", "x" }, { "getChannel", "id", "ch1" },
		{ "listChannels", "limit", NULL }, { "modifyChannel", "id", "ch1" },
		{ "deleteChannel", "id", "ch1" }, { "createConfig", "external_id", "ext-new" },
		{ "getConfig", "client_id", "dev-1" }, { "listConfigs", "name", "x" },
		{ "modifyConfig", "client_id", "dev-1" }, { "enableConfig", "client_id", "dev-1" },
		{ "disableConfig", "client_id", "dev-1" }, { "deleteConfig", "client_id", "dev-1" },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	const char *names[sizeof(cases) / sizeof(cases[0])];
	const char *before;
	json_t *cmds = json_array(), *list;

	env_open();
	seed_linked();
	before = snapshot();
	for (size_t i = 0; i < n; i++) {
		json_t *cmd = json_pack("{s:s, s:s}", "command", cases[i][0],
				"extnl_key", "rotated-key-1");
		json_object_set_new(cmd, cases[i][1], cases[i][2]
				? json_string(cases[i][2]) : json_integer(5));
		json_array_append_new(cmds, cmd);
		names[i] = cases[i][0];
	}
	list = run_batch(cmds);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), n);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(list, i);
		expect_error(r, "invalid_request", names[i]);
		CHECK_CASE(strstr(str(r, "message") ? str(r, "message") : "", "extnl_key")
				!= NULL, names[i]);
	}
	CU_ASSERT_EQUAL(env.last.neffects, 0);
	CU_ASSERT_STRING_EQUAL(before, snapshot());
	CU_ASSERT_TRUE(log_free_of("rotated-key-1"));
	/* The fields a command does define still work, correlationData too. */
	ok_data(run1(json_pack("{s:s, s:s, s:s, s:s}", "command", "modifyConfig",
			"client_id", "dev-1", "name", "renamed", "correlationData", "c9")));
	env_close();
}

/* {"commands": [createChannel big]} padded with spaces to len bytes. */
static char *padded_batch(size_t len)
{
	static const char head[] = "{\"commands\": [{\"command\": \"createChannel\", "
		"\"id\": \"big\", \"name\": \"n\"}]";
	char *buf = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memset(buf, ' ', len);
	memcpy(buf, head, sizeof(head) - 1);
	buf[len - 1] = '}';
	return buf;
}

static void test_payload_over_32_mib_is_one_invalid_request(void)
{
	char *big = padded_batch((size_t)BS_ADMIN_MAX_BYTES + 1);
	json_t *list;

	env_open();
	list = run_raw(big, (size_t)BS_ADMIN_MAX_BYTES + 1);
	free(big);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 1);
	CU_ASSERT_TRUE(str_is(json_array_get(list, 0), "command", ""));
	expect_error(json_array_get(list, 0), "invalid_request", "32 MiB + 1");
	expect_error(get_channel("big"), "not_found", "not applied");
	CU_ASSERT_EQUAL(count_audit(), 0);
	/* 32 MiB exactly is still a batch. */
	big = padded_batch(BS_ADMIN_MAX_BYTES);
	list = run_raw(big, BS_ADMIN_MAX_BYTES);
	free(big);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 1);
	ok_data(json_array_get(list, 0));
	ok_data(get_channel("big"));
	env_close();
}

/* {"commands": [1,1,...]} of n ones, or when quoted {"commands":
 * [{"command": "getChannel", "id": ",,,..."}]} with n commas in the id;
 * the message of its only response. */
static const char *run_wide(size_t n, int quoted)
{
	char *buf = malloc(2 * n + 128);
	size_t at;
	json_t *list;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	at = (size_t)sprintf(buf, "{\"commands\": [%s", quoted
			? "{\"command\": \"getChannel\", \"id\": \"" : "1");
	for (size_t i = quoted ? 0 : 1; i < n; i++) {
		buf[at++] = ',';
		if (!quoted)
			buf[at++] = '1';
	}
	at += (size_t)sprintf(buf + at, "%s]}", quoted ? "\"}" : "");
	list = run_raw(buf, at);
	free(buf);
	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 1);
	return str(json_array_get(list, 0), "message");
}

static void test_payload_of_too_many_values_is_refused_unparsed(void)
{
	const char *why;

	env_open();
	/* The object, its array and 499,999 ones: one value too many, refused
	 * before Jansson builds a tree of them (about 220 bytes a value). */
	why = run_wide(BS_ADMIN_MAX_VALUES - 1, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, "payload has more than 500000 JSON values");
	/* 500,000 exactly: parsed, then refused for its 499,998 commands. */
	why = run_wide(BS_ADMIN_MAX_VALUES - 2, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, "too many commands in one message (at most 10000)");
	/* Commas inside a string are no values: the command runs. */
	why = run_wide(2 * BS_ADMIN_MAX_VALUES, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NULL(strstr(why, "JSON values"));
	env_close();
}

/* ---- audit -------------------------------------------------------------- */

static void test_audit_one_line_per_modify_or_delete(void)
{
	static const audit_want_t want[] = {
		{ "modifyChannel", "ch1", "ok" },
		{ "modifyChannel", "ghost", "not_found" },
		{ "modifyChannel", "ch1", "invalid_request" },
		{ "modifyConfig", "dev-1", "ok" },
		{ "modifyConfig", "ghost", "not_found" },
		{ "modifyConfig", "dev-1", "invalid_request" },
		{ "deleteChannel", "ch2", "ok" },
		{ "deleteChannel", "ch2", "not_found" },
	};

	env_open();
	seed_linked();
	clear_lines();
	ok_data(modify_channel(json_pack("{s:s, s:s}", "id", "ch1", "name", "uno")));
	expect_error(modify_channel(json_pack("{s:s, s:s}", "id", "ghost",
			"name", "x")), "not_found", "modifyChannel ghost");
	expect_error(modify_channel(json_pack("{s:s, s:s}", "id", "ch1",
			"metadata", "x")), "invalid_request", "modifyChannel bad");
	ok_data(modify_config("dev-1", json_pack("{s:s}", "name", "n")));
	expect_error(modify_config("ghost", json_pack("{s:s}", "name", "n")),
			"not_found", "modifyConfig ghost");
	expect_error(modify_config("dev-1", json_pack("{s:s}", "state", "enabled")),
			"invalid_request", "modifyConfig state");
	ok_data(delete_channel("ch2"));
	expect_error(delete_channel("ch2"), "not_found", "deleteChannel again");
	assert_audit_lines(want, sizeof(want) / sizeof(want[0]));
	env_close();
}

static void test_audit_lists_write_no_line(void)
{
	list_case_t all = { "all", NULL, NULL, NULL, 0, 1000 };
	list_case_t bad = { "bad", "on", NULL, NULL, 0, 10 };

	env_open();
	seed_linked();
	clear_lines();
	ok_data(list_channels(-1, -1));
	ok_data(list_configs(&all));
	expect_error(list_channels(0, 0), "invalid_request", "bad limit");
	expect_error(list_configs(&bad), "invalid_request", "bad state");
	CU_ASSERT_EQUAL(count_audit(), 0);
	CU_ASSERT_EQUAL(env.nlines, 0);
	env_close();
}

/* ---- main ---------------------------------------------------------------- */

static const cu_test_t channel_tests[] = {
	T(test_list_channels_default_page_is_first_10_with_total),
	T(test_list_channels_pages_in_creation_then_id_order),
	T(test_list_channels_offset_past_the_end_is_empty_with_total),
	T(test_list_channels_bad_offset_or_limit_is_invalid_request),
	T(test_modify_channel_changes_name_and_metadata_everywhere),
	T(test_modify_channel_name_alone_keeps_metadata_and_back),
	T(test_modify_channel_null_metadata_resets_to_empty_object),
	T(test_modify_channel_bad_input_is_refused_and_changes_nothing),
	T(test_delete_channel_leaves_configs_keeping_the_others_order),
	T(test_delete_channel_unknown_is_not_found_and_changes_nothing),
	T(test_deleted_channel_cannot_be_named_by_configs),
	{ NULL, NULL },
};

static const cu_test_t list_tests[] = {
	T(test_list_configs_filters_and_pages_match_the_reference),
	T(test_list_configs_pages_cover_the_set_once_in_order),
	T(test_list_configs_name_filter_takes_wildcards_literally),
	T(test_list_configs_bad_filter_or_page_is_invalid_request),
	{ NULL, NULL },
};

static const cu_test_t modify_tests[] = {
	T(test_modify_config_name_and_content_keep_created_at),
	T(test_modify_config_channels_replace_reorder_and_empty),
	T(test_modify_config_unknown_channel_is_not_found_and_keeps_all),
	T(test_modify_config_fixed_fields_are_invalid_request),
	T(test_modify_config_unknown_or_missing_client_id),
	T(test_modify_config_external_key_is_shown_once_and_used),
	T(test_modify_config_bad_external_key_keeps_the_old_one),
	{ NULL, NULL },
};

static const cu_test_t cert_tests[] = {
	T(test_modify_config_certs_set_replace_and_clear),
	T(test_modify_config_cert_not_matching_stored_key_changes_nothing),
	T(test_modify_config_clearing_the_key_allows_a_new_cert),
	T(test_modify_config_secrets_never_reach_the_log),
	{ NULL, NULL },
};

static const cu_test_t guard_tests[] = {
	T(test_no_username_is_forbidden_for_every_command),
	T(test_unknown_fields_are_refused_by_name),
	T(test_payload_over_32_mib_is_one_invalid_request),
	T(test_payload_of_too_many_values_is_refused_unparsed),
	T(test_audit_one_line_per_modify_or_delete),
	T(test_audit_lists_write_no_line),
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("admin_edit_channels", NULL, suite_clean, channel_tests);
	cu_add_suite("admin_edit_list_configs", NULL, suite_clean, list_tests);
	cu_add_suite("admin_edit_modify_config", NULL, suite_clean, modify_tests);
	cu_add_suite("admin_edit_certs", certs_init, certs_clean, cert_tests);
	cu_add_suite("admin_edit_guards", NULL, suite_clean, guard_tests);
	return cu_run("admin_edit");
}
