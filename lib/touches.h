/*
 * Recorded bootstraps waiting to be written as last_bootstrap_at. Writing
 * one per request, on a random page of a large table, cost more than the
 * rest of the request; so they are collected, sorted by config so that each
 * page is written once, and written in slices small enough not to hold the
 * broker up: bootstraps recorded while one batch is being written wait for
 * the next.
 */
#ifndef BS_TOUCHES_H
#define BS_TOUCHES_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct bs_touch {
	int64_t config_id;      /* bs_config_t.id */
	time_t when;
} bs_touch_t;

typedef struct bs_touch_list {
	bs_touch_t *v;
	size_t n, cap;
} bs_touch_list_t;

typedef struct bs_touches {
	bs_touch_list_t pending;    /* recorded since the last rotation */
	bs_touch_list_t writing;    /* sorted, being written from cursor on */
	size_t cursor;
} bs_touches_t;

/* Records one bootstrap; BS_ERR_INTERNAL when out of memory (it is lost). */
int bs_touches_add(bs_touches_t *t, int64_t config_id, time_t when);

/* How many wait, in both lists. */
size_t bs_touches_waiting(const bs_touches_t *t);

/*
 * Writes at most max of the batch being written, in one transaction. When
 * that batch is done and rotate is set, the pending ones become the next
 * batch first. Returns 1 when it rotated, 0 otherwise; a store failure is
 * logged by the caller through *failed (how many were dropped).
 */
int bs_touches_write(bs_touches_t *t, bs_store_t *st, size_t max, int rotate,
		size_t *failed);

void bs_touches_free(bs_touches_t *t);

#endif
