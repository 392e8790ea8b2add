/*
 * The admin API command by command against a real broker (protocol
 * sections 2 and 4): each command's success and each error code a client
 * can provoke, listConfigs against a reference computed here, batches,
 * where replies go, session disconnects and the audit log.
 *
 * Not covered: internal_error, which needs a broken store; nothing a client
 * sends can provoke it.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESPONSE_TOPIC "$CONTROL/bootstrap/v1/response"
#define ADMIN_TOPIC "$CONTROL/bootstrap/v1"
#define QUIET_MORE_MS 200       /* each further client, once one waited */

static broker_t B;
static char *cert, *key, *cert2, *key2;

/* ---- small helpers ---------------------------------------------------- */

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

static bool check_err_new(json_t *cmd, const char *code)
{
	char *e = admin_err_take(&B, cmd);
	bool ok = CHECK_STR(e, code);
	free(e);
	return ok;
}

/* Runs the commands (stolen) as one batch; returns the responses array. */
static json_t *batch_new(json_t *cmds)
{
	json_t *reply = cmds != NULL ? admin_rr_json(&B, cmds) : NULL;
	json_t *rs = json_incref(json_object_get(reply, "responses"));
	json_decref(reply);
	json_decref(cmds);
	return rs;
}

/* The batch of command texts given, as one message. */
static json_t *batch_text(const char *commands_text)
{
	json_t *reply = admin_rr(&B, commands_text);
	json_t *rs = json_incref(json_object_get(reply, "responses"));
	json_decref(reply);
	return rs;
}

static const char *resp_error(const json_t *rs, size_t i)
{
	return jstr(json_array_get(rs, i), "error");
}

static json_t *create_channel(const char *id, const char *name)
{
	json_t *cmd = json_pack("{ss ss s{ss}}", "command", "createChannel",
			"name", name, "metadata", "site", "lab");
	if (cmd != NULL && id != NULL)
		json_object_set_new(cmd, "id", json_string(id));
	return admin_ok_take(&B, cmd);
}

/* modifyConfig of client_id with the fields of change (borrowed). */
static json_t *modify_cmd(const char *client_id, json_t *change)
{
	json_t *cmd = json_pack("{ss ss}", "command", "modifyConfig",
			"client_id", client_id);
	if (cmd != NULL && json_object_update(cmd, change) != 0) {
		json_decref(cmd);
		return NULL;
	}
	return cmd;
}

/* The "total" of a list command without filters; -1 on failure. */
static long list_total(const char *command)
{
	json_t *data = admin_ok_take(&B, json_pack("{ss si}", "command", command, "limit", 1));
	json_t *t = json_object_get(data, "total");
	long n = json_is_integer(t) ? (long)json_integer_value(t) : -1;
	json_decref(data);
	return n;
}

/* True when the config's channels are exactly the ids given, in any order. */
static bool has_channels(const json_t *cfg, const char *const *ids, size_t n)
{
	json_t *list = json_object_get(cfg, "channels");
	if (!json_is_array(list) || json_array_size(list) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = strcmp(ids[i], str_or(jstr(json_array_get(list, j), "id"), "")) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* A field that is unset: absent or null. */
static bool unset(const json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);
	return v == NULL || json_is_null(v);
}

static int add_user(const char *user, const char *pass)
{
	char path[IT_PATH_MAX];
	if (broker_path(&B, "passwd", path, sizeof path) != 0)
		return -1;
	char *argv[] = { "mosquitto_passwd", "-b", path, (char *)user,
		(char *)pass, NULL };
	return run_quiet(argv) == 0 ? 0 : -1;
}

/* ---- suite set-up ----------------------------------------------------- */

static int stop_broker(void)
{
	broker_cleanup(&B);
	return 0;
}

static int start_plain(void)
{
	return broker_start(&B, NULL);
}

/* Users named like the client_ids of the session tests, and two
 * certificates with their keys. */
static int start_for_configs(void)
{
	if (broker_prepare(&B, NULL, 0) != 0)
		return -1;
	if (add_user("session-disable", "any-password") != 0 ||
			add_user("session-delete", "any-password") != 0 ||
			broker_launch(&B) != 0 ||
			make_cert(B.dir, "api-one", &cert, &key) != 0 ||
			make_cert(B.dir, "api-two", &cert2, &key2) != 0) {
		broker_cleanup(&B);
		return -1;
	}
	return 0;
}

static int stop_configs(void)
{
	broker_cleanup(&B);
	free(cert);
	free(key);
	free(cert2);
	free(key2);
	cert = key = cert2 = key2 = NULL;
	return 0;
}

/* Replies can then be subscribed to anywhere, so "nobody else gets it"
 * is a real check rather than a refused subscription. */
static int start_acl_allow(void)
{
	return broker_start(&B, "plugin_opt_acl_default allow");
}

/* ---- channels --------------------------------------------------------- */

static void test_create_channel_with_given_id_is_returned_by_get_channel(void)
{
	char *id = unique_name("ch-given");
	json_t *ch = id != NULL ? create_channel(id, "Telemetry") : NULL;
	if (!CHECK(ch != NULL))
		goto out;
	CHECK_STR(jstr(ch, "id"), id);
	CHECK_STR(jstr(ch, "name"), "Telemetry");
	CHECK_STR(jstr(json_object_get(ch, "metadata"), "site"), "lab");
	json_t *got = admin_ok_take(&B, admin_cmd_by("getChannel", "id", id));
	CHECK(got != NULL && json_equal(got, ch));
	json_decref(got);
out:
	json_decref(ch);
	free(id);
}

static void test_create_channel_bad_fields_are_invalid_request(void)
{
	json_t *rs = batch_text(
			"{\"command\":\"createChannel\"},"
			"{\"command\":\"createChannel\",\"name\":5},"
			"{\"command\":\"createChannel\",\"name\":\"n\",\"metadata\":[1]},"
			"{\"command\":\"createChannel\",\"name\":\"n\",\"id\":\"a/b\"},"
			"{\"command\":\"createChannel\",\"name\":\"n\",\"id\":\"a+b\"},"
			"{\"command\":\"createChannel\",\"name\":\"n\",\"id\":\"\"}");
	if (!CHECK(json_array_size(rs) == 6))
		goto out;
	for (size_t i = 0; i < 6; i++)
		CHECK_STR(resp_error(rs, i), "invalid_request");
	check_err_new(admin_cmd_by("getChannel", "id", "a/b"), "not_found");
out:
	json_decref(rs);
}

static void test_create_channel_with_existing_id_is_conflict(void)
{
	char *id = unique_name("ch-dup");
	json_t *ch = id != NULL ? create_channel(id, "first") : NULL;
	if (CHECK(ch != NULL)) {
		json_t *cmd = json_pack("{ss ss ss}", "command", "createChannel",
				"id", id, "name", "second");
		check_err_new(cmd, "conflict");
		json_t *got = admin_ok_take(&B, admin_cmd_by("getChannel", "id", id));
		CHECK_STR(jstr(got, "name"), "first");
		json_decref(got);
	}
	json_decref(ch);
	free(id);
}

static void test_get_channel_unknown_is_not_found_and_missing_id_invalid(void)
{
	check_err_new(admin_cmd_by("getChannel", "id", "no-such-channel"), "not_found");
	check_err_new(json_pack("{ss}", "command", "getChannel"), "invalid_request");
	check_err_new(json_pack("{ss si}", "command", "getChannel", "id", 7),
			"invalid_request");
}

/* Creates n channels in one batch; their ids go to ids (malloc()ed). */
static bool create_channels(char **ids, size_t n)
{
	json_t *cmds = json_array();
	for (size_t i = 0; i < n; i++) {
		ids[i] = unique_name("ch-list");
		json_array_append_new(cmds, json_pack("{ss ss ss}", "command",
					"createChannel", "id", ids[i], "name", ids[i]));
	}
	json_t *rs = batch_new(cmds);
	bool ok = json_array_size(rs) == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = json_object_get(json_array_get(rs, i), "data") != NULL;
	json_decref(rs);
	return ok;
}

/* Adds the ids of one listChannels page to seen; false on a repeat. */
static bool collect_page(json_t *seen, long offset, long limit, long total)
{
	json_t *data = admin_ok_take(&B, json_pack("{ss si si}", "command", "listChannels",
				"offset", (int)offset, "limit", (int)limit));
	json_t *list = json_object_get(data, "channels");
	long want = total - offset < limit ? total - offset : limit;
	bool ok = json_is_array(list) && (long)json_array_size(list) == (want > 0 ? want : 0)
		&& json_integer_value(json_object_get(data, "total")) == total
		&& json_integer_value(json_object_get(data, "offset")) == offset
		&& json_integer_value(json_object_get(data, "limit")) == limit;
	size_t i;
	json_t *ch;
	json_array_foreach(list, i, ch) {
		const char *id = jstr(ch, "id");
		if (id == NULL || json_object_get(seen, id) != NULL)
			ok = false;
		else
			json_object_set_new(seen, id, json_true());
	}
	json_decref(data);
	return ok;
}

static void test_list_channels_pages_cover_every_channel_once(void)
{
	enum { N = 25, PAGE = 7 };
	char *ids[N] = { 0 };
	json_t *seen = json_object();
	if (!CHECK(create_channels(ids, N)))
		goto out;
	json_t *first = admin_ok_take(&B, json_pack("{ss}", "command", "listChannels"));
	long total = (long)json_integer_value(json_object_get(first, "total"));
	CHECK(total >= N);
	CHECK(json_integer_value(json_object_get(first, "offset")) == 0);
	CHECK(json_integer_value(json_object_get(first, "limit")) == 10);
	CHECK(json_array_size(json_object_get(first, "channels")) == 10);
	json_decref(first);
	for (long off = 0; off < total + PAGE; off += PAGE)
		CHECK(collect_page(seen, off, PAGE, total));
	CHECK((long)json_object_size(seen) == total);
	for (size_t i = 0; i < N; i++)
		CHECK(ids[i] != NULL && json_object_get(seen, ids[i]) != NULL);
out:
	for (size_t i = 0; i < N; i++)
		free(ids[i]);
	json_decref(seen);
}

static void test_list_channels_bad_paging_is_invalid_request(void)
{
	json_t *rs = batch_text(
			"{\"command\":\"listChannels\",\"limit\":0},"
			"{\"command\":\"listChannels\",\"limit\":1001},"
			"{\"command\":\"listChannels\",\"limit\":-1},"
			"{\"command\":\"listChannels\",\"limit\":\"5\"},"
			"{\"command\":\"listChannels\",\"limit\":2.5},"
			"{\"command\":\"listChannels\",\"offset\":-1},"
			"{\"command\":\"listChannels\",\"offset\":\"0\"},"
			"{\"command\":\"listChannels\",\"limit\":1000},"
			"{\"command\":\"listChannels\",\"limit\":1}");
	if (!CHECK(json_array_size(rs) == 9))
		goto out;
	for (size_t i = 0; i < 7; i++)
		CHECK_STR(resp_error(rs, i), "invalid_request");
	CHECK(resp_error(rs, 7) == NULL);
	CHECK(resp_error(rs, 8) == NULL);
out:
	json_decref(rs);
}

static void test_modify_channel_changes_name_and_metadata(void)
{
	char *id = unique_name("ch-mod");
	json_t *ch = id != NULL ? create_channel(id, "before") : NULL;
	if (!CHECK(ch != NULL))
		goto out;
	json_t *mod = admin_ok_take(&B, json_pack("{ss ss ss s{ss}}", "command", "modifyChannel",
				"id", id, "name", "after", "metadata", "unit", "C"));
	CHECK_STR(jstr(mod, "id"), id);
	CHECK_STR(jstr(mod, "name"), "after");
	json_t *meta = json_object_get(mod, "metadata");
	CHECK(json_object_size(meta) == 1 && jstr(meta, "unit") != NULL);
	json_t *only = admin_ok_take(&B, json_pack("{ss ss ss}", "command", "modifyChannel",
				"id", id, "name", "again"));
	CHECK_STR(jstr(json_object_get(only, "metadata"), "unit"), "C");
	json_t *got = admin_ok_take(&B, admin_cmd_by("getChannel", "id", id));
	CHECK(got != NULL && json_equal(got, only));
	json_decref(got);
	json_decref(only);
	json_decref(mod);
out:
	json_decref(ch);
	free(id);
}

static void test_modify_channel_unknown_is_not_found_and_bad_name_invalid(void)
{
	check_err_new(json_pack("{ss ss ss}", "command", "modifyChannel", "id",
				"no-such-channel", "name", "x"), "not_found");
	check_err_new(json_pack("{ss ss}", "command", "modifyChannel", "name", "x"),
			"invalid_request");
	char *id = unique_name("ch-modbad");
	json_t *ch = id != NULL ? create_channel(id, "kept") : NULL;
	if (CHECK(ch != NULL)) {
		check_err_new(json_pack("{ss ss si}", "command", "modifyChannel",
					"id", id, "name", 5), "invalid_request");
		json_t *got = admin_ok_take(&B, admin_cmd_by("getChannel", "id", id));
		CHECK(got != NULL && json_equal(got, ch));
		json_decref(got);
	}
	json_decref(ch);
	free(id);
}

/* A config on the channels given; its client_id (malloc()ed) or NULL. */
static char *config_on(const char *ext, const char *const *chans, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{ss}", "id", chans[i]));
	json_t *extra = json_pack("{so}", "channels", list);
	json_t *cfg = extra != NULL ? admin_create_config(&B, ext, extra) : NULL;
	char *id = jstr(cfg, "client_id") != NULL ? strdup(jstr(cfg, "client_id")) : NULL;
	json_decref(cfg);
	json_decref(extra);
	return id;
}

static void test_delete_channel_removes_it_from_every_config(void)
{
	char *c1 = unique_name("ch-del"), *c2 = unique_name("ch-stay");
	char *e1 = unique_name("ext-del"), *e2 = unique_name("ext-del");
	json_t *a = create_channel(c1, "gone"), *b = create_channel(c2, "stays");
	const char *both[] = { c1, c2 }, *second[] = { c2 };
	char *ida = config_on(e1, both, 2), *idb = config_on(e2, both, 1);
	long before = list_total("listChannels");
	if (!CHECK(a != NULL && b != NULL && ida != NULL && idb != NULL))
		goto out;
	json_t *del = admin_ok_take(&B, admin_cmd_by("deleteChannel", "id", c1));
	CHECK(json_is_object(del) && json_object_size(del) == 0);
	json_decref(del);
	check_err_new(admin_cmd_by("getChannel", "id", c1), "not_found");
	CHECK(list_total("listChannels") == before - 1);
	json_t *ga = admin_get_config(&B, "client_id", ida), *gb = admin_get_config(&B, "client_id", idb);
	CHECK(has_channels(ga, second, 1));
	CHECK(has_channels(gb, NULL, 0));
	json_decref(ga);
	json_decref(gb);
out:
	json_decref(a);
	json_decref(b);
	free(ida);
	free(idb);
	free(c1);
	free(c2);
	free(e1);
	free(e2);
}

static void test_delete_channel_unknown_is_not_found(void)
{
	check_err_new(admin_cmd_by("deleteChannel", "id", "no-such-channel"), "not_found");
	check_err_new(json_pack("{ss}", "command", "deleteChannel"), "invalid_request");
}

/* ---- configs ---------------------------------------------------------- */

static json_t *full_config_fields(const char *client_id, const char *chan)
{
	return json_pack("{ss ss ss s[{ss}] ss ss ss}", "client_id", client_id,
			"name", "Boiler room", "content", "{\"interval\": 30}",
			"channels", "id", chan, "client_cert", cert, "client_key", key,
			"ca_cert", cert);
}

static void check_full_config(const json_t *cfg, const char *client_id,
		const char *ext, const char *chan)
{
	CHECK_STR(jstr(cfg, "client_id"), client_id);
	CHECK_STR(jstr(cfg, "external_id"), ext);
	CHECK_STR(jstr(cfg, "name"), "Boiler room");
	CHECK_STR(jstr(cfg, "content"), "{\"interval\": 30}");
	CHECK_STR(jstr(cfg, "client_cert"), cert);
	CHECK_STR(jstr(cfg, "ca_cert"), cert);
	CHECK(json_is_true(json_object_get(cfg, "has_client_key")));
	CHECK(json_object_get(cfg, "client_key") == NULL);
	CHECK_STR(jstr(cfg, "state"), "disabled");
	json_t *ch = json_array_get(json_object_get(cfg, "channels"), 0);
	CHECK(json_array_size(json_object_get(cfg, "channels")) == 1);
	CHECK_STR(jstr(ch, "id"), chan);
	CHECK_STR(jstr(ch, "name"), "full");
	CHECK(json_is_object(json_object_get(ch, "metadata")));
}

static void test_create_config_with_every_field_returns_them(void)
{
	char *ext = unique_name("full"), *id = unique_name("client-full");
	char *chan = unique_name("ch-full");
	json_t *ch = create_channel(chan, "full");
	json_t *extra = ch != NULL ? full_config_fields(id, chan) : NULL;
	json_t *cfg = extra != NULL ? admin_create_config(&B, ext, extra) : NULL;
	if (!CHECK(cfg != NULL))
		goto out;
	check_full_config(cfg, id, ext, chan);
	CHECK(jstr(cfg, "external_key") != NULL && strlen(jstr(cfg, "external_key")) >= 8);
	CHECK(jstr(cfg, "client_secret") != NULL && jstr(cfg, "client_secret")[0] != '\0');
	json_t *got = admin_get_config(&B, "client_id", id);
	json_t *want = json_deep_copy(cfg);
	json_object_del(want, "external_key");
	CHECK(got != NULL && json_equal(got, want));
	json_decref(want);
	json_decref(got);
out:
	json_decref(cfg);
	json_decref(extra);
	json_decref(ch);
	free(chan);
	free(id);
	free(ext);
}

/* Every response is invalid_request and no config was added. */
static void check_all_invalid(json_t *rs, size_t n, long before)
{
	if (CHECK(json_array_size(rs) == n)) {
		for (size_t i = 0; i < n; i++) {
			if (!CHECK_STR(resp_error(rs, i), "invalid_request"))
				fprintf(stderr, "  command %zu of the batch\n", i);
		}
	}
	CHECK(list_total("listConfigs") == before);
}

static void test_create_config_bad_fields_are_invalid_request(void)
{
	long before = list_total("listConfigs");
	json_t *rs = batch_text(
			"{\"command\":\"createConfig\"},"
			"{\"command\":\"createConfig\",\"external_id\":5},"
			"{\"command\":\"createConfig\",\"external_id\":\"\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"a/b\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"a+b\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"a#b\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"a\\u0001b\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"bad-key\",\"external_key\":\"7-bytes\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"bad-state\",\"state\":\"enabled\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"bad-cert\",\"client_cert\":\"not a certificate\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"bad-chans\",\"channels\":\"c1\"},"
			"{\"command\":\"createConfig\",\"external_id\":\"bad-name\",\"name\":7}");
	check_all_invalid(rs, 12, before);
	json_decref(rs);
	check_err_new(admin_cmd_by("getConfig", "external_id", "bad-key"), "not_found");
}

static void test_create_config_oversized_or_mismatched_fields_are_invalid(void)
{
	char long_text[258];
	memset(long_text, 'x', 257);
	long_text[257] = '\0';
	char *chan = unique_name("ch-twice");
	json_t *ch = create_channel(chan, "twice");
	long before = list_total("listConfigs");
	json_t *cmds = json_pack("[{ss ss} {ss ss ss} {ss ss ss ss} {ss ss s[ss]}]",
			"command", "createConfig", "external_id", long_text,
			"command", "createConfig", "external_id", "bad-long-name",
			"name", long_text,
			"command", "createConfig", "external_id", "bad-pair",
			"client_cert", cert, "client_key", key2,
			"command", "createConfig", "external_id", "bad-twice",
			"channels", chan, chan);
	json_t *rs = batch_new(cmds);
	check_all_invalid(rs, 4, before);
	json_decref(rs);
	json_decref(ch);
	free(chan);
}

static void test_create_config_duplicate_ids_are_conflict(void)
{
	char *ext = unique_name("dup"), *ext2 = unique_name("dup");
	char *id = unique_name("client-dup"), *id2 = unique_name("client-dup");
	json_t *extra = json_pack("{ss}", "client_id", id);
	json_t *cfg = admin_create_config(&B, ext, extra);
	if (!CHECK(cfg != NULL))
		goto out;
	long before = list_total("listConfigs");
	json_t *same_ext = json_pack("{ss ss ss}", "command", "createConfig",
			"external_id", ext, "client_id", id2);
	json_t *same_id = json_pack("{ss ss ss}", "command", "createConfig",
			"external_id", ext2, "client_id", id);
	check_err_new(same_ext, "conflict");
	check_err_new(same_id, "conflict");
	CHECK(list_total("listConfigs") == before);
	check_err_new(admin_cmd_by("getConfig", "client_id", id2), "not_found");
	check_err_new(admin_cmd_by("getConfig", "external_id", ext2), "not_found");
out:
	json_decref(cfg);
	json_decref(extra);
	free(id);
	free(id2);
	free(ext);
	free(ext2);
}

static void test_create_config_unknown_channel_is_not_found(void)
{
	long before = list_total("listConfigs");
	json_t *cmd = json_pack("{ss ss s[{ss}]}", "command", "createConfig",
			"external_id", "unknown-channel", "channels", "id", "no-such-channel");
	check_err_new(cmd, "not_found");
	CHECK(list_total("listConfigs") == before);
}

static void test_get_config_by_either_id_and_its_errors(void)
{
	char *ext = unique_name("get");
	json_t *cfg = admin_create_config(&B, ext, NULL);
	if (!CHECK(cfg != NULL))
		goto out;
	json_t *a = admin_get_config(&B, "client_id", jstr(cfg, "client_id"));
	json_t *b = admin_ok_take(&B, admin_cmd_by("getConfig", "external_id", ext));
	CHECK(a != NULL && b != NULL && json_equal(a, b));
	CHECK(json_object_get(a, "external_key") == NULL);
	CHECK_STR(jstr(a, "client_secret"), jstr(cfg, "client_secret"));
	json_decref(a);
	json_decref(b);
	check_err_new(admin_cmd_by("getConfig", "client_id", "no-such-client"), "not_found");
	check_err_new(admin_cmd_by("getConfig", "external_id", "no-such-ext"), "not_found");
	check_err_new(json_pack("{ss}", "command", "getConfig"), "invalid_request");
	check_err_new(json_pack("{ss si}", "command", "getConfig", "client_id", 3),
			"invalid_request");
out:
	json_decref(cfg);
	free(ext);
}

/* A new config (with extra, borrowed, may be NULL); its client_id. */
static char *new_config_id(const char *prefix, json_t *extra)
{
	char *ext = unique_name(prefix);
	json_t *cfg = ext != NULL ? admin_create_config(&B, ext, extra) : NULL;
	char *id = jstr(cfg, "client_id") != NULL ? strdup(jstr(cfg, "client_id")) : NULL;
	json_decref(cfg);
	free(ext);
	return id;
}

static void test_modify_config_changes_name_content_and_channels(void)
{
	char *c1 = unique_name("ch-m"), *c2 = unique_name("ch-m");
	json_t *a = create_channel(c1, "one"), *b = create_channel(c2, "two");
	json_t *start = json_pack("{s[s]}", "channels", c1);
	char *id = start != NULL ? new_config_id("modify", start) : NULL;
	const char *both[] = { c2, c1 };
	if (!CHECK(a != NULL && b != NULL && id != NULL))
		goto out;
	json_t *change = json_pack("{ss ss s[{ss}{ss}]}", "name", "New name",
			"content", "x=1", "channels", "id", c2, "id", c1);
	json_t *mod = admin_ok_take(&B, modify_cmd(id, change));
	CHECK_STR(jstr(mod, "name"), "New name");
	CHECK_STR(jstr(mod, "content"), "x=1");
	CHECK(has_channels(mod, both, 2));
	CHECK(json_object_get(mod, "external_key") == NULL);
	json_t *got = admin_get_config(&B, "client_id", id);
	CHECK(got != NULL && json_equal(got, mod));
	json_t *none = json_pack("{s[]}", "channels");
	json_t *emptied = admin_ok_take(&B, modify_cmd(id, none));
	CHECK(has_channels(emptied, NULL, 0));
	CHECK_STR(jstr(emptied, "name"), "New name");
	json_decref(emptied);
	json_decref(none);
	json_decref(got);
	json_decref(mod);
	json_decref(change);
out:
	json_decref(start);
	json_decref(a);
	json_decref(b);
	free(id);
	free(c1);
	free(c2);
}

static void test_modify_config_null_or_empty_clears_certificates_and_key(void)
{
	json_t *full = json_pack("{ss ss ss}", "client_cert", cert, "client_key", key,
			"ca_cert", cert);
	char *id = full != NULL ? new_config_id("clear", full) : NULL;
	if (!CHECK(id != NULL))
		goto out;
	json_t *nokey = json_pack("{sn}", "client_key");
	json_t *a = admin_ok_take(&B, modify_cmd(id, nokey));
	CHECK(json_is_false(json_object_get(a, "has_client_key")));
	CHECK_STR(jstr(a, "client_cert"), cert);
	json_t *nocert = json_pack("{ss sn}", "client_cert", "", "ca_cert");
	json_t *b = admin_ok_take(&B, modify_cmd(id, nocert));
	CHECK(b != NULL && unset(b, "client_cert") && unset(b, "ca_cert"));
	json_t *got = admin_get_config(&B, "client_id", id);
	CHECK(got != NULL && unset(got, "client_cert") && unset(got, "ca_cert") &&
			json_is_false(json_object_get(got, "has_client_key")));
	json_t *c = admin_ok_take(&B, modify_cmd(id, full));
	CHECK(json_is_true(json_object_get(c, "has_client_key")));
	CHECK_STR(jstr(c, "client_cert"), cert);
	json_decref(c);
	json_decref(got);
	json_decref(b);
	json_decref(nocert);
	json_decref(a);
	json_decref(nokey);
out:
	json_decref(full);
	free(id);
}

/* The bootstrap reply's client_id or error for ext/key (malloc()ed). */
static char *bootstrap_outcome(const char *ext, const char *ext_key)
{
	char *req = boot_request(ext, ext_key, NULL);
	size_t n = strlen(ext) + 32;
	char *topic = malloc(n);
	if (req == NULL || topic == NULL) {
		free(req);
		free(topic);
		return NULL;
	}
	snprintf(topic, n, "bootstrap/res/%s", ext);
	it_msg_t *m = device_rr(&B, 4, topic, req, (int)strlen(req), NULL);
	json_t *j = msg_json(m);
	const char *s = jstr(j, "error") != NULL ? jstr(j, "error") : jstr(j, "client_id");
	char *out = s != NULL ? strdup(s) : NULL;
	json_decref(j);
	msg_free(m);
	free(topic);
	free(req);
	return out;
}

static void check_bootstrap(const char *ext, const char *ext_key, const char *want)
{
	char *got = bootstrap_outcome(ext, ext_key);
	CHECK_STR(got, want);
	free(got);
}

static void test_modify_config_new_external_key_is_shown_once_and_used(void)
{
	char *ext = unique_name("rekey");
	json_t *extra = json_pack("{ss}", "external_key", "old-key-0123456789");
	json_t *cfg = admin_create_config(&B, ext, extra);
	const char *id = jstr(cfg, "client_id");
	json_t *on = id != NULL ? admin_ok_take(&B, admin_cmd_by("enableConfig", "client_id", id)) : NULL;
	if (!CHECK(on != NULL))
		goto out;
	json_t *change = json_pack("{ss}", "external_key", "new-key-0123456789");
	json_t *mod = admin_ok_take(&B, modify_cmd(id, change));
	CHECK_STR(jstr(mod, "external_key"), "new-key-0123456789");
	json_t *got = admin_get_config(&B, "client_id", id);
	CHECK(got != NULL && json_object_get(got, "external_key") == NULL);
	json_t *list = admin_ok_take(&B, json_pack("{ss ss}", "command", "listConfigs",
				"external_id", ext));
	json_t *item = json_array_get(json_object_get(list, "configs"), 0);
	CHECK(item != NULL && json_object_get(item, "external_key") == NULL);
	check_bootstrap(ext, "old-key-0123456789", "unauthorized");
	check_bootstrap(ext, "new-key-0123456789", id);
	json_decref(list);
	json_decref(got);
	json_decref(mod);
	json_decref(change);
out:
	json_decref(on);
	json_decref(cfg);
	json_decref(extra);
	free(ext);
}

static void test_modify_config_fixed_fields_are_invalid_request(void)
{
	char *id = new_config_id("fixed", NULL);
	if (!CHECK(id != NULL))
		return;
	json_t *before = admin_get_config(&B, "client_id", id);
	json_t *changes = json_pack("[{ss ss} {ss ss} {ss ss} {si} {ss ss} {ss ss}]",
			"name", "x", "external_id", "other-ext",
			"name", "x", "client_secret", "other-secret",
			"name", "x", "state", "enabled",
			"name", 5,
			"name", "x", "external_key", "short",
			"name", "x", "client_cert", "garbage");
	size_t i;
	json_t *change;
	json_array_foreach(changes, i, change) {
		if (!check_err_new(modify_cmd(id, change), "invalid_request"))
			fprintf(stderr, "  change %zu\n", i);
	}
	json_t *after = admin_get_config(&B, "client_id", id);
	CHECK(before != NULL && after != NULL && json_equal(before, after));
	json_decref(after);
	json_decref(changes);
	json_decref(before);
	free(id);
}

static void test_modify_config_unknown_is_not_found(void)
{
	json_t *change = json_pack("{ss}", "name", "x");
	check_err_new(modify_cmd("no-such-client", change), "not_found");
	check_err_new(json_pack("{ss ss}", "command", "modifyConfig", "name", "x"),
			"invalid_request");
	json_decref(change);
}

static void test_state_and_delete_commands_on_unknown_config(void)
{
	static const char *const cmds[] = { "enableConfig", "disableConfig",
		"deleteConfig" };
	for (size_t i = 0; i < 3; i++) {
		check_err_new(admin_cmd_by(cmds[i], "client_id", "no-such-client"), "not_found");
		check_err_new(json_pack("{ss}", "command", cmds[i]), "invalid_request");
	}
}

static void test_enable_then_delete_config(void)
{
	char *id = new_config_id("lifecycle", NULL);
	if (!CHECK(id != NULL))
		return;
	json_t *on = admin_ok_take(&B, admin_cmd_by("enableConfig", "client_id", id));
	CHECK_STR(jstr(on, "state"), "enabled");
	json_t *list = admin_ok_take(&B, json_pack("{ss ss ss}", "command", "listConfigs",
				"state", "enabled", "external_id", jstr(on, "external_id")));
	CHECK(json_integer_value(json_object_get(list, "total")) == 1);
	json_t *off = admin_ok_take(&B, admin_cmd_by("disableConfig", "client_id", id));
	CHECK_STR(jstr(off, "state"), "disabled");
	json_t *del = admin_ok_take(&B, admin_cmd_by("deleteConfig", "client_id", id));
	CHECK(json_is_object(del) && json_object_size(del) == 0);
	check_err_new(admin_cmd_by("getConfig", "client_id", id), "not_found");
	check_err_new(admin_cmd_by("deleteConfig", "client_id", id), "not_found");
	json_decref(del);
	json_decref(off);
	json_decref(list);
	json_decref(on);
	free(id);
}

/* True when c is still connected after watching it for a while. */
static bool still_connected(client_t *c)
{
	(void)client_expect_none(c, IT_QUIET_MS);
	return client_subscribe(c, "probe/alive", 0) >= 0;
}

/*
 * A session whose username is the config's client_id, and a bystander
 * (alice): command ends the first one only.
 */
static void check_command_ends_session(const char *command, const char *client_id)
{
	json_t *extra = json_pack("{ss}", "client_id", client_id);
	char *ext = unique_name(client_id);
	json_t *cfg = admin_create_config(&B, ext, extra);
	json_t *on = admin_ok_take(&B, admin_cmd_by("enableConfig", "client_id", client_id));
	client_t *dev = client_connect(&B, 5, NULL, client_id, "any-password");
	client_t *other = client_connect(&B, 5, NULL, "alice", "alicepw");
	if (!CHECK(cfg != NULL && on != NULL && dev != NULL && other != NULL))
		goto out;
	json_t *data = admin_ok_take(&B, admin_cmd_by(command, "client_id", client_id));
	CHECK(data != NULL);
	json_decref(data);
	CHECK(!still_connected(dev));
	CHECK(still_connected(other));
out:
	client_close(dev);
	client_close(other);
	json_decref(on);
	json_decref(cfg);
	json_decref(extra);
	free(ext);
}

static void test_disable_config_disconnects_sessions_of_its_client_id(void)
{
	check_command_ends_session("disableConfig", "session-disable");
}

static void test_delete_config_disconnects_sessions_of_its_client_id(void)
{
	check_command_ends_session("deleteConfig", "session-delete");
}

/* ---- listConfigs against a reference ---------------------------------- */

#define LIST_BATCHES 3
#define LIST_PER_BATCH 100
#define LIST_TOTAL (LIST_BATCHES * LIST_PER_BATCH)

typedef struct {
	char client_id[32];
	char external_id[32];
	char name[64];
	char created_at[40];
	bool enabled;
} ref_t;

typedef struct {
	const char *state;
	const char *name;
	const char *external_id;
} filter_t;

static ref_t refs[LIST_TOTAL];

/* Underscore and percent are LIKE wildcards; the multibyte name checks
 * that case folding is ASCII only. */
static const char *const name_parts[] = { "Boiler Room", "boiler attic",
	"KITCHEN", "garage_door", "Cellar 100%", "", "\xc3\x84pfel lager",
	"roomba", "Attic Sensor" };

static void ref_fill(ref_t *r, int batch, int j)
{
	int i = batch * LIST_PER_BATCH + j;
	const char *part = name_parts[i % (int)(sizeof name_parts / sizeof name_parts[0])];
	/* Later batches get smaller client_ids, and within a batch they are
	 * shuffled, so neither creation order nor client_id order alone fits. */
	snprintf(r->client_id, sizeof r->client_id, "c%d-%03d",
			LIST_BATCHES - 1 - batch, (j * 37) % LIST_PER_BATCH);
	snprintf(r->external_id, sizeof r->external_id, "list-%03d", i);
	if (part[0] != '\0')
		snprintf(r->name, sizeof r->name, "%s %d", part, i);
	r->enabled = i % 3 == 0;
}

static json_t *ref_create_cmd(const ref_t *r)
{
	return json_pack("{ss ss ss ss}", "command", "createConfig",
			"client_id", r->client_id, "external_id", r->external_id,
			"name", r->name);
}

/* Creates one batch of configs; reads created_at back into refs. */
static int create_list_batch(int batch)
{
	ref_t *first = &refs[batch * LIST_PER_BATCH];
	json_t *cmds = json_array();
	for (int j = 0; j < LIST_PER_BATCH; j++) {
		ref_fill(&first[j], batch, j);
		json_array_append_new(cmds, ref_create_cmd(&first[j]));
		if (first[j].enabled)
			json_array_append_new(cmds, admin_cmd_by("enableConfig", "client_id",
						first[j].client_id));
	}
	size_t want = json_array_size(cmds);
	json_t *rs = batch_new(cmds);
	int rc = json_array_size(rs) == want ? 0 : -1;
	for (size_t k = 0, j = 0; rc == 0 && k < want; k++) {
		json_t *r = json_array_get(rs, k);
		const char *at = jstr(json_object_get(r, "data"), "created_at");
		if (at == NULL)
			rc = -1;
		else if (strcmp(jstr(r, "command"), "createConfig") == 0)
			snprintf(first[j++].created_at, sizeof first->created_at, "%s", at);
	}
	json_decref(rs);
	return rc;
}

static int ref_cmp(const void *a, const void *b)
{
	const ref_t *x = a, *y = b;
	int c = strcmp(x->created_at, y->created_at);
	return c != 0 ? c : strcmp(x->client_id, y->client_id);
}

/* 300 configs in 3 batches, each batch in a later second than the last. */
static int start_with_list(void)
{
	if (broker_start(&B, NULL) != 0)
		return -1;
	for (int batch = 0; batch < LIST_BATCHES; batch++) {
		if (batch > 0)
			pause_ms(1100);
		if (create_list_batch(batch) != 0) {
			fprintf(stderr, "cannot create the listConfigs data\n");
			broker_cleanup(&B);
			return -1;
		}
	}
	qsort(refs, LIST_TOTAL, sizeof refs[0], ref_cmp);
	return 0;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay;; p++) {
		size_t k = 0;
		while (k < n && p[k] != '\0' && ascii_lower(p[k]) == ascii_lower(needle[k]))
			k++;
		if (k == n)
			return true;
		if (*p == '\0')
			return false;
	}
}

static bool ref_match(const ref_t *r, const filter_t *f)
{
	if (f->state != NULL && r->enabled != (strcmp(f->state, "enabled") == 0))
		return false;
	if (f->name != NULL && !ascii_contains(r->name, f->name))
		return false;
	return f->external_id == NULL || strcmp(r->external_id, f->external_id) == 0;
}

/* The matching references in list order; returns how many. */
static size_t ref_select(const filter_t *f, const ref_t **out)
{
	size_t n = 0;
	for (size_t i = 0; i < LIST_TOTAL; i++) {
		if (ref_match(&refs[i], f))
			out[n++] = &refs[i];
	}
	return n;
}

static size_t ref_count(const filter_t *f)
{
	const ref_t *sel[LIST_TOTAL];
	return ref_select(f, sel);
}

/* listConfigs with f; offset and limit are left out when negative. */
static json_t *list_cmd(const filter_t *f, long offset, long limit)
{
	json_t *cmd = json_pack("{ss}", "command", "listConfigs");
	if (f->state != NULL)
		json_object_set_new(cmd, "state", json_string(f->state));
	if (f->name != NULL)
		json_object_set_new(cmd, "name", json_string(f->name));
	if (f->external_id != NULL)
		json_object_set_new(cmd, "external_id", json_string(f->external_id));
	if (offset >= 0)
		json_object_set_new(cmd, "offset", json_integer(offset));
	if (limit >= 0)
		json_object_set_new(cmd, "limit", json_integer(limit));
	return cmd;
}

static bool item_matches(const json_t *item, const ref_t *r)
{
	const char *state = r->enabled ? "enabled" : "disabled";
	bool ok = jstr(item, "client_id") != NULL &&
		strcmp(jstr(item, "client_id"), r->client_id) == 0 &&
		strcmp(str_or(jstr(item, "external_id"), ""), r->external_id) == 0 &&
		strcmp(str_or(jstr(item, "name"), "-"), r->name) == 0 &&
		strcmp(str_or(jstr(item, "state"), ""), state) == 0 &&
		json_object_get(item, "external_key") == NULL &&
		json_object_get(item, "client_key") == NULL;
	if (!ok)
		fprintf(stderr, "  got %s (%s), want %s (%s)\n",
				str_or(jstr(item, "client_id"), "?"), str_or(jstr(item, "name"), "?"),
				r->client_id, r->name);
	return ok;
}

static bool page_matches(const json_t *resp, const filter_t *f, long offset, long limit)
{
	const ref_t *sel[LIST_TOTAL];
	long total = (long)ref_select(f, sel);
	json_t *data = json_object_get(resp, "data");
	json_t *list = json_object_get(data, "configs");
	long want = total - offset < limit ? total - offset : limit;
	want = want > 0 ? want : 0;
	bool ok = json_integer_value(json_object_get(data, "total")) == total &&
		json_integer_value(json_object_get(data, "offset")) == offset &&
		json_integer_value(json_object_get(data, "limit")) == limit &&
		json_is_array(list) && (long)json_array_size(list) == want;
	for (long k = 0; ok && k < want; k++)
		ok = item_matches(json_array_get(list, (size_t)k), sel[offset + k]);
	if (!ok)
		fprintf(stderr, "  listConfigs state=%s name=%s external_id=%s offset=%ld"
				" limit=%ld: total %lld (want %ld), %zu items (want %ld)\n",
				str_or(f->state, "-"), str_or(f->name, "-"), str_or(f->external_id, "-"), offset,
				limit, json_integer_value(json_object_get(data, "total")), total,
				json_array_size(list), want);
	return ok;
}

/* Walks every page of f with limit in one batch, and one past the end. */
static void check_walk(const filter_t *f, long limit)
{
	long total = (long)ref_count(f);
	json_t *cmds = json_array();
	long off;
	for (off = 0; off < total; off += limit)
		json_array_append_new(cmds, list_cmd(f, off, limit));
	json_array_append_new(cmds, list_cmd(f, total + 5, limit));
	size_t n = json_array_size(cmds);
	json_t *rs = batch_new(cmds);
	if (!CHECK(json_array_size(rs) == n))
		goto out;
	for (size_t i = 0; i + 1 < n; i++)
		CHECK(page_matches(json_array_get(rs, i), f, (long)i * limit, limit));
	CHECK(page_matches(json_array_get(rs, n - 1), f, total + 5, limit));
out:
	json_decref(rs);
}

static void test_list_configs_defaults_to_offset_0_and_limit_10(void)
{
	static const filter_t all = { 0 };
	json_t *rs = batch_new(json_pack("[o]", list_cmd(&all, -1, -1)));
	CHECK(json_array_size(rs) == 1);
	CHECK(page_matches(json_array_get(rs, 0), &all, 0, 10));
	json_decref(rs);
}

static void test_list_configs_pages_follow_created_at_then_client_id(void)
{
	static const filter_t all = { 0 };
	/* The order is neither creation order nor client_id order alone. */
	CHECK(strcmp(refs[0].client_id, refs[LIST_TOTAL - 1].client_id) > 0);
	check_walk(&all, 1);
	check_walk(&all, 7);
	check_walk(&all, 128);
	check_walk(&all, 1000);
}

static void test_list_configs_state_filter(void)
{
	static const filter_t on = { .state = "enabled" };
	static const filter_t off = { .state = "disabled" };
	CHECK(ref_count(&on) == LIST_TOTAL / 3);
	CHECK(ref_count(&off) == LIST_TOTAL - LIST_TOTAL / 3);
	check_walk(&on, 33);
	check_walk(&off, 50);
}

static void test_list_configs_name_filter_is_ascii_case_insensitive_substring(void)
{
	static const char *const names[] = { "boiler", "BOILER", "room", "Attic s",
		"_", "%", "100%", "0 1", "\xc3\x84", "\xc3\xa4", "no-such-name", "" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		filter_t f = { .name = names[i] };
		check_walk(&f, 40);
	}
	filter_t underscore = { .name = "_" };
	CHECK(ref_count(&underscore) > 0 && ref_count(&underscore) < LIST_TOTAL / 5);
}

static void test_list_configs_external_id_filter_is_exact(void)
{
	static const char *const ids[] = { "list-007", "list-00", "LIST-007",
		"list-0070", "ist-007" };
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		filter_t f = { .external_id = ids[i] };
		CHECK(ref_count(&f) == (i == 0 ? 1 : 0));
		check_walk(&f, 10);
	}
}

static void test_list_configs_filters_combine(void)
{
	static const filter_t fs[] = {
		{ .state = "enabled", .name = "boiler" },
		{ .state = "disabled", .name = "ROOM" },
		{ .state = "disabled", .external_id = "list-001" },
		{ .state = "enabled", .external_id = "list-001" },
		{ .state = "enabled", .name = "attic", .external_id = "list-000" },
		{ .name = "Boiler", .external_id = "list-000" },
	};
	for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
		check_walk(&fs[i], 25);
}

static void test_list_configs_bad_arguments_are_invalid_request(void)
{
	json_t *rs = batch_text(
			"{\"command\":\"listConfigs\",\"limit\":0},"
			"{\"command\":\"listConfigs\",\"limit\":1001},"
			"{\"command\":\"listConfigs\",\"limit\":-5},"
			"{\"command\":\"listConfigs\",\"limit\":\"10\"},"
			"{\"command\":\"listConfigs\",\"limit\":1.5},"
			"{\"command\":\"listConfigs\",\"offset\":-1},"
			"{\"command\":\"listConfigs\",\"offset\":\"0\"},"
			"{\"command\":\"listConfigs\",\"state\":\"on\"},"
			"{\"command\":\"listConfigs\",\"state\":1},"
			"{\"command\":\"listConfigs\",\"name\":5},"
			"{\"command\":\"listConfigs\",\"external_id\":true}");
	if (CHECK(json_array_size(rs) == 11)) {
		for (size_t i = 0; i < 11; i++) {
			if (!CHECK_STR(resp_error(rs, i), "invalid_request"))
				fprintf(stderr, "  command %zu of the batch\n", i);
		}
	}
	json_decref(rs);
}

/* ---- batches ---------------------------------------------------------- */

static void test_batch_echoes_any_correlation_data(void)
{
	json_t *values = json_pack("[s i f b n {s[i]} [s]]", "7", 42, 1.5, 1,
			"k", 1, "a");
	json_t *cmds = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(values, i, v)
		json_array_append_new(cmds, json_pack("{ss sO}", "command",
					"listChannels", "correlationData", v));
	json_array_append_new(cmds, json_pack("{ss}", "command", "listChannels"));
	json_t *rs = batch_new(cmds);
	size_t n = json_array_size(values);
	if (!CHECK(json_array_size(rs) == n + 1))
		goto out;
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(rs, i);
		CHECK_STR(jstr(r, "command"), "listChannels");
		CHECK(json_equal(json_object_get(r, "correlationData"),
					json_array_get(values, i)));
	}
	CHECK(json_object_get(json_array_get(rs, n), "correlationData") == NULL);
out:
	json_decref(rs);
	json_decref(values);
}

/* createConfig on a good and an unknown channel fails whole; the same
 * external_id then succeeds in the next command. */
static void test_batch_failed_command_leaves_no_trace_and_later_ones_run(void)
{
	char *chan = unique_name("ch-atomic"), *ext = unique_name("atomic");
	json_t *cmds = json_pack("[{ss ss ss} {ss ss s[ss]} {ss ss} {ss ss s[s]}]",
			"command", "createChannel", "id", chan, "name", "atomic",
			"command", "createConfig", "external_id", ext,
			"channels", chan, "no-such-channel",
			"command", "noSuchCommand", "id", "x",
			"command", "createConfig", "external_id", ext, "channels", chan);
	json_t *rs = batch_new(cmds);
	if (!CHECK(json_array_size(rs) == 4))
		goto out;
	CHECK(resp_error(rs, 0) == NULL);
	CHECK_STR(resp_error(rs, 1), "not_found");
	CHECK_STR(resp_error(rs, 2), "invalid_request");
	CHECK(resp_error(rs, 3) == NULL);
	json_t *cfg = admin_ok_take(&B, admin_cmd_by("getConfig", "external_id", ext));
	const char *one[] = { chan };
	CHECK(has_channels(cfg, one, 1));
	json_decref(cfg);
out:
	json_decref(rs);
	free(chan);
	free(ext);
}

static void test_batch_items_that_are_not_commands_are_invalid_request(void)
{
	json_t *rs = batch_text("\"listChannels\",{},{\"command\":5},[],"
			"{\"command\":\"listChannels\"}");
	if (CHECK(json_array_size(rs) == 5)) {
		for (size_t i = 0; i < 4; i++)
			CHECK_STR(resp_error(rs, i), "invalid_request");
		CHECK(resp_error(rs, 4) == NULL);
	}
	json_decref(rs);
}

static void expect_one_invalid(const char *payload)
{
	json_t *reply = admin_rr_raw(&B, payload);
	json_t *rs = json_object_get(reply, "responses");
	json_t *r = json_array_get(rs, 0);
	if (!CHECK(json_array_size(rs) == 1))
		fprintf(stderr, "  payload %.60s\n", payload);
	CHECK_STR(jstr(r, "command"), "");
	CHECK_STR(jstr(r, "error"), "invalid_request");
	json_decref(reply);
}

static void test_payload_not_an_object_with_commands_array(void)
{
	expect_one_invalid("");
	expect_one_invalid("5");
	expect_one_invalid("null");
	expect_one_invalid("{\"commands\":\"listChannels\"}");
	expect_one_invalid("{\"commands\":null}");
	expect_one_invalid("{\"command\":\"listChannels\"}");
	expect_one_invalid("{\"commands\":[{\"command\":\"listChannels\"}]");
}

static void test_empty_commands_array_gets_no_responses(void)
{
	json_t *reply = admin_rr_raw(&B, "{\"commands\":[]}");
	json_t *rs = json_object_get(reply, "responses");
	CHECK(json_is_array(rs) && json_array_size(rs) == 0);
	json_decref(reply);
}

/* n createChannel commands with ids prefix-<i>. */
static json_t *many_creates(const char *prefix, size_t n)
{
	json_t *cmds = json_array();
	char id[64];
	for (size_t i = 0; cmds != NULL && i < n; i++) {
		snprintf(id, sizeof id, "%s-%05zu", prefix, i);
		json_array_append_new(cmds, json_pack("{ss ss ss}", "command",
					"createChannel", "id", id, "name", "n"));
	}
	return cmds;
}

static void test_batch_of_10001_commands_is_refused_whole(void)
{
	char *prefix = unique_name("big");
	long before = list_total("listChannels");
	json_t *rs = batch_new(many_creates(prefix, 10001));
	json_t *r = json_array_get(rs, 0);
	CHECK(json_array_size(rs) == 1);
	CHECK_STR(jstr(r, "command"), "");
	CHECK_STR(jstr(r, "error"), "invalid_request");
	CHECK(list_total("listChannels") == before);
	json_decref(rs);
	free(prefix);
}

/* Each command of a batch is a savepoint and its statements: on
 * PostgreSQL round trips to the server, 10,000 of them 0.5 to 1.2 s on an
 * idle 2-core machine and several times that on a loaded one (0.1 s on
 * SQLite), so the reply is given ten waits; the time is printed. */
static void test_batch_of_10000_commands_is_answered_in_order(void)
{
	enum { N = 10000 };
	json_t *cmds = json_array(), *reply;
	struct timespec t0, t1;
	for (int i = 0; i < N; i++)
		json_array_append_new(cmds, json_pack("{ss si ss}", "command",
					"getChannel", "correlationData", i, "id", "no-such-channel"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	reply = admin_rr_json_within(&B, cmds, 10 * IT_WAIT_MS);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("(answered in %.2f s) ", (double)(t1.tv_sec - t0.tv_sec)
			+ (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	json_t *rs = json_incref(json_object_get(reply, "responses"));
	json_decref(reply);
	json_decref(cmds);
	bool ok = json_array_size(rs) == N;
	for (int i = 0; ok && i < N; i++) {
		json_t *r = json_array_get(rs, (size_t)i);
		ok = json_integer_value(json_object_get(r, "correlationData")) == i &&
			strcmp(str_or(jstr(r, "error"), ""), "not_found") == 0;
	}
	CHECK(ok);
	json_decref(rs);
}

/* ---- where replies go ------------------------------------------------- */

static const char getconfig_payload[] =
	"{\"commands\":[{\"command\":\"getConfig\",\"correlationData\":\"x\","
	"\"client_id\":\"no-such-client\"}]}";

static client_t *listener(const char *user, const char *pass, const char *filter)
{
	client_t *c = client_connect(&B, 5, NULL, user, pass);
	if (c != NULL && client_subscribe(c, filter, 1) != 1) {
		fprintf(stderr, "  %s could not subscribe to %s\n", user, filter);
		client_close(c);
		c = NULL;
	}
	return c;
}

static void test_v5_reply_goes_to_requester_alone_with_correlation_data(void)
{
	static const unsigned char corr[] = { 0x00, 0xff, 'c', 0x01 };
	char *rt = unique_name("replies/admin");
	client_t *peer = listener("admin", "adminpw", RESPONSE_TOPIC);
	client_t *peer_rt = listener("admin", "adminpw", rt);
	client_t *snoop = listener("alice", "alicepw", rt);
	client_t *all = listener("alice", "alicepw", "#");
	it_msg_t *m = NULL;
	if (!CHECK(peer != NULL && peer_rt != NULL && snoop != NULL && all != NULL))
		goto out;
	m = admin_rr_v5(&B, getconfig_payload, rt, corr, (int)sizeof corr);
	json_t *reply = msg_json(m);
	json_t *r = json_array_get(json_object_get(reply, "responses"), 0);
	if (CHECK(m != NULL)) {
		CHECK_STR(m->topic, rt);
		CHECK(m->corr_len == (int)sizeof corr && memcmp(m->corr, corr, sizeof corr) == 0);
	}
	CHECK_STR(jstr(r, "correlationData"), "x");
	CHECK_STR(jstr(r, "error"), "not_found");
	json_decref(reply);
	CHECK(client_expect_none(peer, IT_QUIET_MS));
	CHECK(client_expect_none(peer_rt, QUIET_MORE_MS));
	CHECK(client_expect_none(snoop, QUIET_MORE_MS));
	CHECK(client_expect_none(all, QUIET_MORE_MS));
out:
	msg_free(m);
	client_close(peer);
	client_close(peer_rt);
	client_close(snoop);
	client_close(all);
	free(rt);
}

static void test_v5_reply_without_correlation_data_carries_none(void)
{
	char *rt = unique_name("replies/plain");
	it_msg_t *m = admin_rr_v5(&B, getconfig_payload, rt, NULL, 0);
	if (CHECK(m != NULL)) {
		CHECK_STR(m->topic, rt);
		CHECK(m->corr == NULL);
	}
	msg_free(m);
	free(rt);
}

/* An MQTT v5 request without a Response Topic: the default topic. */
static void test_reply_without_response_topic_goes_to_control_response(void)
{
	client_t *peer = listener("admin", "adminpw", RESPONSE_TOPIC);
	client_t *me = listener("admin", "adminpw", RESPONSE_TOPIC);
	if (!CHECK(peer != NULL && me != NULL))
		goto out;
	pub_opts_t o = { .qos = 1, .corr = "k", .corr_len = 1 };
	CHECK(client_publish(me, ADMIN_TOPIC, getconfig_payload,
				(int)strlen(getconfig_payload), &o) == 0);
	it_msg_t *a = client_wait(me, IT_WAIT_MS), *b = client_wait(peer, IT_WAIT_MS);
	json_t *ja = msg_json(a), *jb = msg_json(b);
	CHECK(a != NULL && b != NULL);
	CHECK(a != NULL && strcmp(a->topic, RESPONSE_TOPIC) == 0);
	CHECK(ja != NULL && jb != NULL && json_equal(ja, jb));
	json_decref(ja);
	json_decref(jb);
	msg_free(a);
	msg_free(b);
out:
	client_close(peer);
	client_close(me);
}

/* ---- audit ------------------------------------------------------------ */

/* Sends the commands (stolen) from a client called client_id as admin. */
static json_t *batch_from(const char *client_id, json_t *cmds)
{
	json_t *root = json_pack("{so}", "commands", cmds);
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_t *reply = text != NULL ? admin_rr_as(&B, client_id, "admin", "adminpw", text)
		: NULL;
	json_t *rs = json_incref(json_object_get(reply, "responses"));

	json_decref(reply);
	free(text);
	json_decref(root);
	return rs;
}

static char *log_text(void)
{
	char path[IT_PATH_MAX];
	if (broker_path(&B, "mosquitto.log", path, sizeof path) != 0)
		return NULL;
	return read_file_text(path, NULL);
}

static int count_in_log(const char *text)
{
	char *s = log_text();
	int n = 0;
	for (const char *p = s; p != NULL && (p = strstr(p, text)) != NULL; p++)
		n++;
	free(s);
	return n;
}

/* Waits (bounded) until text is in the log. */
static bool wait_log(const char *text)
{
	for (int waited = 0; waited < IT_WAIT_MS; waited += 50) {
		if (broker_log_contains(&B, text))
			return true;
		pause_ms(50);
	}
	return broker_log_contains(&B, text);
}

typedef struct {
	const char *command;
	const char *target;
	const char *result;
} audit_want_t;

static void check_audit_line(const char *client, const audit_want_t *w)
{
	char line[512];
	snprintf(line, sizeof line, "audit: user=admin client=%s command=%s "
			"target=%s result=%s\n", client, w->command, w->target, w->result);
	int n = count_in_log(line);
	if (!CHECK(n == 1))
		fprintf(stderr, "  %d times: %s", n, line);
}

static json_t *audit_series(const char *ch, const char *cid, const char *ext)
{
	return json_pack("[{ss ss ss} {ss ss ss} {ss ss ss} {ss ss ss ss}"
			" {ss ss ss} {ss ss ss} {ss ss} {ss ss} {ss ss} {ss ss}"
			" {ss ss} {ss ss}]",
			"command", "createChannel", "id", ch, "name", "audit",
			"command", "createChannel", "id", ch, "name", "again",
			"command", "modifyChannel", "id", ch, "name", "renamed",
			"command", "createConfig", "client_id", cid, "external_id", ext,
			"external_key", "audit-key-0123456789",
			"command", "modifyConfig", "client_id", cid, "name", "renamed",
			"command", "modifyConfig", "client_id", "audit-nobody", "name", "x",
			"command", "enableConfig", "client_id", cid,
			"command", "disableConfig", "client_id", cid,
			"command", "getConfig", "client_id", cid,
			"command", "deleteChannel", "id", ch,
			"command", "deleteConfig", "client_id", cid,
			"command", "deleteConfig", "client_id", cid);
}

static void test_audit_line_for_every_change(void)
{
	char *client = unique_name("auditor"), *ch = unique_name("ch-audit");
	char *cid = unique_name("client-audit"), *ext = unique_name("ext-audit");
	const audit_want_t want[] = {
		{ "createChannel", ch, "ok" }, { "createChannel", ch, "conflict" },
		{ "modifyChannel", ch, "ok" }, { "createConfig", cid, "ok" },
		{ "modifyConfig", cid, "ok" }, { "modifyConfig", "audit-nobody", "not_found" },
		{ "enableConfig", cid, "ok" }, { "disableConfig", cid, "ok" },
		{ "deleteChannel", ch, "ok" }, { "deleteConfig", cid, "ok" },
		{ "deleteConfig", cid, "not_found" },
	};
	json_t *rs = batch_from(client, audit_series(ch, cid, ext));
	if (!CHECK(json_array_size(rs) == 12))
		goto out;
	char last[256];
	snprintf(last, sizeof last, "command=deleteConfig target=%s result=not_found", cid);
	CHECK(wait_log(last));
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		check_audit_line(client, &want[i]);
out:
	json_decref(rs);
	free(client);
	free(ch);
	free(cid);
	free(ext);
}

/* The base64 line after the PEM header: part of the key itself. */
static char *key_body(const char *pem)
{
	const char *nl = pem != NULL ? strchr(pem, '\n') : NULL;
	const char *end = nl != NULL ? strchr(nl + 1, '\n') : NULL;
	return end != NULL ? strndup(nl + 1, (size_t)(end - nl - 1)) : NULL;
}

/* Adds a string member of the response i's data to secrets. */
static void keep_secret(json_t *secrets, json_t *rs, size_t i, const char *field)
{
	const char *s = jstr(json_object_get(json_array_get(rs, i), "data"), field);
	if (CHECK(s != NULL))
		json_array_append_new(secrets, json_string(s));
}

static void test_log_never_holds_a_secret(void)
{
	char *ext = unique_name("ext-secret"), *ext2 = unique_name("ext-secret");
	char *body = key_body(key);
	json_t *cmds = json_pack("[{ss ss ss ss ss ss} {ss ss ss} {ss ss ss}"
			" {ss ss ss} {ss ss} {ss ss}]",
			"command", "createConfig", "client_id", "secret-one", "external_id", ext,
			"external_key", "given-key-7Hq2ZpX9", "client_secret", "given-secret-Lw4Tn8",
			"client_key", key,
			"command", "createConfig", "client_id", "secret-two", "external_id", ext2,
			"command", "modifyConfig", "client_id", "secret-one",
			"external_key", "new-key-Rk3Vb6Yd",
			"command", "createConfig", "external_id", ext,
			"external_key", "dup-key-Qm5Xc1Jz",
			"command", "enableConfig", "client_id", "secret-one",
			"command", "deleteConfig", "client_id", "secret-two");
	json_t *rs = body != NULL && cmds != NULL ? batch_new(cmds) : NULL;
	json_t *secrets = json_pack("[s s s s s]", "given-key-7Hq2ZpX9",
			"given-secret-Lw4Tn8", "new-key-Rk3Vb6Yd", "dup-key-Qm5Xc1Jz", str_or(body, ""));
	if (!CHECK(json_array_size(rs) == 6))
		goto out;
	CHECK_STR(resp_error(rs, 3), "conflict");
	keep_secret(secrets, rs, 1, "external_key");
	keep_secret(secrets, rs, 1, "client_secret");
	CHECK(wait_log("command=deleteConfig target=secret-two result=ok"));
	size_t i;
	json_t *s;
	json_array_foreach(secrets, i, s) {
		if (!CHECK(!broker_log_contains(&B, json_string_value(s))))
			fprintf(stderr, "  the log holds secret %zu\n", i);
	}
out:
	json_decref(secrets);
	json_decref(rs);
	free(body);
	free(ext);
	free(ext2);
}

static int start_for_audit(void)
{
	if (broker_start(&B, NULL) != 0)
		return -1;
	if (make_cert(B.dir, "audit", &cert, &key) != 0) {
		broker_cleanup(&B);
		return -1;
	}
	return 0;
}

/* ---- forbidden -------------------------------------------------------- */

/* admin_users unset; the acl_file lets anonymous clients and admin use
 * the admin topics. */
static int start_forbidden(void)
{
	static const char conf[] =
		"@STORE@\n"
		"plugin_opt_key_file @DIR@/bootstrap.key\n"
		"acl_file @DIR@/acl\n";
	static const char acl[] =
		"topic readwrite $CONTROL/bootstrap/#\n"
		"\n"
		"user admin\n"
		"topic readwrite $CONTROL/bootstrap/#\n";
	return broker_start_acl(&B, conf, BROKER_NO_PLUGIN_OPTS, acl);
}

static json_t *every_command(void)
{
	return json_pack("[{ss ss ss} {ss ss} {ss} {ss ss ss} {ss ss} {ss ss}"
			" {ss ss} {ss} {ss ss ss} {ss ss} {ss ss} {ss ss}]",
			"command", "createChannel", "id", "fb-new", "name", "n",
			"command", "getChannel", "id", "fb-keep",
			"command", "listChannels",
			"command", "modifyChannel", "id", "fb-keep", "name", "changed",
			"command", "deleteChannel", "id", "fb-keep",
			"command", "createConfig", "external_id", "fb-new-ext",
			"command", "getConfig", "client_id", "fb-cfg",
			"command", "listConfigs",
			"command", "modifyConfig", "client_id", "fb-cfg", "name", "changed",
			"command", "enableConfig", "client_id", "fb-cfg",
			"command", "disableConfig", "client_id", "fb-cfg",
			"command", "deleteConfig", "client_id", "fb-cfg");
}

/* The store as the admin sees it, for before/after comparisons. */
static json_t *snapshot(void)
{
	return batch_text("{\"command\":\"listChannels\",\"limit\":1000},"
			"{\"command\":\"listConfigs\",\"limit\":1000}");
}

/* Sends cmds (borrowed) anonymously; returns the responses array. */
static json_t *anonymous_batch(json_t *cmds)
{
	json_t *root = json_pack("{sO}", "commands", cmds);
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	/* On a Response Topic: an anonymous client never reads the default one. */
	client_t *c = client_connect(&B, 5, NULL, NULL, NULL);
	pub_opts_t o = { .qos = 1, .resp_topic = "anonymous/replies" };
	json_t *reply = NULL;
	if (c != NULL && text != NULL &&
			client_publish(c, ADMIN_TOPIC, text, (int)strlen(text), &o) >= 0) {
		it_msg_t *m = client_wait(c, IT_WAIT_MS);
		reply = msg_json(m);
		msg_free(m);
	}
	client_close(c);
	free(text);
	json_decref(root);
	json_t *rs = json_incref(json_object_get(reply, "responses"));
	json_decref(reply);
	return rs;
}

static void test_sender_without_username_is_forbidden_every_command(void)
{
	json_t *setup = json_pack("[{ss ss ss} {ss ss ss s[s]}]",
			"command", "createChannel", "id", "fb-keep", "name", "keep",
			"command", "createConfig", "client_id", "fb-cfg",
			"external_id", "fb-ext", "channels", "fb-keep");
	json_t *made = batch_new(setup);
	json_t *before = snapshot(), *cmds = every_command();
	CHECK(json_array_size(made) == 2 && resp_error(made, 1) == NULL);
	json_t *rs = anonymous_batch(cmds);
	if (!CHECK(json_array_size(rs) == json_array_size(cmds)))
		goto out;
	size_t i;
	json_t *cmd;
	json_array_foreach(cmds, i, cmd) {
		json_t *r = json_array_get(rs, i);
		CHECK_STR(jstr(r, "command"), jstr(cmd, "command"));
		CHECK_STR(jstr(r, "error"), "forbidden");
		CHECK(json_object_get(r, "data") == NULL);
	}
	json_t *after = snapshot();
	CHECK(before != NULL && after != NULL && json_equal(before, after));
	json_decref(after);
out:
	json_decref(rs);
	json_decref(cmds);
	json_decref(before);
	json_decref(made);
}

/* ---- registration ----------------------------------------------------- */

static const cu_test_t channel_tests[] = {
	{ "create_channel_with_given_id_is_returned_by_get_channel",
		test_create_channel_with_given_id_is_returned_by_get_channel },
	{ "create_channel_bad_fields_are_invalid_request",
		test_create_channel_bad_fields_are_invalid_request },
	{ "create_channel_with_existing_id_is_conflict",
		test_create_channel_with_existing_id_is_conflict },
	{ "get_channel_unknown_is_not_found_and_missing_id_invalid",
		test_get_channel_unknown_is_not_found_and_missing_id_invalid },
	{ "list_channels_pages_cover_every_channel_once",
		test_list_channels_pages_cover_every_channel_once },
	{ "list_channels_bad_paging_is_invalid_request",
		test_list_channels_bad_paging_is_invalid_request },
	{ "modify_channel_changes_name_and_metadata",
		test_modify_channel_changes_name_and_metadata },
	{ "modify_channel_unknown_is_not_found_and_bad_name_invalid",
		test_modify_channel_unknown_is_not_found_and_bad_name_invalid },
	{ "delete_channel_removes_it_from_every_config",
		test_delete_channel_removes_it_from_every_config },
	{ "delete_channel_unknown_is_not_found",
		test_delete_channel_unknown_is_not_found },
	{ NULL, NULL },
};

static const cu_test_t config_tests[] = {
	{ "create_config_with_every_field_returns_them",
		test_create_config_with_every_field_returns_them },
	{ "create_config_bad_fields_are_invalid_request",
		test_create_config_bad_fields_are_invalid_request },
	{ "create_config_oversized_or_mismatched_fields_are_invalid",
		test_create_config_oversized_or_mismatched_fields_are_invalid },
	{ "create_config_duplicate_ids_are_conflict",
		test_create_config_duplicate_ids_are_conflict },
	{ "create_config_unknown_channel_is_not_found",
		test_create_config_unknown_channel_is_not_found },
	{ "get_config_by_either_id_and_its_errors",
		test_get_config_by_either_id_and_its_errors },
	{ "modify_config_changes_name_content_and_channels",
		test_modify_config_changes_name_content_and_channels },
	{ "modify_config_null_or_empty_clears_certificates_and_key",
		test_modify_config_null_or_empty_clears_certificates_and_key },
	{ "modify_config_new_external_key_is_shown_once_and_used",
		test_modify_config_new_external_key_is_shown_once_and_used },
	{ "modify_config_fixed_fields_are_invalid_request",
		test_modify_config_fixed_fields_are_invalid_request },
	{ "modify_config_unknown_is_not_found",
		test_modify_config_unknown_is_not_found },
	{ "state_and_delete_commands_on_unknown_config",
		test_state_and_delete_commands_on_unknown_config },
	{ "enable_then_delete_config", test_enable_then_delete_config },
	{ "disable_config_disconnects_sessions_of_its_client_id",
		test_disable_config_disconnects_sessions_of_its_client_id },
	{ "delete_config_disconnects_sessions_of_its_client_id",
		test_delete_config_disconnects_sessions_of_its_client_id },
	{ NULL, NULL },
};

static const cu_test_t list_tests[] = {
	{ "list_configs_defaults_to_offset_0_and_limit_10",
		test_list_configs_defaults_to_offset_0_and_limit_10 },
	{ "list_configs_pages_follow_created_at_then_client_id",
		test_list_configs_pages_follow_created_at_then_client_id },
	{ "list_configs_state_filter", test_list_configs_state_filter },
	{ "list_configs_name_filter_is_ascii_case_insensitive_substring",
		test_list_configs_name_filter_is_ascii_case_insensitive_substring },
	{ "list_configs_external_id_filter_is_exact",
		test_list_configs_external_id_filter_is_exact },
	{ "list_configs_filters_combine", test_list_configs_filters_combine },
	{ "list_configs_bad_arguments_are_invalid_request",
		test_list_configs_bad_arguments_are_invalid_request },
	{ NULL, NULL },
};

static const cu_test_t batch_tests[] = {
	{ "batch_echoes_any_correlation_data",
		test_batch_echoes_any_correlation_data },
	{ "batch_failed_command_leaves_no_trace_and_later_ones_run",
		test_batch_failed_command_leaves_no_trace_and_later_ones_run },
	{ "batch_items_that_are_not_commands_are_invalid_request",
		test_batch_items_that_are_not_commands_are_invalid_request },
	{ "payload_not_an_object_with_commands_array",
		test_payload_not_an_object_with_commands_array },
	{ "empty_commands_array_gets_no_responses",
		test_empty_commands_array_gets_no_responses },
	{ "batch_of_10001_commands_is_refused_whole",
		test_batch_of_10001_commands_is_refused_whole },
	{ "batch_of_10000_commands_is_answered_in_order",
		test_batch_of_10000_commands_is_answered_in_order },
	{ NULL, NULL },
};

static const cu_test_t reply_tests[] = {
	{ "v5_reply_goes_to_requester_alone_with_correlation_data",
		test_v5_reply_goes_to_requester_alone_with_correlation_data },
	{ "v5_reply_without_correlation_data_carries_none",
		test_v5_reply_without_correlation_data_carries_none },
	{ "reply_without_response_topic_goes_to_control_response",
		test_reply_without_response_topic_goes_to_control_response },
	{ NULL, NULL },
};

static const cu_test_t audit_tests[] = {
	{ "audit_line_for_every_change", test_audit_line_for_every_change },
	{ "log_never_holds_a_secret", test_log_never_holds_a_secret },
	{ NULL, NULL },
};

static const cu_test_t forbidden_tests[] = {
	{ "sender_without_username_is_forbidden_every_command",
		test_sender_without_username_is_forbidden_every_command },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("channels", start_plain, stop_broker, channel_tests);
	cu_add_suite("configs", start_for_configs, stop_configs, config_tests);
	cu_add_suite("list_configs", start_with_list, stop_broker, list_tests);
	cu_add_suite("batches", start_plain, stop_broker, batch_tests);
	cu_add_suite("replies", start_acl_allow, stop_broker, reply_tests);
	cu_add_suite("audit", start_for_audit, stop_configs, audit_tests);
	cu_add_suite("forbidden", start_forbidden, stop_broker, forbidden_tests);
	return cu_run("test_admin_api");
}
