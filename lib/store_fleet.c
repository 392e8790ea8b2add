/* The profiles and enrollment groups tables (protocol 7.1, 7.2); a group's
 * key is sealed here, bound to its row. */
#include "store_int.h"

#include "error.h"
#include "fleet.h"

#include <stdlib.h>
#include <string.h>

enum { P_ID, P_NAME, P_CONTENT, P_CHANNELS, P_VARS, P_CREATED, P_UPDATED };
enum { G_ID, G_NAME, G_PROFILE, G_CHANNELS, G_ENABLE, G_CREATED, G_UPDATED, G_KEY };

static int read_profile(sqlite3_stmt *s, bs_profile_t *p)
{
	int oom = 0;

	p->id = store_col_text(s, P_ID, &oom);
	p->name = store_col_text(s, P_NAME, &oom);
	p->content = store_col_text(s, P_CONTENT, &oom);
	p->channel_ids = store_col_text(s, P_CHANNELS, &oom);
	p->vars = store_col_text(s, P_VARS, &oom);
	store_col_copy(s, P_CREATED, p->created_at, BS_TIME_LEN);
	store_col_copy(s, P_UPDATED, p->updated_at, BS_TIME_LEN);
	return oom || p->id == NULL ? BS_ERR_INTERNAL : BS_OK;
}

void store_profiles_clear(bs_store_t *st)
{
	for (size_t i = 0; i < st->nprofiles; i++) {
		free(st->profiles[i].id);
		free(st->profiles[i].content);
		json_decref(st->profiles[i].defaults);
	}
	st->nprofiles = 0;
}

int bs_store_profile_peek(bs_store_t *st, const char *id, const char **content,
		const json_t **defaults)
{
	struct store_profile *c;
	bs_profile_t p;
	int rc;

	for (size_t i = 0; i < st->nprofiles; i++) {
		if (strcmp(st->profiles[i].id, id) == 0) {
			*content = st->profiles[i].content;
			*defaults = st->profiles[i].defaults;
			return BS_OK;
		}
	}
	if ((rc = bs_store_profile_get(st, id, &p)) != BS_OK)
		return rc;
	if (st->nprofiles == STORE_PROFILES)
		store_profiles_clear(st);
	c = &st->profiles[st->nprofiles];
	c->defaults = p.vars ? json_loads(p.vars, 0, NULL) : NULL;
	c->id = p.id;
	c->content = p.content;
	p.id = p.content = NULL;
	bs_profile_clear(&p);
	if (c->id == NULL || c->content == NULL) {
		free(c->id);
		free(c->content);
		json_decref(c->defaults);
		return BS_ERR_INTERNAL;
	}
	st->nprofiles++;
	*content = c->content;
	*defaults = c->defaults;
	return BS_OK;
}

int bs_store_profile_put(bs_store_t *st, const bs_profile_t *p, int create,
		const char *now)
{
	sqlite3_stmt *s = store_stmt(st, create ? ST_PRO_INSERT : ST_PRO_UPDATE);

	store_profiles_clear(st);
	store_bind_text(s, 1, p->id);
	store_bind_text(s, 2, p->name);
	store_bind_text(s, 3, p->content ? p->content : "");
	store_bind_text(s, 4, p->channel_ids ? p->channel_ids : "");
	store_bind_text(s, 5, p->vars ? p->vars : "{}");
	store_bind_text(s, 6, now);
	return create ? store_done(st, s, "insert profile")
		: store_change_one(st, s, "update profile");
}

int bs_store_profile_get(bs_store_t *st, const char *id, bs_profile_t *out)
{
	sqlite3_stmt *s = store_stmt(st, ST_PRO_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_profile(s, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : store_fail(st, "get profile");
	sqlite3_reset(s);
	return rc;
}

/* BS_ERR_CONFLICT while a config or a group uses it. */
int bs_store_profile_delete(bs_store_t *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, ST_PRO_USED);
	int rc, used;

	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	used = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_fail(st, "look for users of a profile");
	if (used)
		return BS_ERR_CONFLICT;
	store_profiles_clear(st);
	s = store_stmt(st, ST_PRO_DELETE);
	store_bind_text(s, 1, id);
	return store_change_one(st, s, "delete profile");
}

static int read_group(bs_store_t *st, sqlite3_stmt *s, int with_key, bs_group_t *g)
{
	int oom = 0;

	g->id = store_col_text(s, G_ID, &oom);
	g->name = store_col_text(s, G_NAME, &oom);
	g->profile = store_col_text(s, G_PROFILE, &oom);
	g->channel_ids = store_col_text(s, G_CHANNELS, &oom);
	g->enable = sqlite3_column_int(s, G_ENABLE);
	store_col_copy(s, G_CREATED, g->created_at, BS_TIME_LEN);
	store_col_copy(s, G_UPDATED, g->updated_at, BS_TIME_LEN);
	if (oom || g->id == NULL)
		return BS_ERR_INTERNAL;
	if (!with_key)
		return BS_OK;
	return store_open_in(st, "enroll_groups", "group_key", g->id,
			sqlite3_column_blob(s, G_KEY), (size_t)sqlite3_column_bytes(s, G_KEY),
			&g->group_key);
}

/* group_key is written only when set (a new or rotated key). */
int bs_store_group_put(bs_store_t *st, const bs_group_t *g, int create, const char *now)
{
	sqlite3_stmt *s = store_stmt(st, create ? ST_GRP_INSERT : ST_GRP_UPDATE);
	uint8_t *sealed = NULL;
	size_t len = 0;
	int rc = BS_OK;

	store_bind_text(s, 1, g->id);
	store_bind_text(s, 2, g->name);
	store_bind_text(s, 3, g->profile);
	store_bind_text(s, 4, g->channel_ids ? g->channel_ids : "");
	sqlite3_bind_int(s, 5, g->enable ? 1 : 0);
	store_bind_text(s, 7, now);
	if (g->group_key != NULL && (rc = store_seal_in(st, "enroll_groups", "group_key",
			g->id, g->group_key, &sealed, &len)) == BS_OK)
		sqlite3_bind_blob(s, 6, sealed, (int)len, SQLITE_STATIC);
	if (rc == BS_OK)
		rc = create ? store_done(st, s, "insert group")
			: store_change_one(st, s, "update group");
	sqlite3_clear_bindings(s);
	free(sealed);
	return rc;
}

int bs_store_group_get(bs_store_t *st, const char *id, int with_key, bs_group_t *out)
{
	sqlite3_stmt *s = store_stmt(st, ST_GRP_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_group(st, s, with_key, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : store_fail(st, "get group");
	sqlite3_reset(s);
	if (rc != BS_OK)
		bs_group_clear(out);
	return rc;
}

int bs_store_group_delete(bs_store_t *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, ST_GRP_DELETE);

	store_bind_text(s, 1, id);
	return store_change_one(st, s, "delete group");
}

/* A page of profiles (group false) or groups, as items of size bytes each
 * read by the matching reader. */
static int read_page(bs_store_t *st, int group, long offset, long limit, void **out,
		size_t *n)
{
	size_t size = group ? sizeof(bs_group_t) : sizeof(bs_profile_t);
	sqlite3_stmt *s = store_stmt(st, group ? ST_GRP_LIST : ST_PRO_LIST);
	char *list = calloc((size_t)limit + 1, size);
	int rc = BS_OK, step;

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return BS_ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, limit);
	sqlite3_bind_int64(s, 2, offset);
	while (rc == BS_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		void *item = list + *n * size;
		rc = group ? read_group(st, s, 0, item) : read_profile(s, item);
		(*n)++;
	}
	if (rc == BS_OK && step != SQLITE_DONE)
		rc = store_fail(st, "list");
	sqlite3_reset(s);
	*out = list;
	return rc;
}

int bs_store_profile_list(bs_store_t *st, long offset, long limit, bs_profile_t **out,
		size_t *n)
{
	return read_page(st, 0, offset, limit, (void **)out, n);
}

int bs_store_group_list(bs_store_t *st, long offset, long limit, bs_group_t **out,
		size_t *n)
{
	return read_page(st, 1, offset, limit, (void **)out, n);
}

int bs_store_profile_count(bs_store_t *st, long *total)
{
	return store_count(st, store_stmt(st, ST_PRO_COUNT), total, "count profiles");
}

int bs_store_group_count(bs_store_t *st, long *total)
{
	return store_count(st, store_stmt(st, ST_GRP_COUNT), total, "count groups");
}
