/* The channels table. */
#include "store_pg_int.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_pg_channel_insert(bs_backend_t *b, const bs_channel_t *ch, const char *now)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	bs_pg_params_t p;
	long n = 0;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, ch->id);
	bs_pg_param_text(&p, ch->name);
	bs_pg_param_text(&p, ch->metadata ? ch->metadata : "{}");
	bs_pg_param_text(&p, now);
	rc = bs_pg_changed(pg, PG_CH_INSERT, &p, &n, "insert channel");
	return rc == BS_OK && n == 0 ? BS_ERR_CONFLICT : rc;
}

static int read_channel(const PGresult *r, int row, bs_channel_t *out)
{
	int oom = 0;

	out->id = bs_pg_col_text(r, row, 0, &oom);
	out->name = bs_pg_col_text(r, row, 1, &oom);
	out->metadata = bs_pg_col_text(r, row, 2, &oom);
	if (oom) {
		bs_channel_clear(out);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

int bs_pg_channel_get(bs_backend_t *b, const char *id, bs_channel_t *out)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	memset(out, 0, sizeof(*out));
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, id);
	if ((rc = bs_pg_run((bs_pg_t *)b, PG_CH_GET, &p, &r, "get channel")) != BS_OK)
		return rc;
	rc = PQntuples(r) == 0 ? BS_ERR_NOT_FOUND : read_channel(r, 0, out);
	PQclear(r);
	return rc;
}

int bs_pg_channel_update(bs_backend_t *b, const bs_channel_t *ch, const char *now)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, ch->id);
	bs_pg_param_text(&p, ch->name);
	bs_pg_param_text(&p, ch->metadata ? ch->metadata : "{}");
	bs_pg_param_text(&p, now);
	return bs_pg_change_one((bs_pg_t *)b, PG_CH_UPDATE, &p, "update channel");
}

/* The channel locked first (PG_CH_LOCK says why), then the one statement
 * that takes it out of configs, profiles and groups and deletes it. */
int bs_pg_channel_delete(bs_backend_t *b, const char *id, const char *now)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	bs_pg_params_t p;
	long n = 0;
	int own, rc;

	if ((rc = bs_pg_own_begin(pg, &own)) != BS_OK)
		return rc;
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, id);
	rc = bs_pg_change_one(pg, PG_CH_LOCK, &p, "lock channel");
	bs_pg_param_text(&p, now);
	if (rc == BS_OK)
		rc = bs_pg_count(pg, PG_CH_DELETE, &p, &n, "delete channel");
	if (rc == BS_OK && n == 0)
		rc = BS_ERR_NOT_FOUND;
	return bs_pg_own_end(pg, own, rc);
}

int bs_pg_channel_list(bs_backend_t *b, long offset, long limit, bs_channel_t **out,
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
	if ((rc = bs_pg_run((bs_pg_t *)b, PG_CH_LIST, &p, &r, "list channels")) != BS_OK)
		return rc;
	rows = PQntuples(r);
	if ((*out = calloc((size_t)rows + 1, sizeof(**out))) == NULL)
		rc = BS_ERR_INTERNAL;
	for (int i = 0; rc == BS_OK && i < rows; i++)
		if ((rc = read_channel(r, i, &(*out)[i])) == BS_OK)
			(*n)++;
	PQclear(r);
	if (rc != BS_OK) {
		for (size_t i = 0; i < *n; i++)
			bs_channel_clear(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int bs_pg_channel_count(bs_backend_t *b, long *total)
{
	return bs_pg_count((bs_pg_t *)b, PG_CH_COUNT, NULL, total, "count channels");
}
