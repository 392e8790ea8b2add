/*
 * admin-import: seeds N configs through the admin API, the way an operator
 * would import a fleet: batches of up to 5000 devices (a createConfig and
 * an enableConfig each, so at most 10000 commands, the plugin's limit per
 * message), one batch in flight, answered on an MQTT v5 Response Topic.
 * Batch 0 only creates the channel that every config is on, so that the
 * configs' clients have a channel to publish on; their client_secret is
 * given, derived from the index, so that the benchmark can log in as them.
 *
 * While the broker works on batch k+1 this side checks the reply to batch
 * k and builds batch k+2, so the check costs the measurement nothing.
 */
#include "bench.h"

#include <jansson.h>
#include <mqtt_protocol.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_DEVICES 5000
#define REPLY_TOPIC "bench/admin/reply"
#define CONTROL_TOPIC "$CONTROL/bootstrap/v1"
#define BATCH_WAIT_NS (120 * NS_PER_S)

typedef struct {
	char *data;
	size_t len;
	size_t cap;
} buf_t;

typedef struct {
	const bench_opts_t *o;
	bench_engine_t eng;
	size_t n;
	size_t nbatches;            /* the channel's, then the devices' */
	size_t sent;                /* batches published */
	size_t answered;            /* batches whose reply arrived */
	char *reply;                /* the latest reply, not yet checked */
	size_t reply_len;
	size_t reply_batch;
	uint64_t last_reply;        /* when the last batch's reply arrived */
	bool failed;
	uint64_t errors;
	uint64_t existing;
	buf_t next;                 /* the next batch, built ahead */
} import_t;

static int buf_printf(buf_t *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int buf_printf(buf_t *b, const char *fmt, ...)
{
	va_list ap;
	int len;

	for (;;) {
		va_start(ap, fmt);
		len = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (len < 0)
			return -1;
		if ((size_t)len < b->cap - b->len)
			break;
		size_t cap = (b->cap + (size_t)len + 1) * 2;
		char *p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	b->len += (size_t)len;
	return 0;
}

void admin_login(size_t device, bench_login_t *out)
{
	snprintf(out->user, sizeof(out->user), "bench-%08zu", device);
	snprintf(out->password, sizeof(out->password), "pass-%08zu-secret", device);
}

void admin_spread_login(void *arg, int index, bench_login_t *out)
{
	const bench_spread_t *sp = arg;
	size_t i = sp->first + (size_t)index;

	/* Distinct configs while there are enough, wrapping around if not. */
	admin_login(sp->count <= sp->n ? (size_t)((uint64_t)i * sp->n / sp->count)
			: i % sp->n, out);
}

/* The devices of batch k >= 1: [*lo, *hi). */
static void batch_devices(const import_t *im, size_t k, size_t *lo, size_t *hi)
{
	*lo = (k - 1) * BATCH_DEVICES;
	*hi = *lo + BATCH_DEVICES < im->n ? *lo + BATCH_DEVICES : im->n;
}

static int build_devices(import_t *im, size_t k)
{
	size_t lo, hi;
	int rc = 0;

	batch_devices(im, k, &lo, &hi);
	for (size_t d = lo; d < hi && rc == 0; d++) {
		bench_login_t login;

		admin_login(d, &login);
		rc = buf_printf(&im->next, "%s{\"command\":\"createConfig\","
				"\"client_id\":\"%s\",\"client_secret\":\"%s\","
				"\"external_id\":\"ext-%08zu\",\"external_key\":\"key-%08zu-secret\","
				"\"channels\":[\"" BENCH_CHANNEL "\"]},"
				"{\"command\":\"enableConfig\",\"client_id\":\"%s\"}",
				d == lo ? "" : ",", login.user, login.password, d, d, login.user);
	}
	return rc;
}

/* Batch k as one message of commands. */
static int build_batch(import_t *im, size_t k)
{
	int rc;

	im->next.len = 0;
	rc = buf_printf(&im->next, "{\"commands\":[");
	if (rc == 0 && k == 0)
		rc = buf_printf(&im->next, "{\"command\":\"createChannel\","
				"\"id\":\"" BENCH_CHANNEL "\",\"name\":\"" BENCH_CHANNEL "\"}");
	else if (rc == 0)
		rc = build_devices(im, k);
	if (rc == 0)
		rc = buf_printf(&im->next, "]}");
	if (rc != 0)
		fprintf(stderr, "bench: out of memory building batch %zu\n", k);
	return rc;
}

static int publish_next(import_t *im)
{
	mosquitto_property *props = NULL;
	char corr[32];
	int len = snprintf(corr, sizeof(corr), "batch-%zu", im->sent);
	int rc = mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, REPLY_TOPIC);

	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA,
				corr, (uint16_t)len);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_publish_v5(im->eng.conns[0].mosq, NULL, CONTROL_TOPIC,
				(int)im->next.len, im->next.data, 1, false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: publish batch %zu: %s\n", im->sent, mosquitto_strerror(rc));
		return -1;
	}
	im->sent++;
	return 0;
}

/* The batch number in a reply's Correlation Data, or -1. */
static long reply_batch(const mosquitto_property *props)
{
	void *corr = NULL;
	uint16_t len = 0;
	char text[32];
	long k = -1;

	if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
			&corr, &len, false) == NULL)
		return -1;
	if (len < sizeof(text)) {
		memcpy(text, corr, len);
		text[len] = '\0';
		if (sscanf(text, "batch-%ld", &k) != 1)
			k = -1;
	}
	free(corr);
	return k;
}

static void on_reply(void *ctx, bench_conn_t *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	import_t *im = ctx;
	long k = reply_batch(props);

	(void)c;
	if (strcmp(msg->topic, REPLY_TOPIC) != 0 || k < 0 || (size_t)k + 1 != im->sent
			|| im->reply != NULL) {
		fprintf(stderr, "bench: unexpected admin reply on %s (batch %ld)\n",
				msg->topic, k);
		im->failed = true;
		return;
	}
	im->reply = malloc((size_t)msg->payloadlen + 1);
	if (im->reply == NULL) {
		fprintf(stderr, "bench: out of memory for an admin reply\n");
		im->failed = true;
		return;
	}
	memcpy(im->reply, msg->payload, (size_t)msg->payloadlen);
	im->reply[msg->payloadlen] = '\0';
	im->reply_len = (size_t)msg->payloadlen;
	im->reply_batch = (size_t)k;
	im->answered++;
	if (im->answered == im->nbatches)
		im->last_reply = bench_now_ns();
}

/* On an existing broker an earlier run may have made the configs (and
 * their channel) already. */
static bool tolerated(const import_t *im, json_t *resp, const char *what)
{
	const char *cmd = json_string_value(json_object_get(resp, "command"));
	const char *err = json_string_value(json_object_get(resp, "error"));

	return !im->o->own_broker && cmd != NULL && err != NULL
			&& strcmp(cmd, what) == 0 && strcmp(err, "conflict") == 0;
}

static void count_errors(import_t *im, json_t *list, size_t want)
{
	size_t i;
	json_t *resp;

	if (json_array_size(list) != want) {
		fprintf(stderr, "bench: batch %zu: %zu responses for %zu commands\n",
				im->reply_batch, json_array_size(list), want);
		im->errors += want;
		return;
	}
	json_array_foreach(list, i, resp) {
		if (json_object_get(resp, "error") == NULL
				|| tolerated(im, resp, "createChannel"))
			continue;
		if (tolerated(im, resp, "createConfig")) {
			im->existing++;
			continue;
		}
		if (im->errors == 0) {
			char *text = json_dumps(resp, JSON_COMPACT);
			fprintf(stderr, "bench: batch %zu, command %zu: %s\n", im->reply_batch,
					i, text != NULL ? text : "(error)");
			free(text);
		}
		im->errors++;
	}
}

static void check_reply(import_t *im)
{
	size_t lo = 0, hi = 0, want;
	json_error_t jerr;
	json_t *root = json_loadb(im->reply, im->reply_len, 0, &jerr);

	if (im->reply_batch > 0)
		batch_devices(im, im->reply_batch, &lo, &hi);
	want = im->reply_batch == 0 ? 1 : 2 * (hi - lo);
	if (root == NULL) {
		fprintf(stderr, "bench: batch %zu: reply is not JSON: %s\n",
				im->reply_batch, jerr.text);
		im->errors += want;
	} else {
		count_errors(im, json_object_get(root, "responses"), want);
	}
	json_decref(root);
	free(im->reply);
	im->reply = NULL;
}

/* Publishes the next batch as soon as the previous reply is in, then
 * checks that reply and builds the batch after, while the broker works. */
static int pump(import_t *im, uint64_t *deadline)
{
	if (im->reply == NULL)
		return 0;
	if (im->sent < im->nbatches) {
		if (publish_next(im) != 0)
			return -1;
		*deadline = bench_now_ns() + BATCH_WAIT_NS;
	}
	check_reply(im);
	if (im->sent < im->nbatches)
		return build_batch(im, im->sent);
	return 0;
}

static int run_batches(import_t *im, uint64_t *t0)
{
	uint64_t deadline;

	if (build_batch(im, 0) != 0)
		return -1;
	*t0 = bench_now_ns();
	if (publish_next(im) != 0)
		return -1;
	deadline = *t0 + BATCH_WAIT_NS;
	if (im->nbatches > 1 && build_batch(im, 1) != 0)
		return -1;
	while (im->answered < im->nbatches || im->reply != NULL) {
		if (bench_stop || im->failed)
			return -1;
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "bench: no reply to admin batch %zu\n", im->sent - 1);
			return -1;
		}
		if (engine_step(&im->eng, 50) != 0 || pump(im, &deadline) != 0)
			return -1;
	}
	return 0;
}

int admin_import(const bench_opts_t *o, size_t n, bench_result_t *r)
{
	bench_engine_cfg_t cfg = {
		.host = o->host, .port = o->port, .user = o->admin_user,
		.password = o->admin_password, .id_prefix = "bench-admin-",
	};
	import_t im = { .o = o, .n = n,
		.nbatches = 1 + (n + BATCH_DEVICES - 1) / BATCH_DEVICES };
	uint64_t t0 = 0;
	int rc;

	if (n == 0)
		return 0;
	if (engine_open(&im.eng, 1, &cfg) != 0)
		return -1;
	im.eng.on_msg = on_reply;
	im.eng.ctx = &im;
	rc = run_batches(&im, &t0);
	engine_close(&im.eng);
	free(im.reply);
	free(im.next.data);
	/* Batches of devices: the channel's is not one. */
	r->import_batches = im.answered > 0 ? im.answered - 1 : 0;
	r->import_errors = im.errors;
	r->import_existing = im.existing;
	if (rc != 0)
		return -1;
	r->import_seconds = (double)(im.last_reply - t0) / (double)NS_PER_S;
	r->import_rate = (double)n / r->import_seconds;
	if (im.errors != 0) {
		fprintf(stderr, "bench: %llu admin commands failed\n",
				(unsigned long long)im.errors);
		return -1;
	}
	return 0;
}
