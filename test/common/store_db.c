#include "store_db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bs_pg_server_t server;
static int started, failed;
static unsigned databases;

int test_on_pg(void)
{
	const char *b = getenv("BS_TEST_BACKEND");

	return b != NULL && strcmp(b, "postgresql") == 0;
}

static void stop_server(void)
{
	bs_pg_server_stop(&server);
}

static int ensure_server(void)
{
	if (started || failed)
		return started ? 0 : -1;
	if (bs_pg_server_start(&server) != 0) {
		failed = 1;
		return -1;
	}
	started = 1;
	atexit(stop_server);
	return 0;
}

int test_store_db(const char *dir, char *out, size_t len)
{
	char name[32];

	if (!test_on_pg()) {
		snprintf(out, len, "%s/bootstrap.db", dir);
		return 0;
	}
	if (ensure_server() != 0)
		return -1;
	snprintf(name, sizeof(name), "t%u", ++databases);
	return bs_pg_server_createdb(&server, name, NULL, out, len);
}

int test_pg_text(const char *db, const char *sql, char *out, size_t len)
{
	PGconn *c = PQconnectdb(db);
	PGresult *r = NULL;
	int rc = -1;

	out[0] = '\0';
	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
			rc = 0;
	}
	if (rc != 0)
		fprintf(stderr, "test_pg_text: %s", PQerrorMessage(c));
	else if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
		snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return rc;
}

bs_pg_server_t *test_pg_server(void)
{
	return ensure_server() == 0 ? &server : NULL;
}
