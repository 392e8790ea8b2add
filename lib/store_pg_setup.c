/*
 * A connection's set-up, at open and after a reconnect: the session's
 * statement timeout, every statement prepared, LISTEN again on every
 * channel. All of it goes in one pipeline (libpq 14) and comes back in
 * one round trip: one by one, the sixty statements cost sixty round trips
 * at every start and reconnect, a second over a distant link. It is read
 * back at once, waiting (the lookup thread, the start), or a step at a
 * time as the answers come (the broker's thread, which must not wait on
 * the network).
 */
#include "store_pg_int.h"

#include "error.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SERVER_VERSION 100000

enum { SETUP_SESSION = 1, SETUP_PREPARE = 2, SETUP_LISTEN = 4 };

static int send_session(bs_pg_t *pg)
{
	char ms[16];
	const char *values[1] = { ms };

	if (PQserverVersion(pg->conn) < MIN_SERVER_VERSION)
		return bs_pg_fail(pg, "connect", "the server is older than PostgreSQL 10");
	snprintf(ms, sizeof(ms), "%d", pg->opt.statement_timeout_ms);
	if (!PQsendQueryParams(pg->conn, "SELECT set_config('statement_timeout', $1, false)",
			1, NULL, values, NULL, NULL, 0))
		return bs_pg_fail(pg, "set statement_timeout", NULL);
	return BS_OK;
}

static int send_prepares(bs_pg_t *pg)
{
	for (int i = 0; i < PG_STMT_COUNT; i++) {
		char name[8];

		if (bs_pg_sql[i].unprepared)
			continue;
		bs_pg_stmt_name((enum pg_stmt)i, name);
		if (!PQsendPrepare(pg->conn, name, bs_pg_sql[i].sql, 0, NULL))
			return bs_pg_fail(pg, "prepare", NULL);
	}
	return BS_OK;
}

static int send_listen(bs_pg_t *pg, const char *channel)
{
	char *sql = bs_pg_listen_sql(pg, channel);
	int rc = BS_OK;

	if (sql == NULL)
		return BS_ERR_INTERNAL;
	if (!PQsendQueryParams(pg->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		rc = bs_pg_fail(pg, "listen", NULL);
	free(sql);
	return rc;
}

/* What parts asks for, sent in a pipeline and synced. */
static int send_all(bs_pg_t *pg, unsigned parts)
{
	int rc = BS_OK;

	pg->setup_rc = BS_OK;
	if (!PQenterPipelineMode(pg->conn))
		return bs_pg_fail(pg, "set up the connection", NULL);
	pg->setting_up = 1;
	if (parts & SETUP_SESSION)
		rc = send_session(pg);
	if (rc == BS_OK && (parts & SETUP_PREPARE))
		rc = send_prepares(pg);
	for (size_t i = 0; rc == BS_OK && (parts & SETUP_LISTEN) && i < pg->nlistening; i++)
		rc = send_listen(pg, pg->listening[i]);
	if (rc == BS_OK && !PQpipelineSync(pg->conn))
		rc = bs_pg_fail(pg, "set up the connection", NULL);
	if (rc != BS_OK) {
		pg->setting_up = 0;
		PQexitPipelineMode(pg->conn);
	}
	return rc;
}

/* One answer of the pipeline; the first failure is kept. */
static void answer(bs_pg_t *pg, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_PIPELINE_SYNC) {
		pg->setting_up = 0;
		return;
	}
	if (pg->setup_rc == BS_OK && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		pg->setup_rc = bs_pg_fail(pg, "set up the connection",
				PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
}

/* The answers that have come, read without waiting: 1 while more are to
 * come, else the outcome (the pipeline left). */
static int take_answers(bs_pg_t *pg)
{
	if (!PQconsumeInput(pg->conn)) {
		pg->setting_up = 0;
		PQexitPipelineMode(pg->conn);
		return bs_pg_fail(pg, "set up the connection", NULL);
	}
	for (int ends = 0; pg->setting_up && !PQisBusy(pg->conn);) {
		PGresult *r = PQgetResult(pg->conn);
		/* NULL ends one statement's results; two in a row, nothing more
		 * has come. */
		if (r == NULL) {
			if (++ends > 1)
				break;
			continue;
		}
		ends = 0;
		answer(pg, r);
		PQclear(r);
	}
	if (pg->setting_up)
		return 1;
	if (!PQexitPipelineMode(pg->conn) && pg->setup_rc == BS_OK)
		pg->setup_rc = bs_pg_fail(pg, "set up the connection", NULL);
	return pg->setup_rc;
}

int bs_pg_set_up_abandon(bs_pg_t *pg)
{
	pg->setting_up = 0;
	PQexitPipelineMode(pg->conn);
	return bs_pg_fail(pg, "set up the connection", "no answer from the server "
			"within the statement timeout");
}

/* send_all, then its answers waited for, up to the statement timeout. */
static int set_up_waiting(bs_pg_t *pg, unsigned parts)
{
	long long end = bs_pg_mono_ms() + pg->opt.statement_timeout_ms
		+ BS_PG_ANSWER_GRACE_MS;
	int rc = send_all(pg, parts);

	if (rc != BS_OK)
		return rc;
	while ((rc = take_answers(pg)) == 1) {
		struct pollfd fd = { .fd = PQsocket(pg->conn), .events = POLLIN };
		long long left = end - bs_pg_mono_ms();

		if (left <= 0 || poll(&fd, 1, (int)left) < 0)
			return bs_pg_set_up_abandon(pg);
	}
	return rc;
}

int bs_pg_set_session(bs_pg_t *pg)
{
	return set_up_waiting(pg, SETUP_SESSION);
}

int bs_pg_prepare_all(bs_pg_t *pg)
{
	return set_up_waiting(pg, SETUP_PREPARE);
}

int bs_pg_set_up(bs_pg_t *pg)
{
	return set_up_waiting(pg, SETUP_SESSION | SETUP_PREPARE | SETUP_LISTEN);
}

int bs_pg_set_up_send(bs_pg_t *pg)
{
	return send_all(pg, SETUP_SESSION | SETUP_PREPARE | SETUP_LISTEN);
}

int bs_pg_set_up_step(bs_pg_t *pg)
{
	return take_answers(pg);
}
