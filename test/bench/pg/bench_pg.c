/*
 * bench_pg: the device bootstrap on PostgreSQL beside the same on SQLite,
 * the PostgreSQL column of make bench. For each N in --configs: one
 * broker on SQLite and one on a PostgreSQL server started here
 * (test/common/pg_server.h), the same N configs imported into each through
 * the admin API (admin.c); then, on each, the bootstrap under load
 * (--connections x --inflight requests in flight) and at light load (one
 * request at a time), the two brokers in alternating slices so that a
 * shared machine's drift falls on both alike; and how many statements
 * pg_stat_statements counted per bootstrap on PostgreSQL: those that read
 * configs, and every one. Run it from the repository root.
 *
 *   bench_pg [--configs 1000,100000] [--seconds 5] [--connections 32]
 *            [--inflight 8] [--plugin PATH]
 */
#include "bench.h"
#include "pg_server.h"

#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PLUGIN "plugin/mosquitto_bootstrap.so"
#define MAX_RUNS 16
#define LAT_CAP (1u << 20)
#define SLICE_S 1.0

enum { SIDE_SQLITE, SIDE_PG, SIDES };
enum { LOAD_FULL, LOAD_LIGHT, LOADS };

typedef struct {
	bench_phase_t side[SIDES];
	/* Per bootstrap sent to PostgreSQL: statements reading configs, and
	 * all statements; -1 when not counted. */
	double lookups, statements;
} load_result_t;

typedef struct {
	size_t n;
	load_result_t load[LOADS];
} run_result_t;

typedef struct {
	bench_opts_t o[SIDES];      /* each side's port, and the light load's */
	bench_broker_t b[SIDES];
	bs_pg_server_t server;
	PGconn *stats;              /* to the database of the run, for its counts */
	bench_lat_t lat[SIDES];
} bench_pg_t;

static const char *const side_name[SIDES] = { "sqlite", "postgresql" };

static void usage(void)
{
	fprintf(stderr, "usage: bench_pg [--configs N,N...] [--seconds S] "
			"[--connections C] [--inflight K] [--plugin PATH]\n");
}

static int parse_list(const char *s, size_t *out, size_t *n)
{
	char *end;

	*n = 0;
	while (*s != '\0' && *n < MAX_RUNS) {
		errno = 0;
		unsigned long v = strtoul(s, &end, 10);
		if (errno != 0 || end == s || v < 1 || v > 99999999UL
				|| (*end != ',' && *end != '\0'))
			return -1;
		out[(*n)++] = (size_t)v;
		s = end + (*end == ',');
	}
	return *n > 0 && *s == '\0' ? 0 : -1;
}

static int parse_args(int argc, char **argv, bench_opts_t *o, size_t *configs,
		size_t *nconfigs)
{
	static const struct option longs[] = {
		{ "configs", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'n' },
		{ "inflight", required_argument, NULL, 'k' },
		{ "plugin", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	*o = (bench_opts_t){ .own_broker = true, .host = "127.0.0.1", .admin_user = "admin",
		.admin_password = "bench", .plugin = DEFAULT_PLUGIN, .connections = 32,
		.inflight = 8, .seconds = 5 };
	bad = parse_list("1000,100000", configs, nconfigs);
	while (!bad && (c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'c': bad = parse_list(optarg, configs, nconfigs); break;
		case 's': o->seconds = atof(optarg);
			bad = !(o->seconds >= 0.1 && o->seconds <= 3600); break;
		case 'n': o->connections = atoi(optarg);
			bad = o->connections < 1 || o->connections > 1000; break;
		case 'k': o->inflight = atoi(optarg);
			bad = o->inflight < 1 || o->inflight > 1000; break;
		case 'p': bad = snprintf(o->plugin, sizeof(o->plugin), "%s", optarg)
				>= (int)sizeof(o->plugin); break;
		default: bad = 1;
		}
	}
	if (bad || optind != argc) {
		usage();
		return -1;
	}
	return bench_resolve(o->plugin, sizeof(o->plugin), "--plugin");
}

/* ---- PostgreSQL's counts ------------------------------------------------ */

static int stats_reset(bench_pg_t *pb)
{
	PGresult *r = PQexec(pb->stats, "SELECT pg_stat_statements_reset()");
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK;

	PQclear(r);
	if (!ok)
		fprintf(stderr, "bench_pg: pg_stat_statements_reset: %s",
				PQerrorMessage(pb->stats));
	return ok ? 0 : -1;
}

/* Statements run on this database since the reset: those reading configs
 * (a bootstrap's lookup, one ID or many), and all (our own left out). */
static int stats_read(bench_pg_t *pb, double *lookups, double *all)
{
	PGresult *r = PQexec(pb->stats, "SELECT coalesce(sum(calls) FILTER "
			"(WHERE query LIKE '%FROM configs c%' OR query LIKE '%JOIN configs c%'), 0), "
			"coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = "
			"(SELECT oid FROM pg_database WHERE datname = current_database()) "
			"AND query NOT LIKE '%pg_stat_statements%'");
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;

	if (ok) {
		*lookups = atof(PQgetvalue(r, 0, 0));
		*all = atof(PQgetvalue(r, 0, 1));
	} else {
		fprintf(stderr, "bench_pg: pg_stat_statements: %s", PQerrorMessage(pb->stats));
	}
	PQclear(r);
	return ok ? 0 : -1;
}

/* ---- the brokers ---------------------------------------------------------- */

/* Both brokers up on an empty store each: SQLite's file removed, a fresh
 * database for PostgreSQL's, with its statement counts. */
static int start_both(bench_pg_t *pb, size_t n)
{
	char name[32];

	snprintf(name, sizeof(name), "bench_%zu", n);
	if (bs_pg_server_createdb(&pb->server, name, NULL, pb->b[SIDE_PG].db_url,
			sizeof(pb->b[SIDE_PG].db_url)) != 0
			|| bs_pg_server_exec(&pb->server, name,
				"CREATE EXTENSION pg_stat_statements") != 0)
		return -1;
	PQfinish(pb->stats);
	pb->stats = PQconnectdb(pb->b[SIDE_PG].db_url);
	if (PQstatus(pb->stats) != CONNECTION_OK) {
		fprintf(stderr, "bench_pg: %s", PQerrorMessage(pb->stats));
		return -1;
	}
	return broker_reset_db(&pb->b[SIDE_SQLITE]) != 0
		|| broker_start(&pb->b[SIDE_SQLITE]) != 0
		|| broker_start(&pb->b[SIDE_PG]) != 0 ? -1 : 0;
}

static int import_both(bench_pg_t *pb, size_t n)
{
	for (int s = 0; s < SIDES; s++) {
		bench_result_t r = { .n = n };

		fprintf(stderr, "bench_pg: N=%zu: import into %s\n", n, side_name[s]);
		if (admin_import(&pb->o[s], n, &r) != 0)
			return -1;
		fprintf(stderr, "bench_pg: N=%zu: %s: %.0f configs/s\n", n, side_name[s],
				r.import_rate);
	}
	return 0;
}

/* ---- the loads ------------------------------------------------------------ */

/*
 * The bootstrap on both brokers, o[s] each (connections and inflight),
 * o->seconds in all, in alternating slices: sqlite pg pg sqlite ... The
 * counts are PostgreSQL's from its first request to its last reply.
 */
static int load_both(bench_pg_t *pb, size_t n, const bench_opts_t o[SIDES],
		load_result_t *out)
{
	int nslices = (int)(o[0].seconds / SLICE_S + 0.5), rc = 0;
	bench_engine_t e[SIDES];
	double lookups = 0, all = 0;

	if (nslices < 1)
		nslices = 1;
	for (int s = 0; s < SIDES; s++) {
		bench_engine_cfg_t cfg = { .host = o[s].host, .port = o[s].port,
			.id_prefix = "bench-pg-", .subscribe = true };

		if (engine_open(&e[s], o[s].connections, &cfg) != 0) {
			if (s == SIDE_PG)
				engine_close(&e[SIDE_SQLITE]);
			return -1;
		}
	}
	rc = stats_reset(pb);
	for (int i = 0; i < nslices && rc == 0; i++) {
		for (int j = 0; j < SIDES && rc == 0; j++) {
			int s = i % 2 == 0 ? j : 1 - j;
			bench_slice_t sl = { .index = i, .seconds = o[s].seconds / nslices,
				.warmup_ns = i == 0 ? BENCH_WARMUP_NS : 0 };

			rc = load_slice(&e[s], &o[s], PHASE_BOOT, n, &sl, &pb->lat[s],
					&out->side[s]);
		}
	}
	if (rc == 0 && stats_read(pb, &lookups, &all) == 0
			&& out->side[SIDE_PG].sent > 0) {
		out->lookups = lookups / (double)out->side[SIDE_PG].sent;
		out->statements = all / (double)out->side[SIDE_PG].sent;
	}
	engine_close(&e[SIDE_PG]);
	engine_close(&e[SIDE_SQLITE]);
	return rc;
}

static int run_one(bench_pg_t *pb, size_t n, run_result_t *r)
{
	bench_opts_t light[SIDES];
	int rc;

	*r = (run_result_t){ .n = n };
	for (int k = 0; k < LOADS; k++)
		r->load[k].lookups = r->load[k].statements = -1;
	if (start_both(pb, n) != 0 || import_both(pb, n) != 0)
		return -1;
	fprintf(stderr, "bench_pg: N=%zu: bootstrap, %d x %d in flight\n", n,
			pb->o[0].connections, pb->o[0].inflight);
	rc = load_both(pb, n, pb->o, &r->load[LOAD_FULL]);
	for (int s = 0; s < SIDES; s++) {
		light[s] = pb->o[s];
		light[s].connections = 1;
		light[s].inflight = 1;
	}
	if (rc == 0) {
		fprintf(stderr, "bench_pg: N=%zu: bootstrap, one at a time\n", n);
		rc = load_both(pb, n, light, &r->load[LOAD_LIGHT]);
	}
	for (int s = 0; s < SIDES; s++)
		if (broker_stop(&pb->b[s]) != 0)
			rc = -1;
	return rc;
}

/* ---- the report ----------------------------------------------------------- */

static void print_count(double v)
{
	if (v < 0)
		printf("  %8s", "-");
	else
		printf("  %8.2f", v);
}

static void report(const bench_opts_t *o, const run_result_t *r, size_t nr)
{
	printf("\nBootstrap on PostgreSQL beside SQLite: one broker each, the same "
			"configs, %.1f s each load in alternating slices\n", o->seconds);
	printf("%-9s %-10s %10s %8s %8s %10s %8s %8s %8s %9s %9s\n", "configs", "load",
			"sqlite/s", "p50 ms", "p99 ms", "pg/s", "p50 ms", "p99 ms", "pg/sqlite",
			"lookups", "stmts");
	for (size_t i = 0; i < nr; i++) {
		for (int k = 0; k < LOADS; k++) {
			const load_result_t *l = &r[i].load[k];
			const bench_phase_t *a = &l->side[SIDE_SQLITE], *b = &l->side[SIDE_PG];
			char load[24];

			if (!a->ran || !b->ran)
				continue;
			snprintf(load, sizeof(load), "%dx%d", k == LOAD_FULL ? o->connections : 1,
					k == LOAD_FULL ? o->inflight : 1);
			printf("%-9zu %-10s %10.0f %8.2f %8.2f %10.0f %8.2f %8.2f %9.2f", r[i].n,
					load, a->rps, a->p50_us / 1e3, a->p99_us / 1e3, b->rps,
					b->p50_us / 1e3, b->p99_us / 1e3, a->rps > 0 ? b->rps / a->rps : 0);
			print_count(l->lookups);
			print_count(l->statements);
			printf("\n");
		}
	}
	printf("lookups, stmts: PostgreSQL statements per bootstrap sent (those reading "
			"configs, and all; pg_stat_statements)\n");
}

/* Wrong, lost or late replies on either side make the run fail. */
static int all_answered(const run_result_t *r, size_t nr)
{
	int rc = 0;

	for (size_t i = 0; i < nr; i++)
		for (int k = 0; k < LOADS; k++)
			for (int s = 0; s < SIDES; s++) {
				const bench_phase_t *p = &r[i].load[k].side[s];

				if (p->bad + p->lost == 0)
					continue;
				fprintf(stderr, "bench_pg: N=%zu %s: %llu wrong and %llu lost replies\n",
						r[i].n, side_name[s], (unsigned long long)p->bad,
						(unsigned long long)p->lost);
				rc = -1;
			}
	return rc;
}

/* ---- main ----------------------------------------------------------------- */

static int setup(bench_pg_t *pb, const bench_opts_t *o)
{
	if (lat_init(&pb->lat[0], LAT_CAP) != 0 || lat_init(&pb->lat[1], LAT_CAP) != 0
			|| bs_pg_server_start(&pb->server) != 0)
		return -1;
	for (int s = 0; s < SIDES; s++) {
		pb->o[s] = *o;
		if (broker_setup(&pb->b[s], o->plugin, "", o->admin_user,
				o->admin_password) != 0)
			return -1;
		pb->o[s].port = pb->b[s].port;
	}
	return 0;
}

static void teardown(bench_pg_t *pb)
{
	for (int s = 0; s < SIDES; s++)
		broker_cleanup(&pb->b[s]);
	PQfinish(pb->stats);
	bs_pg_server_stop(&pb->server);
	lat_free(&pb->lat[0]);
	lat_free(&pb->lat[1]);
}

int main(int argc, char **argv)
{
	static bench_pg_t pb;
	bench_opts_t o;
	size_t configs[MAX_RUNS], nconfigs = 0, done = 0;
	run_result_t res[MAX_RUNS];
	int rc = -1;

	if (bench_install_signals() != 0 || parse_args(argc, argv, &o, configs, &nconfigs) != 0
			|| bench_raise_nofile(2 * o.connections) != 0)
		return 2;
	if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS)
		return 1;
	if (setup(&pb, &o) == 0) {
		rc = 0;
		for (size_t i = 0; i < nconfigs && rc == 0 && !bench_stop; i++) {
			rc = run_one(&pb, configs[i], &res[i]);
			done = i + 1;
		}
	}
	teardown(&pb);
	mosquitto_lib_cleanup();
	/* Whatever was measured before a failure is still worth showing. */
	report(&o, res, done);
	if (all_answered(res, done) != 0)
		rc = -1;
	return rc == 0 ? 0 : 1;
}
