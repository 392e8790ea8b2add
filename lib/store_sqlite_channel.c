/* The SQLite backend's channels table. */
#include "store_sqlite.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_lite_channel_insert(bs_backend_t *b, const bs_channel_t *ch,
		const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CH_INSERT);

	bs_lite_bind_text(s, 1, ch->id);
	bs_lite_bind_text(s, 2, ch->name);
	bs_lite_bind_text(s, 3, ch->metadata ? ch->metadata : "{}");
	bs_lite_bind_text(s, 4, now);
	bs_lite_bind_text(s, 5, now);
	return bs_lite_done(st, s, "insert channel");
}

int bs_lite_channel_get(bs_backend_t *b, const char *id, bs_channel_t *out)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CH_GET);
	int rc;

	bs_lite_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = bs_lite_read_channel(s, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "get channel");
	sqlite3_reset(s);
	return rc;
}

int bs_lite_channel_update(bs_backend_t *b, const bs_channel_t *ch,
		const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CH_UPDATE);

	bs_lite_bind_text(s, 1, ch->name);
	bs_lite_bind_text(s, 2, ch->metadata ? ch->metadata : "{}");
	bs_lite_bind_text(s, 3, now);
	bs_lite_bind_text(s, 4, ch->id);
	return bs_lite_change_one(st, s, "update channel");
}

int bs_lite_channel_delete(bs_backend_t *b, const char *id, const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CH_TOUCH_CONFIGS);
	int rc;

	bs_lite_bind_text(s, 1, now);
	bs_lite_bind_text(s, 2, id);
	if ((rc = bs_lite_done(st, s, "touch configs of channel")) != BS_OK)
		return rc;
	for (int which = ST_CH_OUT_OF_PROFILES; which <= ST_CH_OUT_OF_GROUPS; which++) {
		s = bs_lite_stmt(st, (enum stmt_id)which);
		bs_lite_bind_text(s, 1, id);
		if ((rc = bs_lite_done(st, s, "drop a channel from profiles and groups")) != BS_OK)
			return rc;
	}
	s = bs_lite_stmt(st, ST_CH_DELETE);
	bs_lite_bind_text(s, 1, id);
	return bs_lite_change_one(st, s, "delete channel");
}

static int read_page(lite_t *st, sqlite3_stmt *s, bs_channel_t *list,
		size_t max, size_t *n)
{
	int rc = SQLITE_DONE;

	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (bs_lite_read_channel(s, &list[*n]) != BS_OK)
			return BS_ERR_INTERNAL;
		(*n)++;
	}
	return *n == max || rc == SQLITE_DONE ? BS_OK : bs_lite_fail(st, "list channels");
}

int bs_lite_channel_list(bs_backend_t *b, long offset, long limit,
		bs_channel_t **out, size_t *n)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CH_LIST);
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

int bs_lite_channel_count(bs_backend_t *b, long *total)
{
	lite_t *st = lite(b);
	return bs_lite_count(st, bs_lite_stmt(st, ST_CH_COUNT), total, "count channels");
}
