/*
 * Reading command fields into a config, shared by createConfig and
 * modifyConfig. Each reader leaves its slot alone when the field is absent,
 * so a create starts from an empty config and a modify from the stored one.
 */
#include "admin_int.h"

#include "certs.h"
#include "error.h"
#include "store.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replaces *slot by a copy of s (NULL clears it); old values are wiped,
 * since some slots hold secrets. */
static int replace(bs_call_t *call, char **slot, const char *s)
{
	char *copy = NULL;

	if (s != NULL && (copy = strdup(s)) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	if (*slot != NULL)
		bs_crypto_free_secret(*slot, strlen(*slot));
	*slot = copy;
	return BS_OK;
}

int bs_field_text(bs_call_t *call, const char *field, size_t max, char **slot)
{
	const char *v;
	int rc = bs_call_string(call, field, &v);

	if (rc != BS_OK || v == NULL)
		return rc;
	if (bs_valid_text(field, v, max, call->message, sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	return replace(call, slot, v);
}

int bs_field_pem(bs_call_t *call, const char *field,
		int (*check)(const char *, size_t, char *, size_t), char **slot)
{
	json_t *v = json_object_get(call->cmd, field);
	char why[200];

	if (v == NULL)
		return BS_OK;
	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return replace(call, slot, NULL);
	if (!json_is_string(v))
		return bs_call_fail(call, BS_ERR_INVALID, "%s: must be a string or null", field);
	if (json_string_length(v) > BS_CERT_MAX)
		return bs_call_fail(call, BS_ERR_INVALID, "%s: must be at most 64 KiB", field);
	if (check(json_string_value(v), json_string_length(v), why, sizeof(why)) != BS_OK)
		return bs_call_fail(call, BS_ERR_INVALID, "%s: %s", field, why);
	return replace(call, slot, json_string_value(v));
}

/* The serial and the end of validity of cfg's client_cert, for reads and
 * listConfigs (cert_expires_before). */
static int note_cert(bs_call_t *call, bs_config_t *cfg)
{
	time_t not_after;

	cfg->cert_serial[0] = cfg->cert_expires_at[0] = '\0';
	if (cfg->client_cert == NULL)
		return BS_OK;
	if (bs_certs_info(cfg->client_cert, strlen(cfg->client_cert), cfg->cert_serial,
			&not_after) != BS_OK)
		return bs_call_fail(call, BS_ERR_INVALID,
				"client_cert: its serial is longer than 64 bytes");
	bs_time_format(not_after, cfg->cert_expires_at);
	return BS_OK;
}

int bs_field_certs(bs_call_t *call, bs_config_t *cfg)
{
	char why[200];
	int rc;

	if ((rc = bs_field_pem(call, "client_cert", bs_certs_check_cert, &cfg->client_cert)) != BS_OK
			|| (rc = bs_field_pem(call, "client_key", bs_certs_check_key, &cfg->client_key)) != BS_OK
			|| (rc = bs_field_pem(call, "ca_cert", bs_certs_check_ca, &cfg->ca_cert)) != BS_OK)
		return rc;
	if (cfg->client_cert && cfg->client_key && bs_certs_check_pair(cfg->client_cert,
			strlen(cfg->client_cert), cfg->client_key, strlen(cfg->client_key),
			why, sizeof(why)) != BS_OK)
		return bs_call_fail(call, BS_ERR_INVALID, "client_key: %s", why);
	cfg->has_client_key = cfg->client_key != NULL;
	return note_cert(call, cfg);
}

int bs_field_id(bs_call_t *call, const char *field, char **slot)
{
	char uuid[BS_UUID_LEN + 1];
	const char *v;
	int rc = bs_call_string(call, field, &v);

	if (rc != BS_OK)
		return rc;
	if (v == NULL) {
		if (bs_crypto_uuid4(uuid) != BS_OK)
			return bs_call_fail(call, BS_ERR_INTERNAL, "no randomness for an id");
		v = uuid;
	}
	if (bs_valid_id(field, v, call->message, sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	return replace(call, slot, v);
}

int bs_field_secret(bs_call_t *call, const char *field,
		int (*valid)(const char *, char *, size_t), int generate, char **slot)
{
	char fresh[BS_SECRET_LEN + 1];
	const char *v;
	int rc = bs_call_string(call, field, &v);

	if (rc != BS_OK || (v == NULL && !generate))
		return rc;
	if (v != NULL && valid(v, call->message, sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	if (v == NULL && bs_crypto_secret(fresh) != BS_OK)
		return bs_call_fail(call, BS_ERR_INTERNAL, "no randomness for a secret");
	rc = replace(call, slot, v ? v : fresh);
	explicit_bzero(fresh, sizeof(fresh));
	return rc;
}

static int channel_id_at(bs_call_t *call, json_t *item, const char **id)
{
	if (json_is_object(item))
		item = json_object_get(item, "id");
	if (!json_is_string(item))
		return bs_call_fail(call, BS_ERR_INVALID,
				"channels: each item must be a channel id or an object with an id");
	*id = json_string_value(item);
	return BS_OK;
}

static void clear_channels(bs_config_t *cfg)
{
	for (size_t i = 0; i < cfg->nchannels; i++)
		bs_channel_clear(&cfg->channels[i]);
	free(cfg->channels);
	cfg->channels = NULL;
	cfg->nchannels = 0;
}

/* channels: ids (or {"id": ...}) of existing channels, no repeats. */
static int load_channels(bs_call_t *call, json_t *list, bs_config_t *cfg)
{
	json_t *item;
	size_t i;
	int rc;

	json_array_foreach(list, i, item) {
		const char *id = NULL;
		if ((rc = channel_id_at(call, item, &id)) != BS_OK)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->channels[j].id, id) == 0)
				return bs_call_fail(call, BS_ERR_INVALID,
						"channels: '%.64s' is listed twice", id);
		}
		rc = bs_store_channel_get(call->core->store, id, &cfg->channels[i]);
		if (rc == BS_ERR_NOT_FOUND)
			return bs_call_fail(call, rc, "no channel with id '%.64s'", id);
		if (rc != BS_OK)
			return bs_call_store_failed(call);
		cfg->nchannels++;
	}
	return BS_OK;
}

int bs_field_channel_ids(bs_call_t *call, char **slot, int *present)
{
	bs_config_t tmp = { 0 };
	size_t len = 1;
	char *ids;
	int rc = bs_field_channels(call, &tmp, present);

	if (rc != BS_OK || !*present) {
		bs_config_clear(&tmp);
		return rc;
	}
	for (size_t i = 0; i < tmp.nchannels; i++)
		len += strlen(tmp.channels[i].id) + 1;
	if ((ids = calloc(1, len)) == NULL) {
		bs_config_clear(&tmp);
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < tmp.nchannels; i++) {
		if (i > 0)
			strcat(ids, "\n");
		strcat(ids, tmp.channels[i].id);
	}
	bs_config_clear(&tmp);
	free(*slot);
	*slot = ids;
	return BS_OK;
}

int bs_field_vars(bs_call_t *call, char **slot, int *present)
{
	json_t *v = json_object_get(call->cmd, "vars"), *val;
	const char *key;
	char *text;

	*present = v != NULL;
	if (v == NULL)
		return BS_OK;
	if (json_is_null(v)) {
		free(*slot);
		*slot = NULL;
		return BS_OK;
	}
	if (!json_is_object(v))
		return bs_call_fail(call, BS_ERR_INVALID, "vars: must be an object of strings");
	json_object_foreach(v, key, val) {
		if (!bs_template_key_ok(key, strlen(key)))
			return bs_call_fail(call, BS_ERR_INVALID, "vars: '%.64s' is not a key "
					"(letters, digits, '_' and '-')", key);
		if (!json_is_string(val))
			return bs_call_fail(call, BS_ERR_INVALID, "vars.%.64s: must be a string", key);
	}
	if ((text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	if (strlen(text) > BS_CONTENT_MAX) {
		free(text);
		return bs_call_fail(call, BS_ERR_INVALID, "vars: must be at most 64 KiB as JSON");
	}
	free(*slot);
	*slot = text;
	return BS_OK;
}

int bs_field_channels(bs_call_t *call, bs_config_t *cfg, int *present)
{
	json_t *list = json_object_get(call->cmd, "channels");

	*present = list != NULL;
	if (list == NULL)
		return BS_OK;
	if (!json_is_array(list))
		return bs_call_fail(call, BS_ERR_INVALID, "channels: must be an array");
	clear_channels(cfg);
	if ((cfg->channels = calloc(json_array_size(list) + 1, sizeof(bs_channel_t))) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return load_channels(call, list, cfg);
}
