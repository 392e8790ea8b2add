/* The unknown_devices table (protocol 7.3). */
#include "store_pg_int.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_pg_unknown_put(bs_backend_t *b, const char *external_id, time_t first_seen,
		time_t last_seen, int64_t attempts, const char *address)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, external_id);
	bs_pg_param_int(&p, (long long)first_seen);
	bs_pg_param_int(&p, (long long)last_seen);
	bs_pg_param_int(&p, attempts);
	bs_pg_param_text(&p, address ? address : "");
	return bs_pg_do((bs_pg_t *)b, PG_UNK_PUT, &p, "remember an unknown device");
}

int bs_pg_unknown_delete(bs_backend_t *b, const char *external_id, long *deleted)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	if (external_id != NULL)
		bs_pg_param_text(&p, external_id);
	return bs_pg_changed((bs_pg_t *)b, external_id ? PG_UNK_DELETE : PG_UNK_CLEAR, &p,
			deleted, "forget unknown devices");
}

int bs_pg_unknown_count(bs_backend_t *b, long *total)
{
	return bs_pg_count((bs_pg_t *)b, PG_UNK_COUNT, NULL, total, "count unknown devices");
}

static int read_row(const PGresult *r, int i, bs_unknown_row_t *row)
{
	int oom = 0;

	row->external_id = bs_pg_col_text(r, i, 0, &oom);
	row->first_seen = (time_t)bs_pg_col_int(r, i, 1);
	row->last_seen = (time_t)bs_pg_col_int(r, i, 2);
	row->attempts = bs_pg_col_int(r, i, 3);
	row->address = bs_pg_col_text(r, i, 4, &oom);
	return oom || row->external_id == NULL ? BS_ERR_INTERNAL : BS_OK;
}

int bs_pg_unknown_list(bs_backend_t *b, long offset, long limit, bs_unknown_row_t **out,
		size_t *n)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc, rows;

	*out = NULL;
	*n = 0;
	bs_pg_params_init(&p);
	bs_pg_param_limit(&p, limit);
	bs_pg_param_int(&p, offset);
	if ((rc = bs_pg_run((bs_pg_t *)b, PG_UNK_LIST, &p, &r, "list unknown devices")) != BS_OK)
		return rc;
	rows = PQntuples(r);
	if ((*out = calloc((size_t)rows + 1, sizeof(**out))) == NULL)
		rc = BS_ERR_INTERNAL;
	for (int i = 0; rc == BS_OK && i < rows; i++) {
		rc = read_row(r, i, &(*out)[i]);
		(*n)++;
	}
	PQclear(r);
	if (rc != BS_OK) {
		bs_unknown_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* The rows are read first, then handed to fn: fn may use the backend. */
int bs_pg_unknown_each(bs_backend_t *b, int newest, long limit, bs_unknown_row_fn fn,
		void *arg)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_limit(&p, limit);
	if (newest)
		bs_pg_param_int(&p, 0);
	rc = bs_pg_run((bs_pg_t *)b, newest ? PG_UNK_LIST : PG_UNK_OLDEST, &p, &r,
			"read unknown devices");
	if (rc != BS_OK)
		return rc;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *address = PQgetisnull(r, i, 4) ? "" : PQgetvalue(r, i, 4);
		if (fn(arg, PQgetvalue(r, i, 0), (time_t)bs_pg_col_int(r, i, 1),
				(time_t)bs_pg_col_int(r, i, 2), address) != 0)
			break;
	}
	PQclear(r);
	return BS_OK;
}

int bs_pg_unknown_trim(bs_backend_t *b, long keep, long *deleted)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_int(&p, keep < 0 ? 0 : keep);
	return bs_pg_changed((bs_pg_t *)b, PG_UNK_TRIM, &p, deleted, "trim unknown devices");
}
