/*
 * What the broker-thread wake is worth (plugin/wake.h): the latency of a
 * request answered by a worker job, one request at a time, with the wake
 * on and off, on a broker it starts itself with the proof plugin
 * (wake_plugin.c); then the same under load (several clients, each one
 * request at a time) to show what the signals cost when the broker is
 * busy anyway.
 *
 *   wake_bench [--requests N] [--off-requests N] [--clients C] [--seconds S]
 *
 * With the wake off each answer waits for a tick, about 100 ms: that run
 * makes --off-requests (200) requests rather than --requests (1000).
 *
 * Prints one line per run: p50, p90, p99 and the largest latency in ms,
 * requests per second, the wake's counters per job, and the broker
 * thread's CPU time per request (warm-up and connections included). "inline" runs
 * the job on the broker thread and answers at once: the yardstick (with
 * a job of 0 us, what the broker costs without any hand-over).
 */
#include "harness.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	const char *wake;           /* "on" or "off" */
	long job_us;
	int clients;                /* 1: one request at a time, N of them */
} run_t;

typedef struct {
	broker_t *b;
	int index;
	int requests;               /* with clients == 1 */
	double seconds;             /* with clients > 1 */
	uint64_t *lat;              /* ns, one per answered request */
	size_t n, cap;
	int failed;
} client_run_t;

static int opt_requests = 1000;
static int opt_off_requests = 200;
static int opt_clients = 4;
static double opt_seconds = 3;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return n == 0 ? 0 : (double)v[i] / 1e6;
}

/* The proof plugin beside this binary: one directory up, same build. */
static int plugin_path(char *out, size_t len)
{
	char exe[IT_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	n = snprintf(out, len, "%s/wake_plugin.so", exe);
	return n > 0 && (size_t)n < len && access(out, R_OK) == 0 ? 0 : -1;
}

static int start(broker_t *b, const run_t *r)
{
	char so[IT_PATH_MAX];
	FILE *f;
	int rc;

	if (plugin_path(so, sizeof(so)) != 0) {
		fprintf(stderr, "wake_bench: wake_plugin.so is missing beside the binary\n");
		return -1;
	}
	if (broker_prepare(b, NULL, BROKER_NO_CONF) != 0)
		return -1;
	f = fopen(b->conf, "w");
	if (f == NULL)
		return -1;
	/* Logging only what matters, so that the log costs nothing. */
	rc = fprintf(f, "per_listener_settings false\nuser root\npersistence false\n"
			"log_dest file %s/mosquitto.log\nlog_type error\nlog_type warning\n"
			"listener %d 127.0.0.1\nallow_anonymous true\n"
			"plugin %s\nplugin_opt_wake %s\nplugin_opt_job_us %ld\n",
			b->dir, b->port, so, r->wake, r->job_us) > 0 ? 0 : -1;
	if (fclose(f) != 0 || rc != 0)
		return -1;
	return broker_launch(b);
}

static int add(client_run_t *c, uint64_t ns)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		uint64_t *v = realloc(c->lat, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		c->lat = v;
		c->cap = cap;
	}
	c->lat[c->n++] = ns;
	return 0;
}

static int one(client_t *cl, const char *body)
{
	it_msg_t *m;
	int ok;

	if (client_publish(cl, "wake/req", body, (int)strlen(body), NULL) != 0)
		return -1;
	m = client_wait(cl, 5000);
	ok = m != NULL && strcmp(m->payload, body) == 0;
	msg_free(m);
	return ok ? 0 : -1;
}

static void *client_main(void *arg)
{
	client_run_t *c = arg;
	char id[32], body[64];
	client_t *cl;
	uint64_t end;

	snprintf(id, sizeof(id), "wake-bench-%d", c->index);
	cl = client_connect(c->b, 5, id, NULL, NULL);
	if (cl == NULL) {
		c->failed++;
		return NULL;
	}
	/* Warm up: connections, caches, the first page faults. */
	for (int i = 0; i < 20; i++)
		(void)one(cl, "warm");
	end = now_ns() + (uint64_t)(c->seconds * 1e9);
	for (int i = 0; c->requests > 0 ? i < c->requests : now_ns() < end; i++) {
		uint64_t t0 = now_ns();
		snprintf(body, sizeof(body), "%d-%d", c->index, i);
		if (one(cl, body) != 0 || add(c, now_ns() - t0) != 0)
			c->failed++;
	}
	client_close(cl);
	return NULL;
}

typedef struct {
	double signals, rekicks;    /* per job */
	double cpu_us;              /* the broker thread's, per request */
} counters_t;

/* The plugin's counters, as its wake/stats answer gives them. */
static void stats(broker_t *b, counters_t *out)
{
	client_t *c = client_connect(b, 5, "wake-bench-stats", NULL, NULL);
	it_msg_t *m = NULL;
	json_t *st = NULL;

	out->signals = out->rekicks = out->cpu_us = -1;
	if (c != NULL && client_publish(c, "wake/stats", "?", 1, NULL) == 0)
		m = client_wait(c, 5000);
	st = msg_json(m);
	if (st != NULL) {
		double wakes = (double)json_integer_value(json_object_get(st, "wakes"));
		double reqs = (double)json_integer_value(json_object_get(st, "requests"));
		out->signals = (double)json_integer_value(json_object_get(st, "signals"));
		out->rekicks = (double)json_integer_value(json_object_get(st, "rekicks"));
		out->cpu_us = (double)json_integer_value(json_object_get(st, "cpu_us"));
		if (wakes > 0) {
			out->signals /= wakes;
			out->rekicks /= wakes;
		}
		if (reqs > 0)
			out->cpu_us /= reqs;
	}
	json_decref(st);
	msg_free(m);
	client_close(c);
}

static int bench(const run_t *r)
{
	broker_t b;
	client_run_t *cs = calloc((size_t)r->clients, sizeof(*cs));
	pthread_t *ts = calloc((size_t)r->clients, sizeof(*ts));
	uint64_t *all = NULL;
	size_t n = 0;
	int failed = 0;
	counters_t k;
	double secs;
	uint64_t t0;

	if (cs == NULL || ts == NULL || start(&b, r) != 0) {
		free(cs);
		free(ts);
		return -1;
	}
	/* One client made here first: the client library is set up once. */
	client_close(client_connect(&b, 5, "wake-bench-first", NULL, NULL));
	t0 = now_ns();
	for (int i = 0; i < r->clients; i++) {
		cs[i] = (client_run_t){ .b = &b, .index = i,
			.requests = r->clients > 1 ? 0 : strcmp(r->wake, "off") != 0
				? opt_requests : opt_off_requests, .seconds = opt_seconds };
		if (pthread_create(&ts[i], NULL, client_main, &cs[i]) != 0)
			cs[i].failed = -1;
	}
	for (int i = 0; i < r->clients; i++) {
		if (cs[i].failed >= 0)
			pthread_join(ts[i], NULL);
		n += cs[i].n;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	all = malloc((n ? n : 1) * sizeof(*all));
	n = 0;
	for (int i = 0; i < r->clients; i++) {
		if (all != NULL)
			memcpy(all + n, cs[i].lat, cs[i].n * sizeof(*all));
		n += cs[i].n;
		failed += cs[i].failed;
		free(cs[i].lat);
	}
	if (all != NULL)
		qsort(all, n, sizeof(*all), cmp_u64);
	stats(&b, &k);
	printf("wake %-6s job %5ld us  clients %d  requests %6zu  failed %d  "
			"p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms  %7.0f req/s  "
			"signals/job %.3f  resent/job %.3f  broker cpu/req %.1f us\n",
			r->wake, r->job_us, r->clients, n, failed,
			all ? pct_ms(all, n, 0.50) : 0, all ? pct_ms(all, n, 0.90) : 0,
			all ? pct_ms(all, n, 0.99) : 0, all && n ? (double)all[n - 1] / 1e6 : 0,
			(double)n / secs, k.signals, k.rekicks, k.cpu_us);
	fflush(stdout);
	free(all);
	free(cs);
	free(ts);
	broker_cleanup(&b);
	return failed == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const run_t runs[] = {
		{ "on", 1000, 1 },
		{ "off", 1000, 1 },
		{ "on", 0, 1 },
		{ "inline", 0, 1 },
		{ "on", 1000, 0 },      /* clients: opt_clients */
		{ "off", 1000, 0 },
		{ "on", 0, 0 },
		{ "inline", 0, 0 },
	};
	int rc = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--requests") == 0)
			opt_requests = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--off-requests") == 0)
			opt_off_requests = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--clients") == 0)
			opt_clients = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			opt_seconds = atof(argv[i + 1]);
	}
	if (opt_requests < 1 || opt_off_requests < 1 || opt_clients < 1 || opt_seconds <= 0) {
		fprintf(stderr, "usage: wake_bench [--requests N] [--off-requests N] "
				"[--clients C] [--seconds S]\n");
		return 2;
	}
	printf("one request at a time (%d requests, %d with the wake off), "
			"then %d clients for %.0f s each:\n",
			opt_requests, opt_off_requests, opt_clients, opt_seconds);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		run_t r = runs[i];
		if (r.clients == 0)
			r.clients = opt_clients;
		if (bench(&r) != 0)
			rc = 1;
	}
	return rc;
}
