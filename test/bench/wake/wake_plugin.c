/*
 * The proof plugin of the broker-thread wake (plugin/wake.h): every
 * message on wake/req becomes a worker job whose run sleeps (a stand-in
 * for a PostgreSQL round trip, off the broker thread) and whose done, on
 * the broker thread at the tick, publishes the request's payload back to
 * the requesting client alone, on wake/res. A message on wake/stats is
 * answered at once, on wake/stats, with the wake's counters, the requests
 * seen and the broker thread's CPU time since init, as JSON.
 *
 *   plugin_opt_wake on        on (default): the worker wakes the broker
 *                             thread; off: answers wait for a tick;
 *                             inline: no worker, the job runs on the
 *                             broker thread and is answered at once (the
 *                             yardstick, and what blocking would cost)
 *   plugin_opt_job_us 1000    how long each job's run sleeps
 *
 * Loaded by the wake's integration test and its benchmark only.
 */
#include "wake.h"
#include "worker.h"

#include <errno.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQ_TOPIC "wake/req"
#define RES_TOPIC "wake/res"
#define STATS_TOPIC "wake/stats"

typedef struct {
	char *client_id;
	void *payload;
	int len;
	int qos;
} request_t;

static mosquitto_plugin_id_t *plugin_id;
static bs_worker_t *worker;
static long job_us = 1000;
static bool wake_on = true;
static bool run_inline;
static bool stopping;           /* cleanup: done frees, publishes nothing */
static unsigned long refused;
static unsigned long requests;
static long long cpu_start_us;  /* the broker thread's CPU time at init */

/* CPU time of the calling thread (the broker's, where it is called). */
static long long thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void request_free(request_t *r)
{
	free(r->client_id);
	free(r->payload);
	free(r);
}

static void job_run(void *arg)
{
	struct timespec ts = { job_us / 1000000, (job_us % 1000000) * 1000 };

	(void)arg;
	/* The worker blocks every asynchronous signal: no EINTR here. */
	nanosleep(&ts, NULL);
}

static void job_done(void *arg, bool cancelled)
{
	request_t *r = arg;

	if (!cancelled && !stopping)
		mosquitto_broker_publish_copy(r->client_id, RES_TOPIC, r->len,
				r->payload, r->qos, false, NULL);
	request_free(r);
}

static void wake_fn(void *arg)
{
	(void)arg;
	bs_wake();
}

static request_t *request_new(const struct mosquitto_evt_message *ev)
{
	request_t *r = calloc(1, sizeof(*r));
	const char *id = mosquitto_client_id(ev->client);

	if (r == NULL)
		return NULL;
	r->client_id = strdup(id != NULL ? id : "");
	r->payload = malloc(ev->payloadlen > 0 ? ev->payloadlen : 1);
	if (r->client_id == NULL || r->payload == NULL) {
		request_free(r);
		return NULL;
	}
	memcpy(r->payload, ev->payload, ev->payloadlen);
	r->len = (int)ev->payloadlen;
	r->qos = ev->qos;
	return r;
}

static void answer_stats(const struct mosquitto_evt_message *ev)
{
	bs_wake_stats_t st;
	char text[256];
	int n;

	bs_wake_stats(&st);
	n = snprintf(text, sizeof(text), "{\"wakes\":%lu,\"signals\":%lu,\"rekicks\":%lu,"
			"\"acks\":%lu,\"refused\":%lu,\"signo\":%d,\"requests\":%lu,"
			"\"cpu_us\":%lld}", st.wakes, st.signals, st.rekicks, st.acks, refused,
			bs_wake_signo(), requests, thread_cpu_us() - cpu_start_us);
	if (n > 0 && (size_t)n < sizeof(text))
		mosquitto_broker_publish_copy(mosquitto_client_id(ev->client), STATS_TOPIC,
				n, text, ev->qos, false, NULL);
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ev = event_data;
	static const char busy[] = "{\"error\":\"internal_error\"}";
	request_t *r;
	bs_job_t job = { job_run, job_done, NULL };

	(void)event;
	(void)userdata;
	if (ev->topic != NULL && strcmp(ev->topic, STATS_TOPIC) == 0) {
		answer_stats(ev);
		return MOSQ_ERR_SUCCESS;
	}
	if (ev->topic == NULL || strcmp(ev->topic, REQ_TOPIC) != 0)
		return MOSQ_ERR_SUCCESS;
	requests++;
	if (run_inline) {
		job_run(NULL);
		mosquitto_broker_publish_copy(mosquitto_client_id(ev->client), RES_TOPIC,
				(int)ev->payloadlen, ev->payload, ev->qos, false, NULL);
		return MOSQ_ERR_SUCCESS;
	}
	r = request_new(ev);
	job.arg = r;
	if (r == NULL || bs_worker_submit(worker, &job) != 0) {
		/* A full queue is answered at once, as the plugin would answer
		 * internal_error. */
		refused++;
		if (r != NULL)
			request_free(r);
		mosquitto_broker_publish_copy(mosquitto_client_id(ev->client), RES_TOPIC,
				(int)sizeof(busy) - 1, busy, ev->qos, false, NULL);
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	bs_wake_ack();
	bs_worker_drain(worker);
	return MOSQ_ERR_SUCCESS;
}

static int read_options(struct mosquitto_opt *options, int count)
{
	for (int i = 0; i < count; i++) {
		if (strcmp(options[i].key, "wake") == 0) {
			wake_on = strcmp(options[i].value, "on") == 0;
			run_inline = strcmp(options[i].value, "inline") == 0;
		} else if (strcmp(options[i].key, "job_us") == 0) {
			char *end;
			errno = 0;
			job_us = strtol(options[i].value, &end, 10);
			if (errno != 0 || *end != '\0' || job_us < 0 || job_us > 10000000)
				return -1;
		}
	}
	return 0;
}

__attribute__((visibility("default")))
int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	(void)supported_version_count;
	(void)supported_versions;
	return 5;
}

__attribute__((visibility("default")))
int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	cpu_start_us = thread_cpu_us();
	if (read_options(options, option_count) != 0) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "wake-test: bad plugin_opt_job_us");
		return MOSQ_ERR_INVAL;
	}
	if (wake_on && bs_wake_init() != 0) {
		mosquitto_log_printf(MOSQ_LOG_WARNING, "wake-test: no free real-time "
				"signal: answers wait for the tick");
		wake_on = false;
	}
	if (bs_worker_start(BS_WORKER_QUEUE, wake_on ? wake_fn : NULL, NULL, &worker) != 0) {
		bs_wake_cleanup();
		return MOSQ_ERR_NOMEM;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "wake-test: wake %s (signal %d), jobs of %ld us",
			run_inline ? "inline" : wake_on ? "on" : "off", bs_wake_signo(), job_us);
	if (mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message,
			NULL, NULL) != MOSQ_ERR_SUCCESS)
		return MOSQ_ERR_INVAL;
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
}

__attribute__((visibility("default")))
int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
		int option_count)
{
	bs_wake_stats_t st;

	(void)userdata;
	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
	stopping = true;
	bs_worker_stop(worker);
	worker = NULL;
	bs_wake_stats(&st);
	bs_wake_cleanup();
	mosquitto_log_printf(MOSQ_LOG_INFO, "wake-test: stopped after %lu wakes, "
			"%lu signals, %lu sent again", st.wakes, st.signals, st.rekicks);
	return MOSQ_ERR_SUCCESS;
}
