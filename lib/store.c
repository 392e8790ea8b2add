#include "store_int.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char *const bs_schema_migrations[];
extern const int bs_schema_count;

/* A config with its last bootstrap; column positions in store_config.c. */
#define CFG_SELECT "SELECT c.id, c.client_id, c.client_secret, c.name, " \
	"c.external_id, c.external_key, c.content, c.client_cert, c.client_key, " \
	"c.ca_cert, c.enabled, c.created_at, c.updated_at, b.at, c.channel_ids, " \
	"c.cert_serial, c.cert_expires_at, c.profile, c.vars, c.group_id " \
	"FROM configs c LEFT JOIN bootstraps b ON b.config_id = c.id"

/* The filters of listConfigs: NULL parameters match everything. */
#define CFG_FILTER " WHERE (?1 IS NULL OR c.enabled = ?1)" \
	" AND (?2 IS NULL OR instr(lower(c.name), lower(?2)) > 0)" \
	" AND (?3 IS NULL OR c.external_id = ?3)" \
	" AND (?6 IS NULL OR c.cert_expires_at < ?6)"

const char *const bs_store_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT cmd",
	[ST_RELEASE] = "RELEASE cmd",
	[ST_ROLLBACK_TO] = "ROLLBACK TO cmd",
	/* The unknown devices: times are Unix seconds; the list and the walks
	 * read the index on (last_seen, external_id), both ways. */
	[ST_UNK_PUT] = "INSERT INTO unknown_devices (external_id, first_seen, last_seen, "
		"attempts, address) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (external_id) "
		"DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
		"last_seen = max(last_seen, excluded.last_seen), "
		"attempts = attempts + excluded.attempts, address = excluded.address",
	[ST_UNK_DELETE] = "DELETE FROM unknown_devices WHERE external_id = ?",
	[ST_UNK_CLEAR] = "DELETE FROM unknown_devices",
	[ST_UNK_COUNT] = "SELECT count(*) FROM unknown_devices",
	[ST_UNK_LIST] = "SELECT external_id, first_seen, last_seen, attempts, address "
		"FROM unknown_devices ORDER BY last_seen DESC, external_id DESC "
		"LIMIT ?1 OFFSET ?2",
	[ST_UNK_OLDEST] = "SELECT external_id, first_seen, last_seen, attempts, address "
		"FROM unknown_devices ORDER BY last_seen, external_id LIMIT ?1",
	[ST_UNK_TRIM] = "DELETE FROM unknown_devices WHERE external_id IN "
		"(SELECT external_id FROM unknown_devices "
		"ORDER BY last_seen DESC, external_id DESC LIMIT -1 OFFSET ?1)",
	[ST_CH_INSERT] = "INSERT INTO channels (id, name, metadata, created_at, "
		"updated_at) VALUES (?, ?, ?, ?, ?)",
	[ST_CH_GET] = "SELECT id, name, metadata FROM channels WHERE id = ?",
	[ST_CH_LIST] = "SELECT id, name, metadata FROM channels "
		"ORDER BY created_at, id LIMIT ? OFFSET ?",
	[ST_CH_COUNT] = "SELECT count(*) FROM channels",
	[ST_CH_UPDATE] = "UPDATE channels SET name = ?, metadata = ?, updated_at = ? "
		"WHERE id = ?",
	[ST_CH_TOUCH_CONFIGS] = "UPDATE configs SET updated_at = ?1, channel_ids = "
		"(SELECT ifnull(group_concat(channel_id, char(10)), '') FROM "
		"(SELECT channel_id FROM config_channels l WHERE l.client_id = "
		"configs.client_id AND l.channel_id != ?2 ORDER BY l.position)) "
		"WHERE client_id IN (SELECT client_id FROM config_channels "
		"WHERE channel_id = ?2)",
	[ST_CH_DELETE] = "DELETE FROM channels WHERE id = ?",
	[ST_CFG_INSERT] = "INSERT INTO configs (client_id, client_secret, name, "
		"external_id, external_key, content, client_cert, client_key, ca_cert, "
		"enabled, created_at, updated_at, channel_ids, cert_serial, "
		"cert_expires_at, profile, vars, group_id, id) VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		"(SELECT ifnull(max(id), 0) + 1 FROM configs))",
	[ST_LINK_INSERT] = "INSERT INTO config_channels (client_id, channel_id, "
		"position) VALUES (?, ?, ?)",
	[ST_LINK_CLEAR] = "DELETE FROM config_channels WHERE client_id = ?",
	[ST_CFG_BY_ID] = CFG_SELECT " WHERE c.client_id = ?",
	[ST_CFG_BY_EXT] = CFG_SELECT " WHERE c.external_id = ?",
	/* The same columns without the join: one B-tree fewer per bootstrap. */
	/* Text and blob columns cost SQLite an allocation each: a bootstrap
	 * selects only those its reply needs. */
	/* name and external_id only for a template to render (protocol 7.1). */
	[ST_CFG_DEVICE] = "SELECT c.id, c.client_id, c.client_secret, "
		"iif(c.profile IS NULL, NULL, c.name), iif(c.profile IS NULL, NULL, c.external_id), "
		"c.external_key, c.content, c.client_cert, c.client_key, c.ca_cert, "
		"c.enabled, NULL, NULL, NULL, c.channel_ids, NULL, NULL, c.profile, "
		"c.vars, NULL FROM configs c WHERE c.external_id = ?",
	[ST_CFG_LOGIN] = "SELECT c.id, c.client_id, c.client_secret, NULL, NULL, "
		"NULL, NULL, c.client_cert, NULL, NULL, c.enabled, NULL, NULL, NULL, "
		"c.channel_ids, NULL, NULL, NULL, NULL, NULL FROM configs c "
		"WHERE c.client_id = ?",
	[ST_CFG_LIST] = CFG_SELECT CFG_FILTER
		" ORDER BY c.created_at, c.client_id LIMIT ?4 OFFSET ?5",
	[ST_CFG_COUNT] = "SELECT count(*) FROM configs c" CFG_FILTER,
	[ST_CFG_UPDATE] = "UPDATE configs SET name = ?, external_key = ?, content = ?, "
		"client_cert = ?, client_key = ?, ca_cert = ?, updated_at = ?, "
		"client_secret = coalesce(?9, client_secret), cert_serial = ?10, "
		"cert_expires_at = ?11, profile = ?12, vars = ?13 WHERE client_id = ?8",
	[ST_CFG_SET_CERT] = "UPDATE configs SET client_cert = ?, client_key = NULL, "
		"cert_serial = ?, cert_expires_at = ?, updated_at = ? WHERE client_id = ?",
	[ST_CFG_CERTS] = "SELECT client_id, client_cert FROM configs "
		"WHERE client_cert IS NOT NULL",
	[ST_CFG_CERT_INFO] = "UPDATE configs SET cert_serial = ?, cert_expires_at = ? "
		"WHERE client_id = ?",
	[ST_CFG_SET_CHANNELS] = "UPDATE configs SET channel_ids = ? WHERE client_id = ?",
	/* The state changes, or (no row changed) the config is in that state
	 * already or missing, which ST_CFG_RESTATE tells apart. */
	[ST_CFG_ENABLE] = "UPDATE configs SET enabled = ?1, updated_at = ?2 "
		"WHERE client_id = ?3 AND enabled <> ?1",
	[ST_CFG_RESTATE] = "UPDATE configs SET updated_at = ? WHERE client_id = ?",
	[ST_BOOT_DELETE] = "DELETE FROM bootstraps WHERE config_id = "
		"(SELECT id FROM configs WHERE client_id = ?)",
	[ST_CFG_DELETE] = "DELETE FROM configs WHERE client_id = ? RETURNING enabled",
	[ST_GONE_ADD] = "INSERT OR REPLACE INTO deleted_clients (client_id, deleted_at) "
		"VALUES (?, ?)",
	[ST_GONE_CLEAR] = "DELETE FROM deleted_clients WHERE client_id = ?",
	[ST_GONE_GET] = "SELECT 1 FROM deleted_clients WHERE client_id = ?",
	[ST_KEY_GET] = "SELECT sealed FROM key_check WHERE id = 1",
	[ST_KEY_PUT] = "INSERT INTO key_check (id, sealed) VALUES (1, ?)",
	[ST_CFG_ANY] = "SELECT client_id, client_secret FROM configs LIMIT 1",
	[ST_KEY_DEL] = "DELETE FROM key_check",
	[ST_CFG_FIRST_EXT] = "SELECT external_id FROM configs LIMIT 1",
	[ST_CFG_NEXT_EXT] = "SELECT external_id FROM configs WHERE external_id > ? "
		"ORDER BY external_id LIMIT 1",
	[ST_CFG_STATES] = "SELECT enabled, n FROM config_counts",
	[ST_COUNTS_ADD] = "UPDATE config_counts SET n = n + ? WHERE enabled = ?",
	[ST_PRO_INSERT] = "INSERT INTO profiles (id, name, content, channel_ids, vars, "
		"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[ST_PRO_UPDATE] = "UPDATE profiles SET name = ?2, content = ?3, channel_ids = ?4, "
		"vars = ?5, updated_at = ?6 WHERE id = ?1",
	[ST_PRO_GET] = "SELECT id, name, content, channel_ids, vars, created_at, updated_at "
		"FROM profiles WHERE id = ?",
	[ST_PRO_LIST] = "SELECT id, name, content, channel_ids, vars, created_at, updated_at "
		"FROM profiles ORDER BY created_at, id LIMIT ? OFFSET ?",
	[ST_PRO_COUNT] = "SELECT count(*) FROM profiles",
	[ST_PRO_DELETE] = "DELETE FROM profiles WHERE id = ?",
	[ST_PRO_USED] = "SELECT EXISTS (SELECT 1 FROM configs WHERE profile = ?1) "
		"OR EXISTS (SELECT 1 FROM enroll_groups WHERE profile = ?1)",
	[ST_GRP_INSERT] = "INSERT INTO enroll_groups (id, name, profile, channel_ids, enable, "
		"group_key, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
	[ST_GRP_UPDATE] = "UPDATE enroll_groups SET name = ?2, profile = ?3, channel_ids = ?4, "
		"enable = ?5, group_key = coalesce(?6, group_key), updated_at = ?7 WHERE id = ?1",
	[ST_GRP_GET] = "SELECT id, name, profile, channel_ids, enable, created_at, updated_at, "
		"group_key FROM enroll_groups WHERE id = ?",
	[ST_GRP_LIST] = "SELECT id, name, profile, channel_ids, enable, created_at, updated_at, "
		"NULL FROM enroll_groups ORDER BY created_at, id LIMIT ? OFFSET ?",
	[ST_GRP_COUNT] = "SELECT count(*) FROM enroll_groups",
	[ST_GRP_DELETE] = "DELETE FROM enroll_groups WHERE id = ?",
	/* A deleted channel leaves the default channels of profiles and groups,
	 * as it leaves configs. */
	[ST_CH_OUT_OF_PROFILES] = "UPDATE profiles SET channel_ids = trim(replace(char(10) "
		"|| channel_ids || char(10), char(10) || ?1 || char(10), char(10)), char(10)) "
		"WHERE instr(char(10) || channel_ids || char(10), char(10) || ?1 || char(10)) > 0",
	[ST_CH_OUT_OF_GROUPS] = "UPDATE enroll_groups SET channel_ids = trim(replace(char(10) "
		"|| channel_ids || char(10), char(10) || ?1 || char(10), char(10)), char(10)) "
		"WHERE instr(char(10) || channel_ids || char(10), char(10) || ?1 || char(10)) > 0",
	[ST_CFG_SEALED_PAGE] = "SELECT external_id, client_id, client_secret, "
		"external_key, client_key FROM configs WHERE external_id > ? "
		"ORDER BY external_id LIMIT 512",
	[ST_CFG_RESEAL] = "UPDATE configs SET client_secret = ?, external_key = ?, "
		"client_key = ? WHERE external_id = ?",
	[ST_CFG_TOUCH] = "INSERT OR REPLACE INTO bootstraps (config_id, at) VALUES (?, ?)",
};

int store_fail(bs_store_t *st, const char *what)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what,
			sqlite3_errmsg(st->db));
	return BS_ERR_INTERNAL;
}

sqlite3_stmt *store_stmt(bs_store_t *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int store_done(bs_store_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return BS_OK;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return BS_ERR_CONFLICT;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return BS_ERR_NOT_FOUND;
	return store_fail(st, what);
}

int store_change_one(bs_store_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = store_done(st, s, what);

	if (rc == BS_OK && sqlite3_changes(st->db) == 0)
		return BS_ERR_NOT_FOUND;
	return rc;
}

int store_bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
}

void store_col_copy(sqlite3_stmt *s, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t len = t ? strnlen((const char *)t, size - 1) : 0;

	memcpy(out, t ? (const char *)t : "", len);
	out[len] = '\0';
}

char *store_col_text(sqlite3_stmt *s, int col, int *oom)
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

int store_read_channel(sqlite3_stmt *s, bs_channel_t *out)
{
	int oom = 0;

	out->id = store_col_text(s, 0, &oom);
	out->name = store_col_text(s, 1, &oom);
	out->metadata = store_col_text(s, 2, &oom);
	if (oom) {
		bs_channel_clear(out);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

int store_count(bs_store_t *st, sqlite3_stmt *s, long *out, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? BS_OK : store_fail(st, what);
}

static int exec(bs_store_t *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, what);
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
	return rc == BS_OK ? rc : store_fail(st, sql);
}

/*
 * WAL keeps readers and the single writer apart and makes a commit one
 * append; synchronous=NORMAL then loses nothing when the process dies (a
 * committed transaction is in the OS page cache), only possibly the last
 * transactions on a power cut. busy_timeout stays small: the broker has one
 * thread and must not wait long. The plugin is the database's only user, so
 * it holds it exclusively: that spares two lock system calls per statement
 * on the request path, and a second broker on the same file is refused. The
 * 16 MiB page cache holds the inner pages of a million-config database.
 */
/* store_fail, saying plainly when another process holds the lock. */
static int open_fail(bs_store_t *st, const char *what)
{
	if ((sqlite3_errcode(st->db) & 0xff) != SQLITE_BUSY)
		return store_fail(st, what);
	snprintf(st->errmsg, sizeof(st->errmsg), "the database is in use by "
			"another process (a second broker on the same file?)");
	return BS_ERR_INTERNAL;
}

static int set_pragmas(bs_store_t *st)
{
	sqlite3_stmt *s = NULL;
	int wal = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL)
			== SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		wal = strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
	if (!wal) {
		int rc = open_fail(st, "cannot switch to WAL mode");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_finalize(s);
	sqlite3_busy_timeout(st->db, 200);
	/* temp_store=MEMORY keeps the statement journal of each admin
	 * command's savepoint in memory: in a file it cost two pwrite calls
	 * for every page a command touched. */
	return exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
			"PRAGMA cache_size=-16384; PRAGMA locking_mode=EXCLUSIVE; "
			"PRAGMA temp_store=MEMORY;",
			"pragmas");
}

/*
 * A damaged database is refused at start, never repaired or overwritten:
 * half of it working would answer some devices and not others, and make
 * admin writes fail for good. quick_check reads every page but skips the
 * index-against-table comparison of integrity_check (README, Reliability,
 * gives its cost at a million configs).
 */
static int check_pages(bs_store_t *st)
{
	sqlite3_stmt *s = NULL;
	int rc = BS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK
			|| sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_fail(st, "check the database");
	}
	const char *verdict = (const char *)sqlite3_column_text(s, 0);
	if (verdict != NULL && strcmp(verdict, "ok") == 0)
		rc = BS_OK;
	else
		snprintf(st->errmsg, sizeof(st->errmsg), "the database is damaged "
				"(%.120s); restore it from a backup, it is left as it is",
				verdict != NULL ? verdict : "no verdict");
	sqlite3_finalize(s);
	/* The verdict has lines of its own; the log gets one. */
	for (char *c = st->errmsg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return rc;
}

/*
 * Takes the exclusive lock now rather than at the first write, and keeps
 * it (locking_mode=EXCLUSIVE): until then a second broker, or any other
 * process, could take the write lock, and admin writes would fail on both.
 */
static int lock_now(bs_store_t *st)
{
	if (sqlite3_exec(st->db, "BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, NULL) == SQLITE_OK)
		return BS_OK;
	return open_fail(st, "lock the database");
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
	/* Version 6 added columns that only C can fill in: certificates'
	 * serials and ends of validity. */
	if (version < 6 && (rc = store_config_fill_cert_info(st)) != BS_OK)
		goto fail;
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
		if (sqlite3_prepare_v3(st->db, bs_store_sql[i], -1,
				SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK)
			return store_fail(st, "prepare");
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

#define KEY_CHECK_TEXT "mosquitto-bootstrap key check"
#define KEY_CHECK_AAD "key_check"

/* Seals the key check value under the store's key and stores it. */
static int put_key_check(bs_store_t *st)
{
	sqlite3_stmt *s = store_stmt(st, ST_KEY_PUT);
	uint8_t *sealed = NULL;
	size_t len = 0;
	int rc;

	if (bs_crypto_seal(st->key, KEY_CHECK_AAD, sizeof(KEY_CHECK_AAD) - 1,
			KEY_CHECK_TEXT, sizeof(KEY_CHECK_TEXT) - 1, &sealed, &len) != BS_OK)
		return BS_ERR_INTERNAL;
	sqlite3_bind_blob(s, 1, sealed, (int)len, SQLITE_STATIC);
	rc = store_done(st, s, "write the key check");
	sqlite3_clear_bindings(s);
	free(sealed);
	return rc;
}

/*
 * BS_ERR_UNAUTHORIZED when the key is not the database's: its key check
 * does not open, or, before there is one, the first stored secret does
 * not. A database with neither gets its key check now.
 */
static int check_key(bs_store_t *st)
{
	sqlite3_stmt *s = store_stmt(st, ST_KEY_GET);
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		rc = bs_crypto_open(st->key, KEY_CHECK_AAD, sizeof(KEY_CHECK_AAD) - 1,
				sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
				&pt, &ptlen) == BS_OK && ptlen == sizeof(KEY_CHECK_TEXT) - 1
			&& memcmp(pt, KEY_CHECK_TEXT, ptlen) == 0 ? BS_OK : BS_ERR_UNAUTHORIZED;
		sqlite3_reset(s);
		free(pt);
		return rc;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "read the key check");
	if ((rc = store_config_probe_key(st)) != BS_OK)
		return rc;
	return put_key_check(st);
}

int bs_store_rekey(bs_store_t *st, const uint8_t new_key[BS_KEY_LEN], size_t *n)
{
	uint8_t old_key[BS_KEY_LEN];
	int rc;

	memcpy(old_key, st->key, BS_KEY_LEN);
	if ((rc = bs_store_begin(st)) != BS_OK)
		return rc;
	rc = store_config_reseal(st, new_key, n);
	if (rc == BS_OK)
		rc = store_done(st, store_stmt(st, ST_KEY_DEL), "drop the key check");
	if (rc == BS_OK)
		rc = put_key_check(st);
	if (rc == BS_OK)
		rc = bs_store_commit(st);
	if (rc != BS_OK) {
		bs_store_rollback(st);
		memcpy(st->key, old_key, BS_KEY_LEN);
	}
	explicit_bzero(old_key, sizeof(old_key));
	return rc;
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
	/* The plugin is SQLite's only user in the broker's process and never
	 * asks how much memory it holds: counting it took a mutex around
	 * every allocation. Refused, harmlessly, once SQLite is initialised. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if ((rc = create_private(st, path)) != BS_OK)
		goto fail;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE
			| SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = store_fail(st, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = set_pragmas(st)) != BS_OK || (rc = lock_now(st)) != BS_OK
			|| (rc = check_pages(st)) != BS_OK || (rc = migrate(st)) != BS_OK
			|| (rc = prepare_all(st)) != BS_OK || (rc = check_key(st)) != BS_OK)
		goto fail;
	*out = st;
	return BS_OK;
fail:
	if (rc == BS_ERR_UNAUTHORIZED)
		snprintf(st->errmsg, sizeof(st->errmsg),
				"the master key does not open the secrets stored here");
	snprintf(err, errlen, "db_path %s: %s", path, st->errmsg);
	bs_store_close(st);
	return rc;
}

void bs_store_close(bs_store_t *st)
{
	if (st == NULL)
		return;
	store_cache_clear(st);
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
	return store_done(st, store_stmt(st, ST_BEGIN), "begin");
}

int bs_store_in_transaction(const bs_store_t *st)
{
	return !sqlite3_get_autocommit(st->db);
}

static int counts_add(bs_store_t *st, int enabled, long delta)
{
	sqlite3_stmt *s;

	if (delta == 0)
		return BS_OK;
	s = store_stmt(st, ST_COUNTS_ADD);
	sqlite3_bind_int64(s, 1, delta);
	sqlite3_bind_int(s, 2, enabled);
	return store_done(st, s, "count configs");
}

/* The gathered counts, written; they are dropped by a rollback. */
static int counts_write(bs_store_t *st)
{
	for (int i = 0; i < 2; i++) {
		int rc = counts_add(st, i, st->counts_pending[i]);
		if (rc != BS_OK)
			return rc;
		st->counts_pending[i] = st->counts_saved[i] = 0;
	}
	return BS_OK;
}

static void counts_drop(bs_store_t *st)
{
	memset(st->counts_pending, 0, sizeof(st->counts_pending));
	memset(st->counts_saved, 0, sizeof(st->counts_saved));
}

int store_count_change(bs_store_t *st, int enabled, long delta)
{
	if (bs_store_in_transaction(st)) {
		st->counts_pending[enabled ? 1 : 0] += delta;
		return BS_OK;
	}
	return counts_add(st, enabled ? 1 : 0, delta);
}

int bs_store_commit(bs_store_t *st)
{
	int rc = counts_write(st);

	if (rc != BS_OK)
		return rc;
	return store_done(st, store_stmt(st, ST_COMMIT), "commit");
}

void bs_store_rollback(bs_store_t *st)
{
	store_cache_clear(st);
	counts_drop(st);
	if (!sqlite3_get_autocommit(st->db))
		store_done(st, store_stmt(st, ST_ROLLBACK), "rollback");
}

int bs_store_savepoint(bs_store_t *st)
{
	memcpy(st->counts_saved, st->counts_pending, sizeof(st->counts_saved));
	return store_done(st, store_stmt(st, ST_SAVEPOINT), "savepoint");
}

/* A savepoint outside a transaction committed as it was released: its
 * counts are written after it. */
int bs_store_release(bs_store_t *st)
{
	int rc = store_done(st, store_stmt(st, ST_RELEASE), "release");

	if (rc == BS_OK && !bs_store_in_transaction(st))
		rc = counts_write(st);
	return rc;
}

void bs_store_rollback_savepoint(bs_store_t *st)
{
	store_cache_clear(st);
	memcpy(st->counts_pending, st->counts_saved, sizeof(st->counts_pending));
	store_done(st, store_stmt(st, ST_ROLLBACK_TO), "rollback to savepoint");
	store_done(st, store_stmt(st, ST_RELEASE), "release");
}
