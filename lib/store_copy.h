/*
 * Moving a fleet from one store to another (SQLite to PostgreSQL and
 * back; tools/copy.c): every row of every table of lib/store_rows.h as
 * stored, the key check with them, so that the copy opens with the same
 * master key and every sealed secret is the same bytes. The used
 * challenge nonces are not copied.
 *
 * The copy is one transaction of the target: all of it or nothing. It is
 * refused, with nothing written, when from and to name the same store,
 * when key does not open from's key check, and when to holds a fleet
 * already (any row in those tables; a key check alone does not count, and
 * is replaced). A SQLite target that did not exist is removed again when
 * the copy fails. A SQLite source must exist.
 */
#ifndef BS_STORE_COPY_H
#define BS_STORE_COPY_H

#include "crypto.h"
#include "store_rows.h"

#include <stdint.h>

/* How many rows of bs_rows_tables[i] were copied, by i. */
typedef struct bs_copy_counts {
	long rows[16];
} bs_copy_counts_t;

/* from and to as db_path or db_url take them (bs_store_open). 0, or a
 * negative bs_err_t with the reason in err: BS_ERR_UNAUTHORIZED for the
 * wrong key, BS_ERR_CONFLICT for a target that holds a fleet or is the
 * source, BS_ERR_INVALID for a source that is not there. */
int bs_store_copy(const char *from, const char *to, const uint8_t key[BS_KEY_LEN],
		bs_copy_counts_t *counts, char *err, size_t errlen);

#endif
