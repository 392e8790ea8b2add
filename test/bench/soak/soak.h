/*
 * soak: the plugin under a long, mixed device load, then under payload
 * bombs, on a broker of its own; built on the bench engine (../bench.h).
 */
#ifndef SOAK_H
#define SOAK_H

#include "../bench.h"

/* What a flood request is, and so which reply it deserves. */
enum {
	K_VALID, K_WRONG_KEY, K_NOT_JSON, K_TRUNCATED, K_OVERSIZED, K_WRONG_TYPE,
	K_COUNT
};

typedef struct {
	bench_opts_t bench;         /* host, port, admin login: for admin_import */
	int connections;
	size_t configs;             /* seeded configs the valid requests pick from */
	double seconds;
	double sample_s;            /* between memory samples */
	bool bombs;
} soak_opts_t;

typedef struct {
	double t;                   /* seconds since the flood started */
	long anon_kib;              /* the broker's RssAnon */
	long rss_kib;               /* its VmRSS */
	uint64_t replies;           /* so far */
} soak_sample_t;

typedef struct {
	uint64_t sent[K_COUNT];
	uint64_t right[K_COUNT];    /* the reply the request deserves */
	uint64_t wrong[K_COUNT];    /* any other reply */
	uint64_t lost[K_COUNT];     /* none within the timeout */
	uint64_t late;              /* a reply after its request was given up */
	uint64_t stray;             /* a reply naming no request of ours */
	double seconds;             /* issuing, then the drain */
	bench_lat_t lat;            /* of the valid requests */
	soak_sample_t *samples;
	size_t nsamples, cap;
	bool lost_connection;
} soak_flood_t;

const char *soak_kind_name(int kind);
/* Runs the flood; -1 when it could not run to its end (a connection lost
 * counts: out->lost_connection). */
int soak_flood(const soak_opts_t *o, const bench_broker_t *b, soak_flood_t *out);
void soak_flood_free(soak_flood_t *f);

typedef struct {
	const char *name;
	const char *topic;          /* where it went */
	size_t bytes;
	double ms;                  /* publish to reply */
	long before_kib;            /* VmRSS before */
	long peak_kib;              /* VmHWM, reset before the bomb */
	long after_kib;             /* VmRSS once answered */
	char reply[200];            /* the answer's error and message, shortened */
	bool answered_right;
} soak_bomb_t;

#define SOAK_BOMBS 10

typedef struct {
	soak_bomb_t bomb[SOAK_BOMBS];
	size_t n;
	long anon_before_kib, anon_after_kib;
	bool alive_after;           /* a valid bootstrap answered after the bombs */
} soak_bombs_t;

int soak_bombs(const soak_opts_t *o, const bench_broker_t *b, soak_bombs_t *out);

#endif
