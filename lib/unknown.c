#include "unknown.h"

#include "crypto.h"
#include "error.h"
#include "store_unknown.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Rows of the store read, the least recently seen first, to find those
 * of dropped entries (at most this many per batch). */
#define PRUNE_SCAN 1024

typedef struct {
	bs_unknown_entry_t *prev, *next;
} link_t;

struct bs_unknown_entry {
	bs_unknown_entry_t *chain;      /* the next in its bucket */
	link_t lru;                     /* prev: more recently seen */
	link_t w;                       /* in pending or batch */
	uint64_t hash;
	int64_t first_seen, last_seen;
	uint32_t attempts;              /* since it was last written */
	uint32_t gen;                   /* the write list it is on, when on one */
	uint16_t cap;                   /* bytes for id */
	uint8_t listed;                 /* on pending or batch */
	uint8_t stored;                 /* it has a row */
	char address[BS_UNKNOWN_ADDR_LEN];
	char id[];
};

/* ---- the hash: SipHash-2-4, keyed at start --------------------------- */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
} while (0)

static uint64_t load_le(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static uint64_t siphash(const uint64_t key[2], const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL, v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL, v3 = key[1] ^ 0x7465646279746573ULL;
	uint64_t m;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		m = load_le(p + i, 8);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	m = load_le(p + i, len - i) | (uint64_t)len << 56;
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- lists ------------------------------------------------------------ */

static link_t *lru_of(bs_unknown_entry_t *e)
{
	return &e->lru;
}

static link_t *w_of(bs_unknown_entry_t *e)
{
	return &e->w;
}

static void list_unlink(bs_unknown_list_t *l, bs_unknown_entry_t *e,
		link_t *(*at)(bs_unknown_entry_t *))
{
	link_t *k = at(e);

	if (k->prev != NULL)
		at(k->prev)->next = k->next;
	else
		l->head = k->next;
	if (k->next != NULL)
		at(k->next)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
	l->n--;
}

static void list_push_front(bs_unknown_list_t *l, bs_unknown_entry_t *e,
		link_t *(*at)(bs_unknown_entry_t *))
{
	link_t *k = at(e);

	k->prev = NULL;
	k->next = l->head;
	if (l->head != NULL)
		at(l->head)->prev = e;
	else
		l->tail = e;
	l->head = e;
	l->n++;
}

static void list_push_back(bs_unknown_list_t *l, bs_unknown_entry_t *e,
		link_t *(*at)(bs_unknown_entry_t *))
{
	link_t *k = at(e);

	k->next = NULL;
	k->prev = l->tail;
	if (l->tail != NULL)
		at(l->tail)->next = e;
	else
		l->head = e;
	l->tail = e;
	l->n++;
}

/* The write list e is on. */
static bs_unknown_list_t *w_list(bs_unknown_t *u, const bs_unknown_entry_t *e)
{
	return e->gen == u->gen ? &u->pending : &u->batch;
}

static void w_leave(bs_unknown_t *u, bs_unknown_entry_t *e)
{
	if (!e->listed)
		return;
	list_unlink(w_list(u, e), e, w_of);
	e->listed = 0;
}

/* ---- the map ---------------------------------------------------------- */

static bs_unknown_entry_t **bucket(const bs_unknown_t *u, uint64_t h)
{
	return &u->buckets[h & (u->cap - 1)];
}

static bs_unknown_entry_t *find(const bs_unknown_t *u, const char *id, uint64_t h)
{
	for (bs_unknown_entry_t *e = *bucket(u, h); e != NULL; e = e->chain) {
		if (e->hash == h && strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

static void map_del(bs_unknown_t *u, bs_unknown_entry_t *e)
{
	bs_unknown_entry_t **at = bucket(u, e->hash);

	while (*at != NULL && *at != e)
		at = &(*at)->chain;
	if (*at != NULL)
		*at = e->chain;
	e->chain = NULL;
}

/* Out of the map and every list; its row, if any, is now an orphan's. */
static void unlink_all(bs_unknown_t *u, bs_unknown_entry_t *e)
{
	map_del(u, e);
	list_unlink(&u->lru, e, lru_of);
	w_leave(u, e);
}

static int make_buckets(bs_unknown_t *u)
{
	size_t cap = 16;

	while (cap < u->max)
		cap *= 2;
	if ((u->buckets = calloc(cap, sizeof(*u->buckets))) == NULL)
		return BS_ERR_INTERNAL;
	u->cap = cap;
	return BS_OK;
}

int bs_unknown_init(bs_unknown_t *u, size_t max)
{
	memset(u, 0, sizeof(*u));
	u->max = max;
	u->gen = 1;
	return bs_crypto_random(u->seed, sizeof(u->seed));
}

static size_t entry_size(size_t cap)
{
	return offsetof(bs_unknown_entry_t, id) + cap;
}

/*
 * Memory for a new entry of an id of len bytes: a fresh allocation while
 * there is room, else the least recently seen entry, dropped, its memory
 * reused (grown only when the new id does not fit). Not in the map.
 */
static bs_unknown_entry_t *take(bs_unknown_t *u, size_t len)
{
	size_t need = (len + 1 + 15) & ~(size_t)15;
	bs_unknown_entry_t *e;

	if (u->n < u->max) {
		if ((e = malloc(entry_size(need))) == NULL)
			return NULL;
		u->n++;
	} else {
		e = u->lru.tail;
		unlink_all(u, e);
		if (e->stored)
			u->orphans++;
		u->bytes -= entry_size(e->cap);
		if (e->cap < need) {
			bs_unknown_entry_t *grown = realloc(e, entry_size(need));
			if (grown == NULL) {
				free(e);
				u->n--;
				return NULL;
			}
			e = grown;
		} else {
			need = e->cap;
		}
	}
	memset(e, 0, offsetof(bs_unknown_entry_t, id));
	e->cap = (uint16_t)need;
	u->bytes += entry_size(need);
	return e;
}

/* A new entry for id, in the map, at the back of the LRU list (the
 * caller moves it). */
static bs_unknown_entry_t *add(bs_unknown_t *u, const char *id, size_t len, uint64_t h)
{
	bs_unknown_entry_t *e = take(u, len);

	if (e == NULL)
		return NULL;
	memcpy(e->id, id, len + 1);
	e->hash = h;
	e->chain = *bucket(u, h);
	*bucket(u, h) = e;
	list_push_back(&u->lru, e, lru_of);
	return e;
}

static void set_address(bs_unknown_entry_t *e, const char *address)
{
	size_t len = address ? strlen(address) : 0;

	if (len >= sizeof(e->address))
		len = sizeof(e->address) - 1;
	memcpy(e->address, address ? address : "", len);
	e->address[len] = '\0';
}

void bs_unknown_seen(bs_unknown_t *u, const char *external_id,
		const char *address, time_t now)
{
	size_t len;
	uint64_t h;
	bs_unknown_entry_t *e;

	if (u->max == 0 || (u->buckets == NULL && make_buckets(u) != BS_OK))
		return;
	len = strlen(external_id);
	h = siphash(u->seed, external_id, len);
	if ((e = find(u, external_id, h)) == NULL) {
		if ((e = add(u, external_id, len, h)) == NULL)
			return;
		e->first_seen = now;
	}
	list_unlink(&u->lru, e, lru_of);
	list_push_front(&u->lru, e, lru_of);
	e->last_seen = now;
	if (e->attempts < UINT32_MAX)
		e->attempts++;
	set_address(e, address);
	if (!e->listed) {
		e->listed = 1;
		e->gen = u->gen;
		list_push_back(&u->pending, e, w_of);
	}
}

static void free_entry(bs_unknown_t *u, bs_unknown_entry_t *e)
{
	u->bytes -= entry_size(e->cap);
	free(e);
	u->n--;
}

int bs_unknown_drop(bs_unknown_t *u, const char *external_id)
{
	bs_unknown_entry_t *e;
	int stored;

	if (external_id == NULL) {
		while ((e = u->lru.head) != NULL) {
			unlink_all(u, e);
			free_entry(u, e);
		}
		u->orphans = 0;
		return 0;
	}
	if (u->n == 0 || u->buckets == NULL)
		return 0;
	e = find(u, external_id, siphash(u->seed, external_id, strlen(external_id)));
	if (e == NULL)
		return 0;
	stored = e->stored;
	unlink_all(u, e);
	free_entry(u, e);
	return stored;
}

void bs_unknown_row_gone(bs_unknown_t *u)
{
	if (u->orphans > 0)
		u->orphans--;
}

/* One stored row into memory, behind those loaded before it. */
static int load_row(void *arg, const char *external_id, time_t first_seen,
		time_t last_seen, const char *address)
{
	bs_unknown_t *u = arg;
	size_t len = strlen(external_id);
	uint64_t h = siphash(u->seed, external_id, len);
	bs_unknown_entry_t *e;

	if (u->n >= u->max || find(u, external_id, h) != NULL)
		return 0;
	if ((e = add(u, external_id, len, h)) == NULL)
		return 1;
	e->first_seen = first_seen;
	e->last_seen = last_seen;
	e->stored = 1;
	set_address(e, address);
	return 0;
}

int bs_unknown_load(bs_unknown_t *u, bs_store_t *st)
{
	long deleted;
	int rc = bs_store_unknown_trim(st, (long)u->max, &deleted);

	if (rc != BS_OK || u->max == 0)
		return rc;
	if (u->buckets == NULL && make_buckets(u) != BS_OK)
		return BS_ERR_INTERNAL;
	return bs_store_unknown_each(st, 1, (long)u->max, load_row, u);
}

int bs_unknown_hand(bs_unknown_t *u)
{
	if (u->batch.n > 0 || u->pending.n == 0)
		return 0;
	u->batch = u->pending;
	memset(&u->pending, 0, sizeof(u->pending));
	u->gen++;
	return 1;
}

size_t bs_unknown_waiting(const bs_unknown_t *u)
{
	return u->batch.n;
}

size_t bs_unknown_pending(const bs_unknown_t *u)
{
	return u->pending.n;
}

/* The ids of rows that no entry has, the least recently seen first. */
typedef struct {
	bs_unknown_t *u;
	char **ids;
	size_t n, max;
	int oom;
} orphans_t;

static int note_orphan(void *arg, const char *external_id, time_t first_seen,
		time_t last_seen, const char *address)
{
	orphans_t *o = arg;

	(void)first_seen;
	(void)last_seen;
	(void)address;
	if (find(o->u, external_id, siphash(o->u->seed, external_id,
			strlen(external_id))) != NULL)
		return 0;
	if ((o->ids[o->n] = strdup(external_id)) == NULL) {
		o->oom = 1;
		return 1;
	}
	return ++o->n == o->max;
}

/* Deletes the rows of dropped entries; none found among the oldest rows
 * means the count was off (a row merged into a new entry's), so it ends. */
static int prune(bs_unknown_t *u, bs_store_t *st)
{
	orphans_t o = { .u = u, .max = u->orphans < PRUNE_SCAN ? u->orphans : PRUNE_SCAN };
	int rc;

	if (o.max == 0)
		return BS_OK;
	if ((o.ids = calloc(o.max, sizeof(*o.ids))) == NULL)
		return BS_ERR_INTERNAL;
	rc = u->buckets != NULL ? bs_store_unknown_each(st, 0, PRUNE_SCAN, note_orphan, &o)
		: BS_OK;
	if (rc == BS_OK && o.oom)
		rc = BS_ERR_INTERNAL;
	for (size_t i = 0; rc == BS_OK && i < o.n; i++) {
		long deleted;
		if ((rc = bs_store_unknown_delete(st, o.ids[i], &deleted)) == BS_OK && deleted > 0)
			bs_unknown_row_gone(u);
	}
	if (rc == BS_OK && o.n == 0)
		u->orphans = 0;
	for (size_t i = 0; i < o.n; i++)
		free(o.ids[i]);
	free(o.ids);
	return rc;
}

/* A failed batch waits with the pending ones for the next hand-over. */
static void batch_back(bs_unknown_t *u)
{
	bs_unknown_entry_t *e;

	while ((e = u->batch.head) != NULL) {
		list_unlink(&u->batch, e, w_of);
		e->gen = u->gen;
		list_push_back(&u->pending, e, w_of);
	}
}

void bs_unknown_write(bs_unknown_t *u, bs_store_t *st, size_t max, int rotate,
		size_t *failed)
{
	bs_unknown_entry_t *e;
	size_t n = 0;
	int rc;

	*failed = 0;
	if (u->batch.n == 0 && rotate)
		bs_unknown_hand(u);
	if (u->batch.n == 0 && u->orphans == 0)
		return;
	rc = bs_store_begin(st);
	for (e = u->batch.head; rc == BS_OK && e != NULL && n < max; e = e->w.next, n++)
		rc = bs_store_unknown_put(st, e->id, e->first_seen, e->last_seen,
				e->attempts, e->address);
	if (rc == BS_OK && n == u->batch.n)
		rc = prune(u, st);
	if (rc == BS_OK)
		rc = bs_store_commit(st);
	if (rc != BS_OK) {
		bs_store_rollback(st);
		*failed = u->batch.n;
		batch_back(u);
		return;
	}
	while (n-- > 0) {
		e = u->batch.head;
		list_unlink(&u->batch, e, w_of);
		e->listed = 0;
		e->stored = 1;
		e->attempts = 0;
	}
}

size_t bs_unknown_count(const bs_unknown_t *u)
{
	return u->n;
}

size_t bs_unknown_bytes(const bs_unknown_t *u)
{
	return u->bytes + u->cap * sizeof(*u->buckets);
}

void bs_unknown_free(bs_unknown_t *u)
{
	bs_unknown_entry_t *e = u->lru.head;

	while (e != NULL) {
		bs_unknown_entry_t *next = e->lru.next;
		free(e);
		e = next;
	}
	free(u->buckets);
	memset(u, 0, sizeof(*u));
}
