/* The SQLite backend's unknown_devices table (protocol 7.3). */
#include "store_sqlite.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_lite_unknown_put(bs_backend_t *b, const char *external_id, time_t first_seen,
		time_t last_seen, int64_t attempts, const char *address)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_UNK_PUT);

	bs_lite_bind_text(s, 1, external_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)first_seen);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)last_seen);
	sqlite3_bind_int64(s, 4, attempts);
	bs_lite_bind_text(s, 5, address ? address : "");
	return bs_lite_done(st, s, "remember an unknown device");
}

int bs_lite_unknown_delete(bs_backend_t *b, const char *external_id, long *deleted)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, external_id ? ST_UNK_DELETE : ST_UNK_CLEAR);
	int rc;

	*deleted = 0;
	if (external_id != NULL)
		bs_lite_bind_text(s, 1, external_id);
	if ((rc = bs_lite_done(st, s, "forget unknown devices")) == BS_OK)
		*deleted = (long)sqlite3_changes(st->db);
	return rc;
}

int bs_lite_unknown_count(bs_backend_t *b, long *total)
{
	lite_t *st = lite(b);
	return bs_lite_count(st, bs_lite_stmt(st, ST_UNK_COUNT), total, "count unknown devices");
}

int bs_lite_unknown_list(bs_backend_t *b, long offset, long limit,
		bs_unknown_row_t **out, size_t *n)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_UNK_LIST);
	bs_unknown_row_t *rows = calloc((size_t)limit + 1, sizeof(*rows));
	int rc = SQLITE_DONE, oom = 0;

	*out = NULL;
	*n = 0;
	if (rows == NULL)
		return BS_ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, limit);
	sqlite3_bind_int64(s, 2, offset);
	while (*n < (size_t)limit && !oom && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		bs_unknown_row_t *r = &rows[(*n)++];
		r->external_id = bs_lite_col_text(s, 0, &oom);
		r->first_seen = (time_t)sqlite3_column_int64(s, 1);
		r->last_seen = (time_t)sqlite3_column_int64(s, 2);
		r->attempts = sqlite3_column_int64(s, 3);
		r->address = bs_lite_col_text(s, 4, &oom);
	}
	sqlite3_reset(s);
	if (oom || (rc != SQLITE_ROW && rc != SQLITE_DONE)) {
		bs_unknown_rows_free(rows, *n);
		*n = 0;
		return oom ? BS_ERR_INTERNAL : bs_lite_fail(st, "list unknown devices");
	}
	*out = rows;
	return BS_OK;
}

int bs_lite_unknown_each(bs_backend_t *b, int newest, long limit,
		bs_unknown_row_fn fn, void *arg)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, newest ? ST_UNK_LIST : ST_UNK_OLDEST);
	int rc;

	sqlite3_bind_int64(s, 1, limit);
	if (newest)
		sqlite3_bind_int64(s, 2, 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *address = (const char *)sqlite3_column_text(s, 4);
		if (id != NULL && fn(arg, id, (time_t)sqlite3_column_int64(s, 1),
				(time_t)sqlite3_column_int64(s, 2), address ? address : "") != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? BS_OK : bs_lite_fail(st, "read unknown devices");
}

int bs_lite_unknown_trim(bs_backend_t *b, long keep, long *deleted)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_UNK_TRIM);
	int rc;

	*deleted = 0;
	sqlite3_bind_int64(s, 1, keep);
	if ((rc = bs_lite_done(st, s, "trim unknown devices")) == BS_OK)
		*deleted = (long)sqlite3_changes(st->db);
	return rc;
}
