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

/* On PostgreSQL: the server (for a restart), started when it is not. */
bs_pg_server_t *test_pg_server(void);

#endif
