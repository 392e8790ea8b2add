/*
 * Unit tests of lib/options.c: the plugin_opt_* lines of protocol section 1,
 * their defaults, their checks and the topics derived from topic_prefix.
 */
#include "cu_main.h"
#include "error.h"
#include "options.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}

static bs_options_t opts;
static char err[512];

/* ---- helpers ------------------------------------------------------------ */

static int opts_init(void)
{
	return bs_options_init(&opts) == BS_OK ? 0 : -1;
}

static int opts_clean(void)
{
	bs_options_free(&opts);
	return 0;
}

/* A fresh set of defaults for the test that calls it. */
static void fresh(void)
{
	bs_options_free(&opts);
	CU_ASSERT_EQUAL_FATAL(bs_options_init(&opts), BS_OK);
}

static int set(const char *name, const char *value)
{
	err[0] = '\0';
	return bs_options_set(&opts, name, value, err, sizeof err);
}

/* The option is accepted. */
static void accept(const char *name, const char *value)
{
	CU_ASSERT_EQUAL(set(name, value), BS_OK);
}

/* The option is refused with one line naming "plugin_opt_<name>". */
static void refuse(const char *name, const char *value)
{
	char want[128];

	snprintf(want, sizeof want, "plugin_opt_%s", name);
	CU_ASSERT_EQUAL(set(name, value), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	if (strstr(err, want) == NULL)
		fprintf(stderr, "\n    %s=\"%s\": message \"%s\"\n", name, value, err);
}

static void set_required(void)
{
	accept("db_path", "bootstrap.db");
	accept("key_file", "bootstrap.key");
}

static int finish(void)
{
	err[0] = '\0';
	return bs_options_finish(&opts, err, sizeof err);
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults(void)
{
	fresh();
	CU_ASSERT_STRING_EQUAL(opts.topic_prefix, "bootstrap");
	CU_ASSERT_EQUAL(opts.acl_default, BS_ACL_DEFAULT_DEFER);
	CU_ASSERT_EQUAL(opts.max_request_bytes, 16384);
	CU_ASSERT_EQUAL(opts.max_failures, 5);
	CU_ASSERT_EQUAL(opts.lockout_seconds, 60);
	CU_ASSERT_STRING_EQUAL(opts.channel_topic, "channels/{channel_id}/messages/#");
	CU_ASSERT_PTR_NULL(opts.admin_users);
	CU_ASSERT_EQUAL(opts.n_admin_users, 0);
	CU_ASSERT_PTR_NULL(opts.db_path);
	CU_ASSERT_PTR_NULL(opts.key_file);
}

static void test_default_topics(void)
{
	fresh();
	set_required();
	CU_ASSERT_EQUAL_FATAL(finish(), BS_OK);
	CU_ASSERT_STRING_EQUAL(opts.req_topic, "bootstrap/req");
	CU_ASSERT_STRING_EQUAL(opts.res_topic, "bootstrap/res");
	CU_ASSERT_STRING_EQUAL(opts.consumed_topic, "$bootstrap/consumed");
}

/* ---- every option parsed ------------------------------------------------ */

static void test_paths(void)
{
	fresh();
	set_required();
	CU_ASSERT_STRING_EQUAL(opts.db_path, "bootstrap.db");
	CU_ASSERT_STRING_EQUAL(opts.key_file, "bootstrap.key");
	accept("db_path", "other.db");             /* the last line wins */
	CU_ASSERT_STRING_EQUAL(opts.db_path, "other.db");
}

static void test_empty_paths_refused(void)
{
	fresh();
	refuse("db_path", "");
	refuse("key_file", "");
}

static void test_admin_users_list(void)
{
	fresh();
	accept("admin_users", "admin, ops");
	CU_ASSERT_EQUAL_FATAL(opts.n_admin_users, 2);
	CU_ASSERT_STRING_EQUAL(opts.admin_users[0], "admin");
	CU_ASSERT_STRING_EQUAL(opts.admin_users[1], "ops");
	CU_ASSERT_TRUE(bs_options_is_admin(&opts, "admin"));
	CU_ASSERT_TRUE(bs_options_is_admin(&opts, "ops"));
	CU_ASSERT_FALSE(bs_options_is_admin(&opts, " ops"));
	CU_ASSERT_FALSE(bs_options_is_admin(&opts, "Admin"));
	CU_ASSERT_FALSE(bs_options_is_admin(&opts, "adm"));
	CU_ASSERT_FALSE(bs_options_is_admin(&opts, ""));
	CU_ASSERT_FALSE(bs_options_is_admin(&opts, NULL));
}

static void test_admin_users_single_and_replaced(void)
{
	fresh();
	accept("admin_users", "root");
	CU_ASSERT_EQUAL(opts.n_admin_users, 1);
	accept("admin_users", "a,b,c");
	CU_ASSERT_EQUAL_FATAL(opts.n_admin_users, 3);
	CU_ASSERT_STRING_EQUAL(opts.admin_users[2], "c");
	CU_ASSERT_FALSE(bs_options_is_admin(&opts, "root"));
}

static void test_admin_users_empty_item_refused(void)
{
	fresh();
	refuse("admin_users", "a,,b");
}

static void test_admin_users_blank_refused(void)
{
	fresh();
	refuse("admin_users", "");
	refuse("admin_users", " ");
	refuse("admin_users", ",");
	refuse("admin_users", "a, ,b");
}

static void test_admin_users_leading_or_trailing_comma_refused(void)
{
	fresh();
	refuse("admin_users", ",a");
	refuse("admin_users", "a,");
}

static void test_topic_prefix(void)
{
	fresh();
	accept("topic_prefix", "acme/boot");
	CU_ASSERT_STRING_EQUAL(opts.topic_prefix, "acme/boot");
	accept("topic_prefix", "x");
	CU_ASSERT_STRING_EQUAL(opts.topic_prefix, "x");
}

static void test_topic_prefix_refused(void)
{
	static const char *bad[] = { "", "a/#", "#", "a/+/b", "+", "$x", "$",
		"a/", "/a", "a\xff" };

	fresh();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse("topic_prefix", bad[i]);
	CU_ASSERT_STRING_EQUAL(opts.topic_prefix, "bootstrap");
}

static void test_client_auth(void)
{
	fresh();
	accept("client_auth", "true");
	CU_ASSERT_EQUAL(opts.client_auth, 1);
	accept("client_auth", "false");
	CU_ASSERT_EQUAL(opts.client_auth, 0);
	refuse("client_auth", "yes");
	refuse("client_auth", "1");
	refuse("client_auth", "");
}

static void test_rekey_from(void)
{
	fresh();
	CU_ASSERT_PTR_NULL(opts.rekey_from);
	accept("rekey_from", "/etc/mosquitto/old.key");
	CU_ASSERT_STRING_EQUAL(opts.rekey_from, "/etc/mosquitto/old.key");
	refuse("rekey_from", "");
}

static void test_log_bootstraps(void)
{
	fresh();
	CU_ASSERT_EQUAL(opts.log_bootstraps, BS_LOG_BOOT_FAILURES);
	accept("log_bootstraps", "all");
	CU_ASSERT_EQUAL(opts.log_bootstraps, BS_LOG_BOOT_ALL);
	accept("log_bootstraps", "none");
	CU_ASSERT_EQUAL(opts.log_bootstraps, BS_LOG_BOOT_NONE);
	accept("log_bootstraps", "failures");
	CU_ASSERT_EQUAL(opts.log_bootstraps, BS_LOG_BOOT_FAILURES);
	refuse("log_bootstraps", "some");
	refuse("log_bootstraps", "");
}

static void test_channel_topic(void)
{
	fresh();
	accept("channel_topic", "ch/{channel_id}/#");
	CU_ASSERT_STRING_EQUAL(opts.channel_topic, "ch/{channel_id}/#");
	refuse("channel_topic", "channels/messages/#");
	refuse("channel_topic", "");
	refuse("channel_topic", "{channel}");
	CU_ASSERT_STRING_EQUAL(opts.channel_topic, "ch/{channel_id}/#");
}

static void test_acl_default(void)
{
	fresh();
	accept("acl_default", "allow");
	CU_ASSERT_EQUAL(opts.acl_default, BS_ACL_DEFAULT_ALLOW);
	accept("acl_default", "defer");
	CU_ASSERT_EQUAL(opts.acl_default, BS_ACL_DEFAULT_DEFER);
	refuse("acl_default", "maybe");
	refuse("acl_default", "deny");
	refuse("acl_default", "");
	CU_ASSERT_EQUAL(opts.acl_default, BS_ACL_DEFAULT_DEFER);
}

static void test_max_failures_and_lockout(void)
{
	fresh();
	accept("max_failures", "3");
	CU_ASSERT_EQUAL(opts.max_failures, 3);
	accept("lockout_seconds", "120");
	CU_ASSERT_EQUAL(opts.lockout_seconds, 120);
	refuse("max_failures", "abc");
	refuse("max_failures", "-1");
	refuse("max_failures", "5x");
	refuse("lockout_seconds", "0");
	refuse("lockout_seconds", "abc");
	refuse("lockout_seconds", "99999999999");
	CU_ASSERT_EQUAL(opts.max_failures, 3);
	CU_ASSERT_EQUAL(opts.lockout_seconds, 120);
}

static void test_max_request_bytes(void)
{
	fresh();
	accept("max_request_bytes", "256");
	CU_ASSERT_EQUAL(opts.max_request_bytes, 256);
	accept("max_request_bytes", "1048576");
	CU_ASSERT_EQUAL(opts.max_request_bytes, 1048576);
}

static void test_max_request_bytes_refused(void)
{
	static const char *bad[] = { "abc", "0", "-1", "99999999999", "",
		"12abc", " ", "1e3", "99999999999999999999999" };

	fresh();
	accept("max_request_bytes", "4096");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse("max_request_bytes", bad[i]);
	CU_ASSERT_EQUAL(opts.max_request_bytes, 4096);
}

static void test_unknown_option_refused(void)
{
	fresh();
	refuse("no_such_option", "1");
	refuse("DB_PATH", "x.db");
	refuse("", "x");
}

/* ---- finish ------------------------------------------------------------- */

static void test_finish_requires_db_path(void)
{
	fresh();
	accept("key_file", "bootstrap.key");
	CU_ASSERT_EQUAL(finish(), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_db_path"));
}

/* db_url (section 11): a PostgreSQL URL, instead of db_path. */
static void test_db_url(void)
{
	fresh();
	accept("db_url", "postgresql://bootstrap@db.example/bootstrap");
	accept("key_file", "bootstrap.key");
	CU_ASSERT_EQUAL(finish(), BS_OK);
	CU_ASSERT_STRING_EQUAL(opts.db_url, "postgresql://bootstrap@db.example/bootstrap");
	CU_ASSERT_PTR_NULL(opts.db_path);
	accept("db_url", "postgres://db.example/bootstrap?sslmode=verify-full");
	refuse("db_url", "");
	refuse("db_url", "mysql://db.example/bootstrap");
	refuse("db_url", "/var/lib/mosquitto/bootstrap.db");
}

static void test_db_path_and_db_url_together_refused(void)
{
	fresh();
	set_required();
	accept("db_url", "postgresql://db.example/bootstrap");
	CU_ASSERT_EQUAL(finish(), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_db_url"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "db_path"));
}

static void test_finish_requires_key_file(void)
{
	fresh();
	accept("db_path", "bootstrap.db");
	CU_ASSERT_EQUAL(finish(), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_key_file"));
}

/* The issuing CA (section 3.3): both files or neither; cert_days bounded. */
static void test_issuing_ca_options(void)
{
	fresh();
	CU_ASSERT_EQUAL(opts.cert_days, 90);
	accept("cert_days", "1");
	accept("cert_days", "825");
	CU_ASSERT_EQUAL(opts.cert_days, 825);
	refuse("cert_days", "0");
	refuse("cert_days", "826");
	refuse("cert_days", "ten");
	refuse("ca_cert", "");
	set_required();
	accept("ca_cert", "ca.pem");
	CU_ASSERT_EQUAL(finish(), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_ca_key"));
	fresh();
	set_required();
	accept("ca_key", "ca.key");
	CU_ASSERT_EQUAL(finish(), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_ca_cert"));
	accept("ca_cert", "ca.pem");
	CU_ASSERT_EQUAL(finish(), BS_OK);
	CU_ASSERT_STRING_EQUAL(opts.ca_cert, "ca.pem");
	CU_ASSERT_STRING_EQUAL(opts.ca_key, "ca.key");
}

static void test_finish_derives_custom_topics(void)
{
	fresh();
	set_required();
	accept("topic_prefix", "acme/boot");
	CU_ASSERT_EQUAL_FATAL(finish(), BS_OK);
	CU_ASSERT_STRING_EQUAL(opts.req_topic, "acme/boot/req");
	CU_ASSERT_STRING_EQUAL(opts.res_topic, "acme/boot/res");
	CU_ASSERT_STRING_EQUAL(opts.consumed_topic, "$acme/boot/consumed");
	/* Finishing twice derives the same topics and leaks nothing. */
	CU_ASSERT_EQUAL_FATAL(finish(), BS_OK);
	CU_ASSERT_STRING_EQUAL(opts.req_topic, "acme/boot/req");
}

static void test_free_twice_is_safe(void)
{
	fresh();
	set_required();
	accept("admin_users", "a,b");
	CU_ASSERT_EQUAL(finish(), BS_OK);
	bs_options_free(&opts);
	CU_ASSERT_PTR_NULL(opts.topic_prefix);
	CU_ASSERT_PTR_NULL(opts.admin_users);
	bs_options_free(&opts);
}

int main(void)
{
	static const cu_test_t default_tests[] = {
		T(test_defaults),
		T(test_default_topics),
		{ NULL, NULL }
	};
	static const cu_test_t parse_tests[] = {
		T(test_paths),
		T(test_empty_paths_refused),
		T(test_admin_users_list),
		T(test_admin_users_single_and_replaced),
		T(test_admin_users_empty_item_refused),
		T(test_admin_users_blank_refused),
		T(test_admin_users_leading_or_trailing_comma_refused),
		T(test_topic_prefix),
		T(test_topic_prefix_refused),
		T(test_client_auth),
		T(test_log_bootstraps),
		T(test_rekey_from),
		T(test_channel_topic),
		T(test_acl_default),
		T(test_max_failures_and_lockout),
		T(test_max_request_bytes),
		T(test_max_request_bytes_refused),
		T(test_unknown_option_refused),
		{ NULL, NULL }
	};
	static const cu_test_t finish_tests[] = {
		T(test_finish_requires_db_path),
		T(test_db_url),
		T(test_db_path_and_db_url_together_refused),
		T(test_finish_requires_key_file),
		T(test_issuing_ca_options),
	T(test_finish_derives_custom_topics),
		T(test_free_twice_is_safe),
		{ NULL, NULL }
	};

	cu_add_suite("defaults", opts_init, opts_clean, default_tests);
	cu_add_suite("parse", opts_init, opts_clean, parse_tests);
	cu_add_suite("finish", opts_init, opts_clean, finish_tests);
	return cu_run("options");
}
