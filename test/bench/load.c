/*
 * The load phases. Every connection keeps `inflight` requests outstanding
 * in slots; a reply frees its slot, which at once carries the next request.
 *
 *   ping           each connection publishes to its own topic, to which it
 *                  is subscribed: the broker's bare round trip;
 *   floor          bootstrap requests on bench/floor/req, answered by the
 *                  yardstick plugin with a directed publish on
 *                  bench/floor/res/<external_id>: the broker's cost of a
 *                  request that a plugin answers, with no plugin work;
 *   bootstrap      device requests on bootstrap/req, answered by the plugin
 *                  with a directed publish on bootstrap/res/<external_id>;
 *   bootstrap-bad  the same, one request in ten with a wrong key;
 *   publish-anon   ping, on connections of its own (anonymous, topics
 *                  bench/pub/<i>);
 *   publish-boot   ping on connections logged in as seeded configs, each on
 *                  its channel (channels/bench/messages/<i>): what the
 *                  plugin's login and channel ACL cost a bootstrapped
 *                  client's messages, against publish-anon;
 *   lockout-*      bootstrap again, with the lockout on, alone and beside
 *                  an attacker (attack.c).
 *
 * Time line: warm-up (replies checked, not counted), the measured window
 * (replies counted in requests/s and latency), then a drain in which no
 * new request is sent and the outstanding ones are awaited, bounded by the
 * per-request timeout after which a request counts as lost. The publish
 * and lockout phases run this in slices (bench.c, bench_pair): the first with the
 * warm-up, the others without, their figures added up.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_NS (5 * NS_PER_S)
#define SCAN_EVERY_NS (100 * NS_PER_MS)
#define PING_BYTES 80
#define BAD_KEY_PERCENT 10

/* Request numbers grow across phases, so that a straggler from an earlier
 * phase is recognised as late rather than taken for a wrong reply. */
static uint64_t next_seq;

typedef struct {
	uint64_t seq;               /* of the request in flight; 0: idle */
	uint64_t sent_ns;
	uint32_t device;
	bool bad_key;
} slot_t;

typedef struct {
	int kind;
	bench_engine_t *eng;
	int inflight;
	size_t ndevices;
	slot_t *slots;              /* connection i owns [i * inflight, +inflight) */
	uint64_t rng;
	uint64_t measure_start, measure_end;
	bool issuing;
	size_t outstanding;
	bench_lat_t *lat;
	bench_phase_t *out;
	bool failed;
} load_t;

/* The phases that publish to the connection's own topic and get it back. */
static bool is_echo(int kind)
{
	return kind == PHASE_PING || kind == PHASE_PUB_ANON || kind == PHASE_PUB_BOOT;
}

static int send_ping(bench_conn_t *c, int s, const slot_t *sl)
{
	char buf[PING_BYTES + 1];
	int len = snprintf(buf, sizeof(buf), "%d %llu ", s, (unsigned long long)sl->seq);

	/* Pad to a fixed size so every round trip moves the same bytes. */
	if (len < 0 || len > PING_BYTES)
		return -1;
	memset(buf + len, 'x', (size_t)(PING_BYTES - len));
	return mosquitto_publish_v5(c->mosq, NULL, c->topic, PING_BYTES, buf, 0,
			false, NULL);
}

static const char *req_topic(int kind)
{
	return kind == PHASE_FLOOR ? "bench/floor/req" : "bootstrap/req";
}

static const char *res_prefix(int kind)
{
	return kind == PHASE_FLOOR ? "bench/floor/res/" : "bootstrap/res/";
}

static int send_boot(bench_conn_t *c, int kind, int s, const slot_t *sl)
{
	char buf[192];
	int len = snprintf(buf, sizeof(buf),
			"{\"external_id\":\"ext-%08u\",\"external_key\":\"key-%08u-secret%s\","
			"\"id\":\"%d:%llu\"}", sl->device, sl->device, sl->bad_key ? "x" : "",
			s, (unsigned long long)sl->seq);

	if (len < 0 || (size_t)len >= sizeof(buf))
		return -1;
	return mosquitto_publish_v5(c->mosq, NULL, req_topic(kind), len, buf, 0,
			false, NULL);
}

/* Fills slot s of connection c with a fresh request and sends it. */
static void issue(load_t *l, bench_conn_t *c, int s)
{
	slot_t *sl = &l->slots[(size_t)c->index * (size_t)l->inflight + (size_t)s];
	int rc;

	sl->seq = ++next_seq;
	sl->device = (uint32_t)(bench_rand(&l->rng) % l->ndevices);
	sl->bad_key = l->kind == PHASE_BOOT_BAD
			&& bench_rand(&l->rng) % 100 < BAD_KEY_PERCENT;
	sl->sent_ns = bench_now_ns();
	rc = is_echo(l->kind) ? send_ping(c, s, sl) : send_boot(c, l->kind, s, sl);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: publish on connection %d: %s\n", c->index,
				rc < 0 ? "request too long" : mosquitto_strerror(rc));
		l->failed = true;
		sl->seq = 0;
		return;
	}
	l->outstanding++;
	l->out->sent++;
}

/* The slot a reply names, or NULL (counted) when it names none in flight. */
static slot_t *claim(load_t *l, bench_conn_t *c, long s, unsigned long long seq)
{
	slot_t *sl;

	if (s < 0 || s >= l->inflight || seq == 0) {
		l->out->bad++;
		return NULL;
	}
	sl = &l->slots[(size_t)c->index * (size_t)l->inflight + (size_t)s];
	if (sl->seq != seq) {
		/* Older than the slot's request: it was given up as lost. */
		if (seq < sl->seq || sl->seq == 0)
			l->out->late++;
		else
			l->out->bad++;
		return NULL;
	}
	return sl;
}

static bool check_ping(const struct mosquitto_message *msg, const bench_conn_t *c,
		long *s, unsigned long long *seq)
{
	char buf[PING_BYTES + 1];
	char *end;

	if (msg->payloadlen != PING_BYTES || strcmp(msg->topic, c->topic) != 0)
		return false;
	memcpy(buf, msg->payload, PING_BYTES);
	buf[PING_BYTES] = '\0';
	*s = strtol(buf, &end, 10);
	if (*end != ' ')
		return false;
	*seq = strtoull(end + 1, &end, 10);
	return *end == ' ';
}

enum { R_ID, R_CLIENT_ID, R_SECRET, R_CHANNELS, R_ERROR, R_COUNT };

static const char *const reply_keys[R_COUNT] = {
	"id", "client_id", "client_secret", "channels", "error",
};

/* "<slot>:<seq>" from the reply's id. */
static bool parse_id(const bench_span_t *id, long *s, unsigned long long *seq)
{
	char buf[64];
	char *end;

	if (id->kind != '"' || id->len >= sizeof(buf))
		return false;
	memcpy(buf, id->p, id->len);
	buf[id->len] = '\0';
	*s = strtol(buf, &end, 10);
	if (*end != ':')
		return false;
	*seq = strtoull(end + 1, &end, 10);
	return *end == '\0';
}

/* Whether a bootstrap reply is exactly what the slot's request deserves. */
static bool check_boot(int kind, const struct mosquitto_message *msg,
		const bench_span_t *v, const slot_t *sl)
{
	char want[64];

	snprintf(want, sizeof(want), "%sext-%08u", res_prefix(kind), sl->device);
	if (strcmp(msg->topic, want) != 0)
		return false;
	if (sl->bad_key)
		return span_is(&v[R_ERROR], "unauthorized") && v[R_CLIENT_ID].kind == 0;
	if (v[R_ERROR].kind != 0)
		return false;
	snprintf(want, sizeof(want), "bench-%08u", sl->device);
	return span_is(&v[R_CLIENT_ID], want) && v[R_SECRET].kind == '"'
			&& v[R_SECRET].len > 0 && v[R_CHANNELS].kind == '[';
}

/* Books a reply to slot s and sends the slot's next request. */
static void complete(load_t *l, bench_conn_t *c, int s, slot_t *sl, bool good)
{
	uint64_t now = bench_now_ns();

	if (!good)
		l->out->bad++;
	else if (sl->bad_key)
		l->out->refused++;
	else
		l->out->ok++;
	if (now >= l->measure_start && now < l->measure_end) {
		l->out->requests++;
		lat_add(l->lat, now - sl->sent_ns);
	}
	sl->seq = 0;
	l->outstanding--;
	if (l->issuing && now < l->measure_end)
		issue(l, c, s);
}

static void on_reply(void *ctx, bench_conn_t *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	load_t *l = ctx;
	long s = -1;
	unsigned long long seq = 0;
	bench_span_t v[R_COUNT];
	slot_t *sl;
	bool parsed;

	(void)props;
	if (is_echo(l->kind))
		parsed = check_ping(msg, c, &s, &seq);
	else
		parsed = reply_scan(msg->payload, (size_t)msg->payloadlen, reply_keys, v,
				R_COUNT) == 0 && parse_id(&v[R_ID], &s, &seq);
	if (!parsed) {
		l->out->bad++;
	} else if ((sl = claim(l, c, s, seq)) != NULL) {
		complete(l, c, (int)s, sl,
				is_echo(l->kind) || check_boot(l->kind, msg, v, sl));
	}
}

/* Gives up requests older than the timeout; their slots carry on. */
static void expire(load_t *l, uint64_t now)
{
	for (int i = 0; i < l->eng->n; i++) {
		for (int s = 0; s < l->inflight; s++) {
			slot_t *sl = &l->slots[(size_t)i * (size_t)l->inflight + (size_t)s];

			if (sl->seq == 0 || now - sl->sent_ns < TIMEOUT_NS)
				continue;
			l->out->lost++;
			sl->seq = 0;
			l->outstanding--;
			if (l->issuing)
				issue(l, &l->eng->conns[i], s);
		}
	}
}

static int drive(load_t *l, uint64_t warmup_ns, double seconds)
{
	uint64_t start = bench_now_ns(), last_scan = start;

	l->measure_start = start + warmup_ns;
	l->measure_end = l->measure_start + (uint64_t)(seconds * (double)NS_PER_S);
	l->issuing = true;
	for (int i = 0; i < l->eng->n && !l->failed; i++)
		for (int s = 0; s < l->inflight && !l->failed; s++)
			issue(l, &l->eng->conns[i], s);
	while (!l->failed && !bench_stop) {
		uint64_t now = bench_now_ns();

		if (now >= l->measure_end)
			l->issuing = false;
		if (now - last_scan >= SCAN_EVERY_NS) {
			last_scan = now;
			expire(l, now);
		}
		if (!l->issuing && l->outstanding == 0)
			break;
		if (engine_step(l->eng, 5) != 0)
			l->failed = true;
	}
	return l->failed || bench_stop ? -1 : 0;
}

int load_slice(bench_engine_t *e, const bench_opts_t *o, int kind, size_t n,
		const bench_slice_t *sl, bench_lat_t *lat, bench_phase_t *out)
{
	load_t l = {
		.kind = kind, .eng = e, .inflight = o->inflight, .ndevices = n,
		.rng = 0x2545F4914F6CDD1DULL + (uint64_t)kind + ((uint64_t)sl->index << 8),
		.lat = lat, .out = out,
	};
	int rc;

	if (sl->index == 0) {
		memset(out, 0, sizeof(*out));
		lat_reset(lat);
	}
	if (!is_echo(kind) && n == 0) {
		fprintf(stderr, "bench: no devices to bootstrap\n");
		return -1;
	}
	l.slots = calloc((size_t)e->n * (size_t)o->inflight, sizeof(*l.slots));
	if (l.slots == NULL) {
		fprintf(stderr, "bench: out of memory for request slots\n");
		return -1;
	}
	e->on_msg = on_reply;
	e->ctx = &l;
	rc = drive(&l, sl->warmup_ns, sl->seconds);
	e->on_msg = NULL;
	e->ctx = NULL;
	/* An interrupted or failed phase has no figures worth a row. */
	if (rc == 0)
		phase_add_time(out, lat, sl->seconds);
	else
		out->ran = false;
	free(l.slots);
	return rc;
}

int load_phase(bench_engine_t *e, const bench_opts_t *o, int kind, size_t n,
		bench_lat_t *lat, bench_phase_t *out)
{
	const bench_slice_t whole = { .warmup_ns = BENCH_WARMUP_NS, .seconds = o->seconds };

	return load_slice(e, o, kind, n, &whole, lat, out);
}
