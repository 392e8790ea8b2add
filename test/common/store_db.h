/*
 * Where a test keeps its store, so that one suite runs against either
 * backend: a SQLite file in the test's directory, or, when the environment
 * says BS_TEST_BACKEND=postgresql, a fresh database on a PostgreSQL server
 * that the test process starts at its first use (test/common/pg_server.h)
 * and stops when it exits.
 */
#ifndef BS_TEST_STORE_DB_H
#define BS_TEST_STORE_DB_H

#include "pg_server.h"

#include <stddef.h>

/* 1 when the tests run on PostgreSQL. */
int test_on_pg(void);

/* The location of a new, empty store for a test in dir: db_path or
 * db_url. 0, or -1 (the server did not start). */
int test_store_db(const char *dir, char *out, size_t len);

/* On PostgreSQL: runs sql on the store db on a connection of its own,
 * giving the first column of the first row in out ("" when none). 0, or
 * -1 with libpq's message on stderr. */
int test_pg_text(const char *db, const char *sql, char *out, size_t len);

/* On PostgreSQL: every row of every table of the store db as text, the
 * tables by name and each one's rows in order, bytea in the escape form
 * (so that text stored as bytes reads as text), so that two reads of an
 * unchanged store are equal (malloc()ed); NULL with libpq's message on
 * stderr. */
char *test_pg_rows(const char *db);

/* On PostgreSQL: the server (for a restart), started when it is not. */
bs_pg_server_t *test_pg_server(void);

#endif
