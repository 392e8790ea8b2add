/*
 * soak: a long, mixed bootstrap load on a broker with the plugin, then
 * payload bombs (flood.c, bombs.c), with the broker's memory watched all
 * along. Exits non-zero when any reply is wrong or missing, a connection
 * is dropped, the memory grows, or a bomb is not refused within bounds.
 * Run it from the repository root.
 *
 *   soak [--seconds 300] [--connections 1000] [--configs 10000]
 *        [--sample 5] [--plugin PATH] [--no-bombs]
 */
#include "soak.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PLUGIN "plugin/mosquitto_bootstrap.so"
/* Before it, SQLite's page cache and the plugin's caches fill up as
 * configs are first asked for; the flatness check starts after it. */
#define WARMUP_FRACTION 0.2
#define WARMUP_MAX_S 30.0
/* How much the last third's peak RssAnon may exceed the first's. */
#define GROWTH_PERCENT 10
#define GROWTH_MIN_KIB 1024
/* A bomb may cost the broker what it holds for a packet of that size
 * anyway (the sink's spike, in proportion) plus PLUGIN_FACTOR times the
 * payload for the plugin's own work, plus BOMB_SLACK_KIB for small
 * payloads and the allocator's rounding. */
#define PLUGIN_FACTOR 3
#define BOMB_SLACK_KIB (8 * 1024)

static void usage(void)
{
	fprintf(stderr, "usage: soak [--seconds S] [--connections C] [--configs N]\n"
			"            [--sample S] [--plugin PATH] [--no-bombs]\n");
}

static int parse_num(const char *s, double lo, double hi, const char *what, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "soak: %s: %g to %g\n", what, lo, hi);
		return -1;
	}
	return 0;
}

static int parse_opt(soak_opts_t *o, int c, const char *arg)
{
	double v;

	switch (c) {
	case 's': return parse_num(arg, 1, 86400, "--seconds", &o->seconds);
	case 'n': return parse_num(arg, 1, 20000, "--connections", &v) != 0 ? -1
			: (o->connections = (int)v, 0);
	case 'c': return parse_num(arg, 1, 99999999, "--configs", &v) != 0 ? -1
			: (o->configs = (size_t)v, 0);
	case 'S': return parse_num(arg, 0.5, 3600, "--sample", &o->sample_s);
	case 'p':
		if (strlen(arg) >= sizeof(o->bench.plugin)) {
			fprintf(stderr, "soak: --plugin: too long\n");
			return -1;
		}
		strcpy(o->bench.plugin, arg);
		return 0;
	case 'B': o->bombs = false; return 0;
	default: usage(); return -1;
	}
}

static int parse_args(soak_opts_t *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'n' },
		{ "configs", required_argument, NULL, 'c' },
		{ "sample", required_argument, NULL, 'S' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "no-bombs", no_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (soak_opts_t){ .connections = 1000, .configs = 10000, .seconds = 300,
		.sample_s = 5, .bombs = true };
	o->bench = (bench_opts_t){ .own_broker = true, .host = "127.0.0.1",
		.admin_user = "admin", .admin_password = "soak", .plugin = DEFAULT_PLUGIN };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1)
		if (parse_opt(o, c, optarg) != 0)
			return -1;
	if (optind != argc) {
		usage();
		return -1;
	}
	return 0;
}

/* ---- the report -------------------------------------------------------- */

static uint64_t sum(const uint64_t *v)
{
	uint64_t n = 0;

	for (int k = 0; k < K_COUNT; k++)
		n += v[k];
	return n;
}

static void print_curve(const soak_flood_t *f)
{
	printf("\nbroker memory (every sample; requests = replies so far)\n");
	printf("%8s %12s %12s %12s %10s\n", "t (s)", "RssAnon KiB", "VmRSS KiB",
			"requests", "req/s");
	for (size_t i = 0; i < f->nsamples; i++) {
		const soak_sample_t *s = &f->samples[i];
		double rate = i == 0 || s->t <= f->samples[i - 1].t ? 0
				: (double)(s->replies - f->samples[i - 1].replies)
				/ (s->t - f->samples[i - 1].t);

		printf("%8.1f %12ld %12ld %12llu %10.0f\n", s->t, s->anon_kib, s->rss_kib,
				(unsigned long long)s->replies, rate);
	}
}

static void print_counts(const soak_opts_t *o, const soak_flood_t *f)
{
	soak_flood_t *m = (soak_flood_t *)f;   /* the percentiles sort in place */
	uint64_t total = sum(f->right) + sum(f->wrong);

	printf("\nrequests by kind (%d connections, %.1f s)\n", o->connections, f->seconds);
	printf("%-12s %12s %12s %8s %8s\n", "kind", "sent", "right", "wrong", "lost");
	for (int k = 0; k < K_COUNT; k++)
		printf("%-12s %12llu %12llu %8llu %8llu\n", soak_kind_name(k),
				(unsigned long long)f->sent[k], (unsigned long long)f->right[k],
				(unsigned long long)f->wrong[k], (unsigned long long)f->lost[k]);
	printf("%-12s %12llu %12llu %8llu %8llu\n", "all",
			(unsigned long long)sum(f->sent), (unsigned long long)sum(f->right),
			(unsigned long long)sum(f->wrong), (unsigned long long)sum(f->lost));
	printf("late %llu, stray %llu; %.0f replies/s; valid requests: p50 %.1f ms, "
			"p99 %.1f ms, max %.1f ms\n",
			(unsigned long long)f->late, (unsigned long long)f->stray,
			f->seconds > 0 ? (double)total / f->seconds : 0,
			(double)lat_percentile(&m->lat, 0.5) / 1e6,
			(double)lat_percentile(&m->lat, 0.99) / 1e6, (double)f->lat.max / 1e6);
}

/* The peak RssAnon of samples [from, to). */
static long peak(const soak_flood_t *f, size_t from, size_t to)
{
	long most = -1;

	for (size_t i = from; i < to; i++)
		if (f->samples[i].anon_kib > most)
			most = f->samples[i].anon_kib;
	return most;
}

/* The first third of the samples after the warm-up against the last third. */
static bool memory_flat(const soak_flood_t *f)
{
	double end = f->nsamples ? f->samples[f->nsamples - 1].t : 0;
	double warm = end * WARMUP_FRACTION < WARMUP_MAX_S ? end * WARMUP_FRACTION
			: WARMUP_MAX_S;
	size_t from = 0, third;
	long first, last, margin;
	bool ok;

	while (from < f->nsamples && f->samples[from].t < warm)
		from++;
	third = (f->nsamples - from + 2) / 3;
	if (f->nsamples - from < 2) {
		printf("\nmemory: too few samples after the warm-up to judge: FAIL\n");
		return false;
	}
	first = peak(f, from, from + third);
	last = peak(f, f->nsamples - third, f->nsamples);
	margin = first / 100 * GROWTH_PERCENT > GROWTH_MIN_KIB
			? first / 100 * GROWTH_PERCENT : GROWTH_MIN_KIB;
	ok = first > 0 && last > 0 && last <= first + margin;
	printf("\nmemory: warm-up %.0f s; peak RssAnon %ld KiB in the first third after "
			"it (t %.0f to %.0f s), %ld KiB in the last (t %.0f to %.0f s): %+.1f%%, "
			"allowed +%ld KiB: %s\n", warm, first, f->samples[from].t,
			f->samples[from + third - 1].t, last, f->samples[f->nsamples - third].t,
			end, 100.0 * (double)(last - first) / (double)first, margin,
			ok ? "flat" : "GROWS");
	return ok;
}

static bool flood_ok(const soak_flood_t *f)
{
	bool ok = sum(f->wrong) == 0 && sum(f->lost) == 0 && f->stray == 0
			&& !f->lost_connection && sum(f->right) > 0;

	printf("replies: %s (%llu wrong, %llu lost, %s)\n", ok ? "all right" : "FAILED",
			(unsigned long long)sum(f->wrong), (unsigned long long)sum(f->lost),
			f->lost_connection ? "a connection was lost" : "no connection lost");
	return ok;
}

/* The broker's own share of a spike for a payload of `bytes`, from the
 * sink's, which only the broker handles. */
static long broker_share(const soak_bombs_t *r, size_t bytes)
{
	const soak_bomb_t *sink = &r->bomb[0];

	return (long)((double)(sink->peak_kib - sink->before_kib)
			* (double)bytes / (double)sink->bytes);
}

static bool bombs_ok(const soak_bombs_t *r)
{
	bool ok = r->n == SOAK_BOMBS && r->alive_after;

	printf("\nbombs (peak = VmHWM while handled, reset before each; spike = peak "
			"- RSS before;\n  bound = the sink's spike in proportion + %d x the "
			"payload + %d KiB)\n", PLUGIN_FACTOR, BOMB_SLACK_KIB);
	printf("%-20s %-22s %9s %6s %8s %8s %8s %8s  %s\n", "bomb", "topic", "bytes",
			"ms", "RSS KiB", "peak KiB", "spike", "bound", "answer");
	for (size_t i = 0; i < r->n; i++) {
		const soak_bomb_t *b = &r->bomb[i];
		long spike = b->peak_kib - b->before_kib;
		long bound = broker_share(r, b->bytes)
				+ PLUGIN_FACTOR * (long)(b->bytes / 1024) + BOMB_SLACK_KIB;
		bool fits = i == 0 || spike <= bound;

		printf("%-20s %-22s %9zu %6.0f %8ld %8ld %8ld %8ld  %s%s%s\n", b->name,
				b->topic, b->bytes, b->ms, b->before_kib, b->peak_kib, spike,
				i == 0 ? 0 : bound, b->reply, b->answered_right ? "" : "  WRONG ANSWER",
				fits ? "" : "  OVER BOUND");
		ok = ok && b->answered_right && fits;
	}
	printf("RssAnon %ld KiB before the bombs, %ld KiB after; a valid bootstrap "
			"after them: %s\n", r->anon_before_kib, r->anon_after_kib,
			r->alive_after ? "answered" : "NOT ANSWERED");
	return ok;
}

/* ---- the run ------------------------------------------------------------ */

static int start(soak_opts_t *o, bench_broker_t *b)
{
	bench_result_t r = { .n = o->configs };

	if (bench_resolve(o->bench.plugin, sizeof(o->bench.plugin), "--plugin") != 0
			|| broker_setup(b, o->bench.plugin, "", o->bench.admin_user,
				o->bench.admin_password) != 0)
		return -1;
	o->bench.port = b->port;
	if (broker_start(b) != 0)
		return -1;
	fprintf(stderr, "soak: importing %zu configs\n", o->configs);
	return admin_import(&o->bench, o->configs, &r);
}

static int run(soak_opts_t *o)
{
	bench_broker_t b = { .pid = 0 };
	soak_flood_t f = { .nsamples = 0 };
	soak_bombs_t bombs = { .n = 0 };
	bool ok = false, flood_ran = false;

	if (start(o, &b) == 0) {
		flood_ran = soak_flood(o, &b, &f) == 0;
		ok = flood_ran;
		if (o->bombs && !bench_stop)
			ok = soak_bombs(o, &b, &bombs) == 0 && ok;
	}
	if (f.nsamples > 0) {
		print_curve(&f);
		print_counts(o, &f);
		ok = flood_ok(&f) && ok;
		ok = (!flood_ran || memory_flat(&f)) && ok;
	}
	if (o->bombs && bombs.n > 0)
		ok = bombs_ok(&bombs) && ok;
	printf("\nsoak: %s\n", ok ? "PASS" : "FAIL");
	/* A failed run keeps the broker's log and database to be looked at. */
	if (!ok && b.dir[0] != '\0') {
		(void)broker_stop(&b);
		fprintf(stderr, "soak: the broker's files are kept in %s\n", b.dir);
	} else {
		broker_cleanup(&b);
	}
	soak_flood_free(&f);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	soak_opts_t o;
	int rc = -1;

	if (bench_install_signals() != 0 || parse_args(&o, argc, argv) != 0
			|| bench_raise_nofile(o.connections + 2) != 0)
		return 1;
	if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "soak: cannot initialise libmosquitto\n");
		return 1;
	}
	printf("soak: %d connections, %zu configs, %.0f s, memory every %.1f s\n",
			o.connections, o.configs, o.seconds, o.sample_s);
	fflush(stdout);
	rc = run(&o);
	mosquitto_lib_cleanup();
	return rc == 0 ? 0 : 1;
}
