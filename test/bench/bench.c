/*
 * bench: load generator for the broker with the bootstrap plugin.
 *
 * For each N in --configs, on one broker: its memory when empty, the admin
 * import of N configs, a restart (the plugin's start time with N rows),
 * then the broker's bare round trip (ping) and the device bootstrap with
 * right and with partly wrong keys; then the bootstrapped clients against
 * anonymous ones: publish round trips, connect storms and idle memory;
 * then the bootstrap load alone and beside a flood of unknown external
 * IDs; last, with the lockout on, the bootstrap load alone and beside an
 * attacker hammering one ID from another address. All in the same run so
 * that the ratios compare like with like. Run it from the repository root.
 *
 *   bench [--configs 1000,1000000] [--seconds 10] [--connections 32]
 *         [--inflight 8] [--idle 1000] [--json FILE] [--plugin PATH]
 *         [--host H --port P --admin-user U --admin-password W]
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PLUGIN "plugin/mosquitto_bootstrap.so"
#define DEFAULT_FLOOR "build/default/test/bench/floor_plugin.so"
#define MAX_CONFIGS 99999999UL      /* the ids have eight digits */
#define LAT_CAP (2u * 1000u * 1000u)
#define SETTLE_MS 200
/* Under the loopback's ephemeral port range, with room to spare. */
#define MAX_IDLE 20000
/* Of a pair's measured time (bench_pair), about this much at a time. */
#define SLICE_S 1.0

static void usage(void)
{
	fprintf(stderr,
			"usage: bench [--configs N,N...] [--seconds S] [--connections C]\n"
			"             [--inflight K] [--idle I] [--json FILE] [--plugin PATH]\n"
			"             [--floor-plugin PATH | --no-floor]\n"
			"             [--host H --port P --admin-user U --admin-password W]\n");
}

static int parse_long(const char *s, long lo, long hi, const char *what, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *out < lo || *out > hi) {
		fprintf(stderr, "bench: %s: %ld to %ld\n", what, lo, hi);
		return -1;
	}
	return 0;
}

static int parse_configs(bench_opts_t *o, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	long v;

	free(o->configs);
	o->configs = calloc(strlen(list) / 2 + 1, sizeof(*o->configs));
	o->nconfigs = 0;
	if (copy == NULL || o->configs == NULL) {
		free(copy);
		fprintf(stderr, "bench: out of memory\n");
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (parse_long(tok, 1, (long)MAX_CONFIGS, "--configs", &v) != 0) {
			free(copy);
			return -1;
		}
		o->configs[o->nconfigs++] = (size_t)v;
	}
	free(copy);
	if (o->nconfigs == 0) {
		fprintf(stderr, "bench: --configs: a comma-separated list of counts\n");
		return -1;
	}
	return 0;
}

static int copy_opt(char *dst, size_t len, const char *src, const char *what)
{
	if (strlen(src) >= len) {
		fprintf(stderr, "bench: %s: too long\n", what);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

static int parse_seconds(bench_opts_t *o, const char *s)
{
	char *end;

	errno = 0;
	o->seconds = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(o->seconds >= 0.1 && o->seconds <= 3600)) {
		fprintf(stderr, "bench: --seconds: 0.1 to 3600\n");
		return -1;
	}
	return 0;
}

static int parse_opt(bench_opts_t *o, int c, const char *arg)
{
	long v;

	switch (c) {
	case 'c': return parse_configs(o, arg);
	case 's': return parse_seconds(o, arg);
	case 'n': return parse_long(arg, 1, 1000, "--connections", &v) != 0 ? -1
			: (o->connections = (int)v, 0);
	case 'k': return parse_long(arg, 1, 1000, "--inflight", &v) != 0 ? -1
			: (o->inflight = (int)v, 0);
	case 'i': return parse_long(arg, 0, MAX_IDLE, "--idle", &v) != 0 ? -1
			: (o->idle = (int)v, 0);
	case 'j': o->json_path = arg; return 0;
	case 'H': o->own_broker = false;
		return copy_opt(o->host, sizeof(o->host), arg, "--host");
	case 'P': return parse_long(arg, 1, 65535, "--port", &v) != 0 ? -1
			: (o->port = (int)v, 0);
	case 'u': return copy_opt(o->admin_user, sizeof(o->admin_user), arg, "--admin-user");
	case 'w': return copy_opt(o->admin_password, sizeof(o->admin_password), arg,
			"--admin-password");
	case 'p': return copy_opt(o->plugin, sizeof(o->plugin), arg, "--plugin");
	case 'f': return copy_opt(o->floor_plugin, sizeof(o->floor_plugin), arg,
			"--floor-plugin");
	case 'F': o->floor_plugin[0] = '\0'; return 0;
	default: usage(); return -1;
	}
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(len, 1);
	if (s == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int parse_args(bench_opts_t *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "configs", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'n' },
		{ "inflight", required_argument, NULL, 'k' },
		{ "idle", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'P' },
		{ "admin-user", required_argument, NULL, 'u' },
		{ "admin-password", required_argument, NULL, 'w' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "floor-plugin", required_argument, NULL, 'f' },
		{ "no-floor", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (bench_opts_t){ .own_broker = true, .host = "127.0.0.1", .admin_user = "admin",
		.admin_password = "bench", .plugin = DEFAULT_PLUGIN,
		.floor_plugin = DEFAULT_FLOOR, .connections = 32,
		.inflight = 8, .idle = 1000, .seconds = 10 };
	o->cmdline = join_args(argc, argv);
	if (o->cmdline == NULL || parse_configs(o, "1000,1000000") != 0)
		return -1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1)
		if (parse_opt(o, c, optarg) != 0)
			return -1;
	if (optind != argc || (!o->own_broker && o->port == 0)) {
		usage();
		return -1;
	}
	return 0;
}

/* Lets replies still on the way after a phase arrive and be dropped, so
 * that they cannot be taken for the next phase's. */
static int settle(bench_engine_t *e)
{
	uint64_t end = bench_now_ns() + SETTLE_MS * NS_PER_MS;

	while (bench_now_ns() < end && !bench_stop)
		if (engine_step(e, 10) != 0)
			return -1;
	return bench_stop ? -1 : 0;
}

static int load_phases(const bench_opts_t *o, size_t n, bench_lat_t *lat,
		bench_result_t *r)
{
	bench_engine_cfg_t cfg = {
		.host = o->host, .port = o->port, .id_prefix = "bench-load-", .subscribe = true,
	};
	bench_engine_t e;
	int rc = 0;

	if (engine_open(&e, o->connections, &cfg) != 0)
		return -1;
	for (int k = PHASE_PING; k <= PHASE_BOOT_BAD && rc == 0; k++) {
		if (k == PHASE_FLOOR && (!o->own_broker || o->floor_plugin[0] == '\0'))
			continue;
		fprintf(stderr, "bench: N=%zu: %s\n", n, phase_name(k));
		rc = load_phase(&e, o, k, n, lat, &r->phase[k]);
		if (rc == 0)
			rc = settle(&e);
	}
	engine_close(&e);
	return rc;
}

/*
 * Two phases (an anonymous one and its bootstrapped twin, say), each
 * o->seconds in all, in alternating slices: a b b a a b ... On a machine
 * shared with others, whose speed drifts from one second to the next, the
 * two then run at the same speed, and their ratio says what the one's
 * difference costs (the login and the channel ACL, say), not what the
 * neighbours did.
 */
int bench_pair(const bench_opts_t *o, size_t n, int first, bench_slice_fn fn,
		void *arg, bench_lat_t lat[2], bench_result_t *r)
{
	int nslices = (int)(o->seconds / SLICE_S + 0.5);

	if (nslices < 1)
		nslices = 1;
	fprintf(stderr, "bench: N=%zu: %s and %s, alternating %d x %.2f s\n", n,
			phase_name(first), phase_name(first + 1), nslices, o->seconds / nslices);
	for (int i = 0; i < nslices; i++) {
		for (int j = 0; j < 2; j++) {
			int w = i % 2 == 0 ? j : 1 - j, k = first + w;
			bench_slice_t s = { .index = i, .seconds = o->seconds / nslices,
				.warmup_ns = i == 0 ? BENCH_WARMUP_NS : 0 };

			if (fn(o, n, arg, w, k, &s, &lat[w], &r->phase[k]) != 0)
				return -1;
		}
	}
	return 0;
}

/* arg: the two phases' connections. */
static int publish_slice(const bench_opts_t *o, size_t n, void *arg, int which,
		int kind, const bench_slice_t *s, bench_lat_t *lat, bench_phase_t *out)
{
	bench_engine_t *e = arg;

	return load_slice(&e[which], o, kind, n, s, lat, out);
}

static int storm_pair_slice(const bench_opts_t *o, size_t n, void *arg, int which,
		int kind, const bench_slice_t *s, bench_lat_t *lat, bench_phase_t *out)
{
	(void)arg;
	(void)which;
	return storm_slice(o, kind, n, s, lat, out);
}

/* publish-anon, publish-boot: ping on connections of their own. */
static int publish_phases(const bench_opts_t *o, size_t n, bench_lat_t lat[2],
		bench_result_t *r)
{
	bench_spread_t spread = { .count = (size_t)o->connections, .n = n };
	const bench_engine_cfg_t cfgs[] = {
		{ .host = o->host, .port = o->port, .id_prefix = "bench-pub-anon-",
			.topic_prefix = "bench/pub/", .subscribe = true },
		{ .host = o->host, .port = o->port, .id_prefix = "bench-pub-boot-",
			.login = admin_spread_login, .login_arg = &spread,
			.topic_prefix = BENCH_CHANNEL_TOPIC, .subscribe = true },
	};
	bench_engine_t e[2];
	int rc;

	if (engine_open(&e[0], o->connections, &cfgs[0]) != 0)
		return -1;
	if (engine_open(&e[1], o->connections, &cfgs[1]) != 0) {
		engine_close(&e[0]);
		return -1;
	}
	rc = bench_pair(o, n, PHASE_PUB_ANON, publish_slice, e, lat, r);
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = settle(&e[i]);
	engine_close(&e[1]);
	engine_close(&e[0]);
	return rc;
}

/* The seeded configs' clients against anonymous ones. */
static int client_phases(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_lat_t lat[2], bench_result_t *r)
{
	if (publish_phases(o, n, lat, r) != 0
			|| bench_pair(o, n, PHASE_CONN_ANON, storm_pair_slice, NULL, lat, r) != 0)
		return -1;
	/* Only our own broker's memory can be read. */
	if (!o->own_broker || o->idle == 0)
		return 0;
	fprintf(stderr, "bench: N=%zu: idle (%d connections)\n", n, o->idle);
	return idle_memory(o, b, n, r);
}

/* Import, restart, load; with our own broker, from an empty database. */
static int run_one(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_lat_t lat[2], bench_result_t *r)
{
	if (o->own_broker && (broker_reset_db(b) != 0 || broker_start(b) != 0))
		return -1;
	r->rss_before_kib = o->own_broker ? broker_rss_kib(b) : -1;
	r->anon_before_kib = o->own_broker ? broker_rss_anon_kib(b) : -1;
	fprintf(stderr, "bench: N=%zu: admin-import\n", n);
	if (admin_import(o, n, r) != 0)
		return -1;
	if (o->own_broker) {
		fprintf(stderr, "bench: N=%zu: restart\n", n);
		if (broker_stop(b) != 0 || broker_start(b) != 0)
			return -1;
		r->start_ms = broker_start_ms(b);
	}
	if (load_phases(o, n, &lat[0], r) != 0)
		return -1;
	/* Before the client phases, so that it stays the bootstrap phases'. */
	r->rss_after_kib = o->own_broker ? broker_rss_kib(b) : -1;
	r->anon_after_kib = o->own_broker ? broker_rss_anon_kib(b) : -1;
	if (client_phases(o, b, n, lat, r) != 0 || flood_phases(o, b, n, lat, r) != 0
			|| attack_phases(o, b, n, lat, r) != 0)
		return -1;
	return o->own_broker ? broker_stop(b) : 0;
}

static int resolve_plugins(bench_opts_t *o)
{
	/* Absolute, since the broker runs in its own directory. */
	if (bench_resolve(o->plugin, sizeof(o->plugin), "--plugin") != 0)
		return -1;
	return o->floor_plugin[0] == '\0' ? 0
			: bench_resolve(o->floor_plugin, sizeof(o->floor_plugin), "--floor-plugin");
}

/* The idle connections need descriptors, here and in the broker, which
 * inherits this limit; at most the idle ones, or the two publish phases'
 * connections, are open at once. */
static int raise_nofile(const bench_opts_t *o)
{
	return bench_raise_nofile(o->idle > 2 * o->connections ? o->idle
			: 2 * o->connections);
}

static int run_all(bench_opts_t *o, bench_result_t *res, size_t *done)
{
	bench_broker_t b = { .pid = 0 };
	bench_lat_t lat[2];
	int rc = 0;

	if (lat_init(&lat[0], LAT_CAP) != 0)
		return -1;
	if (lat_init(&lat[1], LAT_CAP) != 0) {
		lat_free(&lat[0]);
		return -1;
	}
	if (o->own_broker) {
		rc = resolve_plugins(o);
		if (rc == 0)
			rc = broker_setup(&b, o->plugin, o->floor_plugin, o->admin_user,
					o->admin_password);
		o->port = b.port;
	}
	for (size_t i = 0; i < o->nconfigs && rc == 0; i++) {
		res[i] = (bench_result_t){ .n = o->configs[i], .rss_before_kib = -1,
			.rss_after_kib = -1, .anon_before_kib = -1, .anon_after_kib = -1,
			.start_ms = -1, .idle_base_kib = -1, .idle_anon_kib = -1,
			.idle_boot_kib = -1 };
		rc = run_one(o, &b, o->configs[i], lat, &res[i]);
		*done = i + 1;
	}
	if (bench_stop)
		fprintf(stderr, "bench: interrupted\n");
	broker_cleanup(&b);
	lat_free(&lat[0]);
	lat_free(&lat[1]);
	return rc;
}

int main(int argc, char **argv)
{
	bench_opts_t o = { .configs = NULL };
	bench_result_t *res = NULL;
	size_t done = 0;
	int rc = -1;

	if (bench_install_signals() != 0 || parse_args(&o, argc, argv) != 0 || raise_nofile(&o) != 0)
		goto out;
	res = calloc(o.nconfigs, sizeof(*res));
	if (res == NULL || mosquitto_lib_init() != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: cannot initialise\n");
		goto out;
	}
	report_header(&o);
	fflush(stdout);
	rc = run_all(&o, res, &done);
	mosquitto_lib_cleanup();
	/* Whatever was measured before a failure is still worth showing. */
	report_table(&o, res, done);
	if (report_json(&o, res, done) != 0)
		rc = -1;
	/* A lockout that fails its job is a bug, not a slow figure. */
	for (size_t i = 0; i < done; i++) {
		if (res[i].lockout.ran && !attack_contained(&res[i].lockout)) {
			fprintf(stderr, "bench: N=%zu: the lockout check FAILED\n", res[i].n);
			rc = -1;
		}
		if (res[i].flood.ran && !flood_contained(&res[i].flood)) {
			fprintf(stderr, "bench: N=%zu: the unknown-ID flood check FAILED\n", res[i].n);
			rc = -1;
		}
	}
out:
	free(res);
	free(o.configs);
	free(o.cmdline);
	return rc == 0 ? 0 : 1;
}
