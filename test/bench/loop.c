/*
 * The connection engine: every client on one thread, multiplexed with
 * poll() over mosquitto_socket(). One thread keeps the measurement honest
 * on a small machine: the broker is single-threaded too, and a thread per
 * connection would measure the scheduler as much as the broker.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CONNECT_WAIT_NS (10 * NS_PER_S)
#define CLOSE_WAIT_NS (2 * NS_PER_S)
#define MISC_EVERY_NS (100 * NS_PER_MS)
/* Packets read per wake-up of one socket: fair to the other sockets. */
#define READ_BURST 256
#define KEEPALIVE_S 60

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		const mosquitto_property *props)
{
	bench_conn_t *c = obj;

	(void)flags;
	(void)props;
	if (rc != 0) {
		fprintf(stderr, "bench: connection %d refused: %s\n", c->index,
				mosquitto_reason_string(rc));
		c->failed = true;
		return;
	}
	c->connected = true;
	if (!c->eng->subscribe)
		return;
	rc = mosquitto_subscribe_v5(mosq, NULL, c->topic, 0, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: subscribe %s: %s\n", c->topic, mosquitto_strerror(rc));
		c->failed = true;
	}
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
		const int *granted, const mosquitto_property *props)
{
	bench_conn_t *c = obj;

	(void)mosq;
	(void)mid;
	(void)props;
	if (qos_count != 1 || granted[0] > 2) {
		fprintf(stderr, "bench: subscription to %s refused\n", c->topic);
		c->failed = true;
		return;
	}
	c->subscribed = true;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
		const mosquitto_property *props)
{
	bench_conn_t *c = obj;

	(void)mosq;
	(void)props;
	if (c->closing)
		return;
	fprintf(stderr, "bench: connection %d lost: %s\n", c->index,
			rc > 0 && rc < 128 ? mosquitto_strerror(rc) : mosquitto_reason_string(rc));
	c->failed = true;
}

static void on_message(struct mosquitto *mosq, void *obj,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	bench_conn_t *c = obj;

	(void)mosq;
	if (c->eng->on_msg != NULL)
		c->eng->on_msg(c->eng->ctx, c, msg, props);
}

/* The connection's username and password: its own, the engine's or none. */
static int conn_login(struct mosquitto *mosq, int i, const bench_engine_cfg_t *cfg)
{
	bench_login_t login;

	if (cfg->login != NULL) {
		cfg->login(cfg->login_arg, i, &login);
		return mosquitto_username_pw_set(mosq, login.user, login.password);
	}
	if (cfg->user != NULL)
		return mosquitto_username_pw_set(mosq, cfg->user, cfg->password);
	return MOSQ_ERR_SUCCESS;
}

static int conn_new(bench_engine_t *e, int i, const bench_engine_cfg_t *cfg)
{
	bench_conn_t *c = &e->conns[i];
	char id[64];
	int rc;

	c->eng = e;
	c->index = i;
	snprintf(c->topic, sizeof(c->topic), "%s%d",
			cfg->topic_prefix != NULL ? cfg->topic_prefix : "bench/ping/", i);
	snprintf(id, sizeof(id), "%s%d", cfg->id_prefix, i);
	c->mosq = mosquitto_new(id, true, c);
	if (c->mosq == NULL) {
		fprintf(stderr, "bench: mosquitto_new: %s\n", strerror(errno));
		return -1;
	}
	rc = mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	if (rc == MOSQ_ERR_SUCCESS)
		/* Small request/reply packets: Nagle would add its delay to them. */
		rc = mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = conn_login(c->mosq, i, cfg);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: client options: %s\n", mosquitto_strerror(rc));
		return -1;
	}
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	rc = mosquitto_connect_bind(c->mosq, cfg->host, cfg->port, KEEPALIVE_S, cfg->bind);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench: connect to %s:%d%s%s: %s\n", cfg->host, cfg->port,
				cfg->bind != NULL ? " from " : "", cfg->bind != NULL ? cfg->bind : "",
				rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

static bool all_ready(const bench_engine_t *e)
{
	for (int i = 0; i < e->n; i++) {
		const bench_conn_t *c = &e->conns[i];

		if (!c->connected || (e->subscribe && !c->subscribed))
			return false;
	}
	return true;
}

int engine_open(bench_engine_t *e, int n, const bench_engine_cfg_t *cfg)
{
	uint64_t deadline;

	memset(e, 0, sizeof(*e));
	e->subscribe = cfg->subscribe;
	e->conns = calloc((size_t)n, sizeof(*e->conns));
	e->pfds = calloc((size_t)n, sizeof(*e->pfds));
	if (e->conns == NULL || e->pfds == NULL) {
		fprintf(stderr, "bench: out of memory for %d connections\n", n);
		engine_close(e);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		/* Counted before the call so that engine_close frees a half-made one. */
		e->n = i + 1;
		if (conn_new(e, i, cfg) != 0) {
			engine_close(e);
			return -1;
		}
	}
	deadline = bench_now_ns() + CONNECT_WAIT_NS;
	while (!all_ready(e)) {
		if (bench_stop || bench_now_ns() > deadline || engine_step(e, 50) != 0) {
			fprintf(stderr, "bench: %d connections not ready\n", n);
			engine_close(e);
			return -1;
		}
	}
	return 0;
}

/* Reads what the socket holds, not just one packet: libmosquitto reads one
 * QoS 0 packet per call, and a poll() round per packet would cost more
 * than the broker's work being measured. */
static int conn_read(bench_conn_t *c, int fd)
{
	for (int i = 0; i < READ_BURST; i++) {
		int avail = 0;
		int rc = mosquitto_loop_read(c->mosq, 1);

		if (rc != MOSQ_ERR_SUCCESS || c->failed)
			return -1;
		if (ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0)
			break;
	}
	return 0;
}

static int conn_write(bench_conn_t *c)
{
	if (!mosquitto_want_write(c->mosq))
		return 0;
	return mosquitto_loop_write(c->mosq, 1) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int conn_service(bench_conn_t *c, const struct pollfd *p)
{
	if ((p->revents & (POLLIN | POLLHUP | POLLERR)) && conn_read(c, p->fd) != 0)
		return -1;
	/* Replies published from the message callback were only queued:
	 * sending them now saves a poll() round. */
	if (conn_write(c) != 0)
		return -1;
	return c->failed ? -1 : 0;
}

static int misc_all(bench_engine_t *e)
{
	uint64_t now = bench_now_ns();

	if (now - e->last_misc < MISC_EVERY_NS)
		return 0;
	e->last_misc = now;
	for (int i = 0; i < e->n; i++) {
		if (mosquitto_loop_misc(e->conns[i].mosq) != MOSQ_ERR_SUCCESS) {
			e->conns[i].failed = true;
			return -1;
		}
	}
	return 0;
}

/* e's sockets into pfds; -1 when one is gone. */
static int fill(const bench_engine_t *e, struct pollfd *pfds)
{
	for (int i = 0; i < e->n; i++) {
		struct mosquitto *mosq = e->conns[i].mosq;

		pfds[i].fd = mosquitto_socket(mosq);
		pfds[i].events = POLLIN | (mosquitto_want_write(mosq) ? POLLOUT : 0);
		pfds[i].revents = 0;
		if (pfds[i].fd < 0 || e->conns[i].failed)
			return -1;
	}
	return 0;
}

static int serve(bench_engine_t *e, const struct pollfd *pfds)
{
	for (int i = 0; i < e->n; i++) {
		if (pfds[i].revents != 0 && conn_service(&e->conns[i], &pfds[i]) != 0)
			return -1;
	}
	return misc_all(e);
}

int engine_step(bench_engine_t *e, int timeout_ms)
{
	bench_engine_t *side = e->side;
	int rc;

	if (fill(e, e->pfds) != 0 || (side != NULL && fill(side, e->pfds + e->n) != 0))
		return -1;
	rc = poll(e->pfds, (nfds_t)(e->n + (side != NULL ? side->n : 0)), timeout_ms);
	if (rc < 0) {
		if (errno == EINTR)
			return 0;
		fprintf(stderr, "bench: poll: %s\n", strerror(errno));
		return -1;
	}
	if (serve(e, e->pfds) != 0)
		return -1;
	return side != NULL ? serve(side, e->pfds + e->n) : 0;
}

int engine_attach(bench_engine_t *e, bench_engine_t *side)
{
	struct pollfd *p = realloc(e->pfds, (size_t)(e->n + side->n) * sizeof(*p));

	if (p == NULL) {
		fprintf(stderr, "bench: out of memory for %d connections\n", e->n + side->n);
		return -1;
	}
	e->pfds = p;
	e->side = side;
	return 0;
}

void engine_detach(bench_engine_t *e)
{
	e->side = NULL;
}

/* Sends DISCONNECT where possible so the broker logs a clean exit, then
 * frees everything; bounded, since a dead broker will not answer. */
static void disconnect_all(bench_engine_t *e)
{
	uint64_t deadline = bench_now_ns() + CLOSE_WAIT_NS;
	bool pending = true;

	for (int i = 0; i < e->n; i++) {
		e->conns[i].closing = true;
		if (e->conns[i].mosq != NULL && e->conns[i].connected && !e->conns[i].failed)
			(void)mosquitto_disconnect(e->conns[i].mosq);
	}
	while (pending && bench_now_ns() < deadline) {
		pending = false;
		for (int i = 0; i < e->n; i++) {
			bench_conn_t *c = &e->conns[i];

			if (c->mosq == NULL || c->failed || mosquitto_socket(c->mosq) < 0)
				continue;
			if (mosquitto_want_write(c->mosq)) {
				pending = true;
				if (mosquitto_loop_write(c->mosq, 1) != MOSQ_ERR_SUCCESS)
					c->failed = true;
			}
		}
	}
}

void engine_close(bench_engine_t *e)
{
	if (e->conns != NULL) {
		disconnect_all(e);
		for (int i = 0; i < e->n; i++)
			mosquitto_destroy(e->conns[i].mosq);
	}
	free(e->conns);
	free(e->pfds);
	memset(e, 0, sizeof(*e));
}
