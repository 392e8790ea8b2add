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

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEPALIVE 60
#define CORR_LEN 16
#define STEP_MS 100

struct dev_conn {
	struct mosquitto *mosq;
	const dev_opts_t *o;
	long long deadline;         /* CLOCK_MONOTONIC ms */
	char *reply_topic;
	int connack;                /* -1 until the CONNACK */
	bool gone;                  /* the connection ended */
	char log_err[256];          /* libmosquitto's last error line */
	/* the request in flight */
	int mid;
	int puback;                 /* -1 until acknowledged */
	const char *req_id;
	uint8_t corr[CORR_LEN];
	json_t *reply;
	bool bad;                   /* a reply came that is not JSON */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *line)
{
	dev_conn_t *c = obj;

	(void)mosq;
	if (level == MOSQ_LOG_ERR)
		snprintf(c->log_err, sizeof c->log_err, "%s", line);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	((dev_conn_t *)obj)->connack = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	((dev_conn_t *)obj)->gone = true;
}

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

/* Why libmosquitto failed with rc: its own log line says more (which TLS
 * check failed, say) than its error code. */
static const char *why(const dev_conn_t *c, int rc)
{
	if (c->log_err[0] != '\0')
		return c->log_err;
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* Runs the network until done(c) holds: 0, or -1 when the deadline passed
 * (*timed_out set) or the connection failed (the reason on stderr). */
static int pump(dev_conn_t *c, bool (*done)(const dev_conn_t *), bool *timed_out)
{
	*timed_out = false;
	while (!done(c)) {
		long long left = c->deadline - now_ms();
		if (left <= 0) {
			*timed_out = true;
			return -1;
		}
		int rc = mosquitto_loop(c->mosq, left < STEP_MS ? (int)left : STEP_MS, 1);
		if (rc != MOSQ_ERR_SUCCESS || c->gone) {
			fprintf(stderr, DEV_NAME ": connection to %s:%d failed: %s\n",
					c->o->host, c->o->port, rc != MOSQ_ERR_SUCCESS ? why(c, rc)
					: "the broker closed the connection");
			return -1;
		}
	}
	return 0;
}

static bool connacked(const dev_conn_t *c)
{
	return c->connack >= 0;
}

static bool answered(const dev_conn_t *c)
{
	return c->reply != NULL || c->bad || (c->puback >= 0x80);
}

static int set_tls(dev_conn_t *c)
{
	const dev_opts_t *o = c->o;
	int rc;

	if (o->cafile == NULL && o->capath == NULL)
		return DEV_OK;
	rc = mosquitto_tls_set(c->mosq, o->cafile, o->capath, o->certfile,
			o->keyfile, NULL);
	if (rc == MOSQ_ERR_SUCCESS && o->insecure)
		rc = mosquitto_tls_insecure_set(c->mosq, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, DEV_NAME ": cannot use the TLS files given "
				"(--cafile, --capath, --cert, --key): %s\n", mosquitto_strerror(rc));
		return DEV_EUSAGE;
	}
	return DEV_OK;
}

static int make_client(dev_conn_t *c)
{
	const dev_opts_t *o = c->o;

	c->mosq = mosquitto_new(o->client_id, true, c);
	if (c->mosq == NULL) {
		fprintf(stderr, DEV_NAME ": cannot create the MQTT client: %s\n",
				strerror(errno));
		return DEV_ECONN;
	}
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			o->version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_log_callback_set(c->mosq, on_log);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	if (o->username != NULL &&
			mosquitto_username_pw_set(c->mosq, o->username, o->password) != 0) {
		fprintf(stderr, DEV_NAME ": cannot set the username\n");
		return DEV_EUSAGE;
	}
	return set_tls(c);
}

static int connect_broker(dev_conn_t *c)
{
	const dev_opts_t *o = c->o;
	bool timed_out;
	/* Asynchronous, so that an unanswered SYN ends at the deadline too. */
	int rc = mosquitto_connect_async(c->mosq, o->host, o->port, KEEPALIVE);

	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, DEV_NAME ": cannot connect to %s:%d: %s\n", o->host,
				o->port, why(c, rc));
		return DEV_ECONN;
	}
	if (pump(c, connacked, &timed_out) != 0) {
		if (timed_out)
			fprintf(stderr, DEV_NAME ": no connection to %s:%d within %d s\n",
					o->host, o->port, o->timeout);
		return DEV_ECONN;
	}
	if (c->connack != 0) {
		fprintf(stderr, DEV_NAME ": %s:%d refused the connection: %s\n",
				o->host, o->port, o->version == 5
				? mosquitto_reason_string(c->connack)
				: mosquitto_connack_string(c->connack));
		return DEV_ECONN;
	}
	return DEV_OK;
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
	c->connack = -1;
	c->deadline = now_ms() + (long long)o->timeout * 1000;
	if ((rc = make_client(c)) == DEV_OK && (rc = connect_broker(c)) == DEV_OK &&
			o->version != 5 &&
			mosquitto_subscribe(c->mosq, NULL, c->reply_topic, 1) != 0) {
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
	rc = mosquitto_publish_v5(c->mosq, &c->mid, topic, (int)strlen(request),
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
	if (pump(c, answered, &timed_out) != 0) {
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
	if (c->mosq != NULL) {
		/* Lets the DISCONNECT go out, so that the broker logs a clean end. */
		if (c->connack == 0 && !c->gone &&
				mosquitto_disconnect(c->mosq) == MOSQ_ERR_SUCCESS) {
			for (int i = 0; i < 10 && !c->gone; i++)
				mosquitto_loop(c->mosq, STEP_MS, 1);
		}
		mosquitto_destroy(c->mosq);
	}
	json_decref(c->reply);
	free(c->reply_topic);
	free(c);
}
