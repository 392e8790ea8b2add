/*
 * The unknown devices (protocol 7.3): the external IDs of bootstrap
 * attempts that no config has, remembered in memory on the request path
 * (no write there) and written to the store in batches by the write-behind
 * thread (flusher.h), as bootstrap times are.
 *
 * At most max entries, in a hash map by external_id and a list from the
 * most to the least recently seen: an attempt finds its entry and moves it
 * to the front, or takes a new one; once the table is full the least
 * recently seen entry is dropped and its memory reused for the new ID, so
 * a flood of random IDs costs O(1) per attempt and no memory past the
 * bound. The map's buckets are made once, at the first attempt, for max
 * entries, and its hash is keyed with random bits drawn at start, so that
 * IDs chosen to collide cannot make one chain long.
 *
 * An entry changed since it was last written waits in the pending list;
 * bs_unknown_hand makes the pending ones the batch that bs_unknown_write
 * writes (an upsert adding the attempts since the last write), a slice at
 * a time. An entry dropped from memory after it was written leaves a row
 * behind: the writer deletes such rows, the least recently seen first, so
 * the store keeps what memory does.
 *
 * Every function but bs_unknown_count is called with the store lock held
 * (bs_core_enter, or the write-behind thread's slice); the count changes
 * only on the broker's thread. Never a key: an entry holds the ID, its
 * times, its attempts and the last client address.
 */
#ifndef BS_UNKNOWN_H
#define BS_UNKNOWN_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Bytes of a client address kept (IPv6 text with a zone fits); longer
 * ones are cut. */
#define BS_UNKNOWN_ADDR_LEN 64

typedef struct bs_unknown_entry bs_unknown_entry_t;

/* A list through the entries: LRU order, or a batch waiting to be written. */
typedef struct {
	bs_unknown_entry_t *head, *tail;
	size_t n;
} bs_unknown_list_t;

typedef struct bs_unknown {
	size_t max;                     /* 0: remember nothing */
	bs_unknown_entry_t **buckets;   /* cap of them, made at the first attempt */
	size_t cap;
	size_t n;                       /* entries in memory */
	uint64_t seed[2];               /* the hash's key */
	bs_unknown_list_t lru;          /* head: the most recently seen */
	bs_unknown_list_t pending;      /* changed since the last hand-over */
	bs_unknown_list_t batch;        /* handed over, being written */
	/* An entry on pending has gen, one on the batch an older one: a
	 * hand-over moves every pending entry at once. */
	uint32_t gen;
	size_t orphans;                 /* rows of entries no longer in memory */
	size_t bytes;                   /* of the entries, as allocated */
} bs_unknown_t;

/* An empty table for at most max entries, with a fresh hash key. */
int bs_unknown_init(bs_unknown_t *u, size_t max);

/* An attempt naming external_id (a valid one) from address (NULL: ""). */
void bs_unknown_seen(bs_unknown_t *u, const char *external_id,
		const char *address, time_t now);

/* Forgets external_id (NULL: every entry) in memory; returns 1 when an
 * entry that had a row was dropped. */
int bs_unknown_drop(bs_unknown_t *u, const char *external_id);

/* A row that no entry had was deleted from the store. */
void bs_unknown_row_gone(bs_unknown_t *u);

/* The max most recently seen rows of the store into memory (as written),
 * and the rows beyond them deleted: at start. */
int bs_unknown_load(bs_unknown_t *u, bs_store_t *st);

/* The pending entries become the batch, when the last one is written;
 * 1 when handed over. */
int bs_unknown_hand(bs_unknown_t *u);

/* Entries in the batch, and pending ones. */
size_t bs_unknown_waiting(const bs_unknown_t *u);
size_t bs_unknown_pending(const bs_unknown_t *u);

/*
 * Writes at most max entries of the batch in one transaction (when the
 * batch is empty and rotate is set, the pending ones become the batch
 * first); with the batch done, deletes the rows of dropped entries. On a
 * store failure nothing is lost: the batch goes back to the pending ones,
 * and *failed counts the entries not written.
 */
void bs_unknown_write(bs_unknown_t *u, bs_store_t *st, size_t max, int rotate,
		size_t *failed);

/* Entries remembered now. */
size_t bs_unknown_count(const bs_unknown_t *u);
/* The bytes the table holds (entries, as allocated, and buckets). */
size_t bs_unknown_bytes(const bs_unknown_t *u);

void bs_unknown_free(bs_unknown_t *u);

/* Forgets external_id in memory and in the store (admin_unknown.c): when
 * a config with it is created, by an admin or by enrollment. With the
 * store lock held; a store failure is logged. */
struct bs_core;
void bs_unknown_forget(struct bs_core *core, const char *external_id);
/* The same when its rows in the store were deleted already (deleted of
 * them, by an enrollment's transaction): in memory only. */
void bs_unknown_forgotten(struct bs_core *core, const char *external_id, long deleted);

#endif
