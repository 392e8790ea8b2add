/*
 * The announcements kept (schema/pg/003): written with their NOTIFY in
 * the writer's transaction, read back by seq by a broker that was not
 * listening when they were sent (lib/changes.c).
 */
#include "store_pg_int.h"

#include "error.h"

#include <stdlib.h>

/* Rows read a statement at a time: a broker back after a long loss reads
 * them in pages, never all of an hour's in one result. */
#define CHANGES_PAGE 500

int bs_pg_announce(bs_backend_t *b, const char *channel, const char *payload,
		long long *seq)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, channel);
	bs_pg_param_text(&p, payload ? payload : "");
	if ((rc = bs_pg_run((bs_pg_t *)b, PG_CHANGE_ADD, &p, &r, "announce")) != BS_OK)
		return rc;
	if (PQntuples(r) != 1)
		rc = bs_pg_fail((bs_pg_t *)b, "announce", "no row added");
	else if (seq != NULL)
		*seq = bs_pg_col_int(r, 0, 0);
	PQclear(r);
	return rc;
}

int bs_pg_changes_last(bs_backend_t *b, long long *seq)
{
	long n = 0;
	int rc = bs_pg_count((bs_pg_t *)b, PG_CHANGES_LAST, NULL, &n,
			"read the last announcement");

	*seq = rc == BS_OK ? (long long)n : 0;
	return rc;
}

/* One page of rows after *after, each to fn; *after moves to the last
 * one, *got says how many there were. */
static int page(bs_pg_t *pg, long long *after, bs_pg_change_fn fn, void *arg, int *got)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_int(&p, *after);
	bs_pg_param_int(&p, CHANGES_PAGE);
	*got = 0;
	if ((rc = bs_pg_run(pg, PG_CHANGES_SINCE, &p, &r, "read the announcements"))
			!= BS_OK)
		return rc;
	*got = PQntuples(r);
	/* libpq ends every value with a NUL, binary text too. */
	for (int i = 0; i < *got; i++) {
		*after = bs_pg_col_int(r, i, 0);
		fn(arg, *after, PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return BS_OK;
}

int bs_pg_changes_since(bs_backend_t *b, long long after, bs_pg_change_fn fn, void *arg)
{
	int rc, got;

	do
		rc = page((bs_pg_t *)b, &after, fn, arg, &got);
	while (rc == BS_OK && got == CHANGES_PAGE);
	return rc;
}
