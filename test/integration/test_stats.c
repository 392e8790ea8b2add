/*
 * Statistics and events on a real broker (protocol section 8): the figures
 * retained under $SYS/broker/bootstrap/ every stats_interval, read by a
 * real subscriber; getStats; every admin change on
 * $CONTROL/bootstrap/v1/events, for admins alone.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATS "$SYS/broker/bootstrap/"

static broker_t B;

static int start(void)
{
	return broker_start(&B, "plugin_opt_stats_interval 1\nplugin_opt_acl_default allow\n"
			"plugin_opt_client_auth true");
}

static int stop(void)
{
	broker_cleanup(&B);
	return 0;
}

/* The value of STATS<name> as it is within ms: the last one seen. */
static long long figure(const char *name, long long want, int ms)
{
	char topic[128];
	long long seen = -1;
	client_t *c = client_connect(&B, 4, NULL, NULL, NULL);

	snprintf(topic, sizeof topic, STATS "%s", name);
	if (c == NULL || client_subscribe(c, topic, 0) != 0) {
		client_close(c);
		return -2;
	}
	for (int waited = 0; seen != want && waited < ms; waited += 200) {
		it_msg_t *m = client_wait(c, 200);
		if (m != NULL)
			seen = atoll(m->payload);
		msg_free(m);
	}
	client_close(c);
	return seen;
}

static void test_sys_topics_count_requests_and_configs(void)
{
	boot_cfg_t cfg = { 0 };
	char *req = NULL;
	it_msg_t *m = NULL;

	if (!CHECK(make_config(&B, "stats-dev", NULL, true, &cfg) == 0))
		goto out;
	req = boot_request(cfg.external_id, cfg.external_key, NULL);
	m = device_rr(&B, 4, NULL, req, (int)strlen(req), NULL);
	CHECK(m != NULL && strstr(m->payload, "client_secret") != NULL);
	msg_free(m);
	free(req);
	req = boot_request(cfg.external_id, "not-the-key-at-all", NULL);
	m = device_rr(&B, 4, NULL, req, (int)strlen(req), NULL);
	CHECK(figure("requests/ok", 1, 3000) == 1);
	CHECK(figure("requests/unauthorized", 1, 3000) == 1);
	CHECK(figure("configs/enabled", 1, 3000) == 1);
	CHECK(figure("configs/disabled", 0, 3000) == 0);
	CHECK(figure("lockouts/active", 0, 3000) == 0);
	CHECK(figure("unknown", 0, 3000) == 0);
out:
	msg_free(m);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_sys_topics_count_connected_clients(void)
{
	boot_cfg_t cfg = { 0 };
	client_t *dev = NULL;

	if (!CHECK(broker_restart(&B) == 0)
			|| !CHECK(make_config(&B, "stats-login", NULL, true, &cfg) == 0))
		goto out;
	dev = client_connect(&B, 4, NULL, cfg.client_id, cfg.client_secret);
	if (CHECK(dev != NULL))
		CHECK(figure("clients/connected", 1, 3000) == 1);
	client_close(dev);
	dev = NULL;
	CHECK(figure("clients/connected", 0, 3000) == 0);
out:
	client_close(dev);
	boot_cfg_free(&cfg);
}

static void test_get_stats_answers_the_same_figures(void)
{
	json_t *data = admin_ok_take(&B, json_pack("{ss}", "command", "getStats"));

	CHECK(json_is_integer(json_object_get(data, "requests_ok")));
	CHECK(json_is_integer(json_object_get(data, "configs_enabled")));
	CHECK(json_is_integer(json_object_get(data, "clients_connected")));
	CHECK(json_object_size(data) == 14);
	json_decref(data);
}

static void test_admin_changes_are_events_for_admins_alone(void)
{
	client_t *adm = client_connect(&B, 4, NULL, "admin", "adminpw");
	client_t *anon = client_connect(&B, 4, NULL, NULL, NULL);
	it_msg_t *m = NULL;
	json_t *ev = NULL, *data = NULL;

	if (!CHECK(adm != NULL && anon != NULL)
			|| !CHECK(client_subscribe(adm, "$CONTROL/bootstrap/v1/events", 0) == 0))
		goto out;
	CHECK(client_subscribe(anon, "$CONTROL/bootstrap/v1/events", 0) == 0x80);
	data = admin_create_config(&B, "evented", NULL);
	if (!CHECK(data != NULL))
		goto out;
	m = client_wait(adm, IT_WAIT_MS);
	ev = msg_json(m);
	CHECK_STR(jstr(ev, "event"), "createConfig");
	CHECK_STR(jstr(ev, "user"), "admin");
	CHECK_STR(jstr(ev, "target"), jstr(data, "client_id"));
	CHECK_STR(jstr(ev, "result"), "ok");
	CHECK(jstr(ev, "at") != NULL);
	CHECK(m != NULL && !m->retain);
	CHECK(m != NULL && strstr(m->payload, jstr(data, "external_key")) == NULL);
	CHECK(client_expect_none(anon, IT_QUIET_MS));
out:
	json_decref(ev);
	json_decref(data);
	msg_free(m);
	client_close(adm);
	client_close(anon);
}

static void test_stats_interval_0_publishes_nothing(void)
{
	broker_t quiet;
	client_t *c;

	if (!CHECK(broker_start(&quiet, "plugin_opt_stats_interval 0\n"
					"plugin_opt_acl_default allow") == 0))
		return;
	sleep(2);
	c = client_connect(&quiet, 4, NULL, NULL, NULL);
	if (CHECK(c != NULL && client_subscribe(c, STATS "#", 0) == 0))
		CHECK(client_expect_none(c, IT_QUIET_MS));
	client_close(c);
	broker_cleanup(&quiet);
}

static const cu_test_t tests[] = {
	{ "sys_topics_count_requests_and_configs", test_sys_topics_count_requests_and_configs },
	{ "sys_topics_count_connected_clients", test_sys_topics_count_connected_clients },
	{ "get_stats_answers_the_same_figures", test_get_stats_answers_the_same_figures },
	{ "admin_changes_are_events_for_admins_alone",
		test_admin_changes_are_events_for_admins_alone },
	{ "stats_interval_0_publishes_nothing", test_stats_interval_0_publishes_nothing },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("stats", start, stop, tests);
	return cu_run("test_stats");
}
