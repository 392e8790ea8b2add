/*
 * Fleets (protocol 7.1, 7.2): templates rendered and checked, the profile
 * and group commands, configs with a profile, and zero-touch enrollment
 * through bs_device_handle, with the derived key computed by the openssl
 * and basenc line the contract gives a factory.
 */
#include "admin_env.h"
#include "cu_main.h"
#include "device.h"
#include "error.h"
#include "sealed.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(fn) {#fn, fn}
#define TPL "{\"server\": \"{{vars.server}}\", \"id\": \"{{client_id}}\", " \
	"\"dev\": \"{{external_id}}\", \"name\": \"{{name}}\", \"room\": \"{{vars.room}}\"}"

/* ---- templates -------------------------------------------------------------- */

static char *render(const char *tpl, const char *vars, const char *defaults, int strict,
		int *rc, char *err)
{
	json_t *v = vars ? json_loads(vars, 0, NULL) : NULL;
	json_t *d = defaults ? json_loads(defaults, 0, NULL) : NULL;
	bs_template_vals_t vals = { "ext-1", "cid-1", "Pump", v, d };
	char *out = NULL;
	size_t len;

	*rc = bs_template_render(tpl, &vals, strict, 100, &out, &len, err, 128);
	CU_ASSERT(*rc != BS_OK || strlen(out) == len);
	json_decref(v);
	json_decref(d);
	return out;
}

static void test_templates_render_and_are_checked(void)
{
	static const char *const good[] = { "", "plain {single} braces }}", "{{name}}{{name}}",
		"{{vars.a-b_9}}", "x{{external_id}}y" };
	static const char *const bad[] = { "{{nme}}", "{{vars.}}", "{{vars.a b}}", "{{ name}}",
		"{{name", "{{vars.a.b}}", "{{{name}}" };
	char err[128];
	char *out;
	int rc;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_EQUAL(bs_template_check(good[i], err, sizeof(err)), BS_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(bs_template_check(bad[i], err, sizeof(err)), BS_ERR_INVALID);
	out = render("{{name}}/{{vars.k}}/{{client_id}}/{{external_id}}",
			"{\"k\":\"mine\"}", "{\"k\":\"default\"}", 1, &rc, err);
	CU_ASSERT_STRING_EQUAL(out, "Pump/mine/cid-1/ext-1");
	free(out);
	out = render("{{vars.k}}", NULL, "{\"k\":\"default\"}", 1, &rc, err);
	CU_ASSERT_STRING_EQUAL(out, "default");
	free(out);
	/* Replaced verbatim: a value is not escaped, nor read as a template. */
	out = render("[{{vars.k}}]", "{\"k\":\"\\\"{{name}}\"}", NULL, 1, &rc, err);
	CU_ASSERT_STRING_EQUAL(out, "[\"{{name}}]");
	free(out);
	out = render("a{{vars.gone}}b", NULL, NULL, 1, &rc, err);
	CU_ASSERT_EQUAL(rc, BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "vars.gone"));
	out = render("a{{vars.gone}}b", NULL, NULL, 0, &rc, err);
	CU_ASSERT_STRING_EQUAL(out, "ab");
	free(out);
	/* The bound (100 bytes here) is checked before anything is allocated. */
	out = render("{{vars.k}}{{vars.k}}", "{\"k\":\"0123456789012345678901234567890123456789"
			"01234567890\"}", NULL, 1, &rc, err);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(rc, BS_ERR_INVALID);
	out = render("{{vars.k}}{{vars.k}}", "{\"k\":\"0123456789012345678901234567890123456789"
			"01234567890\"}", NULL, 0, &rc, err);
	CU_ASSERT_EQUAL(rc, BS_ERR_INTERNAL);
}

/* ---- profiles ----------------------------------------------------------------- */

static json_t *cmd(json_t *c)
{
	return run1(c);
}

static void make_profile(void)
{
	create_channel("tele", "Telemetry");
	ok_data(cmd(json_pack("{ss ss ss ss s[s] s{ss ss}}", "command", "createProfile",
			"id", "pump", "name", "Pumps", "content", TPL, "channels", "tele",
			"vars", "server", "mqtts://broker", "room", "unknown")));
}

static void test_profile_commands(void)
{
	json_t *d;

	env_open();
	make_profile();
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getProfile", "id", "pump")));
	CU_ASSERT(str_is(d, "content", TPL));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(d, "channels"), 0)),
			"tele");
	CU_ASSERT(str_is(json_object_get(d, "vars"), "room", "unknown"));
	d = ok_data(cmd(json_pack("{ss ss ss}", "command", "modifyProfile", "id", "pump",
			"name", "Pumps v2")));
	CU_ASSERT(str_is(d, "name", "Pumps v2"));
	CU_ASSERT(str_is(d, "content", TPL));
	d = ok_data(cmd(json_pack("{ss}", "command", "listProfiles")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "total")), 1);
	expect_error(cmd(json_pack("{ss ss ss}", "command", "createProfile", "name", "x",
			"content", "{{nope}}")), "invalid_request", "bad placeholder");
	expect_error(cmd(json_pack("{ss ss ss s{ss}}", "command", "createProfile", "name", "x",
			"content", "", "vars", "a b", "v")), "invalid_request", "bad vars key");
	expect_error(cmd(json_pack("{ss ss ss s{si}}", "command", "createProfile", "name", "x",
			"content", "", "vars", "a", 1)), "invalid_request", "vars not strings");
	expect_error(cmd(json_pack("{ss ss ss s[s]}", "command", "createProfile", "name", "x",
			"content", "", "channels", "ghost")), "not_found", "unknown channel");
	expect_error(cmd(json_pack("{ss ss ss ss}", "command", "createProfile", "id", "pump",
			"name", "x", "content", "")), "conflict", "id taken");
	expect_error(cmd(json_pack("{ss ss}", "command", "getProfile", "id", "nope")),
			"not_found", "no such profile");
	/* A deleted channel leaves the profile's defaults. */
	ok_data(cmd(json_pack("{ss ss}", "command", "deleteChannel", "id", "tele")));
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getProfile", "id", "pump")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(d, "channels")), 0);
	ok_data(cmd(json_pack("{ss ss}", "command", "deleteProfile", "id", "pump")));
	CU_ASSERT_EQUAL(count_audit() >= 3, 1);
	env_close();
}

/* ---- configs with a profile ----------------------------------------------------- */

static json_t *reply;

/* A device request; its reply in reply. */
static void device(const char *payload)
{
	reply = run_device(payload);
}

static void forget_reply(void)
{
	reply = NULL;
}

static void test_config_with_a_profile_renders_its_content(void)
{
	json_t *d;
	char want[400];

	env_open();
	make_profile();
	d = ok_data(cmd(json_pack("{ss ss ss ss ss ss s{ss}}", "command", "createConfig",
			"client_id", "cid-9", "external_id", "ext-9", "name", "Boiler",
			"external_key", "key-of-cid-9", "profile", "pump", "vars", "room", "cellar")));
	snprintf(want, sizeof(want), "{\"server\": \"mqtts://broker\", \"id\": \"cid-9\", "
			"\"dev\": \"ext-9\", \"name\": \"Boiler\", \"room\": \"cellar\"}");
	CU_ASSERT(str_is(d, "content", want));
	CU_ASSERT(str_is(d, "profile", "pump"));
	CU_ASSERT(str_is(json_object_get(d, "vars"), "room", "cellar"));
	CU_ASSERT(json_is_null(json_object_get(d, "group")));
	/* The profile's channels, since the config named none. */
	CU_ASSERT_EQUAL(json_array_size(json_object_get(d, "channels")), 1);
	ok_data(cmd(json_pack("{ss ss}", "command", "enableConfig", "client_id", "cid-9")));
	device("{\"external_id\":\"ext-9\",\"external_key\":\"key-of-cid-9\"}");
	CU_ASSERT(str_is(reply, "content", want));
	forget_reply();
	/* At each bootstrap: the profile's template now, the config's vars. */
	ok_data(cmd(json_pack("{ss ss ss}", "command", "modifyProfile", "id", "pump",
			"content", "room={{vars.room}} id={{client_id}}")));
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getConfig", "client_id", "cid-9")));
	CU_ASSERT(str_is(d, "content", "room=cellar id=cid-9"));
	expect_error(cmd(json_pack("{ss ss ss ss}", "command", "createConfig",
			"external_id", "ext-8", "profile", "pump", "content", "mine")),
			"invalid_request", "content and profile");
	ok_data(cmd(json_pack("{ss ss ss ss}", "command", "createProfile", "id", "strict",
			"name", "Strict", "content", "{{vars.needed}}")));
	expect_error(cmd(json_pack("{ss ss ss}", "command", "createConfig",
			"external_id", "ext-8", "profile", "strict")), "invalid_request", "no value");
	expect_error(cmd(json_pack("{ss ss ss}", "command", "createConfig",
			"external_id", "ext-8", "profile", "ghost")), "not_found", "no such profile");
	ok_data(cmd(json_pack("{ss ss ss s{ss}}", "command", "createConfig",
			"external_id", "ext-8", "profile", "strict", "vars", "needed", "yes")));
	env_close();
}

/* ---- enrollment ------------------------------------------------------------------ */

/* The derived key by the contract's own line. */
static void factory_key(const char *group_key, const char *external_id, char *out,
		size_t len)
{
	char line[512];
	FILE *p;

	snprintf(line, sizeof(line), "printf %%s '%s' | openssl dgst -sha256 -hmac '%s' "
			"-binary | basenc --base64url | tr -d =", external_id, group_key);
	p = popen(line, "r");
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FATAL(fgets(out, (int)len, p) != NULL);
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	CU_ASSERT_EQUAL(strlen(out), 43);
}

static char group_key[64];

static void make_group(int enable)
{
	json_t *d = ok_data(cmd(json_pack("{ss ss ss ss sb}", "command", "createGroup",
			"id", "line-1", "name", "Line 1", "profile", "pump", "enable", enable)));

	CU_ASSERT_FATAL(str(d, "group_key") != NULL);
	snprintf(group_key, sizeof(group_key), "%s", str(d, "group_key"));
	CU_ASSERT_EQUAL(strlen(group_key), 43);
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getGroup", "id", "line-1")));
	CU_ASSERT_PTR_NULL(json_object_get(d, "group_key"));
	CU_ASSERT(str_is(d, "profile", "pump"));
	d = ok_data(cmd(json_pack("{ss}", "command", "listGroups")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(d, "total")), 1);
	CU_ASSERT_PTR_NULL(strstr(keep(json_dumps(d, 0)), group_key));
}

static void enroll(const char *ext, const char *key, const char *group)
{
	char req[512];

	snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
			"\"group\":\"%s\"}", ext, key, group);
	device(req);
}

static void test_group_enrolls_a_device_with_the_factory_key(void)
{
	char key[64], unknown[512], *text;
	json_t *d;

	env_open();
	make_profile();
	make_group(1);
	factory_key(group_key, "00:1A:2B:3C:4D:70", key, sizeof(key));
	enroll("00:1A:2B:3C:4D:70", key, "line-1");
	CU_ASSERT_PTR_NULL(json_object_get(reply, "error"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str(reply, "content"), "mqtts://broker"));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(reply, "channels")), 1);
	CU_ASSERT_EQUAL(env.core->stats.enrolled, 1);
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getConfig", "external_id",
			"00:1A:2B:3C:4D:70")));
	CU_ASSERT(str_is(d, "group", "line-1"));
	CU_ASSERT(str_is(d, "name", "00:1A:2B:3C:4D:70"));
	CU_ASSERT(str_is(d, "state", "enabled"));
	CU_ASSERT(str_is(d, "profile", "pump"));
	{
		int audited = 0;
		for (size_t i = 0; i < env.nlines; i++)
			audited |= strstr(env.lines[i], "user=group:line-1") != NULL;
		CU_ASSERT(audited);
	}
	/* Known now: it bootstraps as usual, group or not. */
	enroll("00:1A:2B:3C:4D:70", key, "no-such-group");
	CU_ASSERT_PTR_NULL(json_object_get(reply, "error"));
	/* A wrong key, an unknown group: byte for byte an unknown device. */
	device("{\"external_id\":\"00:1A:2B:3C:4D:71\",\"external_key\":\"whatever-key\"}");
	text = json_dumps(reply, JSON_COMPACT);
	snprintf(unknown, sizeof(unknown), "%s", text);
	free(text);
	enroll("00:1A:2B:3C:4D:71", key, "line-1");
	text = json_dumps(reply, JSON_COMPACT);
	CU_ASSERT_STRING_EQUAL(text, unknown);
	free(text);
	factory_key(group_key, "00:1A:2B:3C:4D:71", key, sizeof(key));
	enroll("00:1A:2B:3C:4D:71", key, "line-2");
	text = json_dumps(reply, JSON_COMPACT);
	CU_ASSERT_STRING_EQUAL(text, unknown);
	free(text);
	/* deleteProfile is refused while the group and its configs use it. */
	expect_error(cmd(json_pack("{ss ss}", "command", "deleteProfile", "id", "pump")),
			"conflict", "profile in use");
	forget_reply();
	env_close();
}

static void test_group_without_enable_waits_for_an_admin_and_rotates(void)
{
	char key[64], old[64];
	json_t *d;

	env_open();
	make_profile();
	make_group(0);
	factory_key(group_key, "dev-a", key, sizeof(key));
	enroll("dev-a", key, "line-1");
	CU_ASSERT(str_is(reply, "error", "disabled"));
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getConfig", "external_id", "dev-a")));
	ok_data(cmd(json_pack("{ss ss}", "command", "enableConfig", "client_id",
			str(d, "client_id"))));
	enroll("dev-a", key, "line-1");
	CU_ASSERT_PTR_NULL(json_object_get(reply, "error"));
	/* A rotated key: old devices no longer enroll, made configs still work. */
	snprintf(old, sizeof(old), "%s", group_key);
	d = ok_data(cmd(json_pack("{ss ss sb}", "command", "modifyGroup", "id", "line-1",
			"rotate_key", 1)));
	CU_ASSERT(str(d, "group_key") != NULL && strcmp(str(d, "group_key"), old) != 0);
	factory_key(old, "dev-b", key, sizeof(key));
	enroll("dev-b", key, "line-1");
	CU_ASSERT(str_is(reply, "error", "unauthorized"));
	factory_key(str(d, "group_key"), "dev-b", key, sizeof(key));
	enroll("dev-b", key, "line-1");
	CU_ASSERT(str_is(reply, "error", "disabled"));
	factory_key(old, "dev-a", key, sizeof(key));
	enroll("dev-a", key, "line-1");
	CU_ASSERT_PTR_NULL(json_object_get(reply, "error"));
	ok_data(cmd(json_pack("{ss ss}", "command", "deleteGroup", "id", "line-1")));
	d = ok_data(cmd(json_pack("{ss ss}", "command", "getConfig", "external_id", "dev-a")));
	CU_ASSERT(str_is(d, "group", "line-1"));
	forget_reply();
	env_close();
}

/* Challenge mode: the proof is made with the derived key. */
static void test_group_enrolls_in_challenge_mode(void)
{
	char key[64], proof[64], req[512];
	uint8_t nonce[48];    /* base64 decoding writes the padding's byte too */

	env_open();
	make_profile();
	make_group(1);
	factory_key(group_key, "dev-c", key, sizeof(key));
	device("{\"external_id\":\"dev-c\",\"op\":\"challenge\"}");
	CU_ASSERT_EQUAL_FATAL(sealed_unb64(str(reply, "nonce"), nonce), 32);
	CU_ASSERT_EQUAL_FATAL(sealed_proof(env.dir, key, nonce, "dev-c", proof), 0);
	snprintf(req, sizeof(req), "{\"external_id\":\"dev-c\",\"nonce\":\"%s\","
			"\"proof\":\"%s\",\"group\":\"line-1\"}", str(reply, "nonce"), proof);
	device(req);
	if (json_object_get(reply, "encrypted") == NULL)
		printf("\n    %s\n", json_dumps(reply, 0));
	CU_ASSERT_PTR_NOT_NULL(json_object_get(reply, "encrypted"));
	CU_ASSERT_EQUAL(env.core->stats.enrolled, 1);
	forget_reply();
	env_close();
}

int main(void)
{
	static const cu_test_t tests[] = {
		T(test_templates_render_and_are_checked),
		T(test_profile_commands),
		T(test_config_with_a_profile_renders_its_content),
		T(test_group_enrolls_a_device_with_the_factory_key),
		T(test_group_without_enable_waits_for_an_admin_and_rotates),
		T(test_group_enrolls_in_challenge_mode),
		{ NULL, NULL },
	};

	cu_add_suite("fleet", NULL, suite_clean, tests);
	return cu_run("fleet");
}
