/*
 * What a bootstrap's lookup costs on the PostgreSQL backend: config_get
 * by external_id in BS_VIEW_DEVICE, on a throwaway server holding
 * --configs configs, for --seconds each:
 *
 *   - with 1, 2 and 4 connections (--threads), each on its own thread,
 *     one lookup at a time, as the backend's op does it;
 *   - on one connection in libpq's pipeline mode, --depth lookups in
 *     flight, the same prepared statement (the rows are counted, not
 *     copied into a config).
 *
 * Each phase prints lookups per second, the median and 99th percentile
 * latency, and how many statements pg_stat_statements counted per lookup.
 * The server shares the machine's cores with the benchmark. After the
 * load it prints what the configs take on the server's disk (the
 * database's growth, tables and indexes), for capacity estimates.
 */
#define _GNU_SOURCE

#include "error.h"
#include "pg_server.h"
#include "store_pg_int.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 16
#define MAX_SAMPLES (1u << 21)
#define BATCH 5000

static long nconfigs = 100000;
static double seconds = 3;
static int depth = 16;
static char threads_arg[64] = "1,2,4";
static char url[256];
static bs_pg_server_t server;

typedef struct {
	bs_backend_t *b;
	uint64_t seed;
	uint32_t *lat;          /* nanoseconds */
	size_t n;
	long failed;
} worker_t;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void external_id(long i, char out[32])
{
	snprintf(out, 32, "00:1A:%02lX:%02lX:%02lX:%02lX", (i >> 24) & 0xff,
			(i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

static void fill_blob(bs_blob_t *b, size_t len, long seed)
{
	b->data = malloc(len);
	b->len = len;
	for (size_t i = 0; i < len; i++)
		b->data[i] = (uint8_t)(seed * 31 + (long)i * 7);
}

/* Configs as an import makes them: a channel, content, sealed secrets of
 * the sizes the vault writes (iv 12 + text + tag 16). */
static int load(bs_backend_t *b)
{
	bs_channel_t ch = { .id = "telemetry", .name = "Telemetry", .metadata = "{}" };
	double t0 = now_s();
	int rc = b->ops->channel_insert(b, &ch, "2026-01-01T00:00:00Z");

	for (long i = 0; rc == BS_OK && i < nconfigs; i += BATCH) {
		rc = b->ops->begin(b);
		for (long j = i; rc == BS_OK && j < i + BATCH && j < nconfigs; j++) {
			bs_channel_t link = { .id = "telemetry" };
			bs_config_t c = { .channels = &link, .nchannels = 1, .enabled = 1 };
			bs_config_blobs_t s = { 0 };
			char ext[32], client[48];

			external_id(j, ext);
			snprintf(client, sizeof(client), "device-%08ld", j);
			c.client_id = client;
			c.external_id = ext;
			c.name = ext;
			c.content = "{\"interval\": 30, \"site\": \"plant-1\"}";
			snprintf(c.created_at, BS_TIME_LEN, "2026-01-01T00:00:00Z");
			snprintf(c.updated_at, BS_TIME_LEN, "2026-01-01T00:00:00Z");
			fill_blob(&s.secret, 12 + 43 + 16, j);
			fill_blob(&s.external_key, 12 + 24 + 16, j + 1);
			rc = b->ops->config_insert(b, &c, &s);
			bs_config_blobs_clear(&s);
		}
		if (rc == BS_OK)
			rc = b->ops->commit(b);
	}
	if (rc != BS_OK) {
		fprintf(stderr, "load: %s\n", b->errmsg);
		return -1;
	}
	printf("loaded %ld configs in %.1f s (%.0f inserts/s, batches of %d)\n", nconfigs,
			now_s() - t0, (double)nconfigs / (now_s() - t0), BATCH);
	return bs_pg_server_exec(&server, "bench", "VACUUM ANALYZE");
}

static void *lookups(void *arg)
{
	worker_t *w = arg;
	double end = now_s() + seconds;

	while (now_s() < end) {
		bs_config_t c;
		bs_config_blobs_t s;
		char ext[32];
		uint64_t t0 = now_ns();

		external_id((long)(next_rand(&w->seed) % (uint64_t)nconfigs), ext);
		if (w->b->ops->config_get(w->b, NULL, ext, BS_VIEW_DEVICE, &c, &s) != BS_OK)
			w->failed++;
		if (w->n < MAX_SAMPLES)
			w->lat[w->n++] = (uint32_t)(now_ns() - t0);
		bs_config_clear(&c);
		bs_config_blobs_clear(&s);
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Statements the server ran in the bench database since the last reset. */
static long statements(PGconn *stats)
{
	PGresult *r = PQexec(stats, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
			"WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench') "
			"AND query NOT LIKE '%pg_stat_statements%'");
	long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atol(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	return n;
}

static void reset_stats(PGconn *stats)
{
	PQclear(PQexec(stats, "SELECT pg_stat_statements_reset()"));
}

static void report(const char *what, worker_t *w, int n, double elapsed, PGconn *stats)
{
	size_t total = 0, at = 0;
	long failed = 0, stmts = statements(stats);
	uint32_t *all;

	for (int i = 0; i < n; i++)
		total += w[i].n;
	all = malloc(total * sizeof(*all) + 1);
	for (int i = 0; i < n; i++) {
		memcpy(all + at, w[i].lat, w[i].n * sizeof(*all));
		at += w[i].n;
		failed += w[i].failed;
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	printf("%-22s %9.0f lookups/s  p50 %6.1f us  p99 %7.1f us  %.2f statements/lookup"
			"%s\n", what, (double)total / elapsed,
			total ? all[total / 2] / 1000.0 : 0, total ? all[total * 99 / 100] / 1000.0 : 0,
			total ? (double)stmts / (double)total : 0, failed ? "  (failures!)" : "");
	free(all);
}

static int threaded(int n, PGconn *stats)
{
	worker_t w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	char err[512], what[32];
	double t0;

	memset(w, 0, sizeof(w));
	for (int i = 0; i < n; i++) {
		w[i].seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		w[i].lat = malloc(MAX_SAMPLES * sizeof(uint32_t));
		if (bs_pg_open(url, &w[i].b, err, sizeof(err)) != BS_OK) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	reset_stats(stats);
	t0 = now_s();
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, lookups, &w[i]);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	snprintf(what, sizeof(what), "%d connection%s", n, n > 1 ? "s" : "");
	report(what, w, n, now_s() - t0, stats);
	for (int i = 0; i < n; i++) {
		w[i].b->ops->close(w[i].b);
		free(w[i].lat);
	}
	return 0;
}

/* Sends one lookup and its sync: each runs in a transaction of its own,
 * as outside the pipeline. */
static int send_lookup(PGconn *c, const char *name, uint64_t *seed)
{
	char ext[32];
	const char *values[1] = { ext };
	int formats[1] = { 0 };

	external_id((long)(next_rand(seed) % (uint64_t)nconfigs), ext);
	return PQsendQueryPrepared(c, name, 1, values, NULL, formats, 1)
		&& PQpipelineSync(c);
}

/* One lookup's results: its rows, the NULL that ends them, its sync. */
static int read_lookup(PGconn *c)
{
	PGresult *r;
	int ok = 0, rows = 0;

	while ((r = PQgetResult(c)) == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		if (r != NULL && !rows++)
			ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
		if (r == NULL && PQstatus(c) != CONNECTION_OK)
			return 0;
		PQclear(r);
	}
	PQclear(r);
	return ok;
}

static int pipelined(PGconn *stats)
{
	worker_t w = { .seed = 42 };
	bs_backend_t *b;
	PGconn *c;
	uint64_t sent_at[256];
	char err[512], name[8], what[32];
	double t0, end;
	long head = 0, tail = 0;

	if (bs_pg_open(url, &b, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	c = ((bs_pg_t *)b)->conn;
	bs_pg_stmt_name(PG_CFG_DEVICE_EXT, name);
	w.lat = malloc(MAX_SAMPLES * sizeof(uint32_t));
	reset_stats(stats);
	if (!PQenterPipelineMode(c))
		return -1;
	t0 = now_s();
	end = t0 + seconds;
	while (head - tail < depth && send_lookup(c, name, &w.seed))
		sent_at[head++ % 256] = now_ns();
	while (tail < head) {
		if (!read_lookup(c))
			w.failed++;
		if (w.n < MAX_SAMPLES)
			w.lat[w.n++] = (uint32_t)(now_ns() - sent_at[tail % 256]);
		tail++;
		if (now_s() < end && send_lookup(c, name, &w.seed))
			sent_at[head++ % 256] = now_ns();
	}
	PQexitPipelineMode(c);
	snprintf(what, sizeof(what), "pipeline, depth %d", depth);
	report(what, &w, 1, now_s() - t0, stats);
	free(w.lat);
	b->ops->close(b);
	return 0;
}

/* The database's size on the server's disk, tables and indexes, or -1. */
static double db_size(PGconn *stats)
{
	PGresult *r = PQexec(stats, "SELECT pg_database_size(current_database())");
	double bytes = -1;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		bytes = atof(PQgetvalue(r, 0, 0));
	PQclear(r);
	return bytes;
}

static int args(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--configs") == 0)
			nconfigs = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--depth") == 0)
			depth = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			snprintf(threads_arg, sizeof(threads_arg), "%s", argv[i + 1]);
		else
			return -1;
	}
	if (depth < 1 || depth > 256 || nconfigs < 1 || seconds <= 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	bs_backend_t *b = NULL;
	PGconn *stats = NULL;
	double empty;
	char err[512], stats_url[300];
	int rc = 1;

	if (args(argc, argv) != 0) {
		fprintf(stderr, "usage: pg_lookup [--configs N] [--seconds S] [--threads 1,2,4] "
				"[--depth D]\n");
		return 2;
	}
	if (bs_pg_server_start(&server) != 0
			|| bs_pg_server_createdb(&server, "bench", NULL, url, sizeof(url)) != 0
			|| bs_pg_server_exec(&server, "bench", "CREATE EXTENSION pg_stat_statements") != 0)
		goto out;
	if (bs_pg_open(url, &b, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	snprintf(stats_url, sizeof(stats_url), "%s", url);
	stats = PQconnectdb(stats_url);
	empty = db_size(stats);
	if (load(b) != 0)
		goto out;
	printf("database: %.1f MiB more than empty, %.0f bytes a config\n",
			(db_size(stats) - empty) / (1 << 20), (db_size(stats) - empty) / (double)nconfigs);
	printf("PostgreSQL %d, %ld configs, %.0f s per phase, config_get by external_id "
			"in BS_VIEW_DEVICE:\n", PQserverVersion(stats) / 10000, nconfigs, seconds);
	for (char *p = threads_arg; *p != '\0'; ) {
		int n = atoi(p);
		if (n >= 1 && n <= MAX_THREADS && threaded(n, stats) != 0)
			goto out;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	rc = pipelined(stats) == 0 ? 0 : 1;
out:
	PQfinish(stats);
	if (b != NULL)
		b->ops->close(b);
	bs_pg_server_stop(&server);
	return rc;
}
