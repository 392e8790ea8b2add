/*
 * The unknown_devices table (schema 008, protocol 7.3): what unknown.c
 * writes in batches and listUnknown reads. Times are Unix seconds.
 */
#ifndef BS_STORE_UNKNOWN_H
#define BS_STORE_UNKNOWN_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct {
	char *external_id;
	char *address;
	time_t first_seen, last_seen;
	int64_t attempts;
} bs_unknown_row_t;

/* Adds attempts to external_id's row, made when missing: the earliest
 * first_seen and the latest last_seen are kept, and the address given. */
int bs_store_unknown_put(bs_store_t *st, const char *external_id, time_t first_seen,
		time_t last_seen, int64_t attempts, const char *address);

/* Deletes external_id's row (NULL: every row); *deleted counts them. */
int bs_store_unknown_delete(bs_store_t *st, const char *external_id, long *deleted);

int bs_store_unknown_count(bs_store_t *st, long *total);

/* A page of rows, the most recently seen first (ties by external_id);
 * free it with bs_unknown_rows_free. */
int bs_store_unknown_list(bs_store_t *st, long offset, long limit,
		bs_unknown_row_t **out, size_t *n);
void bs_unknown_rows_free(bs_unknown_row_t *rows, size_t n);

/* Calls fn for each of the first limit rows, the most recently seen first
 * (newest) or the least recently seen first; fn's strings live for the
 * call only. A non-zero return of fn stops the walk. */
typedef int (*bs_unknown_row_fn)(void *arg, const char *external_id,
		time_t first_seen, time_t last_seen, const char *address);
int bs_store_unknown_each(bs_store_t *st, int newest, long limit,
		bs_unknown_row_fn fn, void *arg);

/* Deletes every row but the keep most recently seen; *deleted counts them. */
int bs_store_unknown_trim(bs_store_t *st, long keep, long *deleted);

#endif
