/*
 * Unit tests of lib/acl.c: the answers for the topics the plugin owns
 * (protocol sections 3 and 4), with and without admin_users, with both
 * acl_default values and with a custom topic_prefix.
 */
#include "acl.h"
#include "cu_main.h"
#include "error.h"
#include "options.h"

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdio.h>

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}
#define R BS_ACCESS_READ
#define W BS_ACCESS_WRITE
#define S BS_ACCESS_SUBSCRIBE

static bs_options_t opts;

/* ---- helpers ------------------------------------------------------------ */

static void set(const char *name, const char *value)
{
	char err[256];

	CU_ASSERT_EQUAL_FATAL(bs_options_set(&opts, name, value, err, sizeof err),
			BS_OK);
}

/* Fresh finished options; admins and prefix may be NULL for the default. */
static void make(const char *admins, const char *prefix, const char *acl_default)
{
	char err[256];

	bs_options_free(&opts);
	CU_ASSERT_EQUAL_FATAL(bs_options_init(&opts), BS_OK);
	set("db_path", "bootstrap.db");
	set("key_file", "bootstrap.key");
	if (admins != NULL)
		set("admin_users", admins);
	if (prefix != NULL)
		set("topic_prefix", prefix);
	if (acl_default != NULL)
		set("acl_default", acl_default);
	CU_ASSERT_EQUAL_FATAL(bs_options_finish(&opts, err, sizeof err), BS_OK);
}

static int suite_clean(void)
{
	bs_options_free(&opts);
	return 0;
}

/* Checks one answer, naming the case when it differs. */
static void want(const char *user, const char *topic, int access, bs_acl_t expect)
{
	bs_acl_t got = bs_acl_check(&opts, user, topic, access);

	CU_ASSERT_EQUAL(got, expect);
	if (got != expect)
		fprintf(stderr, "\n    user=%s topic=%s access=%d: got %d, want %d\n",
				user ? user : "(null)", topic, access, (int)got, (int)expect);
}

/* The same answer for the three accesses a client can ask for. */
static void want_rws(const char *user, const char *topic, bs_acl_t expect)
{
	want(user, topic, R, expect);
	want(user, topic, W, expect);
	want(user, topic, S, expect);
}

/* The request/reply/consumed rules for a prefix, for user (may be NULL). */
static void check_owned(const char *prefix, const char *user)
{
	char req[128], res[128], res_dev[128], consumed[128];

	snprintf(req, sizeof req, "%s/req", prefix);
	snprintf(res, sizeof res, "%s/res", prefix);
	snprintf(res_dev, sizeof res_dev, "%s/res/dev-1", prefix);
	snprintf(consumed, sizeof consumed, "$%s/consumed", prefix);
	want(user, req, R, BS_ACL_DENY);
	want(user, req, S, BS_ACL_DENY);
	want(user, req, W, BS_ACL_ALLOW);
	want(user, res_dev, W, BS_ACL_DENY);
	want(user, res, W, BS_ACL_DENY);
	want(user, res_dev, S, BS_ACL_ALLOW);
	want(user, res_dev, R, BS_ACL_ALLOW);
	want(user, consumed, R, BS_ACL_DENY);
	want(user, consumed, S, BS_ACL_DENY);
	want(user, consumed, W, BS_ACL_DENY);
}

/* ---- request, reply and consumed topics --------------------------------- */

static void test_request_topic(void)
{
	make(NULL, NULL, NULL);
	want(NULL, "bootstrap/req", R, BS_ACL_DENY);
	want(NULL, "bootstrap/req", S, BS_ACL_DENY);
	want(NULL, "bootstrap/req", W, BS_ACL_ALLOW);
	want("device", "bootstrap/req", W, BS_ACL_ALLOW);
	want("device", "bootstrap/req", R, BS_ACL_DENY);
}

static void test_request_topic_unreadable_even_by_admin(void)
{
	make("admin", NULL, "allow");
	want("admin", "bootstrap/req", R, BS_ACL_DENY);
	want("admin", "bootstrap/req", S, BS_ACL_DENY);
}

static void test_reply_topics_not_writable(void)
{
	make("admin", NULL, "allow");
	want(NULL, "bootstrap/res/x", W, BS_ACL_DENY);
	want("admin", "bootstrap/res/x", W, BS_ACL_DENY);
	want("device", "bootstrap/res", W, BS_ACL_DENY);
	want("device", "bootstrap/res/a/b", W, BS_ACL_DENY);
}

static void test_reply_topics_subscribable(void)
{
	make(NULL, NULL, NULL);
	want(NULL, "bootstrap/res/x", S, BS_ACL_ALLOW);
	want("device", "bootstrap/res/x", S, BS_ACL_ALLOW);
	want("device", "bootstrap/res", S, BS_ACL_ALLOW);
}

static void test_consumed_topic_sealed(void)
{
	make("admin", NULL, "allow");
	want_rws(NULL, "$bootstrap/consumed", BS_ACL_DENY);
	want_rws("admin", "$bootstrap/consumed", BS_ACL_DENY);
	want_rws("device", "$bootstrap/consumed", BS_ACL_DENY);
}

static void test_owned_rules_same_for_every_user(void)
{
	make("admin", NULL, NULL);
	check_owned("bootstrap", NULL);
	check_owned("bootstrap", "device");
	check_owned("bootstrap", "admin");
}

/* ---- control topics ----------------------------------------------------- */

static void test_control_allowed_for_admin(void)
{
	make("admin, ops", NULL, NULL);
	want_rws("admin", BS_CONTROL_TOPIC, BS_ACL_ALLOW);
	want_rws("admin", BS_CONTROL_RESPONSE_TOPIC, BS_ACL_ALLOW);
	want_rws("ops", BS_CONTROL_TOPIC, BS_ACL_ALLOW);
	want_rws("ops", BS_CONTROL_RESPONSE_TOPIC, BS_ACL_ALLOW);
}

static void test_control_denied_for_others(void)
{
	make("admin", NULL, "allow");
	want_rws("mallory", BS_CONTROL_TOPIC, BS_ACL_DENY);
	want_rws("mallory", BS_CONTROL_RESPONSE_TOPIC, BS_ACL_DENY);
	want_rws("Admin", BS_CONTROL_TOPIC, BS_ACL_DENY);
	want_rws("mallory", "$CONTROL/bootstrap/v2", BS_ACL_DENY);
	want_rws("mallory", "$CONTROL/bootstrap", BS_ACL_DENY);
	want_rws("", BS_CONTROL_TOPIC, BS_ACL_DENY);
	want_rws(NULL, BS_CONTROL_TOPIC, BS_ACL_DENY);
	want_rws(NULL, BS_CONTROL_RESPONSE_TOPIC, BS_ACL_DENY);
}

static void test_control_deferred_without_admin_users(void)
{
	make(NULL, NULL, "allow");
	want_rws("admin", BS_CONTROL_TOPIC, BS_ACL_DEFER);
	want_rws("admin", BS_CONTROL_RESPONSE_TOPIC, BS_ACL_DEFER);
	want(NULL, BS_CONTROL_TOPIC, BS_ACCESS_WRITE, BS_ACL_DEFER);
}

/* An ACL file may grant anonymous clients the control topics; they still
 * never read the responses, which show secrets once. */
static void test_control_never_read_anonymously(void)
{
	make(NULL, NULL, "allow");
	want(NULL, BS_CONTROL_RESPONSE_TOPIC, BS_ACCESS_READ, BS_ACL_DENY);
	want(NULL, BS_CONTROL_RESPONSE_TOPIC, BS_ACCESS_SUBSCRIBE, BS_ACL_DENY);
	want(NULL, "$CONTROL/bootstrap/#", BS_ACCESS_SUBSCRIBE, BS_ACL_DENY);
	want(NULL, BS_CONTROL_RESPONSE_TOPIC, BS_ACCESS_UNSUBSCRIBE, BS_ACL_DEFER);
	want("alice", BS_CONTROL_RESPONSE_TOPIC, BS_ACCESS_READ, BS_ACL_DEFER);
}

static void test_control_names_are_the_contract(void)
{
	CU_ASSERT_STRING_EQUAL(BS_CONTROL_TOPIC, "$CONTROL/bootstrap/v1");
	CU_ASSERT_STRING_EQUAL(BS_CONTROL_RESPONSE_TOPIC,
			"$CONTROL/bootstrap/v1/response");
}

/* ---- other topics ------------------------------------------------------- */

static void test_other_topics_defer(void)
{
	make("admin", NULL, "defer");
	want_rws("device", "sensors/1", BS_ACL_DEFER);
	want_rws(NULL, "channels/c1/messages/x", BS_ACL_DEFER);
	want_rws("admin", "$SYS/broker/uptime", BS_ACL_DEFER);
	want_rws("device", "bootstrapx/req", BS_ACL_DEFER);
	want_rws("device", "$bootstrapx/consumed", BS_ACL_DEFER);
	want_rws("device", "$CONTROL/other/v1", BS_ACL_DEFER);
}

static void test_other_topics_allow(void)
{
	make("admin", NULL, "allow");
	want_rws("device", "sensors/1", BS_ACL_ALLOW);
	want_rws(NULL, "channels/c1/messages/x", BS_ACL_ALLOW);
	want_rws("device", "bootstrapx/req", BS_ACL_ALLOW);
}

/* ---- custom prefix ------------------------------------------------------ */

static void test_custom_prefix_moves_rules(void)
{
	make(NULL, "acme/boot", NULL);
	check_owned("acme/boot", NULL);
	check_owned("acme/boot", "device");
}

static void test_custom_prefix_frees_default_topics(void)
{
	make(NULL, "acme/boot", "allow");
	want_rws("device", "bootstrap/req", BS_ACL_ALLOW);
	want_rws("device", "bootstrap/res/x", BS_ACL_ALLOW);
	want_rws("device", "$bootstrap/consumed", BS_ACL_ALLOW);
	make(NULL, "acme/boot", "defer");
	want_rws("device", "bootstrap/req", BS_ACL_DEFER);
	want_rws("device", "$bootstrap/consumed", BS_ACL_DEFER);
	want_rws("device", "acme/bootx/req", BS_ACL_DEFER);
}

static void test_custom_prefix_keeps_control(void)
{
	make("admin", "acme/boot", NULL);
	want_rws("admin", BS_CONTROL_TOPIC, BS_ACL_ALLOW);
	want_rws("device", BS_CONTROL_TOPIC, BS_ACL_DENY);
}

int main(void)
{
	static const cu_test_t owned_tests[] = {
		T(test_request_topic),
		T(test_request_topic_unreadable_even_by_admin),
		T(test_reply_topics_not_writable),
		T(test_reply_topics_subscribable),
		T(test_consumed_topic_sealed),
		T(test_owned_rules_same_for_every_user),
		{ NULL, NULL }
	};
	static const cu_test_t control_tests[] = {
		T(test_control_allowed_for_admin),
		T(test_control_denied_for_others),
		T(test_control_deferred_without_admin_users),
		T(test_control_never_read_anonymously),
		T(test_control_names_are_the_contract),
		{ NULL, NULL }
	};
	static const cu_test_t other_tests[] = {
		T(test_other_topics_defer),
		T(test_other_topics_allow),
		T(test_custom_prefix_moves_rules),
		T(test_custom_prefix_frees_default_topics),
		T(test_custom_prefix_keeps_control),
		{ NULL, NULL }
	};

	cu_add_suite("owned topics", NULL, suite_clean, owned_tests);
	cu_add_suite("control topics", NULL, suite_clean, control_tests);
	cu_add_suite("other topics", NULL, suite_clean, other_tests);
	return cu_run("acl");
}
