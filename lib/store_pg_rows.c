/*
 * The PostgreSQL backend's rows as stored, read and written for a fleet's
 * copy (lib/store_rows.h): read through a cursor in pages, in binary;
 * written with COPY FROM STDIN in its text format, a round trip per
 * megabyte instead of one per row. Neither has a statement timeout: a
 * copy of a large fleet is one long statement per table.
 */
#include "store_pg_int.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FETCH_ROWS 2000
#define COPY_CHUNK (1 << 20)

/* The server's primary message and SQLSTATE, never its DETAIL or
 * CONTEXT, which show the values of the row at fault. */
static int result_fail(bs_pg_t *pg, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char reason[200];

	if (primary == NULL)
		return bs_pg_fail(pg, what, NULL);
	snprintf(reason, sizeof(reason), "%s (%s)", primary, state ? state : "no SQLSTATE");
	return bs_pg_fail(pg, what, reason);
}

static int exec_expect(bs_pg_t *pg, const char *sql, ExecStatusType want, const char *what)
{
	PGresult *r = PQexec(pg->conn, sql);
	int rc = PQresultStatus(r) == want ? BS_OK : result_fail(pg, r, what);

	PQclear(r);
	return rc;
}

static int exec_ok(bs_pg_t *pg, const char *sql, const char *what)
{
	return exec_expect(pg, sql, PGRES_COMMAND_OK, what);
}

static void column_list(const bs_rows_table_t *t, char *out, size_t size)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->ncols && at < size; i++)
		at += (size_t)snprintf(out + at, size - at, "%s%s", i ? ", " : "",
				t->cols[i].name);
}

/* ---- reading --------------------------------------------------------- */

static void read_value(const PGresult *r, int row, int col, enum bs_rows_kind kind,
		bs_rows_value_t *v)
{
	memset(v, 0, sizeof(*v));
	if ((v->null = PQgetisnull(r, row, col)))
		return;
	if (kind == BS_ROWS_INT || kind == BS_ROWS_BOOL) {
		v->i = bs_pg_col_int(r, row, col);
		return;
	}
	v->data = PQgetvalue(r, row, col);
	v->len = (size_t)PQgetlength(r, row, col);
}

/* One page of the cursor: its rows to fn; *got says how many. */
static int fetch_page(bs_pg_t *pg, const bs_rows_table_t *t, bs_rows_fn fn, void *arg,
		int *got)
{
	char sql[64];
	bs_rows_value_t v[BS_ROWS_MAX_COLS];
	PGresult *r;
	int rc = BS_OK;

	snprintf(sql, sizeof(sql), "FETCH %d FROM bs_rows", FETCH_ROWS);
	r = PQexecParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
	*got = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != (int)t->ncols) {
		rc = result_fail(pg, r, "read rows");
		PQclear(r);
		return rc;
	}
	*got = PQntuples(r);
	for (int row = 0; rc == BS_OK && row < *got; row++) {
		for (size_t i = 0; i < t->ncols; i++)
			read_value(r, row, (int)i, t->cols[i].kind, &v[i]);
		rc = fn(arg, t, v);
	}
	PQclear(r);
	return rc;
}

static int read_table(bs_pg_t *pg, const bs_rows_table_t *t, bs_rows_fn fn, void *arg)
{
	char cols[512], sql[700];
	int rc, got = 0;

	if (t->ncols > BS_ROWS_MAX_COLS)
		return bs_pg_fail(pg, "read rows", "too many columns");
	column_list(t, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), "DECLARE bs_rows NO SCROLL CURSOR FOR "
			"SELECT %s FROM %s ORDER BY %s", cols, t->name, t->key);
	if ((rc = exec_ok(pg, sql, "read rows")) != BS_OK)
		return rc;
	do
		rc = fetch_page(pg, t, fn, arg, &got);
	while (rc == BS_OK && got == FETCH_ROWS);
	/* Stopped by fn, or done: the cursor goes, and its name with it. */
	if (PQtransactionStatus(pg->conn) == PQTRANS_INTRANS) {
		int closed = exec_ok(pg, "CLOSE bs_rows", "read rows");
		if (rc == BS_OK)
			rc = closed;
	}
	return rc;
}

int bs_pg_rows_read(bs_backend_t *b, const bs_rows_table_t *const *tables, size_t n,
		bs_rows_fn fn, void *arg)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	int own = PQtransactionStatus(pg->conn) == PQTRANS_IDLE, rc = BS_OK;

	if (own && (rc = exec_ok(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			"begin reading")) != BS_OK)
		return rc;
	rc = exec_ok(pg, "SET LOCAL statement_timeout = 0", "read rows");
	for (size_t i = 0; rc == BS_OK && i < n; i++)
		rc = read_table(pg, tables[i], fn, arg);
	if (own)
		PQclear(PQexec(pg->conn, "ROLLBACK"));
	return rc;
}

/* ---- writing --------------------------------------------------------- */

static int room(bs_pg_t *pg, size_t more)
{
	size_t cap = pg->rows_cap ? pg->rows_cap : COPY_CHUNK;
	char *grown;

	if (pg->rows_len + more <= pg->rows_cap)
		return BS_OK;
	while (cap < pg->rows_len + more)
		cap *= 2;
	if ((grown = realloc(pg->rows_buf, cap)) == NULL)
		return bs_pg_fail(pg, "write rows", "out of memory");
	pg->rows_buf = grown;
	pg->rows_cap = cap;
	return BS_OK;
}

static void put_char(bs_pg_t *pg, char c)
{
	pg->rows_buf[pg->rows_len++] = c;
}

/* Text in COPY's text format: its four special bytes escaped. */
static void put_text(bs_pg_t *pg, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		const char *esc = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
			: c == '\t' ? "\\t" : NULL;

		if (esc == NULL) {
			put_char(pg, c);
		} else {
			put_char(pg, esc[0]);
			put_char(pg, esc[1]);
		}
	}
}

/* bytea as its hex input (\x...), the backslash escaped for COPY. */
static void put_blob(bs_pg_t *pg, const char *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	put_text(pg, "\\x", 2);
	for (size_t i = 0; i < len; i++) {
		put_char(pg, hex[(unsigned char)data[i] >> 4]);
		put_char(pg, hex[(unsigned char)data[i] & 15]);
	}
}

static void put_value(bs_pg_t *pg, enum bs_rows_kind kind, const bs_rows_value_t *v)
{
	char num[24];
	int n;

	if (v->null) {
		put_char(pg, '\\');
		put_char(pg, 'N');
	} else if (kind == BS_ROWS_BOOL) {
		put_char(pg, v->i ? 't' : 'f');
	} else if (kind == BS_ROWS_INT) {
		n = snprintf(num, sizeof(num), "%lld", v->i);
		memcpy(pg->rows_buf + pg->rows_len, num, (size_t)n);
		pg->rows_len += (size_t)n;
	} else if (kind == BS_ROWS_BLOB) {
		put_blob(pg, v->data, v->len);
	} else {
		put_text(pg, v->data, v->len);
	}
}

static int flush(bs_pg_t *pg)
{
	if (pg->rows_len > 0 && PQputCopyData(pg->conn, pg->rows_buf, (int)pg->rows_len) != 1)
		return bs_pg_fail(pg, "write rows", NULL);
	pg->rows_len = 0;
	return BS_OK;
}

int bs_pg_rows_open(bs_backend_t *b, const bs_rows_table_t *t)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	char cols[512], sql[700];
	int rc;

	if (pg->rows_table != NULL || t->ncols > BS_ROWS_MAX_COLS)
		return bs_pg_fail(pg, "write rows", "a table is being written already");
	if ((rc = exec_ok(pg, "SET LOCAL statement_timeout = 0", "write rows")) != BS_OK)
		return rc;
	column_list(t, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), "COPY %s (%s) FROM STDIN", t->name, cols);
	if ((rc = exec_expect(pg, sql, PGRES_COPY_IN, "write rows")) != BS_OK)
		return rc;
	pg->rows_table = t;
	pg->rows_len = 0;
	return BS_OK;
}

int bs_pg_rows_put(bs_backend_t *b, const bs_rows_value_t *v)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	const bs_rows_table_t *t = pg->rows_table;
	size_t need = 1;
	int rc;

	for (size_t i = 0; i < t->ncols; i++)
		need += 24 + 2 * v[i].len + 1;
	if ((rc = room(pg, need)) != BS_OK)
		return rc;
	for (size_t i = 0; i < t->ncols; i++) {
		if (i > 0)
			put_char(pg, '\t');
		put_value(pg, t->cols[i].kind, &v[i]);
	}
	put_char(pg, '\n');
	return pg->rows_len >= COPY_CHUNK ? flush(pg) : BS_OK;
}

int bs_pg_rows_close(bs_backend_t *b, int abandon)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	char what[96];
	PGresult *r;
	int rc = BS_OK;

	if (pg->rows_table == NULL)
		return BS_OK;
	snprintf(what, sizeof(what), "write the rows of %s", pg->rows_table->name);
	pg->rows_table = NULL;
	if (!abandon)
		rc = flush(pg);
	if (PQputCopyEnd(pg->conn, abandon || rc != BS_OK ? "abandoned" : NULL) != 1 && rc == BS_OK)
		rc = bs_pg_fail(pg, what, NULL);
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (rc == BS_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = result_fail(pg, r, what);
		PQclear(r);
	}
	pg->rows_len = 0;
	return abandon ? BS_OK : rc;
}

int bs_pg_rows_settle(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	int rc = exec_ok(pg, "UPDATE config_counts SET n = (SELECT count(*) FROM configs c "
			"WHERE c.enabled = config_counts.enabled)", "count the configs");

	/* Not undone by a rollback: it comes last, just before the commit. */
	if (rc == BS_OK)
		rc = exec_expect(pg, "SELECT setval(pg_get_serial_sequence('configs', 'id'), "
				"coalesce(max(id), 0) + 1, false) FROM configs", PGRES_TUPLES_OK,
				"move the config id sequence");
	return rc;
}
