#include "store.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char *const bs_schema_migrations[];
extern const int bs_schema_count;

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_CH_INSERT, ST_CH_GET,
	ST_CFG_INSERT, ST_LINK_INSERT, ST_CFG_BY_ID, ST_CFG_BY_EXT,
	ST_CFG_CHANNELS, ST_CFG_ENABLE, ST_CFG_DELETE, ST_CFG_TOUCH,
	ST_COUNT
};

#define CFG_COLUMNS "client_id, client_secret, name, external_id, external_key, " \
	"content, client_cert, client_key, ca_cert, enabled, created_at, " \
	"updated_at, last_bootstrap_at"

/* Column positions in CFG_COLUMNS. */
enum { C_ID, C_SECRET, C_NAME, C_EXT_ID, C_EXT_KEY, C_CONTENT, C_CERT,
	C_KEY, C_CA, C_ENABLED, C_CREATED, C_UPDATED, C_LAST };

static const char *const sql_text[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT cmd",
	[ST_RELEASE] = "RELEASE cmd",
	[ST_ROLLBACK_TO] = "ROLLBACK TO cmd",
	[ST_CH_INSERT] = "INSERT INTO channels (id, name, metadata, created_at, "
		"updated_at) VALUES (?, ?, ?, ?, ?)",
	[ST_CH_GET] = "SELECT id, name, metadata FROM channels WHERE id = ?",
	[ST_CFG_INSERT] = "INSERT INTO configs (" CFG_COLUMNS ") VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
	[ST_LINK_INSERT] = "INSERT INTO config_channels (client_id, channel_id, "
		"position) VALUES (?, ?, ?)",
	[ST_CFG_BY_ID] = "SELECT " CFG_COLUMNS " FROM configs WHERE client_id = ?",
	[ST_CFG_BY_EXT] = "SELECT " CFG_COLUMNS " FROM configs WHERE external_id = ?",
	[ST_CFG_CHANNELS] = "SELECT c.id, c.name, c.metadata FROM config_channels l "
		"JOIN channels c ON c.id = l.channel_id WHERE l.client_id = ? "
		"ORDER BY l.position",
	[ST_CFG_ENABLE] = "UPDATE configs SET enabled = ?, updated_at = ? "
		"WHERE client_id = ?",
	[ST_CFG_DELETE] = "DELETE FROM configs WHERE client_id = ?",
	[ST_CFG_TOUCH] = "UPDATE configs SET last_bootstrap_at = ? WHERE client_id = ?",
};

struct bs_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	uint8_t key[BS_KEY_LEN];
	char errmsg[256];
};

static int db_fail(bs_store_t *st, const char *what)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what,
			sqlite3_errmsg(st->db));
	return BS_ERR_INTERNAL;
}

/* Resets a statement for reuse and returns it. */
static sqlite3_stmt *stmt(bs_store_t *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Runs a statement that returns no rows. */
static int step_done(bs_store_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return BS_OK;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return BS_ERR_CONFLICT;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return BS_ERR_NOT_FOUND;
	return db_fail(st, what);
}

static int bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
}

static int exec(bs_store_t *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, what);
	return BS_OK;
}

static int pragma_int(bs_store_t *st, const char *sql, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc = BS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK
			&& sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int(s, 0);
		rc = BS_OK;
	}
	sqlite3_finalize(s);
	return rc == BS_OK ? rc : db_fail(st, sql);
}

/*
 * WAL keeps readers and the single writer apart and makes a commit one
 * append; synchronous=NORMAL then loses nothing when the process dies (a
 * committed transaction is in the OS page cache), only possibly the last
 * transactions on a power cut. busy_timeout stays small: the broker has one
 * thread and must not wait long on another process holding the database.
 */
static int set_pragmas(bs_store_t *st)
{
	sqlite3_stmt *s = NULL;
	int wal = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL)
			== SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		wal = strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
	sqlite3_finalize(s);
	if (!wal)
		return db_fail(st, "cannot switch to WAL mode");
	sqlite3_busy_timeout(st->db, 200);
	return exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
			"pragmas");
}

static int migrate(bs_store_t *st)
{
	int version = 0;
	int rc;

	if ((rc = pragma_int(st, "PRAGMA user_version", &version)) != BS_OK)
		return rc;
	if (version > bs_schema_count) {
		snprintf(st->errmsg, sizeof(st->errmsg),
				"schema version %d is newer than this plugin (%d)",
				version, bs_schema_count);
		return BS_ERR_INTERNAL;
	}
	if (version == bs_schema_count)
		return BS_OK;
	if ((rc = exec(st, "BEGIN IMMEDIATE", "begin migration")) != BS_OK)
		return rc;
	for (int i = version; i < bs_schema_count; i++) {
		char what[64];
		snprintf(what, sizeof(what), "migration %03d", i + 1);
		if ((rc = exec(st, bs_schema_migrations[i], what)) != BS_OK)
			goto fail;
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", bs_schema_count);
	if ((rc = exec(st, sql, "set user_version")) != BS_OK
			|| (rc = exec(st, "COMMIT", "commit migration")) != BS_OK)
		goto fail;
	return BS_OK;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int prepare_all(bs_store_t *st)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, sql_text[i], -1,
				SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK)
			return db_fail(st, "prepare");
	}
	return BS_OK;
}

/* The database holds sealed secrets and their metadata: it is created 0600
 * (SQLite gives its -wal and -shm files the database file's mode). */
static int create_private(bs_store_t *st, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(st->errmsg, sizeof(st->errmsg), "cannot open: %s", strerror(errno));
		return BS_ERR_INTERNAL;
	}
	close(fd);
	return BS_OK;
}

int bs_store_open(const char *path, const uint8_t key[BS_KEY_LEN],
		bs_store_t **out, char *err, size_t errlen)
{
	bs_store_t *st = calloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	if (st == NULL) {
		snprintf(err, errlen, "db_path %s: out of memory", path);
		return BS_ERR_INTERNAL;
	}
	memcpy(st->key, key, BS_KEY_LEN);
	if ((rc = create_private(st, path)) != BS_OK)
		goto fail;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE
			| SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = db_fail(st, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = set_pragmas(st)) != BS_OK || (rc = migrate(st)) != BS_OK
			|| (rc = prepare_all(st)) != BS_OK)
		goto fail;
	*out = st;
	return BS_OK;
fail:
	snprintf(err, errlen, "db_path %s: %s", path, st->errmsg);
	bs_store_close(st);
	return rc;
}

void bs_store_close(bs_store_t *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	explicit_bzero(st->key, sizeof(st->key));
	free(st);
}

const char *bs_store_errmsg(const bs_store_t *st)
{
	return st->errmsg;
}

int bs_store_schema_version(bs_store_t *st)
{
	int v = -1;

	pragma_int(st, "PRAGMA user_version", &v);
	return v;
}

int bs_store_begin(bs_store_t *st)
{
	return step_done(st, stmt(st, ST_BEGIN), "begin");
}

int bs_store_commit(bs_store_t *st)
{
	return step_done(st, stmt(st, ST_COMMIT), "commit");
}

void bs_store_rollback(bs_store_t *st)
{
	if (!sqlite3_get_autocommit(st->db))
		step_done(st, stmt(st, ST_ROLLBACK), "rollback");
}

int bs_store_savepoint(bs_store_t *st)
{
	return step_done(st, stmt(st, ST_SAVEPOINT), "savepoint");
}

int bs_store_release(bs_store_t *st)
{
	return step_done(st, stmt(st, ST_RELEASE), "release");
}

void bs_store_rollback_savepoint(bs_store_t *st)
{
	step_done(st, stmt(st, ST_ROLLBACK_TO), "rollback to savepoint");
	step_done(st, stmt(st, ST_RELEASE), "release");
}

int bs_store_channel_insert(bs_store_t *st, const bs_channel_t *ch,
		const char *now)
{
	sqlite3_stmt *s = stmt(st, ST_CH_INSERT);

	bind_text(s, 1, ch->id);
	bind_text(s, 2, ch->name);
	bind_text(s, 3, ch->metadata ? ch->metadata : "{}");
	bind_text(s, 4, now);
	bind_text(s, 5, now);
	return step_done(st, s, "insert channel");
}

/* strdup of a text column; NULL for SQL NULL. *oom set on allocation failure. */
static char *col_text(sqlite3_stmt *s, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *copy;

	if (t == NULL)
		return NULL;
	copy = strdup((const char *)t);
	if (copy == NULL)
		*oom = 1;
	return copy;
}

static int read_channel(sqlite3_stmt *s, bs_channel_t *out)
{
	int oom = 0;

	out->id = col_text(s, 0, &oom);
	out->name = col_text(s, 1, &oom);
	out->metadata = col_text(s, 2, &oom);
	if (oom) {
		bs_channel_clear(out);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

int bs_store_channel_get(bs_store_t *st, const char *id, bs_channel_t *out)
{
	sqlite3_stmt *s = stmt(st, ST_CH_GET);
	int rc;

	bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_channel(s, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : db_fail(st, "get channel");
	sqlite3_reset(s);
	return rc;
}

/* The additional data of a sealed column: "configs" NUL column NUL client_id. */
static size_t make_aad(char *buf, size_t buflen, const char *column,
		const char *client_id)
{
	int n = snprintf(buf, buflen, "configs%c%s%c%s", 0, column, 0, client_id);

	return n < 0 || (size_t)n >= buflen ? 0 : (size_t)n;
}

static int seal(bs_store_t *st, const char *column, const char *client_id,
		const char *clear, uint8_t **out, size_t *outlen)
{
	char aad[BS_ID_MAX + 64];
	size_t aadlen = make_aad(aad, sizeof(aad), column, client_id);

	if (aadlen == 0 || bs_crypto_seal(st->key, aad, aadlen, clear,
			strlen(clear), out, outlen) != BS_OK) {
		snprintf(st->errmsg, sizeof(st->errmsg), "cannot seal %s", column);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

/* Opens a sealed column into a NUL-terminated string; NULL stays NULL. */
static int unseal(bs_store_t *st, sqlite3_stmt *s, int col, const char *column,
		const char *client_id, char **out)
{
	const uint8_t *blob = sqlite3_column_blob(s, col);
	int bloblen = sqlite3_column_bytes(s, col);
	char aad[BS_ID_MAX + 64];
	size_t aadlen = make_aad(aad, sizeof(aad), column, client_id);
	uint8_t *pt = NULL;
	size_t ptlen = 0;

	*out = NULL;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return BS_OK;
	if (aadlen == 0 || bs_crypto_open(st->key, aad, aadlen, blob,
			(size_t)bloblen, &pt, &ptlen) != BS_OK) {
		snprintf(st->errmsg, sizeof(st->errmsg),
				"%s of %s does not open with this key file", column, client_id);
		return BS_ERR_INTERNAL;
	}
	*out = (char *)pt;
	return BS_OK;
}

/* Binds a sealed secret (or NULL) at col. The sealed buffer is kept in
 * *keep until the statement ran. */
static int bind_sealed(bs_store_t *st, sqlite3_stmt *s, int col,
		const char *column, const char *client_id, const char *clear,
		uint8_t **keep)
{
	size_t len = 0;
	int rc;

	if (clear == NULL)
		return sqlite3_bind_null(s, col) == SQLITE_OK ? BS_OK : BS_ERR_INTERNAL;
	if ((rc = seal(st, column, client_id, clear, keep, &len)) != BS_OK)
		return rc;
	sqlite3_bind_blob(s, col, *keep, (int)len, SQLITE_STATIC);
	return BS_OK;
}

static int insert_links(bs_store_t *st, const bs_config_t *cfg)
{
	for (size_t i = 0; i < cfg->nchannels; i++) {
		sqlite3_stmt *s = stmt(st, ST_LINK_INSERT);
		int rc;

		bind_text(s, 1, cfg->client_id);
		bind_text(s, 2, cfg->channels[i].id);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
		if ((rc = step_done(st, s, "link channel")) != BS_OK)
			return rc;
	}
	return BS_OK;
}

int bs_store_config_insert(bs_store_t *st, const bs_config_t *cfg)
{
	sqlite3_stmt *s = stmt(st, ST_CFG_INSERT);
	uint8_t *sealed[3] = { NULL, NULL, NULL };
	int rc;

	bind_text(s, 1, cfg->client_id);
	bind_text(s, 3, cfg->name ? cfg->name : "");
	bind_text(s, 4, cfg->external_id);
	bind_text(s, 6, cfg->content ? cfg->content : "");
	bind_text(s, 7, cfg->client_cert);
	bind_text(s, 9, cfg->ca_cert);
	sqlite3_bind_int(s, 10, cfg->enabled ? 1 : 0);
	bind_text(s, 11, cfg->created_at);
	bind_text(s, 12, cfg->updated_at);
	if ((rc = bind_sealed(st, s, 2, "client_secret", cfg->client_id,
			cfg->client_secret, &sealed[0])) != BS_OK
			|| (rc = bind_sealed(st, s, 5, "external_key", cfg->client_id,
			cfg->external_key, &sealed[1])) != BS_OK
			|| (rc = bind_sealed(st, s, 8, "client_key", cfg->client_id,
			cfg->client_key, &sealed[2])) != BS_OK)
		goto out;
	if ((rc = step_done(st, s, "insert config")) != BS_OK)
		goto out;
	rc = insert_links(st, cfg);
out:
	sqlite3_clear_bindings(s);
	for (int i = 0; i < 3; i++)
		free(sealed[i]);
	return rc;
}

static int load_channels(bs_store_t *st, bs_config_t *cfg)
{
	sqlite3_stmt *s = stmt(st, ST_CFG_CHANNELS);
	int rc;

	bind_text(s, 1, cfg->client_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		bs_channel_t *grown = realloc(cfg->channels,
				(cfg->nchannels + 1) * sizeof(*grown));
		if (grown == NULL) {
			sqlite3_reset(s);
			return BS_ERR_INTERNAL;
		}
		cfg->channels = grown;
		memset(&grown[cfg->nchannels], 0, sizeof(*grown));
		if (read_channel(s, &grown[cfg->nchannels]) != BS_OK) {
			sqlite3_reset(s);
			return BS_ERR_INTERNAL;
		}
		cfg->nchannels++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? BS_OK : db_fail(st, "load channels");
}

static void copy_time(sqlite3_stmt *s, int col, char out[BS_TIME_LEN])
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, BS_TIME_LEN, "%s", t ? (const char *)t : "");
}

static int read_config(bs_store_t *st, sqlite3_stmt *s, unsigned flags,
		bs_config_t *out)
{
	int oom = 0;
	int rc = BS_OK;

	out->client_id = col_text(s, C_ID, &oom);
	out->name = col_text(s, C_NAME, &oom);
	out->external_id = col_text(s, C_EXT_ID, &oom);
	out->content = col_text(s, C_CONTENT, &oom);
	out->client_cert = col_text(s, C_CERT, &oom);
	out->ca_cert = col_text(s, C_CA, &oom);
	out->has_client_key = sqlite3_column_type(s, C_KEY) != SQLITE_NULL;
	out->enabled = sqlite3_column_int(s, C_ENABLED);
	copy_time(s, C_CREATED, out->created_at);
	copy_time(s, C_UPDATED, out->updated_at);
	copy_time(s, C_LAST, out->last_bootstrap_at);
	if (oom || out->client_id == NULL)
		return BS_ERR_INTERNAL;
	if ((flags & BS_LOAD_SECRET) && rc == BS_OK)
		rc = unseal(st, s, C_SECRET, "client_secret", out->client_id,
				&out->client_secret);
	if ((flags & BS_LOAD_EXTERNAL_KEY) && rc == BS_OK)
		rc = unseal(st, s, C_EXT_KEY, "external_key", out->client_id,
				&out->external_key);
	if ((flags & BS_LOAD_CLIENT_KEY) && rc == BS_OK)
		rc = unseal(st, s, C_KEY, "client_key", out->client_id,
				&out->client_key);
	return rc;
}

int bs_store_config_get(bs_store_t *st, const char *client_id,
		const char *external_id, unsigned flags, bs_config_t *out)
{
	sqlite3_stmt *s = stmt(st, client_id ? ST_CFG_BY_ID : ST_CFG_BY_EXT);
	int rc;

	memset(out, 0, sizeof(*out));
	bind_text(s, 1, client_id ? client_id : external_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_config(st, s, flags, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : db_fail(st, "get config");
	sqlite3_reset(s);
	if (rc == BS_OK && (flags & BS_LOAD_CHANNELS))
		rc = load_channels(st, out);
	if (rc != BS_OK)
		bs_config_clear(out);
	return rc;
}

/* Runs an UPDATE or DELETE; BS_ERR_NOT_FOUND when it touched no row. */
static int change_one(bs_store_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = step_done(st, s, what);

	if (rc == BS_OK && sqlite3_changes(st->db) == 0)
		return BS_ERR_NOT_FOUND;
	return rc;
}

int bs_store_config_set_enabled(bs_store_t *st, const char *client_id,
		int enabled, const char *now)
{
	sqlite3_stmt *s = stmt(st, ST_CFG_ENABLE);

	sqlite3_bind_int(s, 1, enabled ? 1 : 0);
	bind_text(s, 2, now);
	bind_text(s, 3, client_id);
	return change_one(st, s, "set state");
}

int bs_store_config_delete(bs_store_t *st, const char *client_id)
{
	sqlite3_stmt *s = stmt(st, ST_CFG_DELETE);

	bind_text(s, 1, client_id);
	return change_one(st, s, "delete config");
}

int bs_store_config_touch_bootstrap(bs_store_t *st, const char *client_id,
		const char *now)
{
	sqlite3_stmt *s = stmt(st, ST_CFG_TOUCH);

	bind_text(s, 1, now);
	bind_text(s, 2, client_id);
	return change_one(st, s, "set last_bootstrap_at");
}
