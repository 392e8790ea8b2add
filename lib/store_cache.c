/*
 * Channels by id, kept in memory for bootstraps: looking a channel up in
 * SQLite cost a sixth of a bootstrap, and channels are few and rarely
 * change. Any change to the channels table, and any rollback, empties the
 * cache, so it never holds what the database does not. The profiles read
 * for rendering are kept the same way.
 */
#include "store_front.h"

#include "error.h"
#include "hmap.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX 4096   /* channels kept at most; past it, lookups go to SQLite */

/*
 * Every store of the process (the broker thread's and the lookup
 * thread's, on one database) drops what it cached when any of them may
 * have changed it: a write that empties one store's cache moves this
 * number on, and so does its commit (another store may have cached the
 * old rows in between), and each store compares it with the one its
 * cache was filled under before it reads the cache.
 */
static atomic_uint generation;

static void drop_profiles(bs_store_t *st)
{
	for (size_t i = 0; i < st->nprofiles; i++) {
		free(st->profiles[i].id);
		free(st->profiles[i].content);
		json_decref(st->profiles[i].defaults);
	}
	st->nprofiles = 0;
}

static void drop(bs_store_t *st)
{
	for (size_t i = 0; i < st->cache_cap; i++)
		bs_channel_clear(&st->cache[i]);
	free(st->cache);
	st->cache = NULL;
	st->cache_cap = st->cache_n = 0;
	drop_profiles(st);
}

void store_cache_forget(bs_store_t *st)
{
	drop(st);
	atomic_fetch_add(&generation, 1);
}

void store_cache_clear(bs_store_t *st)
{
	store_cache_forget(st);
	st->cache_dirty = 1;
}

void store_cache_fresh(bs_store_t *st)
{
	unsigned now = atomic_load(&generation);

	if (now != st->cache_generation) {
		drop(st);
		st->cache_generation = now;
	}
}

const bs_channel_t *store_cache_get(const bs_store_t *st, const char *id)
{
	if (st->cache_n == 0)
		return NULL;
	for (size_t i = bs_hash_str(id) & (st->cache_cap - 1);; i = (i + 1) & (st->cache_cap - 1)) {
		if (st->cache[i].id == NULL)
			return NULL;
		if (strcmp(st->cache[i].id, id) == 0)
			return &st->cache[i];
	}
}

static void insert(bs_channel_t *table, size_t cap, bs_channel_t *ch)
{
	size_t i = bs_hash_str(ch->id) & (cap - 1);

	while (table[i].id != NULL)
		i = (i + 1) & (cap - 1);
	table[i] = *ch;
	memset(ch, 0, sizeof(*ch));
}

/* Doubles the table, keeping it at most half full. */
static int grow(bs_store_t *st)
{
	size_t cap = st->cache_cap ? st->cache_cap * 2 : 64;
	bs_channel_t *table = calloc(cap, sizeof(*table));

	if (table == NULL)
		return BS_ERR_INTERNAL;
	for (size_t i = 0; i < st->cache_cap; i++) {
		if (st->cache[i].id != NULL)
			insert(table, cap, &st->cache[i]);
	}
	free(st->cache);
	st->cache = table;
	st->cache_cap = cap;
	return BS_OK;
}

/* Keeps a copy of ch; silently does nothing when full or out of memory. */
void store_cache_put(bs_store_t *st, const bs_channel_t *ch)
{
	bs_channel_t copy = { 0 };

	if (st->cache_n >= CACHE_MAX
			|| ((st->cache_n + 1) * 2 > st->cache_cap && grow(st) != BS_OK))
		return;
	copy.id = strdup(ch->id);
	copy.name = strdup(ch->name);
	copy.metadata = strdup(ch->metadata ? ch->metadata : "{}");
	if (copy.id == NULL || copy.name == NULL || copy.metadata == NULL) {
		bs_channel_clear(&copy);
		return;
	}
	insert(st->cache, st->cache_cap, &copy);
	st->cache_n++;
}

/* Keeps p's template and default vars, taking its strings. */
static int keep_profile(bs_store_t *st, bs_profile_t *p)
{
	struct store_profile *c;

	if (st->nprofiles == STORE_PROFILES)
		drop_profiles(st);
	c = &st->profiles[st->nprofiles];
	c->defaults = p->vars ? json_loads(p->vars, 0, NULL) : NULL;
	c->id = p->id;
	c->content = p->content;
	p->id = p->content = NULL;
	if (c->id == NULL || c->content == NULL) {
		free(c->id);
		free(c->content);
		json_decref(c->defaults);
		return BS_ERR_INTERNAL;
	}
	st->nprofiles++;
	return BS_OK;
}

int bs_store_profile_peek(bs_store_t *st, const char *id, const char **content,
		const json_t **defaults)
{
	bs_profile_t p;
	int rc;

	store_cache_fresh(st);
	for (size_t i = 0; i < st->nprofiles; i++) {
		if (strcmp(st->profiles[i].id, id) == 0) {
			*content = st->profiles[i].content;
			*defaults = st->profiles[i].defaults;
			return BS_OK;
		}
	}
	memset(&p, 0, sizeof(p));
	if ((rc = OPS(st)->profile_get(st->b, id, &p)) == BS_OK
			&& (rc = keep_profile(st, &p)) == BS_OK) {
		*content = st->profiles[st->nprofiles - 1].content;
		*defaults = st->profiles[st->nprofiles - 1].defaults;
	}
	bs_profile_clear(&p);
	return rc;
}
