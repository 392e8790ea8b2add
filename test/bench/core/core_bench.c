/*
 * The core alone, without a broker: seeds N configs through admin batches,
 * then runs bootstrap requests for random devices through bs_device_handle
 * and reports the rate, so that the plugin's own cost per request can be
 * told apart from the broker's (make bench measures both together), and
 * profiled: valgrind --tool=callgrind --toggle-collect=bs_device_handle.
 *
 *   core_bench [N configs, default 10000] [requests, default 200000]
 *              [timing samples, default 0]
 *
 * After seeding it closes the core and opens it again, as a broker start
 * does, and reports how long that took. With timing samples, it then times unauthorized requests one at a time,
 * an unknown external ID and a known one with a wrong key interleaved, and
 * prints the percentiles of both, which must not tell them apart.
 */
#include "admin.h"
#include "bench_core.h"
#include "device.h"
#include "error.h"
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A line of /proc/self/status in KiB ("RssAnon", "RssFile"), or -1. */
static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	size_t len = strlen(field);
	long kib = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			kib = atol(line + len + 1);
	if (f != NULL)
		fclose(f);
	return kib;
}

static long long now_ms(void)
{
	return (long long)(bench_now() * 1000);
}

static bs_core_t *open_core(const char *dir)
{
	char db[256], key[256];

	snprintf(db, sizeof(db), "%s/bootstrap.db", dir);
	snprintf(key, sizeof(key), "%s/bootstrap.key", dir);
	return bench_core_open(db, key, NULL);
}

static int run_admin(bs_core_t *core, const char *text, size_t len)
{
	bs_admin_ctx_t ctx = { .username = "bench", .client_id = "core_bench",
		.now = time(NULL) };
	bs_admin_result_t res;
	int rc = bs_admin_handle(core, &ctx, text, len, &res);

	if (rc == BS_OK && strstr(res.payload, "\"error\"") != NULL)
		rc = BS_ERR_INTERNAL;
	bs_admin_result_free(&res);
	return rc;
}

/* Devices bench-%08d with one channel, enabled, 5,000 per batch. */
static int seed(bs_core_t *core, long n)
{
	static const char channel[] = "{\"commands\":[{\"command\":\"createChannel\","
		"\"id\":\"telemetry\",\"name\":\"Telemetry\"}]}";
	size_t cap = 5000 * 260 + 64;
	char *buf = malloc(cap);
	int rc = buf ? run_admin(core, channel, strlen(channel)) : BS_ERR_INTERNAL;

	for (long b = 0; rc == BS_OK && b < n; b += 5000) {
		size_t len = (size_t)snprintf(buf, cap, "{\"commands\":[");
		for (long i = b; i < b + 5000 && i < n; i++)
			len += (size_t)snprintf(buf + len, cap - len, "%s{\"command\":"
					"\"createConfig\",\"client_id\":\"bench-%08ld\",\"external_id\":"
					"\"ext-%08ld\",\"external_key\":\"key-%08ld-secret\",\"channels\":"
					"[\"telemetry\"]},{\"command\":\"enableConfig\",\"client_id\":"
					"\"bench-%08ld\"}", i > b ? "," : "", i, i, i, i);
		len += (size_t)snprintf(buf + len, cap - len, "]}");
		rc = run_admin(core, buf, len);
	}
	free(buf);
	return rc;
}

/* Seconds spent in bs_core_tick, handing bootstrap times to the thread. */
static double tick_seconds;

/* The database and its write-ahead log, in MiB. */
static double db_mib(const char *dir)
{
	static const char *const files[] = { "bootstrap.db", "bootstrap.db-wal" };
	double total = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st) == 0)
			total += (double)st.st_size;
	}
	return total / (1024 * 1024);
}

static long bootstrap(bs_core_t *core, long n, long requests)
{
	long bad = 0;
	long long last_tick = now_ms();

	for (long r = 0; r < requests; r++) {
		char req[160];
		long i = random() % n;
		int len = snprintf(req, sizeof(req), "{\"external_id\":\"ext-%08ld\","
				"\"external_key\":\"key-%08ld-secret\",\"id\":\"%ld\"}", i, i, r);
		bs_request_ctx_t ctx = { "device", "127.0.0.1", NULL, time(NULL) };
		bs_reply_t reply;

		if (bs_device_handle(core, &ctx, req, (size_t)len, &reply) != BS_OK
				|| reply.err != BS_OK)
			bad++;
		bs_reply_free(&reply);
		/* As the plugin's tick does. */
		if ((r & 63) == 0 && now_ms() - last_tick >= BS_TICK_MS) {
			double t = bench_now();

			last_tick = now_ms();
			bs_core_tick(core, last_tick);
			tick_seconds += bench_now() - t;
		}
	}
	return bad;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* One request's time in ns; its reply must be unauthorized. */
static long timed(bs_core_t *core, const char *req, int len, long *bad)
{
	bs_request_ctx_t ctx = { "device", "127.0.0.1", NULL, time(NULL) };
	bs_reply_t reply;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (bs_device_handle(core, &ctx, req, (size_t)len, &reply) != BS_OK
			|| reply.err != BS_ERR_UNAUTHORIZED)
		(*bad)++;
	clock_gettime(CLOCK_MONOTONIC, &b);
	bs_reply_free(&reply);
	return (b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec);
}

static void report(const char *what, long *ns, long n)
{
	qsort(ns, (size_t)n, sizeof(*ns), cmp_long);
	printf("  %-26s p10 %6ld  p25 %6ld  p50 %6ld  p75 %6ld  p90 %6ld ns\n", what,
			ns[n / 10], ns[n / 4], ns[n / 2], ns[3 * n / 4], ns[9 * n / 10]);
}

/* Unknown external IDs and wrong keys, interleaved so that both meet the
 * same cache and CPU state; the lockout is off, every request failing. */
static long timing(bs_core_t *core, long n, long samples)
{
	long *unknown = calloc((size_t)samples, sizeof(long));
	long *wrong = calloc((size_t)samples, sizeof(long));
	long bad = 0;

	if (unknown == NULL || wrong == NULL)
		return samples;
	long long last_tick = now_ms();

	core->lockout.max_failures = 0;
	for (long r = 0; r < samples; r++) {
		char req[160];
		long i = random() % n;
		/* As the plugin's tick does. */
		if (now_ms() - last_tick >= BS_TICK_MS) {
			last_tick = now_ms();
			bs_core_tick(core, last_tick);
		}
		int len = snprintf(req, sizeof(req), "{\"external_id\":\"ext-%08ld\","
				"\"external_key\":\"key-%08ld-secret\"}", i + n, i);
		unknown[r] = timed(core, req, len, &bad);
		len = snprintf(req, sizeof(req), "{\"external_id\":\"ext-%08ld\","
				"\"external_key\":\"key-%08ld-secreT\"}", i, i);
		wrong[r] = timed(core, req, len, &bad);
	}
	printf("%ld unauthorized requests of each kind, interleaved:\n", samples);
	report("unknown external_id", unknown, samples);
	report("known id, wrong key", wrong, samples);
	free(unknown);
	free(wrong);
	return bad;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	long requests = argc > 2 ? atol(argv[2]) : 200000;
	long samples = argc > 3 ? atol(argv[3]) : 0;
	char dir[] = "/tmp/bs-core-XXXXXX";
	bs_core_t *core;
	double t0, t1;
	long bad, anon, file;
	int rc = 1;

	if (n < 1 || requests < 1 || mkdtemp(dir) == NULL)
		return 2;
	if ((core = open_core(dir)) == NULL)
		goto out;
	t0 = bench_now();
	if (seed(core, n) != BS_OK) {
		fprintf(stderr, "core_bench: seeding failed\n");
		goto out;
	}
	t1 = bench_now();
	printf("seeded %ld configs in %.1f s (%.0f configs/s), database %.0f MiB\n", n,
			t1 - t0, n / (t1 - t0), db_mib(dir));
	/* The start of a broker on this database: its check of every page
	 * (cold pages would cost more: these are in the page cache). */
	bs_core_close(core);
	t0 = bench_now();
	if ((core = open_core(dir)) == NULL)
		goto out;
	printf("opened again in %.0f ms\n", (bench_now() - t0) * 1e3);
	anon = status_kib("RssAnon");
	file = status_kib("RssFile");
	t0 = bench_now();
	bad = bootstrap(core, n, requests);
	t1 = bench_now();
	printf("%ld bootstraps of %ld configs: %.0f per second, %.2f us each, %ld failed\n",
			requests, n, requests / (t1 - t0), (t1 - t0) / requests * 1e6, bad);
	printf("of which handing bootstrap times over: %.1f%% (%.2f us each)\n",
			100 * tick_seconds / (t1 - t0), tick_seconds / requests * 1e6);
	printf("memory over the bootstraps: private (RssAnon) %+.1f MiB, "
			"file pages mapped (RssFile) %+.1f MiB\n",
			(status_kib("RssAnon") - anon) / 1024.0, (status_kib("RssFile") - file) / 1024.0);
	if (samples > 0)
		bad += timing(core, n, samples);
	rc = bad != 0;
out:
	bs_core_close(core);
	tmpdir_remove(dir);
	return rc;
}
