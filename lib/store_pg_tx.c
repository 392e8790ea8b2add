/*
 * Transactions, savepoints, and the config counts written at commit.
 *
 * A failed statement does not end a PostgreSQL transaction: it leaves it
 * aborted (PQTRANS_INERROR) until a ROLLBACK, or a ROLLBACK TO the
 * savepoint before it, which brings it back. in_transaction is therefore
 * 1 while aborted (the caller's rollback_savepoint repairs it), and 0 once
 * the connection is lost, which lost the transaction with it. COMMIT of an
 * aborted transaction rolls it back, and is a failure here.
 */
#include "store_pg_int.h"

#include "error.h"

#include <string.h>

int bs_pg_in_transaction(const bs_backend_t *b)
{
	const bs_pg_t *pg = (const bs_pg_t *)b;

	switch (PQtransactionStatus(pg->conn)) {
	case PQTRANS_ACTIVE:
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		return 1;
	default:
		return 0;
	}
}

static void counts_drop(bs_pg_t *pg)
{
	memset(pg->counts_pending, 0, sizeof(pg->counts_pending));
	memset(pg->counts_saved, 0, sizeof(pg->counts_saved));
}

void bs_pg_count_change(bs_pg_t *pg, int enabled, long delta)
{
	pg->counts_pending[enabled ? 1 : 0] += delta;
}

/* The two rows in one order (disabled, then enabled), so that two brokers
 * committing at once never wait for each other in a circle. */
static int counts_write(bs_pg_t *pg)
{
	for (int i = 0; i < 2; i++) {
		bs_pg_params_t p;
		int rc;

		if (pg->counts_pending[i] == 0)
			continue;
		bs_pg_params_init(&p);
		bs_pg_param_int(&p, pg->counts_pending[i]);
		bs_pg_param_bool(&p, i);
		if ((rc = bs_pg_do(pg, PG_COUNTS_ADD, &p, "count configs")) != BS_OK)
			return rc;
	}
	counts_drop(pg);
	return BS_OK;
}

int bs_pg_begin(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	if (bs_pg_in_transaction(b))
		return bs_pg_fail(pg, "begin", "a transaction is open already");
	counts_drop(pg);
	pg->savepoint_began = 0;
	return bs_pg_do(pg, PG_BEGIN, NULL, "begin");
}

int bs_pg_commit(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	PGresult *r;
	int rc;

	pg->savepoint_began = 0;
	if (PQtransactionStatus(pg->conn) == PQTRANS_INERROR) {
		bs_pg_rollback(b);
		return bs_pg_fail(pg, "commit", "a statement failed earlier: rolled back");
	}
	if (!bs_pg_in_transaction(b))
		return bs_pg_fail(pg, "commit", "no transaction is open");
	if ((rc = counts_write(pg)) != BS_OK
			|| (rc = bs_pg_run(pg, PG_COMMIT, NULL, &r, "commit")) != BS_OK)
		return rc;
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = bs_pg_fail(pg, "commit", "the server rolled the transaction back");
	PQclear(r);
	return rc;
}

void bs_pg_rollback(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	PGTransactionStatusType st = PQtransactionStatus(pg->conn);

	counts_drop(pg);
	pg->savepoint_began = 0;
	if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR)
		bs_pg_do(pg, PG_ROLLBACK, NULL, "rollback");
}

/* A savepoint with no transaction around it begins one, as in SQLite:
 * its release commits. */
int bs_pg_savepoint(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	int rc;

	if (!bs_pg_in_transaction(b)) {
		if ((rc = bs_pg_begin(b)) == BS_OK)
			pg->savepoint_began = 1;
		return rc;
	}
	memcpy(pg->counts_saved, pg->counts_pending, sizeof(pg->counts_saved));
	return bs_pg_do(pg, PG_SAVEPOINT, NULL, "savepoint");
}

int bs_pg_release(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	if (pg->savepoint_began)
		return bs_pg_commit(b);
	return bs_pg_do(pg, PG_RELEASE, NULL, "release");
}

void bs_pg_rollback_savepoint(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	if (pg->savepoint_began) {
		bs_pg_rollback(b);
		return;
	}
	memcpy(pg->counts_pending, pg->counts_saved, sizeof(pg->counts_pending));
	if (bs_pg_do(pg, PG_ROLLBACK_TO, NULL, "rollback to savepoint") == BS_OK)
		bs_pg_do(pg, PG_RELEASE, NULL, "release");
}

int bs_pg_own_begin(bs_pg_t *pg, int *own)
{
	*own = !bs_pg_in_transaction(&pg->base);
	if (!*own)
		return BS_OK;
	counts_drop(pg);
	return bs_pg_do(pg, PG_BEGIN, NULL, "begin");
}

int bs_pg_own_end(bs_pg_t *pg, int own, int rc)
{
	int crc;

	if (!own)
		return rc;
	if (rc != BS_OK) {
		bs_pg_rollback(&pg->base);
		return rc;
	}
	if ((crc = bs_pg_commit(&pg->base)) != BS_OK)
		bs_pg_rollback(&pg->base);
	return crc;
}
