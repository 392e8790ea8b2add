/*
 * Statistics (protocol section 8): counters the request path bumps (one
 * increment each), and the figures read when they are published or asked
 * for (getStats): configs by state from the store, connected bootstrapped
 * clients, active lockouts.
 */
#ifndef BS_STATS_H
#define BS_STATS_H

#include <stdint.h>
#include <time.h>

struct bs_core;

enum {
	BS_STAT_OK, BS_STAT_UNAUTHORIZED, BS_STAT_DISABLED, BS_STAT_INVALID,
	BS_STAT_RATE_LIMITED, BS_STAT_ERROR, BS_STAT_OUTCOMES
};

typedef struct bs_stats {
	uint64_t requests[BS_STAT_OUTCOMES];  /* device requests by outcome */
	uint64_t challenges;                  /* nonces issued */
	uint64_t enrolled;                    /* configs made by enrollment */
	uint64_t certificates_issued;
} bs_stats_t;

/* The figures, in the order of the contract's table. */
#define BS_STATS_N 14

typedef struct bs_stat {
	const char *name;           /* the topic under $SYS/broker/bootstrap/ */
	long long value;
} bs_stat_t;

/* Counts one device request answered with rc (an error.h code). */
void bs_stats_request(bs_stats_t *s, int rc);

/* Every figure now. The configs' counts are read from the store when the
 * caller holds it (store_held: after bs_core_enter), else they are -1. */
void bs_stats_collect(struct bs_core *core, time_t now, int store_held,
		bs_stat_t out[BS_STATS_N]);

/* name with '/' replaced by '_' into out (getStats keys). */
const char *bs_stats_key(const char *name, char *out, size_t outlen);

#endif
