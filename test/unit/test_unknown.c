/*
 * The unknown devices (protocol 7.3): lib/unknown.c's bounded table with
 * its least-recently-seen eviction, the batches the write-behind path
 * writes, listUnknown and clearUnknown, the forgetting on createConfig,
 * and never a key anywhere.
 */
#include "admin_env.h"
#include "cu_main.h"
#include "device.h"
#include "error.h"
#include "store_sqlite.h"
#include "store_unknown.h"
#include "tmpdir.h"
#include "unknown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KEY "the-right-key-1"
#define SECRET_KEY "never-kept-key-4f1c"

/* A bootstrap by ext with key from address at T0 + dt. */
static void boot_at(const char *ext, const char *key, const char *address, time_t dt)
{
	bs_request_ctx_t ctx = { .client_id = "dev", .address = address, .now = T0 + dt };
	bs_reply_t reply;
	char payload[512];

	snprintf(payload, sizeof payload, "{\"external_id\":\"%s\",\"external_key\":\"%s\"}",
			ext, key);
	CU_ASSERT_EQUAL_FATAL(bs_device_handle(env.core, &ctx, payload, strlen(payload),
			&reply), BS_OK);
	bs_reply_free(&reply);
}

static void request(const char *payload)
{
	bs_request_ctx_t ctx = { .client_id = "dev", .address = "192.0.2.9", .now = T0 };
	bs_reply_t reply;

	CU_ASSERT_EQUAL_FATAL(bs_device_handle(env.core, &ctx, payload, strlen(payload),
			&reply), BS_OK);
	bs_reply_free(&reply);
}

static void open_with(const char *max)
{
	const char *const extra[] = { "max_unknown", max, "max_failures", "0", NULL };

	env_close();
	if (tmpdir_make(env.dir, sizeof(env.dir), "/tmp/bs-unknown-XXXXXX") != 0)
		CU_FAIL_FATAL("mkdtemp");
	env_path(env.db, sizeof(env.db), "bootstrap.db");
	env.ctx.username = "admin";
	env.ctx.client_id = "admin-cli";
	env.ctx.now = T0;
	CU_ASSERT_EQUAL_FATAL(open_core_with(extra), BS_OK);
}

static json_t *list_unknown(json_t *cmd)
{
	json_object_set_new(cmd, "command", json_string("listUnknown"));
	return ok_data(run1(cmd));
}

static json_t *list_all(void)
{
	return list_unknown(json_pack("{si}", "limit", 1000));
}

static json_t *item(json_t *data, size_t i)
{
	return json_array_get(json_object_get(data, "unknown"), i);
}

static long long num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static long long stat_unknown(void)
{
	return num(ok_data(run1(json_pack("{ss}", "command", "getStats"))), "unknown");
}

static void create_config(const char *ext)
{
	ok_data(run1(json_pack("{ss ss ss}", "command", "createConfig",
			"external_id", ext, "external_key", KEY)));
}

static long long rows(void)
{
	sqlite3 *db = raw_conn();
	sqlite3_stmt *s = NULL;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM unknown_devices", -1, &s, NULL)
			== SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	raw_release(db);
	return n;
}

/* 1 when the file at path holds text anywhere (a missing file does not). */
static int file_holds(const char *path, const char *text)
{
	FILE *fp = fopen(path, "rb");
	size_t len = strlen(text), n = 0, cap = 0;
	char *buf = NULL;
	int found = 0;

	if (fp == NULL)
		return 0;
	for (;;) {
		if (n == cap) {
			char *grown = realloc(buf, cap = cap ? 2 * cap : 65536);
			CU_ASSERT_PTR_NOT_NULL_FATAL(grown);
			buf = grown;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		if (got == 0)
			break;
		n += got;
	}
	fclose(fp);
	for (size_t i = 0; !found && i + len <= n; i++)
		found = memcmp(buf + i, text, len) == 0;
	free(buf);
	return found;
}

/* ---- the table alone ---------------------------------------------------- */

static void test_table_is_bounded_and_drops_the_least_recently_seen(void)
{
	bs_unknown_t u;
	char id[64];

	CU_ASSERT_EQUAL_FATAL(bs_unknown_init(&u, 3), BS_OK);
	bs_unknown_seen(&u, "a", "192.0.2.1", 1);
	bs_unknown_seen(&u, "b", "192.0.2.1", 2);
	bs_unknown_seen(&u, "c", "192.0.2.1", 3);
	bs_unknown_seen(&u, "a", "192.0.2.1", 4);   /* a is now the newest */
	bs_unknown_seen(&u, "d", "192.0.2.1", 5);   /* b goes */
	CU_ASSERT_EQUAL(bs_unknown_count(&u), 3);
	CU_ASSERT_EQUAL(bs_unknown_drop(&u, "b"), 0);
	CU_ASSERT_EQUAL(bs_unknown_count(&u), 3);
	bs_unknown_seen(&u, "e", "192.0.2.1", 6);   /* c goes */
	bs_unknown_drop(&u, "c");
	CU_ASSERT_EQUAL(bs_unknown_count(&u), 3);
	bs_unknown_drop(&u, "a");
	bs_unknown_drop(&u, "d");
	bs_unknown_drop(&u, "e");
	CU_ASSERT_EQUAL(bs_unknown_count(&u), 0);
	CU_ASSERT_EQUAL(bs_unknown_pending(&u), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "id-%d", i);
		bs_unknown_seen(&u, id, NULL, 7);
	}
	CU_ASSERT_EQUAL(bs_unknown_count(&u), 3);
	CU_ASSERT_EQUAL(bs_unknown_pending(&u), 3);
	bs_unknown_drop(&u, NULL);
	CU_ASSERT_EQUAL(bs_unknown_count(&u), 0);
	CU_ASSERT_EQUAL(bs_unknown_pending(&u), 0);
	bs_unknown_free(&u);
}

/* A flood of random IDs: the table stays at its bound, its memory stops
 * growing once full (the dropped entry's memory is reused), and an entry
 * costs what the bench and the README say. */
static void test_flood_keeps_memory_at_the_bound(void)
{
	enum { MAX = 1000, FLOOD = 200000 };
	bs_unknown_t u;
	size_t full = 0;
	uint64_t x = 88172645463325252ULL;
	char id[64];

	CU_ASSERT_EQUAL_FATAL(bs_unknown_init(&u, MAX), BS_OK);
	for (int i = 0; i < FLOOD; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* 17 bytes, as a MAC address is */
		snprintf(id, sizeof id, "%02x:%02x:%02x:%02x:%02x:%02x",
				(unsigned)(x & 0xff), (unsigned)(x >> 8 & 0xff),
				(unsigned)(x >> 16 & 0xff), (unsigned)(x >> 24 & 0xff),
				(unsigned)(x >> 32 & 0xff), (unsigned)(x >> 40 & 0xff));
		bs_unknown_seen(&u, id, "2001:db8::1", (time_t)i);
		if (i == MAX - 1)
			full = bs_unknown_bytes(&u);
	}
	CU_ASSERT_EQUAL(bs_unknown_count(&u), MAX);
	CU_ASSERT_EQUAL(bs_unknown_pending(&u), MAX);
	CU_ASSERT_EQUAL(bs_unknown_bytes(&u), full);
	printf("\n    unknown table: %zu bytes for %d entries (%.0f bytes each, "
			"buckets included, malloc's own header not)\n", full, MAX,
			(double)full / MAX);
	CU_ASSERT(full / MAX <= 200);
	bs_unknown_free(&u);
}

static void test_max_unknown_zero_remembers_nothing(void)
{
	json_t *d;

	open_with("0");
	boot_at("ghost-1", KEY, "192.0.2.1", 0);
	boot_at("ghost-2", KEY, "192.0.2.1", 1);
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 0);
	CU_ASSERT_EQUAL(bs_unknown_bytes(&env.core->unknown), 0);
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(d, "unknown")), 0);
	CU_ASSERT_EQUAL(stat_unknown(), 0);
	CU_ASSERT_EQUAL(rows(), 0);
}

/* ---- through the core ---------------------------------------------------- */

/* A tick that drains the ring of attempts: the tick skips its work while
 * the write-behind thread holds the store (as it may just after it
 * started), so it is tried again until the ring is empty. */
static void tick_drained(void)
{
	for (int tries = 0; tries < 1000; tries++) {
		bs_core_tick(env.core, 1);
		if (env.core->attempts.n == 0)
			return;
		usleep(1000);
	}
}

static void test_attempts_are_counted_and_the_last_address_kept(void)
{
	json_t *d, *e;

	open_with("100");
	boot_at("ghost", KEY, "192.0.2.1", 0);
	boot_at("ghost", "another-key-2", "192.0.2.2", 5);
	/* Remembering writes nothing on the request path: the attempts wait
	 * in the ring for the tick (or an admin read, which flushes). */
	CU_ASSERT_EQUAL(rows(), 0);
	CU_ASSERT_EQUAL(env.core->attempts.n, 2);
	tick_drained();
	CU_ASSERT_EQUAL(env.core->attempts.n, 0);
	CU_ASSERT_EQUAL(bs_unknown_pending(&env.core->unknown), 1);
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 1);
	e = item(d, 0);
	CU_ASSERT(str_is(e, "external_id", "ghost"));
	CU_ASSERT(str_is(e, "first_seen", "2023-11-14T22:13:20Z"));
	CU_ASSERT(str_is(e, "last_seen", "2023-11-14T22:13:25Z"));
	CU_ASSERT_EQUAL(num(e, "attempts"), 2);
	CU_ASSERT(str_is(e, "address", "192.0.2.2"));
	CU_ASSERT_EQUAL(json_object_size(e), 5);
	/* Written once, and added to after. */
	boot_at("ghost", KEY, "192.0.2.3", 9);
	e = item(list_all(), 0);
	CU_ASSERT_EQUAL(num(e, "attempts"), 3);
	CU_ASSERT(str_is(e, "first_seen", "2023-11-14T22:13:20Z"));
	CU_ASSERT(str_is(e, "last_seen", "2023-11-14T22:13:29Z"));
	CU_ASSERT(str_is(e, "address", "192.0.2.3"));
	CU_ASSERT_EQUAL(rows(), 1);
}

/* Known IDs (right key, wrong key, disabled), challenges, bad requests
 * and locked-out pairs are not unknown devices. */
static void test_only_ids_without_a_config_are_remembered(void)
{
	open_with("100");
	create_config("known");
	boot_at("known", KEY, "192.0.2.1", 0);
	boot_at("known", "wrong-key-123", "192.0.2.1", 0);
	/* A wrong key takes a slot of the ring as an unknown ID does (the two
	 * cost the same), and is dropped at the tick. */
	CU_ASSERT_EQUAL(env.core->attempts.n, 1);
	tick_drained();
	CU_ASSERT_EQUAL(env.core->attempts.n, 0);
	request("{\"external_id\":\"chal\",\"op\":\"challenge\"}");
	request("{\"external_id\":\"bad/id\",\"external_key\":\"k12345678\"}");
	request("{\"external_id\":\"nokey\"}");
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 0);
	CU_ASSERT_EQUAL(num(list_all(), "total"), 0);
	/* An answer to a challenge naming an unknown ID is an attempt. */
	request("{\"external_id\":\"chal\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
			"\"proof\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}");
	/* (its nonce was never issued: refused before the lookup) */
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 0);
}

/* Past its size the ring drops the oldest attempts, and counts them. */
static void test_a_flood_between_ticks_drops_the_oldest(void)
{
	char ext[32];

	open_with("5000");
	for (int i = 0; i < BS_ATTEMPTS_RING + 10; i++) {
		snprintf(ext, sizeof ext, "flood-%05d", i);
		boot_at(ext, KEY, "192.0.2.1", i);
	}
	CU_ASSERT_EQUAL(env.core->attempts.n, BS_ATTEMPTS_RING);
	CU_ASSERT_EQUAL(env.core->attempts.dropped, 10);
	tick_drained();
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), BS_ATTEMPTS_RING);
}

static void test_list_is_most_recent_first_and_paged(void)
{
	json_t *d;
	char ext[32];

	open_with("100");
	for (int i = 0; i < 15; i++) {
		snprintf(ext, sizeof ext, "ghost-%02d", i);
		boot_at(ext, KEY, "192.0.2.1", i);
	}
	boot_at("ghost-03", KEY, "192.0.2.1", 20);   /* the newest now */
	d = list_unknown(json_object());
	CU_ASSERT_EQUAL(num(d, "total"), 15);
	CU_ASSERT_EQUAL(num(d, "offset"), 0);
	CU_ASSERT_EQUAL(num(d, "limit"), 10);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(d, "unknown")), 10);
	CU_ASSERT(str_is(item(d, 0), "external_id", "ghost-03"));
	CU_ASSERT(str_is(item(d, 1), "external_id", "ghost-14"));
	CU_ASSERT(str_is(item(d, 9), "external_id", "ghost-06"));
	d = list_unknown(json_pack("{si si}", "offset", 10, "limit", 3));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(d, "unknown")), 3);
	CU_ASSERT(str_is(item(d, 0), "external_id", "ghost-05"));
	CU_ASSERT(str_is(item(d, 2), "external_id", "ghost-02"));
	d = list_unknown(json_pack("{si}", "offset", 14));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(d, "unknown")), 1);
	CU_ASSERT(str_is(item(d, 0), "external_id", "ghost-00"));
	expect_error(run1(json_pack("{ss si}", "command", "listUnknown", "limit", 1001)),
			"invalid_request", "limit over 1000");
	expect_error(run1(json_pack("{ss si}", "command", "listUnknown", "offset", -1)),
			"invalid_request", "negative offset");
	expect_error(run1(json_pack("{ss ss}", "command", "listUnknown", "state", "x")),
			"invalid_request", "a field listUnknown does not define");
}

static void test_the_bound_holds_in_the_store_too(void)
{
	json_t *d;
	char ext[32];

	open_with("3");
	for (int i = 0; i < 3; i++) {
		snprintf(ext, sizeof ext, "old-%d", i);
		boot_at(ext, KEY, "192.0.2.1", i);
	}
	CU_ASSERT_EQUAL(num(list_all(), "total"), 3);  /* written */
	for (int i = 0; i < 5; i++) {
		snprintf(ext, sizeof ext, "new-%d", i);
		boot_at(ext, KEY, "192.0.2.1", 10 + i);
	}
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 3);
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 3);
	CU_ASSERT(str_is(item(d, 0), "external_id", "new-4"));
	CU_ASSERT(str_is(item(d, 2), "external_id", "new-2"));
	CU_ASSERT_EQUAL(rows(), 3);
	CU_ASSERT_EQUAL(stat_unknown(), 3);
}

static void test_create_config_forgets_the_device(void)
{
	json_t *d;

	open_with("100");
	boot_at("ghost-a", KEY, "192.0.2.1", 0);
	boot_at("ghost-b", KEY, "192.0.2.1", 1);
	CU_ASSERT_EQUAL(num(list_all(), "total"), 2);    /* ghost-a has a row */
	boot_at("ghost-c", KEY, "192.0.2.1", 2);         /* in memory only */
	CU_ASSERT_EQUAL(stat_unknown(), 3);
	create_config("ghost-a");
	create_config("ghost-c");
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 1);
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 1);
	CU_ASSERT(str_is(item(d, 0), "external_id", "ghost-b"));
	CU_ASSERT_EQUAL(stat_unknown(), 1);
	/* A failed createConfig (the same external_id again) forgets nothing. */
	boot_at("ghost-b", KEY, "192.0.2.1", 3);
	expect_error(run1(json_pack("{ss ss ss}", "command", "createConfig",
			"external_id", "ghost-a", "external_key", KEY)), "conflict", "duplicate");
	CU_ASSERT_EQUAL(num(list_all(), "total"), 1);
	/* Called by the enrollment code on the request path. */
	CU_ASSERT_EQUAL_FATAL(bs_core_enter(env.core), BS_OK);
	bs_unknown_forget(env.core, "ghost-b");
	bs_core_leave(env.core);
	CU_ASSERT_EQUAL(num(list_all(), "total"), 0);
	CU_ASSERT_EQUAL(stat_unknown(), 0);
}

static void test_clear_unknown_one_and_all(void)
{
	static const audit_want_t want[] = {
		{ "clearUnknown", "ghost-1", "ok" },
		{ "clearUnknown", "not-remembered", "ok" },
		{ "clearUnknown", "bad/id", "invalid_request" },
		{ "clearUnknown", "-", "invalid_request" },
		{ "clearUnknown", "-", "ok" },
	};
	json_t *d;

	open_with("100");
	boot_at("ghost-1", KEY, "192.0.2.1", 0);
	boot_at("ghost-2", KEY, "192.0.2.1", 1);
	CU_ASSERT_EQUAL(num(list_all(), "total"), 2);
	boot_at("ghost-3", KEY, "192.0.2.1", 2);
	clear_lines();
	d = ok_data(run1(json_pack("{ss ss}", "command", "clearUnknown",
			"external_id", "ghost-1")));
	CU_ASSERT_EQUAL(json_object_size(d), 0);
	CU_ASSERT_EQUAL(env.last.nevents, 1);
	if (env.last.nevents == 1)
		CU_ASSERT_PTR_NOT_NULL(strstr(env.last.events[0], "\"event\":\"clearUnknown\""));
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 2);
	CU_ASSERT(str_is(item(d, 0), "external_id", "ghost-3"));
	CU_ASSERT(str_is(item(d, 1), "external_id", "ghost-2"));
	ok_data(run1(json_pack("{ss ss}", "command", "clearUnknown",
			"external_id", "not-remembered")));
	expect_error(run1(json_pack("{ss ss}", "command", "clearUnknown",
			"external_id", "bad/id")), "invalid_request", "bad external_id");
	expect_error(run1(json_pack("{ss si}", "command", "clearUnknown",
			"external_id", 7)), "invalid_request", "external_id not a string");
	boot_at("ghost-4", KEY, "192.0.2.1", 3);        /* in memory only */
	ok_data(run1(json_pack("{ss}", "command", "clearUnknown")));
	CU_ASSERT_EQUAL(num(list_all(), "total"), 0);
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 0);
	CU_ASSERT_EQUAL(rows(), 0);
	/* Audited like every change, refused ones too. */
	assert_audit_lines(want, sizeof(want) / sizeof(want[0]));
}

/* Neither the reply, the table, the log nor the database file holds a key
 * a device sent. */
static void test_never_a_key(void)
{
	char path[160];
	json_t *resp;
	char *text;
	int found = 0;

	open_with("100");
	boot_at("ghost", SECRET_KEY, "192.0.2.1", 0);
	boot_at("ghost", SECRET_KEY, "192.0.2.1", 1);
	resp = run1(json_pack("{ss}", "command", "listUnknown"));
	text = json_dumps(resp, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strstr(text, SECRET_KEY));
	CU_ASSERT_PTR_NULL(strstr(text, "key"));
	free(text);
	CU_ASSERT(log_free_of(SECRET_KEY));
	bs_core_close(env.core);
	env.core = NULL;
	/* The database and its write-ahead log, byte for byte. */
	for (int f = 0; f < 2; f++) {
		snprintf(path, sizeof path, "%s%s", env.db, f ? "-wal" : "");
		found |= file_holds(path, SECRET_KEY);
	}
	CU_ASSERT_FALSE(found);
}

/* What memory held is written at close, read back at the next start, and
 * added to; a smaller max_unknown keeps the most recently seen. */
static void test_restart_keeps_the_list(void)
{
	const char *const three[] = { "max_unknown", "3", "max_failures", "0", NULL };
	const char *const two[] = { "max_unknown", "2", "max_failures", "0", NULL };
	char ext[32];
	json_t *d;

	open_with("3");
	for (int i = 0; i < 3; i++) {
		snprintf(ext, sizeof ext, "ghost-%d", i);
		boot_at(ext, KEY, "192.0.2.1", i);
	}
	bs_core_close(env.core);                     /* writes them */
	env.core = NULL;
	CU_ASSERT_EQUAL(rows(), 3);
	CU_ASSERT_EQUAL_FATAL(open_core_with(three), BS_OK);
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 3);
	boot_at("ghost-0", KEY, "192.0.2.7", 10);
	boot_at("ghost-9", KEY, "192.0.2.1", 11);    /* ghost-1 is the oldest: it goes */
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 3);
	CU_ASSERT(str_is(item(d, 0), "external_id", "ghost-9"));
	CU_ASSERT(str_is(item(d, 1), "external_id", "ghost-0"));
	CU_ASSERT_EQUAL(num(item(d, 1), "attempts"), 2);
	CU_ASSERT(str_is(item(d, 1), "address", "192.0.2.7"));
	CU_ASSERT(str_is(item(d, 2), "external_id", "ghost-2"));
	bs_core_close(env.core);
	env.core = NULL;
	CU_ASSERT_EQUAL_FATAL(open_core_with(two), BS_OK);
	CU_ASSERT_EQUAL(bs_unknown_count(&env.core->unknown), 2);
	d = list_all();
	CU_ASSERT_EQUAL(num(d, "total"), 2);
	CU_ASSERT(str_is(item(d, 1), "external_id", "ghost-0"));
}

/* The write-behind thread writes a batch handed over at a tick, while the
 * broker thread's requests go on. */
static void test_the_thread_writes_the_batch(void)
{
	char ext[32];
	long long n = 0;

	open_with("5000");
	for (int i = 0; i < 3000; i++) {
		snprintf(ext, sizeof ext, "ghost-%04d", i);
		boot_at(ext, KEY, "192.0.2.1", i);
		/* The broker ticks between its batches of requests. */
		if (i % 500 == 499)
			tick_drained();
	}
	CU_ASSERT_EQUAL(bs_unknown_pending(&env.core->unknown), 3000);
	bs_core_tick(env.core, (long long)BS_FLUSH_SECONDS * 1000 + 1);
	for (int tries = 0; tries < 500 && n != 3000; tries++) {
		usleep(10000);
		if (bs_core_enter(env.core) != BS_OK)
			continue;
		if (bs_unknown_waiting(&env.core->unknown) == 0)
			n = rows();
		bs_core_leave(env.core);
	}
	CU_ASSERT_EQUAL(n, 3000);
	CU_ASSERT_EQUAL(bs_unknown_pending(&env.core->unknown), 0);
}

/* The store failing: the batch waits, nothing is lost. */
static void test_a_failed_write_loses_nothing(void)
{
	bs_unknown_t u;
	size_t failed = 0;

	open_with("100");
	CU_ASSERT_EQUAL_FATAL(bs_unknown_init(&u, 10), BS_OK);
	bs_unknown_seen(&u, "ghost", "192.0.2.1", 5);
	CU_ASSERT_EQUAL_FATAL(bs_core_enter(env.core), BS_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(lite(bs_store_backend(env.core->store))->db, "DROP TABLE unknown_devices",
			NULL, NULL, NULL), SQLITE_OK);
	bs_unknown_write(&u, env.core->store, 100, 1, &failed);
	CU_ASSERT_EQUAL(failed, 1);
	CU_ASSERT_EQUAL(bs_unknown_pending(&u), 1);
	CU_ASSERT_EQUAL(bs_unknown_waiting(&u), 0);
	CU_ASSERT_EQUAL(sqlite3_exec(lite(bs_store_backend(env.core->store))->db, "CREATE TABLE unknown_devices ("
			"external_id TEXT PRIMARY KEY NOT NULL, first_seen INTEGER NOT NULL, "
			"last_seen INTEGER NOT NULL, attempts INTEGER NOT NULL, "
			"address TEXT NOT NULL DEFAULT '') WITHOUT ROWID", NULL, NULL, NULL), SQLITE_OK);
	/* The statements were prepared on the dropped table: prepare again. */
	for (int i = ST_UNK_PUT; i <= ST_UNK_TRIM; i++) {
		sqlite3_finalize(lite(bs_store_backend(env.core->store))->stmt[i]);
		sqlite3_prepare_v2(lite(bs_store_backend(env.core->store))->db, bs_lite_sql[i], -1,
				&lite(bs_store_backend(env.core->store))->stmt[i], NULL);
	}
	bs_unknown_write(&u, env.core->store, 100, 1, &failed);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(bs_unknown_pending(&u), 0);
	bs_core_leave(env.core);
	CU_ASSERT_EQUAL(rows(), 1);
	bs_unknown_free(&u);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "table is bounded and drops the least recently seen",
			test_table_is_bounded_and_drops_the_least_recently_seen },
		{ "flood keeps memory at the bound", test_flood_keeps_memory_at_the_bound },
		{ "max_unknown 0 remembers nothing", test_max_unknown_zero_remembers_nothing },
		{ "attempts are counted and the last address kept",
			test_attempts_are_counted_and_the_last_address_kept },
		{ "only ids without a config are remembered",
			test_only_ids_without_a_config_are_remembered },
		{ "a flood between ticks drops the oldest", test_a_flood_between_ticks_drops_the_oldest },
		{ "list is most recent first and paged", test_list_is_most_recent_first_and_paged },
		{ "the bound holds in the store too", test_the_bound_holds_in_the_store_too },
		{ "createConfig forgets the device", test_create_config_forgets_the_device },
		{ "clearUnknown one and all", test_clear_unknown_one_and_all },
		{ "never a key", test_never_a_key },
		{ "restart keeps the list", test_restart_keeps_the_list },
		{ "the thread writes the batch", test_the_thread_writes_the_batch },
		{ "a failed write loses nothing", test_a_failed_write_loses_nothing },
		{ NULL, NULL },
	};

	cu_add_suite("unknown", NULL, suite_clean, tests);
	return cu_run("unknown");
}
