/* The SQLite backend: opening, pragmas, migrations, transactions, and its
 * table of operations. */
#include "store_sqlite.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char *const bs_schema_migrations[];
extern const int bs_schema_count;

static int exec(lite_t *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return bs_lite_fail(st, what);
	return BS_OK;
}

static int pragma_int(lite_t *st, const char *sql, int *out)
{
	sqlite3_stmt *s = NULL;
	int rc = BS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK
			&& sqlite3_step(s) == SQLITE_ROW) {
		*out = sqlite3_column_int(s, 0);
		rc = BS_OK;
	}
	sqlite3_finalize(s);
	return rc == BS_OK ? rc : bs_lite_fail(st, sql);
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
/* bs_lite_fail, saying plainly when another process holds the lock. */
static int open_fail(lite_t *st, const char *what)
{
	if ((sqlite3_errcode(st->db) & 0xff) != SQLITE_BUSY)
		return bs_lite_fail(st, what);
	snprintf(st->base.errmsg, sizeof(st->base.errmsg), "the database is in use by "
			"another process (a second broker on the same file?)");
	return BS_ERR_INTERNAL;
}

/* As much of the file as SQLite maps at most (SQLITE_MAX_MMAP_SIZE). */
#define BS_LITE_MMAP_SIZE "2147418112"

static int set_pragmas(lite_t *st)
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
 * Once the file is checked and migrated, SQLite maps it (up to its own
 * cap, 2 GiB as Debian builds it) and reads pages there instead of
 * copying each into its page cache with pread: at a million configs a
 * bootstrap's random page cost 8.4 us with pread, 6.0 us mapped
 * (core_bench). Mapped pages are the kernel's page cache, shared and
 * reclaimable, not the broker's private memory. Mapped after the check,
 * which reads every page once and does that faster with pread.
 */
static int map_file(lite_t *st)
{
	return exec(st, "PRAGMA mmap_size=" BS_LITE_MMAP_SIZE, "mmap_size");
}

/*
 * A damaged database is refused at start, never repaired or overwritten:
 * half of it working would answer some devices and not others, and make
 * admin writes fail for good. quick_check reads every page but skips the
 * index-against-table comparison of integrity_check (README, Reliability,
 * gives its cost at a million configs).
 */
static int check_pages(lite_t *st)
{
	sqlite3_stmt *s = NULL;
	int rc = BS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK
			|| sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return bs_lite_fail(st, "check the database");
	}
	const char *verdict = (const char *)sqlite3_column_text(s, 0);
	if (verdict != NULL && strcmp(verdict, "ok") == 0)
		rc = BS_OK;
	else
		snprintf(st->base.errmsg, sizeof(st->base.errmsg), "the database is damaged "
				"(%.120s); restore it from a backup, it is left as it is",
				verdict != NULL ? verdict : "no verdict");
	sqlite3_finalize(s);
	/* The verdict has lines of its own; the log gets one. */
	for (char *c = st->base.errmsg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return rc;
}

/*
 * Takes the exclusive lock now rather than at the first write, and keeps
 * it (locking_mode=EXCLUSIVE): until then a second broker, or any other
 * process, could take the write lock, and admin writes would fail on both.
 */
static int lock_now(lite_t *st)
{
	if (sqlite3_exec(st->db, "BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, NULL) == SQLITE_OK)
		return BS_OK;
	return open_fail(st, "lock the database");
}

static int migrate(lite_t *st)
{
	int version = 0;
	int rc;

	if ((rc = pragma_int(st, "PRAGMA user_version", &version)) != BS_OK)
		return rc;
	if (version > bs_schema_count) {
		snprintf(st->base.errmsg, sizeof(st->base.errmsg),
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
	if (version < 6 && (rc = bs_lite_fill_cert_info(st)) != BS_OK)
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

static int prepare_all(lite_t *st)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, bs_lite_sql[i], -1,
				SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK)
			return bs_lite_fail(st, "prepare");
	}
	return BS_OK;
}

/* The database holds sealed secrets and their metadata: it is created 0600
 * (SQLite gives its -wal and -shm files the database file's mode). */
static int create_private(lite_t *st, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(st->base.errmsg, sizeof(st->base.errmsg), "cannot open: %s", strerror(errno));
		return BS_ERR_INTERNAL;
	}
	close(fd);
	return BS_OK;
}


static void lite_close(bs_backend_t *b)
{
	lite_t *st = lite(b);

	if (st == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_finalize(st->rows_insert);
	sqlite3_close(st->db);
	free(st);
}

static int lite_schema_version(bs_backend_t *b)
{
	int v = -1;

	pragma_int(lite(b), "PRAGMA user_version", &v);
	return v;
}

static int key_check_get(bs_backend_t *b, bs_blob_t *out)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_KEY_GET);
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		rc = bs_lite_col_blob(s, 0, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "read the key check");
	sqlite3_reset(s);
	return rc;
}

static int key_check_put(bs_backend_t *b, const bs_blob_t *check)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s;
	int rc = bs_lite_done(st, bs_lite_stmt(st, ST_KEY_DEL), "drop the key check");

	if (rc != BS_OK)
		return rc;
	s = bs_lite_stmt(st, ST_KEY_PUT);
	bs_lite_bind_blob(s, 1, check);
	rc = bs_lite_done(st, s, "write the key check");
	sqlite3_clear_bindings(s);
	return rc;
}

static int lite_in_transaction(const bs_backend_t *b)
{
	return !sqlite3_get_autocommit(((const lite_t *)b)->db);
}

static int lite_begin(bs_backend_t *b)
{
	lite_t *st = lite(b);
	return bs_lite_done(st, bs_lite_stmt(st, ST_BEGIN), "begin");
}

static int counts_add(lite_t *st, int enabled, long delta)
{
	sqlite3_stmt *s;

	if (delta == 0)
		return BS_OK;
	s = bs_lite_stmt(st, ST_COUNTS_ADD);
	sqlite3_bind_int64(s, 1, delta);
	sqlite3_bind_int(s, 2, enabled);
	return bs_lite_done(st, s, "count configs");
}

/* The gathered counts, written; they are dropped by a rollback. */
static int counts_write(lite_t *st)
{
	for (int i = 0; i < 2; i++) {
		int rc = counts_add(st, i, st->counts_pending[i]);
		if (rc != BS_OK)
			return rc;
		st->counts_pending[i] = st->counts_saved[i] = 0;
	}
	return BS_OK;
}

int bs_lite_count_change(lite_t *st, int enabled, long delta)
{
	if (lite_in_transaction(&st->base)) {
		st->counts_pending[enabled ? 1 : 0] += delta;
		return BS_OK;
	}
	return counts_add(st, enabled ? 1 : 0, delta);
}

static int lite_commit(bs_backend_t *b)
{
	lite_t *st = lite(b);
	int rc = counts_write(st);

	if (rc != BS_OK)
		return rc;
	return bs_lite_done(st, bs_lite_stmt(st, ST_COMMIT), "commit");
}

static void lite_rollback(bs_backend_t *b)
{
	lite_t *st = lite(b);

	memset(st->counts_pending, 0, sizeof(st->counts_pending));
	memset(st->counts_saved, 0, sizeof(st->counts_saved));
	if (lite_in_transaction(b))
		bs_lite_done(st, bs_lite_stmt(st, ST_ROLLBACK), "rollback");
}

static int lite_savepoint(bs_backend_t *b)
{
	lite_t *st = lite(b);

	memcpy(st->counts_saved, st->counts_pending, sizeof(st->counts_saved));
	return bs_lite_done(st, bs_lite_stmt(st, ST_SAVEPOINT), "savepoint");
}

/* A savepoint outside a transaction committed as it was released: its
 * counts are written after it. */
static int lite_release(bs_backend_t *b)
{
	lite_t *st = lite(b);
	int rc = bs_lite_done(st, bs_lite_stmt(st, ST_RELEASE), "release");

	if (rc == BS_OK && !lite_in_transaction(b))
		rc = counts_write(st);
	return rc;
}

static void lite_rollback_savepoint(bs_backend_t *b)
{
	lite_t *st = lite(b);

	memcpy(st->counts_pending, st->counts_saved, sizeof(st->counts_pending));
	bs_lite_done(st, bs_lite_stmt(st, ST_ROLLBACK_TO), "rollback to savepoint");
	bs_lite_done(st, bs_lite_stmt(st, ST_RELEASE), "release");
}

static const bs_backend_ops_t lite_ops = {
	.name = "sqlite",
	.close = lite_close,
	.schema_version = lite_schema_version,
	.key_check_get = key_check_get,
	.key_check_put = key_check_put,
	.begin = lite_begin,
	.commit = lite_commit,
	.rollback = lite_rollback,
	.savepoint = lite_savepoint,
	.release = lite_release,
	.rollback_savepoint = lite_rollback_savepoint,
	.in_transaction = lite_in_transaction,
	.channel_insert = bs_lite_channel_insert,
	.channel_get = bs_lite_channel_get,
	.channel_update = bs_lite_channel_update,
	.channel_delete = bs_lite_channel_delete,
	.channel_list = bs_lite_channel_list,
	.channel_count = bs_lite_channel_count,
	.profile_put = bs_lite_profile_put,
	.profile_get = bs_lite_profile_get,
	.profile_delete = bs_lite_profile_delete,
	.profile_list = bs_lite_profile_list,
	.profile_count = bs_lite_profile_count,
	.group_put = bs_lite_group_put,
	.group_get = bs_lite_group_get,
	.group_delete = bs_lite_group_delete,
	.group_list = bs_lite_group_list,
	.group_count = bs_lite_group_count,
	.config_insert = bs_lite_config_insert,
	.config_get = bs_lite_config_get,
	.config_list = bs_lite_config_list,
	.config_count = bs_lite_config_count,
	.config_states = bs_lite_config_states,
	.config_set_cert = bs_lite_config_set_cert,
	.config_update = bs_lite_config_update,
	.config_set_enabled = bs_lite_config_set_enabled,
	.config_delete = bs_lite_config_delete,
	.client_deleted = bs_lite_client_deleted,
	.config_touch = bs_lite_config_touch,
	.config_next_external_id = bs_lite_config_next_external_id,
	.config_sealed_page = bs_lite_config_sealed_page,
	.config_reseal = bs_lite_config_reseal,
	.unknown_put = bs_lite_unknown_put,
	.unknown_delete = bs_lite_unknown_delete,
	.unknown_count = bs_lite_unknown_count,
	.unknown_list = bs_lite_unknown_list,
	.unknown_each = bs_lite_unknown_each,
	.unknown_trim = bs_lite_unknown_trim,
	.rows_read = bs_lite_rows_read,
	.rows_open = bs_lite_rows_open,
	.rows_put = bs_lite_rows_put,
	.rows_close = bs_lite_rows_close,
	.rows_settle = bs_lite_rows_settle,
};

int bs_sqlite_open(const char *path, bs_backend_t **out, char *err, size_t errlen)
{
	lite_t *st = calloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return BS_ERR_INTERNAL;
	}
	st->base.ops = &lite_ops;
	/* The plugin is SQLite's only user in the broker's process and never
	 * asks how much memory it holds: counting it took a mutex around
	 * every allocation. Refused, harmlessly, once SQLite is initialised. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if ((rc = create_private(st, path)) != BS_OK)
		goto fail;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE
			| SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = bs_lite_fail(st, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if ((rc = set_pragmas(st)) != BS_OK || (rc = lock_now(st)) != BS_OK
			|| (rc = check_pages(st)) != BS_OK || (rc = migrate(st)) != BS_OK
			|| (rc = map_file(st)) != BS_OK || (rc = prepare_all(st)) != BS_OK)
		goto fail;
	*out = &st->base;
	return BS_OK;
fail:
	snprintf(err, errlen, "%s", st->base.errmsg);
	lite_close(&st->base);
	return rc;
}
