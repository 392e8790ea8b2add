#include "link.h"

#include <errno.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEPALIVE 60
#define STEP_MS 100

long long tool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tool_parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);

	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *line)
{
	tool_link_t *l = obj;

	(void)mosq;
	if (level == MOSQ_LOG_ERR)
		snprintf(l->log_err, sizeof l->log_err, "%s", line);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	((tool_link_t *)obj)->connack = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	((tool_link_t *)obj)->gone = true;
}

const char *tool_link_why(const tool_link_t *l, int rc)
{
	if (l->log_err[0] != '\0')
		return l->log_err;
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

int tool_link_pump(tool_link_t *l, long long deadline,
		bool (*done)(const void *obj), const void *obj, bool *timed_out)
{
	*timed_out = false;
	while (!done(obj)) {
		long long left = deadline - tool_now_ms();
		if (left <= 0) {
			*timed_out = true;
			return -1;
		}
		int rc = mosquitto_loop(l->mosq, left < STEP_MS ? (int)left : STEP_MS, 1);
		/* A refusing CONNACK comes with the end of the connection. */
		if (done(obj))
			break;
		if (rc != MOSQ_ERR_SUCCESS || l->gone) {
			fprintf(stderr, "%s: connection to %s:%d failed: %s\n", l->b.name,
					l->b.host, l->b.port, rc != MOSQ_ERR_SUCCESS
					? tool_link_why(l, rc) : "the broker closed the connection");
			return -1;
		}
	}
	return 0;
}

static int set_tls(tool_link_t *l)
{
	const tool_broker_t *b = &l->b;
	int rc;

	if (b->cafile == NULL && b->capath == NULL)
		return TOOL_OK;
	rc = mosquitto_tls_set(l->mosq, b->cafile, b->capath, b->certfile, b->keyfile, NULL);
	if (rc == MOSQ_ERR_SUCCESS && b->insecure)
		rc = mosquitto_tls_insecure_set(l->mosq, true);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "%s: cannot use the TLS files given (--cafile, "
				"--capath, --cert, --key): %s\n", b->name, mosquitto_strerror(rc));
		return TOOL_EUSAGE;
	}
	return TOOL_OK;
}

static int make_client(tool_link_t *l, void *obj)
{
	const tool_broker_t *b = &l->b;

	if ((l->mosq = mosquitto_new(b->client_id, true, obj)) == NULL) {
		fprintf(stderr, "%s: cannot create the MQTT client: %s\n", b->name,
				strerror(errno));
		return TOOL_ECONN;
	}
	mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			b->version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_int_option(l->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_log_callback_set(l->mosq, on_log);
	mosquitto_connect_v5_callback_set(l->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(l->mosq, on_disconnect);
	if (b->username != NULL &&
			mosquitto_username_pw_set(l->mosq, b->username, b->password) != 0) {
		fprintf(stderr, "%s: cannot set the username\n", b->name);
		return TOOL_EUSAGE;
	}
	return set_tls(l);
}

static bool connacked(const void *obj)
{
	return ((const tool_link_t *)obj)->connack >= 0;
}

int tool_link_open(tool_link_t *l, const tool_broker_t *b, void *obj,
		long long deadline)
{
	bool timed_out;
	int rc;

	l->b = *b;
	l->connack = -1;
	if ((rc = make_client(l, obj)) != TOOL_OK)
		return rc;
	/* Asynchronous, so that an unanswered SYN ends at the deadline too. */
	rc = mosquitto_connect_async(l->mosq, b->host, b->port, KEEPALIVE);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "%s: cannot connect to %s:%d: %s\n", b->name, b->host,
				b->port, tool_link_why(l, rc));
		return TOOL_ECONN;
	}
	if (tool_link_pump(l, deadline, connacked, l, &timed_out) != 0) {
		if (timed_out)
			fprintf(stderr, "%s: no connection to %s:%d within %d s\n",
					b->name, b->host, b->port, b->timeout);
		return TOOL_ECONN;
	}
	if (l->connack != 0) {
		fprintf(stderr, "%s: %s:%d refused the connection: %s\n", b->name,
				b->host, b->port, b->version == 5
				? mosquitto_reason_string(l->connack)
				: mosquitto_connack_string(l->connack));
		return TOOL_ECONN;
	}
	return TOOL_OK;
}

void tool_link_close(tool_link_t *l)
{
	if (l->mosq == NULL)
		return;
	if (l->connack == 0 && !l->gone && mosquitto_disconnect(l->mosq) == MOSQ_ERR_SUCCESS) {
		for (int i = 0; i < 10 && !l->gone; i++)
			mosquitto_loop(l->mosq, STEP_MS, 1);
	}
	mosquitto_destroy(l->mosq);
	l->mosq = NULL;
}
