/*
 * The store's tables as stored, row by row, for moving a fleet from one
 * backend to another (lib/store_copy.h): which tables are copied, their
 * columns with their kinds, and one row's values. Both schemas name the
 * columns alike and keep the values alike (schema/pg/001_init.sql), so
 * that a row read from one backend is written to the other unchanged:
 * sealed secrets as their bytes, times as their text.
 *
 * Not here: the schema's version, the key check (the ops key_check_get
 * and key_check_put carry it), config_counts (recounted by rows_settle)
 * and used_nonces, which are a running fleet's, not its data.
 */
#ifndef BS_STORE_ROWS_H
#define BS_STORE_ROWS_H

#include <stddef.h>

enum bs_rows_kind {
	BS_ROWS_TEXT,
	BS_ROWS_INT,    /* a 64-bit integer */
	BS_ROWS_BOOL,   /* SQLite's 0 or 1, PostgreSQL's boolean */
	BS_ROWS_BLOB,   /* sealed bytes */
};

typedef struct bs_rows_col {
	const char *name;
	enum bs_rows_kind kind;
} bs_rows_col_t;

typedef struct bs_rows_table {
	const char *name;
	const char *key;        /* its primary key, for ORDER BY */
	const bs_rows_col_t *cols;
	size_t ncols;
} bs_rows_table_t;

/* One column's value: null, or i (INT, BOOL) or len bytes at data (TEXT
 * without a NUL, BLOB), which live only as long as the call given them. */
typedef struct bs_rows_value {
	int null;
	long long i;
	const char *data;
	size_t len;
} bs_rows_value_t;

#define BS_ROWS_MAX_COLS 20

/* Called for each row read: v[0..t->ncols). 0 goes on; anything else
 * stops the reading, which returns it. */
typedef int (*bs_rows_fn)(void *arg, const bs_rows_table_t *t, const bs_rows_value_t *v);

/* The tables copied, in an order that writes every row after those it
 * refers to (channels and profiles before the configs and groups that
 * name them, configs before their channel links). */
extern const bs_rows_table_t *const bs_rows_tables[];
extern const size_t bs_rows_ntables;

#endif
