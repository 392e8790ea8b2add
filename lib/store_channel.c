/* The channels table. */
#include "store_int.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_store_channel_insert(bs_store_t *st, const bs_channel_t *ch,
		const char *now)
{
	sqlite3_stmt *s = store_stmt(st, ST_CH_INSERT);

	store_bind_text(s, 1, ch->id);
	store_bind_text(s, 2, ch->name);
	store_bind_text(s, 3, ch->metadata ? ch->metadata : "{}");
	store_bind_text(s, 4, now);
	store_bind_text(s, 5, now);
	return store_done(st, s, "insert channel");
}

int bs_store_channel_get(bs_store_t *st, const char *id, bs_channel_t *out)
{
	sqlite3_stmt *s = store_stmt(st, ST_CH_GET);
	int rc;

	store_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = store_read_channel(s, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : store_fail(st, "get channel");
	sqlite3_reset(s);
	return rc;
}

int bs_store_channel_update(bs_store_t *st, const bs_channel_t *ch,
		const char *now)
{
	sqlite3_stmt *s = store_stmt(st, ST_CH_UPDATE);

	store_cache_clear(st);
	store_bind_text(s, 1, ch->name);
	store_bind_text(s, 2, ch->metadata ? ch->metadata : "{}");
	store_bind_text(s, 3, now);
	store_bind_text(s, 4, ch->id);
	return store_change_one(st, s, "update channel");
}

int bs_store_channel_delete(bs_store_t *st, const char *id, const char *now)
{
	sqlite3_stmt *s = store_stmt(st, ST_CH_TOUCH_CONFIGS);
	int rc;

	store_cache_clear(st);
	store_bind_text(s, 1, now);
	store_bind_text(s, 2, id);
	if ((rc = store_done(st, s, "touch configs of channel")) != BS_OK)
		return rc;
	for (int which = ST_CH_OUT_OF_PROFILES; which <= ST_CH_OUT_OF_GROUPS; which++) {
		s = store_stmt(st, (enum stmt_id)which);
		store_bind_text(s, 1, id);
		if ((rc = store_done(st, s, "drop a channel from profiles and groups")) != BS_OK)
			return rc;
	}
	s = store_stmt(st, ST_CH_DELETE);
	store_bind_text(s, 1, id);
	return store_change_one(st, s, "delete channel");
}

static int read_page(bs_store_t *st, sqlite3_stmt *s, bs_channel_t *list,
		size_t max, size_t *n)
{
	int rc = SQLITE_DONE;

	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (store_read_channel(s, &list[*n]) != BS_OK)
			return BS_ERR_INTERNAL;
		(*n)++;
	}
	return *n == max || rc == SQLITE_DONE ? BS_OK : store_fail(st, "list channels");
}

int bs_store_channel_list(bs_store_t *st, long offset, long limit,
		bs_channel_t **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, ST_CH_LIST);
	bs_channel_t *list = calloc((size_t)limit + 1, sizeof(*list));
	int rc;

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return BS_ERR_INTERNAL;
	sqlite3_bind_int64(s, 1, limit);
	sqlite3_bind_int64(s, 2, offset);
	rc = read_page(st, s, list, (size_t)limit, n);
	sqlite3_reset(s);
	if (rc != BS_OK) {
		for (size_t i = 0; i < *n; i++)
			bs_channel_clear(&list[i]);
		free(list);
		*n = 0;
		return rc;
	}
	*out = list;
	return BS_OK;
}

int bs_store_channel_count(bs_store_t *st, long *total)
{
	return store_count(st, store_stmt(st, ST_CH_COUNT), total, "count channels");
}
