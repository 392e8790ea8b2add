/*
 * Private to the store's front (store.c, store_config.c, store_tables.c,
 * store_cache.c): the backend it drives, the master key, and what it keeps
 * in memory for bootstraps.
 */
#ifndef BS_STORE_FRONT_H
#define BS_STORE_FRONT_H

#include "store.h"
#include "store_backend.h"

#include <jansson.h>

#define STORE_PROFILES 32   /* profiles kept for rendering at most */

struct bs_store {
	bs_backend_t *b;
	uint8_t key[BS_KEY_LEN];
	/* Channels by id for bootstraps (store_cache.c): open addressing. */
	bs_channel_t *cache;
	size_t cache_cap, cache_n;
	/* Profiles read for rendering, emptied with the channel cache: by
	 * every profile write and every rollback. */
	struct store_profile {
		char *id, *content;
		json_t *defaults;
	} profiles[STORE_PROFILES];
	size_t nprofiles;
	unsigned cache_generation;  /* store_cache.c */
	int cache_dirty;            /* cleared in the open transaction */
};

/* The backend's function table, shortly. */
#define OPS(st) ((st)->b->ops)

/* Records a failure of the front (a secret that does not open) where the
 * backend keeps its own; returns rc. */
int store_fail(bs_store_t *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Seals clear for column of the config client_id, or opens it. */
int store_seal(bs_store_t *st, const char *table, const char *column,
		const char *row, const char *clear, bs_blob_t *out);
int store_open(bs_store_t *st, const char *table, const char *column,
		const char *row, const bs_blob_t *blob, char **out);

/* Stores the key check of key in place of any other. */
int store_put_check(bs_store_t *st, const uint8_t key[BS_KEY_LEN]);

/* The caches (store_cache.c): clear empties them here and makes every
 * other store of the process empty its own before its next read; fresh
 * does that emptying, and runs before each read of a cache. */
const bs_channel_t *store_cache_get(const bs_store_t *st, const char *id);
void store_cache_put(bs_store_t *st, const bs_channel_t *ch);
void store_cache_clear(bs_store_t *st);
void store_cache_fresh(bs_store_t *st);
/* clear, for a change made elsewhere: nothing for this store to announce. */
void store_cache_forget(bs_store_t *st);

#endif
