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
#include "jsonr.h"
#include "link.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_LEN 8
#define CORR_LEN (TOKEN_LEN + 4)

typedef struct {
	bool used;
	unsigned tag;
	int mid;
	int puback;                 /* -1 until acknowledged */
	json_t *responses;          /* the answer's array, once it came */
	bool bad;                   /* an answer came that is not the protocol's */
} slot_t;

struct ctrl_conn {
	tool_link_t link;           /* first: the callbacks' object is both */
	const ctrl_opts_t *o;
	uint8_t token[TOKEN_LEN];
	char topic[64];             /* the Response Topic */
	slot_t slot[CTRL_WINDOW];
};

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
	reply = jr_parse(msg->payload, (size_t)msg->payloadlen);
	responses = json_object_get(reply, "responses");
	if (json_is_array(responses))
		s->responses = json_incref(responses);
	else
		s->bad = true;
	json_decref(reply);
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

static bool any_ready(const void *obj)
{
	return ready_slot((ctrl_conn_t *)obj) != NULL;
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
	int n = snprintf(c->topic, sizeof c->topic, "%s/response/", CTRL_TOPIC);
	for (size_t i = 0; i < TOKEN_LEN; i++)
		n += snprintf(c->topic + n, sizeof c->topic - (size_t)n, "%02x", c->token[i]);
	rc = tool_link_open(&c->link, &(tool_broker_t){ .name = CTRL_NAME,
			.host = o->host, .port = o->port, .version = 5,
			.username = o->username, .password = o->password,
			.client_id = o->client_id, .cafile = o->cafile, .capath = o->capath,
			.certfile = o->certfile, .keyfile = o->keyfile,
			.insecure = o->insecure, .timeout = o->timeout },
			c, tool_now_ms() + (long long)o->timeout * 1000);
	if (rc != CTRL_OK) {
		ctrl_mqtt_close(c);
		return rc;
	}
	mosquitto_publish_v5_callback_set(c->link.mosq, on_publish);
	mosquitto_message_v5_callback_set(c->link.mosq, on_message);
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
		rc = mosquitto_publish_v5(c->link.mosq, &s->mid, CTRL_TOPIC, (int)len, payload,
				1, false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		s->used = false;
		fprintf(stderr, CTRL_NAME ": cannot send the commands: %s\n", tool_link_why(&c->link, rc));
		return CTRL_ECONN;
	}
	return CTRL_OK;
}

int ctrl_mqtt_wait(ctrl_conn_t *c, unsigned *tag, json_t **responses)
{
	bool timed_out;
	slot_t *s;

	*responses = NULL;
	if (tool_link_pump(&c->link, tool_now_ms() + (long long)c->o->timeout * 1000,
			any_ready, c, &timed_out) != 0) {
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
	tool_link_close(&c->link);
	for (size_t i = 0; i < CTRL_WINDOW; i++)
		json_decref(c->slot[i].responses);
	free(c);
}
