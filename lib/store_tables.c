/* The store's front for channels, profiles, enrollment groups and unknown
 * devices: what a write makes stale in the caches is dropped, and a
 * group's key is sealed to its row. */
#include "store_front.h"

#include "error.h"
#include "fleet.h"

#include <stdlib.h>
#include <string.h>

int bs_store_channel_insert(bs_store_t *st, const bs_channel_t *ch, const char *now)
{
	return OPS(st)->channel_insert(st->b, ch, now);
}

int bs_store_channel_get(bs_store_t *st, const char *id, bs_channel_t *out)
{
	return OPS(st)->channel_get(st->b, id, out);
}

int bs_store_channel_update(bs_store_t *st, const bs_channel_t *ch, const char *now)
{
	store_cache_clear(st);
	return OPS(st)->channel_update(st->b, ch, now);
}

int bs_store_channel_delete(bs_store_t *st, const char *id, const char *now)
{
	store_cache_clear(st);
	return OPS(st)->channel_delete(st->b, id, now);
}

int bs_store_channel_list(bs_store_t *st, long offset, long limit,
		bs_channel_t **out, size_t *n)
{
	return OPS(st)->channel_list(st->b, offset, limit, out, n);
}

int bs_store_channel_count(bs_store_t *st, long *total)
{
	return OPS(st)->channel_count(st->b, total);
}

int bs_store_profile_put(bs_store_t *st, const bs_profile_t *p, int create,
		const char *now)
{
	store_cache_clear(st);
	return OPS(st)->profile_put(st->b, p, create, now);
}

int bs_store_profile_get(bs_store_t *st, const char *id, bs_profile_t *out)
{
	return OPS(st)->profile_get(st->b, id, out);
}

int bs_store_profile_delete(bs_store_t *st, const char *id)
{
	store_cache_clear(st);
	return OPS(st)->profile_delete(st->b, id);
}

int bs_store_profile_list(bs_store_t *st, long offset, long limit,
		bs_profile_t **out, size_t *n)
{
	return OPS(st)->profile_list(st->b, offset, limit, out, n);
}

int bs_store_profile_count(bs_store_t *st, long *total)
{
	return OPS(st)->profile_count(st->b, total);
}

int bs_store_group_put(bs_store_t *st, const bs_group_t *g, int create, const char *now)
{
	bs_blob_t key = { 0 };
	int rc = BS_OK;

	if (g->group_key != NULL)
		rc = store_seal(st, "enroll_groups", "group_key", g->id, g->group_key, &key);
	if (rc == BS_OK)
		rc = OPS(st)->group_put(st->b, g, g->group_key ? &key : NULL, create, now);
	bs_blob_clear(&key);
	return rc;
}

int bs_store_group_get(bs_store_t *st, const char *id, int with_key, bs_group_t *out)
{
	bs_blob_t key = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = OPS(st)->group_get(st->b, id, out, with_key ? &key : NULL);
	if (rc == BS_OK && with_key)
		rc = store_open(st, "enroll_groups", "group_key", out->id, &key,
				&out->group_key);
	bs_blob_clear(&key);
	if (rc != BS_OK)
		bs_group_clear(out);
	return rc;
}

int bs_store_group_delete(bs_store_t *st, const char *id)
{
	return OPS(st)->group_delete(st->b, id);
}

int bs_store_group_list(bs_store_t *st, long offset, long limit,
		bs_group_t **out, size_t *n)
{
	return OPS(st)->group_list(st->b, offset, limit, out, n);
}

int bs_store_group_count(bs_store_t *st, long *total)
{
	return OPS(st)->group_count(st->b, total);
}

int bs_store_unknown_put(bs_store_t *st, const char *external_id, time_t first_seen,
		time_t last_seen, int64_t attempts, const char *address)
{
	return OPS(st)->unknown_put(st->b, external_id, first_seen, last_seen, attempts,
			address);
}

int bs_store_unknown_delete(bs_store_t *st, const char *external_id, long *deleted)
{
	return OPS(st)->unknown_delete(st->b, external_id, deleted);
}

int bs_store_unknown_count(bs_store_t *st, long *total)
{
	return OPS(st)->unknown_count(st->b, total);
}

int bs_store_unknown_list(bs_store_t *st, long offset, long limit,
		bs_unknown_row_t **out, size_t *n)
{
	return OPS(st)->unknown_list(st->b, offset, limit, out, n);
}

void bs_unknown_rows_free(bs_unknown_row_t *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].external_id);
		free(rows[i].address);
	}
	free(rows);
}

int bs_store_unknown_each(bs_store_t *st, int newest, long limit,
		bs_unknown_row_fn fn, void *arg)
{
	return OPS(st)->unknown_each(st->b, newest, limit, fn, arg);
}

int bs_store_unknown_trim(bs_store_t *st, long keep, long *deleted)
{
	return OPS(st)->unknown_trim(st->b, keep, deleted);
}
