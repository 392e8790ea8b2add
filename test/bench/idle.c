/*
 * Idle memory: what a connected bootstrapped client costs the broker over
 * an anonymous one, the plugin's state for it (its login, its ACL cache)
 * included. `idle` anonymous connections are opened, each subscribes to a
 * topic of its own and publishes once to it, and gets it back (so that
 * every ACL check such a client makes has been made); then the broker's
 * RssAnon is read. They are closed, and as many connections logged in as
 * seeded configs do the same on their channel, and RssAnon is read again.
 *
 * RssAnon, not VmRSS: the database file's pages in the operating system's
 * cache would blur it. The second set of connections reuses the heap that
 * the first one freed, so the difference is what the bootstrapped clients
 * need beyond what anonymous ones need. That holds while the heap has less
 * free room than the first set needs: after the bootstrap phases at a
 * million configs it had megabytes, into which both sets fitted without
 * RssAnon moving. So the broker is restarted first, and the configs the
 * bootstrapped set will log in as are looked up once beforehand by logins
 * a few at a time, so that SQLite's page cache does not grow under it.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ECHO_WAIT_NS (30 * NS_PER_S)
#define QUIET_NS (300 * NS_PER_MS)
#define IDLE_PAYLOAD "idle"
/* Logins at a time while warming: the holes they leave stay small. */
#define WARM_BATCH 32

typedef struct {
	bool *got;
	int pending;
} echo_t;

/* Closed connections are freed by the broker's next loop round: this gives
 * it several. */
static void pause_quiet(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)QUIET_NS };

	(void)nanosleep(&ts, NULL);
}

static void on_echo(void *ctx, bench_conn_t *c, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	echo_t *e = ctx;

	(void)props;
	if (!e->got[c->index] && strcmp(msg->topic, c->topic) == 0) {
		e->got[c->index] = true;
		e->pending--;
	}
}

/* Steps the engine until every connection had its message back, then for
 * a moment more, so that the broker has nothing left to do. */
static int await_echoes(bench_engine_t *e, echo_t *echo)
{
	uint64_t deadline = bench_now_ns() + ECHO_WAIT_NS, quiet = 0;

	while (!bench_stop) {
		uint64_t now = bench_now_ns();

		if (echo->pending == 0 && quiet == 0)
			quiet = now + QUIET_NS;
		if (quiet != 0 && now >= quiet)
			return 0;
		if (now > deadline) {
			fprintf(stderr, "bench: idle: %d connections had no reply\n", echo->pending);
			return -1;
		}
		if (engine_step(e, 10) != 0)
			return -1;
	}
	return -1;
}

static int publish_once(bench_engine_t *e)
{
	for (int i = 0; i < e->n; i++) {
		bench_conn_t *c = &e->conns[i];
		int rc = mosquitto_publish_v5(c->mosq, NULL, c->topic,
				(int)strlen(IDLE_PAYLOAD), IDLE_PAYLOAD, 0, false, NULL);

		if (rc != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "bench: idle: publish on connection %d: %s\n", i,
					mosquitto_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* Holds o->idle connections made with cfg while *kib is read. */
static int hold(const bench_opts_t *o, const bench_broker_t *b,
		const bench_engine_cfg_t *cfg, long *kib)
{
	echo_t echo = { .got = calloc((size_t)o->idle, sizeof(bool)), .pending = o->idle };
	bench_engine_t e;
	int rc = -1;

	if (echo.got == NULL) {
		fprintf(stderr, "bench: out of memory for %d connections\n", o->idle);
		return -1;
	}
	if (engine_open(&e, o->idle, cfg) == 0) {
		e.on_msg = on_echo;
		e.ctx = &echo;
		rc = publish_once(&e);
		if (rc == 0)
			rc = await_echoes(&e, &echo);
		if (rc == 0)
			*kib = broker_rss_anon_kib(b);
		engine_close(&e);
	}
	free(echo.got);
	return rc;
}

/* Logs in once as each config of the bootstrapped set, WARM_BATCH at a
 * time, and waits for the broker to be done with them. */
static int warm(const bench_opts_t *o, size_t n)
{
	bench_spread_t spread = { .count = (size_t)o->idle, .n = n };
	bench_engine_cfg_t cfg = {
		.host = o->host, .port = o->port, .id_prefix = "bench-idle-warm-",
		.login = admin_spread_login, .login_arg = &spread,
	};
	bench_engine_t e;

	for (int i = 0; i < o->idle; i += WARM_BATCH) {
		spread.first = (size_t)i;
		if (engine_open(&e, o->idle - i < WARM_BATCH ? o->idle - i : WARM_BATCH,
				&cfg) != 0)
			return -1;
		engine_close(&e);
	}
	pause_quiet();
	return bench_stop ? -1 : 0;
}

int idle_memory(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_result_t *r)
{
	bench_spread_t spread = { .count = (size_t)o->idle, .n = n };
	const bench_engine_cfg_t anon = {
		.host = o->host, .port = o->port, .id_prefix = "bench-idle-anon-",
		.topic_prefix = "bench/idle/", .subscribe = true,
	};
	const bench_engine_cfg_t boot = {
		.host = o->host, .port = o->port, .id_prefix = "bench-idle-boot-",
		.login = admin_spread_login, .login_arg = &spread,
		.topic_prefix = BENCH_CHANNEL_TOPIC "idle/", .subscribe = true,
	};

	if (n == 0) {
		fprintf(stderr, "bench: no configs to log in as\n");
		return -1;
	}
	if (broker_stop(b) != 0 || broker_start(b) != 0 || warm(o, n) != 0)
		return -1;
	r->idle_base_kib = broker_rss_anon_kib(b);
	r->idle_anon_kib = r->idle_boot_kib = -1;
	if (hold(o, b, &anon, &r->idle_anon_kib) != 0)
		return -1;
	pause_quiet();
	if (hold(o, b, &boot, &r->idle_boot_kib) != 0)
		return -1;
	/* Unknown figures (no RssAnon line) stay -1 and are shown as such. */
	r->idle = o->idle;
	return 0;
}
