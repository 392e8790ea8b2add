/* The SQLite backend's profiles and enrollment groups tables (protocol
 * 7.1, 7.2). */
#include "store_sqlite.h"

#include "error.h"
#include "fleet.h"

#include <stdlib.h>
#include <string.h>

enum { P_ID, P_NAME, P_CONTENT, P_CHANNELS, P_VARS, P_CREATED, P_UPDATED };
enum { G_ID, G_NAME, G_PROFILE, G_CHANNELS, G_ENABLE, G_CREATED, G_UPDATED, G_KEY };

static int read_profile(sqlite3_stmt *s, bs_profile_t *p)
{
	int oom = 0;

	p->id = bs_lite_col_text(s, P_ID, &oom);
	p->name = bs_lite_col_text(s, P_NAME, &oom);
	p->content = bs_lite_col_text(s, P_CONTENT, &oom);
	p->channel_ids = bs_lite_col_text(s, P_CHANNELS, &oom);
	p->vars = bs_lite_col_text(s, P_VARS, &oom);
	bs_lite_col_copy(s, P_CREATED, p->created_at, BS_TIME_LEN);
	bs_lite_col_copy(s, P_UPDATED, p->updated_at, BS_TIME_LEN);
	return oom || p->id == NULL ? BS_ERR_INTERNAL : BS_OK;
}

int bs_lite_profile_put(bs_backend_t *b, const bs_profile_t *p, int create,
		const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, create ? ST_PRO_INSERT : ST_PRO_UPDATE);

	bs_lite_bind_text(s, 1, p->id);
	bs_lite_bind_text(s, 2, p->name);
	bs_lite_bind_text(s, 3, p->content ? p->content : "");
	bs_lite_bind_text(s, 4, p->channel_ids ? p->channel_ids : "");
	bs_lite_bind_text(s, 5, p->vars ? p->vars : "{}");
	bs_lite_bind_text(s, 6, now);
	return create ? bs_lite_done(st, s, "insert profile")
		: bs_lite_change_one(st, s, "update profile");
}

int bs_lite_profile_get(bs_backend_t *b, const char *id, bs_profile_t *out)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_PRO_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	bs_lite_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_profile(s, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "get profile");
	sqlite3_reset(s);
	return rc;
}

/* BS_ERR_CONFLICT while a config or a group uses it. */
int bs_lite_profile_delete(bs_backend_t *b, const char *id)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_PRO_USED);
	int rc, used;

	bs_lite_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	used = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return bs_lite_fail(st, "look for users of a profile");
	if (used)
		return BS_ERR_CONFLICT;
	s = bs_lite_stmt(st, ST_PRO_DELETE);
	bs_lite_bind_text(s, 1, id);
	return bs_lite_change_one(st, s, "delete profile");
}

static int read_group(sqlite3_stmt *s, bs_group_t *g, bs_blob_t *key)
{
	int oom = 0;

	g->id = bs_lite_col_text(s, G_ID, &oom);
	g->name = bs_lite_col_text(s, G_NAME, &oom);
	g->profile = bs_lite_col_text(s, G_PROFILE, &oom);
	g->channel_ids = bs_lite_col_text(s, G_CHANNELS, &oom);
	g->enable = sqlite3_column_int(s, G_ENABLE);
	bs_lite_col_copy(s, G_CREATED, g->created_at, BS_TIME_LEN);
	bs_lite_col_copy(s, G_UPDATED, g->updated_at, BS_TIME_LEN);
	if (oom || g->id == NULL)
		return BS_ERR_INTERNAL;
	return key != NULL ? bs_lite_col_blob(s, G_KEY, key) : BS_OK;
}

int bs_lite_group_put(bs_backend_t *b, const bs_group_t *g, const bs_blob_t *key,
		int create, const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, create ? ST_GRP_INSERT : ST_GRP_UPDATE);
	int rc;

	bs_lite_bind_text(s, 1, g->id);
	bs_lite_bind_text(s, 2, g->name);
	bs_lite_bind_text(s, 3, g->profile);
	bs_lite_bind_text(s, 4, g->channel_ids ? g->channel_ids : "");
	sqlite3_bind_int(s, 5, g->enable ? 1 : 0);
	if (key != NULL)
		bs_lite_bind_blob(s, 6, key);
	bs_lite_bind_text(s, 7, now);
	rc = create ? bs_lite_done(st, s, "insert group")
		: bs_lite_change_one(st, s, "update group");
	sqlite3_clear_bindings(s);
	return rc;
}

int bs_lite_group_get(bs_backend_t *b, const char *id, bs_group_t *out, bs_blob_t *key)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_GRP_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	bs_lite_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_group(s, out, key);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "get group");
	sqlite3_reset(s);
	return rc;
}

int bs_lite_group_delete(bs_backend_t *b, const char *id)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_GRP_DELETE);

	bs_lite_bind_text(s, 1, id);
	return bs_lite_change_one(st, s, "delete group");
}

/* A page of profiles (group false) or groups, as items of size bytes each
 * read by the matching reader. */
static int read_page(lite_t *st, int group, long offset, long limit, void **out,
		size_t *n)
{
	size_t size = group ? sizeof(bs_group_t) : sizeof(bs_profile_t);
	sqlite3_stmt *s = bs_lite_stmt(st, group ? ST_GRP_LIST : ST_PRO_LIST);
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
		rc = group ? read_group(s, item, NULL) : read_profile(s, item);
		(*n)++;
	}
	if (rc == BS_OK && step != SQLITE_DONE)
		rc = bs_lite_fail(st, "list");
	sqlite3_reset(s);
	*out = list;
	return rc;
}

int bs_lite_profile_list(bs_backend_t *b, long offset, long limit, bs_profile_t **out,
		size_t *n)
{
	lite_t *st = lite(b);
	return read_page(st, 0, offset, limit, (void **)out, n);
}

int bs_lite_group_list(bs_backend_t *b, long offset, long limit, bs_group_t **out,
		size_t *n)
{
	lite_t *st = lite(b);
	return read_page(st, 1, offset, limit, (void **)out, n);
}

int bs_lite_profile_count(bs_backend_t *b, long *total)
{
	lite_t *st = lite(b);
	return bs_lite_count(st, bs_lite_stmt(st, ST_PRO_COUNT), total, "count profiles");
}

int bs_lite_group_count(bs_backend_t *b, long *total)
{
	lite_t *st = lite(b);
	return bs_lite_count(st, bs_lite_stmt(st, ST_GRP_COUNT), total, "count groups");
}
