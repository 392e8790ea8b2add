/*
 * Private to the SQLite backend: the connection, its prepared statements,
 * and the helpers that its files share (bs_lite_*).
 */
#ifndef BS_STORE_SQLITE_H
#define BS_STORE_SQLITE_H

#include "store_backend.h"

#include <sqlite3.h>

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	/* The unknown devices (store_sqlite_unknown.c). */
	ST_UNK_PUT, ST_UNK_DELETE, ST_UNK_CLEAR, ST_UNK_COUNT, ST_UNK_LIST, ST_UNK_OLDEST,
	ST_UNK_TRIM,
	ST_CH_INSERT, ST_CH_GET, ST_CH_LIST, ST_CH_COUNT, ST_CH_UPDATE,
	ST_CH_TOUCH_CONFIGS, ST_CH_DELETE,
	ST_CFG_INSERT, ST_LINK_INSERT, ST_LINK_CLEAR, ST_CFG_BY_ID, ST_CFG_BY_EXT,
	ST_CFG_DEVICE, ST_CFG_LOGIN,
	ST_CFG_LIST, ST_CFG_COUNT, ST_CFG_UPDATE, ST_CFG_SET_CERT, ST_CFG_CERTS,
	ST_CFG_CERT_INFO, ST_CFG_SET_CHANNELS,
	ST_CFG_ENABLE, ST_CFG_RESTATE, ST_BOOT_DELETE, ST_CFG_DELETE, ST_CFG_TOUCH,
	ST_GONE_ADD, ST_GONE_CLEAR, ST_GONE_GET, ST_KEY_GET, ST_KEY_PUT, ST_KEY_DEL,
	ST_CFG_SEALED_PAGE, ST_CFG_RESEAL, ST_CFG_NEXT_EXT, ST_CFG_STATES,
	ST_COUNTS_ADD,
	ST_PRO_INSERT, ST_PRO_UPDATE, ST_PRO_GET, ST_PRO_LIST, ST_PRO_COUNT, ST_PRO_DELETE,
	ST_PRO_USED, ST_GRP_INSERT, ST_GRP_UPDATE, ST_GRP_GET, ST_GRP_LIST, ST_GRP_COUNT,
	ST_GRP_DELETE, ST_CH_OUT_OF_PROFILES, ST_CH_OUT_OF_GROUPS,
	ST_COUNT
};

typedef struct lite {
	bs_backend_t base;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	/* Changes to config_counts by state (0 disabled, 1 enabled) not yet
	 * written: those of the open transaction, and their value when its
	 * current savepoint began. */
	long counts_pending[2], counts_saved[2];
	/* The table being written by rows_put, and its INSERT. */
	const bs_rows_table_t *rows_table;
	sqlite3_stmt *rows_insert;
} lite_t;

static inline lite_t *lite(bs_backend_t *b)
{
	return (lite_t *)b;
}

/* The SQL of each statement, in store_sqlite.c. */
extern const char *const bs_lite_sql[ST_COUNT];

/* Records SQLite's last error under what; returns BS_ERR_INTERNAL. */
int bs_lite_fail(lite_t *st, const char *what);
/* The statement, reset and with its bindings cleared. */
sqlite3_stmt *bs_lite_stmt(lite_t *st, enum stmt_id id);
/* Runs a statement that returns no rows; maps constraint failures to
 * BS_ERR_CONFLICT (unique keys) and BS_ERR_NOT_FOUND (foreign keys). */
int bs_lite_done(lite_t *st, sqlite3_stmt *s, const char *what);
/* The same, and BS_ERR_NOT_FOUND when no row changed. */
int bs_lite_change_one(lite_t *st, sqlite3_stmt *s, const char *what);
/* Binds text, or NULL for a NULL pointer (the text must outlive the step). */
int bs_lite_bind_text(sqlite3_stmt *s, int col, const char *v);
/* Binds a sealed value, or NULL for none (it must outlive the step). */
int bs_lite_bind_blob(sqlite3_stmt *s, int col, const bs_blob_t *v);
/* A short text column into out ("" for NULL), cut to fit size. */
void bs_lite_col_copy(sqlite3_stmt *s, int col, char *out, size_t size);
/* strdup of a text column; NULL for SQL NULL; *oom set when out of memory. */
char *bs_lite_col_text(sqlite3_stmt *s, int col, int *oom);
/* A copy of a blob column (none for SQL NULL). */
int bs_lite_col_blob(sqlite3_stmt *s, int col, bs_blob_t *out);
/* Runs a single-row count(*) statement. */
int bs_lite_count(lite_t *st, sqlite3_stmt *s, long *out, const char *what);
/* delta configs more (or fewer) in state enabled: gathered until the
 * transaction commits, written at once outside one. */
int bs_lite_count_change(lite_t *st, int enabled, long delta);
/* Reads a channel row (id, name, metadata). */
int bs_lite_read_channel(sqlite3_stmt *s, bs_channel_t *out);

/* The serial and end of validity of every stored client_cert, for the
 * certificates stored before schema version 6 (its migration). */
int bs_lite_fill_cert_info(lite_t *st);

/* The operations, by file. */
int bs_lite_channel_insert(bs_backend_t *b, const bs_channel_t *ch, const char *now);
int bs_lite_channel_get(bs_backend_t *b, const char *id, bs_channel_t *out);
int bs_lite_channel_update(bs_backend_t *b, const bs_channel_t *ch, const char *now);
int bs_lite_channel_delete(bs_backend_t *b, const char *id, const char *now);
int bs_lite_channel_list(bs_backend_t *b, long offset, long limit,
		bs_channel_t **out, size_t *n);
int bs_lite_channel_count(bs_backend_t *b, long *total);

int bs_lite_profile_put(bs_backend_t *b, const bs_profile_t *p, int create,
		const char *now);
int bs_lite_profile_get(bs_backend_t *b, const char *id, bs_profile_t *out);
int bs_lite_profile_delete(bs_backend_t *b, const char *id);
int bs_lite_profile_list(bs_backend_t *b, long offset, long limit,
		bs_profile_t **out, size_t *n);
int bs_lite_profile_count(bs_backend_t *b, long *total);
int bs_lite_group_put(bs_backend_t *b, const bs_group_t *g, const bs_blob_t *key,
		int create, const char *now);
int bs_lite_group_get(bs_backend_t *b, const char *id, bs_group_t *out, bs_blob_t *key);
int bs_lite_group_delete(bs_backend_t *b, const char *id);
int bs_lite_group_list(bs_backend_t *b, long offset, long limit,
		bs_group_t **out, size_t *n);
int bs_lite_group_count(bs_backend_t *b, long *total);

int bs_lite_config_insert(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed);
int bs_lite_config_get(bs_backend_t *b, const char *client_id,
		const char *external_id, enum bs_config_view view,
		bs_config_t *out, bs_config_blobs_t *sealed);
int bs_lite_config_list(bs_backend_t *b, const bs_config_filter_t *f,
		long offset, long limit, bs_config_t *out, bs_config_blobs_t *sealed,
		size_t *n);
int bs_lite_config_count(bs_backend_t *b, const bs_config_filter_t *f, long *total);
int bs_lite_config_states(bs_backend_t *b, long *enabled, long *disabled);
int bs_lite_config_set_cert(bs_backend_t *b, const bs_config_t *cfg, const char *now);
int bs_lite_config_update(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed, int relink);
int bs_lite_config_set_enabled(bs_backend_t *b, const char *client_id,
		int enabled, const char *now);
int bs_lite_config_delete(bs_backend_t *b, const char *client_id, const char *now);
int bs_lite_client_deleted(bs_backend_t *b, const char *client_id);
int bs_lite_config_touch(bs_backend_t *b, int64_t id, time_t when);
int bs_lite_config_next_external_id(bs_backend_t *b, const char *after, char **out);
int bs_lite_config_sealed_page(bs_backend_t *b, const char *after,
		bs_sealed_row_t *rows, size_t max, size_t *n);
int bs_lite_config_reseal(bs_backend_t *b, const char *external_id,
		const bs_config_blobs_t *sealed);

int bs_lite_unknown_put(bs_backend_t *b, const char *external_id, time_t first_seen,
		time_t last_seen, int64_t attempts, const char *address);
int bs_lite_unknown_delete(bs_backend_t *b, const char *external_id, long *deleted);
int bs_lite_unknown_count(bs_backend_t *b, long *total);
int bs_lite_unknown_list(bs_backend_t *b, long offset, long limit,
		bs_unknown_row_t **out, size_t *n);
int bs_lite_unknown_each(bs_backend_t *b, int newest, long limit,
		bs_unknown_row_fn fn, void *arg);
int bs_lite_unknown_trim(bs_backend_t *b, long keep, long *deleted);

/* Rows as stored (store_sqlite_rows.c). */
int bs_lite_rows_read(bs_backend_t *b, const bs_rows_table_t *const *tables,
		size_t n, bs_rows_fn fn, void *arg);
int bs_lite_rows_open(bs_backend_t *b, const bs_rows_table_t *t);
int bs_lite_rows_put(bs_backend_t *b, const bs_rows_value_t *v);
int bs_lite_rows_close(bs_backend_t *b, int abandon);
int bs_lite_rows_settle(bs_backend_t *b);

#endif
