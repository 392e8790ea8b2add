/*
 * Failed bootstrap attempts waiting for the next tick: an unknown external
 * ID, or a known one with a wrong key. Both are copied into one fixed ring
 * on the request path, and the unknown ones go to the unknown devices
 * (unknown.h) at the tick, so that remembering an unknown device costs the
 * request what a wrong key does (protocol 3: the two are indistinguishable
 * in timing). At most BS_ATTEMPTS_RING wait; past that the oldest are
 * dropped, and counted. Only the broker's thread uses the ring.
 */
#ifndef BS_ATTEMPTS_H
#define BS_ATTEMPTS_H

#include "model.h"
#include "unknown.h"

#include <stdint.h>
#include <time.h>

#define BS_ATTEMPTS_RING 1024

typedef struct {
	char external_id[BS_ID_MAX + 1];
	char address[BS_UNKNOWN_ADDR_LEN];
	time_t at;
	int unknown;
} bs_attempt_t;

typedef struct {
	bs_attempt_t *ring;     /* NULL when nothing is remembered */
	size_t head, n;
	uint64_t dropped;
} bs_attempts_t;

/* The ring, when unknown devices are remembered (on); BS_ERR_INTERNAL. */
int bs_attempts_init(bs_attempts_t *a, int on);

void bs_attempts_note(bs_attempts_t *a, const char *external_id, const char *address,
		time_t now, int unknown);

/* Every waiting attempt handed over: the unknown ones into u (with the
 * store lock held, as u needs); how many there were. */
size_t bs_attempts_drain(bs_attempts_t *a, bs_unknown_t *u);

void bs_attempts_free(bs_attempts_t *a);

#endif
