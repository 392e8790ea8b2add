/*
 * The unknown-ID flood phases (protocol 7.3). The device bootstrap load
 * with right keys is measured alone (unknown-alone) and beside a flooder
 * (unknown-flood), in alternating slices (bench_pair). The flooder is a
 * few connections on the same thread, each keeping `inflight` requests
 * outstanding, as fast as the broker answers, every one naming an external
 * ID never seen before (with some key): each is an unknown device that the
 * plugin remembers, so the table is full after max_unknown of them and
 * from then on each one drops the least recently seen. The phases show
 * what that costs the known devices (the ratio of the two rates) and that
 * the broker's memory stays where it was once the table is full.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define FLOOD_CONNS 4
#define WAIT_NS (5 * NS_PER_S)      /* for the flooder's last replies */

typedef struct {
	bench_engine_t *eng;
	int inflight;
	bool active;
	uint64_t outstanding;
	uint64_t since;
	uint64_t rng;
	bench_flood_t *out;
	bool failed;
} flooder_t;

static void flood_send(flooder_t *f, bench_conn_t *c)
{
	char buf[160];
	int len = snprintf(buf, sizeof(buf), "{\"external_id\":\"flood-%016llx\","
			"\"external_key\":\"flood-key-123\"}",
			(unsigned long long)bench_rand(&f->rng));
	int rc = mosquitto_publish_v5(c->mosq, NULL, "bootstrap/req", len, buf, 0, false,
			NULL);

	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: flooder publish: %s\n", mosquitto_strerror(rc));
		f->failed = true;
		return;
	}
	f->outstanding++;
	f->out->sent++;
}

/* Each reply must be unauthorized, and is replaced while flooding. */
static void on_flood_reply(void *ctx, bench_conn_t *c,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	static const char *const keys[] = { "error" };
	flooder_t *f = ctx;
	bench_span_t err;

	(void)props;
	if (reply_scan(msg->payload, (size_t)msg->payloadlen, keys, &err, 1) == 0
			&& span_is(&err, "unauthorized"))
		f->out->unauthorized++;
	else
		f->out->other++;
	if (f->outstanding > 0)
		f->outstanding--;
	if (!f->active)
		return;
	f->out->replies++;
	flood_send(f, c);
}

static int flood_begin(flooder_t *f, bench_engine_t *host)
{
	if (engine_attach(host, f->eng) != 0)
		return -1;
	f->active = true;
	f->since = bench_now_ns();
	for (int i = 0; i < f->eng->n && !f->failed; i++)
		for (int s = 0; s < f->inflight && !f->failed; s++)
			flood_send(f, &f->eng->conns[i]);
	return f->failed ? -1 : 0;
}

static int flood_end(flooder_t *f, bench_engine_t *host)
{
	uint64_t deadline = bench_now_ns() + WAIT_NS;

	f->active = false;
	f->out->seconds += (double)(bench_now_ns() - f->since) / (double)NS_PER_S;
	f->out->rps = f->out->seconds > 0 ? (double)f->out->replies / f->out->seconds : 0;
	engine_detach(host);
	while (f->outstanding > 0 && !f->failed && !bench_stop && bench_now_ns() < deadline)
		if (engine_step(f->eng, 5) != 0)
			f->failed = true;
	f->out->lost += f->outstanding;
	f->outstanding = 0;
	return f->failed || bench_stop ? -1 : 0;
}

typedef struct {
	bench_engine_t *load;
	flooder_t *flooder;
} flood_pair_t;

static int flood_slice(const bench_opts_t *o, size_t n, void *arg, int which,
		int kind, const bench_slice_t *s, bench_lat_t *lat, bench_phase_t *out)
{
	flood_pair_t *p = arg;
	int rc;

	if (which == 1 && flood_begin(p->flooder, p->load) != 0)
		return -1;
	rc = load_slice(p->load, o, kind, n, s, lat, out);
	if (which == 1 && flood_end(p->flooder, p->load) != 0)
		rc = -1;
	return rc;
}

/* Fills the table first, so that the pair measures a full one, evicting. */
static int fill(flooder_t *f, bench_engine_t *host, uint64_t requests)
{
	uint64_t deadline = bench_now_ns() + 60 * NS_PER_S;
	int rc = flood_begin(f, host);

	while (rc == 0 && f->out->replies < requests && !bench_stop
			&& bench_now_ns() < deadline)
		rc = engine_step(host, 5);
	if (flood_end(f, host) != 0)
		rc = -1;
	return rc;
}

int flood_phases(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_lat_t lat[2], bench_result_t *r)
{
	const bench_engine_cfg_t cfgs[2] = {
		{ .host = o->host, .port = o->port, .id_prefix = "bench-known-" },
		{ .host = o->host, .port = o->port, .id_prefix = "bench-flood-" },
	};
	bench_engine_t eng[2];
	flooder_t f = { .inflight = o->inflight, .rng = 0x6a09e667f3bcc908ULL,
		.out = &r->flood };
	flood_pair_t pair = { .load = &eng[0], .flooder = &f };
	int rc;

	if (engine_open(&eng[0], o->connections, &cfgs[0]) != 0)
		return -1;
	if (engine_open(&eng[1], FLOOD_CONNS, &cfgs[1]) != 0) {
		engine_close(&eng[0]);
		return -1;
	}
	f.eng = &eng[1];
	eng[1].on_msg = on_flood_reply;
	eng[1].ctx = &f;
	r->flood.connections = FLOOD_CONNS;
	fprintf(stderr, "bench: N=%zu: unknown-ID flood: filling the table (%d IDs)\n",
			n, BENCH_MAX_UNKNOWN);
	rc = fill(&f, &eng[0], BENCH_MAX_UNKNOWN);
	r->flood.rss_full_kib = o->own_broker ? broker_rss_kib(b) : -1;
	/* The figures are the pair's, the filling apart. */
	r->flood.sent = r->flood.replies = r->flood.unauthorized = 0;
	r->flood.seconds = 0;
	if (rc == 0)
		rc = bench_pair(o, n, PHASE_UNK_ALONE, flood_slice, &pair, lat, r);
	r->flood.rss_after_kib = o->own_broker ? broker_rss_kib(b) : -1;
	r->flood.ran = rc == 0;
	engine_close(&eng[1]);
	engine_close(&eng[0]);
	return rc;
}

bool flood_contained(const bench_flood_t *f)
{
	return f->other == 0 && f->lost == 0 && f->replies > 0;
}
