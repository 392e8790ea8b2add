/*
 * The store's contract suite, through the core: channels and configs,
 * transactions, the sealing of secret columns, the key check and its
 * rotation. It runs on SQLite, and on PostgreSQL with
 * BS_TEST_BACKEND=postgresql (test/common/store_db.h); the suite
 * "sqlite" adds what only the SQLite backend has: its file, its pragmas
 * and its migrations. Each test has its own directory and database.
 */
#define _GNU_SOURCE

#include "core.h"
#include "core_open.h"
#include "cu_main.h"
#include "fleet.h"
#include "store_sqlite.h"
#include "store_db.h"
#include "pki.h"
#include "tmpdir.h"
#include "error.h"
#include "model.h"
#include "store.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The migrations this build has (schema/embed.sh). */
extern const int bs_schema_count;

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}

#define NOW "2026-01-02T03:04:05Z"
#define LATER "2026-02-03T04:05:06Z"
#define LATER_UNIX 1770091506
#define NOW_UNIX 1767323045
#define MAX_LINES 256
#define MAX_FILE (16 * 1024 * 1024)

#define SECRET_CLIENT "clientsecret-Qz7Kp2Lm9Xw4Rt8Vb1Nc"
#define SECRET_EXTKEY "externalkey-Hj3Df6Gs0Aq5Ze9Yu2Io"
#define SECRET_CLIENT_KEY "clientkey-Mn4Bv7Cx1Lk8Jh2Gf5Ds"
#define EVIL "x'); DROP TABLE configs;--"

typedef struct {
	char dir[64];
	char db[128];
	char key[128];
	char err[512];
	bs_core_t *core;
	char *lines[MAX_LINES];
	size_t nlines;
} env_t;

static env_t env;

/* ---- environment -------------------------------------------------------- */

static void record_line(void *userdata, bs_log_level_t level, const char *line)
{
	env_t *e = userdata;

	(void)level;
	if (e->nlines < MAX_LINES)
		e->lines[e->nlines++] = strdup(line);
}

static void env_path(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", env.dir, name);
}

/* Opens the core on the database of env with the key file keyname. */
static int core_open_with(const char *keyname, bs_core_t **out)
{
	char keypath[128];

	env_path(keypath, sizeof(keypath), keyname);
	return test_core_open(env.db, keypath, record_line, &env, out, env.err,
			sizeof(env.err));
}

static void env_close_core(void)
{
	bs_core_close(env.core);
	env.core = NULL;
}

static void env_close(void)
{
	env_close_core();
	for (size_t i = 0; i < env.nlines; i++)
		free(env.lines[i]);
	env.nlines = 0;
	tmpdir_remove(env.dir);
	memset(&env, 0, sizeof(env));
}

/* A fresh directory with paths for the database and the key file. */
static void env_prepare(void)
{
	env_close();
	snprintf(env.dir, sizeof(env.dir), "/tmp/bs-unit-XXXXXX");
	if (mkdtemp(env.dir) == NULL) {
		env.dir[0] = '\0';
		CU_FAIL_FATAL("mkdtemp");
	}
	CU_ASSERT_FATAL(test_store_db(env.dir, env.db, sizeof(env.db)) == 0);
	env_path(env.key, sizeof(env.key), "master.key");
}

static void env_reopen(void)
{
	env_close_core();
	CU_ASSERT_EQUAL_FATAL(core_open_with("master.key", &env.core), BS_OK);
}

static void env_open(void)
{
	env_prepare();
	env_reopen();
}

static bs_store_t *st(void)
{
	return env.core->store;
}

static int suite_clean(void)
{
	env_close();
	return 0;
}

/* ---- raw access to the file --------------------------------------------- */

/* The plugin holds its database exclusively while it is open, so raw
 * checks go through its own connection then, and open the file otherwise. */
static sqlite3 *raw_open(void)
{
	sqlite3 *db = NULL;

	if (env.core != NULL)
		return lite(bs_store_backend(env.core->store))->db;
	if (sqlite3_open_v2(env.db, &db, SQLITE_OPEN_READWRITE
			| SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 2000);
	return db;
}

static void raw_close(sqlite3 *db)
{
	if (env.core == NULL || db != lite(bs_store_backend(env.core->store))->db)
		sqlite3_close(db);
}

static int raw_exec(const char *sql)
{
	char none[8];
	if (test_on_pg())
		return test_pg_text(env.db, sql, none, sizeof(none));
	sqlite3 *db = raw_open();
	int rc = db ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_ERROR;

	raw_close(db);
	return rc;
}

/* The first column of the first row of sql, as text in out ("" when none). */
static void raw_text(const char *sql, char *out, size_t outlen)
{
	if (test_on_pg()) {
		test_pg_text(env.db, sql, out, outlen);
		return;
	}
	sqlite3 *db = raw_open();
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	if (db != NULL && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK
			&& sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	raw_close(db);
}

static long raw_int(const char *sql)
{
	char buf[64];

	raw_text(sql, buf, sizeof(buf));
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

/* The whole file (empty when missing), malloc()ed; *len its size. */
static char *slurp(const char *path, size_t *len)
{
	char *buf = malloc(MAX_FILE);
	int fd = open(path, O_RDONLY);
	size_t got = 0;

	*len = 0;
	if (buf == NULL || fd < 0) {
		if (fd >= 0)
			close(fd);
		return buf;
	}
	for (int i = 0; i < 4096 && got < MAX_FILE; i++) {
		ssize_t n = read(fd, buf + got, MAX_FILE - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* 1 when text occurs in the file at path + suffix. */
static int file_contains(const char *suffix, const char *text)
{
	char path[160];
	size_t len;

	snprintf(path, sizeof(path), "%s%s", env.db, suffix);
	char *buf = slurp(path, &len);
	int found = buf != NULL && memmem(buf, len, text, strlen(text)) != NULL;
	free(buf);
	return found;
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* ---- fixtures ------------------------------------------------------------ */

static int add_channel(const char *id, const char *name, const char *meta)
{
	bs_channel_t ch = { .id = (char *)id, .name = (char *)name,
		.metadata = (char *)meta };

	return bs_store_channel_insert(st(), &ch, NOW);
}

/* A config with the given ids and secrets; channel ids from chans. */
static int add_config(const char *client_id, const char *external_id,
		const char *const *chans, size_t nchans)
{
	bs_channel_t links[8] = { { 0 } };
	bs_config_t cfg = {
		.client_id = (char *)client_id,
		.client_secret = SECRET_CLIENT,
		.name = "a device",
		.external_id = (char *)external_id,
		.external_key = SECRET_EXTKEY,
		.content = "{\"k\":1}",
		.client_key = SECRET_CLIENT_KEY,
		.channels = links,
		.nchannels = nchans,
	};

	for (size_t i = 0; i < nchans && i < 8; i++)
		links[i].id = (char *)chans[i];
	snprintf(cfg.created_at, BS_TIME_LEN, "%s", NOW);
	snprintf(cfg.updated_at, BS_TIME_LEN, "%s", NOW);
	return bs_store_config_insert(st(), &cfg);
}

static void add_three_channels(void)
{
	CU_ASSERT_EQUAL_FATAL(add_channel("c1", "one", "{}"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_channel("c2", "two", "{\"a\":1}"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_channel("c3", "three", "{}"), BS_OK);
}

/* ---- opening and migrations --------------------------------------------- */

static void test_new_database_is_at_the_last_version_in_wal_mode(void)
{
	char mode[32];

	env_open();
	CU_ASSERT_EQUAL(bs_store_schema_version(st()), bs_schema_count);
	CU_ASSERT_EQUAL(raw_int("PRAGMA user_version"), bs_schema_count);
	raw_text("PRAGMA journal_mode", mode, sizeof(mode));
	CU_ASSERT_STRING_EQUAL(mode, "wal");
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM sqlite_master WHERE "
			"type = 'table' AND name IN ('channels', 'configs', "
			"'config_channels', 'bootstraps', 'deleted_clients', 'key_check', "
			"'config_counts')"), 7);
	env_close_core();
	/* WAL mode is persistent: it is in the file, not the connection. */
	raw_text("PRAGMA journal_mode", mode, sizeof(mode));
	CU_ASSERT_STRING_EQUAL(mode, "wal");
	env_close();
}

static void test_new_database_enforces_foreign_keys(void)
{
	static const char *const chans[] = { "no-such-channel" };

	env_open();
	CU_ASSERT_EQUAL(add_config("fk", "fk-ext", chans, 1), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 0);
	env_close();
}

static void test_reopen_keeps_data_and_does_not_migrate_again(void)
{
	static const char *const chans[] = { "c1" };
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_channel("c1", "one", "{}"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("keep", "keep-ext", chans, 1), BS_OK);
	env_close_core();
	/* A migration run again would recreate this index. */
	CU_ASSERT_EQUAL_FATAL(raw_exec("DROP INDEX configs_created"), SQLITE_OK);
	env_reopen();
	CU_ASSERT_EQUAL(bs_store_schema_version(st()), bs_schema_count);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM sqlite_master WHERE "
			"name = 'configs_created'"), 0);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "keep", NULL,
			BS_LOAD_CHANNELS | BS_LOAD_SECRET, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.external_id, "keep-ext");
	CU_ASSERT_STRING_EQUAL(cfg.client_secret, SECRET_CLIENT);
	CU_ASSERT_EQUAL(cfg.nchannels, 1);
	bs_config_clear(&cfg);
	env_close();
}

static void test_second_opener_of_the_same_database_is_refused(void)
{
	bs_core_t *second = NULL;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_channel("c1", "one", "{}"), BS_OK);
	CU_ASSERT_NOT_EQUAL(core_open_with("master.key", &second), BS_OK);
	CU_ASSERT_PTR_NULL(second);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, env.db));
	bs_core_close(second);
	env_close();
}

static void test_newer_schema_version_is_refused_naming_the_file(void)
{
	bs_core_t *core = NULL;

	env_prepare();
	CU_ASSERT_EQUAL_FATAL(raw_exec("PRAGMA user_version = 99"), SQLITE_OK);
	CU_ASSERT_NOT_EQUAL(core_open_with("master.key", &core), BS_OK);
	CU_ASSERT_PTR_NULL(core);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, env.db));
	CU_ASSERT_PTR_NULL(strchr(env.err, '\n'));
	/* The file is left as it was. */
	CU_ASSERT_EQUAL(raw_int("PRAGMA user_version"), 99);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM sqlite_master"), 0);
	bs_core_close(core);
	env_close();
}

static void test_file_that_is_not_a_database_is_refused(void)
{
	char junk[4096];
	bs_core_t *core = NULL;

	env_prepare();
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = "not a database\n"[i % 15];
	write_bytes(env.db, junk, sizeof(junk));
	CU_ASSERT_NOT_EQUAL(core_open_with("master.key", &core), BS_OK);
	CU_ASSERT_PTR_NULL(core);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, env.db));
	bs_core_close(core);
	env_close();
}

/* ---- channels ----------------------------------------------------------- */

static void test_channel_round_trip_and_duplicate_id_conflict(void)
{
	bs_channel_t ch = { 0 };

	env_open();
	CU_ASSERT_EQUAL(add_channel("c1", "first", "{\"room\":\"kitchen\"}"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_get(st(), "c1", &ch), BS_OK);
	CU_ASSERT_STRING_EQUAL(ch.id, "c1");
	CU_ASSERT_STRING_EQUAL(ch.name, "first");
	CU_ASSERT_STRING_EQUAL(ch.metadata, "{\"room\":\"kitchen\"}");
	bs_channel_clear(&ch);
	CU_ASSERT_EQUAL(add_channel("c1", "again", "{}"), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_get(st(), "c1", &ch), BS_OK);
	CU_ASSERT_STRING_EQUAL(ch.name, "first");
	bs_channel_clear(&ch);
	CU_ASSERT_EQUAL(bs_store_channel_get(st(), "c9", &ch), BS_ERR_NOT_FOUND);
	env_close();
}

/* ---- configs ------------------------------------------------------------ */

static void assert_channel_order(const bs_config_t *cfg)
{
	CU_ASSERT_EQUAL_FATAL(cfg->nchannels, 3);
	CU_ASSERT_STRING_EQUAL(cfg->channels[0].id, "c3");
	CU_ASSERT_STRING_EQUAL(cfg->channels[1].id, "c1");
	CU_ASSERT_STRING_EQUAL(cfg->channels[2].id, "c2");
	CU_ASSERT_STRING_EQUAL(cfg->channels[2].name, "two");
	CU_ASSERT_STRING_EQUAL(cfg->channels[2].metadata, "{\"a\":1}");
}

static void test_config_get_by_client_id_with_channels_in_order(void)
{
	static const char *const chans[] = { "c3", "c1", "c2" };
	const unsigned all = BS_LOAD_CHANNELS | BS_LOAD_SECRET
		| BS_LOAD_EXTERNAL_KEY | BS_LOAD_CLIENT_KEY;
	bs_config_t cfg;

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", chans, 3), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, all, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.client_id, "cid");
	CU_ASSERT_STRING_EQUAL(cfg.external_id, "ext");
	CU_ASSERT_STRING_EQUAL(cfg.name, "a device");
	CU_ASSERT_STRING_EQUAL(cfg.content, "{\"k\":1}");
	CU_ASSERT_STRING_EQUAL(cfg.client_secret, SECRET_CLIENT);
	CU_ASSERT_STRING_EQUAL(cfg.external_key, SECRET_EXTKEY);
	CU_ASSERT_STRING_EQUAL(cfg.client_key, SECRET_CLIENT_KEY);
	CU_ASSERT_PTR_NULL(cfg.client_cert);
	CU_ASSERT_PTR_NULL(cfg.ca_cert);
	CU_ASSERT_TRUE(cfg.has_client_key);
	CU_ASSERT_FALSE(cfg.enabled);
	CU_ASSERT_STRING_EQUAL(cfg.created_at, NOW);
	CU_ASSERT_STRING_EQUAL(cfg.updated_at, NOW);
	CU_ASSERT_STRING_EQUAL(cfg.last_bootstrap_at, "");
	assert_channel_order(&cfg);
	bs_config_clear(&cfg);
	env_close();
}

static void test_config_get_by_external_id_loads_only_what_is_asked(void)
{
	static const char *const chans[] = { "c3", "c1", "c2" };
	bs_config_t cfg;

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", chans, 3), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), NULL, "ext",
			BS_LOAD_CHANNELS, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.client_id, "cid");
	CU_ASSERT_PTR_NULL(cfg.client_secret);
	CU_ASSERT_PTR_NULL(cfg.external_key);
	CU_ASSERT_PTR_NULL(cfg.client_key);
	CU_ASSERT_TRUE(cfg.has_client_key);
	assert_channel_order(&cfg);
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), NULL, "nope", 0, &cfg),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "nope", NULL, 0, &cfg),
			BS_ERR_NOT_FOUND);
	env_close();
}

#define ODD_EXT "e\"x\\t,{2} '"

/* Five rows asking for two configs: an unknown ID first and last, one ID
 * twice, one with the characters of an array literal in it. */
static void test_devices_get_answers_each_row_in_order(void)
{
	static const char *const ids[] = { "nope", "ext", ODD_EXT, "ext", "also-nope" };
	static const int found[] = { BS_ERR_NOT_FOUND, BS_OK, BS_OK, BS_OK,
		BS_ERR_NOT_FOUND };
	static const char *const client[] = { NULL, "cid", "cid2", "cid", NULL };
	bs_config_t cfg[5];
	bs_config_blobs_t held[5];
	bs_device_row_t rows[5];

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("cid2", ODD_EXT, NULL, 0), BS_OK);
	for (size_t i = 0; i < 5; i++) {
		rows[i].external_id = ids[i];
		rows[i].cfg = &cfg[i];
		rows[i].held = &held[i];
		rows[i].found = -1000;
	}
	CU_ASSERT_EQUAL_FATAL(bs_store_devices_get(st(), rows, 5), BS_OK);
	for (size_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(rows[i].found, found[i]);
		if (found[i] != BS_OK) {
			CU_ASSERT_PTR_NULL(cfg[i].client_id);
			CU_ASSERT_PTR_NULL(held[i].secret.data);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(cfg[i].client_id, client[i]);
		CU_ASSERT_STRING_EQUAL(cfg[i].external_key, SECRET_EXTKEY);
		CU_ASSERT_STRING_EQUAL(cfg[i].content, "{\"k\":1}");
		CU_ASSERT_PTR_NULL(cfg[i].client_secret);
		CU_ASSERT_PTR_NOT_NULL(held[i].secret.data);
		CU_ASSERT_PTR_NOT_NULL(held[i].client_key.data);
		CU_ASSERT_PTR_NULL(held[i].external_key.data);
		CU_ASSERT_EQUAL(bs_store_config_unseal(st(), &cfg[i], &held[i]), BS_OK);
		CU_ASSERT_STRING_EQUAL(cfg[i].client_secret, SECRET_CLIENT);
	}
	for (size_t i = 0; i < 5; i++) {
		bs_config_clear(&cfg[i]);
		bs_config_blobs_clear(&held[i]);
	}
	env_close();
}

/* As many rows as the bound, every one found; one more is refused. */
static void test_devices_get_takes_up_to_its_bound(void)
{
	bs_config_t cfg[BS_DEVICES_MAX + 1];
	bs_config_blobs_t held[BS_DEVICES_MAX + 1];
	bs_device_row_t rows[BS_DEVICES_MAX + 1];
	char ids[BS_DEVICES_MAX + 1][16];
	size_t nfound = 0;

	env_open();
	for (size_t i = 0; i <= BS_DEVICES_MAX; i++) {
		char cid[16];

		snprintf(cid, sizeof(cid), "c%zu", i);
		snprintf(ids[i], sizeof(ids[i]), "x%zu", i);
		CU_ASSERT_EQUAL_FATAL(add_config(cid, ids[i], NULL, 0), BS_OK);
		rows[i] = (bs_device_row_t){ .external_id = ids[i] };
		rows[i].cfg = &cfg[i];
		rows[i].held = &held[i];
	}
	CU_ASSERT_EQUAL(bs_store_devices_get(st(), rows, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_store_devices_get(st(), rows, BS_DEVICES_MAX + 1),
			BS_ERR_INVALID);
	CU_ASSERT_EQUAL_FATAL(bs_store_devices_get(st(), rows, BS_DEVICES_MAX), BS_OK);
	for (size_t i = 0; i < BS_DEVICES_MAX; i++) {
		char cid[16];

		snprintf(cid, sizeof(cid), "c%zu", i);
		nfound += rows[i].found == BS_OK && cfg[i].client_id != NULL
			&& strcmp(cfg[i].client_id, cid) == 0;
		bs_config_clear(&cfg[i]);
		bs_config_blobs_clear(&held[i]);
	}
	CU_ASSERT_EQUAL(nfound, BS_DEVICES_MAX);
	env_close();
}

static void test_config_duplicate_client_id_or_external_id_conflicts(void)
{
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("a", "ext-a", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL(add_config("a", "ext-other", NULL, 0), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(add_config("b", "ext-a", NULL, 0), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs"), 1);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), NULL, "ext-other", 0, &cfg),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "b", NULL, 0, &cfg),
			BS_ERR_NOT_FOUND);
	env_close();
}

static void test_config_unknown_channel_not_found_and_savepoint_stores_nothing(void)
{
	static const char *const chans[] = { "c1", "missing" };
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_channel("c1", "one", "{}"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_begin(st()), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_savepoint(st()), BS_OK);
	CU_ASSERT_EQUAL(add_config("cid", "ext", chans, 2), BS_ERR_NOT_FOUND);
	bs_store_rollback_savepoint(st());
	CU_ASSERT_EQUAL(bs_store_commit(st()), BS_OK);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "cid", NULL, 0, &cfg),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs"), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM channels"), 1);
	env_close();
}

/* ---- secrets on disk ---------------------------------------------------- */

static void assert_no_clear_secret(const char *suffix)
{
	CU_ASSERT_FALSE(file_contains(suffix, SECRET_CLIENT));
	CU_ASSERT_FALSE(file_contains(suffix, SECRET_EXTKEY));
	CU_ASSERT_FALSE(file_contains(suffix, SECRET_CLIENT_KEY));
}

static void test_secrets_are_not_in_clear_on_disk(void)
{
	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid-disk", "ext-disk-marker", NULL, 0), BS_OK);
	/* The search works: a plain column is found, in the db or its WAL. */
	CU_ASSERT_TRUE(file_contains("", "ext-disk-marker")
			|| file_contains("-wal", "ext-disk-marker"));
	assert_no_clear_secret("");
	assert_no_clear_secret("-wal");
	env_close_core();
	CU_ASSERT_TRUE(file_contains("", "ext-disk-marker"));
	assert_no_clear_secret("");
	assert_no_clear_secret("-wal");
	env_close();
}

static void test_sealed_value_moved_to_another_row_does_not_open(void)
{
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("a", "ext-a", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("b", "ext-b", NULL, 0), BS_OK);
	env_close_core();
	CU_ASSERT_EQUAL_FATAL(raw_exec("UPDATE configs SET external_key = "
			"(SELECT external_key FROM configs WHERE client_id = 'a') "
			"WHERE client_id = 'b'"), SQLITE_OK);
	CU_ASSERT_EQUAL(raw_int("SELECT count(DISTINCT external_key) FROM configs"), 1);
	env_reopen();
	memset(&cfg, 0x5a, sizeof(cfg));
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "b", NULL,
			BS_LOAD_EXTERNAL_KEY, &cfg), BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NULL(cfg.external_key);
	CU_ASSERT_PTR_NULL(cfg.client_id);
	CU_ASSERT_PTR_NULL(strstr(bs_store_errmsg(st()), SECRET_EXTKEY));
	/* The row itself and a's key are fine. */
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "b", NULL, BS_LOAD_SECRET, &cfg), BS_OK);
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "a", NULL,
			BS_LOAD_EXTERNAL_KEY, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.external_key, SECRET_EXTKEY);
	bs_config_clear(&cfg);
	env_close();
}

/* A key file name in the directory holding a key no database has. */
static void write_key(const char *name)
{
	char path[128];
	int fd;

	env_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, "ab00000000000000000000000000000000000000000000000000000000000000",
			64) == 64);
	close(fd);
}

/* Another key file is refused at start, naming it; the database and the
 * right key are left as they were. */
static void test_another_key_file_is_refused_at_start(void)
{
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	env_close_core();
	write_key("other.key");
	CU_ASSERT_EQUAL(core_open_with("other.key", &env.core), BS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(env.core);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, "other.key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, "is not the key of"));
	env_reopen();
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "cid", NULL, BS_LOAD_SECRET, &cfg), BS_OK);
	bs_config_clear(&cfg);
	env_close();
}

/* A missing key file is made only for a database with no secrets: for one
 * that has some, the start is refused and no key file is left behind. */
static void test_a_missing_key_is_not_made_for_a_database_with_secrets(void)
{
	char path[128];

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	env_close_core();
	env_path(path, sizeof(path), "master.key");
	CU_ASSERT_EQUAL_FATAL(unlink(path), 0);
	CU_ASSERT_EQUAL(core_open_with("master.key", &env.core), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, "is missing"));
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	env_close();
}

/* Before its key check exists (a database of an earlier version), the key
 * must open a stored secret. */
static void test_an_older_database_checks_the_key_on_a_secret(void)
{
	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	env_close_core();
	CU_ASSERT_EQUAL_FATAL(raw_exec("DELETE FROM key_check"), SQLITE_OK);
	CU_ASSERT_EQUAL(core_open_with("other.key", &env.core), BS_ERR_INVALID);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM key_check"), 0);
	env_reopen();
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM key_check"), 1);
	env_close();
}

static size_t count_lines_with(const char *text)
{
	size_t n = 0;

	for (size_t i = 0; i < env.nlines; i++)
		n += strstr(env.lines[i], text) != NULL;
	return n;
}

/* The core on env.db with key_file keyname and rekey_from oldname. */
static int core_open_rekey(const char *keyname, const char *oldname)
{
	char keypath[128], oldpath[128];
	bs_options_t o;
	int rc;

	env_path(keypath, sizeof(keypath), keyname);
	env_path(oldpath, sizeof(oldpath), oldname);
	CU_ASSERT_EQUAL_FATAL(bs_options_init(&o), BS_OK);
	rc = bs_options_set(&o, "db_path", env.db, env.err, sizeof(env.err));
	if (rc == BS_OK)
		rc = bs_options_set(&o, "key_file", keypath, env.err, sizeof(env.err));
	if (rc == BS_OK)
		rc = bs_options_set(&o, "rekey_from", oldpath, env.err, sizeof(env.err));
	if (rc == BS_OK)
		rc = bs_options_finish(&o, env.err, sizeof(env.err));
	if (rc == BS_OK)
		rc = bs_core_open(&o, record_line, &env, &env.core, env.err, sizeof(env.err));
	bs_options_free(&o);
	return rc;
}

static void expect_secrets(size_t n)
{
	bs_config_t cfg;
	char id[16];

	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof id, "cid-%zu", i);
		CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), id, NULL, BS_LOAD_SECRET
				| BS_LOAD_EXTERNAL_KEY, &cfg), BS_OK);
		CU_ASSERT_STRING_EQUAL(cfg.external_key, SECRET_EXTKEY);
		bs_config_clear(&cfg);
	}
}

static void add_group(const char *id, const char *key)
{
	bs_group_t g = { .id = (char *)id, .name = (char *)id, .enable = 1,
		.group_key = (char *)key };

	CU_ASSERT_EQUAL_FATAL(bs_store_group_put(st(), &g, 1, "2026-01-01T00:00:00Z"), BS_OK);
}

static void expect_group_key(const char *id, const char *key)
{
	bs_group_t g;

	CU_ASSERT_EQUAL_FATAL(bs_store_group_get(st(), id, 1, &g), BS_OK);
	CU_ASSERT_STRING_EQUAL(g.group_key, key);
	CU_ASSERT_STRING_EQUAL(g.updated_at, "2026-01-01T00:00:00Z");
	bs_group_clear(&g);
}

/* Master key rotation: every secret sealed again under the new key in one
 * start; then the new key alone opens the database, the old one no more. */
static void test_rekey_from_seals_every_secret_under_the_new_key(void)
{
	char id[16], ext[16];

	env_open();
	for (size_t i = 0; i < 600; i++) {
		snprintf(id, sizeof id, "cid-%zu", i);
		snprintf(ext, sizeof ext, "ext-%zu", i);
		CU_ASSERT_EQUAL_FATAL(add_config(id, ext, NULL, 0), BS_OK);
	}
	add_group("g1", "a group's key");
	env_close_core();
	CU_ASSERT_EQUAL_FATAL(core_open_rekey("new.key", "master.key"), BS_OK);
	CU_ASSERT_TRUE(count_lines_with("600 configs are now sealed under") == 1);
	expect_secrets(600);
	expect_group_key("g1", "a group's key");
	env_close_core();
	/* Started again with the option still there: nothing to do. */
	CU_ASSERT_EQUAL_FATAL(core_open_rekey("new.key", "master.key"), BS_OK);
	CU_ASSERT_TRUE(count_lines_with("already sealed") == 1);
	env_close_core();
	CU_ASSERT_EQUAL(core_open_with("master.key", &env.core), BS_ERR_INVALID);
	CU_ASSERT_EQUAL_FATAL(core_open_with("new.key", &env.core), BS_OK);
	expect_secrets(600);
	expect_group_key("g1", "a group's key");
	env_close();
}

static void test_rekey_from_a_missing_or_wrong_key_changes_nothing(void)
{
	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid-0", "ext-0", NULL, 0), BS_OK);
	env_close_core();
	CU_ASSERT_EQUAL(core_open_rekey("new.key", "gone.key"), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, "gone.key"));
	write_key("third.key");
	CU_ASSERT_EQUAL(core_open_rekey("new.key", "third.key"), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(env.err, "neither"));
	CU_ASSERT_EQUAL_FATAL(core_open_with("master.key", &env.core), BS_OK);
	expect_secrets(1);
	env_close();
}

/* ---- changes ------------------------------------------------------------ */

static void test_delete_config_removes_its_channel_links(void)
{
	static const char *const chans[] = { "c1", "c2" };
	static const char *const other[] = { "c1" };
	bs_config_t cfg;

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("gone", "ext-gone", chans, 2), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("stays", "ext-stays", other, 1), BS_OK);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 3);
	CU_ASSERT_EQUAL(bs_store_config_delete(st(), "gone", LATER), BS_OK);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels "
			"WHERE client_id = 'gone'"), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 1);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM channels"), 3);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), "gone", NULL, 0, &cfg),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(bs_store_config_delete(st(), "gone", LATER), BS_ERR_NOT_FOUND);
	env_close();
}

/* A deleted config's client_id is remembered until a config has it again. */
static void test_delete_remembers_the_client_id_until_reused(void)
{
	env_open();
	CU_ASSERT_EQUAL(bs_store_client_deleted(st(), "gone"), 0);
	CU_ASSERT_EQUAL_FATAL(add_config("gone", "ext-gone", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_store_client_deleted(st(), "gone"), 0);
	CU_ASSERT_EQUAL(bs_store_config_delete(st(), "gone", LATER), BS_OK);
	CU_ASSERT_EQUAL(bs_store_client_deleted(st(), "gone"), 1);
	CU_ASSERT_EQUAL(bs_store_client_deleted(st(), "other"), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM deleted_clients WHERE "
			"client_id = 'gone' AND deleted_at = '" LATER "'"), 1);
	CU_ASSERT_EQUAL_FATAL(add_config("gone", "ext-new", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_store_client_deleted(st(), "gone"), 0);
	env_close();
}

/* What migration 007 added, dropped again, for tests of older versions. */
#define DROP_007 "DROP INDEX configs_profile; ALTER TABLE configs DROP COLUMN group_id; " \
	"ALTER TABLE configs DROP COLUMN vars; ALTER TABLE configs DROP COLUMN profile; " \
	"DROP TABLE enroll_groups; DROP TABLE profiles; "

/* A version 1 database gains deleted_clients and its key check at start,
 * and keeps its data. */
static void test_version_1_database_is_migrated_to_the_last(void)
{
	bs_config_t cfg;
	long enabled = -1, disabled = -1;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("old", "ext-old", NULL, 0), BS_OK);
	env_close_core();
	CU_ASSERT_EQUAL_FATAL(raw_exec("DROP TABLE deleted_clients"), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(raw_exec("DROP TABLE key_check"), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(raw_exec("DROP TABLE config_counts"), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(raw_exec(DROP_007 "ALTER TABLE configs DROP COLUMN cert_serial; "
			"ALTER TABLE configs DROP COLUMN cert_expires_at"), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(raw_exec("PRAGMA user_version = 1"), SQLITE_OK);
	env_reopen();
	CU_ASSERT_EQUAL(bs_store_schema_version(st()), bs_schema_count);
	/* The counts start from the configs already stored. */
	CU_ASSERT_EQUAL(bs_store_config_states(st(), &enabled, &disabled), BS_OK);
	CU_ASSERT_EQUAL(enabled, 0);
	CU_ASSERT_EQUAL(disabled, 1);
	CU_ASSERT_EQUAL(bs_store_client_deleted(st(), "old"), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM key_check"), 1);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "old", NULL, BS_LOAD_SECRET, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.external_id, "ext-old");
	bs_config_clear(&cfg);
	env_close();
}

static void expect_states(long want_enabled, long want_disabled, const char *when)
{
	long enabled = -1, disabled = -1;

	CU_ASSERT_EQUAL(bs_store_config_states(st(), &enabled, &disabled), BS_OK);
	if (enabled != want_enabled || disabled != want_disabled)
		printf("\n    %s: %ld enabled, %ld disabled\n", when, enabled, disabled);
	CU_ASSERT_EQUAL(enabled, want_enabled);
	CU_ASSERT_EQUAL(disabled, want_disabled);
}

/* The counts follow every change, gathered in a transaction: what a
 * rolled-back savepoint or transaction did is not counted. */
static void test_state_counts_follow_changes_and_rollbacks(void)
{
	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("a", "ext-a", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_set_enabled(st(), "a", 1, LATER), BS_OK);
	expect_states(1, 0, "outside a transaction");
	CU_ASSERT_EQUAL_FATAL(bs_store_begin(st()), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("b", "ext-b", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_savepoint(st()), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("c", "ext-c", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_delete(st(), "a", LATER), BS_OK);
	bs_store_rollback_savepoint(st());
	CU_ASSERT_EQUAL_FATAL(bs_store_savepoint(st()), BS_OK);
	/* Enabling twice counts once; disabling a disabled one not at all. */
	CU_ASSERT_EQUAL_FATAL(bs_store_config_set_enabled(st(), "b", 1, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_set_enabled(st(), "b", 1, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_release(st()), BS_OK);
	CU_ASSERT_EQUAL(bs_store_config_set_enabled(st(), "ghost", 1, LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(bs_store_commit(st()), BS_OK);
	expect_states(2, 0, "after the commit");
	CU_ASSERT_EQUAL_FATAL(bs_store_begin(st()), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_delete(st(), "b", LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("d", "ext-d", NULL, 0), BS_OK);
	bs_store_rollback(st());
	expect_states(2, 0, "after a rollback");
	CU_ASSERT_EQUAL_FATAL(bs_store_config_set_enabled(st(), "b", 0, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_delete(st(), "a", LATER), BS_OK);
	expect_states(0, 1, "after a disable and a delete");
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs WHERE NOT enabled"), 1);
	env_close();
}

/* The serial and end of validity of a real certificate, as openssl says. */
static void openssl_field(const char *cert_path, const char *flag, char *out, size_t len)
{
	char cmd[700];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "openssl x509 -noout %s -in %s", flag, cert_path);
	p = popen(cmd, "r");
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FATAL(fgets(out, (int)len, p) != NULL);
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
}

/* A database of version 5 holding a certificate gains its serial and end
 * of validity at the migration to version 6. */
static void test_version_5_certificates_get_their_serial(void)
{
	char path[600], serial[200], want[200];
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(pki_ca(env.dir, "dev", "ec"), 0);
	env_path(path, sizeof(path), "dev.pem");
	CU_ASSERT_EQUAL_FATAL(add_config("old", "ext-old", NULL, 0), BS_OK);
	env_close_core();
	{
		char *pem = pki_read(path), *sql = malloc(strlen(pem) + 128);
		snprintf(sql, strlen(pem) + 128, "UPDATE configs SET client_cert = '%s'", pem);
		CU_ASSERT_EQUAL_FATAL(raw_exec(sql), SQLITE_OK);
		free(sql);
		free(pem);
	}
	CU_ASSERT_EQUAL_FATAL(raw_exec(DROP_007 "ALTER TABLE configs DROP COLUMN cert_serial; "
			"ALTER TABLE configs DROP COLUMN cert_expires_at; "
			"PRAGMA user_version = 5"), SQLITE_OK);
	env_reopen();
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "old", NULL, 0, &cfg), BS_OK);
	openssl_field(path, "-serial", serial, sizeof(serial));
	for (char *p = serial; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	snprintf(want, sizeof(want), "serial=%s", cfg.cert_serial);
	CU_ASSERT_STRING_EQUAL(want, serial);
	CU_ASSERT_EQUAL(strlen(cfg.cert_expires_at), 20);
	bs_config_clear(&cfg);
	env_close();
}

/* An issued certificate replaces the stored one and its key, and
 * listConfigs finds it by its end of validity. */
static void test_issued_certificate_is_stored_and_found_by_expiry(void)
{
	const bs_config_filter_t before_2030 = { -1, NULL, NULL, "2030-01-01T00:00:00Z" };
	const bs_config_filter_t before_2020 = { -1, NULL, NULL, "2020-01-01T00:00:00Z" };
	bs_config_t cfg = { 0 };
	long total = -1;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_store_config_count(st(), &before_2030, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 0);
	cfg.client_id = "cid";
	cfg.client_cert = "ISSUED-PEM";
	snprintf(cfg.cert_serial, sizeof(cfg.cert_serial), "0a1b2c3d4e5f6071");
	snprintf(cfg.cert_expires_at, sizeof(cfg.cert_expires_at), "2027-03-02T10:00:00Z");
	CU_ASSERT_EQUAL(bs_store_config_set_cert(st(), &cfg, LATER), BS_OK);
	CU_ASSERT_EQUAL(bs_store_config_count(st(), &before_2030, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(bs_store_config_count(st(), &before_2020, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 0);
	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, BS_LOAD_CLIENT_KEY, &cfg),
			BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.client_cert, "ISSUED-PEM");
	CU_ASSERT_STRING_EQUAL(cfg.cert_serial, "0a1b2c3d4e5f6071");
	CU_ASSERT_STRING_EQUAL(cfg.cert_expires_at, "2027-03-02T10:00:00Z");
	CU_ASSERT_STRING_EQUAL(cfg.updated_at, LATER);
	CU_ASSERT_FALSE(cfg.has_client_key);
	CU_ASSERT_PTR_NULL(cfg.client_key);
	bs_config_clear(&cfg);
	env_close();
}

static void test_set_enabled_and_touch_bootstrap(void)
{
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_store_config_set_enabled(st(), "cid", 1, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, 0, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.last_bootstrap_at, "");
	CU_ASSERT_EQUAL(bs_store_config_touch_bootstrap(st(), cfg.id, LATER_UNIX), BS_OK);
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, 0, &cfg), BS_OK);
	CU_ASSERT_TRUE(cfg.enabled);
	CU_ASSERT_STRING_EQUAL(cfg.created_at, NOW);
	CU_ASSERT_STRING_EQUAL(cfg.updated_at, LATER);
	CU_ASSERT_STRING_EQUAL(cfg.last_bootstrap_at, LATER);
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL(bs_store_config_set_enabled(st(), "cid", 0, NOW), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, 0, &cfg), BS_OK);
	CU_ASSERT_FALSE(cfg.enabled);
	bs_config_clear(&cfg);
	env_close();
}

/* Several configs' bootstrap times in one call, more than one batch of
 * them, ids no config has among them: each config gets its own time, and
 * the missing ids are no error (SQLite keeps a row for them, which no
 * config reads; PostgreSQL, written by brokers that do not know each
 * other's deletions, none). */
static void test_touch_many_sets_each_config_its_time(void)
{
	enum { N = BS_TOUCH_BATCH + 3 };
	int64_t ids[N];
	time_t whens[N];
	bs_config_t a, b;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("ta", "ext-ta", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("tb", "ext-tb", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "ta", NULL, 0, &a), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "tb", NULL, 0, &b), BS_OK);
	for (int i = 0; i < N; i++) {
		ids[i] = 1000000 + i;           /* no config has these */
		whens[i] = NOW_UNIX;
	}
	ids[0] = a.id;
	whens[0] = LATER_UNIX;
	ids[N - 1] = b.id;                      /* in the second batch */
	whens[N - 1] = NOW_UNIX;
	bs_config_clear(&a);
	bs_config_clear(&b);
	CU_ASSERT_EQUAL(bs_store_config_touch_many(st(), ids, whens, N), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "ta", NULL, 0, &a), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "tb", NULL, 0, &b), BS_OK);
	CU_ASSERT_STRING_EQUAL(a.last_bootstrap_at, LATER);
	CU_ASSERT_STRING_EQUAL(b.last_bootstrap_at, NOW);
	bs_config_clear(&a);
	bs_config_clear(&b);
	env_close();
}

static void test_delete_config_forgets_its_last_bootstrap(void)
{
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("gone", "ext-gone", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "gone", NULL, 0, &cfg), BS_OK);
	CU_ASSERT_EQUAL(bs_store_config_touch_bootstrap(st(), cfg.id, LATER_UNIX), BS_OK);
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM bootstraps"), 1);
	CU_ASSERT_EQUAL(bs_store_config_delete(st(), "gone", LATER), BS_OK);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM bootstraps"), 0);
	/* A new config under the same names starts without a bootstrap. */
	CU_ASSERT_EQUAL_FATAL(add_config("gone", "ext-gone", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "gone", NULL, 0, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.last_bootstrap_at, "");
	bs_config_clear(&cfg);
	env_close();
}

static void test_set_enabled_or_delete_unknown_id_not_found(void)
{
	env_open();
	CU_ASSERT_EQUAL(bs_store_config_set_enabled(st(), "nope", 1, NOW),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(bs_store_config_set_enabled(st(), "nope", 0, NOW),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(bs_store_config_delete(st(), "nope", LATER), BS_ERR_NOT_FOUND);
	env_close();
}

static void test_sql_metacharacters_are_stored_verbatim(void)
{
	static const char *const chans[] = { EVIL };
	const char *name = "it's \"quoted\"; DELETE FROM channels;--";
	bs_channel_t ch = { 0 };
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_channel(EVIL, name, "{}"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config(EVIL, "e' OR '1'='1", chans, 1), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_get(st(), EVIL, &ch), BS_OK);
	CU_ASSERT_STRING_EQUAL(ch.id, EVIL);
	CU_ASSERT_STRING_EQUAL(ch.name, name);
	bs_channel_clear(&ch);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), NULL, "e' OR '1'='1",
			BS_LOAD_CHANNELS | BS_LOAD_SECRET, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.client_id, EVIL);
	CU_ASSERT_STRING_EQUAL(cfg.client_secret, SECRET_CLIENT);
	CU_ASSERT_EQUAL_FATAL(cfg.nchannels, 1);
	CU_ASSERT_STRING_EQUAL(cfg.channels[0].id, EVIL);
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL(bs_store_config_get(st(), NULL, "e", 0, &cfg), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs"), 1);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM channels"), 1);
	env_close();
}

/* ---- lists, updates and channel changes --------------------------------- */

#define SECRET_NEW_EXTKEY "newexternalkey-Wq2Er4Ty6Ui8Op0As"

/* A config named name, created at created, enabled or not; its external_id
 * is "x-" client_id. */
static int add_listed(const char *client_id, const char *name,
		const char *created, int enabled)
{
	char ext[64];
	bs_config_t cfg = {
		.client_id = (char *)client_id,
		.client_secret = SECRET_CLIENT,
		.name = (char *)name,
		.external_id = ext,
		.external_key = SECRET_EXTKEY,
		.enabled = enabled,
	};

	snprintf(ext, sizeof(ext), "x-%s", client_id);
	snprintf(cfg.created_at, BS_TIME_LEN, "%s", created);
	snprintf(cfg.updated_at, BS_TIME_LEN, "%s", created);
	return bs_store_config_insert(st(), &cfg);
}

/* Five configs; in list order: b, k, z (at NOW), a, m (at LATER). */
static void add_five_listed(void)
{
	CU_ASSERT_EQUAL_FATAL(add_listed("m", "Boiler one", LATER, 1), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_listed("b", "the BOILER", NOW, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_listed("z", "pump", NOW, 1), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_listed("a", "boiler", LATER, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_listed("k", "", NOW, 1), BS_OK);
}

/* The client_ids of a page, joined with ","; "!" when the call failed. */
static const char *config_page(const bs_config_filter_t *f, long offset,
		long limit)
{
	static char buf[256];
	bs_config_t *list = NULL;
	size_t n = 0, off = 0;

	snprintf(buf, sizeof(buf), "!");
	if (bs_store_config_list(st(), f, offset, limit, 0, &list, &n) != BS_OK)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
					i ? "," : "", list[i].client_id);
		bs_config_clear(&list[i]);
	}
	free(list);
	return buf;
}

static long config_count(const bs_config_filter_t *f)
{
	long total = -1;

	CU_ASSERT_EQUAL(bs_store_config_count(st(), f, &total), BS_OK);
	return total;
}

static void test_config_list_and_count_filter_in_created_then_id_order(void)
{
	const bs_config_filter_t any = { -1, NULL, NULL, NULL };
	const bs_config_filter_t on = { 1, NULL, NULL, NULL };
	const bs_config_filter_t off = { 0, NULL, NULL, NULL };
	const bs_config_filter_t boiler = { -1, "BOILER", NULL, NULL };
	const bs_config_filter_t on_boiler = { 1, "bOiLeR", NULL, NULL };
	const bs_config_filter_t ext_z = { -1, NULL, "x-z", NULL };
	const bs_config_filter_t ext_upper = { -1, NULL, "X-Z", NULL };
	const bs_config_filter_t ext_prefix = { -1, NULL, "x-", NULL };
	const bs_config_filter_t ext_off = { 0, NULL, "x-z", NULL };

	env_open();
	add_five_listed();
	CU_ASSERT_EQUAL(config_count(&any), 5);
	CU_ASSERT_STRING_EQUAL(config_page(&any, 0, 10), "b,k,z,a,m");
	CU_ASSERT_EQUAL(config_count(&on), 3);
	CU_ASSERT_STRING_EQUAL(config_page(&on, 0, 10), "k,z,m");
	CU_ASSERT_EQUAL(config_count(&off), 2);
	CU_ASSERT_STRING_EQUAL(config_page(&off, 0, 10), "b,a");
	CU_ASSERT_EQUAL(config_count(&boiler), 3);
	CU_ASSERT_STRING_EQUAL(config_page(&boiler, 0, 10), "b,a,m");
	CU_ASSERT_EQUAL(config_count(&on_boiler), 1);
	CU_ASSERT_STRING_EQUAL(config_page(&on_boiler, 0, 10), "m");
	CU_ASSERT_EQUAL(config_count(&ext_z), 1);
	CU_ASSERT_STRING_EQUAL(config_page(&ext_z, 0, 10), "z");
	CU_ASSERT_EQUAL(config_count(&ext_upper), 0);
	CU_ASSERT_EQUAL(config_count(&ext_prefix), 0);
	CU_ASSERT_EQUAL(config_count(&ext_off), 0);
	CU_ASSERT_STRING_EQUAL(config_page(&ext_off, 0, 10), "");
	env_close();
}

static void test_config_list_pages_and_past_the_end(void)
{
	const bs_config_filter_t any = { -1, NULL, NULL, NULL };
	const bs_config_filter_t on = { 1, NULL, NULL, NULL };

	env_open();
	add_five_listed();
	CU_ASSERT_STRING_EQUAL(config_page(&any, 0, 2), "b,k");
	CU_ASSERT_STRING_EQUAL(config_page(&any, 2, 2), "z,a");
	CU_ASSERT_STRING_EQUAL(config_page(&any, 4, 2), "m");
	CU_ASSERT_STRING_EQUAL(config_page(&any, 5, 2), "");
	CU_ASSERT_STRING_EQUAL(config_page(&any, 1000, 1000), "");
	CU_ASSERT_STRING_EQUAL(config_page(&on, 1, 1), "z");
	CU_ASSERT_STRING_EQUAL(config_page(&on, 3, 1), "");
	/* The count ignores paging. */
	CU_ASSERT_EQUAL(config_count(&any), 5);
	env_close();
}

static void test_config_list_loads_only_what_is_asked(void)
{
	static const char *const chans[] = { "c3", "c1", "c2" };
	const bs_config_filter_t any = { -1, NULL, NULL, NULL };
	bs_config_t *list = NULL;
	size_t n = 0;

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", chans, 3), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_list(st(), &any, 0, 10, 0, &list, &n),
			BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_PTR_NULL(list[0].client_secret);
	CU_ASSERT_PTR_NULL(list[0].external_key);
	CU_ASSERT_PTR_NULL(list[0].client_key);
	CU_ASSERT_TRUE(list[0].has_client_key);
	CU_ASSERT_EQUAL(list[0].nchannels, 0);
	bs_config_clear(&list[0]);
	free(list);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_list(st(), &any, 0, 10,
			BS_LOAD_CHANNELS | BS_LOAD_SECRET | BS_LOAD_EXTERNAL_KEY,
			&list, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(list[0].client_secret, SECRET_CLIENT);
	CU_ASSERT_STRING_EQUAL(list[0].external_key, SECRET_EXTKEY);
	CU_ASSERT_PTR_NULL(list[0].client_key);
	assert_channel_order(&list[0]);
	bs_config_clear(&list[0]);
	free(list);
	env_close();
}

/* Writes the changeable fields of cid; channel ids from chans. */
static int update_config(const char *external_key, const char *client_key,
		const char *const *chans, size_t nchans, int relink)
{
	bs_channel_t links[4] = { { 0 } };
	bs_config_t cfg = {
		.client_id = "cid",
		.name = "renamed",
		.external_key = (char *)external_key,
		.content = "",
		.client_cert = "CERT-TEXT",
		.client_key = (char *)client_key,
		.ca_cert = "CA-TEXT",
		.channels = links,
		.nchannels = nchans,
	};

	for (size_t i = 0; i < nchans && i < 4; i++)
		links[i].id = (char *)chans[i];
	snprintf(cfg.updated_at, BS_TIME_LEN, "%s", LATER);
	return bs_store_config_update(st(), &cfg, relink);
}

static void test_config_update_writes_fields_and_keeps_the_rest(void)
{
	static const char *const chans[] = { "c1", "c2" };
	const unsigned all = BS_LOAD_CHANNELS | BS_LOAD_SECRET
		| BS_LOAD_EXTERNAL_KEY | BS_LOAD_CLIENT_KEY;
	bs_config_t cfg;

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", chans, 2), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_set_enabled(st(), "cid", 1, NOW), BS_OK);
	CU_ASSERT_EQUAL(update_config(SECRET_NEW_EXTKEY, NULL, NULL, 0, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, all, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.name, "renamed");
	CU_ASSERT_STRING_EQUAL(cfg.content, "");
	CU_ASSERT_STRING_EQUAL(cfg.external_key, SECRET_NEW_EXTKEY);
	CU_ASSERT_PTR_NULL(cfg.client_key);
	CU_ASSERT_FALSE(cfg.has_client_key);
	CU_ASSERT_STRING_EQUAL(cfg.client_cert, "CERT-TEXT");
	CU_ASSERT_STRING_EQUAL(cfg.ca_cert, "CA-TEXT");
	CU_ASSERT_STRING_EQUAL(cfg.updated_at, LATER);
	/* What update does not write stays. */
	CU_ASSERT_STRING_EQUAL(cfg.created_at, NOW);
	CU_ASSERT_STRING_EQUAL(cfg.client_secret, SECRET_CLIENT);
	CU_ASSERT_STRING_EQUAL(cfg.external_id, "ext");
	CU_ASSERT_TRUE(cfg.enabled);
	CU_ASSERT_EQUAL_FATAL(cfg.nchannels, 2);
	CU_ASSERT_STRING_EQUAL(cfg.channels[0].id, "c1");
	CU_ASSERT_STRING_EQUAL(cfg.channels[1].id, "c2");
	bs_config_clear(&cfg);
	CU_ASSERT_EQUAL(update_config(SECRET_EXTKEY, SECRET_CLIENT_KEY, NULL, 0, 0),
			BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL, all, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.client_key, SECRET_CLIENT_KEY);
	CU_ASSERT_TRUE(cfg.has_client_key);
	bs_config_clear(&cfg);
	env_close();
}

static void test_config_update_relinks_channels_only_when_asked(void)
{
	static const char *const first[] = { "c1", "c2" };
	static const char *const second[] = { "c3", "c1" };
	static const char *const missing[] = { "c2", "nope" };
	bs_config_t cfg;
	char ids[64];

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", first, 2), BS_OK);
	CU_ASSERT_EQUAL(update_config(SECRET_EXTKEY, NULL, second, 2, 1), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL,
			BS_LOAD_CHANNELS, &cfg), BS_OK);
	CU_ASSERT_EQUAL_FATAL(cfg.nchannels, 2);
	CU_ASSERT_STRING_EQUAL(cfg.channels[0].id, "c3");
	CU_ASSERT_STRING_EQUAL(cfg.channels[1].id, "c1");
	bs_config_clear(&cfg);
	/* An unknown channel fails; the savepoint keeps the links as they were. */
	CU_ASSERT_EQUAL_FATAL(bs_store_begin(st()), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_savepoint(st()), BS_OK);
	CU_ASSERT_EQUAL(update_config(SECRET_EXTKEY, NULL, missing, 2, 1),
			BS_ERR_NOT_FOUND);
	bs_store_rollback_savepoint(st());
	CU_ASSERT_EQUAL(bs_store_commit(st()), BS_OK);
	raw_text("SELECT channel_id FROM config_channels ORDER BY position", ids,
			sizeof(ids));
	CU_ASSERT_STRING_EQUAL(ids, "c3");
	raw_text("SELECT channel_id FROM config_channels ORDER BY position DESC", ids,
			sizeof(ids));
	CU_ASSERT_STRING_EQUAL(ids, "c1");
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 2);
	CU_ASSERT_EQUAL(update_config(SECRET_EXTKEY, NULL, NULL, 0, 1), BS_OK);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 0);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM channels"), 3);
	env_close();
}

static void test_config_update_unknown_client_id_is_not_found(void)
{
	bs_config_t cfg = { .client_id = "ghost", .name = "n",
		.external_key = SECRET_EXTKEY, .content = "" };

	env_open();
	snprintf(cfg.updated_at, BS_TIME_LEN, "%s", LATER);
	CU_ASSERT_EQUAL(bs_store_config_update(st(), &cfg, 0), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs"), 0);
	env_close();
}

static void test_config_update_reseals_the_new_external_key(void)
{
	bs_config_t cfg;

	env_open();
	CU_ASSERT_EQUAL_FATAL(add_config("cid", "ext", NULL, 0), BS_OK);
	CU_ASSERT_EQUAL_FATAL(update_config(SECRET_NEW_EXTKEY, SECRET_CLIENT_KEY,
			NULL, 0, 0), BS_OK);
	/* The search works: the new plain name is found. */
	CU_ASSERT_TRUE(file_contains("", "CERT-TEXT")
			|| file_contains("-wal", "CERT-TEXT"));
	CU_ASSERT_FALSE(file_contains("", SECRET_NEW_EXTKEY));
	CU_ASSERT_FALSE(file_contains("-wal", SECRET_NEW_EXTKEY));
	assert_no_clear_secret("");
	assert_no_clear_secret("-wal");
	env_close_core();
	CU_ASSERT_FALSE(file_contains("", SECRET_NEW_EXTKEY));
	CU_ASSERT_FALSE(file_contains("-wal", SECRET_NEW_EXTKEY));
	assert_no_clear_secret("");
	/* And it opens again, under its row's additional data. */
	env_reopen();
	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), "cid", NULL,
			BS_LOAD_EXTERNAL_KEY | BS_LOAD_CLIENT_KEY, &cfg), BS_OK);
	CU_ASSERT_STRING_EQUAL(cfg.external_key, SECRET_NEW_EXTKEY);
	CU_ASSERT_STRING_EQUAL(cfg.client_key, SECRET_CLIENT_KEY);
	bs_config_clear(&cfg);
	env_close();
}

static void test_channel_update_writes_name_and_metadata(void)
{
	bs_channel_t upd = { .id = "c2", .name = "zwei", .metadata = "{\"x\":2}" };
	bs_channel_t ch = { 0 };
	char when[64];

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL(bs_store_channel_update(st(), &upd, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_get(st(), "c2", &ch), BS_OK);
	CU_ASSERT_STRING_EQUAL(ch.name, "zwei");
	CU_ASSERT_STRING_EQUAL(ch.metadata, "{\"x\":2}");
	bs_channel_clear(&ch);
	raw_text("SELECT created_at || ' ' || updated_at FROM channels "
			"WHERE id = 'c2'", when, sizeof(when));
	CU_ASSERT_STRING_EQUAL(when, NOW " " LATER);
	upd.metadata = NULL;
	CU_ASSERT_EQUAL(bs_store_channel_update(st(), &upd, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_get(st(), "c2", &ch), BS_OK);
	CU_ASSERT_STRING_EQUAL(ch.metadata, "{}");
	bs_channel_clear(&ch);
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_get(st(), "c1", &ch), BS_OK);
	CU_ASSERT_STRING_EQUAL(ch.name, "one");
	bs_channel_clear(&ch);
	upd.id = "nope";
	CU_ASSERT_EQUAL(bs_store_channel_update(st(), &upd, LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM channels"), 3);
	env_close();
}

static void expect_links(const char *client_id, const char *ids,
		const char *updated_at)
{
	bs_config_t cfg;
	char got[64] = "";
	size_t off = 0;

	CU_ASSERT_EQUAL_FATAL(bs_store_config_get(st(), client_id, NULL,
			BS_LOAD_CHANNELS, &cfg), BS_OK);
	for (size_t i = 0; i < cfg.nchannels && off < sizeof(got); i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s",
				i ? "," : "", cfg.channels[i].id);
	CU_ASSERT_STRING_EQUAL(got, ids);
	CU_ASSERT_STRING_EQUAL(cfg.updated_at, updated_at);
	CU_ASSERT_STRING_EQUAL(cfg.created_at, NOW);
	bs_config_clear(&cfg);
}

static void test_channel_delete_unlinks_and_touches_its_configs(void)
{
	static const char *const all3[] = { "c3", "c2", "c1" };
	static const char *const just1[] = { "c1" };
	static const char *const just3[] = { "c3" };
	bs_channel_t ch;

	env_open();
	add_three_channels();
	CU_ASSERT_EQUAL_FATAL(add_config("a", "ext-a", all3, 3), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("b", "ext-b", just1, 1), BS_OK);
	CU_ASSERT_EQUAL_FATAL(add_config("c", "ext-c", just3, 1), BS_OK);
	CU_ASSERT_EQUAL(bs_store_channel_delete(st(), "c2", LATER), BS_OK);
	expect_links("a", "c3,c1", LATER);
	expect_links("b", "c1", NOW);
	expect_links("c", "c3", NOW);
	CU_ASSERT_EQUAL(bs_store_channel_get(st(), "c2", &ch), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM config_channels"), 4);
	CU_ASSERT_EQUAL(bs_store_channel_delete(st(), "c2", LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(bs_store_channel_delete(st(), "nope", LATER), BS_ERR_NOT_FOUND);
	expect_links("b", "c1", NOW);
	CU_ASSERT_EQUAL(raw_int("SELECT count(*) FROM configs"), 3);
	env_close();
}

/* The ids of a page of channels, joined with ","; "!" on failure. */
static const char *channel_page(long offset, long limit)
{
	static char buf[128];
	bs_channel_t *list = NULL;
	size_t n = 0, off = 0;

	snprintf(buf, sizeof(buf), "!");
	if (bs_store_channel_list(st(), offset, limit, &list, &n) != BS_OK)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s:%s",
					i ? "," : "", list[i].id, list[i].name);
		bs_channel_clear(&list[i]);
	}
	free(list);
	return buf;
}

static void test_channel_list_and_count_in_created_then_id_order(void)
{
	bs_channel_t ch = { .id = "z", .name = "zed", .metadata = "{}" };
	long total = -1;

	env_open();
	CU_ASSERT_EQUAL(bs_store_channel_count(st(), &total), BS_OK);
	CU_ASSERT_EQUAL(total, 0);
	CU_ASSERT_STRING_EQUAL(channel_page(0, 10), "");
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_insert(st(), &ch, NOW), BS_OK);
	ch.id = "a";
	ch.name = "late";
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_insert(st(), &ch, LATER), BS_OK);
	ch.id = "m";
	ch.name = "em";
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_insert(st(), &ch, NOW), BS_OK);
	ch.id = "b";
	ch.name = "bee";
	CU_ASSERT_EQUAL_FATAL(bs_store_channel_insert(st(), &ch, NOW), BS_OK);
	CU_ASSERT_EQUAL(bs_store_channel_count(st(), &total), BS_OK);
	CU_ASSERT_EQUAL(total, 4);
	CU_ASSERT_STRING_EQUAL(channel_page(0, 10), "b:bee,m:em,z:zed,a:late");
	CU_ASSERT_STRING_EQUAL(channel_page(1, 2), "m:em,z:zed");
	CU_ASSERT_STRING_EQUAL(channel_page(3, 2), "a:late");
	CU_ASSERT_STRING_EQUAL(channel_page(4, 2), "");
	CU_ASSERT_STRING_EQUAL(channel_page(100, 1000), "");
	CU_ASSERT_EQUAL(bs_store_channel_delete(st(), "m", LATER), BS_OK);
	CU_ASSERT_EQUAL(bs_store_channel_count(st(), &total), BS_OK);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT_STRING_EQUAL(channel_page(0, 10), "b:bee,z:zed,a:late");
	env_close();
}

/* ---- main ---------------------------------------------------------------- */

/* What only the SQLite backend has: its file, pragmas and migrations. */
static const cu_test_t sqlite_tests[] = {
	T(test_new_database_is_at_the_last_version_in_wal_mode),
	T(test_reopen_keeps_data_and_does_not_migrate_again),
	T(test_version_1_database_is_migrated_to_the_last),
	T(test_version_5_certificates_get_their_serial),
	T(test_second_opener_of_the_same_database_is_refused),
	T(test_newer_schema_version_is_refused_naming_the_file),
	T(test_file_that_is_not_a_database_is_refused),
	T(test_secrets_are_not_in_clear_on_disk),
	T(test_config_update_reseals_the_new_external_key),
	{ NULL, NULL },
};

static const cu_test_t data_tests[] = {
	T(test_new_database_enforces_foreign_keys),
	T(test_delete_remembers_the_client_id_until_reused),
	T(test_channel_round_trip_and_duplicate_id_conflict),
	T(test_config_get_by_client_id_with_channels_in_order),
	T(test_config_get_by_external_id_loads_only_what_is_asked),
	T(test_config_duplicate_client_id_or_external_id_conflicts),
	T(test_devices_get_answers_each_row_in_order),
	T(test_devices_get_takes_up_to_its_bound),
	T(test_config_unknown_channel_not_found_and_savepoint_stores_nothing),
	T(test_delete_config_removes_its_channel_links),
	T(test_set_enabled_and_touch_bootstrap),
	T(test_touch_many_sets_each_config_its_time),
	T(test_state_counts_follow_changes_and_rollbacks),
	T(test_issued_certificate_is_stored_and_found_by_expiry),
	T(test_set_enabled_or_delete_unknown_id_not_found),
	T(test_delete_config_forgets_its_last_bootstrap),
	T(test_sql_metacharacters_are_stored_verbatim),
	{ NULL, NULL },
};

static const cu_test_t change_tests[] = {
	T(test_config_list_and_count_filter_in_created_then_id_order),
	T(test_config_list_pages_and_past_the_end),
	T(test_config_list_loads_only_what_is_asked),
	T(test_config_update_writes_fields_and_keeps_the_rest),
	T(test_config_update_relinks_channels_only_when_asked),
	T(test_config_update_unknown_client_id_is_not_found),
	T(test_channel_update_writes_name_and_metadata),
	T(test_channel_delete_unlinks_and_touches_its_configs),
	T(test_channel_list_and_count_in_created_then_id_order),
	{ NULL, NULL },
};

static const cu_test_t secret_tests[] = {
	T(test_sealed_value_moved_to_another_row_does_not_open),
	T(test_another_key_file_is_refused_at_start),
	T(test_a_missing_key_is_not_made_for_a_database_with_secrets),
	T(test_an_older_database_checks_the_key_on_a_secret),
	T(test_rekey_from_seals_every_secret_under_the_new_key),
	T(test_rekey_from_a_missing_or_wrong_key_changes_nothing),
	{ NULL, NULL },
};

int main(void)
{
	if (!test_on_pg())
		cu_add_suite("sqlite", NULL, suite_clean, sqlite_tests);
	cu_add_suite("store_data", NULL, suite_clean, data_tests);
	cu_add_suite("store_changes", NULL, suite_clean, change_tests);
	cu_add_suite("store_secrets", NULL, suite_clean, secret_tests);
	return cu_run(test_on_pg() ? "store_on_postgresql" : "store");
}
