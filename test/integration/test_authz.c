/*
 * Who may use $CONTROL/bootstrap/#, on a real broker (protocol section 4):
 * with admin_users set, only the users it names; without it, whoever the
 * broker's acl_file lets in, except that a sender without a username gets
 * forbidden. "Cannot" means: the command has no effect, and no reply comes
 * back on the response topic nor on the sender's own Response Topic.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESPONSE_TOPIC "$CONTROL/bootstrap/v1/response"
#define ADMIN_TOPIC "$CONTROL/bootstrap/v1"
#define QUIET_MORE_MS 200       /* each further client, once one waited */

static broker_t B;
static bool wide_open;          /* plugin_opt_acl_default allow */

/* ---- helpers ---------------------------------------------------------- */

/* {"commands": [cmd]} as text (malloc()ed); cmd is borrowed. */
static char *one_batch(json_t *cmd)
{
	json_t *root = json_pack("{s[O]}", "commands", cmd);
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return text;
}

static json_t *create_cmd(const char *external_id)
{
	return json_pack("{ss ss ss}", "command", "createConfig",
			"correlationData", "a1", "external_id", external_id);
}

static json_t *get_cmd(const char *external_id)
{
	return json_pack("{ss ss ss}", "command", "getConfig",
			"correlationData", "g1", "external_id", external_id);
}

/* The first response of a reply message (new reference), or NULL. */
static json_t *first_response(const it_msg_t *m)
{
	json_t *reply = msg_json(m);
	json_t *r = json_incref(json_array_get(json_object_get(reply, "responses"), 0));
	json_decref(reply);
	return r;
}

/*
 * One command (borrowed) from user (NULL: anonymous) over MQTT 3.1.1, with
 * the reply read on the response topic; returns the response or NULL.
 */
static json_t *rr_as(const char *user, const char *pass, json_t *cmd)
{
	char *text = one_batch(cmd);
	json_t *reply = text != NULL ? admin_rr_as(&B, NULL, user, pass, text) : NULL;
	json_t *r = json_incref(json_array_get(json_object_get(reply, "responses"), 0));

	json_decref(reply);
	free(text);
	return r;
}

/* "ok", the error code, or NULL when no reply came (malloc()ed). */
static char *outcome(const char *user, const char *pass, json_t *cmd)
{
	json_t *r = cmd != NULL ? rr_as(user, pass, cmd) : NULL;
	const char *e = jstr(r, "error");
	char *out = r == NULL ? NULL
		: strdup(e != NULL ? e : json_object_get(r, "data") != NULL ? "ok" : "?");
	json_decref(r);
	json_decref(cmd);
	return out;
}

static void check_outcome(const char *user, const char *pass, json_t *cmd,
		const char *want)
{
	char *got = outcome(user, pass, cmd);
	CHECK_STR(got, want);
	free(got);
}

/* ---- the checks ------------------------------------------------------- */

/*
 * user creates a config and reads it back, on the response topic over
 * MQTT 3.1.1 and on its own Response Topic over MQTT v5.
 */
static void check_administers(const char *user, const char *pass)
{
	char *ext = unique_name("by-admin"), *rt = unique_name("admin/replies");
	json_t *create = create_cmd(ext), *get = get_cmd(ext);
	json_t *made = rr_as(user, pass, create);
	char *text = one_batch(get);
	client_t *c = client_connect(&B, 5, NULL, user, pass);
	it_msg_t *m = NULL;
	CHECK_STR(jstr(made, "command"), "createConfig");
	CHECK_STR(jstr(made, "correlationData"), "a1");
	CHECK(json_object_get(made, "error") == NULL);
	if (!CHECK(c != NULL && text != NULL))
		goto out;
	pub_opts_t o = { .qos = 1, .resp_topic = rt, .corr = "k9", .corr_len = 2 };
	CHECK(client_publish(c, ADMIN_TOPIC, text, (int)strlen(text), &o) == 0);
	m = client_wait(c, IT_WAIT_MS);
	json_t *r = first_response(m);
	if (CHECK(m != NULL)) {
		CHECK_STR(m->topic, rt);
		CHECK(m->corr_len == 2 && memcmp(m->corr, "k9", 2) == 0);
	}
	CHECK_STR(jstr(json_object_get(r, "data"), "external_id"), ext);
	json_decref(r);
out:
	msg_free(m);
	client_close(c);
	free(text);
	json_decref(made);
	json_decref(create);
	json_decref(get);
	free(rt);
	free(ext);
}

/* Subscribes to the response topic; refused or granted, both are fine. */
static client_t *outsider(int version, const char *user, const char *pass)
{
	client_t *c = client_connect(&B, version, NULL, user, pass);
	if (c != NULL && client_subscribe(c, RESPONSE_TOPIC, 1) < 0) {
		client_close(c);
		c = NULL;
	}
	return c;
}

/*
 * user (NULL: anonymous) sends a createConfig over MQTT v5 with a Response
 * Topic and over MQTT 3.1.1: nothing is created (as admin sees it) and
 * neither client hears anything, not even the admin's own reply.
 */
static void check_no_effect(const char *user, const char *pass,
		const char *admin, const char *admin_pass)
{
	char *ext = unique_name("outsider"), *rt = unique_name("outsider/replies");
	json_t *cmd = create_cmd(ext);
	char *text = one_batch(cmd);
	client_t *v5 = outsider(5, user, pass), *v4 = outsider(4, user, pass);
	if (!CHECK(text != NULL && v5 != NULL && v4 != NULL))
		goto out;
	int len = (int)strlen(text);
	pub_opts_t o = { .qos = 1, .resp_topic = rt, .corr = "c1", .corr_len = 2 };
	CHECK(client_publish(v5, ADMIN_TOPIC, text, len, &o) >= 0);
	CHECK(client_publish(v4, ADMIN_TOPIC, text, len, NULL) >= 0);
	CHECK(client_expect_none(v5, IT_QUIET_MS));
	CHECK(client_expect_none(v4, QUIET_MORE_MS));
	check_outcome(admin, admin_pass, get_cmd(ext), "not_found");
	CHECK(client_expect_none(v5, QUIET_MORE_MS));
	CHECK(client_expect_none(v4, QUIET_MORE_MS));
out:
	client_close(v5);
	client_close(v4);
	free(text);
	json_decref(cmd);
	free(rt);
	free(ext);
}

/*
 * user (NULL: anonymous) subscribes as widely as it can; the admin's
 * replies on the response topic never reach it. With acl_default allow the
 * wildcard subscriptions are granted, so only the read check stands between.
 */
static void check_cannot_snoop(const char *user, const char *pass,
		const char *admin, const char *admin_pass)
{
	static const char *const filters[] = { "#", "$CONTROL/#",
		"$CONTROL/bootstrap/#", RESPONSE_TOPIC };
	char *ext = unique_name("snooped");
	client_t *c = client_connect(&B, 5, NULL, user, pass);
	if (!CHECK(c != NULL))
		goto out;
	for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
		int granted = client_subscribe(c, filters[i], 1);
		CHECK(granted >= 0);
		if (wide_open && i < 2 && !CHECK(granted == 1))
			fprintf(stderr, "  %s was refused %s\n", user ? user : "anonymous",
					filters[i]);
	}
	check_outcome(admin, admin_pass, create_cmd(ext), "ok");
	check_outcome(admin, admin_pass, get_cmd(ext), "ok");
	CHECK(client_expect_none(c, IT_QUIET_MS));
out:
	client_close(c);
	free(ext);
}

/* ---- (a) admin_users = admin ------------------------------------------ */

static int start_admin_users(void)
{
	wide_open = false;
	return broker_start(&B, NULL);
}

static int start_admin_users_acl_allow(void)
{
	wide_open = true;
	return broker_start(&B, "plugin_opt_acl_default allow");
}

static int stop_broker(void)
{
	broker_cleanup(&B);
	wide_open = false;
	return 0;
}

static void test_listed_admin_administers_and_reads_replies(void)
{
	check_administers("admin", "adminpw");
}

static void test_authenticated_non_admin_changes_nothing_hears_nothing(void)
{
	check_no_effect("alice", "alicepw", "admin", "adminpw");
}

static void test_anonymous_client_changes_nothing_hears_nothing(void)
{
	check_no_effect(NULL, NULL, "admin", "adminpw");
}

static void test_non_admin_wildcards_do_not_receive_admin_replies(void)
{
	check_cannot_snoop("alice", "alicepw", "admin", "adminpw");
}

static void test_anonymous_wildcards_do_not_receive_admin_replies(void)
{
	check_cannot_snoop(NULL, NULL, "admin", "adminpw");
}

/* ---- (b), (c): admin_users unset, an acl_file decides ----------------- */

static const char unset_conf[] =
	"@STORE@\n"
	"plugin_opt_key_file @DIR@/bootstrap.key\n"
	"acl_file @DIR@/acl\n";

static const char alice_acl[] =
	"user alice\n"
	"topic readwrite $CONTROL/bootstrap/#\n";

static const char anonymous_acl[] =
	"topic readwrite $CONTROL/bootstrap/#\n"
	"\n"
	"user alice\n"
	"topic readwrite $CONTROL/bootstrap/#\n";

static int start_with_acl(const char *acl)
{
	wide_open = false;
	return broker_start_acl(&B, unset_conf, BROKER_NO_PLUGIN_OPTS, acl);
}

static int start_alice_acl(void)
{
	return start_with_acl(alice_acl);
}

static int start_anonymous_acl(void)
{
	return start_with_acl(anonymous_acl);
}

static void test_user_granted_by_acl_file_administers(void)
{
	check_administers("alice", "alicepw");
}

static void test_user_missing_from_acl_file_changes_nothing_hears_nothing(void)
{
	check_no_effect("admin", "adminpw", "alice", "alicepw");
}

static void test_anonymous_without_acl_grant_changes_nothing(void)
{
	check_no_effect(NULL, NULL, "alice", "alicepw");
}

static void test_user_missing_from_acl_file_cannot_read_replies(void)
{
	check_cannot_snoop("admin", "adminpw", "alice", "alicepw");
}

/* An ACL file granting anonymous clients the control topics lets them
 * publish a batch, answered forbidden, but never read the response topic
 * (responses show secrets once): the subscription is refused, nothing
 * comes, and nothing exists. */
static void test_anonymous_granted_by_acl_reads_nothing_changes_nothing(void)
{
	char *ext = unique_name("anon"), *chan = unique_name("anon-ch");
	json_t *cmds = json_pack("[{ss ss ss} {ss ss s[s]}]",
			"command", "createChannel", "id", chan, "name", "n",
			"command", "createConfig", "external_id", ext, "channels", chan);
	json_t *root = json_pack("{sO}", "commands", cmds);
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	client_t *c = client_connect(&B, 4, NULL, NULL, NULL);
	if (!CHECK(c != NULL && text != NULL && client_subscribe(c, RESPONSE_TOPIC, 1) == 0x80))
		goto out;
	CHECK(client_publish(c, ADMIN_TOPIC, text, (int)strlen(text), NULL) >= 0);
	CHECK(client_expect_none(c, IT_QUIET_MS));
	check_outcome("alice", "alicepw", get_cmd(ext), "not_found");
	check_outcome("alice", "alicepw", json_pack("{ss ss}", "command",
				"getChannel", "id", chan), "not_found");
out:
	client_close(c);
	free(text);
	json_decref(root);
	json_decref(cmds);
	free(chan);
	free(ext);
}

/* The same over MQTT v5: the forbidden reply comes on the sender's own
 * Response Topic, with its Correlation Data. */
static void test_anonymous_v5_sender_gets_forbidden_on_its_response_topic(void)
{
	char *ext = unique_name("anon5"), *rt = unique_name("anon/replies");
	json_t *cmd = create_cmd(ext);
	char *text = one_batch(cmd);
	client_t *c = client_connect(&B, 5, NULL, NULL, NULL);
	it_msg_t *m = NULL;
	if (!CHECK(c != NULL && text != NULL))
		goto out;
	pub_opts_t o = { .qos = 1, .resp_topic = rt, .corr = "z", .corr_len = 1 };
	CHECK(client_publish(c, ADMIN_TOPIC, text, (int)strlen(text), &o) == 0);
	m = client_wait(c, IT_WAIT_MS);
	json_t *r = first_response(m);
	if (CHECK(m != NULL)) {
		CHECK_STR(m->topic, rt);
		CHECK(m->corr_len == 1 && memcmp(m->corr, "z", 1) == 0);
	}
	CHECK_STR(jstr(r, "command"), "createConfig");
	CHECK_STR(jstr(r, "correlationData"), "a1");
	CHECK_STR(jstr(r, "error"), "forbidden");
	json_decref(r);
	check_outcome("alice", "alicepw", get_cmd(ext), "not_found");
out:
	msg_free(m);
	client_close(c);
	free(text);
	json_decref(cmd);
	free(rt);
	free(ext);
}

/* ---- registration ----------------------------------------------------- */

static const cu_test_t admin_users_tests[] = {
	{ "listed_admin_administers_and_reads_replies",
		test_listed_admin_administers_and_reads_replies },
	{ "authenticated_non_admin_changes_nothing_hears_nothing",
		test_authenticated_non_admin_changes_nothing_hears_nothing },
	{ "anonymous_client_changes_nothing_hears_nothing",
		test_anonymous_client_changes_nothing_hears_nothing },
	{ "non_admin_wildcards_do_not_receive_admin_replies",
		test_non_admin_wildcards_do_not_receive_admin_replies },
	{ "anonymous_wildcards_do_not_receive_admin_replies",
		test_anonymous_wildcards_do_not_receive_admin_replies },
	{ NULL, NULL },
};

static const cu_test_t acl_user_tests[] = {
	{ "user_granted_by_acl_file_administers",
		test_user_granted_by_acl_file_administers },
	{ "user_missing_from_acl_file_changes_nothing_hears_nothing",
		test_user_missing_from_acl_file_changes_nothing_hears_nothing },
	{ "anonymous_without_acl_grant_changes_nothing",
		test_anonymous_without_acl_grant_changes_nothing },
	{ "user_missing_from_acl_file_cannot_read_replies",
		test_user_missing_from_acl_file_cannot_read_replies },
	{ NULL, NULL },
};

static const cu_test_t acl_anonymous_tests[] = {
	{ "anonymous_granted_by_acl_reads_nothing_changes_nothing",
		test_anonymous_granted_by_acl_reads_nothing_changes_nothing },
	{ "anonymous_v5_sender_gets_forbidden_on_its_response_topic",
		test_anonymous_v5_sender_gets_forbidden_on_its_response_topic },
	{ "user_granted_by_acl_file_administers",
		test_user_granted_by_acl_file_administers },
	{ "user_missing_from_acl_file_changes_nothing_hears_nothing",
		test_user_missing_from_acl_file_changes_nothing_hears_nothing },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("admin_users_set", start_admin_users, stop_broker,
			admin_users_tests);
	cu_add_suite("admin_users_set_acl_default_allow",
			start_admin_users_acl_allow, stop_broker, admin_users_tests);
	cu_add_suite("admin_users_unset_acl_file_grants_alice", start_alice_acl,
			stop_broker, acl_user_tests);
	cu_add_suite("admin_users_unset_acl_file_grants_anonymous",
			start_anonymous_acl, stop_broker, acl_anonymous_tests);
	return cu_run("test_authz");
}
