/*
 * Private to the PostgreSQL backend: the connection, its statements, and
 * the helpers that the store_pg*.c files share.
 *
 * Every statement is prepared once per connection (named "s<id>") and run
 * with bound parameters: text parameters as text, sealed values as bytea
 * in binary, and every result in binary (text comes as its bytes, integers
 * big-endian, booleans as one byte).
 *
 * No statement that answers BS_ERR_CONFLICT or BS_ERR_NOT_FOUND raises a
 * PostgreSQL error to do it (ON CONFLICT DO NOTHING, a check in the same
 * statement, a count of rows): an error aborts the caller's transaction,
 * and the admin commands go on after such an answer (createConfig looks
 * up which key was taken).
 */
#ifndef BS_STORE_PG_INT_H
#define BS_STORE_PG_INT_H

#include "store_pg.h"

#include <libpq-fe.h>

enum pg_stmt {
	PG_BEGIN, PG_COMMIT, PG_ROLLBACK, PG_SAVEPOINT, PG_RELEASE, PG_ROLLBACK_TO,
	PG_VERSION, PG_KEY_GET, PG_KEY_PUT, PG_COUNTS_ADD, PG_STATES, PG_NOTIFY,
	PG_CH_INSERT, PG_CH_GET, PG_CH_UPDATE, PG_CH_LOCK, PG_CH_DELETE, PG_CH_LIST,
	PG_CH_COUNT,
	PG_PRO_INSERT, PG_PRO_UPDATE, PG_PRO_GET, PG_PRO_DELETE, PG_PRO_LIST, PG_PRO_COUNT,
	PG_GRP_INSERT, PG_GRP_UPDATE, PG_GRP_GET, PG_GRP_DELETE, PG_GRP_LIST, PG_GRP_COUNT,
	/* A config by key (client_id, external_id) in each view. */
	PG_CFG_ALL_ID, PG_CFG_ALL_EXT, PG_CFG_DEVICE_ID, PG_CFG_DEVICE_EXT,
	PG_CFG_LOGIN_ID, PG_CFG_LOGIN_EXT,
	/* Bootstraps' configs by a list of external_ids, in its order. */
	PG_CFG_DEVICES,
	PG_CFG_INSERT, PG_CFG_LIST, PG_CFG_COUNT, PG_CFG_SET_CERT, PG_CFG_UPDATE,
	PG_LINK_CLEAR, PG_LINK_INSERT, PG_CFG_ENABLE, PG_CFG_DELETE, PG_GONE_GET,
	PG_CFG_TOUCH, PG_CFG_TOUCH_MANY, PG_CFG_NEXT_EXT, PG_CFG_SEALED_PAGE, PG_CFG_RESEAL,
	PG_CFG_LOGIN_PAGE, PG_GONE_PAGE, PG_CFG_LOGINS, PG_GONE_MANY,
	PG_UNK_PUT, PG_UNK_DELETE, PG_UNK_CLEAR, PG_UNK_COUNT, PG_UNK_LIST, PG_UNK_OLDEST,
	PG_UNK_TRIM, PG_NONCE_USE, PG_CHANGE_ADD, PG_CHANGES_SINCE, PG_CHANGES_LAST,
	PG_STMT_COUNT
};

typedef struct {
	const char *sql;
	/* Planned for its parameters at every run instead of prepared: the
	 * filters of listConfigs, whose one generic plan would scan the
	 * whole table for a lookup by external_id. */
	int unprepared;
} bs_pg_sql_t;

/* In store_pg_sql.c. */
extern const bs_pg_sql_t bs_pg_sql[PG_STMT_COUNT];

typedef struct bs_pg {
	bs_backend_t base;      /* first: a bs_pg_t is a bs_backend_t */
	PGconn *conn;
	bs_pg_options_t opt;
	/* Changes to config_counts by state (0 disabled, 1 enabled) not yet
	 * written: those of the open transaction, and their value when its
	 * current savepoint began. */
	long counts_pending[2], counts_saved[2];
	/* The savepoint began the transaction (there was none): its release
	 * commits, its rollback rolls back. */
	int savepoint_began;
	char *listening[BS_PG_LISTEN_MAX];
	size_t nlistening;
	/* What no message may show: the URL as given, and its password as
	 * written in it and as decoded. */
	char *hide[3];
	/* A reconnect under way without waiting (bs_pg_reconnect_step): what
	 * the socket must be ready for before the next step, and when it is
	 * given up. */
	int resetting;
	PostgresPollingStatusType reset_wait;
	long long reset_deadline_ms;
	/* Its set-up's pipeline under way, and the first failure in it. */
	int setting_up, setup_rc;
	/* The table that rows_put writes with COPY, and its rows not yet
	 * sent (store_pg_rows.c). */
	const bs_rows_table_t *rows_table;
	char *rows_buf;
	size_t rows_len, rows_cap;
} bs_pg_t;

#define BS_PG_MAX_PARAMS 20

/* A statement's parameters, filled in order: $1, $2, ... */
typedef struct {
	const char *values[BS_PG_MAX_PARAMS];
	int lengths[BS_PG_MAX_PARAMS];
	int formats[BS_PG_MAX_PARAMS];
	char ints[BS_PG_MAX_PARAMS][24];
	int n;
} bs_pg_params_t;

void bs_pg_params_init(bs_pg_params_t *p);
/* Text, NULL for SQL NULL (the text must outlive the run). */
void bs_pg_param_text(bs_pg_params_t *p, const char *v);
void bs_pg_param_int(bs_pg_params_t *p, long long v);
void bs_pg_param_bool(bs_pg_params_t *p, int v);
/* Sealed bytes in binary; none for SQL NULL. */
void bs_pg_param_blob(bs_pg_params_t *p, const bs_blob_t *v);
/* A count for LIMIT: a negative one is no limit (NULL), as in SQLite. */
void bs_pg_param_limit(bs_pg_params_t *p, long v);

/*
 * Runs statement id. On success *res holds the result (PQclear it) and 0
 * is returned; on failure *res is NULL and the code is BS_ERR_CONFLICT for
 * a unique key taken (23505), BS_ERR_NOT_FOUND for a missing row a foreign
 * key names (23503), BS_ERR_INTERNAL otherwise, with what in b->errmsg.
 */
int bs_pg_run(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p,
		PGresult **res, const char *what);
/* The same for a page of a keyset walk: the rows after the key after
 * (NULL: from the first), max of them. */
int bs_pg_run_page(bs_pg_t *pg, enum pg_stmt id, const char *after, size_t max,
		PGresult **res, const char *what);
/* The same for a statement whose rows are not wanted. */
int bs_pg_do(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p, const char *what);
/* The same, and BS_ERR_NOT_FOUND when it changed (or returned) no row. */
int bs_pg_change_one(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p,
		const char *what);
/* How many rows the statement changed, into *n. */
int bs_pg_changed(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p, long *n,
		const char *what);
/* A single-row, single-column count. */
int bs_pg_count(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p, long *n,
		const char *what);

/* The monotonic clock in milliseconds. */
long long bs_pg_mono_ms(void);

/* After a new connection: the session's settings, every statement
 * prepared, LISTEN again on every channel, in one round trip waited for
 * (store_pg_setup.c). The first alone, and the second alone, at open. */
int bs_pg_set_up(bs_pg_t *pg);
int bs_pg_set_session(bs_pg_t *pg);
/* The same without waiting: sent, then its answers read a step at a time
 * as they come (1 while more are to come, else the outcome). */
int bs_pg_set_up_send(bs_pg_t *pg);
int bs_pg_set_up_step(bs_pg_t *pg);
/* Its answers not come in time: the set-up given up, the failure said. */
int bs_pg_set_up_abandon(bs_pg_t *pg);

/* Records a failure in b->errmsg ("what: reason"), with nothing of hide[]
 * in it; returns BS_ERR_INTERNAL. reason NULL takes libpq's last. */
int bs_pg_fail(bs_pg_t *pg, const char *what, const char *reason);
/* Replaces every occurrence of each hidden string in msg by "***". */
void bs_pg_redact(const bs_pg_t *pg, char *msg, size_t size);

/* Column readers for binary results. NULL gives NULL (or "", 0, none);
 * *oom is set when memory runs out. */
char *bs_pg_col_text(const PGresult *r, int row, int col, int *oom);
void bs_pg_col_copy(const PGresult *r, int row, int col, char *out, size_t size);
long long bs_pg_col_int(const PGresult *r, int row, int col);
int bs_pg_col_null(const PGresult *r, int row, int col);
int bs_pg_col_blob(const PGresult *r, int row, int col, bs_blob_t *out);

/* A write of several statements, or one that changes the counts, as one
 * transaction when the caller has none open: *own says it began one, which
 * bs_pg_own_end then commits (rc 0) or rolls back; it returns rc, or the
 * commit's failure. */
int bs_pg_own_begin(bs_pg_t *pg, int *own);
int bs_pg_own_end(bs_pg_t *pg, int own, int rc);
/* delta configs more (or fewer) in state enabled, written at commit. */
void bs_pg_count_change(bs_pg_t *pg, int enabled, long delta);


/* The ops (each file's own). */
int bs_pg_begin(bs_backend_t *b);
int bs_pg_commit(bs_backend_t *b);
void bs_pg_rollback(bs_backend_t *b);
int bs_pg_savepoint(bs_backend_t *b);
int bs_pg_release(bs_backend_t *b);
void bs_pg_rollback_savepoint(bs_backend_t *b);
int bs_pg_in_transaction(const bs_backend_t *b);

int bs_pg_channel_insert(bs_backend_t *b, const bs_channel_t *ch, const char *now);
int bs_pg_channel_get(bs_backend_t *b, const char *id, bs_channel_t *out);
int bs_pg_channel_update(bs_backend_t *b, const bs_channel_t *ch, const char *now);
int bs_pg_channel_delete(bs_backend_t *b, const char *id, const char *now);
int bs_pg_channel_list(bs_backend_t *b, long offset, long limit, bs_channel_t **out,
		size_t *n);
int bs_pg_channel_count(bs_backend_t *b, long *total);

int bs_pg_profile_put(bs_backend_t *b, const bs_profile_t *p, int create, const char *now);
int bs_pg_profile_get(bs_backend_t *b, const char *id, bs_profile_t *out);
int bs_pg_profile_delete(bs_backend_t *b, const char *id);
int bs_pg_profile_list(bs_backend_t *b, long offset, long limit, bs_profile_t **out,
		size_t *n);
int bs_pg_profile_count(bs_backend_t *b, long *total);
int bs_pg_group_put(bs_backend_t *b, const bs_group_t *g, const bs_blob_t *key,
		int create, const char *now);
int bs_pg_group_get(bs_backend_t *b, const char *id, bs_group_t *out, bs_blob_t *key);
int bs_pg_group_delete(bs_backend_t *b, const char *id);
int bs_pg_group_list(bs_backend_t *b, long offset, long limit, bs_group_t **out,
		size_t *n);
int bs_pg_group_count(bs_backend_t *b, long *total);

int bs_pg_config_insert(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed);
int bs_pg_config_get(bs_backend_t *b, const char *client_id, const char *external_id,
		enum bs_config_view view, bs_config_t *out, bs_config_blobs_t *sealed);
int bs_pg_config_get_devices(bs_backend_t *b, bs_device_row_t *rows, size_t n);
int bs_pg_config_list(bs_backend_t *b, const bs_config_filter_t *f, long offset,
		long limit, bs_config_t *out, bs_config_blobs_t *sealed, size_t *n);
int bs_pg_config_count(bs_backend_t *b, const bs_config_filter_t *f, long *total);
int bs_pg_config_states(bs_backend_t *b, long *enabled, long *disabled);
int bs_pg_config_set_cert(bs_backend_t *b, const bs_config_t *cfg, const char *now);
int bs_pg_config_update(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed, int relink);
int bs_pg_config_set_enabled(bs_backend_t *b, const char *client_id, int enabled,
		const char *now);
int bs_pg_config_delete(bs_backend_t *b, const char *client_id, const char *now);
int bs_pg_client_deleted(bs_backend_t *b, const char *client_id);
int bs_pg_config_touch(bs_backend_t *b, int64_t id, time_t when);
int bs_pg_config_touch_many(bs_backend_t *b, const int64_t *ids, const time_t *whens,
		size_t n);
int bs_pg_config_next_external_id(bs_backend_t *b, const char *after, char **out);
int bs_pg_config_login_page(bs_backend_t *b, const char *after, size_t max,
		bs_config_t *out, bs_config_blobs_t *sealed, size_t *n);
int bs_pg_config_logins_get(bs_backend_t *b, const char *const *ids, size_t n,
		bs_config_t *out, bs_config_blobs_t *sealed, int *found, int *deleted);
int bs_pg_deleted_page(bs_backend_t *b, const char *after, size_t max, char **ids,
		size_t *n);

int bs_pg_key_check_get(bs_backend_t *b, bs_blob_t *out);
int bs_pg_key_check_put(bs_backend_t *b, const bs_blob_t *check);
int bs_pg_config_sealed_page(bs_backend_t *b, const char *after, bs_sealed_row_t *rows,
		size_t max, size_t *n);
int bs_pg_config_reseal(bs_backend_t *b, const char *external_id,
		const bs_config_blobs_t *sealed);

int bs_pg_unknown_put(bs_backend_t *b, const char *external_id, time_t first_seen,
		time_t last_seen, int64_t attempts, const char *address);
int bs_pg_unknown_delete(bs_backend_t *b, const char *external_id, long *deleted);
int bs_pg_unknown_count(bs_backend_t *b, long *total);
int bs_pg_unknown_list(bs_backend_t *b, long offset, long limit, bs_unknown_row_t **out,
		size_t *n);
int bs_pg_unknown_each(bs_backend_t *b, int newest, long limit, bs_unknown_row_fn fn,
		void *arg);
int bs_pg_unknown_trim(bs_backend_t *b, long keep, long *deleted);
int bs_pg_nonce_use(bs_backend_t *b, const uint8_t *nonce, size_t len,
		time_t expires, time_t forget_before);

/* Rows as stored (store_pg_rows.c). */
int bs_pg_rows_read(bs_backend_t *b, const bs_rows_table_t *const *tables, size_t n,
		bs_rows_fn fn, void *arg);
int bs_pg_rows_open(bs_backend_t *b, const bs_rows_table_t *t);
int bs_pg_rows_put(bs_backend_t *b, const bs_rows_value_t *v);
int bs_pg_rows_close(bs_backend_t *b, int abandon);
int bs_pg_rows_settle(bs_backend_t *b);

/* "LISTEN <channel>", quoted, malloc()ed; NULL with the failure recorded
 * (store_pg_notify.c). */
char *bs_pg_listen_sql(bs_pg_t *pg, const char *channel);

/* The statements' names ("s<id>") and preparing them (store_pg.c). */
int bs_pg_prepare_all(bs_pg_t *pg);
void bs_pg_stmt_name(enum pg_stmt id, char out[8]);

#endif
