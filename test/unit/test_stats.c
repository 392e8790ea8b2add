/*
 * lib/stats.c and getStats (protocol section 8): the device requests
 * counted by outcome, nonces, configs by state kept by the schema, active
 * lockouts; and the admin changes as events, never a secret.
 */
#include "admin_env.h"
#include "cu_main.h"
#include "device.h"
#include "error.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

#define KEY "the-right-key-1"

static void request(const char *payload, const char *address)
{
	bs_request_ctx_t ctx = { .client_id = "dev", .address = address, .now = T0 };
	bs_reply_t reply;

	CU_ASSERT_EQUAL_FATAL(bs_device_handle(env.core, &ctx, payload, strlen(payload),
			&reply), BS_OK);
	bs_reply_free(&reply);
}

static void boot(const char *ext, const char *key)
{
	char payload[256];
	snprintf(payload, sizeof payload, "{\"external_id\":\"%s\",\"external_key\":\"%s\"}",
			ext, key);
	request(payload, "192.0.2.1");
}

static void make_config(const char *id, const char *ext, int enable)
{
	ok_data(run1(json_pack("{ss ss ss ss}", "command", "createConfig",
			"client_id", id, "external_id", ext, "external_key", KEY)));
	if (enable)
		ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", id)));
}

static long long stat_of(json_t *data, const char *key)
{
	json_t *v = json_object_get(data, key);
	return json_is_integer(v) ? json_integer_value(v) : -2;
}

static json_t *get_stats(void)
{
	return ok_data(run1(json_pack("{ss}", "command", "getStats")));
}

static void test_requests_are_counted_by_outcome(void)
{
	json_t *s;

	env_open();
	env.core->lockout.max_failures = 0;
	make_config("on-1", "ext-on", 1);
	make_config("off-1", "ext-off", 0);
	boot("ext-on", KEY);
	boot("ext-on", KEY);
	boot("ext-on", "wrong-key-123");
	boot("no-such-ext", KEY);
	boot("ext-off", KEY);
	request("{\"external_id\": 7}", "192.0.2.1");
	request("not json", "192.0.2.1");
	request("{\"external_id\":\"ext-on\",\"op\":\"challenge\"}", "192.0.2.1");
	s = get_stats();
	CU_ASSERT_EQUAL(stat_of(s, "requests_ok"), 2);
	CU_ASSERT_EQUAL(stat_of(s, "requests_unauthorized"), 2);
	CU_ASSERT_EQUAL(stat_of(s, "requests_disabled"), 1);
	CU_ASSERT_EQUAL(stat_of(s, "requests_invalid"), 2);
	CU_ASSERT_EQUAL(stat_of(s, "requests_rate_limited"), 0);
	CU_ASSERT_EQUAL(stat_of(s, "requests_error"), 0);
	CU_ASSERT_EQUAL(stat_of(s, "challenges"), 1);
	CU_ASSERT_EQUAL(stat_of(s, "enrolled"), 0);
	CU_ASSERT_EQUAL(stat_of(s, "certificates_issued"), 0);
	CU_ASSERT_EQUAL(stat_of(s, "clients_connected"), 0);
	CU_ASSERT_EQUAL(stat_of(s, "unknown"), 1);     /* no-such-ext (section 7.3) */
	CU_ASSERT_EQUAL(json_object_size(s), BS_STATS_N);
}

static void test_configs_by_state_follow_every_change(void)
{
	json_t *s;

	env_open();
	make_config("a", "ext-a", 0);
	make_config("b", "ext-b", 1);
	make_config("c", "ext-c", 1);
	s = get_stats();
	CU_ASSERT_EQUAL(stat_of(s, "configs_enabled"), 2);
	CU_ASSERT_EQUAL(stat_of(s, "configs_disabled"), 1);
	ok_data(run1(json_pack("{ss ss}", "command", "disableConfig", "client_id", "b")));
	ok_data(run1(json_pack("{ss ss}", "command", "deleteConfig", "client_id", "c")));
	/* Enabling an enabled one changes nothing. */
	ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", "a")));
	ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", "a")));
	s = get_stats();
	CU_ASSERT_EQUAL(stat_of(s, "configs_enabled"), 1);
	CU_ASSERT_EQUAL(stat_of(s, "configs_disabled"), 1);
	/* A failed command inside a batch leaves the counts as they were. */
	run_batch(json_pack("[{ss ss ss} {ss ss ss}]", "command", "createConfig",
			"client_id", "d", "external_id", "ext-d",
			"command", "createConfig", "client_id", "a", "external_id", "ext-dup"));
	s = get_stats();
	CU_ASSERT_EQUAL(stat_of(s, "configs_disabled"), 2);
	CU_ASSERT_EQUAL(stat_of(s, "configs_enabled"), 1);
}

static void test_lockouts_active_are_counted(void)
{
	json_t *s;

	env_open();
	env.core->lockout.max_failures = 2;
	make_config("l", "ext-l", 1);
	for (int i = 0; i < 3; i++)
		boot("ext-l", "wrong-key-123");
	s = get_stats();
	CU_ASSERT_EQUAL(stat_of(s, "lockouts_active"), 1);
	CU_ASSERT(stat_of(s, "requests_rate_limited") >= 1);
}

static void test_changes_are_events_without_secrets(void)
{
	json_t *ev;

	env_open();
	run_batch(json_pack("[{ss ss ss ss} {ss ss} {ss ss}]", "command", "createConfig",
			"client_id", "e", "external_id", "ext-e", "external_key", KEY,
			"command", "getConfig", "client_id", "e",
			"command", "deleteConfig", "client_id", "nobody"));
	/* The read is no event; the failed change is one. */
	CU_ASSERT_EQUAL_FATAL(env.last.nevents, 2);
	ev = json_loads(env.last.events[0], 0, NULL);
	CU_ASSERT(str_is(ev, "event", "createConfig"));
	CU_ASSERT(str_is(ev, "user", "admin"));
	CU_ASSERT(str_is(ev, "target", "e"));
	CU_ASSERT(str_is(ev, "result", "ok"));
	CU_ASSERT(str_is(ev, "at", "2023-11-14T22:13:20Z"));
	CU_ASSERT_EQUAL(json_object_size(ev), 5);
	json_decref(ev);
	ev = json_loads(env.last.events[1], 0, NULL);
	CU_ASSERT(str_is(ev, "event", "deleteConfig"));
	CU_ASSERT(str_is(ev, "result", "not_found"));
	json_decref(ev);
	for (size_t i = 0; i < env.last.nevents; i++)
		CU_ASSERT_PTR_NULL(strstr(env.last.events[i], KEY));
}

static void test_get_stats_takes_no_fields(void)
{
	env_open();
	expect_error(run1(json_pack("{ss si}", "command", "getStats", "limit", 3)),
			"invalid_request", "getStats with a field");
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "requests are counted by outcome", test_requests_are_counted_by_outcome },
		{ "configs by state follow every change", test_configs_by_state_follow_every_change },
		{ "lockouts active are counted", test_lockouts_active_are_counted },
		{ "changes are events without secrets", test_changes_are_events_without_secrets },
		{ "getStats takes no fields", test_get_stats_takes_no_fields },
		{ NULL, NULL },
	};

	cu_add_suite("stats", NULL, suite_clean, tests);
	return cu_run("stats");
}
