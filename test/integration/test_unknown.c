/*
 * The unknown devices on a real broker (protocol 7.3): an unregistered
 * device that bootstraps, once with mosquitto_rr and once from another
 * address, shows in listUnknown with its attempts and last address, its
 * replies byte for byte those of a wrong key; createConfig for its
 * external_id removes it. A flood of random external IDs keeps
 * max_unknown of them and the broker's memory flat; getStats and
 * $SYS/broker/bootstrap/unknown count them.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOOD 5000
#define FLOOD_MAX 100
#define FLOODS 3

static broker_t B;

static int start(void)
{
	char conf[160];

	snprintf(conf, sizeof conf, "plugin_opt_stats_interval 1\n"
			"plugin_opt_max_unknown %d\nplugin_opt_acl_default allow\n"
			/* The lockout's own table (section 6) grows with each new
			 * (external ID, address) pair up to its bound: off, so that
			 * the flood measures this table alone. */
			"plugin_opt_max_failures 0\n", FLOOD_MAX);
	return broker_start(&B, conf);
}

static int stop(void)
{
	broker_cleanup(&B);
	return 0;
}

/* The reply to payload, published by mosquitto_rr on bootstrap/req and
 * awaited on topic (malloc()ed, without the newline), or NULL. */
static char *rr(const char *payload, const char *topic)
{
	char port[16], *out = NULL;
	char *argv[] = { "mosquitto_rr", "-h", "127.0.0.1", "-p", port, "-t", "bootstrap/req",
		"-e", (char *)topic, "-m", (char *)payload, "-W", "5", NULL };
	size_t len;

	snprintf(port, sizeof port, "%d", B.port);
	if (run_capture(argv, NULL, &out, NULL) != 0) {
		free(out);
		return NULL;
	}
	len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[len - 1] = '\0';
	return out;
}

/* The reply to payload from a client connected from the loopback address
 * bind, subscribed to topic first (malloc()ed), or NULL. */
static char *rr_from(const char *bind, const char *payload, const char *topic)
{
	client_t *c = client_connect_from(&B, 4, bind);
	it_msg_t *m = NULL;
	char *text = NULL;

	if (c != NULL && client_subscribe(c, topic, 0) >= 0
			&& client_publish(c, "bootstrap/req", payload, (int)strlen(payload), NULL) == 0)
		m = client_wait(c, IT_WAIT_MS);
	if (m != NULL)
		text = strdup(m->payload);
	msg_free(m);
	client_close(c);
	return text;
}

static json_t *list_unknown(int limit)
{
	return admin_ok_take(&B, json_pack("{ss si}", "command", "listUnknown", "limit", limit));
}

/* The entry for ext in listUnknown (new reference), or NULL. */
static json_t *entry(const char *ext)
{
	json_t *d = list_unknown(1000), *e, *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(d, "unknown"), i, e) {
		if (strcmp(jstr(e, "external_id") ? jstr(e, "external_id") : "", ext) == 0)
			found = json_incref(e);
	}
	json_decref(d);
	return found;
}

static long long num(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static void test_unknown_device_is_listed_then_gone_with_its_config(void)
{
	boot_cfg_t cfg = { 0 };
	char *ghost = unique_name("ghost"), *known = unique_name("known");
	char *topic = NULL, *known_topic = NULL;
	char *req = NULL, *wrong = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL;
	json_t *e = NULL, *made = NULL;

	if (!CHECK(make_config(&B, known, NULL, true, &cfg) == 0))
		goto out;
	req = boot_request(ghost, "some-key-of-its-own", "r1");
	wrong = boot_request(cfg.external_id, "some-key-of-its-own", "r1");
	topic = malloc(strlen(ghost) + 16);
	known_topic = malloc(strlen(cfg.external_id) + 16);
	sprintf(topic, "bootstrap/res/%s", ghost);
	sprintf(known_topic, "bootstrap/res/%s", cfg.external_id);
	r1 = rr(req, topic);
	r2 = rr_from("127.0.0.2", req, topic);
	r3 = rr(wrong, known_topic);
	if (!CHECK(r1 != NULL && r2 != NULL && r3 != NULL))
		goto out;
	/* Unknown and wrong key: the same bytes. */
	CHECK_STR(r1, r3);
	CHECK_STR(r2, r3);
	CHECK(strstr(r1, "\"error\":\"unauthorized\"") != NULL);
	e = entry(ghost);
	if (!CHECK(e != NULL))
		goto out;
	CHECK(num(e, "attempts") == 2);
	CHECK_STR(jstr(e, "address"), "127.0.0.2");
	CHECK(jstr(e, "first_seen") != NULL && strlen(jstr(e, "first_seen")) == 20);
	CHECK(json_object_get(e, "external_key") == NULL);
	/* The wrong key of a known device is not an unknown device. */
	json_decref(e);
	e = entry(cfg.external_id);
	CHECK(e == NULL);
	made = admin_create_config(&B, ghost, NULL);
	CHECK(made != NULL);
	json_decref(e);
	e = entry(ghost);
	CHECK(e == NULL);
out:
	json_decref(e);
	json_decref(made);
	free(req);
	free(wrong);
	free(r1);
	free(r2);
	free(r3);
	free(topic);
	free(known_topic);
	free(ghost);
	free(known);
	boot_cfg_free(&cfg);
}

/* VmRSS of the broker in KiB, or -1. */
static long broker_rss(void)
{
	char path[64], *text, *at;
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)B.pid);
	if ((text = read_file_text(path, NULL)) == NULL)
		return -1;
	if ((at = strstr(text, "VmRSS:")) != NULL)
		kib = atol(at + 6);
	free(text);
	return kib;
}

/* n requests with random external IDs and wrong keys from one client,
 * each answered to it alone: done once every reply has come. A PUBACK
 * would not do: on PostgreSQL the lookups run on a thread of their own,
 * and a request is answered, and its unknown device noted, after the
 * broker has taken the next ones. */
static int flood(int n, unsigned long long *x)
{
	client_t *c = client_connect(&B, 4, NULL, NULL, NULL);
	char payload[160];
	int rc = c != NULL ? 0 : -1, replies = 0;
	it_msg_t *m;

	for (int i = 0; rc == 0 && i < n; i++) {
		*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
		int len = snprintf(payload, sizeof payload, "{\"external_id\":\"flood-%016llx\","
				"\"external_key\":\"flood-key-123\"}", *x);
		if (client_publish(c, "bootstrap/req", payload, len, NULL) < 0)
			rc = -1;
		for (; i % 100 == 0 && (m = client_wait(c, 1)) != NULL; replies++)
			msg_free(m);        /* the replies, drained */
	}
	for (; rc == 0 && replies < n && (m = client_wait(c, IT_WAIT_MS)) != NULL; replies++)
		msg_free(m);
	if (rc == 0 && replies < n) {
		fprintf(stderr, "    flood: %d replies to %d requests\n", replies, n);
		rc = -1;
	}
	client_close(c);
	return rc;
}

/* The value of $SYS/broker/bootstrap/unknown once it is want, or the last
 * seen within a few seconds. */
static long long sys_unknown(long long want)
{
	client_t *c = client_connect(&B, 4, NULL, NULL, NULL);
	long long seen = -1;

	if (c == NULL || client_subscribe(c, "$SYS/broker/bootstrap/unknown", 0) < 0) {
		client_close(c);
		return -2;
	}
	for (int waited = 0; seen != want && waited < 5000; waited += 200) {
		it_msg_t *m = client_wait(c, 200);
		if (m != NULL)
			seen = atoll(m->payload);
		msg_free(m);
	}
	client_close(c);
	return seen;
}

/* The least VmRSS after each of n floods, or -1 when one failed: a leak
 * grows each, while the allocator's arenas (the lookup thread's on
 * PostgreSQL) swing by hundreds of KiB from one flood to the next. */
static long least_rss(int n, unsigned long long *x)
{
	long least = -1;

	for (int i = 0; i < n; i++) {
		long rss;
		if (flood(FLOOD, x) != 0)
			return -1;
		rss = broker_rss();
		if (least < 0 || rss < least)
			least = rss;
	}
	return least;
}

static void test_flood_keeps_max_unknown_and_memory_flat(void)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	json_t *d = NULL, *stats = NULL;
	long before, after;

	/* The table full, and the allocator's arenas grown to what a flood
	 * needs (about three floods). */
	if (!CHECK(flood(FLOOD, &x) == 0) || !CHECK(least_rss(FLOODS, &x) > 0))
		return;
	before = least_rss(FLOODS, &x);
	after = least_rss(FLOODS, &x);
	fprintf(stderr, "    unknown flood: VmRSS at least %ld KiB after each of %d "
			"floods of %d IDs, at least %ld KiB after each of %d more\n", before,
			FLOODS, FLOOD, after, FLOODS);
	CHECK(before > 0 && after > 0);
	/* The table holds FLOOD_MAX entries: more floods grow nothing of
	 * it (256 KiB allows for the broker's own buffers). Not under a
	 * sanitizer or valgrind, whose own bookkeeping of freed memory grows
	 * with every request. */
	if (getenv("IT_BROKER_PRELOAD") == NULL && getenv("IT_BROKER_WRAP") == NULL)
		CHECK(after - before < 256);
	d = list_unknown(1000);
	if (!CHECK(d != NULL))
		return;
	CHECK(num(d, "total") == FLOOD_MAX);
	CHECK(json_array_size(json_object_get(d, "unknown")) == FLOOD_MAX);
	stats = admin_ok_take(&B, json_pack("{ss}", "command", "getStats"));
	CHECK(num(stats, "unknown") == FLOOD_MAX);
	CHECK(sys_unknown(FLOOD_MAX) == FLOOD_MAX);
	/* clearUnknown empties it, and the figure follows. */
	json_decref(admin_ok_take(&B, json_pack("{ss}", "command", "clearUnknown")));
	json_decref(d);
	d = list_unknown(10);
	CHECK(num(d, "total") == 0);
	CHECK(sys_unknown(0) == 0);
	json_decref(d);
	json_decref(stats);
}

/* What was remembered is still there after a restart. */
static void test_restart_keeps_the_list(void)
{
	char *ghost = unique_name("ghost"), *topic = malloc(strlen(ghost) + 16);
	char *req = boot_request(ghost, "some-key-of-its-own", NULL), *r = NULL;
	json_t *e = NULL;

	sprintf(topic, "bootstrap/res/%s", ghost);
	r = rr(req, topic);
	CHECK(r != NULL);
	if (!CHECK(broker_restart(&B) == 0))
		goto out;
	e = entry(ghost);
	if (CHECK(e != NULL))
		CHECK(num(e, "attempts") == 1);
out:
	json_decref(e);
	free(r);
	free(req);
	free(topic);
	free(ghost);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "unknown device is listed then gone with its config",
			test_unknown_device_is_listed_then_gone_with_its_config },
		{ "flood keeps max_unknown and memory flat",
			test_flood_keeps_max_unknown_and_memory_flat },
		{ "restart keeps the list", test_restart_keeps_the_list },
		{ NULL, NULL },
	};

	cu_add_suite("unknown", start, stop, tests);
	return cu_run("test_unknown");
}
