/*
 * Recorded bootstraps waiting to be written as last_bootstrap_at. Writing
 * one per request, on a random page of a large table, cost more than the
 * rest of the request; so they are collected for a while and written in
 * config order, so that each page of the table is written once, in slices
 * (by the write-behind thread, flusher.h). Bootstraps recorded while one
 * batch is being written wait for the next.
 *
 * They are kept by config id, in pages of BS_TOUCH_PAGE ids allocated when
 * a config in their range bootstraps and freed once written: a config
 * bootstrapped many times waits once, with its newest time, and memory
 * follows the number of configs bootstrapped since the last batch (about
 * 4.1 bytes each when they are dense), not the request rate.
 */
#ifndef BS_TOUCHES_H
#define BS_TOUCHES_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BS_TOUCH_PAGE 4096

typedef struct bs_touch_page {
	int64_t first;                          /* its first config id */
	size_t count;                           /* ids waiting in it */
	uint64_t waiting[BS_TOUCH_PAGE / 64];   /* a bit per id */
	uint32_t when[BS_TOUCH_PAGE];           /* seconds since 1970 */
} bs_touch_page_t;

typedef struct bs_touch_map {
	bs_touch_page_t **pages;   /* sorted by first; written ones are NULL */
	size_t n, cap;
	size_t count;              /* ids waiting in all pages */
	size_t last;               /* where the last lookup landed */
} bs_touch_map_t;

typedef struct bs_touches {
	bs_touch_map_t pending;    /* recorded since the last rotation */
	bs_touch_map_t writing;    /* the batch, written in id order */
	size_t page, bit;          /* where writing goes on */
	size_t batch;              /* how many the batch held when it began */
} bs_touches_t;

/* Records one bootstrap; BS_ERR_INTERNAL when out of memory and
 * BS_ERR_INVALID for a negative id (it is lost either way). */
int bs_touches_add(bs_touches_t *t, int64_t config_id, time_t when);

/* How many wait, in both maps. */
size_t bs_touches_waiting(const bs_touches_t *t);

/*
 * Writes at most max of the batch being written, in one transaction, in id
 * order. When that batch is done and rotate is set, the pending ones become
 * the next batch first. Returns 1 when it rotated, 0 otherwise; a store
 * failure is logged by the caller through *failed (how many were dropped).
 */
int bs_touches_write(bs_touches_t *t, bs_store_t *st, size_t max, int rotate,
		size_t *failed);

void bs_touches_free(bs_touches_t *t);

#endif
