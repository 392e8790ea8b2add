/*
 * The wake of the broker thread on a real Mosquitto (plugin/wake.h), with
 * the proof plugin (test/bench/wake/wake_plugin.c) whose every answer is
 * made by a worker job and published from the tick:
 *
 * - 200 requests, one at a time, are each answered, to the requester,
 *   while a QoS 1 publish/subscribe loop runs beside them on another
 *   connection and gets every message back, in order;
 * - SIGHUP (a reload) and SIGTERM (a clean exit) still work with the
 *   handler installed, and SIGTERM with jobs in flight leaves nothing
 *   behind (the sanitizer build checks the leaks);
 * - with the wake off, the answers still come, by the tick.
 *
 * No latency is asserted here: make bench-wake measures it.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQUESTS 200
#define SIDE_MESSAGES 300
#define STOP_WAIT_MS 5000

static broker_t B;

/* The proof plugin beside this binary's build: ../../test/bench/wake/. */
static int wake_plugin(char *out, size_t len)
{
	char exe[IT_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	n = snprintf(out, len, "%s/../bench/wake/wake_plugin.so", dirname(exe));
	if (n < 0 || (size_t)n >= len || access(out, R_OK) != 0) {
		fprintf(stderr, "test_wake: %s is missing\n", out);
		return -1;
	}
	return 0;
}

static int start(broker_t *b, const char *wake)
{
	char so[IT_PATH_MAX];
	FILE *f;
	int rc;

	if (wake_plugin(so, sizeof(so)) != 0
			|| broker_prepare(b, NULL, BROKER_NO_CONF) != 0)
		return -1;
	f = fopen(b->conf, "w");
	if (f == NULL)
		return -1;
	rc = broker_conf_base(f, b) == 0 && fprintf(f, "plugin %s\n"
			"plugin_opt_wake %s\nplugin_opt_job_us 1000\n", so, wake) > 0 ? 0 : -1;
	if (fclose(f) != 0 || rc != 0)
		return -1;
	return broker_launch(b);
}

static int suite_init(void)
{
	return start(&B, "on");
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

/* Sends one request and waits for its answer: true when it was body. */
static bool round_trip(client_t *c, const char *body)
{
	it_msg_t *m;
	bool ok;

	if (client_publish(c, "wake/req", body, (int)strlen(body), NULL) != 0)
		return false;
	m = client_wait(c, IT_WAIT_MS);
	ok = m != NULL && strcmp(m->topic, "wake/res") == 0 && strcmp(m->payload, body) == 0;
	if (!ok)
		fprintf(stderr, "  %s: got %s\n", body, m != NULL ? m->payload : "nothing");
	msg_free(m);
	return ok;
}

static int requests(client_t *c, int n, const char *tag)
{
	int answered = 0;

	for (int i = 0; i < n; i++) {
		char body[64];
		snprintf(body, sizeof(body), "%s-%d", tag, i);
		if (!round_trip(c, body))
			break;
		answered++;
	}
	return answered;
}

/* ---- the QoS 1 loop beside the requests -------------------------------- */

typedef struct {
	client_t *c;
	int back;                   /* messages that came back in order */
} side_t;

static void *side_loop(void *arg)
{
	side_t *s = arg;
	static const pub_opts_t q1 = { .qos = 1 };

	for (int i = 0; i < SIDE_MESSAGES; i++) {
		char body[32];
		it_msg_t *m;

		snprintf(body, sizeof(body), "side-%d", i);
		if (client_publish(s->c, "wake/side/t", body, (int)strlen(body), &q1) != 0)
			return NULL;
		m = client_wait(s->c, IT_WAIT_MS);
		if (m == NULL || m->qos != 1 || strcmp(m->payload, body) != 0) {
			msg_free(m);
			return NULL;
		}
		msg_free(m);
		s->back++;
	}
	return NULL;
}

static void test_every_request_answered_beside_qos1_traffic(void)
{
	client_t *c = client_connect(&B, 5, "wake-dev", NULL, NULL);
	side_t side = { client_connect(&B, 5, "wake-side", NULL, NULL), 0 };
	pthread_t t;
	bool side_started = false;

	if (!CHECK(c != NULL && side.c != NULL))
		goto out;
	if (!CHECK(client_subscribe(side.c, "wake/side/#", 1) == 1))
		goto out;
	side_started = pthread_create(&t, NULL, side_loop, &side) == 0;
	CHECK(side_started);
	CU_ASSERT_EQUAL(requests(c, REQUESTS, "r"), REQUESTS);
	if (side_started)
		pthread_join(t, NULL);
	CU_ASSERT_EQUAL(side.back, SIDE_MESSAGES);
	/* The answers went to the requester alone: the other got none. */
	CHECK(client_expect_none(side.c, 200));
out:
	client_close(c);
	client_close(side.c);
}

/* The counters say the answers came by signal. */
static void test_answers_came_by_the_wake(void)
{
	client_t *c = client_connect(&B, 5, "wake-stats", NULL, NULL);
	it_msg_t *m = NULL;
	json_t *st = NULL;

	if (!CHECK(c != NULL) || !CHECK(client_publish(c, "wake/stats", "?", 1, NULL) == 0))
		goto out;
	m = client_wait(c, IT_WAIT_MS);
	st = msg_json(m);
	if (!CHECK(st != NULL))
		goto out;
	CHECK(json_integer_value(json_object_get(st, "wakes")) >= REQUESTS);
	CHECK(json_integer_value(json_object_get(st, "signals")) >= 1);
	CHECK(json_integer_value(json_object_get(st, "signo")) > SIGRTMIN);
	CHECK(json_integer_value(json_object_get(st, "refused")) == 0);
out:
	json_decref(st);
	msg_free(m);
	client_close(c);
}

static size_t log_count(const broker_t *b, const char *what)
{
	char path[IT_PATH_MAX];
	char *text = broker_path(b, "mosquitto.log", path, sizeof(path)) == 0
		? read_file_text(path, NULL) : NULL;
	size_t n = 0;

	for (const char *p = text ? strstr(text, what) : NULL; p; p = strstr(p + 1, what))
		n++;
	free(text);
	return n;
}

static void test_sighup_reloads_with_the_handler(void)
{
	client_t *c = client_connect(&B, 5, "wake-hup", NULL, NULL);
	size_t before = log_count(&B, "Reloading config.");
	bool reloaded = false;

	if (!CHECK(c != NULL) || !CHECK(kill(B.pid, SIGHUP) == 0))
		goto out;
	/* Requests during and after the reload. */
	for (int i = 0; i < 50 && !reloaded; i++) {
		CHECK(requests(c, 1, "hup") == 1);
		reloaded = log_count(&B, "Reloading config.") > before;
	}
	CHECK(reloaded);
	CU_ASSERT_EQUAL(requests(c, 20, "after-hup"), 20);
	CHECK(broker_alive(&B));
out:
	client_close(c);
}

/* SIGTERM with jobs queued: a clean exit, status 0, every job let go. */
static void test_sigterm_ends_cleanly_with_jobs_in_flight(void)
{
	client_t *c = client_connect(&B, 5, "wake-term", NULL, NULL);
	int status = -1;
	pid_t got = 0;

	if (!CHECK(c != NULL))
		goto out;
	for (int i = 0; i < 100; i++)
		CHECK(client_publish(c, "wake/req", "late", 4, NULL) == 0);
	if (!CHECK(kill(B.pid, SIGTERM) == 0))
		goto out;
	for (int i = 0; i < STOP_WAIT_MS / 10 && got == 0; i++) {
		got = waitpid(B.pid, &status, WNOHANG);
		if (got == 0)
			usleep(10000);
	}
	if (!CHECK(got == B.pid))
		goto out;
	B.pid = 0;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(broker_log_contains(&B, "wake-test: stopped after"));
	CHECK(broker_log_contains(&B, "terminating"));
out:
	client_close(c);
}

/* With the wake off the answers still come, a tick later. */
static void test_without_the_wake_answers_wait_for_the_tick(void)
{
	broker_t off;
	client_t *c = NULL;

	if (!CHECK(start(&off, "off") == 0))
		return;
	c = client_connect(&off, 5, "wake-off", NULL, NULL);
	if (CHECK(c != NULL))
		CU_ASSERT_EQUAL(requests(c, 20, "off"), 20);
	CHECK(broker_log_contains(&off, "wake-test: wake off"));
	client_close(c);
	broker_cleanup(&off);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "every request answered beside QoS 1 traffic",
			test_every_request_answered_beside_qos1_traffic },
		{ "answers came by the wake", test_answers_came_by_the_wake },
		{ "SIGHUP reloads with the handler", test_sighup_reloads_with_the_handler },
		{ "SIGTERM ends cleanly with jobs in flight",
			test_sigterm_ends_cleanly_with_jobs_in_flight },
		{ NULL, NULL },
	};
	static const cu_test_t off_tests[] = {
		{ "without the wake answers wait for the tick",
			test_without_the_wake_answers_wait_for_the_tick },
		{ NULL, NULL },
	};

	cu_add_suite("wake", suite_init, suite_clean, tests);
	cu_add_suite("wake off", NULL, NULL, off_tests);
	return cu_run("test_wake");
}
