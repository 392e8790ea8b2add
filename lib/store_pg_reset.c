/*
 * Connecting again after the connection was lost: at once, waiting up to
 * the connect timeout (the lookup thread, which has nothing else to do),
 * or step by step (the broker's thread, which must not wait on the
 * network: each step reads what the server has sent and returns), the
 * connection's set-up included (store_pg_setup.c).
 */
#include "store_pg_int.h"

#include "error.h"

#include <poll.h>
#include <string.h>

/* Whatever the transaction had is gone with the connection. */
static void forget_transaction(bs_pg_t *pg)
{
	memset(pg->counts_pending, 0, sizeof(pg->counts_pending));
	memset(pg->counts_saved, 0, sizeof(pg->counts_saved));
	pg->savepoint_began = 0;
}

int bs_pg_reconnect(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	pg->resetting = 0;
	forget_transaction(pg);
	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return bs_pg_fail(pg, "reconnect", NULL);
	return bs_pg_set_up(pg);
}

int bs_pg_reconnecting(bs_backend_t *b)
{
	return ((bs_pg_t *)b)->resetting;
}

/* 1 when the socket is ready for what the last poll asked, now. */
static int ready(bs_pg_t *pg)
{
	struct pollfd fd = { .fd = PQsocket(pg->conn),
		.events = pg->reset_wait == PGRES_POLLING_READING ? POLLIN : POLLOUT };

	return fd.fd >= 0 && poll(&fd, 1, 0) > 0;
}

static int start(bs_pg_t *pg)
{
	forget_transaction(pg);
	if (!PQresetStart(pg->conn))
		return bs_pg_fail(pg, "reconnect", NULL);
	pg->resetting = 1;
	/* As if the last poll had asked to write (libpq's rule). */
	pg->reset_wait = PGRES_POLLING_WRITING;
	pg->reset_deadline_ms = bs_pg_mono_ms() + 1000LL * (pg->opt.connect_timeout_s > 0
			? pg->opt.connect_timeout_s : BS_PG_CONNECT_TIMEOUT_S);
	return BS_OK;
}

/* Connected: the set-up sent, its answers read at the next steps. */
static int set_up_begin(bs_pg_t *pg)
{
	int rc = bs_pg_set_up_send(pg);

	if (rc != BS_OK) {
		pg->resetting = 0;
		return rc;
	}
	pg->reset_deadline_ms = bs_pg_mono_ms() + pg->opt.statement_timeout_ms
		+ BS_PG_ANSWER_GRACE_MS;
	return 1;
}

static int set_up_step(bs_pg_t *pg)
{
	int rc = bs_pg_set_up_step(pg);

	if (rc == 1 && bs_pg_mono_ms() >= pg->reset_deadline_ms)
		rc = bs_pg_set_up_abandon(pg);
	if (rc != 1)
		pg->resetting = 0;
	return rc;
}

int bs_pg_reconnect_step(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	int rc;

	if (!pg->resetting && (rc = start(pg)) != BS_OK)
		return rc;
	if (pg->setting_up)
		return set_up_step(pg);
	/* A few of the server's answers at a time, as they have come. */
	for (int i = 0; i < 8 && ready(pg); i++) {
		PostgresPollingStatusType st = PQresetPoll(pg->conn);
		if (st == PGRES_POLLING_OK)
			return set_up_begin(pg);
		if (st == PGRES_POLLING_FAILED) {
			pg->resetting = 0;
			return bs_pg_fail(pg, "reconnect", NULL);
		}
		pg->reset_wait = st;
	}
	if (bs_pg_mono_ms() >= pg->reset_deadline_ms) {
		pg->resetting = 0;
		return bs_pg_fail(pg, "reconnect", "no answer from the server within the "
				"connect timeout");
	}
	return 1;
}
