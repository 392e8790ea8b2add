/*
 * The bombs: payloads built to cost the broker memory or stack, each sent
 * once on a fresh pair of connections after the flood: JSON nested deeper
 * than any parser should follow, 10 MiB payloads, and 10 MiB of tiny
 * values, to the device topic and to the admin topic. Each must be
 * refused with invalid_request, and the broker's peak memory while it
 * handles it is read from VmHWM, reset before each one (a getConfig of a
 * 10 MiB client_id is the one well-formed command: not_found). The first, a
 * 10 MiB publish to a topic nobody reads, is the yardstick: what the
 * broker itself holds for a packet that size, before any plugin.
 */
#include "soak.h"

#include <jansson.h>
#include <mqtt_protocol.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)
#define BIG (10u * MIB)
#define WAIT_NS (60 * NS_PER_S)
#define CONTROL_TOPIC "$CONTROL/bootstrap/v1"
#define ADMIN_REPLY "soak/admin/reply"
#define SINK_TOPIC "soak/sink"
#define KEEP_REPLY 4096             /* bytes of a reply kept for the checks */

enum { T_SINK, T_DEVICE, T_ADMIN };

typedef struct {
	const char *name;
	int target;
	size_t bytes;
	const char *head;           /* then `fill` repeated, then `tail` */
	const char *fill;
	const char *tail;
	const char *want;           /* the error code deserved; NULL: none */
} spec_t;

/* A getConfig of a 10 MiB client_id is a well-formed command naming no
 * config: not_found is its right answer. */
static const spec_t specs[SOAK_BOMBS] = {
	{ "sink-10MiB", T_SINK, BIG, "", "x", "", NULL },
	{ "device-nest-16000", T_DEVICE, 16000, "", "[", "", "invalid_request" },
	{ "device-nest-100000", T_DEVICE, 100000, "", "[", "", "invalid_request" },
	{ "device-10MiB", T_DEVICE, BIG, "{\"external_id\":\"ext-00000000\","
		"\"external_key\":\"key-00000000-secret\",\"pad\":\"", "x", "\"}",
		"invalid_request" },
	{ "admin-nest-100000", T_ADMIN, 100000, "", "[", "", "invalid_request" },
	{ "admin-nest-10MiB", T_ADMIN, BIG, "{\"commands\":", "[", "", "invalid_request" },
	{ "admin-objects-10MiB", T_ADMIN, BIG, "", "{\"a\":", "", "invalid_request" },
	{ "admin-junk-10MiB", T_ADMIN, BIG, "", "x", "", "invalid_request" },
	{ "admin-string-10MiB", T_ADMIN, BIG,
		"{\"commands\":[{\"command\":\"getConfig\",\"client_id\":\"", "x", "\"}]}",
		"not_found" },
	{ "admin-wide-10MiB", T_ADMIN, BIG, "{\"commands\":[{}", ",{}", "]}",
		"invalid_request" },
};

typedef struct {
	bool got;
	char topic[128];
	char payload[KEEP_REPLY + 1];
	size_t len;                 /* the whole reply's */
} catch_t;

static void on_msg(void *ctx, bench_conn_t *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	catch_t *k = ctx;
	size_t len = (size_t)msg->payloadlen;

	(void)c;
	(void)props;
	snprintf(k->topic, sizeof(k->topic), "%s", msg->topic);
	k->len = len;
	if (len > KEEP_REPLY)
		len = KEEP_REPLY;
	memcpy(k->payload, msg->payload, len);
	k->payload[len] = '\0';
	k->got = true;
}

/* head, fill repeated, tail: exactly s->bytes (the fill's last copy cut). */
static char *make(const spec_t *s)
{
	size_t hl = strlen(s->head), fl = strlen(s->fill), tl = strlen(s->tail);
	char *p = malloc(s->bytes);

	if (p == NULL)
		return NULL;
	memcpy(p, s->head, hl);
	for (size_t at = hl; at < s->bytes - tl; at += fl)
		memcpy(p + at, s->fill, at + fl <= s->bytes - tl ? fl : s->bytes - tl - at);
	memcpy(p + s->bytes - tl, s->tail, tl);
	return p;
}

static int send_one(bench_engine_t *e, const char *topic, const void *payload,
		size_t len, bool admin)
{
	mosquitto_property *props = NULL;
	int rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, "b", 1);

	if (rc == MOSQ_ERR_SUCCESS && admin)
		rc = mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, ADMIN_REPLY);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_publish_v5(e->conns[0].mosq, NULL, topic, (int)len, payload,
				1, false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS)
		fprintf(stderr, "soak: publish to %s: %s\n", topic, mosquitto_strerror(rc));
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int await(bench_engine_t *e, catch_t *k)
{
	uint64_t deadline = bench_now_ns() + WAIT_NS;

	while (!k->got) {
		if (bench_stop || bench_now_ns() > deadline || engine_step(e, 20) != 0) {
			fprintf(stderr, "soak: no answer\n");
			return -1;
		}
	}
	return 0;
}

/* The error code and message of a device reply or of an admin batch's
 * only response, into out; whether the code is want. */
static bool read_verdict(int target, const catch_t *k, const char *want, char *out,
		size_t len)
{
	json_t *root = json_loadb(k->payload, k->len > KEEP_REPLY ? 0 : k->len, 0, NULL);
	json_t *r = root;
	const char *err, *msg;
	bool ok;

	if (target == T_ADMIN) {
		json_t *list = json_object_get(root, "responses");

		r = json_array_size(list) == 1 ? json_array_get(list, 0) : NULL;
	}
	err = json_string_value(json_object_get(r, "error"));
	msg = json_string_value(json_object_get(r, "message"));
	if (err != NULL)
		snprintf(out, len, "%s: %s", err, msg != NULL ? msg : "");
	else
		snprintf(out, len, "%zu bytes: %.60s", k->len, k->payload);
	ok = err != NULL && strcmp(err, want) == 0;
	json_decref(root);
	return ok;
}

static int detonate(const spec_t *s, bench_engine_t *dev, bench_engine_t *adm,
		const bench_broker_t *b, soak_bomb_t *out)
{
	bench_engine_t *e = s->target == T_ADMIN ? adm : dev;
	catch_t k = { .got = false };
	char *payload = make(s);
	uint64_t t0;
	int rc = -1;

	*out = (soak_bomb_t){ .name = s->name, .bytes = s->bytes };
	out->topic = s->target == T_SINK ? SINK_TOPIC
			: s->target == T_DEVICE ? "bootstrap/req" : CONTROL_TOPIC;
	if (payload == NULL) {
		fprintf(stderr, "soak: out of memory for %s\n", s->name);
		return -1;
	}
	fprintf(stderr, "soak: bomb %s, %zu bytes to %s\n", s->name, s->bytes, out->topic);
	e->on_msg = on_msg;
	e->ctx = &k;
	out->before_kib = broker_rss_kib(b);
	t0 = bench_now_ns();
	if (broker_reset_hwm(b) == 0
			&& send_one(e, out->topic, payload, s->bytes, s->target == T_ADMIN) == 0
			/* The sink answers nothing: an echo sent after it comes back
			 * once the broker is done with it. */
			&& (s->target != T_SINK || send_one(e, e->conns[0].topic, "p", 1, false) == 0)
			&& await(e, &k) == 0)
		rc = 0;
	out->ms = (double)(bench_now_ns() - t0) / (double)NS_PER_MS;
	out->peak_kib = broker_hwm_kib(b);
	out->after_kib = broker_rss_kib(b);
	if (rc == 0 && s->target == T_SINK) {
		snprintf(out->reply, sizeof(out->reply), "(none: the echo after it came back)");
		out->answered_right = strcmp(k.topic, e->conns[0].topic) == 0;
	} else if (rc == 0) {
		out->answered_right = read_verdict(s->target, &k, s->want, out->reply,
				sizeof(out->reply));
	}
	e->on_msg = NULL;
	e->ctx = NULL;
	free(payload);
	return rc;
}

/* A valid bootstrap once the bombs are over: the broker and the plugin
 * still answer. */
static bool still_answers(bench_engine_t *dev)
{
	static const char req[] = "{\"external_id\":\"ext-00000000\","
			"\"external_key\":\"key-00000000-secret\"}";
	catch_t k = { .got = false };
	bool ok;

	dev->on_msg = on_msg;
	dev->ctx = &k;
	ok = send_one(dev, "bootstrap/req", req, sizeof(req) - 1, false) == 0
			&& await(dev, &k) == 0
			&& strcmp(k.topic, "bootstrap/res/ext-00000000") == 0
			&& strstr(k.payload, "\"client_id\":\"bench-00000000\"") != NULL;
	dev->on_msg = NULL;
	dev->ctx = NULL;
	return ok;
}

int soak_bombs(const soak_opts_t *o, const bench_broker_t *b, soak_bombs_t *out)
{
	const bench_engine_cfg_t dcfg = {
		.host = o->bench.host, .port = o->bench.port, .id_prefix = "soak-bomb-",
		.topic_prefix = "soak/bomb/", .subscribe = true,
	};
	const bench_engine_cfg_t acfg = {
		.host = o->bench.host, .port = o->bench.port, .id_prefix = "soak-admin-",
		.user = o->bench.admin_user, .password = o->bench.admin_password,
	};
	bench_engine_t dev, adm;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (engine_open(&dev, 1, &dcfg) != 0)
		return -1;
	if (engine_open(&adm, 1, &acfg) != 0) {
		engine_close(&dev);
		return -1;
	}
	out->anon_before_kib = broker_rss_anon_kib(b);
	for (size_t i = 0; i < SOAK_BOMBS && rc == 0; i++) {
		rc = detonate(&specs[i], &dev, &adm, b, &out->bomb[i]);
		out->n = i + 1;
	}
	out->alive_after = rc == 0 && still_answers(&dev);
	out->anon_after_kib = broker_rss_anon_kib(b);
	engine_close(&adm);
	engine_close(&dev);
	return rc;
}
