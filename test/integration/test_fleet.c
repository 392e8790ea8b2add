/*
 * Zero-touch fleets (protocol 7.1, 7.2) on a real broker: a profile and an
 * enrollment group made by the admin; a device flashed with the key
 * derived by the factory line of the contract (openssl and basenc) enrolls
 * with its first bootstrap, over MQTT 3.1.1 and 5, gets the profile's
 * rendered content, and logs in on its channel (section 5); a group that
 * does not enable waits for an admin; a wrong derived key is answered
 * byte for byte as an unknown device is.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "tool_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static broker_t B;

static int suite_init(void)
{
	return broker_start(&B, "plugin_opt_client_auth true");
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

/* A channel, a profile on it, and a group; the group's key (malloc()ed). */
static char *make_fleet(const char *channel, const char *profile, const char *group,
		bool enable)
{
	json_t *d;
	char *key = NULL;

	json_decref(admin_ok_take(&B, json_pack("{ss ss ss}", "command", "createChannel",
			"id", channel, "name", channel)));
	json_decref(admin_ok_take(&B, json_pack("{ss ss ss ss s[s] s{ss}}", "command",
			"createProfile", "id", profile, "name", profile, "content",
			"{\"device\": \"{{external_id}}\", \"site\": \"{{vars.site}}\"}",
			"channels", channel, "vars", "site", "factory")));
	d = admin_ok_take(&B, json_pack("{ss ss ss ss sb}", "command", "createGroup",
			"id", group, "name", group, "profile", profile, "enable", enable));
	if (jstr(d, "group_key") != NULL)
		key = strdup(jstr(d, "group_key"));
	json_decref(d);
	return key;
}

/* One bootstrap request naming group; the reply parsed. */
static json_t *enroll(int version, const char *ext, const char *key, const char *group)
{
	char req[600], sub[300];
	it_msg_t *m;
	json_t *reply;

	snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
			"\"group\":\"%s\",\"id\":\"e1\"}", ext, key, group);
	snprintf(sub, sizeof(sub), "bootstrap/res/%s", ext);
	m = device_rr(&B, version, sub, req, (int)strlen(req), NULL);
	reply = msg_json(m);
	msg_free(m);
	return reply;
}

static void enrolls_and_logs_in(int version)
{
	char *ext = unique_name("fleet-dev"), *group = unique_name("line"),
		*channel = unique_name("tele"), *profile = unique_name("pump");
	char *gkey = make_fleet(channel, profile, group, true);
	char *key = gkey ? factory_key(gkey, ext) : NULL;
	json_t *reply = key ? enroll(version, ext, key, group) : NULL, *cfg = NULL;
	char *topic = channel_topic(channel, "t");
	client_t *c = NULL;

	if (CHECK(reply != NULL && jstr(reply, "client_id") != NULL)) {
		char want[300];
		snprintf(want, sizeof(want), "{\"device\": \"%s\", \"site\": \"factory\"}", ext);
		CHECK(jstr(reply, "content") != NULL && strcmp(jstr(reply, "content"), want) == 0);
		c = client_connect(&B, version, NULL, jstr(reply, "client_id"),
				jstr(reply, "client_secret"));
		CHECK(c != NULL && client_echo(c, topic, topic) == 0);
		cfg = admin_get_config(&B, "external_id", ext);
		CHECK(jstr(cfg, "group") != NULL && strcmp(jstr(cfg, "group"), group) == 0);
		CHECK(jstr(cfg, "name") != NULL && strcmp(jstr(cfg, "name"), ext) == 0);
	}
	client_close(c);
	json_decref(cfg);
	json_decref(reply);
	free(topic);
	free(key);
	free(gkey);
	free(ext);
	free(group);
	free(channel);
	free(profile);
}

static void test_group_enrolls_a_device_that_logs_in_v5(void)
{
	enrolls_and_logs_in(5);
}

static void test_group_enrolls_a_device_that_logs_in_v311(void)
{
	enrolls_and_logs_in(4);
}

static void test_group_without_enable_waits_for_an_admin(void)
{
	char *ext = unique_name("fleet-wait"), *group = unique_name("line"),
		*channel = unique_name("tele"), *profile = unique_name("pump");
	char *gkey = make_fleet(channel, profile, group, false);
	char *key = gkey ? factory_key(gkey, ext) : NULL;
	json_t *reply = key ? enroll(5, ext, key, group) : NULL, *cfg;

	CHECK(jstr(reply, "error") != NULL && strcmp(jstr(reply, "error"), "disabled") == 0);
	json_decref(reply);
	cfg = admin_get_config(&B, "external_id", ext);
	if (CHECK(jstr(cfg, "client_id") != NULL)) {
		json_decref(admin_ok_take(&B, admin_cmd_by("enableConfig", "client_id",
				jstr(cfg, "client_id"))));
		reply = enroll(5, ext, key, group);
		CHECK(jstr(reply, "client_id") != NULL
				&& strcmp(jstr(reply, "client_id"), jstr(cfg, "client_id")) == 0);
		json_decref(reply);
	}
	json_decref(cfg);
	free(key);
	free(gkey);
	free(ext);
	free(group);
	free(channel);
	free(profile);
}

/* The payload of a reply, as the device received it. */
static char *raw_reply(const char *ext, const char *key, const char *group)
{
	char req[600], sub[300];
	it_msg_t *m;
	char *text = NULL;

	if (group != NULL)
		snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
				"\"group\":\"%s\",\"id\":\"e1\"}", ext, key, group);
	else
		snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
				"\"id\":\"e1\"}", ext, key);
	snprintf(sub, sizeof(sub), "bootstrap/res/%s", ext);
	m = device_rr(&B, 5, sub, req, (int)strlen(req), NULL);
	if (m != NULL)
		text = strdup(m->payload);
	msg_free(m);
	return text;
}

static void test_wrong_derived_key_is_an_unknown_device(void)
{
	char *ext = unique_name("fleet-bad"), *group = unique_name("line"),
		*channel = unique_name("tele"), *profile = unique_name("pump");
	char *gkey = make_fleet(channel, profile, group, true);
	char *other = gkey ? factory_key(gkey, "another-device") : NULL;
	char *unknown = raw_reply(ext, other ? other : "x", NULL);
	char *wrong = raw_reply(ext, other ? other : "x", group);
	char *no_group = raw_reply(ext, other ? other : "x", "no-such-group");
	json_t *get = json_pack("{ss ss}", "command", "getConfig", "external_id", ext), *cfg;

	CHECK(unknown != NULL && wrong != NULL && strcmp(unknown, wrong) == 0);
	CHECK(no_group != NULL && unknown != NULL && strcmp(unknown, no_group) == 0);
	cfg = admin_cmd(&B, get);
	CHECK(jstr(cfg, "error") != NULL);
	json_decref(cfg);
	json_decref(get);
	free(unknown);
	free(wrong);
	free(no_group);
	free(other);
	free(gkey);
	free(ext);
	free(group);
	free(channel);
	free(profile);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "group_enrolls_a_device_that_logs_in_v5",
			test_group_enrolls_a_device_that_logs_in_v5 },
		{ "group_enrolls_a_device_that_logs_in_v311",
			test_group_enrolls_a_device_that_logs_in_v311 },
		{ "group_without_enable_waits_for_an_admin",
			test_group_without_enable_waits_for_an_admin },
		{ "wrong_derived_key_is_an_unknown_device",
			test_wrong_derived_key_is_an_unknown_device },
		{ NULL, NULL },
	};

	cu_add_suite("fleet", suite_init, suite_clean, tests);
	return cu_run("test_fleet");
}
