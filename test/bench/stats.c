/*
 * Latency samples and percentiles. The array is allocated once per run and
 * never grows: a long phase must not turn into a memory benchmark of its
 * own, so past its capacity it becomes a uniform reservoir.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int lat_init(bench_lat_t *l, size_t cap)
{
	l->ns = calloc(cap, sizeof(*l->ns));
	if (l->ns == NULL) {
		fprintf(stderr, "bench: out of memory for %zu latency samples\n", cap);
		return -1;
	}
	l->cap = cap;
	lat_reset(l);
	return 0;
}

void lat_reset(bench_lat_t *l)
{
	l->len = 0;
	l->seen = 0;
	l->max = 0;
	l->rng = 0x9E3779B97F4A7C15ULL;
	l->sorted = false;
}

void lat_add(bench_lat_t *l, uint64_t ns)
{
	l->seen++;
	if (ns > l->max)
		l->max = ns;
	l->sorted = false;
	if (l->len < l->cap) {
		l->ns[l->len++] = ns;
		return;
	}
	/* Algorithm R: keep each of the seen samples with probability cap/seen. */
	uint64_t j = bench_rand(&l->rng) % l->seen;
	if (j < l->cap)
		l->ns[j] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t lat_percentile(bench_lat_t *l, double p)
{
	size_t i;

	if (l->len == 0)
		return 0;
	if (!l->sorted) {
		qsort(l->ns, l->len, sizeof(*l->ns), cmp_u64);
		l->sorted = true;
	}
	/* Nearest rank: the smallest sample with at least p of them at or below. */
	i = (size_t)(p * (double)l->len + 0.999999);
	if (i > 0)
		i--;
	if (i >= l->len)
		i = l->len - 1;
	return l->ns[i];
}

void phase_add_time(bench_phase_t *p, bench_lat_t *lat, double seconds)
{
	p->ran = true;
	p->seconds += seconds;
	p->rps = p->seconds > 0 ? (double)p->requests / p->seconds : 0;
	p->p50_us = (double)lat_percentile(lat, 0.50) / 1e3;
	p->p99_us = (double)lat_percentile(lat, 0.99) / 1e3;
	p->max_us = (double)lat->max / 1e3;
}

void lat_free(bench_lat_t *l)
{
	free(l->ns);
	l->ns = NULL;
	l->cap = 0;
	l->len = 0;
}
