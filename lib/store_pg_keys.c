/* The stored key check, and configs' secrets as stored for a change of
 * master key. */
#include "store_pg_int.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_pg_key_check_get(bs_backend_t *b, bs_blob_t *out)
{
	PGresult *r;
	int rc = bs_pg_run((bs_pg_t *)b, PG_KEY_GET, NULL, &r, "read the key check");

	out->data = NULL;
	out->len = 0;
	if (rc != BS_OK)
		return rc;
	rc = PQntuples(r) == 0 ? BS_ERR_NOT_FOUND : bs_pg_col_blob(r, 0, 0, out);
	PQclear(r);
	return rc;
}

int bs_pg_key_check_put(bs_backend_t *b, const bs_blob_t *check)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_blob(&p, check);
	return bs_pg_do((bs_pg_t *)b, PG_KEY_PUT, &p, "write the key check");
}

static int read_row(const PGresult *r, int i, bs_sealed_row_t *row)
{
	int oom = 0;

	row->external_id = bs_pg_col_text(r, i, 0, &oom);
	row->client_id = bs_pg_col_text(r, i, 1, &oom);
	if (oom || row->external_id == NULL || row->client_id == NULL
			|| bs_pg_col_blob(r, i, 2, &row->blobs.secret) != BS_OK
			|| bs_pg_col_blob(r, i, 3, &row->blobs.external_key) != BS_OK
			|| bs_pg_col_blob(r, i, 4, &row->blobs.client_key) != BS_OK)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

static void clear_row(bs_sealed_row_t *row)
{
	free(row->external_id);
	free(row->client_id);
	bs_config_blobs_clear(&row->blobs);
	memset(row, 0, sizeof(*row));
}

int bs_pg_config_sealed_page(bs_backend_t *b, const char *after, bs_sealed_row_t *rows,
		size_t max, size_t *n)
{
	PGresult *r;
	int rc;

	*n = 0;
	if ((rc = bs_pg_run_page((bs_pg_t *)b, PG_CFG_SEALED_PAGE, after, max, &r,
			"read configs to seal again")) != BS_OK)
		return rc;
	for (int i = 0; rc == BS_OK && i < PQntuples(r) && (size_t)i < max; i++) {
		memset(&rows[i], 0, sizeof(rows[i]));
		rc = read_row(r, i, &rows[i]);
		(*n)++;
	}
	PQclear(r);
	if (rc != BS_OK) {
		for (size_t i = 0; i < *n; i++)
			clear_row(&rows[i]);
		*n = 0;
	}
	return rc;
}

int bs_pg_config_reseal(bs_backend_t *b, const char *external_id,
		const bs_config_blobs_t *sealed)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_blob(&p, &sealed->secret);
	bs_pg_param_blob(&p, &sealed->external_key);
	bs_pg_param_blob(&p, &sealed->client_key);
	bs_pg_param_text(&p, external_id);
	return bs_pg_change_one((bs_pg_t *)b, PG_CFG_RESEAL, &p, "seal a config again");
}
