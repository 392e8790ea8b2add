#include "model.h"

#include "crypto.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bs_channel_clear(bs_channel_t *ch)
{
	free(ch->id);
	free(ch->name);
	free(ch->metadata);
	memset(ch, 0, sizeof(*ch));
}

static void free_secret(char *s)
{
	if (s != NULL)
		bs_crypto_free_secret(s, strlen(s));
}

void bs_config_clear(bs_config_t *cfg)
{
	free(cfg->client_id);
	free_secret(cfg->client_secret);
	free(cfg->name);
	free(cfg->external_id);
	free_secret(cfg->external_key);
	free(cfg->content);
	free(cfg->client_cert);
	free_secret(cfg->client_key);
	free(cfg->ca_cert);
	for (size_t i = 0; i < cfg->nchannels; i++)
		bs_channel_clear(&cfg->channels[i]);
	free(cfg->channels);
	memset(cfg, 0, sizeof(*cfg));
}

void bs_time_format(time_t now, char out[BS_TIME_LEN])
{
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL
			|| strftime(out, BS_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, BS_TIME_LEN, "1970-01-01T00:00:00Z");
}

static int has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	}
	return 0;
}

static int fail(char *err, size_t errlen, const char *field, const char *why)
{
	snprintf(err, errlen, "%s: %s", field, why);
	return BS_ERR_INVALID;
}

int bs_valid_id(const char *field, const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len == 0 || len > BS_ID_MAX)
		return fail(err, errlen, field, "must be 1 to 256 bytes");
	if (strpbrk(s, "/+#") != NULL || has_control(s))
		return fail(err, errlen, field,
				"must not contain '/', '+', '#' or control characters");
	return BS_OK;
}

int bs_valid_external_id(const char *s, char *err, size_t errlen)
{
	return bs_valid_id("external_id", s, err, errlen);
}

int bs_valid_external_key(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len < BS_KEY_MIN || len > BS_KEY_MAX)
		return fail(err, errlen, "external_key", "must be 8 to 256 bytes");
	return BS_OK;
}

int bs_valid_text(const char *field, const char *s, size_t max,
		char *err, size_t errlen)
{
	char why[64];

	if (strlen(s) > max) {
		snprintf(why, sizeof(why), "must be at most %zu bytes", max);
		return fail(err, errlen, field, why);
	}
	return BS_OK;
}

/* Length of the UTF-8 sequence at p (well-formed, no surrogates, no
 * overlongs), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		unsigned lo = p[0] == 0xe0 ? 0xa0 : 0x80;
		unsigned hi = p[0] == 0xed ? 0x9f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		unsigned lo = p[0] == 0xf0 ? 0x90 : 0x80;
		unsigned hi = p[0] == 0xf4 ? 0x8f : 0xbf;
		if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80
				|| (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

int bs_valid_topic_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);

	if (len == 0 || len > 65535)
		return 0;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n == 0 || *p == '+' || *p == '#')
			return 0;
		p += n;
	}
	return 1;
}

json_t *bs_channel_json(const bs_channel_t *ch)
{
	json_t *meta = json_loads(ch->metadata ? ch->metadata : "{}", 0, NULL);

	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	return json_pack("{s:s, s:s, s:o}", "id", ch->id, "name", ch->name,
			"metadata", meta);
}

static json_t *channels_json(const bs_config_t *cfg)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < cfg->nchannels; i++) {
		if (json_array_append_new(arr, bs_channel_json(&cfg->channels[i]))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *bs_config_admin_json(const bs_config_t *cfg)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:b, s:s, s:s, s:s, s:o}",
			"client_id", cfg->client_id,
			"client_secret", cfg->client_secret ? cfg->client_secret : "",
			"name", cfg->name ? cfg->name : "",
			"external_id", cfg->external_id,
			"channels", channels_json(cfg),
			"content", cfg->content ? cfg->content : "",
			"client_cert", string_or_null(cfg->client_cert),
			"ca_cert", string_or_null(cfg->ca_cert),
			"has_client_key", cfg->has_client_key,
			"state", cfg->enabled ? "enabled" : "disabled",
			"created_at", cfg->created_at,
			"updated_at", cfg->updated_at,
			"last_bootstrap_at", cfg->last_bootstrap_at[0]
				? json_string(cfg->last_bootstrap_at) : json_null());
}

/* Adds key: s to obj when s is set and not empty. */
static int set_optional(json_t *obj, const char *key, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return 0;
	return json_object_set_new(obj, key, json_string(s));
}

json_t *bs_config_device_json(const bs_config_t *cfg)
{
	json_t *obj = json_pack("{s:s, s:s, s:o}",
			"client_id", cfg->client_id,
			"client_secret", cfg->client_secret ? cfg->client_secret : "",
			"channels", channels_json(cfg));

	if (obj == NULL)
		return NULL;
	if (set_optional(obj, "content", cfg->content)
			|| set_optional(obj, "client_cert", cfg->client_cert)
			|| set_optional(obj, "client_key", cfg->client_key)
			|| set_optional(obj, "ca_cert", cfg->ca_cert)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}
