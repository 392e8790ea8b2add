/*
 * Device lookups off the broker thread, for a store across the network
 * (db_url): a round trip to PostgreSQL would hold up every client on the
 * broker's only thread. The request is begun on the broker thread
 * (bs_device_begin), its lookup runs on a worker thread with a store
 * connection of its own (lib/worker.h), and the answer is made and
 * published on the broker thread again, at the tick that the worker's wake
 * brings at once (plugin/wake.h). The thread takes every request waiting
 * when it comes for work and reads their configs in one statement
 * (bs_device_lookup_many), so that a busy broker makes one round trip for
 * many devices. The same thread runs the core's tasks (lib/core.h: the
 * decoy's move, the read of missed announcements), behind the lookups.
 * With SQLite the lookup stays on the broker thread: it is a read of a
 * local file's cached pages.
 *
 * Logins cannot wait (Mosquitto 2.0.11 answers basic auth at once): on
 * PostgreSQL they are answered from the login replica (lib/logins.h),
 * started here on a thread and a store connection of its own, loaded
 * before the broker listens, and drained at the same wake.
 */
#include "plugin.h"

#include "error.h"
#include "logins.h"
#include "store.h"
#include "wake.h"
#include "worker.h"

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One request between the broker thread and the worker. */
typedef struct {
	bs_plugin_t *p;
	bs_device_job_t *job;
	char *clientid;
	int qos;
	void *corr;                 /* the request's Correlation Data, or NULL */
	uint16_t corrlen;
} pending_t;

static void pending_free(pending_t *q)
{
	free(q->clientid);
	mosquitto_free(q->corr);
	free(q);
}

/* A task of the core's (lib/core.h) on the same thread. */
static void task_done(void *arg, bool cancelled);

/* Every request waiting when the thread comes for work, up to
 * BS_WORKER_BATCH: one read of the store for them all (a request alone
 * is not held back to wait for others). A lookup on a lost connection
 * connects again first; failing that, the lookups fail and the devices
 * are answered internal_error. */
static void run_many(void *ctx, const bs_job_t *jobs, size_t n)
{
	bs_plugin_t *p = ctx;
	bs_device_job_t *batch[BS_WORKER_BATCH];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (jobs[i].done != task_done)
			batch[k++] = ((pending_t *)jobs[i].arg)->job;
	}
	bs_store_revive(p->lookup_store);
	bs_device_lookup_many(p->lookup_store, batch, k);
	/* Tasks after the lookups: the answers of their batch wait for them
	 * (a round trip, now and then; a task comes from a tick). */
	for (size_t i = 0; i < n; i++) {
		const bs_task_t *t = jobs[i].arg;
		if (jobs[i].done == task_done)
			t->run(p->lookup_store, t->arg);
	}
}

static void task_done(void *arg, bool cancelled)
{
	bs_task_t *t = arg;

	t->done(t->arg, cancelled);
	free(t);
}

/* core->offload: the task queued behind the lookups. */
static int offload(void *ctx, const bs_task_t *task)
{
	bs_plugin_t *p = ctx;
	bs_task_t *t = malloc(sizeof(*t));
	bs_job_t w = { .done = task_done, .arg = t };

	if (t == NULL)
		return BS_ERR_INTERNAL;
	*t = *task;
	if (bs_worker_submit(p->worker, &w) != BS_OK) {
		free(t);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

static void done(void *arg, bool cancelled)
{
	pending_t *q = arg;

	if (cancelled)
		bs_device_cancel(q->job);
	else
		bs_plugin_answer(q->p, q->job, q->clientid, q->qos, q->corr, q->corrlen);
	pending_free(q);
}

static void wake(void *arg)
{
	(void)arg;
	bs_wake();
}

static void logins_log(void *arg, int warning, const char *line)
{
	bs_core_log(arg, warning ? BS_LOG_WARNING : BS_LOG_INFO, "%s", line);
}

/* How long the start waits for the login copy (100,000 configs load in
 * about 0.4 s: make bench-logins). */
#define LOGINS_START_MS 30000

static int logins_start(bs_plugin_t *p, char *err, size_t errlen)
{
	bs_logins_source_t src;
	bs_logins_t *l;

	if (bs_store_open(bs_core_db(p->core), p->core->key, &p->logins_store, err,
			errlen) != BS_OK)
		return BS_ERR_INTERNAL;
	if (bs_logins_new(&l) != BS_OK) {
		snprintf(err, errlen, "out of memory");
		return BS_ERR_INTERNAL;
	}
	bs_logins_source_store(p->logins_store, &src);
	if (bs_logins_start(l, &src, wake, NULL, logins_log, p->core) != BS_OK) {
		bs_logins_free(l);
		snprintf(err, errlen, "cannot start the logins thread");
		return BS_ERR_INTERNAL;
	}
	p->core->logins = l;
	/* Mosquitto opens its listeners once the plugin has started: waited
	 * for here, the copy is there before the first login. */
	if (!bs_logins_wait(l, LOGINS_START_MS))
		bs_core_log(p->core, BS_LOG_WARNING, "logins: the login views are not "
				"loaded after %d s: until they are, each login reads the store",
				LOGINS_START_MS / 1000);
	return BS_OK;
}

int bs_plugin_lookups_start(bs_plugin_t *p, char *err, size_t errlen)
{
	if (!bs_store_is_url(bs_core_db(p->core)))
		return BS_OK;
	if (bs_store_open(bs_core_db(p->core), p->core->key, &p->lookup_store, err,
			errlen) != BS_OK)
		return BS_ERR_INTERNAL;
	/* Without the wake, answers wait for the broker's next tick (at most
	 * 100 ms): slower, still right. */
	if (bs_wake_init() != BS_OK)
		mosquitto_log_printf(MOSQ_LOG_WARNING, "bootstrap: no real-time signal "
				"is free: device answers wait for the broker's tick");
	if (bs_worker_start_many(BS_WORKER_QUEUE, run_many, p, wake, NULL,
			&p->worker) != BS_OK) {
		snprintf(err, errlen, "cannot start the lookup thread");
		return BS_ERR_INTERNAL;
	}
	p->core->offload = offload;
	p->core->offload_ctx = p;
	if (logins_start(p, err, errlen) != BS_OK)
		return BS_ERR_INTERNAL;
	mosquitto_log_printf(MOSQ_LOG_INFO, "bootstrap: device lookups run on a thread "
			"of their own, woken by signal %d", bs_wake_signo());
	return BS_OK;
}

void bs_plugin_lookups_stop(bs_plugin_t *p)
{
	bs_worker_stop(p->worker);
	p->worker = NULL;
	p->core->offload = NULL;
	bs_logins_free(p->core->logins);
	p->core->logins = NULL;
	bs_store_close(p->logins_store);
	p->logins_store = NULL;
	bs_wake_cleanup();
	bs_store_close(p->lookup_store);
	p->lookup_store = NULL;
}

int bs_plugin_lookups_submit(bs_plugin_t *p, bs_device_job_t *job,
		const char *clientid, int qos, void *corr, uint16_t corrlen)
{
	pending_t *q = calloc(1, sizeof(*q));
	bs_job_t w = { .done = done, .arg = q };

	if (p->worker == NULL || q == NULL || (q->clientid = strdup(clientid)) == NULL) {
		free(q);
		return BS_ERR_INTERNAL;
	}
	q->p = p;
	q->job = job;
	q->qos = qos;
	q->corr = corr;
	q->corrlen = corrlen;
	if (bs_worker_submit(p->worker, &w) != BS_OK) {
		q->corr = NULL;         /* still the caller's */
		pending_free(q);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

void bs_plugin_lookups_tick(bs_plugin_t *p)
{
	if (p->worker == NULL)
		return;
	bs_wake_ack();
	bs_worker_drain(p->worker);
	bs_logins_tick(p->core->logins);
}
