/*
 * The lockout phases (protocol section 6). Our broker is restarted with
 * the lockout on; the device bootstrap load with right keys, from
 * 127.0.0.1, is measured alone (lockout-alone) and beside an attacker
 * (lockout-attack), in alternating slices (bench_pair). The attacker is a
 * few connections from 127.0.0.2, on the same thread, each keeping
 * `inflight` requests with a wrong key for one seeded external ID
 * outstanding, as fast as the broker answers; the load leaves that ID
 * alone. The lockout has done its job when the attacker is answered
 * unauthorized max_failures times, then rate_limited (refused before any
 * key work, so it costs the others little: the ratio of the two rates),
 * and when that ID still bootstraps with its right key from 127.0.0.1,
 * while the attack goes on and after it.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define ATTACK_CONNS 4
#define ATTACK_FROM "127.0.0.2"     /* loopback, but another client address */
#define LOCK_FAILURES 5
/* The longest there is: the attacker stays locked out throughout the pair
 * (for any --seconds up to 1800), so that only its first LOCK_FAILURES
 * requests may reach the key check. */
#define LOCK_SECONDS 3600
#define WAIT_NS (5 * NS_PER_S)      /* for the attacker's last replies, a probe's */

typedef struct {
	bench_engine_t *eng;        /* its connections, from ATTACK_FROM */
	unsigned device;            /* the attacked one */
	int inflight;
	bool active;
	uint64_t outstanding;
	uint64_t since;             /* when it last began */
	uint64_t seq;
	bench_lockout_t *out;
	bool failed;
} attack_t;

static void attack_send(attack_t *a, bench_conn_t *c)
{
	char buf[160];
	int len = snprintf(buf, sizeof(buf), "{\"external_id\":\"ext-%08u\","
			"\"external_key\":\"not-the-key\",\"id\":\"a%llu\"}", a->device,
			(unsigned long long)++a->seq);
	int rc = mosquitto_publish_v5(c->mosq, NULL, "bootstrap/req", len, buf, 0, false,
			NULL);

	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: attacker publish: %s\n", mosquitto_strerror(rc));
		a->failed = true;
		return;
	}
	a->outstanding++;
	a->out->sent++;
}

/* Each reply is sorted by its error code and, while attacking, replaced. */
static void on_attack_reply(void *ctx, bench_conn_t *c,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	static const char *const keys[] = { "error" };
	attack_t *a = ctx;
	bench_span_t err;

	(void)props;
	if (reply_scan(msg->payload, (size_t)msg->payloadlen, keys, &err, 1) != 0)
		a->out->other++;
	else if (span_is(&err, "rate_limited"))
		a->out->rate_limited++;
	else if (span_is(&err, "unauthorized"))
		a->out->unauthorized++;
	else
		a->out->other++;
	if (a->outstanding > 0)
		a->outstanding--;
	if (!a->active)
		return;
	a->out->replies++;
	attack_send(a, c);
}

/* The attacker starts on host's poll() rounds. */
static int attack_begin(attack_t *a, bench_engine_t *host)
{
	if (engine_attach(host, a->eng) != 0)
		return -1;
	a->active = true;
	a->since = bench_now_ns();
	for (int i = 0; i < a->eng->n && !a->failed; i++)
		for (int s = 0; s < a->inflight && !a->failed; s++)
			attack_send(a, &a->eng->conns[i]);
	return a->failed ? -1 : 0;
}

/* Stops sending and awaits the replies still due, on its own. */
static int attack_end(attack_t *a, bench_engine_t *host)
{
	uint64_t deadline = bench_now_ns() + WAIT_NS;

	a->active = false;
	a->out->seconds += (double)(bench_now_ns() - a->since) / (double)NS_PER_S;
	a->out->rps = a->out->seconds > 0 ? (double)a->out->replies / a->out->seconds : 0;
	engine_detach(host);
	while (a->outstanding > 0 && !a->failed && !bench_stop && bench_now_ns() < deadline)
		if (engine_step(a->eng, 5) != 0)
			a->failed = true;
	a->out->lost += a->outstanding;
	a->outstanding = 0;
	return a->failed || bench_stop ? -1 : 0;
}

typedef struct {
	bench_engine_t *load;
	attack_t *attack;
} lock_pair_t;

/* lockout-attack's slices run beside the attacker, lockout-alone's not. */
static int lock_slice(const bench_opts_t *o, size_t n, void *arg, int which,
		int kind, const bench_slice_t *s, bench_lat_t *lat, bench_phase_t *out)
{
	lock_pair_t *p = arg;
	int rc;

	if (which == 1 && attack_begin(p->attack, p->load) != 0)
		return -1;
	/* Devices 0 to n - 2: the attacked one, n - 1, is not among them. */
	rc = load_slice(p->load, o, kind, n - 1, s, lat, out);
	if (which == 1 && attack_end(p->attack, p->load) != 0)
		rc = -1;
	return rc;
}

typedef struct {
	unsigned device;
	bool done;
	bool ok;
} probe_t;

static void on_probe_reply(void *ctx, bench_conn_t *c,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	static const char *const keys[] = { "id", "client_id", "error" };
	probe_t *p = ctx;
	bench_span_t v[3];
	char want[32];

	(void)c;
	(void)props;
	snprintf(want, sizeof(want), "bench-%08u", p->device);
	p->done = true;
	p->ok = reply_scan(msg->payload, (size_t)msg->payloadlen, keys, v, 3) == 0
			&& span_is(&v[0], "probe") && span_is(&v[1], want) && v[2].kind == 0;
}

/* One bootstrap of the attacked ID with its right key, from 127.0.0.1;
 * e steps whatever is attached to it meanwhile. */
static int probe(bench_engine_t *e, unsigned device, bool *ok)
{
	probe_t p = { .device = device };
	uint64_t deadline = bench_now_ns() + WAIT_NS;
	char buf[160];
	int len = snprintf(buf, sizeof(buf), "{\"external_id\":\"ext-%08u\","
			"\"external_key\":\"key-%08u-secret\",\"id\":\"probe\"}", device, device);
	int rc = 0;

	e->on_msg = on_probe_reply;
	e->ctx = &p;
	if (mosquitto_publish_v5(e->conns[0].mosq, NULL, "bootstrap/req", len, buf, 0,
			false, NULL) != MOSQ_ERR_SUCCESS)
		rc = -1;
	while (rc == 0 && !p.done && !bench_stop && bench_now_ns() < deadline)
		rc = engine_step(e, 5);
	e->on_msg = NULL;
	e->ctx = NULL;
	*ok = p.ok;
	return rc == 0 && !bench_stop ? 0 : -1;
}

/* The pair, then a probe with the attacker at work and one after it. */
static int run_attack(const bench_opts_t *o, size_t n, bench_engine_t eng[3],
		attack_t *a, bench_lat_t lat[2], bench_result_t *r)
{
	lock_pair_t pair = { .load = &eng[0], .attack = a };

	if (bench_pair(o, n, PHASE_LOCK_ALONE, lock_slice, &pair, lat, r) != 0)
		return -1;
	if (attack_begin(a, &eng[1]) != 0)
		return -1;
	if (probe(&eng[1], a->device, &r->lockout.probe_during) != 0) {
		(void)attack_end(a, &eng[1]);
		return -1;
	}
	if (attack_end(a, &eng[1]) != 0)
		return -1;
	if (probe(&eng[1], a->device, &r->lockout.probe_after) != 0)
		return -1;
	r->lockout.ran = true;
	return 0;
}

/* eng: the load, the probe, the attacker. */
static int open_all(const bench_opts_t *o, bench_engine_t eng[3])
{
	const bench_engine_cfg_t cfgs[3] = {
		{ .host = o->host, .port = o->port, .id_prefix = "bench-lock-" },
		{ .host = o->host, .port = o->port, .id_prefix = "bench-probe-" },
		{ .host = o->host, .port = o->port, .id_prefix = "bench-attack-",
			.bind = ATTACK_FROM },
	};
	const int counts[3] = { o->connections, 1, ATTACK_CONNS };

	for (int i = 0; i < 3; i++) {
		if (engine_open(&eng[i], counts[i], &cfgs[i]) == 0)
			continue;
		while (i-- > 0)
			engine_close(&eng[i]);
		return -1;
	}
	return 0;
}

int attack_phases(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_lat_t lat[2], bench_result_t *r)
{
	bench_engine_t eng[3];
	attack_t a = { .device = (unsigned)(n - 1), .inflight = o->inflight,
		.out = &r->lockout };
	int rc;

	/* Only our own broker's lockout settings are known. */
	if (!o->own_broker || n < 2)
		return 0;
	fprintf(stderr, "bench: N=%zu: restart with the lockout on\n", n);
	b->max_failures = LOCK_FAILURES;
	b->lockout_seconds = LOCK_SECONDS;
	rc = broker_stop(b) != 0 || broker_start(b) != 0 ? -1 : 0;
	b->max_failures = 0;
	if (rc != 0 || open_all(o, eng) != 0)
		return -1;
	a.eng = &eng[2];
	eng[2].on_msg = on_attack_reply;
	eng[2].ctx = &a;
	r->lockout.connections = ATTACK_CONNS;
	r->lockout.max_failures = LOCK_FAILURES;
	rc = run_attack(o, n, eng, &a, lat, r);
	for (int i = 3; i-- > 0;)
		engine_close(&eng[i]);
	return rc;
}

bool attack_contained(const bench_lockout_t *l)
{
	return l->unauthorized == (uint64_t)l->max_failures && l->rate_limited > 0
			&& l->other == 0 && l->probe_during && l->probe_after;
}
