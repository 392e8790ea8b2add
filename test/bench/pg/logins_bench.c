/*
 * What the login replica (lib/logins.h) costs at --configs configs on
 * PostgreSQL: the configs written through the store (their secrets sealed
 * as an import seals them) on a throwaway server, then the replica loaded
 * on its own thread from a store connection of its own, as a broker does
 * at start. Prints the load's time, the bytes the replica counts, and the
 * growth of this process's RssAnon across the load (the store connection
 * and the thread's stack are in it too).
 *
 *   logins_bench [--configs 100000]
 */
#include "error.h"
#include "logins.h"
#include "pg_server.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 5000

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* RssAnon of this process in kB, or -1. */
static long rss_anon_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

static int seed(bs_store_t *st, long n)
{
	bs_channel_t ch = { .id = "telemetry", .name = "Telemetry", .metadata = "{}" };
	int rc = bs_store_channel_insert(st, &ch, "2026-01-01T00:00:00Z");

	for (long i = 0; rc == BS_OK && i < n; i += BATCH) {
		rc = bs_store_begin(st);
		for (long j = i; rc == BS_OK && j < i + BATCH && j < n; j++) {
			bs_channel_t link = { .id = "telemetry" };
			bs_config_t c = { .channels = &link, .nchannels = 1, .enabled = 1 };
			char ext[32], client[48];

			snprintf(ext, sizeof(ext), "00:1A:%08lX", j);
			snprintf(client, sizeof(client), "device-%08ld", j);
			c.client_id = client;
			c.external_id = ext;
			c.name = ext;
			c.client_secret = "Zk3v9Qw2Lr8Tn5Yb1Hc7Mx4Ds6Fa0Ge2Jp9Ku3Wq8Rt";
			c.external_key = "ek-0123456789abcdef012345";
			c.content = "{\"interval\": 30}";
			snprintf(c.created_at, BS_TIME_LEN, "2026-01-01T00:00:00Z");
			snprintf(c.updated_at, BS_TIME_LEN, "2026-01-01T00:00:00Z");
			rc = bs_store_config_insert(st, &c);
		}
		rc = rc == BS_OK ? bs_store_commit(st) : rc;
	}
	if (rc != BS_OK)
		fprintf(stderr, "seed: %s\n", bs_store_errmsg(st));
	return rc;
}

int main(int argc, char **argv)
{
	long n = argc > 2 && strcmp(argv[1], "--configs") == 0 ? atol(argv[2]) : 100000;
	uint8_t key[BS_KEY_LEN];
	bs_pg_server_t server;
	bs_store_t *st = NULL, *own = NULL;
	bs_logins_t *l = NULL;
	bs_logins_source_t src;
	bs_logins_stats_t s;
	char url[256], err[256];
	double t0, t1;
	long before, after;
	int rc = 1;

	memset(key, 7, sizeof(key));
	if (n < 1 || bs_pg_server_start(&server) != 0)
		return 1;
	if (bs_pg_server_createdb(&server, "logins", NULL, url, sizeof(url)) != 0
			|| bs_store_open(url, key, &st, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, "store: %s\n", err);
		goto out;
	}
	t0 = now_ms();
	if (seed(st, n) != BS_OK)
		goto out;
	printf("seeded %ld configs in %.1f s\n", n, (now_ms() - t0) / 1e3);
	if (bs_store_open(url, key, &own, err, sizeof(err)) != BS_OK
			|| bs_logins_new(&l) != BS_OK)
		goto out;
	before = rss_anon_kb();
	bs_logins_source_store(own, &src);
	t0 = now_ms();
	if (bs_logins_start(l, &src, NULL, NULL, NULL, NULL) != BS_OK)
		goto out;
	while (!bs_logins_loaded(l) && now_ms() - t0 < 600000) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		bs_logins_tick(l);
	}
	t1 = now_ms();
	after = rss_anon_kb();
	bs_logins_stats(l, &s);
	if (s.configs != (size_t)n) {
		fprintf(stderr, "loaded %zu of %ld configs\n", s.configs, n);
		goto out;
	}
	printf("replica of %zu configs: loaded in %.0f ms (thread %lld ms), %zu bytes "
			"counted (%.0f a config), RssAnon +%ld kB (%.0f bytes a config)\n",
			s.configs, t1 - t0, s.load_ms, s.bytes, (double)s.bytes / (double)n,
			after - before, (double)(after - before) * 1024 / (double)n);
	rc = 0;
out:
	bs_logins_free(l);
	bs_store_close(own);
	bs_store_close(st);
	bs_pg_server_stop(&server);
	return rc;
}
