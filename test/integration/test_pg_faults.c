/*
 * Faults under load on PostgreSQL: brokers on one database (each started
 * by the harness, the first making the master key and the others reading
 * its file), device clients that bootstrap through them without pause,
 * some with their right key and some with a wrong one, and meanwhile a
 * fault: PostgreSQL restarted, PostgreSQL stopped for a second and started
 * again, one of three brokers killed.
 *
 * What is checked is what a device sees: every reply is the right answer
 * for that device (its own client_id and secret), internal_error, or
 * unauthorized for a wrong key; never another device's answer, never a
 * success for a wrong key; a login with a wrong secret is never accepted;
 * once the server is back, every request is answered and service comes
 * back by itself on every broker; a broker's log holds no more lines
 * about devices a second than the contract allows, however many requests
 * fail. The counts are printed phase by phase.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "store_db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BROKERS 3
#define PER_BROKER 6            /* device clients on each broker */
#define WRONG_EVERY 3           /* of which every third has a wrong key */
#define CONFIGS 6               /* configs, each asked for through every broker */
#define MAX_DEVS (MAX_BROKERS * PER_BROKER)
#define LOGIN_EVERY_MS 150      /* a round of logins on every broker */
#define WRONG_KEY "wrong-key-0123456789"
#define WRONG_SECRET "wrong-secret-0123456789"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- brokers ---------------------------------------------------------- */

/*
 * n brokers on one fresh database (its URL into url), which let
 * bootstrapped clients log in and never lock a device out (so that a
 * wrong key is answered unauthorized however often it is tried). The
 * first makes the master key; the others read the first one's key file.
 * Broker i's connections are named broker-<i> (application_name), so
 * that the server can say whose they are. 0, or -1 with none left
 * running.
 */
static int start_brokers(broker_t *v, int n, char *url, size_t len)
{
	char conf[IT_PATH_MAX + 512];

	if (test_store_db("", url, len) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		int k = snprintf(conf, sizeof conf,
				"plugin_opt_db_url %s?application_name=broker-%d\n"
				"plugin_opt_client_auth true\nplugin_opt_acl_default allow\n"
				"plugin_opt_max_failures 0\n", url, i);

		if (i > 0)
			snprintf(conf + k, sizeof conf - (size_t)k,
					"plugin_opt_key_file %s/bootstrap.key\n", v[0].dir);
		if (broker_start(&v[i], conf) != 0) {
			while (i-- > 0)
				broker_cleanup(&v[i]);
			return -1;
		}
	}
	return 0;
}

static void stop_brokers(broker_t *v, int n)
{
	while (n-- > 0)
		broker_cleanup(&v[n]);
}

/* ---- the load ----------------------------------------------------------- */

typedef struct {
	client_t *c;                /* NULL once its broker is gone */
	int broker;
	const boot_cfg_t *cfg;
	bool wrong;                 /* asks with a wrong key */
	unsigned sent;
	char id[32];                /* the request awaiting its reply, "" when none */
} dev_client_t;

typedef struct {
	long ok, unauthorized, internal, bad;
	long ok_on[MAX_BROKERS];
	long logins, logins_in;     /* with the wrong secret: tried, accepted */
	long right_logins, right_in;
} tally_t;

typedef struct {
	broker_t *brokers;
	int nbrokers;
	boot_cfg_t cfgs[CONFIGS];
	dev_client_t devs[MAX_DEVS];
	int ndevs;
	tally_t phase, total;
	double last_login;
} load_t;

static void tally_add(tally_t *to, const tally_t *t)
{
	to->ok += t->ok;
	to->unauthorized += t->unauthorized;
	to->internal += t->internal;
	to->bad += t->bad;
	for (int i = 0; i < MAX_BROKERS; i++)
		to->ok_on[i] += t->ok_on[i];
	to->logins += t->logins;
	to->logins_in += t->logins_in;
	to->right_logins += t->right_logins;
	to->right_in += t->right_in;
}

static void load_free(load_t *l)
{
	for (int i = 0; i < l->ndevs; i++)
		client_close(l->devs[i].c);
	for (int i = 0; i < CONFIGS; i++)
		boot_cfg_free(&l->cfgs[i]);
}

/* The configs (made through the first broker) and PER_BROKER connected
 * device clients on each broker; every config is asked for through every
 * broker, with its key and with a wrong one. 0 or -1. */
static int load_init(load_t *l, broker_t *brokers, int n)
{
	memset(l, 0, sizeof *l);
	l->brokers = brokers;
	l->nbrokers = n;
	for (int i = 0; i < CONFIGS; i++) {
		char *ext = unique_name("pg-load");
		int rc = ext != NULL ? make_config(&brokers[0], ext, NULL, true, &l->cfgs[i]) : -1;

		free(ext);
		if (rc != 0)
			return -1;
	}
	for (int b = 0; b < n; b++) {
		for (int j = 0; j < PER_BROKER; j++) {
			dev_client_t *d = &l->devs[l->ndevs];

			d->broker = b;
			d->cfg = &l->cfgs[(b + j) % CONFIGS];
			d->wrong = j % WRONG_EVERY == WRONG_EVERY - 1;
			if ((d->c = client_connect(&brokers[b], 5, NULL, NULL, NULL)) == NULL)
				return -1;
			l->ndevs++;
		}
	}
	return 0;
}

static void load_send(dev_client_t *d)
{
	char *req;

	snprintf(d->id, sizeof d->id, "q%u", ++d->sent);
	req = boot_request(d->cfg->external_id, d->wrong ? WRONG_KEY : d->cfg->external_key,
			d->id);
	if (req == NULL || client_publish(d->c, "bootstrap/req", req, (int)strlen(req),
			NULL) < 0)
		d->id[0] = '\0';
	free(req);
}

/* A reply that is neither the right answer nor an error that a device
 * may get: said on stderr (without any secret) and counted. */
static void bad_reply(load_t *l, const dev_client_t *d, const json_t *r, const char *why)
{
	fprintf(stderr, "\n    broker %d, %s key, request %s: %s (error %s, id %s)\n",
			d->broker, d->wrong ? "a wrong" : "the right", d->id, why,
			jstr(r, "error") != NULL ? jstr(r, "error") : "none",
			jstr(r, "id") != NULL ? jstr(r, "id") : "none");
	l->phase.bad++;
}

static void take_reply(load_t *l, dev_client_t *d, const json_t *r)
{
	const char *err = jstr(r, "error");

	if (r == NULL || jstr(r, "id") == NULL || strcmp(jstr(r, "id"), d->id) != 0) {
		bad_reply(l, d, r, "not the reply to this request");
		return;
	}
	if (err != NULL && json_object_get(r, "client_secret") == NULL
			&& strcmp(err, "internal_error") == 0)
		l->phase.internal++;
	else if (d->wrong && err != NULL && strcmp(err, "unauthorized") == 0
			&& json_object_get(r, "client_secret") == NULL)
		l->phase.unauthorized++;
	else if (!d->wrong && err == NULL && jstr(r, "client_id") != NULL
			&& strcmp(jstr(r, "client_id"), d->cfg->client_id) == 0
			&& jstr(r, "client_secret") != NULL
			&& strcmp(jstr(r, "client_secret"), d->cfg->client_secret) == 0) {
		l->phase.ok++;
		l->phase.ok_on[d->broker]++;
	} else {
		bad_reply(l, d, r, "a wrong answer");
	}
	d->id[0] = '\0';
}

/* A login with the wrong secret and one with the right on every live
 * broker. */
static void load_logins(load_t *l)
{
	const boot_cfg_t *cfg = &l->cfgs[0];

	for (int b = 0; b < l->nbrokers; b++) {
		if (l->brokers[b].pid <= 0)
			continue;
		l->phase.logins++;
		l->phase.logins_in += client_connack(&l->brokers[b], 5, cfg->client_id,
				WRONG_SECRET) == 0;
		l->phase.right_logins++;
		l->phase.right_in += client_connack(&l->brokers[b], 5, cfg->client_id,
				cfg->client_secret) == 0;
	}
	l->last_login = now_ms();
}

/* One pass over the device clients: a new request from each that has
 * none waiting (when send), and a reply taken from each that has one. */
static void load_round(load_t *l, bool send)
{
	for (int i = 0; i < l->ndevs; i++) {
		dev_client_t *d = &l->devs[i];
		it_msg_t *m;
		json_t *r;

		if (d->c == NULL)
			continue;
		if (send && d->id[0] == '\0')
			load_send(d);
		if ((m = client_wait(d->c, 1)) == NULL)
			continue;
		r = msg_json(m);
		take_reply(l, d, r);
		json_decref(r);
		msg_free(m);
	}
	if (send && now_ms() - l->last_login >= LOGIN_EVERY_MS)
		load_logins(l);
}

static void phase_print(const char *name, const tally_t *t)
{
	printf("\n    %-7s ok %ld, unauthorized %ld, internal_error %ld, wrong %ld; "
			"logins with a wrong secret accepted %ld of %ld, with the right one %ld of %ld",
			name, t->ok, t->unauthorized, t->internal, t->bad, t->logins_in, t->logins,
			t->right_in, t->right_logins);
	fflush(stdout);
}

/* Requests go on for ms, or until *until is set (when not NULL, then ms
 * is the cap); the phase's counts are printed and added to the total. */
static tally_t load_run(load_t *l, const char *name, double ms, atomic_int *until)
{
	double end = now_ms() + ms;
	tally_t t;

	memset(&l->phase, 0, sizeof l->phase);
	while (now_ms() < end && (until == NULL || !atomic_load(until)))
		load_round(l, true);
	t = l->phase;
	phase_print(name, &t);
	tally_add(&l->total, &t);
	return t;
}

/* Stops sending and waits up to ms for the replies still awaited: how
 * many never came. */
static int load_drain(load_t *l, int ms)
{
	double end = now_ms() + ms;
	int waiting;
	tally_t t;

	memset(&l->phase, 0, sizeof l->phase);
	do {
		load_round(l, false);
		waiting = 0;
		for (int i = 0; i < l->ndevs; i++)
			waiting += l->devs[i].c != NULL && l->devs[i].id[0] != '\0';
	} while (waiting > 0 && now_ms() < end);
	t = l->phase;
	phase_print("drain", &t);
	tally_add(&l->total, &t);
	printf(", unanswered %d", waiting);
	return waiting;
}

/* Broker b is gone: its device clients are dropped, and what they were
 * waiting for with them. */
static void load_drop(load_t *l, int b)
{
	for (int i = 0; i < l->ndevs; i++) {
		if (l->devs[i].broker == b) {
			client_close(l->devs[i].c);
			l->devs[i].c = NULL;
		}
	}
}

/* ---- the fault ---------------------------------------------------------- */

typedef struct {
	int down_ms;                /* 0: a restart; else stopped that long */
	int rc;
	atomic_int done;
	pthread_t thread;
} fault_t;

static void *fault_main(void *arg)
{
	fault_t *f = arg;
	bs_pg_server_t *s = test_pg_server();

	if (f->down_ms == 0) {
		f->rc = bs_pg_server_restart(s);
	} else if ((f->rc = bs_pg_server_pause(s)) == 0) {
		usleep((useconds_t)f->down_ms * 1000);
		f->rc = bs_pg_server_resume(s);
	}
	atomic_store(&f->done, 1);
	return NULL;
}

/* ---- service back --------------------------------------------------------- */

/* external_id's bootstrap through b, tried for up to ms: 1 when it
 * succeeded with cfg's secret. */
static int bootstraps_within(const broker_t *b, const boot_cfg_t *cfg, int ms)
{
	char *req = boot_request(cfg->external_id, cfg->external_key, "back");
	double end = now_ms() + ms;
	int ok = 0;

	while (req != NULL && !ok && now_ms() < end) {
		it_msg_t *m = device_rr(b, 5, NULL, req, (int)strlen(req), NULL);
		json_t *r = msg_json(m);

		ok = jstr(r, "client_secret") != NULL
			&& strcmp(jstr(r, "client_secret"), cfg->client_secret) == 0;
		json_decref(r);
		msg_free(m);
		if (!ok)
			usleep(100 * 1000);
	}
	free(req);
	return ok;
}

/* cfg's login on b, tried for up to ms: 1 when it was accepted. */
static int logs_in_within(const broker_t *b, const boot_cfg_t *cfg, int ms)
{
	double end = now_ms() + ms;

	while (now_ms() < end) {
		if (client_connack(b, 5, cfg->client_id, cfg->client_secret) == 0)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

/* cfg's channel renamed to name through from (tried while its store is
 * busy, up to ms), then through to: how long until to's bootstrap had the
 * new name, -1 when it did not within ms. */
static double rename_seen_in(const broker_t *from, const broker_t *to,
		const boot_cfg_t *cfg, const char *name, int ms)
{
	double end = now_ms() + ms, t0;
	json_t *data = NULL;
	char *got = NULL;

	while (data == NULL && now_ms() < end) {
		data = admin_ok_take(from, json_pack("{s:s, s:s, s:s}", "command",
				"modifyChannel", "id", cfg->channel_id, "name", name));
		if (data == NULL)
			usleep(100 * 1000);
	}
	if (data == NULL)
		return -1;
	json_decref(data);
	t0 = now_ms();
	end = t0 + ms;
	while ((got == NULL || strcmp(got, name) != 0) && now_ms() < end) {
		free(got);
		if ((got = boot_channel_name(to, cfg)) == NULL || strcmp(got, name) != 0)
			usleep(50 * 1000);
	}
	t0 = got != NULL && strcmp(got, name) == 0 ? now_ms() - t0 : -1;
	free(got);
	return t0;
}

/* ---- the log ----------------------------------------------------------------- */

/* At most this many lines a second about device requests and logins
 * (PROTOCOL section 8), a store error met by one among them. */
#define LINES_PER_SECOND 100

/* 1 when a log line is about one device request or login. */
static int device_line(const char *line)
{
	return strstr(line, "bootstrap: device") != NULL || strstr(line, "lookup failed") != NULL
		|| strstr(line, "bootstrap: bootstrap of ") != NULL;
}

/* The most such lines in any one second of b's log, by the broker's stamp
 * that begins each line ("1733342400: bootstrap: ..."); -1 without a log. */
static int busiest_second(const broker_t *b)
{
	char path[IT_PATH_MAX], *text, *line, *next;
	long second = -1;
	int n = 0, most = 0;

	if (broker_path(b, "mosquitto.log", path, sizeof path) != 0
			|| (text = read_file_text(path, NULL)) == NULL)
		return -1;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		long s = strtol(line, NULL, 10);

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (!device_line(line))
			continue;
		if (s != second) {
			second = s;
			n = 0;
		}
		most = ++n > most ? n : most;
	}
	free(text);
	return most;
}

/* ---- the tests ------------------------------------------------------------ */

/*
 * Two brokers under load while PostgreSQL is restarted (down_ms 0) or
 * stopped for down_ms: no wrong answer, no success for a wrong key, no
 * wrong secret let in; every request answered once the server is back;
 * each broker serves bootstraps and logins again by itself, and a change
 * made through one is in force on the other.
 */
static void faults_under_load(int down_ms)
{
	char url[256];
	broker_t v[2];
	load_t l;
	fault_t f = { .down_ms = down_ms };
	tally_t before, after;
	double t0;
	int unanswered;

	if (!CHECK(start_brokers(v, 2, url, sizeof url) == 0))
		return;
	if (!CHECK(load_init(&l, v, 2) == 0) || !CHECK(test_pg_server() != NULL))
		goto out;
	before = load_run(&l, "before", 1000, NULL);
	CHECK(before.ok > 0 && before.unauthorized > 0 && before.internal == 0);
	t0 = now_ms();
	if (!CHECK(pthread_create(&f.thread, NULL, fault_main, &f) == 0))
		goto out;
	load_run(&l, down_ms == 0 ? "restart" : "stopped", 60000, &f.done);
	pthread_join(f.thread, NULL);
	printf(" (%.1f s)", (now_ms() - t0) / 1e3);
	CHECK(f.rc == 0);
	after = load_run(&l, "after", 2000, NULL);
	unanswered = load_drain(&l, IT_WAIT_MS);
	phase_print("total", &l.total);
	printf("\n");
	CHECK(l.total.bad == 0);
	CHECK(l.total.logins_in == 0);
	CHECK(unanswered == 0);
	/* Back by itself: answers after the fault on both brokers... */
	CHECK(after.ok_on[0] > 0 && after.ok_on[1] > 0);
	for (int b = 0; b < 2; b++) {
		CHECK(bootstraps_within(&v[b], &l.cfgs[1], IT_WAIT_MS));
		CHECK(logs_in_within(&v[b], &l.cfgs[1], IT_WAIT_MS));
	}
	/* The broker stamps a line with the second its loop last read, which
	 * may be the one before the plugin's: two seconds' lines at most. */
	for (int b = 0; b < 2; b++) {
		int most = busiest_second(&v[b]);

		printf("    broker %c: at most %d lines about devices in a second of its log\n",
				'A' + b, most);
		CHECK(most > 0 && most <= 2 * (LINES_PER_SECOND + 1));
	}
	/* ...and the brokers hear each other again. */
	t0 = rename_seen_in(&v[0], &v[1], &l.cfgs[2], "renamed after the fault", 5000);
	printf("    a channel renamed through A after the fault was in B's bootstrap "
			"%.0f ms later\n", t0);
	CHECK(t0 >= 0);
out:
	load_free(&l);
	stop_brokers(v, 2);
}

static void test_postgresql_restarted_under_load(void)
{
	faults_under_load(0);
}

static void test_postgresql_stopped_for_a_second_under_load(void)
{
	faults_under_load(1000);
}

/* Broker i's connections to the database at url, as the server counts
 * them; -1 when it cannot say. */
static int backends(const char *url, int i)
{
	char sql[160], out[32];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
			"current_database() AND application_name = 'broker-%d'", i);
	if (test_pg_text(url, sql, out, sizeof out) != 0)
		return -1;
	return atoi(out);
}

/* Watches, beside the load, how long the server keeps a connection of
 * broker i's to url: gone_ms, or -1 after WATCH_MS. */
#define WATCH_MS 15000

typedef struct {
	const char *url;
	int broker;
	double gone_ms;
	pthread_t thread;
} watch_t;

static void *watch_main(void *arg)
{
	watch_t *w = arg;
	double t0 = now_ms();
	int n;

	w->gone_ms = -1;
	while ((n = backends(w->url, w->broker)) != 0 && now_ms() - t0 < WATCH_MS)
		usleep(10 * 1000);
	if (n == 0)
		w->gone_ms = now_ms() - t0;
	return NULL;
}

/*
 * One broker of three killed (SIGKILL) under load: the other two go on
 * answering every request right, with no internal_error, and a disable
 * through one ends the session on the other and refuses its login there;
 * the killed broker's connections to PostgreSQL end with it.
 */
static void test_a_broker_killed_among_three(void)
{
	char url[256];
	broker_t v[3];
	load_t l;
	tally_t before, after;
	client_t *dev = NULL;
	json_t *data;
	watch_t w;
	int held, unanswered;
	bool watching;

	if (!CHECK(start_brokers(v, 3, url, sizeof url) == 0))
		return;
	if (!CHECK(load_init(&l, v, 3) == 0))
		goto out;
	before = load_run(&l, "before", 1000, NULL);
	CHECK(before.ok_on[0] > 0 && before.ok_on[1] > 0 && before.ok_on[2] > 0);
	CHECK(before.internal == 0);
	held = backends(url, 2);
	w.url = url;
	w.broker = 2;
	CHECK(held > 0);
	CHECK(broker_kill9(&v[2]) == 0);
	watching = pthread_create(&w.thread, NULL, watch_main, &w) == 0;
	load_drop(&l, 2);
	after = load_run(&l, "after", 2000, NULL);
	unanswered = load_drain(&l, IT_WAIT_MS);
	printf("\n");
	CHECK(after.ok_on[0] > 0 && after.ok_on[1] > 0);
	CHECK(after.internal == 0 && l.phase.internal == 0);
	CHECK(l.total.bad == 0);
	CHECK(l.total.logins_in == 0);
	CHECK(unanswered == 0);
	if (CHECK(watching)) {
		pthread_join(w.thread, NULL);
		printf("    the killed broker's %d connections to PostgreSQL were gone "
				"%.0f ms after it was\n", held, w.gone_ms);
		CHECK(w.gone_ms >= 0);
	}
	/* An admin change through A is in force on B. */
	dev = client_connect(&v[1], 5, l.cfgs[3].client_id, l.cfgs[3].client_id,
			l.cfgs[3].client_secret);
	CHECK(dev != NULL);
	data = admin_ok_take(&v[0], admin_cmd_by("disableConfig", "client_id",
			l.cfgs[3].client_id));
	CHECK(data != NULL);
	json_decref(data);
	if (dev != NULL)
		CHECK(client_wait_gone(dev, IT_WAIT_MS));
	CHECK(client_connack(&v[1], 5, l.cfgs[3].client_id, l.cfgs[3].client_secret) != 0);
out:
	client_close(dev);
	load_free(&l);
	stop_brokers(v, 3);
}

static const cu_test_t tests[] = {
	{ "PostgreSQL restarted under load", test_postgresql_restarted_under_load },
	{ "PostgreSQL stopped for a second under load",
		test_postgresql_stopped_for_a_second_under_load },
	{ "a broker killed among three", test_a_broker_killed_among_three },
	{ NULL, NULL },
};

int main(void)
{
	setenv("BS_TEST_BACKEND", "postgresql", 1);
	cu_add_suite("pg_faults", NULL, NULL, tests);
	return cu_run("test_pg_faults");
}
