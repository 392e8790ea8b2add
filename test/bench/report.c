/*
 * The report: the machine and command line, one table on stdout, and the
 * same figures as JSON. Unknown figures are "-" in the table and null in
 * the JSON, never a made-up zero.
 */
#include "bench.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define KIB_PER_MIB 1024.0

/* A bootstrapped client's phase against its anonymous twin, and the ratio
 * of their rates that the bootstrapped one should reach. */
typedef struct {
	const char *name;
	const char *unit;
	int boot, anon;
	double target;
} compare_t;

static const compare_t compares[] = {
	{ "publish", "msg/s", PHASE_PUB_BOOT, PHASE_PUB_ANON, 0.9 },
	{ "connect", "CONNACK/s", PHASE_CONN_BOOT, PHASE_CONN_ANON, 0.8 },
};
#define NCOMPARES (sizeof(compares) / sizeof(compares[0]))

typedef struct {
	long nproc;
	char model[256];
	char kernel[256];
} machine_t;

const char *phase_name(int kind)
{
	static const char *const names[PHASE_COUNT] = { "ping", "floor", "bootstrap",
		"bootstrap-bad", "publish-anon", "publish-boot", "connect-anon",
		"connect-boot", "lockout-alone", "lockout-attack", "unknown-alone",
		"unknown-flood" };

	return kind >= 0 && kind < PHASE_COUNT ? names[kind] : "?";
}

static void cpu_model(char *out, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(out, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || colon == NULL)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, len, "%s", colon);
		break;
	}
	fclose(f);
}

static void machine(machine_t *m)
{
	struct utsname u;

	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_model(m->model, sizeof(m->model));
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname, u.release, u.machine);
	else
		snprintf(m->kernel, sizeof(m->kernel), "unknown");
}

void report_header(const bench_opts_t *o)
{
	machine_t m;

	machine(&m);
	printf("machine: %ld cpus, %s, %s\n", m.nproc, m.model, m.kernel);
	printf("command: %s\n", o->cmdline);
	printf("broker:  %s, %d connections x %d in flight, %.1f s per phase after 1 s warm-up",
			o->own_broker ? "started by the benchmark" : "existing",
			o->connections, o->inflight, o->seconds);
	if (o->own_broker && o->idle > 0)
		printf(", %d idle connections", o->idle);
	printf("\n\n");
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static bool is_storm(int k)
{
	return k == PHASE_CONN_ANON || k == PHASE_CONN_BOOT;
}

/* Whether phase k has a ratio to ping: not ping itself, nor a storm,
 * whose rate is of connections, not of round trips. */
static bool vs_ping(const bench_result_t *r, int k)
{
	return k != PHASE_PING && !is_storm(k) && r->phase[PHASE_PING].ran;
}

/* The phases measured against floor, the limit of any plugin answering
 * requests on this broker: the bootstrap ones, when floor ran. */
static bool vs_floor(const bench_result_t *r, int k)
{
	return (k == PHASE_BOOT || k == PHASE_BOOT_BAD) && r->phase[PHASE_FLOOR].ran;
}

static void phase_row(const bench_result_t *r, int k)
{
	const bench_phase_t *p = &r->phase[k], *ping = &r->phase[PHASE_PING],
		*floor = &r->phase[PHASE_FLOOR];

	if (!p->ran)
		return;
	printf("%-9zu %-14s %10.0f %9.3f %9.3f %9.3f %7llu %6llu", r->n, phase_name(k),
			p->rps, p->p50_us / 1e3, p->p99_us / 1e3, p->max_us / 1e3,
			(unsigned long long)(p->bad + p->lost), (unsigned long long)p->lost);
	if (vs_ping(r, k))
		printf(" %8.3f %8.2f", ratio(p->rps, ping->rps), ratio(p->p99_us, ping->p99_us));
	else
		printf(" %8s %8s", "-", "-");
	if (vs_floor(r, k))
		printf(" %8.3f %8.2f", ratio(p->rps, floor->rps), ratio(p->p99_us, floor->p99_us));
	else
		printf(" %8s %8s", "-", "-");
	printf("\n");
}

static void target_row(size_t n, const char *what, double value, const char *goal, bool ok)
{
	printf("%-9zu %-34s %9.3f  %-10s %s\n", n, what, value, goal, ok ? "ok" : "missed");
}

/* The performance targets, each against floor or as private memory. */
static void targets_table(const bench_result_t *r, size_t nr)
{
	printf("\n%-9s %-34s %9s  %-10s %s\n", "configs", "target", "value", "goal", "");
	for (size_t i = 0; i < nr; i++) {
		const bench_phase_t *f = &r[i].phase[PHASE_FLOOR], *b = &r[i].phase[PHASE_BOOT],
			*bad = &r[i].phase[PHASE_BOOT_BAD];
		double want = r[i].n >= 1000000 ? 0.6 : 0.7;
		char goal[16];

		if (!vs_floor(&r[i], PHASE_BOOT) || !b->ran)
			continue;
		snprintf(goal, sizeof(goal), ">= %.1f", want);
		target_row(r[i].n, "bootstrap / floor, req/s", ratio(b->rps, f->rps), goal,
				ratio(b->rps, f->rps) >= want);
		target_row(r[i].n, "bootstrap p99 / floor p99", ratio(b->p99_us, f->p99_us),
				"<= 2.0", ratio(b->p99_us, f->p99_us) <= 2.0);
		if (bad->ran)
			target_row(r[i].n, "bootstrap-bad / bootstrap, req/s",
					ratio(bad->rps, b->rps), ">= 0.95", ratio(bad->rps, b->rps) >= 0.95);
		if (r[i].anon_before_kib >= 0 && r[i].anon_after_kib >= 0) {
			double mib = (double)(r[i].anon_after_kib - r[i].anon_before_kib) / KIB_PER_MIB;
			target_row(r[i].n, "private memory growth, MiB", mib, "<= 64", mib <= 64);
		}
	}
}

static void fmt_mib(char *out, size_t len, long kib)
{
	if (kib < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.1f", (double)kib / KIB_PER_MIB);
}

/* before, after and their difference, in MiB ("-" when unknown). */
static void fmt_growth(char out[3][32], long before, long after)
{
	fmt_mib(out[0], sizeof(out[0]), before);
	fmt_mib(out[1], sizeof(out[1]), after);
	if (before >= 0 && after >= 0)
		snprintf(out[2], sizeof(out[2]), "%+.1f", (double)(after - before) / KIB_PER_MIB);
	else
		snprintf(out[2], sizeof(out[2]), "-");
}

static void summary_row(const bench_result_t *r)
{
	char rss[3][32], anon[3][32], start[32];

	fmt_growth(rss, r->rss_before_kib, r->rss_after_kib);
	fmt_growth(anon, r->anon_before_kib, r->anon_after_kib);
	if (r->start_ms >= 0)
		snprintf(start, sizeof(start), "%.1f", r->start_ms);
	else
		snprintf(start, sizeof(start), "-");
	printf("%-9zu %9s %9s %8s %9s %9s %8s %9s %12.0f %9.2f %7llu\n", r->n,
			rss[0], rss[1], rss[2], anon[0], anon[1], anon[2], start,
			r->import_rate, r->import_seconds, (unsigned long long)r->import_errors);
	if (r->import_existing > 0)
		printf("%-9zu (%llu configs were there already: an existing broker)\n", r->n,
				(unsigned long long)r->import_existing);
}

static void compare_row(const bench_result_t *r, const compare_t *c)
{
	const bench_phase_t *boot = &r->phase[c->boot], *anon = &r->phase[c->anon];
	double x = ratio(boot->rps, anon->rps);
	char what[32];

	if (!boot->ran || !anon->ran)
		return;
	snprintf(what, sizeof(what), "%s %s", c->name, c->unit);
	printf("%-9zu %-19s %10.0f %10.0f %8.3f  >= %.2f %s\n", r->n, what, boot->rps,
			anon->rps, x, c->target, x >= c->target ? "ok" : "BELOW");
}

static bool idle_known(const bench_result_t *r)
{
	return r->idle > 0 && r->idle_base_kib >= 0 && r->idle_anon_kib >= 0
			&& r->idle_boot_kib >= 0;
}

/* (a - b) KiB shared out over the idle connections, in bytes. */
static double per_conn(const bench_result_t *r, long a, long b)
{
	return (double)(a - b) * 1024.0 / (double)r->idle;
}

static void idle_row(const bench_result_t *r)
{
	if (!idle_known(r))
		return;
	printf("%-9zu %6d %10ld %10ld %10ld %12.0f %14.0f\n", r->n, r->idle,
			r->idle_base_kib, r->idle_anon_kib, r->idle_boot_kib,
			per_conn(r, r->idle_anon_kib, r->idle_base_kib),
			per_conn(r, r->idle_boot_kib, r->idle_anon_kib));
}

static bool any_ran(const bench_result_t *r, size_t nr, int k)
{
	for (size_t i = 0; i < nr; i++)
		if (r[i].phase[k].ran)
			return true;
	return false;
}

static bool compared(const bench_result_t *r, size_t nr)
{
	for (size_t c = 0; c < NCOMPARES; c++)
		if (any_ran(r, nr, compares[c].boot) && any_ran(r, nr, compares[c].anon))
			return true;
	return false;
}

static void client_tables(const bench_result_t *r, size_t nr)
{
	bool idle = false;

	if (any_ran(r, nr, PHASE_CONN_ANON) || any_ran(r, nr, PHASE_CONN_BOOT))
		printf("(connect-*: req/s are CONNACKs per second, latency from connect() "
				"to CONNACK)\n");
	if (compared(r, nr)) {
		printf("\n%-9s %-19s %10s %10s %8s  %s\n", "configs", "boot vs anon", "boot",
				"anon", "x anon", "target");
		for (size_t i = 0; i < nr; i++)
			for (size_t c = 0; c < NCOMPARES; c++)
				compare_row(&r[i], &compares[c]);
	}
	for (size_t i = 0; i < nr; i++)
		idle = idle || idle_known(&r[i]);
	if (!idle)
		return;
	printf("\n%-9s %6s %10s %10s %10s %12s %14s\n", "configs", "idle", "base KiB",
			"anon KiB", "boot KiB", "B/anon conn", "B/boot client");
	for (size_t i = 0; i < nr; i++)
		idle_row(&r[i]);
	printf("(RssAnon of the broker, restarted: before, with that many anonymous "
			"connections, then as many\n bootstrapped ones instead; B/boot client is "
			"(boot - anon) KiB * 1024 / idle)\n");
}

/* Of the attacker's replies, the share answered rate_limited. */
static double limited_share(const bench_lockout_t *l)
{
	uint64_t all = l->rate_limited + l->unauthorized + l->other;

	return all > 0 ? (double)l->rate_limited / (double)all : 0;
}

static void lockout_row(const bench_result_t *r)
{
	const bench_phase_t *alone = &r->phase[PHASE_LOCK_ALONE];
	const bench_phase_t *attacked = &r->phase[PHASE_LOCK_ATTACK];
	const bench_lockout_t *l = &r->lockout;

	if (!l->ran)
		return;
	printf("%-9zu %10.0f %10.0f %8.3f %6d %12.0f %11.3f%% %12llu  %s\n", r->n,
			alone->rps, attacked->rps, ratio(attacked->rps, alone->rps),
			l->connections, l->rps, 100.0 * limited_share(l),
			(unsigned long long)l->unauthorized,
			attack_contained(l) ? "ok" : "FAILED");
}

static void lockout_table(const bench_result_t *r, size_t nr)
{
	bool any = false;

	for (size_t i = 0; i < nr; i++)
		any = any || r[i].lockout.ran;
	if (!any)
		return;
	printf("\n%-9s %10s %10s %8s %6s %12s %12s %12s  %s\n", "configs", "alone",
			"attacked", "x alone", "conns", "attack req/s", "rate_limited",
			"unauthorized", "check");
	for (size_t i = 0; i < nr; i++)
		lockout_row(&r[i]);
	printf("(lockout: bootstrap req/s from 127.0.0.1 with the lockout on, alone and "
			"beside `conns`\n connections from 127.0.0.2 sending one other ID a wrong "
			"key; rate_limited, unauthorized:\n their replies; check: only the first "
			"max_failures were unauthorized, and that ID\n bootstrapped from 127.0.0.1 "
			"during the attack and after it)\n");
}

static void flood_row(const bench_result_t *r)
{
	const bench_phase_t *alone = &r->phase[PHASE_UNK_ALONE];
	const bench_phase_t *flooded = &r->phase[PHASE_UNK_FLOOD];
	const bench_flood_t *f = &r->flood;

	if (!f->ran)
		return;
	printf("%-9zu %10.0f %10.0f %8.3f %6d %11.0f %10ld %10ld  %s\n", r->n,
			alone->rps, flooded->rps, ratio(flooded->rps, alone->rps),
			f->connections, f->rps, f->rss_full_kib, f->rss_after_kib,
			flood_contained(f) ? "ok" : "FAILED");
}

static void flood_table(const bench_result_t *r, size_t nr)
{
	bool any = false;

	for (size_t i = 0; i < nr; i++)
		any = any || r[i].flood.ran;
	if (!any)
		return;
	printf("\n%-9s %10s %10s %8s %6s %11s %10s %10s  %s\n", "configs", "alone",
			"flooded", "x alone", "conns", "flood req/s", "rss0 KiB", "rss1 KiB",
			"check");
	for (size_t i = 0; i < nr; i++)
		flood_row(&r[i]);
	printf("(unknown-ID flood: bootstrap req/s of known devices, alone and beside "
			"`conns` connections\n sending external IDs no config has, each one new; "
			"the table (max_unknown %d) is\n full before; rss0, rss1: the broker's "
			"VmRSS then and after the pair; check: every\n flood request answered "
			"unauthorized)\n", BENCH_MAX_UNKNOWN);
}

/* The results for the smallest and the largest N that ran bootstrap. */
static bool extremes(const bench_result_t *r, size_t nr, size_t *lo, size_t *hi)
{
	bool any = false;

	for (size_t i = 0; i < nr; i++) {
		if (!r[i].phase[PHASE_BOOT].ran)
			continue;
		if (!any || r[i].n < r[*lo].n)
			*lo = i;
		if (!any || r[i].n > r[*hi].n)
			*hi = i;
		any = true;
	}
	return any && r[*lo].n != r[*hi].n;
}

void report_table(const bench_opts_t *o, const bench_result_t *r, size_t nr)
{
	size_t lo = 0, hi = 0;

	(void)o;
	printf("%-9s %-14s %10s %9s %9s %9s %7s %6s %8s %8s %8s %8s\n", "configs", "phase",
			"req/s", "p50 ms", "p99 ms", "max ms", "errors", "lost",
			"x ping/s", "x p99", "x floor", "x fl p99");
	for (size_t i = 0; i < nr; i++)
		for (int k = 0; k < PHASE_COUNT; k++)
			phase_row(&r[i], k);
	client_tables(r, nr);
	lockout_table(r, nr);
	flood_table(r, nr);
	printf("\n%-9s %9s %9s %8s %9s %9s %8s %9s %12s %9s %7s\n", "configs", "rss0 MiB",
			"rss1 MiB", "diff", "anon0 MiB", "anon1 MiB", "diff", "start_ms",
			"import cfg/s", "import s", "errors");
	for (size_t i = 0; i < nr; i++)
		summary_row(&r[i]);
	printf("(rss: the broker's VmRSS, empty and after the bootstrap phases; anon: its "
			"private part,\n RssAnon, without the database pages mapped from the page "
			"cache)\n");
	targets_table(r, nr);
	if (extremes(r, nr, &lo, &hi)) {
		const bench_phase_t *a = &r[lo].phase[PHASE_BOOT], *b = &r[hi].phase[PHASE_BOOT];

		printf("\nbootstrap(%zu)/bootstrap(%zu): req/s x%.3f, p99 x%.2f\n",
				r[hi].n, r[lo].n, ratio(b->rps, a->rps), ratio(b->p99_us, a->p99_us));
	}
	fflush(stdout);
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *num_or_null(double v, bool known)
{
	return known ? json_real(v) : json_null();
}

static json_t *phase_json(const bench_result_t *r, int k)
{
	const bench_phase_t *p = &r->phase[k], *ping = &r->phase[PHASE_PING],
		*floor = &r->phase[PHASE_FLOOR];
	bool vs = vs_ping(r, k), vf = vs_floor(r, k);

	return json_pack("{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			"s:o, s:o, s:o, s:o}",
			"phase", phase_name(k), "requests", (json_int_t)p->requests,
			"seconds", p->seconds, "requests_per_s", p->rps,
			"p50_us", p->p50_us, "p99_us", p->p99_us, "max_us", p->max_us,
			"sent", (json_int_t)p->sent, "ok", (json_int_t)p->ok,
			"refused", (json_int_t)p->refused,
			"errors", (json_int_t)(p->bad + p->lost), "bad", (json_int_t)p->bad,
			"lost", (json_int_t)p->lost, "late", (json_int_t)p->late,
			"ratio_rps_to_ping", num_or_null(ratio(p->rps, ping->rps), vs),
			"ratio_p99_to_ping", num_or_null(ratio(p->p99_us, ping->p99_us), vs),
			"ratio_rps_to_floor", num_or_null(ratio(p->rps, floor->rps), vf),
			"ratio_p99_to_floor", num_or_null(ratio(p->p99_us, floor->p99_us), vf));
}

static json_t *kib_json(long kib)
{
	return kib >= 0 ? json_integer(kib) : json_null();
}

/* {"publish": {...}, "connect": {...}} for the comparisons that ran. */
static json_t *compares_json(const bench_result_t *r)
{
	json_t *o = json_object();

	for (size_t i = 0; i < NCOMPARES && o != NULL; i++) {
		const compare_t *c = &compares[i];
		const bench_phase_t *boot = &r->phase[c->boot], *anon = &r->phase[c->anon];
		double x = ratio(boot->rps, anon->rps);

		if (!boot->ran || !anon->ran)
			continue;
		if (json_object_set_new(o, c->name, json_pack("{s:s, s:f, s:f, s:f, s:f, s:b}",
				"unit", c->unit, "boot_per_s", boot->rps, "anon_per_s", anon->rps,
				"ratio_boot_to_anon", x, "target", c->target,
				"met", x >= c->target)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *idle_json(const bench_result_t *r)
{
	bool known = idle_known(r);

	if (r->idle == 0)
		return json_null();
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "connections", (json_int_t)r->idle,
			"rss_anon_base_kib", kib_json(r->idle_base_kib),
			"rss_anon_anon_kib", kib_json(r->idle_anon_kib),
			"rss_anon_boot_kib", kib_json(r->idle_boot_kib),
			"bytes_per_anon_connection",
			num_or_null(known ? per_conn(r, r->idle_anon_kib, r->idle_base_kib) : 0, known),
			"bytes_per_boot_client_over_anon",
			num_or_null(known ? per_conn(r, r->idle_boot_kib, r->idle_anon_kib) : 0, known));
}

static json_t *lockout_json(const bench_result_t *r)
{
	const bench_lockout_t *l = &r->lockout;
	double alone = r->phase[PHASE_LOCK_ALONE].rps;
	double attacked = r->phase[PHASE_LOCK_ATTACK].rps;

	if (!l->ran)
		return json_null();
	return json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, "
			"s:f, s:b, s:b, s:b}",
			"alone_per_s", alone, "attacked_per_s", attacked,
			"ratio_attacked_to_alone", ratio(attacked, alone),
			"attacker_connections", (json_int_t)l->connections,
			"max_failures", (json_int_t)l->max_failures,
			"attacker_sent", (json_int_t)l->sent,
			"attacker_replies", (json_int_t)l->replies,
			"attacker_seconds", l->seconds, "attacker_per_s", l->rps,
			"rate_limited", (json_int_t)l->rate_limited,
			"unauthorized", (json_int_t)l->unauthorized,
			"other", (json_int_t)l->other, "lost", (json_int_t)l->lost,
			"rate_limited_share", limited_share(l),
			"id_bootstraps_during_attack", l->probe_during,
			"id_bootstraps_after_attack", l->probe_after,
			"ok", attack_contained(l));
}

static json_t *flood_json(const bench_result_t *r)
{
	const bench_flood_t *f = &r->flood;
	double alone = r->phase[PHASE_UNK_ALONE].rps;
	double flooded = r->phase[PHASE_UNK_FLOOD].rps;

	if (!f->ran)
		return json_null();
	return json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:o, s:o, "
			"s:I, s:b}",
			"alone_per_s", alone, "flooded_per_s", flooded,
			"ratio_flooded_to_alone", ratio(flooded, alone),
			"flooder_connections", (json_int_t)f->connections,
			"flooder_sent", (json_int_t)f->sent,
			"flooder_replies", (json_int_t)f->replies,
			"flooder_seconds", f->seconds, "flooder_per_s", f->rps,
			"unauthorized", (json_int_t)f->unauthorized,
			"other", (json_int_t)f->other, "lost", (json_int_t)f->lost,
			"rss_full_kib", kib_json(f->rss_full_kib),
			"rss_after_kib", kib_json(f->rss_after_kib),
			"max_unknown", (json_int_t)BENCH_MAX_UNKNOWN, "ok", flood_contained(f));
}

static json_t *result_json(const bench_result_t *r)
{
	json_t *phases = json_array();
	bool rss = r->rss_before_kib >= 0 && r->rss_after_kib >= 0;
	bool anon = r->anon_before_kib >= 0 && r->anon_after_kib >= 0;

	for (int k = 0; k < PHASE_COUNT && phases != NULL; k++)
		if (r->phase[k].ran && json_array_append_new(phases, phase_json(r, k)) != 0)
			break;
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			"s:{s:f, s:f, s:I, s:I, s:I}, s:o, s:o, s:o, "
			"s:o, s:o}",
			"configs", (json_int_t)r->n,
			"rss_before_kib", kib_json(r->rss_before_kib),
			"rss_after_kib", kib_json(r->rss_after_kib),
			"rss_diff_mib", num_or_null((double)(r->rss_after_kib - r->rss_before_kib)
					/ KIB_PER_MIB, rss),
			"rss_anon_before_kib", kib_json(r->anon_before_kib),
			"rss_anon_after_kib", kib_json(r->anon_after_kib),
			"rss_anon_diff_mib", num_or_null((double)(r->anon_after_kib
					- r->anon_before_kib) / KIB_PER_MIB, anon),
			"start_ms", num_or_null(r->start_ms, r->start_ms >= 0),
			"admin_import", "configs_per_s", r->import_rate,
			"seconds", r->import_seconds, "batches", (json_int_t)r->import_batches,
			"errors", (json_int_t)r->import_errors,
			"existing", (json_int_t)r->import_existing,
			"phases", phases, "boot_vs_anon", compares_json(r),
			"idle_memory", idle_json(r), "lockout", lockout_json(r),
			"unknown_flood", flood_json(r));
}

static json_t *scaling_json(const bench_result_t *r, size_t nr)
{
	size_t lo = 0, hi = 0;

	if (!extremes(r, nr, &lo, &hi))
		return json_null();
	const bench_phase_t *a = &r[lo].phase[PHASE_BOOT], *b = &r[hi].phase[PHASE_BOOT];
	return json_pack("{s:I, s:I, s:f, s:f}", "configs_min", (json_int_t)r[lo].n,
			"configs_max", (json_int_t)r[hi].n,
			"bootstrap_rps_ratio", ratio(b->rps, a->rps),
			"bootstrap_p99_ratio", ratio(b->p99_us, a->p99_us));
}

static json_t *root_json(const bench_opts_t *o, const bench_result_t *r, size_t nr)
{
	json_t *results = json_array();
	machine_t m;

	machine(&m);
	for (size_t i = 0; i < nr && results != NULL; i++)
		if (json_array_append_new(results, result_json(&r[i])) != 0)
			break;
	return json_pack("{s:{s:I, s:s, s:s}, s:s, s:{s:b, s:I, s:I, s:I, s:f, s:f}, s:o, s:o}",
			"machine", "nproc", (json_int_t)m.nproc, "model", m.model,
			"kernel", m.kernel,
			"command", o->cmdline,
			"settings", "own_broker", o->own_broker,
			"connections", (json_int_t)o->connections,
			"inflight", (json_int_t)o->inflight, "idle", (json_int_t)o->idle,
			"seconds", o->seconds,
			"warmup_seconds", 1.0,
			"results", results, "scaling", scaling_json(r, nr));
}

int report_json(const bench_opts_t *o, const bench_result_t *r, size_t nr)
{
	json_t *root;
	int rc;

	if (o->json_path == NULL)
		return 0;
	root = root_json(o, r, nr);
	if (root == NULL) {
		fprintf(stderr, "bench: cannot build the JSON report\n");
		return -1;
	}
	rc = json_dump_file(root, o->json_path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (rc != 0) {
		fprintf(stderr, "bench: cannot write %s\n", o->json_path);
		return -1;
	}
	return 0;
}
