/* The profiles and enrollment groups tables (protocol 7.1, 7.2). */
#include "store_pg_int.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

enum { P_ID, P_NAME, P_CONTENT, P_CHANNELS, P_VARS, P_CREATED, P_UPDATED };
enum { G_ID, G_NAME, G_PROFILE, G_CHANNELS, G_ENABLE, G_CREATED, G_UPDATED, G_KEY };

static int read_profile(const PGresult *r, int row, void *item)
{
	bs_profile_t *p = item;
	int oom = 0;

	p->id = bs_pg_col_text(r, row, P_ID, &oom);
	p->name = bs_pg_col_text(r, row, P_NAME, &oom);
	p->content = bs_pg_col_text(r, row, P_CONTENT, &oom);
	p->channel_ids = bs_pg_col_text(r, row, P_CHANNELS, &oom);
	p->vars = bs_pg_col_text(r, row, P_VARS, &oom);
	bs_pg_col_copy(r, row, P_CREATED, p->created_at, BS_TIME_LEN);
	bs_pg_col_copy(r, row, P_UPDATED, p->updated_at, BS_TIME_LEN);
	return oom || p->id == NULL ? BS_ERR_INTERNAL : BS_OK;
}

static int read_group(const PGresult *r, int row, void *item)
{
	bs_group_t *g = item;
	int oom = 0;

	g->id = bs_pg_col_text(r, row, G_ID, &oom);
	g->name = bs_pg_col_text(r, row, G_NAME, &oom);
	g->profile = bs_pg_col_text(r, row, G_PROFILE, &oom);
	g->channel_ids = bs_pg_col_text(r, row, G_CHANNELS, &oom);
	g->enable = bs_pg_col_int(r, row, G_ENABLE) != 0;
	bs_pg_col_copy(r, row, G_CREATED, g->created_at, BS_TIME_LEN);
	bs_pg_col_copy(r, row, G_UPDATED, g->updated_at, BS_TIME_LEN);
	return oom || g->id == NULL ? BS_ERR_INTERNAL : BS_OK;
}

/* An insert (BS_ERR_CONFLICT when the id is taken) or an update
 * (BS_ERR_NOT_FOUND when it is missing). */
static int put(bs_pg_t *pg, int create, enum pg_stmt insert, enum pg_stmt update,
		const bs_pg_params_t *p, const char *what)
{
	long n = 0;
	int rc;

	if (!create)
		return bs_pg_change_one(pg, update, p, what);
	rc = bs_pg_changed(pg, insert, p, &n, what);
	return rc == BS_OK && n == 0 ? BS_ERR_CONFLICT : rc;
}

int bs_pg_profile_put(bs_backend_t *b, const bs_profile_t *pr, int create, const char *now)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, pr->id);
	bs_pg_param_text(&p, pr->name);
	bs_pg_param_text(&p, pr->content ? pr->content : "");
	bs_pg_param_text(&p, pr->channel_ids ? pr->channel_ids : "");
	bs_pg_param_text(&p, pr->vars ? pr->vars : "{}");
	bs_pg_param_text(&p, now);
	return put((bs_pg_t *)b, create, PG_PRO_INSERT, PG_PRO_UPDATE, &p,
			create ? "insert profile" : "update profile");
}

/* The one row of statement id by id, read into item. */
static int get_one(bs_pg_t *pg, enum pg_stmt id, const char *key,
		int (*read)(const PGresult *, int, void *), void *item, PGresult **keep,
		const char *what)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, key);
	if ((rc = bs_pg_run(pg, id, &p, &r, what)) != BS_OK)
		return rc;
	rc = PQntuples(r) == 0 ? BS_ERR_NOT_FOUND : read(r, 0, item);
	if (rc == BS_OK && keep != NULL)
		*keep = r;
	else
		PQclear(r);
	return rc;
}

int bs_pg_profile_get(bs_backend_t *b, const char *id, bs_profile_t *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = get_one((bs_pg_t *)b, PG_PRO_GET, id, read_profile, out, NULL, "get profile");
	if (rc != BS_OK)
		bs_profile_clear(out);
	return rc;
}

/* A foreign key error means that a config or group took the profile
 * between the check and the deletion: in use too. */
int bs_pg_profile_delete(bs_backend_t *b, const char *id)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, id);
	rc = bs_pg_run((bs_pg_t *)b, PG_PRO_DELETE, &p, &r, "delete profile");
	if (rc == BS_ERR_NOT_FOUND)
		return BS_ERR_CONFLICT;
	if (rc != BS_OK)
		return rc;
	if (bs_pg_col_int(r, 0, 0))
		rc = BS_ERR_CONFLICT;
	else if (bs_pg_col_int(r, 0, 1) == 0)
		rc = BS_ERR_NOT_FOUND;
	PQclear(r);
	return rc;
}

/* A page of items of size bytes, each read by read; on failure none. */
static int list(bs_pg_t *pg, enum pg_stmt id, long offset, long limit, size_t size,
		int (*read)(const PGresult *, int, void *), void (*clear)(void *),
		void **out, size_t *n)
{
	bs_pg_params_t p;
	PGresult *r;
	char *items;
	int rc, rows;

	*out = NULL;
	*n = 0;
	bs_pg_params_init(&p);
	bs_pg_param_limit(&p, limit);
	bs_pg_param_int(&p, offset);
	if ((rc = bs_pg_run(pg, id, &p, &r, "list")) != BS_OK)
		return rc;
	rows = PQntuples(r);
	if ((items = calloc((size_t)rows + 1, size)) == NULL)
		rc = BS_ERR_INTERNAL;
	for (int i = 0; rc == BS_OK && i < rows; i++) {
		rc = read(r, i, items + (size_t)i * size);
		(*n)++;
	}
	PQclear(r);
	if (rc != BS_OK) {
		for (size_t i = 0; items != NULL && i < *n; i++)
			clear(items + i * size);
		free(items);
		*n = 0;
		return rc;
	}
	*out = items;
	return BS_OK;
}

static void clear_profile(void *p)
{
	bs_profile_clear(p);
}

static void clear_group(void *g)
{
	bs_group_clear(g);
}

int bs_pg_profile_list(bs_backend_t *b, long offset, long limit, bs_profile_t **out,
		size_t *n)
{
	return list((bs_pg_t *)b, PG_PRO_LIST, offset, limit, sizeof(bs_profile_t),
			read_profile, clear_profile, (void **)out, n);
}

int bs_pg_profile_count(bs_backend_t *b, long *total)
{
	return bs_pg_count((bs_pg_t *)b, PG_PRO_COUNT, NULL, total, "count profiles");
}

int bs_pg_group_put(bs_backend_t *b, const bs_group_t *g, const bs_blob_t *key,
		int create, const char *now)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, g->id);
	bs_pg_param_text(&p, g->name);
	bs_pg_param_text(&p, g->profile);
	bs_pg_param_text(&p, g->channel_ids ? g->channel_ids : "");
	bs_pg_param_bool(&p, g->enable);
	bs_pg_param_blob(&p, key);      /* none: kept */
	bs_pg_param_text(&p, now);
	return put((bs_pg_t *)b, create, PG_GRP_INSERT, PG_GRP_UPDATE, &p,
			create ? "insert group" : "update group");
}

int bs_pg_group_get(bs_backend_t *b, const char *id, bs_group_t *out, bs_blob_t *key)
{
	PGresult *r = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (key != NULL)
		memset(key, 0, sizeof(*key));
	rc = get_one((bs_pg_t *)b, PG_GRP_GET, id, read_group, out, &r, "get group");
	if (rc == BS_OK && key != NULL)
		rc = bs_pg_col_blob(r, 0, G_KEY, key);
	PQclear(r);
	if (rc != BS_OK)
		bs_group_clear(out);
	return rc;
}

int bs_pg_group_delete(bs_backend_t *b, const char *id)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, id);
	return bs_pg_change_one((bs_pg_t *)b, PG_GRP_DELETE, &p, "delete group");
}

int bs_pg_group_list(bs_backend_t *b, long offset, long limit, bs_group_t **out,
		size_t *n)
{
	return list((bs_pg_t *)b, PG_GRP_LIST, offset, limit, sizeof(bs_group_t),
			read_group, clear_group, (void **)out, n);
}

int bs_pg_group_count(bs_backend_t *b, long *total)
{
	return bs_pg_count((bs_pg_t *)b, PG_GRP_COUNT, NULL, total, "count groups");
}
