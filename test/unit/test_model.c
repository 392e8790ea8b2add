/*
 * Unit tests of lib/model.c: the validation rules of protocol section 2,
 * topic names, the time format and the JSON views of channels and configs.
 */
#include "cu_main.h"
#include "error.h"
#include "model.h"

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}
#define SECRET_KEY "external-key-never-shown"
#define SECRET_CLIENT_KEY "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"

static char err[256];

/* ---- helpers ------------------------------------------------------------ */

/* A malloc()ed string of n copies of c. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	CU_ASSERT_FATAL(s != NULL);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Checks f(field, s) against want, and that a refusal names the field. */
static void check_id(const char *s, int want)
{
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_valid_id("thing", s, err, sizeof err), want);
	if (want != BS_OK)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "thing"));
}

static void check_external_id(const char *s, int want)
{
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_valid_external_id(s, err, sizeof err), want);
	if (want != BS_OK)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "external_id"));
}

static void check_key(const char *s, int want)
{
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_valid_external_key(s, err, sizeof err), want);
	if (want != BS_OK) {
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "external_key"));
		/* The refusal never quotes the key it refused. */
		if (strlen(s) >= BS_KEY_MIN)
			CU_ASSERT_PTR_NULL(strstr(err, s));
	}
}

/* Both id checks on a length of n bytes of 'a'. */
static void check_id_len(size_t n, int want)
{
	char *s = repeat('a', n);

	check_id(s, want);
	check_external_id(s, want);
	free(s);
}

static void check_key_len(size_t n, int want)
{
	char *s = repeat('k', n);

	check_key(s, want);
	free(s);
}

static char *dup_str(const char *s)
{
	char *copy = s ? strdup(s) : NULL;

	CU_ASSERT_FATAL(s == NULL || copy != NULL);
	return copy;
}

static void fill_channel(bs_channel_t *ch, const char *id, const char *name,
		const char *meta)
{
	ch->id = dup_str(id);
	ch->name = dup_str(name);
	ch->metadata = dup_str(meta);
}

/* A config with every field set, secrets included. */
static void fill_config(bs_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->client_id = dup_str("cid-1");
	cfg->client_secret = dup_str("client-secret-value");
	cfg->name = dup_str("thermostat");
	cfg->external_id = dup_str("00:1A:2B:3C:4D:5E");
	cfg->external_key = dup_str(SECRET_KEY);
	cfg->content = dup_str("{\"interval\": 30}");
	cfg->client_cert = dup_str("CERT");
	cfg->client_key = dup_str(SECRET_CLIENT_KEY);
	cfg->ca_cert = dup_str("CA");
	cfg->has_client_key = 1;
	cfg->enabled = 1;
	bs_time_format(1000000000, cfg->created_at);
	bs_time_format(1000000001, cfg->updated_at);
	cfg->channels = calloc(2, sizeof(bs_channel_t));
	CU_ASSERT_FATAL(cfg->channels != NULL);
	fill_channel(&cfg->channels[0], "c1", "telemetry", "{\"unit\":\"C\"}");
	fill_channel(&cfg->channels[1], "c2", "commands", NULL);
	cfg->nchannels = 2;
}

/* A config with only what is required: no optional field set. */
static void fill_bare_config(bs_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->client_id = dup_str("cid-2");
	cfg->client_secret = dup_str("s2");
	cfg->name = dup_str("");
	cfg->external_id = dup_str("dev-2");
	cfg->content = dup_str("");
	bs_time_format(0, cfg->created_at);
	bs_time_format(0, cfg->updated_at);
}

static int has_key(json_t *obj, const char *key)
{
	return json_object_get(obj, key) != NULL;
}

static const char *str_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* 1 when the compact text of j contains needle. */
static int text_has(json_t *j, const char *needle)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int found;

	CU_ASSERT_FATAL(text != NULL);
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

/* ---- ids ---------------------------------------------------------------- */

static void test_id_length_boundaries(void)
{
	check_id_len(1, BS_OK);
	check_id_len(256, BS_OK);
	check_id_len(0, BS_ERR_INVALID);
	check_id_len(257, BS_ERR_INVALID);
}

static void test_id_refuses_topic_characters(void)
{
	static const char *bad[] = { "a/b", "/", "a+", "+", "a#", "#", "x/+/#" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_id(bad[i], BS_ERR_INVALID);
		check_external_id(bad[i], BS_ERR_INVALID);
	}
}

static void test_id_refuses_control_characters_and_del(void)
{
	static const char *bad[] = { "a\x01", "\tab", "a\nb", "a\rb", "a\x1f",
		"a\x7f", "\x1b[2J" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_id(bad[i], BS_ERR_INVALID);
		check_external_id(bad[i], BS_ERR_INVALID);
	}
}

static void test_id_accepts_ordinary_text(void)
{
	static const char *good[] = { "00:1A:2B:3C:4D:5E", "a b", "x' OR '1'='1",
		"dev-\xc3\xa9t\xc3\xa9", "$sys", "a.b_c-d", "\xe2\x82\xac" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		check_id(good[i], BS_OK);
		check_external_id(good[i], BS_OK);
	}
}

static void test_id_256_multibyte_bytes_ok_257_refused(void)
{
	/* 128 two-byte characters are 256 bytes; the limit is in bytes. */
	char s[258];

	for (size_t i = 0; i < 256; i += 2) {
		s[i] = (char)0xc3;
		s[i + 1] = (char)0xa9;
	}
	s[256] = '\0';
	check_external_id(s, BS_OK);
	s[256] = 'a';
	s[257] = '\0';
	check_external_id(s, BS_ERR_INVALID);
}

/* ---- external key ------------------------------------------------------- */

static void test_external_key_length_boundaries(void)
{
	check_key_len(8, BS_OK);
	check_key_len(256, BS_OK);
	check_key_len(0, BS_ERR_INVALID);
	check_key_len(1, BS_ERR_INVALID);
	check_key_len(7, BS_ERR_INVALID);
	check_key_len(257, BS_ERR_INVALID);
}

static void test_external_key_allows_any_characters(void)
{
	check_key("s3cret/+#-key", BS_OK);
	check_key("x' OR '1'='1", BS_OK);
}

/* ---- text --------------------------------------------------------------- */

static void test_text_boundaries(void)
{
	char *at = repeat('t', 256), *over = repeat('t', 257);

	CU_ASSERT_EQUAL(bs_valid_text("name", "", 256, err, sizeof err), BS_OK);
	CU_ASSERT_EQUAL(bs_valid_text("name", "a", 256, err, sizeof err), BS_OK);
	CU_ASSERT_EQUAL(bs_valid_text("name", at, 256, err, sizeof err), BS_OK);
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_valid_text("name", over, 256, err, sizeof err),
			BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "name"));
	free(at);
	free(over);
}

static void test_text_content_limit(void)
{
	char *at = repeat('c', BS_CONTENT_MAX), *over = repeat('c', BS_CONTENT_MAX + 1);

	CU_ASSERT_EQUAL(bs_valid_text("content", at, BS_CONTENT_MAX, err,
				sizeof err), BS_OK);
	CU_ASSERT_EQUAL(bs_valid_text("content", over, BS_CONTENT_MAX, err,
				sizeof err), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "content"));
	free(at);
	free(over);
}

static void test_error_message_fits_small_buffer(void)
{
	char small[8];

	memset(small, 'x', sizeof small);
	CU_ASSERT_EQUAL(bs_valid_id("a-long-field-name", "", small, sizeof small),
			BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(memchr(small, '\0', sizeof small));
}

/* ---- topic names -------------------------------------------------------- */

static void test_topic_name_length_boundaries(void)
{
	char *max = repeat('t', 65535), *over = repeat('t', 65536);

	CU_ASSERT_TRUE(bs_valid_topic_name("a"));
	CU_ASSERT_TRUE(bs_valid_topic_name(max));
	CU_ASSERT_FALSE(bs_valid_topic_name(""));
	CU_ASSERT_FALSE(bs_valid_topic_name(over));
	free(max);
	free(over);
}

static void test_topic_name_levels_ok(void)
{
	CU_ASSERT_TRUE(bs_valid_topic_name("bootstrap/res/dev-1"));
	CU_ASSERT_TRUE(bs_valid_topic_name("/"));
	CU_ASSERT_TRUE(bs_valid_topic_name("a//b"));
	CU_ASSERT_TRUE(bs_valid_topic_name("/leading/and/trailing/"));
	CU_ASSERT_TRUE(bs_valid_topic_name("$SYS/x"));
	CU_ASSERT_TRUE(bs_valid_topic_name("a b"));
}

static void test_topic_name_refuses_wildcards(void)
{
	CU_ASSERT_FALSE(bs_valid_topic_name("+"));
	CU_ASSERT_FALSE(bs_valid_topic_name("#"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a/+"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a/#"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a/+/b"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a+b"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a#b"));
}

/* MQTT 5 1.5.4: control characters SHOULD NOT be in a topic; the broker's
 * UTF-8 check refuses them, so a reply could not be published there. */
static void test_topic_name_refuses_control_characters_and_del(void)
{
	CU_ASSERT_FALSE(bs_valid_topic_name("a\x01"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a\nb"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a\x1f"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a\x7f"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a\xc2\x85"));   /* U+0085 (C1) */
}

static void test_topic_name_accepts_multibyte_utf8(void)
{
	CU_ASSERT_TRUE(bs_valid_topic_name("caf\xc3\xa9"));            /* 2 bytes */
	CU_ASSERT_TRUE(bs_valid_topic_name("\xe2\x82\xac/price"));     /* 3 bytes */
	CU_ASSERT_TRUE(bs_valid_topic_name("\xed\x9f\xbf"));           /* U+D7FF */
	CU_ASSERT_TRUE(bs_valid_topic_name("\xee\x80\x80"));           /* U+E000 */
	CU_ASSERT_TRUE(bs_valid_topic_name("a/\xf0\x9f\x98\x80"));     /* 4 bytes */
	CU_ASSERT_TRUE(bs_valid_topic_name("\xf4\x8f\xbf\xbd"));       /* U+10FFFD */
}

static void test_topic_name_refuses_overlong_sequences(void)
{
	CU_ASSERT_FALSE(bs_valid_topic_name("\xc0\xaf"));              /* '/' */
	CU_ASSERT_FALSE(bs_valid_topic_name("\xc1\xbf"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xe0\x80\xaf"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xe0\x9f\xbf"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xf0\x80\x80\xaf"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xf0\x8f\xbf\xbf"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a\xc0\xa3"));             /* '#' */
}

static void test_topic_name_refuses_surrogates_and_out_of_range(void)
{
	CU_ASSERT_FALSE(bs_valid_topic_name("\xed\xa0\x80"));          /* U+D800 */
	CU_ASSERT_FALSE(bs_valid_topic_name("\xed\xbf\xbf"));          /* U+DFFF */
	CU_ASSERT_FALSE(bs_valid_topic_name("\xf4\x90\x80\x80"));      /* > U+10FFFF */
	CU_ASSERT_FALSE(bs_valid_topic_name("\xf5\x80\x80\x80"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xff"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xfe"));
}

static void test_topic_name_refuses_truncated_sequences(void)
{
	CU_ASSERT_FALSE(bs_valid_topic_name("\xc3"));
	CU_ASSERT_FALSE(bs_valid_topic_name("a\xe2\x82"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xe2\x82/a"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xf0\x9f\x98"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xf0\x9f"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\x80"));                  /* lone continuation */
	CU_ASSERT_FALSE(bs_valid_topic_name("a\xbf" "b"));
	CU_ASSERT_FALSE(bs_valid_topic_name("\xc3\xa9\xa9"));
}

/* ---- time --------------------------------------------------------------- */

static void test_time_format_rfc3339_utc(void)
{
	char out[BS_TIME_LEN];

	bs_time_format(0, out);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01T00:00:00Z");
	bs_time_format(1000000000, out);
	CU_ASSERT_STRING_EQUAL(out, "2001-09-09T01:46:40Z");
	bs_time_format(1767323045, out);
	CU_ASSERT_STRING_EQUAL(out, "2026-01-02T03:04:05Z");
	bs_time_format(951782400, out);                 /* a leap day */
	CU_ASSERT_STRING_EQUAL(out, "2000-02-29T00:00:00Z");
}

static void test_time_format_fills_exactly(void)
{
	char out[BS_TIME_LEN + 4];

	memset(out, '!', sizeof out);
	bs_time_format(1700000000, out);
	CU_ASSERT_EQUAL(strlen(out), BS_TIME_LEN - 1);
	CU_ASSERT_EQUAL(out[BS_TIME_LEN], '!');
	CU_ASSERT_EQUAL(out[4], '-');
	CU_ASSERT_EQUAL(out[10], 'T');
	CU_ASSERT_EQUAL(out[19], 'Z');
}

/* ---- JSON views --------------------------------------------------------- */

static void test_channel_json(void)
{
	bs_channel_t ch = { 0 };
	json_t *j;

	fill_channel(&ch, "c1", "telemetry", "{\"unit\":\"C\",\"n\":[1,2]}");
	j = bs_channel_json(&ch);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_STRING_EQUAL(str_at(j, "id"), "c1");
	CU_ASSERT_STRING_EQUAL(str_at(j, "name"), "telemetry");
	CU_ASSERT_TRUE(json_is_object(json_object_get(j, "metadata")));
	CU_ASSERT_STRING_EQUAL(str_at(json_object_get(j, "metadata"), "unit"), "C");
	CU_ASSERT_EQUAL(json_object_size(j), 3);
	json_decref(j);
	bs_channel_clear(&ch);
	CU_ASSERT_PTR_NULL(ch.id);
}

static void test_channel_json_metadata_always_object(void)
{
	static const char *metas[] = { NULL, "", "[1]", "not json", "\"s\"" };

	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
		bs_channel_t ch = { 0 };
		fill_channel(&ch, "c", "n", metas[i]);
		json_t *j = bs_channel_json(&ch);
		CU_ASSERT(json_is_object(json_object_get(j, "metadata")));
		CU_ASSERT_EQUAL(json_object_size(json_object_get(j, "metadata")), 0);
		json_decref(j);
		bs_channel_clear(&ch);
	}
}

/* The admin view of cfg, parsed back (NULL when it is not JSON). */
static json_t *admin_json(const bs_config_t *cfg, const char *external_key)
{
	size_t len;
	char *text = bs_config_admin_text(cfg, external_key, &len);
	json_t *j = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;

	free(text);
	return j;
}

static void test_admin_json_never_has_secrets(void)
{
	bs_config_t cfg;
	json_t *j;

	fill_config(&cfg);
	j = admin_json(&cfg, NULL);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_FALSE(has_key(j, "external_key"));
	CU_ASSERT_FALSE(has_key(j, "client_key"));
	CU_ASSERT_TRUE(json_is_true(json_object_get(j, "has_client_key")));
	CU_ASSERT_FALSE(text_has(j, SECRET_KEY));
	CU_ASSERT_FALSE(text_has(j, "secret\\n"));
	json_decref(j);
	bs_config_clear(&cfg);
}

static void test_admin_json_fields(void)
{
	bs_config_t cfg;
	json_t *j, *chans;

	fill_config(&cfg);
	j = admin_json(&cfg, NULL);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_id"), "cid-1");
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_secret"), "client-secret-value");
	CU_ASSERT_STRING_EQUAL(str_at(j, "name"), "thermostat");
	CU_ASSERT_STRING_EQUAL(str_at(j, "external_id"), "00:1A:2B:3C:4D:5E");
	CU_ASSERT_STRING_EQUAL(str_at(j, "content"), "{\"interval\": 30}");
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_cert"), "CERT");
	CU_ASSERT_STRING_EQUAL(str_at(j, "ca_cert"), "CA");
	CU_ASSERT_STRING_EQUAL(str_at(j, "state"), "enabled");
	CU_ASSERT_STRING_EQUAL(str_at(j, "created_at"), "2001-09-09T01:46:40Z");
	CU_ASSERT_STRING_EQUAL(str_at(j, "updated_at"), "2001-09-09T01:46:41Z");
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "last_bootstrap_at")));
	chans = json_object_get(j, "channels");
	CU_ASSERT_FATAL(json_is_array(chans) && json_array_size(chans) == 2);
	CU_ASSERT_STRING_EQUAL(str_at(json_array_get(chans, 1), "id"), "c2");
	json_decref(j);
	bs_config_clear(&cfg);
}

static void test_admin_json_bare_config(void)
{
	bs_config_t cfg;
	json_t *j;

	fill_bare_config(&cfg);
	bs_time_format(1000000000, cfg.last_bootstrap_at);
	j = admin_json(&cfg, NULL);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_STRING_EQUAL(str_at(j, "state"), "disabled");
	CU_ASSERT_TRUE(json_is_false(json_object_get(j, "has_client_key")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "client_cert")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(j, "ca_cert")));
	CU_ASSERT_TRUE(json_is_array(json_object_get(j, "channels")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "channels")), 0);
	CU_ASSERT_STRING_EQUAL(str_at(j, "last_bootstrap_at"), "2001-09-09T01:46:40Z");
	CU_ASSERT_FALSE(has_key(j, "external_key"));
	CU_ASSERT_FALSE(has_key(j, "client_key"));
	json_decref(j);
	/* A just-set external_key is shown when given, and only then. */
	j = admin_json(&cfg, "key \"one\"\n");
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_STRING_EQUAL(str_at(j, "external_key"), "key \"one\"\n");
	json_decref(j);
	bs_config_clear(&cfg);
}


/* The device reply as text, parsed back: what a device would read. */
static json_t *device_reply_json(const bs_config_t *cfg)
{
	size_t len = 0;
	char *text = bs_config_device_reply(cfg, NULL, &len);
	json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;

	CU_ASSERT(text != NULL && strlen(text) == len);
	free(text);
	return j;
}

static void test_device_json_full(void)
{
	bs_config_t cfg;
	json_t *j, *ch;

	fill_config(&cfg);
	j = device_reply_json(&cfg);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_id"), "cid-1");
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_secret"), "client-secret-value");
	CU_ASSERT_STRING_EQUAL(str_at(j, "content"), "{\"interval\": 30}");
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_cert"), "CERT");
	CU_ASSERT_STRING_EQUAL(str_at(j, "client_key"), SECRET_CLIENT_KEY);
	CU_ASSERT_STRING_EQUAL(str_at(j, "ca_cert"), "CA");
	ch = json_array_get(json_object_get(j, "channels"), 0);
	CU_ASSERT_STRING_EQUAL(str_at(ch, "id"), "c1");
	CU_ASSERT_STRING_EQUAL(str_at(ch, "name"), "telemetry");
	CU_ASSERT_TRUE(json_is_object(json_object_get(ch, "metadata")));
	CU_ASSERT_FALSE(has_key(j, "external_key"));
	CU_ASSERT_FALSE(has_key(j, "external_id"));
	CU_ASSERT_FALSE(text_has(j, SECRET_KEY));
	CU_ASSERT_EQUAL(json_object_size(j), 7);
	json_decref(j);
	bs_config_clear(&cfg);
}

static void test_device_json_leaves_out_empty_fields(void)
{
	bs_config_t cfg;
	json_t *j;

	fill_bare_config(&cfg);
	cfg.client_cert = dup_str("");
	cfg.client_key = dup_str("");
	j = device_reply_json(&cfg);
	CU_ASSERT_FATAL(json_is_object(j));
	CU_ASSERT_FALSE(has_key(j, "content"));
	CU_ASSERT_FALSE(has_key(j, "client_cert"));
	CU_ASSERT_FALSE(has_key(j, "client_key"));
	CU_ASSERT_FALSE(has_key(j, "ca_cert"));
	CU_ASSERT_TRUE(json_is_array(json_object_get(j, "channels")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "channels")), 0);
	CU_ASSERT_EQUAL(json_object_size(j), 3);
	json_decref(j);
	bs_config_clear(&cfg);
}

static void test_config_clear_zeroes(void)
{
	bs_config_t cfg, zero;

	fill_config(&cfg);
	bs_config_clear(&cfg);
	memset(&zero, 0, sizeof zero);
	CU_ASSERT_EQUAL(memcmp(&cfg, &zero, sizeof cfg), 0);
	bs_config_clear(&cfg);          /* a cleared struct can be cleared again */
}

int main(void)
{
	static const cu_test_t id_tests[] = {
		T(test_id_length_boundaries),
		T(test_id_refuses_topic_characters),
		T(test_id_refuses_control_characters_and_del),
		T(test_id_accepts_ordinary_text),
		T(test_id_256_multibyte_bytes_ok_257_refused),
		T(test_external_key_length_boundaries),
		T(test_external_key_allows_any_characters),
		T(test_text_boundaries),
		T(test_text_content_limit),
		T(test_error_message_fits_small_buffer),
		{ NULL, NULL }
	};
	static const cu_test_t topic_tests[] = {
		T(test_topic_name_length_boundaries),
		T(test_topic_name_levels_ok),
		T(test_topic_name_refuses_wildcards),
		T(test_topic_name_refuses_control_characters_and_del),
		T(test_topic_name_accepts_multibyte_utf8),
		T(test_topic_name_refuses_overlong_sequences),
		T(test_topic_name_refuses_surrogates_and_out_of_range),
		T(test_topic_name_refuses_truncated_sequences),
		{ NULL, NULL }
	};
	static const cu_test_t view_tests[] = {
		T(test_time_format_rfc3339_utc),
		T(test_time_format_fills_exactly),
		T(test_channel_json),
		T(test_channel_json_metadata_always_object),
		T(test_admin_json_never_has_secrets),
		T(test_admin_json_fields),
		T(test_admin_json_bare_config),
		T(test_device_json_full),
		T(test_device_json_leaves_out_empty_fields),
		T(test_config_clear_zeroes),
		{ NULL, NULL }
	};

	cu_add_suite("validation", NULL, NULL, id_tests);
	cu_add_suite("topic names", NULL, NULL, topic_tests);
	cu_add_suite("views", NULL, NULL, view_tests);
	return cu_run("model");
}
