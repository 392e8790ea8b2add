/*
 * The admin's one connection, driven from this thread with mosquitto_loop
 * so that every wait ends at a deadline (-W) and the program needs no
 * threads.
 *
 * How answers find the tool (protocol section 4): each batch goes out at
 * QoS 1 with a Response Topic, $CONTROL/bootstrap/v1/response/<token>, and
 * Correlation Data, <token><tag>, where the token is random for this run
 * and the tag numbers the batch. The plugin answers with a directed
 * publish on that topic, echoing the Correlation Data: no subscription is
 * needed, no other admin's answers are seen, and an answer is matched to
 * its batch by the tag even with several batches in flight. The topic lies
 * under $CONTROL/bootstrap/, which an admin may read whatever the broker's
 * other ACL sources say.
 */
#include "ctrl.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEPALIVE 60
#define TOKEN_LEN 8
#define CORR_LEN (TOKEN_LEN + 4)
#define STEP_MS 100

typedef struct {
	bool used;
	unsigned tag;
	int mid;
	int puback;                 /* -1 until acknowledged */
	json_t *responses;          /* the answer's array, once it came */
	bool bad;                   /* an answer came that is not the protocol's */
} slot_t;

struct ctrl_conn {
	struct mosquitto *mosq;
	const ctrl_opts_t *o;
	int connack;                /* -1 until the CONNACK */
	bool gone;                  /* the connection ended */
	char log_err[256];          /* libmosquitto's last error line */
	uint8_t token[TOKEN_LEN];
	char topic[64];             /* the Response Topic */
	slot_t slot[CTRL_WINDOW];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *line)
{
	(void)mosq;
	if (level == MOSQ_LOG_ERR)
		snprintf(((ctrl_conn_t *)obj)->log_err, sizeof ((ctrl_conn_t *)obj)->log_err,
				"%s", line);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	((ctrl_conn_t *)obj)->connack = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	((ctrl_conn_t *)obj)->gone = true;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
		const mosquitto_property *props)
{
	ctrl_conn_t *c = obj;

	(void)mosq;
	(void)props;
	for (size_t i = 0; i < CTRL_WINDOW; i++) {
		if (c->slot[i].used && c->slot[i].mid == mid)
			c->slot[i].puback = reason;
	}
}

/* The batch in flight that msg answers, by its Correlation Data; NULL
 * when it answers none of ours. */
static slot_t *answered_slot(ctrl_conn_t *c, const mosquitto_property *props)
{
	uint8_t *corr = NULL;
	uint16_t len = 0;
	slot_t *s = NULL;

	if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
				(void **)&corr, &len, false) != NULL &&
			len == CORR_LEN && memcmp(corr, c->token, TOKEN_LEN) == 0) {
		unsigned tag = (unsigned)corr[TOKEN_LEN] << 24 | (unsigned)corr[TOKEN_LEN + 1] << 16
			| (unsigned)corr[TOKEN_LEN + 2] << 8 | corr[TOKEN_LEN + 3];
		for (size_t i = 0; s == NULL && i < CTRL_WINDOW; i++) {
			if (c->slot[i].used && c->slot[i].tag == tag &&
					c->slot[i].responses == NULL && !c->slot[i].bad)
				s = &c->slot[i];
		}
	}
	free(corr);
	return s;
}

static void on_message(struct mosquitto *mosq, void *obj,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	slot_t *s = answered_slot(obj, props);
	json_t *reply, *responses;

	(void)mosq;
	if (s == NULL)
		return;
	reply = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	responses = json_object_get(reply, "responses");
	if (json_is_array(responses))
		s->responses = json_incref(responses);
	else
		s->bad = true;
	json_decref(reply);
}

/* Why libmosquitto failed with rc: its own log line says more (which TLS
 * check failed, say) than its error code. */
static const char *why(const ctrl_conn_t *c, int rc)
{
	if (c->log_err[0] != '\0')
		return c->log_err;
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

static bool connacked(const ctrl_conn_t *c)
{
	return c->connack >= 0;
}

static slot_t *ready_slot(ctrl_conn_t *c)
{
	for (size_t i = 0; i < CTRL_WINDOW; i++) {
		slot_t *s = &c->slot[i];
		if (s->used && (s->responses != NULL || s->bad || s->puback >= 0x80))
			return s;
	}
	return NULL;
}

static bool any_ready(const ctrl_conn_t *c)
{
	return ready_slot((ctrl_conn_t *)c) != NULL;
}

/* Runs the network until done(c) holds or -W seconds pass: 0, or -1 when
 * the time ran out (*timed_out) or the connection failed (said on stderr). */
static int pump(ctrl_conn_t *c, bool (*done)(const ctrl_conn_t *), bool *timed_out)
{
	long long deadline = now_ms() + (long long)c->o->timeout * 1000;

	*timed_out = false;
	while (!done(c)) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			*timed_out = true;
			return -1;
		}
		int rc = mosquitto_loop(c->mosq, left < STEP_MS ? (int)left : STEP_MS, 1);
		/* A refusing CONNACK comes with the end of the connection. */
		if (done(c))
			break;
		if (rc != MOSQ_ERR_SUCCESS || c->gone) {
			fprintf(stderr, CTRL_NAME ": connection to %s:%d failed: %s\n",
					c->o->host, c->o->port, rc != MOSQ_ERR_SUCCESS ? why(c, rc)
					: "the broker closed the connection");
			return -1;
		}
	}
	return 0;
}

static int set_tls(ctrl_conn_t *c)
{
	const ctrl_opts_t *o = c->o;
	int rc;

	if (o->cafile == NULL && o->capath == NULL)
		return CTRL_OK;
	rc = mosquitto_tls_set(c->mosq, o->cafile, o->capath, o->certfile, o->keyfile, NULL);
	if (rc == MOSQ_ERR_SUCCESS && o->insecure)
		rc = mosquitto_tls_insecure_set(c->mosq, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, CTRL_NAME ": cannot use the TLS files given (--cafile, "
				"--capath, --cert, --key): %s\n", mosquitto_strerror(rc));
		return CTRL_EUSAGE;
	}
	return CTRL_OK;
}

static int make_client(ctrl_conn_t *c)
{
	const ctrl_opts_t *o = c->o;

	if ((c->mosq = mosquitto_new(o->client_id, true, c)) == NULL) {
		fprintf(stderr, CTRL_NAME ": cannot create the MQTT client: %s\n",
				strerror(errno));
		return CTRL_ECONN;
	}
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_log_callback_set(c->mosq, on_log);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	if (o->username != NULL &&
			mosquitto_username_pw_set(c->mosq, o->username, o->password) != 0) {
		fprintf(stderr, CTRL_NAME ": cannot set the username\n");
		return CTRL_EUSAGE;
	}
	return set_tls(c);
}

static int connect_broker(ctrl_conn_t *c)
{
	const ctrl_opts_t *o = c->o;
	bool timed_out;
	/* Asynchronous, so that an unanswered SYN ends at the deadline too. */
	int rc = mosquitto_connect_async(c->mosq, o->host, o->port, KEEPALIVE);

	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, CTRL_NAME ": cannot connect to %s:%d: %s\n", o->host,
				o->port, why(c, rc));
		return CTRL_ECONN;
	}
	if (pump(c, connacked, &timed_out) != 0) {
		if (timed_out)
			fprintf(stderr, CTRL_NAME ": no connection to %s:%d within %d s\n",
					o->host, o->port, o->timeout);
		return CTRL_ECONN;
	}
	if (c->connack != 0) {
		fprintf(stderr, CTRL_NAME ": %s:%d refused the connection: %s\n",
				o->host, o->port, mosquitto_reason_string(c->connack));
		return CTRL_ECONN;
	}
	return CTRL_OK;
}

int ctrl_mqtt_open(const ctrl_opts_t *o, ctrl_conn_t **out)
{
	ctrl_conn_t *c = calloc(1, sizeof *c);
	int rc;

	*out = NULL;
	if (c == NULL || RAND_bytes(c->token, TOKEN_LEN) != 1) {
		free(c);
		fprintf(stderr, CTRL_NAME ": out of memory or randomness\n");
		return CTRL_ECONN;
	}
	c->o = o;
	c->connack = -1;
	int n = snprintf(c->topic, sizeof c->topic, "%s/response/", CTRL_TOPIC);
	for (size_t i = 0; i < TOKEN_LEN; i++)
		n += snprintf(c->topic + n, sizeof c->topic - (size_t)n, "%02x", c->token[i]);
	if ((rc = make_client(c)) != CTRL_OK || (rc = connect_broker(c)) != CTRL_OK) {
		ctrl_mqtt_close(c);
		return rc;
	}
	*out = c;
	return CTRL_OK;
}

size_t ctrl_mqtt_in_flight(const ctrl_conn_t *c)
{
	size_t n = 0;

	for (size_t i = 0; i < CTRL_WINDOW; i++)
		n += c->slot[i].used;
	return n;
}

int ctrl_mqtt_send(ctrl_conn_t *c, const char *payload, size_t len, unsigned tag)
{
	mosquitto_property *props = NULL;
	uint8_t corr[CORR_LEN];
	slot_t *s = NULL;
	int rc;

	for (size_t i = 0; s == NULL && i < CTRL_WINDOW; i++) {
		if (!c->slot[i].used)
			s = &c->slot[i];
	}
	if (s == NULL || len > INT32_MAX)
		return CTRL_ECONN;
	memcpy(corr, c->token, TOKEN_LEN);
	corr[TOKEN_LEN] = (uint8_t)(tag >> 24);
	corr[TOKEN_LEN + 1] = (uint8_t)(tag >> 16);
	corr[TOKEN_LEN + 2] = (uint8_t)(tag >> 8);
	corr[TOKEN_LEN + 3] = (uint8_t)tag;
	*s = (slot_t){ .used = true, .tag = tag, .puback = -1 };
	rc = mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, c->topic);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr,
				CORR_LEN);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_publish_v5(c->mosq, &s->mid, CTRL_TOPIC, (int)len, payload,
				1, false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		s->used = false;
		fprintf(stderr, CTRL_NAME ": cannot send the commands: %s\n", why(c, rc));
		return CTRL_ECONN;
	}
	return CTRL_OK;
}

int ctrl_mqtt_wait(ctrl_conn_t *c, unsigned *tag, json_t **responses)
{
	bool timed_out;
	slot_t *s;

	*responses = NULL;
	if (pump(c, any_ready, &timed_out) != 0) {
		if (timed_out)
			fprintf(stderr, CTRL_NAME ": no answer within %d s (is the bootstrap "
					"plugin loaded, and is %s in its admin_users?)\n", c->o->timeout,
					c->o->username != NULL ? c->o->username : "an anonymous admin");
		return CTRL_ECONN;
	}
	s = ready_slot(c);
	s->used = false;
	*tag = s->tag;
	if (s->responses != NULL) {
		*responses = s->responses;      /* the caller's reference now */
		s->responses = NULL;
		return CTRL_OK;
	}
	if (s->bad)
		fprintf(stderr, CTRL_NAME ": the answer is not {\"responses\": [...]}\n");
	else
		fprintf(stderr, CTRL_NAME ": the broker refused the commands: %s (is %s "
				"in the plugin's admin_users?)\n", mosquitto_reason_string(s->puback),
				c->o->username != NULL ? c->o->username : "an anonymous client");
	return CTRL_ECONN;
}

int ctrl_mqtt_ask(ctrl_conn_t *c, const json_t *commands, json_t **responses)
{
	json_t *batch = json_pack("{sO}", "commands", commands);
	char *text = batch != NULL ? json_dumps(batch, JSON_COMPACT) : NULL;
	unsigned tag;
	int rc = CTRL_ECONN;

	*responses = NULL;
	json_decref(batch);
	if (text == NULL)
		fprintf(stderr, CTRL_NAME ": out of memory\n");
	else if ((rc = ctrl_mqtt_send(c, text, strlen(text), 0)) == CTRL_OK)
		rc = ctrl_mqtt_wait(c, &tag, responses);
	if (text != NULL)
		OPENSSL_cleanse(text, strlen(text));      /* it may hold a key */
	free(text);
	return rc;
}

void ctrl_mqtt_close(ctrl_conn_t *c)
{
	if (c == NULL)
		return;
	if (c->mosq != NULL) {
		/* Lets the DISCONNECT go out, so that the broker logs a clean end. */
		if (c->connack == 0 && !c->gone &&
				mosquitto_disconnect(c->mosq) == MOSQ_ERR_SUCCESS) {
			for (int i = 0; i < 10 && !c->gone; i++)
				mosquitto_loop(c->mosq, STEP_MS, 1);
		}
		mosquitto_destroy(c->mosq);
	}
	for (size_t i = 0; i < CTRL_WINDOW; i++)
		json_decref(c->slot[i].responses);
	free(c);
}
