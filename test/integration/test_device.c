/*
 * Device bootstrap against a real broker (protocol section 3).
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdlib.h>
#include <string.h>

#define BIG_PAYLOAD 20000       /* over the default max_request_bytes */

static broker_t B;              /* acl_default defer (the default) */
static broker_t A;              /* acl_default allow */
static char *cert, *key, *ca_cert, *ca_key;

static int suite_init(void)
{
	if (broker_start(&B, NULL) != 0)
		return -1;
	if (make_cert(B.dir, "device", &cert, &key) != 0 ||
			make_cert(B.dir, "ca", &ca_cert, &ca_key) != 0) {
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
	free(ca_cert);
	free(ca_key);
	return 0;
}

static int allow_init(void)
{
	return broker_start(&A, "plugin_opt_acl_default allow");
}

static int allow_clean(void)
{
	broker_cleanup(&A);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static char *reply_topic(const char *external_id)
{
	size_t n = strlen(external_id) + 16;
	char *t = malloc(n);
	if (t != NULL)
		snprintf(t, n, "bootstrap/res/%s", external_id);
	return t;
}

/*
 * Sends payload from a fresh client and returns the parsed reply, checking
 * that it came on want_topic (when not NULL).
 */
static json_t *ask(const broker_t *b, int version, const char *sub,
		const char *payload, const pub_opts_t *o, const char *want_topic)
{
	it_msg_t *m = device_rr(b, version, sub, payload, (int)strlen(payload), o);
	json_t *j = msg_json(m);
	CHECK(m != NULL);
	CHECK(m == NULL || j != NULL);
	if (m != NULL && want_topic != NULL)
		CHECK_STR(m->topic, want_topic);
	msg_free(m);
	return j;
}

/* A new enabled config with extra fields; its request payload in *req. */
static bool new_config(const char *prefix, json_t *extra, bool enable,
		boot_cfg_t *cfg, char **req, const char *req_id)
{
	char *ext = unique_name(prefix);
	bool ok = ext != NULL && make_config(&B, ext, extra, enable, cfg) == 0;
	free(ext);
	*req = ok ? boot_request(cfg->external_id, cfg->external_key, req_id) : NULL;
	return CHECK(ok && *req != NULL);
}

static void check_error(json_t *reply, const char *code)
{
	CHECK_STR(jstr(reply, "error"), code);
	CHECK(jstr(reply, "message") != NULL);
	CHECK(json_object_get(reply, "client_secret") == NULL);
}

static void check_success(json_t *reply, const boot_cfg_t *cfg)
{
	CHECK(json_object_get(reply, "error") == NULL);
	CHECK_STR(jstr(reply, "client_id"), cfg->client_id);
	CHECK_STR(jstr(reply, "client_secret"), cfg->client_secret);
	CHECK(json_is_array(json_object_get(reply, "channels")));
}

/* ---- basic bootstrap -------------------------------------------------- */

static void bootstrap_without_subscribing(int version)
{
	boot_cfg_t cfg;
	char *req, *topic = NULL;
	if (!new_config(version == 5 ? "v5" : "v311", NULL, true, &cfg, &req, NULL))
		return;
	topic = reply_topic(cfg.external_id);
	json_t *reply = ask(&B, version, NULL, req, NULL, topic);
	check_success(reply, &cfg);
	json_decref(reply);
	free(topic);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_bootstrap_v311_unsubscribed_gets_directed_reply(void)
{
	bootstrap_without_subscribing(4);
}

static void test_bootstrap_v5_unsubscribed_gets_directed_reply(void)
{
	bootstrap_without_subscribing(5);
}

static void bootstrap_subscribed(int version)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("sub", NULL, true, &cfg, &req, NULL))
		return;
	char *topic = reply_topic(cfg.external_id);
	client_t *c = client_connect(&B, version, NULL, NULL, NULL);
	if (!CHECK(c != NULL && topic != NULL))
		goto out;
	int granted = client_subscribe(c, topic, 1);
	CHECK(granted >= 0 && granted < 0x80);
	CHECK(client_publish(c, "bootstrap/req", req, (int)strlen(req), NULL) == 0);
	it_msg_t *m = client_wait(c, IT_WAIT_MS);
	json_t *reply = msg_json(m);
	if (CHECK(m != NULL))
		CHECK_STR(m->topic, topic);
	check_success(reply, &cfg);
	json_decref(reply);
	msg_free(m);
	/* directed, not also delivered through the subscription */
	CHECK(client_expect_none(c, IT_QUIET_MS));
out:
	client_close(c);
	free(topic);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_bootstrap_v311_subscribed_gets_exactly_one_reply(void)
{
	bootstrap_subscribed(4);
}

static void test_bootstrap_v5_subscribed_gets_exactly_one_reply(void)
{
	bootstrap_subscribed(5);
}

/* ---- reply content ---------------------------------------------------- */

static void test_reply_carries_credentials_channels_and_content(void)
{
	json_t *extra = json_pack("{ss}", "content", "{\"interval\": 30}");
	boot_cfg_t cfg;
	char *req;
	bool ok = new_config("content", extra, true, &cfg, &req, NULL);
	json_decref(extra);
	if (!ok)
		return;
	json_t *reply = ask(&B, 4, NULL, req, NULL, NULL);
	check_success(reply, &cfg);
	CHECK_STR(jstr(reply, "content"), "{\"interval\": 30}");
	json_t *chans = json_object_get(reply, "channels");
	json_t *ch = json_array_get(chans, 0);
	CHECK(json_array_size(chans) == 1);
	CHECK_STR(jstr(ch, "id"), cfg.channel_id);
	CHECK(jstr(ch, "name") != NULL && strncmp(jstr(ch, "name"), "chan-", 5) == 0);
	CHECK_STR(jstr(json_object_get(ch, "metadata"), "site"), "lab");
	json_decref(reply);
	free(req);
	boot_cfg_free(&cfg);
}

/* PEM text compared without trailing white space. */
static bool same_pem(const char *got, const char *want)
{
	if (got == NULL || want == NULL)
		return false;
	size_t g = strlen(got), w = strlen(want);
	while (g > 0 && (got[g - 1] == '\n' || got[g - 1] == '\r' || got[g - 1] == ' '))
		g--;
	while (w > 0 && (want[w - 1] == '\n' || want[w - 1] == '\r' || want[w - 1] == ' '))
		w--;
	return g == w && memcmp(got, want, g) == 0;
}

static void test_reply_carries_certificates_when_set(void)
{
	if (!CHECK(cert != NULL && key != NULL && ca_cert != NULL))
		return;
	json_t *extra = json_pack("{ss ss ss}", "client_cert", cert,
			"client_key", key, "ca_cert", ca_cert);
	boot_cfg_t cfg;
	char *req;
	bool ok = new_config("certs", extra, true, &cfg, &req, NULL);
	json_decref(extra);
	if (!ok)
		return;
	json_t *reply = ask(&B, 5, NULL, req, NULL, NULL);
	check_success(reply, &cfg);
	CHECK(same_pem(jstr(reply, "client_cert"), cert));
	CHECK(same_pem(jstr(reply, "client_key"), key));
	CHECK(same_pem(jstr(reply, "ca_cert"), ca_cert));
	json_decref(reply);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_reply_leaves_out_empty_optional_fields(void)
{
	json_t *extra = json_pack("{s[] ss}", "channels", "content", "");
	boot_cfg_t cfg;
	char *req;
	bool ok = new_config("bare", extra, true, &cfg, &req, NULL);
	json_decref(extra);
	if (!ok)
		return;
	json_t *reply = ask(&B, 4, NULL, req, NULL, NULL);
	check_success(reply, &cfg);
	json_t *chans = json_object_get(reply, "channels");
	CHECK(json_is_array(chans) && json_array_size(chans) == 0);
	CHECK(json_object_get(reply, "content") == NULL);
	CHECK(json_object_get(reply, "client_cert") == NULL);
	CHECK(json_object_get(reply, "client_key") == NULL);
	CHECK(json_object_get(reply, "ca_cert") == NULL);
	CHECK(json_object_get(reply, "id") == NULL);
	json_decref(reply);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_reply_echoes_request_id(void)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("reqid", NULL, true, &cfg, &req, "r1"))
		return;
	json_t *reply = ask(&B, 4, NULL, req, NULL, NULL);
	check_success(reply, &cfg);
	CHECK_STR(jstr(reply, "id"), "r1");
	json_decref(reply);
	free(req);
	boot_cfg_free(&cfg);
}

/* ---- MQTT v5 properties ----------------------------------------------- */

static void test_v5_response_topic_honoured_and_correlation_echoed(void)
{
	static const unsigned char corr[] = { 0x01, 0x00, 'c', 'o', 'r', 'r', 0xff };
	boot_cfg_t cfg;
	char *req;
	if (!new_config("rt", NULL, true, &cfg, &req, "r2"))
		return;
	char *rt = unique_name("devices/reply");
	pub_opts_t o = { .qos = 1, .resp_topic = rt, .corr = corr,
		.corr_len = (int)sizeof corr };
	it_msg_t *m = rt != NULL
		? device_rr(&B, 5, NULL, req, (int)strlen(req), &o) : NULL;
	json_t *reply = msg_json(m);
	if (CHECK(m != NULL)) {
		CHECK_STR(m->topic, rt);
		CHECK(m->corr_len == (int)sizeof corr &&
				memcmp(m->corr, corr, sizeof corr) == 0);
	}
	check_success(reply, &cfg);
	CHECK_STR(jstr(reply, "id"), "r2");
	json_decref(reply);
	msg_free(m);
	free(rt);
	free(req);
	boot_cfg_free(&cfg);
}

static void wildcard_response_topic(const char *rt)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("wild", NULL, true, &cfg, &req, NULL))
		return;
	char *topic = reply_topic(cfg.external_id);
	pub_opts_t o = { .resp_topic = rt, .corr = "x", .corr_len = 1 };
	json_t *reply = ask(&B, 5, NULL, req, &o, topic);
	check_error(reply, "invalid_request");
	json_decref(reply);
	free(topic);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_v5_wildcard_response_topic_gets_invalid_request(void)
{
	wildcard_response_topic("devices/+/reply");
	wildcard_response_topic("devices/#");
}

/* ---- failures --------------------------------------------------------- */

static json_t *without_id(json_t *reply)
{
	if (reply != NULL)
		json_object_del(reply, "id");
	return reply;
}

static void test_unknown_id_and_wrong_key_are_indistinguishable(void)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("known", NULL, true, &cfg, &req, NULL))
		return;
	char *unknown_id = unique_name("nobody");
	char *r1 = boot_request(unknown_id, "wrong-key-123456", "a");
	char *r2 = boot_request(cfg.external_id, "wrong-key-123456", "b");
	json_t *a = NULL, *b = NULL;
	if (CHECK(r1 != NULL && r2 != NULL)) {
		a = without_id(ask(&B, 4, NULL, r1, NULL, NULL));
		b = without_id(ask(&B, 4, NULL, r2, NULL, NULL));
	}
	check_error(a, "unauthorized");
	check_error(b, "unauthorized");
	CHECK(a != NULL && b != NULL && json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(r1);
	free(r2);
	free(unknown_id);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_disabled_config_gets_disabled(void)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("off", NULL, false, &cfg, &req, "d1"))
		return;
	json_t *reply = ask(&B, 4, NULL, req, NULL, NULL);
	check_error(reply, "disabled");
	CHECK_STR(jstr(reply, "id"), "d1");
	json_t *after = admin_get_config(&B, "client_id", cfg.client_id);
	CHECK_STR(jstr(after, "state"), "disabled");
	CHECK(json_is_null(json_object_get(after, "last_bootstrap_at")));
	json_decref(after);
	json_decref(reply);
	free(req);
	boot_cfg_free(&cfg);
}

static void invalid(const char *payload, const char *want_topic)
{
	json_t *reply = ask(&B, 4, NULL, payload, NULL, want_topic);
	check_error(reply, "invalid_request");
	json_decref(reply);
}

static char *big_request(void)
{
	char *s = malloc(BIG_PAYLOAD + 1);
	if (s == NULL)
		return NULL;
	static const char head[] = "{\"external_id\":\"big\",\"external_key\":\"";
	memset(s, 'k', BIG_PAYLOAD);
	memcpy(s, head, sizeof head - 1);
	memcpy(s + BIG_PAYLOAD - 2, "\"}", 2);
	s[BIG_PAYLOAD] = '\0';
	return s;
}

static void test_malformed_requests_get_invalid_request(void)
{
	char *ext = unique_name("nokey");
	char *nokey = NULL;
	if (ext != NULL) {
		json_t *o = json_pack("{ss}", "external_id", ext);
		nokey = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
	}
	char *topic = ext != NULL ? reply_topic(ext) : NULL;
	char *big = big_request();
	invalid("this is not json", "bootstrap/res");
	invalid("[\"external_id\", \"external_key\"]", "bootstrap/res");
	invalid("{\"external_id\": 42, \"external_key\": \"0123456789\"}",
			"bootstrap/res");
	if (CHECK(nokey != NULL && topic != NULL))
		invalid(nokey, topic);
	if (CHECK(big != NULL))
		invalid(big, NULL);
	CHECK(broker_alive(&B));
	free(big);
	free(topic);
	free(nokey);
	free(ext);
}

static void test_qos1_v5_request_gets_success_puback(void)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("qos1", NULL, true, &cfg, &req, NULL))
		return;
	client_t *c = client_connect(&B, 5, NULL, NULL, NULL);
	if (CHECK(c != NULL)) {
		pub_opts_t o = { .qos = 1 };
		int reason = client_publish(c, "bootstrap/req", req, (int)strlen(req), &o);
		CHECK(reason >= 0 && reason < 0x80);
		it_msg_t *m = client_wait(c, IT_WAIT_MS);
		json_t *reply = msg_json(m);
		if (CHECK(m != NULL))
			CHECK(m->qos == 1);
		check_success(reply, &cfg);
		json_decref(reply);
		msg_free(m);
	}
	client_close(c);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_bootstrap_sets_last_bootstrap_at_and_keeps_state(void)
{
	boot_cfg_t cfg;
	char *req;
	if (!new_config("last", NULL, true, &cfg, &req, NULL))
		return;
	json_t *before = admin_get_config(&B, "client_id", cfg.client_id);
	CHECK(json_is_null(json_object_get(before, "last_bootstrap_at")));
	json_t *reply = ask(&B, 4, NULL, req, NULL, NULL);
	check_success(reply, &cfg);
	json_t *after = admin_get_config(&B, "client_id", cfg.client_id);
	CHECK(json_is_string(json_object_get(after, "last_bootstrap_at")));
	CHECK_STR(jstr(after, "state"), "enabled");
	json_decref(after);
	json_decref(reply);
	json_decref(before);
	free(req);
	boot_cfg_free(&cfg);
}

/* ---- the request is consumed (acl_default allow) ---------------------- */

static bool make_allow_config(const char *prefix, boot_cfg_t *cfg, char **req)
{
	char *ext = unique_name(prefix);
	bool ok = ext != NULL && make_config(&A, ext, NULL, true, cfg) == 0;
	free(ext);
	*req = ok ? boot_request(cfg->external_id, cfg->external_key, NULL) : NULL;
	return CHECK(ok && *req != NULL);
}

/* A spy subscribed to filters; a $-filter may be refused. */
static client_t *spy(const broker_t *b, const char *const *filters, size_t n)
{
	client_t *c = client_connect(b, 5, NULL, NULL, NULL);
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int g = client_subscribe(c, filters[i], 1);
		if (filters[i][0] != '$')
			CHECK(g >= 0 && g < 0x80);
	}
	return c;
}

/* The spy does hear ordinary traffic, so its silence means something. */
static void check_spy_hears(const broker_t *b, client_t *s)
{
	static const char topic[] = "it/control";
	client_t *p = client_connect(b, 4, NULL, NULL, NULL);
	if (CHECK(p != NULL))
		CHECK(client_publish(p, topic, "ping", 4, NULL) == 0);
	it_msg_t *m = client_wait(s, IT_WAIT_MS);
	if (CHECK(m != NULL))
		CHECK_STR(m->topic, topic);
	msg_free(m);
	client_close(p);
}

static void test_wildcard_subscriber_sees_neither_request_nor_reply(void)
{
	static const char *const filters[] = { "#", "$bootstrap/#" };
	boot_cfg_t cfg;
	char *req;
	if (!make_allow_config("spied", &cfg, &req))
		return;
	client_t *s = spy(&A, filters, 2);
	if (CHECK(s != NULL)) {
		pub_opts_t o = { .qos = 1 };
		json_t *reply = ask(&A, 5, NULL, req, &o, NULL);
		check_success(reply, &cfg);
		json_decref(reply);
		CHECK(client_expect_none(s, IT_QUIET_MS));
		check_spy_hears(&A, s);
	}
	client_close(s);
	free(req);
	boot_cfg_free(&cfg);
}

static void test_publishing_to_reply_topic_is_refused(void)
{
	static const char *const filters[] = { "bootstrap/res/#" };
	static const char fake[] = "{\"client_id\":\"evil\",\"client_secret\":\"x\"}";
	client_t *s = spy(&A, filters, 1);
	client_t *c = client_connect(&A, 5, NULL, NULL, NULL);
	client_t *old = client_connect(&A, 4, NULL, NULL, NULL);
	if (CHECK(s != NULL && c != NULL && old != NULL)) {
		pub_opts_t o = { .qos = 1 };
		CHECK(client_publish(c, "bootstrap/res/x", fake, (int)strlen(fake),
					&o) == 0x87);
		CHECK(client_publish(old, "bootstrap/res/x", fake, (int)strlen(fake),
					NULL) == 0);
		CHECK(client_expect_none(s, IT_QUIET_MS));
	}
	client_close(old);
	client_close(c);
	client_close(s);
}

static void test_retained_request_leaves_nothing_retained(void)
{
	static const char *const filters[] = { "#", "bootstrap/#" };
	boot_cfg_t cfg;
	char *req;
	if (!make_allow_config("retained", &cfg, &req))
		return;
	pub_opts_t o = { .qos = 1, .retain = true };
	json_t *reply = ask(&A, 4, NULL, req, &o, NULL);
	check_success(reply, &cfg);
	json_decref(reply);
	client_t *s = spy(&A, filters, 2);
	if (CHECK(s != NULL)) {
		CHECK(client_expect_none(s, IT_QUIET_MS));
		check_spy_hears(&A, s);
	}
	client_close(s);
	free(req);
	boot_cfg_free(&cfg);
}

static const cu_test_t device_tests[] = {
	{ "bootstrap_v311_unsubscribed_gets_directed_reply",
		test_bootstrap_v311_unsubscribed_gets_directed_reply },
	{ "bootstrap_v5_unsubscribed_gets_directed_reply",
		test_bootstrap_v5_unsubscribed_gets_directed_reply },
	{ "bootstrap_v311_subscribed_gets_exactly_one_reply",
		test_bootstrap_v311_subscribed_gets_exactly_one_reply },
	{ "bootstrap_v5_subscribed_gets_exactly_one_reply",
		test_bootstrap_v5_subscribed_gets_exactly_one_reply },
	{ "reply_carries_credentials_channels_and_content",
		test_reply_carries_credentials_channels_and_content },
	{ "reply_carries_certificates_when_set",
		test_reply_carries_certificates_when_set },
	{ "reply_leaves_out_empty_optional_fields",
		test_reply_leaves_out_empty_optional_fields },
	{ "reply_echoes_request_id", test_reply_echoes_request_id },
	{ "v5_response_topic_honoured_and_correlation_echoed",
		test_v5_response_topic_honoured_and_correlation_echoed },
	{ "v5_wildcard_response_topic_gets_invalid_request",
		test_v5_wildcard_response_topic_gets_invalid_request },
	{ "unknown_id_and_wrong_key_are_indistinguishable",
		test_unknown_id_and_wrong_key_are_indistinguishable },
	{ "disabled_config_gets_disabled", test_disabled_config_gets_disabled },
	{ "malformed_requests_get_invalid_request",
		test_malformed_requests_get_invalid_request },
	{ "qos1_v5_request_gets_success_puback",
		test_qos1_v5_request_gets_success_puback },
	{ "bootstrap_sets_last_bootstrap_at_and_keeps_state",
		test_bootstrap_sets_last_bootstrap_at_and_keeps_state },
	{ NULL, NULL },
};

static const cu_test_t consumed_tests[] = {
	{ "wildcard_subscriber_sees_neither_request_nor_reply",
		test_wildcard_subscriber_sees_neither_request_nor_reply },
	{ "publishing_to_reply_topic_is_refused",
		test_publishing_to_reply_topic_is_refused },
	{ "retained_request_leaves_nothing_retained",
		test_retained_request_leaves_nothing_retained },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("device", suite_init, suite_clean, device_tests);
	cu_add_suite("device_request_consumed", allow_init, allow_clean,
			consumed_tests);
	return cu_run("test_device");
}
