/*
 * lib/devlog.c: the device log lines of protocol section 8, through
 * bs_device_handle on the admin fixture's core, whose log lines it keeps.
 */
#include "admin_env.h"
#include "cu_main.h"
#include "device.h"
#include "devlog.h"
#include "error.h"
#include "store_sqlite.h"

#include <stdio.h>
#include <string.h>

#define KEY "the-right-key-1"

static void make_device(void)
{
	ok_data(run1(json_pack("{ss ss ss ss}", "command", "createConfig",
			"client_id", "dev-1", "external_id", "ext-1", "external_key", KEY)));
	ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", "dev-1")));
	clear_lines();
}

/* One request with key (NULL: the right one) from client at second now. */
static void request(const char *key, const char *client, time_t now)
{
	char payload[256];
	bs_request_ctx_t ctx = { .client_id = client, .address = "192.0.2.1", .now = now };
	bs_reply_t reply;

	snprintf(payload, sizeof payload, "{\"external_id\":\"ext-1\",\"external_key\":\"%s\"}",
			key ? key : KEY);
	CU_ASSERT_EQUAL_FATAL(bs_device_handle(env.core, &ctx, payload, strlen(payload),
			&reply), BS_OK);
	bs_reply_free(&reply);
}

static size_t lines_with(const char *text)
{
	size_t n = 0;

	for (size_t i = 0; i < env.nlines; i++)
		n += strstr(env.lines[i], text) != NULL;
	return n;
}

static void test_a_failure_writes_one_escaped_line_without_the_key(void)
{
	env_open();
	env.core->lockout.max_failures = 0;
	make_device();
	request("wrong-key-123", "evil\nclient x=1", T0);
	CU_ASSERT_EQUAL_FATAL(env.nlines, 1);
	CU_ASSERT_STRING_EQUAL(env.lines[0], "device external_id=ext-1 "
			"client=evil\\x0aclient\\x20x\\x3d1 address=192.0.2.1 result=unauthorized");
	CU_ASSERT_TRUE(log_free_of("wrong-key-123"));
	/* A success writes nothing by default. */
	request(NULL, "dev", T0);
	CU_ASSERT_EQUAL(env.nlines, 1);
	CU_ASSERT_TRUE(log_free_of(KEY));
	env_close();
}

static void test_the_option_says_which_requests(void)
{
	env_open();
	make_device();
	env.core->opts.log_bootstraps = BS_LOG_BOOT_ALL;
	request(NULL, "dev", T0);
	CU_ASSERT_EQUAL(lines_with("result=ok"), 1);
	env.core->opts.log_bootstraps = BS_LOG_BOOT_NONE;
	request("wrong-key-123", "dev", T0);
	request(NULL, "dev", T0);
	CU_ASSERT_EQUAL(env.nlines, 1);
	env_close();
}

/* Past 100 lines a second, the rest are counted and reported once. */
static void test_a_flood_is_summed_up_each_second(void)
{
	env_open();
	env.core->lockout.max_failures = 0;
	make_device();
	for (int i = 0; i < 150; i++)
		request("wrong-key-123", "dev", T0);
	CU_ASSERT_EQUAL(lines_with("result=unauthorized"), BS_DEVLOG_PER_SECOND);
	CU_ASSERT_EQUAL(lines_with("suppressed"), 0);
	bs_devlog_tick(env.core, T0);
	CU_ASSERT_EQUAL(lines_with("suppressed"), 0);
	bs_devlog_tick(env.core, T0 + 1);
	CU_ASSERT_EQUAL(lines_with("device: 50 lines suppressed"), 1);
	request("wrong-key-123", "dev", T0 + 1);
	CU_ASSERT_EQUAL(lines_with("result=unauthorized"), BS_DEVLOG_PER_SECOND + 1);
	bs_devlog_tick(env.core, T0 + 2);
	CU_ASSERT_EQUAL(lines_with("suppressed"), 1);
	env_close();
}

/* The store failing under a flood (the configs table gone): each request
 * meets a store error, and its error line is one of the second's 100. */
static void test_store_errors_count_among_the_lines_of_a_second(void)
{
	env_open();
	make_device();
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(lite(bs_store_backend(env.core->store))->db,
			"ALTER TABLE configs RENAME TO configs_gone", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < 150; i++)
		request(NULL, "dev", T0);
	CU_ASSERT_TRUE(lines_with("lookup failed") > 0);
	CU_ASSERT_TRUE(lines_with("result=internal_error") > 0);
	CU_ASSERT_EQUAL(env.nlines, BS_DEVLOG_PER_SECOND);
	bs_devlog_tick(env.core, T0 + 1);
	CU_ASSERT_EQUAL(lines_with("device: 200 lines suppressed"), 1);
	env_close();
}

static const cu_test_t tests[] = {
	{ "a_failure_writes_one_escaped_line_without_the_key",
		test_a_failure_writes_one_escaped_line_without_the_key },
	{ "the_option_says_which_requests", test_the_option_says_which_requests },
	{ "a_flood_is_summed_up_each_second", test_a_flood_is_summed_up_each_second },
	{ "store_errors_count_among_the_lines_of_a_second",
		test_store_errors_count_among_the_lines_of_a_second },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("devlog", NULL, suite_clean, tests);
	return cu_run("test_devlog");
}
