/*
 * The flood: every connection bootstraps in a loop, one request at a time
 * (sent, answered, the next), until the time is up. Seven connections in
 * ten are honest and send only valid requests; the other three are mixed:
 * a third of their requests valid, a third with a wrong key (half of
 * them for an external ID never seen before: the decoy's path), a third
 * bad payloads (not JSON, cut short, larger than max_request_bytes, a
 * key that is not a string). Overall about 80% valid, 10% wrong keys,
 * 10% bad.
 *
 * Each request carries its number as MQTT v5 Correlation Data, which the
 * plugin echoes on every reply, even one to a payload it could not parse;
 * so each reply is matched to its request and checked against what that
 * request deserves. The broker's memory is sampled all along.
 */
#include "soak.h"

#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_NS (10 * NS_PER_S)
#define SCAN_EVERY_NS (100 * NS_PER_MS)
/* Past the plugin's default max_request_bytes (16384). */
#define OVERSIZED_BYTES 20000
#define LAT_CAP (1u << 20)
#define REPORT_WRONG 5              /* wrong replies shown in full */

typedef struct {
	uint64_t seq;               /* in flight; 0: none */
	uint64_t sent_ns;
	uint32_t device;
	int kind;
	bool unknown;               /* a wrong key for a new external ID */
} flight_t;

typedef struct {
	const soak_opts_t *o;
	const bench_broker_t *b;
	bench_engine_t eng;
	flight_t *flights;          /* one per connection */
	uint64_t rng;
	uint64_t seq;
	uint64_t start_ns, next_sample_ns;
	bool issuing;
	size_t outstanding;
	char *buf;                  /* the request being built */
	soak_flood_t *out;
	bool failed;
} flood_t;

static const char *const kind_names[K_COUNT] = {
	"valid", "wrong-key", "not-json", "truncated", "oversized", "wrong-type",
};

const char *soak_kind_name(int kind)
{
	return kind_names[kind];
}

/* Connection i's role: honest ones send only valid requests. */
static bool is_mixed(int i)
{
	return i % 10 >= 7;
}

static int pick_kind(flood_t *f, int conn)
{
	uint64_t r;

	if (!is_mixed(conn))
		return K_VALID;
	r = bench_rand(&f->rng) % 12;
	/* The bad kinds follow K_NOT_JSON, four of them. */
	return r < 4 ? K_VALID : r < 8 ? K_WRONG_KEY : K_NOT_JSON + (int)(r - 8);
}

/* fl's external ID. */
static void external_id(const flight_t *fl, char *out, size_t len)
{
	if (fl->unknown)
		snprintf(out, len, "unk-%010llu", (unsigned long long)fl->seq);
	else
		snprintf(out, len, "ext-%08u", fl->device);
}

/* The request for fl into f->buf; its length. */
static int build(flood_t *f, const flight_t *fl)
{
	unsigned d = fl->device;
	unsigned long long s = (unsigned long long)fl->seq;
	char *p = f->buf, ext[32];
	int len;

	switch (fl->kind) {
	case K_NOT_JSON:
		return sprintf(p, "external_id=ext-%08u external_key=key-%08u-secret id=s%llu",
				d, d, s);
	case K_WRONG_TYPE:
		return sprintf(p, "{\"external_id\":\"ext-%08u\",\"external_key\":%u,"
				"\"id\":\"s%llu\"}", d, d, s);
	case K_OVERSIZED:
		/* A valid request but for its size: the limit alone refuses it. */
		len = sprintf(p, "{\"external_id\":\"ext-%08u\",\"external_key\":"
				"\"key-%08u-secret\",\"id\":\"s%llu\",\"pad\":\"", d, d, s);
		memset(p + len, 'x', (size_t)(OVERSIZED_BYTES - len - 2));
		memcpy(p + OVERSIZED_BYTES - 2, "\"}", 2);
		return OVERSIZED_BYTES;
	default:
		external_id(fl, ext, sizeof(ext));
		len = sprintf(p, "{\"external_id\":\"%s\",\"external_key\":"
				"\"key-%08u-secret%s\",\"id\":\"s%llu\"}", ext, d,
				fl->kind == K_WRONG_KEY ? "x" : "", s);
		return fl->kind == K_TRUNCATED ? len / 2 : len;
	}
}

static void issue(flood_t *f, bench_conn_t *c)
{
	flight_t *fl = &f->flights[c->index];
	mosquitto_property *props = NULL;
	char corr[24];
	int clen, len, rc;

	fl->seq = ++f->seq;
	fl->kind = pick_kind(f, c->index);
	fl->device = (uint32_t)(bench_rand(&f->rng) % f->o->configs);
	fl->unknown = fl->kind == K_WRONG_KEY && bench_rand(&f->rng) % 2 == 0;
	fl->sent_ns = bench_now_ns();
	len = build(f, fl);
	clen = snprintf(corr, sizeof(corr), "%llu", (unsigned long long)fl->seq);
	rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr,
			(uint16_t)clen);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_publish_v5(c->mosq, NULL, "bootstrap/req", len, f->buf, 0,
				false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "soak: publish on connection %d: %s\n", c->index,
				mosquitto_strerror(rc));
		f->failed = true;
		fl->seq = 0;
		return;
	}
	f->outstanding++;
	f->out->sent[fl->kind]++;
}

/* The request number in a reply's Correlation Data; 0 when absent. */
static uint64_t reply_seq(const mosquitto_property *props)
{
	void *corr = NULL;
	uint16_t len = 0;
	char text[24];
	char *end;
	uint64_t seq = 0;

	if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr,
			&len, false) == NULL)
		return 0;
	if (len > 0 && len < sizeof(text)) {
		memcpy(text, corr, len);
		text[len] = '\0';
		seq = strtoull(text, &end, 10);
		if (*end != '\0')
			seq = 0;
	}
	free(corr);
	return seq;
}

enum { R_ID, R_CLIENT_ID, R_SECRET, R_CHANNELS, R_ERROR, R_COUNT };

static const char *const reply_keys[R_COUNT] = {
	"id", "client_id", "client_secret", "channels", "error",
};

/* Whether the reply is exactly what fl deserves: its topic, its id echoed
 * where the request could be read, the right client or error. */
static bool deserved(const flight_t *fl, const struct mosquitto_message *msg,
		const bench_span_t *v)
{
	bool named = fl->kind == K_VALID || fl->kind == K_WRONG_KEY
			|| fl->kind == K_WRONG_TYPE;
	char want[64], ext[32];

	external_id(fl, ext, sizeof(ext));
	if (named)
		snprintf(want, sizeof(want), "bootstrap/res/%s", ext);
	else
		snprintf(want, sizeof(want), "bootstrap/res");
	if (strcmp(msg->topic, want) != 0)
		return false;
	snprintf(want, sizeof(want), "s%llu", (unsigned long long)fl->seq);
	if (named ? !span_is(&v[R_ID], want) : v[R_ID].kind != 0)
		return false;
	if (fl->kind == K_WRONG_KEY)
		return span_is(&v[R_ERROR], "unauthorized") && v[R_CLIENT_ID].kind == 0;
	if (fl->kind != K_VALID)
		return span_is(&v[R_ERROR], "invalid_request") && v[R_CLIENT_ID].kind == 0;
	snprintf(want, sizeof(want), "bench-%08u", fl->device);
	return v[R_ERROR].kind == 0 && span_is(&v[R_CLIENT_ID], want)
			&& v[R_SECRET].kind == '"' && v[R_SECRET].len > 0
			&& v[R_CHANNELS].kind == '[';
}

static void show_wrong(const flood_t *f, const flight_t *fl,
		const struct mosquitto_message *msg)
{
	uint64_t n = 0;
	char ext[32];

	for (int k = 0; k < K_COUNT; k++)
		n += f->out->wrong[k];
	if (n > REPORT_WRONG)
		return;
	external_id(fl, ext, sizeof(ext));
	fprintf(stderr, "soak: wrong reply to a %s request (%s) on %s: %.*s\n",
			kind_names[fl->kind], ext, msg->topic,
			msg->payloadlen > 300 ? 300 : msg->payloadlen, (const char *)msg->payload);
}

static void on_reply(void *ctx, bench_conn_t *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	flood_t *f = ctx;
	flight_t *fl = &f->flights[c->index];
	uint64_t seq = reply_seq(props), now = bench_now_ns();
	bench_span_t v[R_COUNT];
	bool good;

	if (seq == 0 || seq > fl->seq) {
		f->out->stray++;
		return;
	}
	if (seq < fl->seq || fl->seq == 0) {
		f->out->late++;
		return;
	}
	good = reply_scan(msg->payload, (size_t)msg->payloadlen, reply_keys, v,
			R_COUNT) == 0 && deserved(fl, msg, v);
	if (good) {
		f->out->right[fl->kind]++;
	} else {
		f->out->wrong[fl->kind]++;
		show_wrong(f, fl, msg);
	}
	if (fl->kind == K_VALID)
		lat_add(&f->out->lat, now - fl->sent_ns);
	fl->seq = 0;
	f->outstanding--;
	if (f->issuing)
		issue(f, c);
}

/* Gives up requests older than the timeout; their connections go on. */
static void expire(flood_t *f, uint64_t now)
{
	for (int i = 0; i < f->eng.n; i++) {
		flight_t *fl = &f->flights[i];

		if (fl->seq == 0 || now - fl->sent_ns < TIMEOUT_NS)
			continue;
		f->out->lost[fl->kind]++;
		fl->seq = 0;
		f->outstanding--;
		if (f->issuing)
			issue(f, &f->eng.conns[i]);
	}
}

static uint64_t replies(const soak_flood_t *out)
{
	uint64_t n = 0;

	for (int k = 0; k < K_COUNT; k++)
		n += out->right[k] + out->wrong[k];
	return n;
}

static int sample(flood_t *f, uint64_t now)
{
	soak_flood_t *out = f->out;
	soak_sample_t *s;

	if (out->nsamples == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		soak_sample_t *p = realloc(out->samples, cap * sizeof(*p));

		if (p == NULL) {
			fprintf(stderr, "soak: out of memory for samples\n");
			return -1;
		}
		out->samples = p;
		out->cap = cap;
	}
	s = &out->samples[out->nsamples++];
	s->t = (double)(now - f->start_ns) / (double)NS_PER_S;
	s->anon_kib = broker_rss_anon_kib(f->b);
	s->rss_kib = broker_rss_kib(f->b);
	s->replies = replies(out);
	fprintf(stderr, "soak: t=%6.1f s  RssAnon %7ld KiB  VmRSS %7ld KiB  %10llu replies\n",
			s->t, s->anon_kib, s->rss_kib, (unsigned long long)s->replies);
	return s->anon_kib < 0 ? -1 : 0;
}

static int drive(flood_t *f)
{
	uint64_t sample_ns = (uint64_t)(f->o->sample_s * (double)NS_PER_S);
	uint64_t end, last_scan;

	f->start_ns = last_scan = bench_now_ns();
	end = f->start_ns + (uint64_t)(f->o->seconds * (double)NS_PER_S);
	f->next_sample_ns = f->start_ns + sample_ns;
	if (sample(f, f->start_ns) != 0)
		return -1;
	f->issuing = true;
	for (int i = 0; i < f->eng.n && !f->failed; i++)
		issue(f, &f->eng.conns[i]);
	while (!f->failed && !bench_stop) {
		uint64_t now = bench_now_ns();

		if (now >= end)
			f->issuing = false;
		if (now - last_scan >= SCAN_EVERY_NS) {
			last_scan = now;
			expire(f, now);
		}
		if (now >= f->next_sample_ns && f->issuing) {
			f->next_sample_ns += sample_ns;
			if (sample(f, now) != 0)
				return -1;
		}
		if (!f->issuing && f->outstanding == 0)
			break;
		if (engine_step(&f->eng, 5) != 0)
			f->failed = true;
	}
	f->out->seconds = (double)(bench_now_ns() - f->start_ns) / (double)NS_PER_S;
	if (f->failed || bench_stop)
		return -1;
	return sample(f, bench_now_ns());
}

/* Names the connections that the broker dropped, and their role. */
static void show_lost(flood_t *f)
{
	for (int i = 0; i < f->eng.n; i++) {
		if (f->eng.conns[i].failed) {
			fprintf(stderr, "soak: connection %d (%s) was lost\n", i,
					is_mixed(i) ? "mixed" : "honest");
			f->out->lost_connection = true;
		}
	}
}

int soak_flood(const soak_opts_t *o, const bench_broker_t *b, soak_flood_t *out)
{
	bench_engine_cfg_t cfg = {
		.host = o->bench.host, .port = o->bench.port, .id_prefix = "soak-",
	};
	flood_t f = { .o = o, .b = b, .rng = 0x9E3779B97F4A7C15ULL, .out = out };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (lat_init(&out->lat, LAT_CAP) != 0)
		return -1;
	f.flights = calloc((size_t)o->connections, sizeof(*f.flights));
	f.buf = malloc(OVERSIZED_BYTES + 1);
	if (f.flights == NULL || f.buf == NULL) {
		fprintf(stderr, "soak: out of memory\n");
		goto out;
	}
	fprintf(stderr, "soak: opening %d connections\n", o->connections);
	if (engine_open(&f.eng, o->connections, &cfg) != 0)
		goto out;
	f.eng.on_msg = on_reply;
	f.eng.ctx = &f;
	rc = drive(&f);
	if (rc != 0)
		show_lost(&f);
	engine_close(&f.eng);
out:
	free(f.flights);
	free(f.buf);
	return rc;
}

void soak_flood_free(soak_flood_t *f)
{
	lat_free(&f->lat);
	free(f->samples);
	memset(f, 0, sizeof(*f));
}
