/*
 * A slow network to PostgreSQL never stalls the broker's one thread during
 * device traffic. Broker B reaches its database through a proxy
 * (test/common/pg_delay.h) that holds each of B's messages to the server
 * SLOW_MS; broker A, where a test needs one, is on the same database
 * directly. The setup is done with no delay. Then, while a device's
 * action is in flight through B, a "pinger" client of B publishes to
 * itself every PING_EVERY_MS on a thread of its own and times each round
 * trip, from before the request until AFTER_MS after its answer (for the
 * work of the ticks that follow). With every store round trip of the
 * device path on the plugin's own threads, no ping takes STALL_MS.
 *
 * The cases: a zero-touch enrollment (protocol 7.2), a bootstrap with a
 * CSR (3.3), an unknown device (its decoy moved at the tick), a live
 * session's channels reloaded on B after a change made through A, and a
 * reconnect after PostgreSQL restarted, with what was missed read. Not an
 * admin let in right after B started on the slow network: B's start alone
 * takes about half a minute there (the plugin's start makes some fifty
 * round trips before the broker opens its listener).
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "pg_delay.h"
#include "store_db.h"
#include "tool_run.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOW_MS 600             /* the proxy's delay, each round trip */
#define STALL_MS 300            /* a ping this long: the broker stalled */
#define PING_EVERY_MS 20
#define AFTER_MS 1500           /* watched after the answer came */
#define REPLY_MS 15000          /* the longest wait for an answer */
#define RELOAD_MS 8000          /* for the new channel to be granted */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- the pinger ------------------------------------------------------- */

typedef struct {
	struct mosquitto *mosq;
	char topic[96];
	pthread_t thread;
	atomic_bool run;
	bool connected, lost;
	int seq, in_flight;         /* the last ping sent; it, until it is back */
	double sent_ms, max_ms;
	int pings;
} pinger_t;

static void ping_connected(struct mosquitto *m, void *obj, int rc)
{
	(void)m;
	((pinger_t *)obj)->connected = rc == 0;
}

static void ping_back(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	pinger_t *p = obj;
	char text[16];
	double took;

	(void)m;
	snprintf(text, sizeof text, "%.*s", msg->payloadlen < 15 ? msg->payloadlen : 15,
			(const char *)msg->payload);
	if (p->in_flight == 0 || atoi(text) != p->in_flight)
		return;
	took = now_ms() - p->sent_ms;
	if (took > p->max_ms)
		p->max_ms = took;
	p->pings++;
	p->in_flight = 0;
}

static void ping_send(pinger_t *p)
{
	char text[16];
	int n = snprintf(text, sizeof text, "%d", ++p->seq);

	p->sent_ms = now_ms();
	p->in_flight = p->seq;
	if (mosquitto_publish(p->mosq, NULL, p->topic, n, text, 0, false) != MOSQ_ERR_SUCCESS)
		p->lost = true;
}

/* One pass of the client's loop; false once the connection is lost. */
static bool ping_loop(pinger_t *p)
{
	if (mosquitto_loop(p->mosq, 5, 1) != MOSQ_ERR_SUCCESS)
		p->lost = true;
	return !p->lost;
}

static void *ping_run(void *arg)
{
	pinger_t *p = arg;

	while (atomic_load(&p->run) && ping_loop(p))
		if (p->in_flight == 0 && now_ms() - p->sent_ms >= PING_EVERY_MS)
			ping_send(p);
	return NULL;
}

/* libmosquitto's init, once (its cleanup is the harness's, at exit). */
static void lib_init_once(void)
{
	static bool done;

	if (!done)
		done = mosquitto_lib_init() == MOSQ_ERR_SUCCESS;
}

/* Connected to b, subscribed to its own topic, one ping back. 0 or -1. */
static int pinger_open(pinger_t *p, const broker_t *b)
{
	char *name = unique_name("slow-ping");
	double end = now_ms() + IT_WAIT_MS;

	memset(p, 0, sizeof *p);
	snprintf(p->topic, sizeof p->topic, "slow/%s", name != NULL ? name : "ping");
	free(name);
	lib_init_once();
	if ((p->mosq = mosquitto_new(NULL, true, p)) == NULL)
		return -1;
	mosquitto_connect_callback_set(p->mosq, ping_connected);
	mosquitto_message_callback_set(p->mosq, ping_back);
	if (mosquitto_connect(p->mosq, "127.0.0.1", b->port, 30) != MOSQ_ERR_SUCCESS)
		return -1;
	while (!p->connected && now_ms() < end && ping_loop(p))
		;
	if (!p->connected || mosquitto_subscribe(p->mosq, NULL, p->topic, 0) != 0)
		return -1;
	ping_send(p);
	while (p->in_flight != 0 && now_ms() < end && ping_loop(p))
		;
	return p->in_flight == 0 ? 0 : -1;
}

static void pinger_close(pinger_t *p)
{
	if (p->mosq == NULL)
		return;
	mosquitto_disconnect(p->mosq);
	mosquitto_destroy(p->mosq);
	p->mosq = NULL;
}

static int pinger_start(pinger_t *p)
{
	p->max_ms = 0;
	p->pings = 0;
	atomic_store(&p->run, true);
	return pthread_create(&p->thread, NULL, ping_run, p);
}

/* The longest round trip since pinger_start, the ping still out counted
 * as long as it has been out. */
static double pinger_stop(pinger_t *p)
{
	atomic_store(&p->run, false);
	pthread_join(p->thread, NULL);
	if (p->in_flight != 0 && now_ms() - p->sent_ms > p->max_ms)
		p->max_ms = now_ms() - p->sent_ms;
	return p->max_ms;
}

/* ---- the brokers ------------------------------------------------------ */

typedef struct {
	bs_pg_delay_t *proxy;
	broker_t a, b;
	bool a_up, b_ready;         /* a started; b prepared */
	char url[256];              /* the database */
	char slow_url[256];         /* the same through the proxy */
	pinger_t ping;
	double t0;                  /* the window's start */
} rig_t;

/* url with its port replaced by port, into out. 0 or -1. */
static int with_port(const char *url, int port, char *out, size_t len)
{
	const char *at = strstr(url, "@127.0.0.1:"), *rest;
	int n;

	if (at == NULL)
		return -1;
	at += strlen("@127.0.0.1:");
	rest = at + strspn(at, "0123456789");
	n = snprintf(out, len, "%.*s%d%s", (int)(at - url), url, port, rest);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int start_a(rig_t *r)
{
	char conf[400];

	snprintf(conf, sizeof conf, "plugin_opt_db_url %s\nplugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow", r->url);
	r->a_up = broker_start(&r->a, conf) == 0;
	return r->a_up ? 0 : -1;
}

/* The proxy, the database (and A on it when with_a), B prepared on the
 * proxy with extra (its lines after the store's). 0 or -1. */
static int rig_prepare(rig_t *r, bool with_a, const char *extra)
{
	bs_pg_server_t *pg = test_pg_server();
	char conf[1200];

	memset(r, 0, sizeof *r);
	if (pg == NULL || bs_pg_delay_start("127.0.0.1", pg->port, &r->proxy) != 0
			|| test_store_db("", r->url, sizeof r->url) != 0
			|| with_port(r->url, bs_pg_delay_port(r->proxy), r->slow_url,
				sizeof r->slow_url) != 0
			|| (with_a && start_a(r) != 0))
		return -1;
	snprintf(conf, sizeof conf, "plugin_opt_db_url %s\nplugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow\n%s", r->slow_url, extra);
	r->b_ready = (with_a ? broker_prepare_peer(&r->b, conf, &r->a)
			: broker_prepare(&r->b, conf, 0)) == 0;
	return r->b_ready ? 0 : -1;
}

/* B started, its pinger connected. 0 or -1. */
static int rig_launch(rig_t *r)
{
	return broker_launch(&r->b) == 0 && pinger_open(&r->ping, &r->b) == 0 ? 0 : -1;
}

static int rig_start(rig_t *r, bool with_a)
{
	return rig_prepare(r, with_a, "") == 0 ? rig_launch(r) : -1;
}

/* Whatever of the rig is up, stopped; harmless on a rig that failed. */
static void rig_close(rig_t *r)
{
	pinger_close(&r->ping);
	if (r->b_ready)
		broker_cleanup(&r->b);
	if (r->a_up)
		broker_cleanup(&r->a);
	bs_pg_delay_stop(r->proxy);
	memset(r, 0, sizeof *r);
}

/* ---- the window ------------------------------------------------------- */

/* The network slowed and the pinger on. */
static void window_open(rig_t *r)
{
	bs_pg_delay_set(r->proxy, SLOW_MS);
	CHECK(pinger_start(&r->ping) == 0);
	r->t0 = now_ms();
}

/* Called once the answer came: AFTER_MS more watched, then the network
 * back to no delay. The figures printed; no ping may have stalled. */
static void window_close(rig_t *r, const char *what)
{
	double answered = now_ms() - r->t0, longest;

	usleep(AFTER_MS * 1000);
	longest = pinger_stop(&r->ping);
	bs_pg_delay_set(r->proxy, 0);
	printf("\n    %s: answered in %.0f ms; the longest of %d pings took %.0f ms\n",
			what, answered, r->ping.pings, longest);
	CHECK(!r->ping.lost);
	/* The network was slow: the answer waited for a round trip at least. */
	CHECK(answered >= SLOW_MS);
	CHECK(longest < STALL_MS);
}

/* payload sent to bootstrap/req by a device of B connected beforehand,
 * in a window: the answer parsed, or NULL. */
static json_t *ask_slowly(rig_t *r, const char *payload, const char *what)
{
	client_t *dev = client_connect(&r->b, 5, NULL, NULL, NULL);
	it_msg_t *m = NULL;
	json_t *reply;

	if (!CHECK(dev != NULL))
		return NULL;
	window_open(r);
	if (CHECK(client_publish(dev, "bootstrap/req", payload, (int)strlen(payload),
			NULL) >= 0))
		m = client_wait(dev, REPLY_MS);
	window_close(r, what);
	reply = msg_json(m);
	CHECK(reply != NULL);
	msg_free(m);
	client_close(dev);
	return reply;
}

/* ---- a. an enrollment ------------------------------------------------- */

/* A channel and an enrollment group on it that enables: the group's key
 * (malloc()ed), or NULL. */
static char *make_group(const broker_t *b, const char *group, const char *channel)
{
	json_t *d;
	char *key = NULL;

	json_decref(admin_ok_take(b, json_pack("{ss ss ss}", "command", "createChannel",
			"id", channel, "name", channel)));
	d = admin_ok_take(b, json_pack("{ss ss ss s[s] sb}", "command", "createGroup",
			"id", group, "name", group, "channels", channel, "enable", 1));
	if (jstr(d, "group_key") != NULL)
		key = strdup(jstr(d, "group_key"));
	json_decref(d);
	return key;
}

static char *enroll_request(const char *ext, const char *key, const char *group)
{
	json_t *req = json_pack("{ss ss ss ss}", "external_id", ext, "external_key", key,
			"group", group, "id", "e1");
	char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;

	json_decref(req);
	return text;
}

static void test_an_enrollment_stalls_no_client(void)
{
	char *ext = unique_name("slow-enroll"), *group = unique_name("slow-line"),
		*channel = unique_name("slow-tele"), *gkey = NULL, *key = NULL, *req = NULL;
	json_t *reply = NULL;
	rig_t r;

	if (!CHECK(rig_start(&r, false) == 0)
			|| !CHECK((gkey = make_group(&r.b, group, channel)) != NULL)
			|| !CHECK((key = factory_key(gkey, ext)) != NULL)
			|| !CHECK((req = enroll_request(ext, key, group)) != NULL))
		goto stop;
	reply = ask_slowly(&r, req, "a first bootstrap enrolling through a group");
	CHECK_STR(jstr(reply, "id"), "e1");
	if (CHECK(jstr(reply, "client_id") != NULL && jstr(reply, "client_secret") != NULL))
		CHECK(client_connack_within(&r.b, 5, jstr(reply, "client_id"),
				jstr(reply, "client_secret"), true, IT_WAIT_MS) >= 0);
stop:
	rig_close(&r);
	json_decref(reply);
	free(req);
	free(key);
	free(gkey);
	free(ext);
	free(group);
	free(channel);
}

/* ---- b. a certificate issued ------------------------------------------ */

#define ISSUING_CONF "plugin_opt_ca_cert @DIR@/issuing/issuing-ca.pem\n" \
	"plugin_opt_ca_key @DIR@/issuing/issuing-ca.key\n"

static int make_issuing_ca(const broker_t *b)
{
	char dir[IT_PATH_MAX];
	char *argv[] = { "sh", "config-examples/make-issuing-ca.sh", dir, NULL };

	return broker_path(b, "issuing", dir, sizeof dir) == 0 && run_quiet(argv) == 0
		? 0 : -1;
}

/* A CSR for a new EC P-256 key, made in b's directory (PEM, malloc()ed). */
static char *make_csr(const broker_t *b)
{
	char key[IT_PATH_MAX], csr[IT_PATH_MAX];
	char *argv[] = { "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
		"-subj", "/CN=slow-device", NULL };

	if (broker_path(b, "device.key", key, sizeof key) != 0
			|| broker_path(b, "device.csr", csr, sizeof csr) != 0 || run_quiet(argv) != 0)
		return NULL;
	return read_file_text(csr, NULL);
}

static char *csr_request(const boot_cfg_t *cfg, const char *csr)
{
	json_t *req = json_pack("{ss ss ss ss}", "external_id", cfg->external_id,
			"external_key", cfg->external_key, "csr", csr, "id", "c1");
	char *text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;

	json_decref(req);
	return text;
}

static void test_a_certificate_issuance_stalls_no_client(void)
{
	char *ext = unique_name("slow-csr"), *csr = NULL, *req = NULL;
	const char *cert;
	boot_cfg_t cfg = { 0 };
	json_t *reply = NULL;
	rig_t r;

	if (!CHECK(rig_prepare(&r, false, ISSUING_CONF) == 0)
			|| !CHECK(make_issuing_ca(&r.b) == 0) || !CHECK(rig_launch(&r) == 0)
			|| !CHECK(make_config(&r.b, ext, NULL, true, &cfg) == 0)
			|| !CHECK((csr = make_csr(&r.b)) != NULL)
			|| !CHECK((req = csr_request(&cfg, csr)) != NULL))
		goto stop;
	reply = ask_slowly(&r, req, "a bootstrap with a CSR");
	cert = jstr(reply, "client_cert");
	CHECK_STR(jstr(reply, "client_id"), cfg.client_id);
	CHECK(cert != NULL && strncmp(cert, "-----BEGIN CERTIFICATE-----", 27) == 0);
	CHECK(jstr(reply, "ca_cert") != NULL);
	CHECK(json_object_get(reply, "client_key") == NULL);
stop:
	rig_close(&r);
	json_decref(reply);
	boot_cfg_free(&cfg);
	free(req);
	free(csr);
	free(ext);
}

/* ---- c. an unknown device --------------------------------------------- */

static void test_an_unknown_device_stalls_no_client(void)
{
	char *e1 = unique_name("slow-known"), *e2 = unique_name("slow-known"),
		*stranger = unique_name("slow-stranger"), *req = NULL;
	boot_cfg_t one = { 0 }, two = { 0 };
	json_t *reply = NULL;
	rig_t r;

	if (!CHECK(rig_start(&r, false) == 0)
			|| !CHECK(make_config(&r.b, e1, NULL, true, &one) == 0)
			|| !CHECK(make_config(&r.b, e2, NULL, true, &two) == 0)
			|| !CHECK((req = boot_request(stranger, "wrong-key-0123456789", "u1")) != NULL))
		goto stop;
	reply = ask_slowly(&r, req, "an unknown device");
	CHECK_STR(jstr(reply, "id"), "u1");
	CHECK_STR(jstr(reply, "error"), "unauthorized");
stop:
	rig_close(&r);
	json_decref(reply);
	boot_cfg_free(&one);
	boot_cfg_free(&two);
	free(req);
	free(e1);
	free(e2);
	free(stranger);
}

/* ---- d. a live session's channels reloaded ---------------------------- */

static bool granted(int rc)
{
	return rc >= 0 && rc < 0x80;
}

/* filter subscribed again until it is granted: the milliseconds that took,
 * or -1 when it never was within ms. */
static double granted_within(client_t *c, const char *filter, int ms)
{
	double t0 = now_ms();

	while (!granted(client_subscribe(c, filter, 1))) {
		if (now_ms() - t0 > ms)
			return -1;
		usleep(50 * 1000);
	}
	return now_ms() - t0;
}

/* cfg's device logged in on B, on its channel and not yet on more. */
static client_t *live_device(rig_t *r, const boot_cfg_t *cfg, const char *mine,
		const char *more)
{
	client_t *c;

	if (client_connack_within(&r->b, 5, cfg->client_id, cfg->client_secret, true,
			IT_WAIT_MS) < 0)
		return NULL;
	c = client_connect(&r->b, 5, NULL, cfg->client_id, cfg->client_secret);
	if (c != NULL && (!granted(client_subscribe(c, mine, 1))
			|| granted(client_subscribe(c, more, 1)))) {
		client_close(c);
		c = NULL;
	}
	return c;
}

static json_t *connect_channels(const broker_t *b, const boot_cfg_t *cfg, const char *more)
{
	return admin_ok_take(b, json_pack("{ss ss s[ss]}", "command", "modifyConfig",
			"client_id", cfg->client_id, "channels", cfg->channel_id, more));
}

static void test_a_channel_reload_stalls_no_client(void)
{
	char *ext = unique_name("slow-live"), *more = unique_name("slow-more"),
		*mine = NULL, *next = NULL;
	boot_cfg_t cfg = { 0 };
	client_t *dev = NULL;
	json_t *data = NULL;
	double took = -1;
	rig_t r;

	if (!CHECK(rig_start(&r, true) == 0)
			|| !CHECK((data = admin_ok_take(&r.a, json_pack("{ss ss ss}", "command",
					"createChannel", "id", more, "name", more))) != NULL)
			|| !CHECK(make_config(&r.a, ext, NULL, true, &cfg) == 0))
		goto stop;
	mine = channel_topic(cfg.channel_id, "#");
	next = channel_topic(more, "#");
	if (!CHECK((dev = live_device(&r, &cfg, mine, next)) != NULL))
		goto stop;
	json_decref(data);
	window_open(&r);
	CHECK((data = connect_channels(&r.a, &cfg, more)) != NULL);
	took = granted_within(dev, next, RELOAD_MS);
	window_close(&r, "a second channel connected through A, reloaded on B");
	CHECK(took >= 0);
	CHECK(granted(client_subscribe(dev, mine, 1)));
stop:
	client_close(dev);
	rig_close(&r);
	json_decref(data);
	boot_cfg_free(&cfg);
	free(mine);
	free(next);
	free(ext);
	free(more);
}

/* ---- e. a reconnect's read of what was missed ------------------------ */

/* cfg disabled through b, tried again until it is done (the store may be
 * busy while its connection comes back): true when it was. */
static bool disabled_within(const broker_t *b, const boot_cfg_t *cfg, int ms)
{
	double t0 = now_ms();

	for (;;) {
		json_t *cmd = json_pack("{ss ss}", "command", "disableConfig", "client_id",
				cfg->client_id);
		json_t *one = admin_cmd(b, cmd);
		bool ok = one != NULL && json_object_get(one, "error") == NULL;
		json_decref(one);
		json_decref(cmd);
		if (ok)
			return true;
		if (now_ms() - t0 > ms)
			return false;
		usleep(100 * 1000);
	}
}

/*
 * PostgreSQL restarted under B: B's listening connection is made again,
 * and what was announced while it was down is read from the table. A
 * config disabled through A meanwhile ends its live session on B, which
 * only that read can tell B of.
 */
static void test_a_reconnect_stalls_no_client(void)
{
	char *ext = unique_name("slow-reconnect");
	boot_cfg_t cfg = { 0 };
	client_t *dev = NULL;
	rig_t r;

	if (!CHECK(rig_start(&r, true) == 0)
			|| !CHECK(make_config(&r.a, ext, NULL, true, &cfg) == 0))
		goto stop;
	if (!CHECK(client_connack_within(&r.b, 5, cfg.client_id, cfg.client_secret, true,
			IT_WAIT_MS) >= 0)
			|| !CHECK((dev = client_connect(&r.b, 5, NULL, cfg.client_id,
					cfg.client_secret)) != NULL))
		goto stop;
	window_open(&r);
	CHECK(bs_pg_server_restart(test_pg_server()) == 0);
	CHECK(disabled_within(&r.a, &cfg, REPLY_MS));
	CHECK(client_wait_gone(dev, REPLY_MS));
	window_close(&r, "a config disabled through A while B reconnected, its "
			"session on B ended");
stop:
	client_close(dev);
	rig_close(&r);
	boot_cfg_free(&cfg);
	free(ext);
}

static const cu_test_t tests[] = {
	{ "an enrollment stalls no client", test_an_enrollment_stalls_no_client },
	{ "a certificate issuance stalls no client",
		test_a_certificate_issuance_stalls_no_client },
	{ "an unknown device stalls no client", test_an_unknown_device_stalls_no_client },
	{ "a channel reload stalls no client", test_a_channel_reload_stalls_no_client },
	{ "a reconnect stalls no client", test_a_reconnect_stalls_no_client },
	{ NULL, NULL },
};

int main(void)
{
	setenv("BS_TEST_BACKEND", "postgresql", 1);
	cu_add_suite("pg_slow", NULL, NULL, tests);
	return cu_run("test_pg_slow");
}
