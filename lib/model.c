#include "model.h"

#include "crypto.h"
#include "error.h"
#include "jsonw.h"

#include <stdint.h>
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
	free(cfg->channel_ids);
	free(cfg->profile);
	free(cfg->vars);
	free(cfg->group);
	memset(cfg, 0, sizeof(*cfg));
}

void bs_time_format(time_t now, char out[BS_TIME_LEN])
{
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL
			|| strftime(out, BS_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, BS_TIME_LEN, "1970-01-01T00:00:00Z");
}

/* n decimal digits at *p, moved past; -1 when they are not there. */
static int digits_at(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* Z, or +HH:MM / -HH:MM: the offset east of UTC in seconds, or -1 (a
 * malformed one; never a real offset, which are whole minutes). */
static long zone_offset(const char **p)
{
	int sign, h, m;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -1;
	sign = *(*p)++ == '-' ? -1 : 1;
	if ((h = digits_at(p, 2)) < 0 || h > 23 || *(*p)++ != ':'
			|| (m = digits_at(p, 2)) < 0 || m > 59)
		return -1;
	return sign * (h * 3600L + m * 60L);
}

int bs_time_parse(const char *s, int round_up, time_t *out)
{
	struct tm tm = { 0 }, back;
	const char *p = s;
	int f[6], fraction = 0;
	long off;
	time_t t;

	if ((f[0] = digits_at(&p, 4)) < 0 || *p++ != '-' || (f[1] = digits_at(&p, 2)) < 0
			|| *p++ != '-' || (f[2] = digits_at(&p, 2)) < 0
			|| (*p != 'T' && *p != 't') || !*p++ || (f[3] = digits_at(&p, 2)) < 0
			|| *p++ != ':' || (f[4] = digits_at(&p, 2)) < 0 || *p++ != ':'
			|| (f[5] = digits_at(&p, 2)) < 0)
		return BS_ERR_INVALID;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return BS_ERR_INVALID;
		for (p++; *p >= '0' && *p <= '9'; p++)
			fraction |= *p != '0';
	}
	if ((off = zone_offset(&p)) == -1 || *p != '\0' || f[1] < 1 || f[1] > 12
			|| f[2] < 1 || f[3] > 23 || f[4] > 59 || f[5] > 60)
		return BS_ERR_INVALID;
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5] == 60 ? 59 : f[5];
	t = timegm(&tm);
	/* A day the month does not have (February 30) comes back another. */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != f[2])
		return BS_ERR_INVALID;
	*out = t - off + (round_up && fraction);
	return BS_OK;
}

size_t bs_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp)
{
	size_t len;
	uint32_t min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, *cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, *cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, *cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > avail)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* Characters MQTT clients refuse in topic names: C0 and C1 controls, DEL,
 * and the Unicode non-characters (as Mosquitto's own UTF-8 check). */
static int forbidden_char(uint32_t cp)
{
	return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)
		|| (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/* 1 when s is well-formed UTF-8 holding no forbidden character and none
 * of the ASCII bytes in extra (a bit each in refused, looked up per byte). */
static int clean_text(const char *s, const char *extra)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t refused[2] = { 0, 0 };
	uint32_t cp;

	for (const unsigned char *e = (const unsigned char *)extra; *e != '\0'; e++)
		if (*e < 0x80)
			refused[*e >> 6] |= (uint64_t)1 << (*e & 63);
	while (*p) {
		if (*p < 0x80 && (refused[*p >> 6] >> (*p & 63) & 1))
			return 0;
		if (*p >= 0x20 && *p < 0x7f) {
			/* Printable ASCII: only extra can refuse it. */
			p++;
			continue;
		}
		size_t n = bs_utf8_decode(p, SIZE_MAX, &cp); /* NUL stops it */
		if (n == 0 || forbidden_char(cp))
			return 0;
		p += n;
	}
	return 1;
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
	if (!clean_text(s, "/+#"))
		return fail(err, errlen, field,
				"must be UTF-8 without '/', '+', '#' or control characters");
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

int bs_valid_client_secret(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len == 0 || len > BS_KEY_MAX)
		return fail(err, errlen, "client_secret", "must be 1 to 256 bytes");
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

int bs_valid_topic_name(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 65535 && clean_text(s, "+#");
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

/* key: s when s is set and not empty. */
static void write_optional(jw_t *w, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		jw_member(w, key, s);
}

/* The stored metadata is compact JSON the admin module wrote: it goes into
 * the reply as it is, without a parse. */
static void write_channels(jw_t *w, const bs_config_t *cfg)
{
	jw_key(w, "channels");
	jw_punct(w, "[");
	for (size_t i = 0; i < cfg->nchannels; i++) {
		if (i > 0)
			jw_punct(w, ",");
		jw_object_begin(w);
		jw_member(w, "id", cfg->channels[i].id);
		jw_member(w, "name", cfg->channels[i].name);
		jw_key(w, "metadata");
		jw_raw(w, cfg->channels[i].metadata ? cfg->channels[i].metadata : "{}");
		jw_object_end(w);
	}
	jw_punct(w, "]");
}

/* key: s, or null when s is NULL. */
static void write_nullable(jw_t *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s != NULL)
		jw_string(w, s);
	else
		jw_raw(w, "null");
}

void bs_config_admin_write(jw_t *w, const bs_config_t *cfg, const char *external_key)
{
	jw_object_begin(w);
	jw_member(w, "client_id", cfg->client_id);
	jw_member(w, "client_secret", cfg->client_secret ? cfg->client_secret : "");
	jw_member(w, "name", cfg->name ? cfg->name : "");
	jw_member(w, "external_id", cfg->external_id);
	write_channels(w, cfg);
	jw_member(w, "content", cfg->content ? cfg->content : "");
	write_nullable(w, "client_cert", cfg->client_cert);
	write_nullable(w, "ca_cert", cfg->ca_cert);
	jw_key(w, "has_client_key");
	jw_raw(w, cfg->has_client_key ? "true" : "false");
	jw_member(w, "state", cfg->enabled ? "enabled" : "disabled");
	jw_member(w, "created_at", cfg->created_at);
	jw_member(w, "updated_at", cfg->updated_at);
	write_nullable(w, "last_bootstrap_at",
			cfg->last_bootstrap_at[0] ? cfg->last_bootstrap_at : NULL);
	write_nullable(w, "profile", cfg->profile);
	jw_key(w, "vars");
	jw_raw(w, cfg->vars ? cfg->vars : "null");
	write_nullable(w, "group", cfg->group);
	write_nullable(w, "cert_serial", cfg->cert_serial[0] ? cfg->cert_serial : NULL);
	write_nullable(w, "cert_expires_at",
			cfg->cert_expires_at[0] ? cfg->cert_expires_at : NULL);
	if (external_key != NULL)
		jw_member(w, "external_key", external_key);
	jw_object_end(w);
}

char *bs_config_admin_text(const bs_config_t *cfg, const char *external_key, size_t *len)
{
	jw_t w;

	jw_init(&w);
	bs_config_admin_write(&w, cfg, external_key);
	return jw_finish(&w, len);
}

char *bs_config_device_reply(const bs_config_t *cfg, const char *id, size_t *len)
{
	jw_t w;

	jw_init(&w);
	jw_object_begin(&w);
	if (id != NULL)
		jw_member(&w, "id", id);
	jw_member(&w, "client_id", cfg->client_id);
	jw_member(&w, "client_secret", cfg->client_secret ? cfg->client_secret : "");
	write_channels(&w, cfg);
	write_optional(&w, "content", cfg->content);
	write_optional(&w, "client_cert", cfg->client_cert);
	write_optional(&w, "client_key", cfg->client_key);
	write_optional(&w, "ca_cert", cfg->ca_cert);
	jw_object_end(&w);
	return jw_finish(&w, len);
}

/* The channel ids of cfg joined by newlines, as configs.channel_ids keeps
 * them (ids hold no control characters). */
char *bs_config_join_channels(const bs_config_t *cfg)
{
	size_t len = 1, at = 0;
	char *out;

	for (size_t i = 0; i < cfg->nchannels; i++)
		len += strlen(cfg->channels[i].id) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nchannels; i++) {
		size_t n = strlen(cfg->channels[i].id);
		if (i > 0)
			out[at++] = '\n';
		memcpy(out + at, cfg->channels[i].id, n);
		at += n;
	}
	out[at] = '\0';
	return out;
}
