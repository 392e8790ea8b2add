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

/* Appends text to the growing *buf (*len used); -1 when out of memory. */
static int append(char **buf, size_t *len, const char *text)
{
	size_t n = strlen(text);
	char *more = realloc(*buf, *len + n + 1);

	if (more == NULL)
		return -1;
	memcpy(more + *len, text, n + 1);
	*buf = more;
	*len += n;
	return 0;
}

/* The rows of table t (a name from pg_tables) appended to *buf. */
static int append_rows(PGconn *c, const char *t, char **buf, size_t *len)
{
	char *name = PQescapeIdentifier(c, t, strlen(t)), sql[256];
	PGresult *r = NULL;
	int rc = -1;

	if (name != NULL && snprintf(sql, sizeof(sql), "SELECT string_agg(r::text, "
			"E'\\n' ORDER BY r::text) FROM %s r", name) < (int)sizeof(sql)) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
				&& append(buf, len, t) == 0 && append(buf, len, ":\n") == 0
				&& append(buf, len, PQgetvalue(r, 0, 0)) == 0
				&& append(buf, len, "\n") == 0)
			rc = 0;
	}
	PQclear(r);
	PQfreemem(name);
	return rc;
}

char *test_pg_rows(const char *db)
{
	PGconn *c = PQconnectdb(db);
	PGresult *t = NULL;
	char *buf = NULL;
	size_t len = 0;
	int ok = 0;

	if (PQstatus(c) == CONNECTION_OK) {
		PQclear(PQexec(c, "SET bytea_output = 'escape'"));
		t = PQexec(c, "SELECT tablename FROM pg_tables WHERE schemaname = "
				"current_schema() ORDER BY tablename");
		ok = PQresultStatus(t) == PGRES_TUPLES_OK && append(&buf, &len, "") == 0;
		for (int i = 0; ok && i < PQntuples(t); i++)
			ok = append_rows(c, PQgetvalue(t, i, 0), &buf, &len) == 0;
	}
	if (!ok) {
		fprintf(stderr, "test_pg_rows: %s", PQerrorMessage(c));
		free(buf);
		buf = NULL;
	}
	PQclear(t);
	PQfinish(c);
	return buf;
}

bs_pg_server_t *test_pg_server(void)
{
	return ensure_server() == 0 ? &server : NULL;
}
