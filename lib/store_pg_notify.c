/*
 * The connection's state and LISTEN/NOTIFY: the primitives with which
 * brokers sharing a database tell each other what changed. LISTEN takes
 * no parameter, so its channel is quoted by libpq (PQescapeIdentifier).
 */
#include "store_pg_int.h"

#include "error.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bs_pg_connected(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
		return 0;
	/* Reads what is there without waiting: a server going away sends
	 * its goodbye, then the end of the stream, which the read after
	 * finds and which turns the status bad. */
	for (int i = 0; i < 4 && PQtransactionStatus(pg->conn) != PQTRANS_ACTIVE; i++) {
		struct pollfd p = { .fd = PQsocket(pg->conn), .events = POLLIN };
		if (poll(&p, 1, 0) <= 0 || !PQconsumeInput(pg->conn))
			break;
	}
	return PQstatus(pg->conn) == CONNECTION_OK;
}

int bs_pg_socket(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	return pg->conn != NULL ? PQsocket(pg->conn) : -1;
}

char *bs_pg_listen_sql(bs_pg_t *pg, const char *channel)
{
	char *ident = PQescapeIdentifier(pg->conn, channel, strlen(channel));
	char *sql = ident ? malloc(strlen(ident) + sizeof("LISTEN ")) : NULL;

	if (sql != NULL)
		sprintf(sql, "LISTEN %s", ident);
	else
		bs_pg_fail(pg, "listen", ident ? "out of memory" : NULL);
	PQfreemem(ident);
	return sql;
}

static int listen_on(bs_pg_t *pg, const char *channel)
{
	char *sql = bs_pg_listen_sql(pg, channel);
	PGresult *r;
	int rc = BS_OK;

	if (sql == NULL)
		return BS_ERR_INTERNAL;
	r = PQexec(pg->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = bs_pg_fail(pg, "listen", r ? PQresultErrorField(r,
				PG_DIAG_MESSAGE_PRIMARY) : NULL);
	PQclear(r);
	free(sql);
	return rc;
}

int bs_pg_listen(bs_backend_t *b, const char *channel)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	int rc;

	for (size_t i = 0; i < pg->nlistening; i++)
		if (strcmp(pg->listening[i], channel) == 0)
			return BS_OK;
	if (pg->nlistening == BS_PG_LISTEN_MAX)
		return bs_pg_fail(pg, "listen", "too many channels");
	if ((rc = listen_on(pg, channel)) != BS_OK)
		return rc;
	if ((pg->listening[pg->nlistening] = strdup(channel)) == NULL)
		return bs_pg_fail(pg, "listen", "out of memory");
	pg->nlistening++;
	return BS_OK;
}

int bs_pg_notify(bs_backend_t *b, const char *channel, const char *payload)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, channel);
	bs_pg_param_text(&p, payload ? payload : "");
	return bs_pg_do((bs_pg_t *)b, PG_NOTIFY, &p, "notify");
}

int bs_pg_poll_notify(bs_backend_t *b, bs_pg_notify_fn fn, void *arg)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	PGnotify *n;
	int count = 0;

	/* While the connection is made again step by step, its input is the
	 * reconnect's own: reading it here would eat the server's answers and
	 * the reconnect would wait for them until the server gave up. */
	if (pg->resetting)
		return bs_pg_fail(pg, "read notifications", "reconnecting");
	if (pg->conn == NULL || !PQconsumeInput(pg->conn))
		return bs_pg_fail(pg, "read notifications", NULL);
	while ((n = PQnotifies(pg->conn)) != NULL) {
		fn(arg, n->relname, n->extra, n->be_pid == PQbackendPID(pg->conn));
		PQfreemem(n);
		count++;
	}
	return count;
}
