/*
 * The device's one connection, driven from this thread with mosquitto_loop
 * so that every wait ends at one deadline (-W) and the program needs no
 * threads.
 *
 * How the reply finds the device (protocol section 3): the plugin answers
 * with a directed publish, so the device needs no subscription. Over MQTT
 * v5 the request names its reply topic (Response Topic) and carries fresh
 * Correlation Data, which the reply echoes: a reply is recognised by it.
 * Over MQTT 3.1.1 the reply comes on <prefix>/res/<external_id>; the device
 * subscribes to it first anyway, as a 3.1.1 client expecting a reply
 * usually would, and recognises its reply by the echoed "id".
 */
#include "device.h"
#include "link.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORR_LEN 16

struct dev_conn {
	tool_link_t link;           /* first: the callbacks' object is both */
	const dev_opts_t *o;
	long long deadline;         /* tool_now_ms time, for the whole run */
	char *reply_topic;
	/* the request in flight */
	int mid;
	int puback;                 /* -1 until acknowledged */
	const char *req_id;
	uint8_t corr[CORR_LEN];
	json_t *reply;
	bool bad;                   /* a reply came that is not JSON */
};

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
		const mosquitto_property *props)
{
	dev_conn_t *c = obj;

	(void)mosq;
	(void)props;
	if (mid == c->mid)
		c->puback = reason;
}

/* True when msg answers the request in flight (see the top of the file). */
static bool ours(const dev_conn_t *c, const struct mosquitto_message *msg,
		const mosquitto_property *props, const json_t *reply)
{
	if (c->o->version == 5) {
		void *corr = NULL;
		uint16_t len = 0;
		bool same = mosquitto_property_read_binary(props,
				MQTT_PROP_CORRELATION_DATA, &corr, &len, false) != NULL
			&& len == CORR_LEN && memcmp(corr, c->corr, CORR_LEN) == 0;
		free(corr);
		return same;
	}
	/* A reply without "id" answers a request whose id could not be read. */
	const char *id = json_string_value(json_object_get(reply, "id"));
	return strcmp(msg->topic, c->reply_topic) == 0
		&& (id == NULL || strcmp(id, c->req_id) == 0);
}

static void on_message(struct mosquitto *mosq, void *obj,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	dev_conn_t *c = obj;
	json_t *reply;

	(void)mosq;
	if (c->req_id == NULL || c->reply != NULL || c->bad)
		return;
	reply = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	if (!ours(c, msg, props, reply)) {
		json_decref(reply);
		return;
	}
	if (json_is_object(reply))
		c->reply = reply;
	else {
		json_decref(reply);
		c->bad = true;
	}
}

static bool answered(const void *obj)
{
	const dev_conn_t *c = obj;
	return c->reply != NULL || c->bad || (c->puback >= 0x80);
}

int dev_mqtt_open(const dev_opts_t *o, dev_conn_t **out)
{
	dev_conn_t *c = calloc(1, sizeof *c);
	size_t n = strlen(o->prefix) + strlen(o->external_id) + sizeof "/res/";
	int rc;

	*out = NULL;
	if (c == NULL || (c->reply_topic = malloc(n)) == NULL) {
		free(c);
		fprintf(stderr, DEV_NAME ": out of memory\n");
		return DEV_ECONN;
	}
	snprintf(c->reply_topic, n, "%s/res/%s", o->prefix, o->external_id);
	c->o = o;
	c->deadline = tool_now_ms() + (long long)o->timeout * 1000;
	rc = tool_link_open(&c->link, &(tool_broker_t){ .name = DEV_NAME,
			.host = o->host, .port = o->port, .version = o->version,
			.username = o->username, .password = o->password,
			.client_id = o->client_id, .cafile = o->cafile, .capath = o->capath,
			.certfile = o->certfile, .keyfile = o->keyfile,
			.insecure = o->insecure, .timeout = o->timeout }, c, c->deadline);
	if (rc == DEV_OK) {
		mosquitto_publish_v5_callback_set(c->link.mosq, on_publish);
		mosquitto_message_v5_callback_set(c->link.mosq, on_message);
	}
	if (rc == DEV_OK && o->version != 5 &&
			mosquitto_subscribe(c->link.mosq, NULL, c->reply_topic, 1) != 0) {
		fprintf(stderr, DEV_NAME ": cannot subscribe to %s\n", c->reply_topic);
		rc = DEV_ECONN;
	}
	if (rc != DEV_OK) {
		dev_mqtt_close(c);
		return rc;
	}
	*out = c;
	return DEV_OK;
}

/* The request's properties: its reply topic and fresh correlation data. */
static mosquitto_property *request_props(dev_conn_t *c)
{
	mosquitto_property *props = NULL;
	char hex[2 * CORR_LEN + 1];

	if (dev_random_hex(hex, CORR_LEN / 2) != 0)
		return NULL;
	memcpy(c->corr, hex, CORR_LEN);
	if (mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC,
				c->reply_topic) != 0 ||
			mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA,
				c->corr, CORR_LEN) != 0) {
		mosquitto_property_free_all(&props);
		return NULL;
	}
	return props;
}

static int publish(dev_conn_t *c, const char *request)
{
	char topic[300];
	mosquitto_property *props = NULL;
	int rc;

	snprintf(topic, sizeof topic, "%s/req", c->o->prefix);
	if (c->o->version == 5 && (props = request_props(c)) == NULL)
		return -1;
	rc = mosquitto_publish_v5(c->link.mosq, &c->mid, topic, (int)strlen(request),
			request, 1, false, props);
	mosquitto_property_free_all(&props);
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int dev_mqtt_ask(dev_conn_t *c, const char *request, const char *req_id,
		json_t **reply)
{
	bool timed_out;

	*reply = NULL;
	c->req_id = req_id;
	c->puback = -1;
	c->bad = false;
	if (publish(c, request) != 0) {
		fprintf(stderr, DEV_NAME ": cannot send the request\n");
		return DEV_ECONN;
	}
	if (tool_link_pump(&c->link, c->deadline, answered, c, &timed_out) != 0) {
		if (timed_out)
			fprintf(stderr, DEV_NAME ": no reply within %d s (is the bootstrap "
					"plugin loaded, with topic prefix \"%s\"?)\n",
					c->o->timeout, c->o->prefix);
		return DEV_ECONN;
	}
	c->req_id = NULL;
	if (c->reply == NULL && !c->bad) {
		fprintf(stderr, DEV_NAME ": the broker refused the request: %s\n",
				mosquitto_reason_string(c->puback));
		return DEV_ECONN;
	}
	if (c->bad) {
		fprintf(stderr, DEV_NAME ": the reply is not a JSON object\n");
		return DEV_EBADREPLY;
	}
	*reply = c->reply;
	c->reply = NULL;
	return DEV_OK;
}

void dev_mqtt_close(dev_conn_t *c)
{
	if (c == NULL)
		return;
	tool_link_close(&c->link);
	json_decref(c->reply);
	free(c->reply_topic);
	free(c);
}
