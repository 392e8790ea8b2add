/*
 * Administration over $CONTROL/bootstrap/v1 against a real broker
 * (protocol sections 2 and 4).
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static broker_t B;
static char *cert, *key;

static int suite_init(void)
{
	if (broker_start(&B, NULL) != 0)
		return -1;
	if (make_cert(B.dir, "admin-device", &cert, &key) != 0) {
		broker_cleanup(&B);
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	free(cert);
	free(key);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static void check_err_new(json_t *cmd, const char *code)
{
	char *e = admin_err_take(&B, cmd);
	CHECK_STR(e, code);
	free(e);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static bool is_uuid4(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return false;
	if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	if (!is_hex(s, 8) || !is_hex(s + 9, 4) || !is_hex(s + 14, 4) ||
			!is_hex(s + 19, 4) || !is_hex(s + 24, 12))
		return false;
	return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
}

/* "YYYY-MM-DDTHH:MM:SS...Z" */
static bool is_rfc3339_utc(const char *s)
{
	if (s == NULL || strlen(s) < 20)
		return false;
	return s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
		s[16] == ':' && s[strlen(s) - 1] == 'Z';
}

static json_t *new_channel(void)
{
	char *name = unique_name("channel");
	json_t *cmd = json_pack("{ss ss s{si}}", "command", "createChannel",
			"name", name, "metadata", "floor", 3);
	free(name);
	return admin_ok_take(&B, cmd);
}

/* ---- channels --------------------------------------------------------- */

static void test_create_channel_then_get_channel_returns_it(void)
{
	json_t *ch = new_channel();
	if (!CHECK(ch != NULL))
		return;
	const char *id = jstr(ch, "id");
	CHECK(id != NULL && id[0] != '\0');
	CHECK(jstr(ch, "name") != NULL);
	CHECK(json_integer_value(json_object_get(json_object_get(ch, "metadata"),
					"floor")) == 3);
	json_t *got = id != NULL ? admin_ok_take(&B, admin_cmd_by("getChannel", "id", id)) : NULL;
	CHECK(got != NULL && json_equal(got, ch));
	json_decref(got);
	json_decref(ch);
}

/* ---- configs ---------------------------------------------------------- */

static void test_create_config_generates_uuid_secret_and_key(void)
{
	char *ext = unique_name("gen");
	json_t *cfg = ext != NULL ? admin_create_config(&B, ext, NULL) : NULL;
	if (!CHECK(cfg != NULL))
		goto out;
	CHECK(is_uuid4(jstr(cfg, "client_id")));
	CHECK(jstr(cfg, "client_secret") != NULL &&
			strlen(jstr(cfg, "client_secret")) >= 22);
	CHECK(jstr(cfg, "external_key") != NULL &&
			strlen(jstr(cfg, "external_key")) >= 22);
	CHECK_STR(jstr(cfg, "external_id"), ext);
	CHECK_STR(jstr(cfg, "state"), "disabled");
	CHECK(is_rfc3339_utc(jstr(cfg, "created_at")));
	CHECK(is_rfc3339_utc(jstr(cfg, "updated_at")));
	CHECK(json_is_null(json_object_get(cfg, "last_bootstrap_at")));
	CHECK(json_is_array(json_object_get(cfg, "channels")));
	CHECK(json_object_get(cfg, "client_key") == NULL);
out:
	json_decref(cfg);
	free(ext);
}

static void test_create_config_keeps_given_id_secret_and_key(void)
{
	char *ext = unique_name("given");
	char *id = unique_name("client");
	json_t *extra = json_pack("{ss ss ss ss}", "client_id", id,
			"client_secret", "given-secret-0123456789",
			"external_key", "given-key-0123456789", "name", "Given");
	json_t *cfg = ext != NULL && id != NULL && extra != NULL
		? admin_create_config(&B, ext, extra) : NULL;
	if (CHECK(cfg != NULL)) {
		CHECK_STR(jstr(cfg, "client_id"), id);
		CHECK_STR(jstr(cfg, "client_secret"), "given-secret-0123456789");
		CHECK_STR(jstr(cfg, "external_key"), "given-key-0123456789");
		CHECK_STR(jstr(cfg, "name"), "Given");
	}
	json_decref(cfg);
	json_decref(extra);
	free(id);
	free(ext);
}

static void test_get_config_hides_secrets_but_shows_has_client_key(void)
{
	char *ext = unique_name("hidden");
	json_t *extra = cert != NULL
		? json_pack("{ss ss}", "client_cert", cert, "client_key", key) : NULL;
	json_t *cfg = ext != NULL && extra != NULL ? admin_create_config(&B, ext, extra) : NULL;
	json_t *got = cfg != NULL ? admin_get_config(&B, "client_id", jstr(cfg, "client_id")) : NULL;
	if (CHECK(cfg != NULL && got != NULL)) {
		CHECK(json_object_get(got, "external_key") == NULL);
		CHECK(json_object_get(got, "client_key") == NULL);
		CHECK(json_is_true(json_object_get(got, "has_client_key")));
		CHECK(jstr(got, "client_cert") != NULL);
		CHECK_STR(jstr(got, "external_id"), ext);
	}
	json_decref(got);
	json_decref(cfg);
	json_decref(extra);
	free(ext);
}

static void test_get_config_by_client_id_and_by_external_id(void)
{
	char *ext = unique_name("lookup");
	json_t *cfg = ext != NULL ? admin_create_config(&B, ext, NULL) : NULL;
	if (!CHECK(cfg != NULL))
		goto out;
	const char *id = jstr(cfg, "client_id");
	json_t *a = admin_get_config(&B, "client_id", id);
	json_t *b = admin_get_config(&B, "external_id", ext);
	CHECK(a != NULL && b != NULL);
	CHECK_STR(jstr(a, "client_id"), id);
	CHECK_STR(jstr(b, "client_id"), id);
	CHECK_STR(jstr(b, "external_id"), ext);
	json_decref(a);
	json_decref(b);
out:
	json_decref(cfg);
	free(ext);
}

static void test_enable_and_disable_change_state(void)
{
	char *ext = unique_name("state");
	json_t *cfg = ext != NULL ? admin_create_config(&B, ext, NULL) : NULL;
	if (!CHECK(cfg != NULL))
		goto out;
	const char *id = jstr(cfg, "client_id");
	json_t *on = admin_ok_take(&B, admin_cmd_by("enableConfig", "client_id", id));
	CHECK_STR(jstr(on, "state"), "enabled");
	json_t *seen = admin_get_config(&B, "client_id", id);
	CHECK_STR(jstr(seen, "state"), "enabled");
	json_t *off = admin_ok_take(&B, admin_cmd_by("disableConfig", "client_id", id));
	CHECK_STR(jstr(off, "state"), "disabled");
	json_t *seen2 = admin_get_config(&B, "client_id", id);
	CHECK_STR(jstr(seen2, "state"), "disabled");
	json_decref(seen2);
	json_decref(off);
	json_decref(seen);
	json_decref(on);
out:
	json_decref(cfg);
	free(ext);
}

static void test_delete_config_then_get_config_is_not_found(void)
{
	char *ext = unique_name("gone");
	json_t *cfg = ext != NULL ? admin_create_config(&B, ext, NULL) : NULL;
	if (!CHECK(cfg != NULL))
		goto out;
	const char *id = jstr(cfg, "client_id");
	json_t *del = admin_ok_take(&B, admin_cmd_by("deleteConfig", "client_id", id));
	CHECK(json_is_object(del) && json_object_size(del) == 0);
	json_decref(del);
	check_err_new(admin_cmd_by("getConfig", "client_id", id), "not_found");
	check_err_new(admin_cmd_by("getConfig", "external_id", ext), "not_found");
out:
	json_decref(cfg);
	free(ext);
}

static void test_duplicate_external_id_is_conflict(void)
{
	char *ext = unique_name("dup");
	json_t *cfg = ext != NULL ? admin_create_config(&B, ext, NULL) : NULL;
	if (CHECK(cfg != NULL)) {
		json_t *cmd = json_pack("{ss ss}", "command", "createConfig",
				"external_id", ext);
		check_err_new(cmd, "conflict");
		json_t *still = admin_get_config(&B, "external_id", ext);
		CHECK_STR(jstr(still, "client_id"), jstr(cfg, "client_id"));
		json_decref(still);
	}
	json_decref(cfg);
	free(ext);
}

static void test_unknown_channel_creates_nothing(void)
{
	char *ext = unique_name("nochan");
	json_t *cmd = json_pack("{ss ss s[{ss}]}", "command", "createConfig",
			"external_id", ext, "channels", "id", "no-such-channel");
	char *e = admin_err_take(&B, cmd);
	CHECK(e != NULL && (strcmp(e, "not_found") == 0 ||
				strcmp(e, "invalid_request") == 0));
	free(e);
	check_err_new(admin_cmd_by("getConfig", "external_id", ext), "not_found");
	free(ext);
}

/* ---- batches and malformed payloads ----------------------------------- */

static json_t *batch_commands(const char *ext)
{
	return json_pack("[{ss ss ss} {ss ss ss} {ss ss ss}]",
			"command", "createChannel", "correlationData", "1",
			"name", "batch-channel",
			"command", "getConfig", "correlationData", "2",
			"client_id", "no-such-client",
			"command", "createConfig", "correlationData", "3",
			"external_id", ext);
}

static void test_batch_failure_in_middle_keeps_order_and_applies_rest(void)
{
	char *ext = unique_name("batch");
	json_t *cmds = ext != NULL ? batch_commands(ext) : NULL;
	json_t *reply = cmds != NULL ? admin_rr_json(&B, cmds) : NULL;
	json_t *rs = json_object_get(reply, "responses");
	if (!CHECK(json_array_size(rs) == 3))
		goto out;
	json_t *r0 = json_array_get(rs, 0), *r1 = json_array_get(rs, 1);
	json_t *r2 = json_array_get(rs, 2);
	CHECK_STR(jstr(r0, "command"), "createChannel");
	CHECK_STR(jstr(r0, "correlationData"), "1");
	CHECK(json_object_get(r0, "error") == NULL);
	CHECK_STR(jstr(r1, "command"), "getConfig");
	CHECK_STR(jstr(r1, "correlationData"), "2");
	CHECK_STR(jstr(r1, "error"), "not_found");
	CHECK_STR(jstr(r2, "command"), "createConfig");
	CHECK_STR(jstr(r2, "correlationData"), "3");
	CHECK(json_object_get(r2, "error") == NULL);
	json_t *made = admin_get_config(&B, "external_id", ext);
	CHECK(made != NULL);
	json_decref(made);
out:
	json_decref(reply);
	json_decref(cmds);
	free(ext);
}

static void expect_one_invalid(const char *payload)
{
	json_t *reply = admin_rr_raw(&B, payload);
	json_t *rs = json_object_get(reply, "responses");
	json_t *r = json_array_get(rs, 0);
	CHECK(json_array_size(rs) == 1);
	CHECK_STR(jstr(r, "command"), "");
	CHECK_STR(jstr(r, "error"), "invalid_request");
	json_decref(reply);
}

static void test_payload_without_commands_array_is_invalid_request(void)
{
	expect_one_invalid("not json at all");
	expect_one_invalid("[{\"command\":\"listChannels\"}]");
	expect_one_invalid("{\"orders\":[]}");
	expect_one_invalid("{\"commands\":{\"command\":\"listChannels\"}}");
	CHECK(broker_alive(&B));
}

static void test_v5_response_topic_and_correlation_on_admin_reply(void)
{
	static const unsigned char corr[] = { 'a', 0x00, 0xfe, '7' };
	static const char payload[] =
		"{\"commands\":[{\"command\":\"getConfig\",\"correlationData\":\"x\","
		"\"client_id\":\"no-such-client\"}]}";
	char *rt = unique_name("admin/replies");
	it_msg_t *m = rt != NULL
		? admin_rr_v5(&B, payload, rt, corr, (int)sizeof corr) : NULL;
	json_t *reply = msg_json(m);
	if (CHECK(m != NULL)) {
		CHECK_STR(m->topic, rt);
		CHECK(m->corr_len == (int)sizeof corr &&
				memcmp(m->corr, corr, sizeof corr) == 0);
	}
	json_t *r = json_array_get(json_object_get(reply, "responses"), 0);
	CHECK_STR(jstr(r, "command"), "getConfig");
	CHECK_STR(jstr(r, "correlationData"), "x");
	CHECK_STR(jstr(r, "error"), "not_found");
	json_decref(reply);
	msg_free(m);
	free(rt);
}

/* ---- authorization ---------------------------------------------------- */

/*
 * An outsider tries to read admin replies and to create a config: the
 * subscription is refused or stays silent (even while the admin works),
 * and nothing is created.
 */
static void outsider_has_no_effect(const char *user, const char *pass)
{
	static const char resp[] = "$CONTROL/bootstrap/v1/response";
	char *ext = unique_name(user != NULL ? user : "anon");
	client_t *c = client_connect(&B, 5, NULL, user, pass);
	json_t *cmd = json_pack("{s[{ss ss}]}", "commands", "command",
			"createConfig", "external_id", ext);
	char *text = cmd != NULL ? json_dumps(cmd, JSON_COMPACT) : NULL;
	if (!CHECK(c != NULL && text != NULL))
		goto out;
	int granted = client_subscribe(c, resp, 1);
	CHECK(granted >= 0);
	pub_opts_t o = { .qos = 1 };
	CHECK(client_publish(c, "$CONTROL/bootstrap/v1", text, (int)strlen(text),
				&o) >= 0);
	CHECK(client_expect_none(c, IT_QUIET_MS));
	check_err_new(admin_cmd_by("getConfig", "external_id", ext), "not_found");
	CHECK(client_expect_none(c, IT_QUIET_MS));
out:
	free(text);
	json_decref(cmd);
	client_close(c);
	free(ext);
}

static void test_authenticated_non_admin_has_no_effect_and_no_reply(void)
{
	outsider_has_no_effect("alice", "alicepw");
}

static void test_anonymous_client_has_no_effect_and_no_reply(void)
{
	outsider_has_no_effect(NULL, NULL);
}

static const cu_test_t admin_tests[] = {
	{ "create_channel_then_get_channel_returns_it",
		test_create_channel_then_get_channel_returns_it },
	{ "create_config_generates_uuid_secret_and_key",
		test_create_config_generates_uuid_secret_and_key },
	{ "create_config_keeps_given_id_secret_and_key",
		test_create_config_keeps_given_id_secret_and_key },
	{ "get_config_hides_secrets_but_shows_has_client_key",
		test_get_config_hides_secrets_but_shows_has_client_key },
	{ "get_config_by_client_id_and_by_external_id",
		test_get_config_by_client_id_and_by_external_id },
	{ "enable_and_disable_change_state",
		test_enable_and_disable_change_state },
	{ "delete_config_then_get_config_is_not_found",
		test_delete_config_then_get_config_is_not_found },
	{ "duplicate_external_id_is_conflict",
		test_duplicate_external_id_is_conflict },
	{ "unknown_channel_creates_nothing",
		test_unknown_channel_creates_nothing },
	{ "batch_failure_in_middle_keeps_order_and_applies_rest",
		test_batch_failure_in_middle_keeps_order_and_applies_rest },
	{ "payload_without_commands_array_is_invalid_request",
		test_payload_without_commands_array_is_invalid_request },
	{ "v5_response_topic_and_correlation_on_admin_reply",
		test_v5_response_topic_and_correlation_on_admin_reply },
	{ "authenticated_non_admin_has_no_effect_and_no_reply",
		test_authenticated_non_admin_has_no_effect_and_no_reply },
	{ "anonymous_client_has_no_effect_and_no_reply",
		test_anonymous_client_has_no_effect_and_no_reply },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("admin", suite_init, suite_clean, admin_tests);
	return cu_run("test_admin");
}
