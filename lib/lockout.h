/*
 * The lockout (protocol section 6): failed attempts counted per (external
 * ID, client address) pair. max_failures failures within lockout_seconds
 * lock the pair out for lockout_seconds, doubling on each repeat up to an
 * hour; a success forgets the pair. A pair is checked before any key work.
 *
 * Pairs live in a ring of BS_LOCKOUT_MAX slots in the order they first
 * failed: under a flood of distinct IDs or addresses the oldest pair that
 * is not locked out is dropped to make room (a locked one only when the
 * next BS_LOCKOUT_PROBE slots are all locked), so memory never grows past
 * the ring, and flooding does not easily free a pair that is locked.
 */
#ifndef BS_LOCKOUT_H
#define BS_LOCKOUT_H

#include "hmap.h"

#include <stddef.h>
#include <time.h>

#define BS_LOCKOUT_MAX 100000
#define BS_LOCKOUT_PROBE 8
#define BS_LOCKOUT_CAP 3600       /* seconds: the longest lockout */

typedef struct bs_lock_slot {
	bs_hnode_t node;              /* first: by key */
	char *key;                    /* address NUL-separated from external_id; NULL: free */
	time_t window_start;
	time_t locked_until;
	unsigned failures;
	unsigned strikes;             /* lockouts so far: each doubles the next */
} bs_lock_slot_t;

typedef struct bs_lockout {
	bs_lock_slot_t *ring;         /* BS_LOCKOUT_MAX slots, made at the first failure */
	size_t next;
	bs_hmap_t pairs;
	int max_failures;             /* 0: no lockout */
	int seconds;
} bs_lockout_t;

/* Seconds the pair must still wait (0: it may try now). */
long bs_lockout_wait(const bs_lockout_t *l, const char *external_id,
		const char *address, time_t now);

/* A failed attempt by the pair. */
void bs_lockout_failed(bs_lockout_t *l, const char *external_id,
		const char *address, time_t now);

/* A success: the pair starts afresh. */
void bs_lockout_passed(bs_lockout_t *l, const char *external_id,
		const char *address);

/* Pairs locked out at now, and the bytes the table holds. */
size_t bs_lockout_active(const bs_lockout_t *l, time_t now);
size_t bs_lockout_bytes(const bs_lockout_t *l);

void bs_lockout_free(bs_lockout_t *l);

#endif
