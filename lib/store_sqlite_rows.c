/* The SQLite backend's rows as stored, read and written for a fleet's
 * copy (lib/store_rows.h): one SELECT or INSERT per table, made from the
 * table's columns. */
#include "store_sqlite.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

/* "a, b, c" of t's columns, or "?1, ?2, ?3" with params. */
static void column_list(const bs_rows_table_t *t, int params, char *out, size_t size)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->ncols && at < size; i++) {
		if (params)
			at += (size_t)snprintf(out + at, size - at, "%s?%zu", i ? ", " : "", i + 1);
		else
			at += (size_t)snprintf(out + at, size - at, "%s%s", i ? ", " : "",
					t->cols[i].name);
	}
}

static int prepare(lite_t *st, const char *sql, sqlite3_stmt **s, const char *table)
{
	char what[96];

	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK)
		return BS_OK;
	snprintf(what, sizeof(what), "prepare the rows of %s", table);
	return bs_lite_fail(st, what);
}

static void read_value(sqlite3_stmt *s, int col, enum bs_rows_kind kind, bs_rows_value_t *v)
{
	memset(v, 0, sizeof(*v));
	if ((v->null = sqlite3_column_type(s, col) == SQLITE_NULL))
		return;
	if (kind == BS_ROWS_INT || kind == BS_ROWS_BOOL) {
		v->i = sqlite3_column_int64(s, col);
		return;
	}
	v->data = kind == BS_ROWS_BLOB ? sqlite3_column_blob(s, col)
		: (const char *)sqlite3_column_text(s, col);
	v->len = (size_t)sqlite3_column_bytes(s, col);
	if (v->data == NULL)
		v->data = "";
}

static int read_table(lite_t *st, const bs_rows_table_t *t, bs_rows_fn fn, void *arg)
{
	bs_rows_value_t v[BS_ROWS_MAX_COLS];
	char cols[512], sql[700];
	sqlite3_stmt *s = NULL;
	int rc, step = SQLITE_DONE;

	column_list(t, 0, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s", cols, t->name, t->key);
	if ((rc = prepare(st, sql, &s, t->name)) != BS_OK)
		return rc;
	while (rc == BS_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		for (size_t i = 0; i < t->ncols; i++)
			read_value(s, (int)i, t->cols[i].kind, &v[i]);
		rc = fn(arg, t, v);
	}
	if (rc == BS_OK && step != SQLITE_DONE)
		rc = bs_lite_fail(st, "read rows");
	sqlite3_finalize(s);
	return rc;
}

int bs_lite_rows_read(bs_backend_t *b, const bs_rows_table_t *const *tables,
		size_t n, bs_rows_fn fn, void *arg)
{
	lite_t *st = lite(b);
	int own = sqlite3_get_autocommit(st->db), rc = BS_OK;

	/* A deferred BEGIN: a read-only view, the same for every table. */
	if (own && sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return bs_lite_fail(st, "begin reading");
	for (size_t i = 0; rc == BS_OK && i < n; i++)
		rc = read_table(st, tables[i], fn, arg);
	if (own)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int bs_lite_rows_open(bs_backend_t *b, const bs_rows_table_t *t)
{
	lite_t *st = lite(b);
	char cols[512], params[200], sql[800];

	if (st->rows_insert != NULL || t->ncols > BS_ROWS_MAX_COLS)
		return bs_lite_fail(st, "write rows: a table is being written already");
	column_list(t, 0, cols, sizeof(cols));
	column_list(t, 1, params, sizeof(params));
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (%s)", t->name, cols, params);
	st->rows_table = t;
	return prepare(st, sql, &st->rows_insert, t->name);
}

int bs_lite_rows_put(bs_backend_t *b, const bs_rows_value_t *v)
{
	lite_t *st = lite(b);
	const bs_rows_table_t *t = st->rows_table;
	sqlite3_stmt *s = st->rows_insert;
	char what[96];

	sqlite3_reset(s);
	for (size_t i = 0; i < t->ncols; i++) {
		int col = (int)i + 1;

		if (v[i].null)
			sqlite3_bind_null(s, col);
		else if (t->cols[i].kind == BS_ROWS_INT || t->cols[i].kind == BS_ROWS_BOOL)
			sqlite3_bind_int64(s, col, t->cols[i].kind == BS_ROWS_BOOL ? v[i].i != 0 : v[i].i);
		else if (t->cols[i].kind == BS_ROWS_BLOB)
			sqlite3_bind_blob(s, col, v[i].data, (int)v[i].len, SQLITE_STATIC);
		else
			sqlite3_bind_text(s, col, v[i].data, (int)v[i].len, SQLITE_STATIC);
	}
	if (sqlite3_step(s) == SQLITE_DONE) {
		sqlite3_reset(s);
		return BS_OK;
	}
	/* SQLite names the constraint and its columns, never the values. */
	snprintf(what, sizeof(what), "write a row of %s", t->name);
	return bs_lite_fail(st, what);
}

int bs_lite_rows_close(bs_backend_t *b, int abandon)
{
	lite_t *st = lite(b);

	(void)abandon;
	sqlite3_finalize(st->rows_insert);
	st->rows_insert = NULL;
	st->rows_table = NULL;
	return BS_OK;
}

int bs_lite_rows_settle(bs_backend_t *b)
{
	lite_t *st = lite(b);

	if (sqlite3_exec(st->db, "UPDATE config_counts SET n = (SELECT count(*) "
			"FROM configs c WHERE c.enabled = config_counts.enabled)",
			NULL, NULL, NULL) != SQLITE_OK)
		return bs_lite_fail(st, "count the configs");
	return BS_OK;
}
