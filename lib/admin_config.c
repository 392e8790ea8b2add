/* The config commands. */
#include "admin_int.h"

#include "certs.h"
#include "error.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_fail(bs_call_t *call, const char *s, int *rc)
{
	char *copy = strdup(s);

	if (copy == NULL && *rc == BS_OK)
		*rc = bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return copy;
}

/* Optional text field with a size limit, copied into *slot (or dflt). */
static int take_text(bs_call_t *call, const char *field, size_t max,
		const char *dflt, char **slot)
{
	const char *v;
	int rc = bs_call_string(call, field, &v);

	if (rc != BS_OK)
		return rc;
	if (v == NULL && dflt == NULL)
		return BS_OK;
	if (v != NULL && bs_valid_text(field, v, max, call->message,
			sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	*slot = dup_or_fail(call, v ? v : dflt, &rc);
	return rc;
}

/* A certificate or key field: a string, null or absent; checked by check. */
static int take_pem(bs_call_t *call, const char *field,
		int (*check)(const char *, size_t, char *, size_t), char **slot)
{
	json_t *v = json_object_get(call->cmd, field);
	char why[200];
	int rc = BS_OK;

	if (v == NULL || json_is_null(v))
		return BS_OK;
	if (!json_is_string(v))
		return bs_call_fail(call, BS_ERR_INVALID, "%s: must be a string or null", field);
	if (json_string_length(v) > BS_CERT_MAX)
		return bs_call_fail(call, BS_ERR_INVALID, "%s: must be at most 64 KiB", field);
	if (json_string_length(v) == 0)
		return BS_OK;
	if (check(json_string_value(v), json_string_length(v), why, sizeof(why)) != BS_OK)
		return bs_call_fail(call, BS_ERR_INVALID, "%s: %s", field, why);
	*slot = dup_or_fail(call, json_string_value(v), &rc);
	return rc;
}

static int take_certs(bs_call_t *call, bs_config_t *cfg)
{
	char why[200];
	int rc;

	if ((rc = take_pem(call, "client_cert", bs_certs_check_cert, &cfg->client_cert)) != BS_OK
			|| (rc = take_pem(call, "client_key", bs_certs_check_key, &cfg->client_key)) != BS_OK
			|| (rc = take_pem(call, "ca_cert", bs_certs_check_ca, &cfg->ca_cert)) != BS_OK)
		return rc;
	if (cfg->client_cert && cfg->client_key && bs_certs_check_pair(cfg->client_cert,
			strlen(cfg->client_cert), cfg->client_key, strlen(cfg->client_key),
			why, sizeof(why)) != BS_OK)
		return bs_call_fail(call, BS_ERR_INVALID, "client_key: %s", why);
	cfg->has_client_key = cfg->client_key != NULL;
	return BS_OK;
}

/* An id given by the admin, or a fresh UUID v4. */
static int take_id(bs_call_t *call, const char *field, char **slot)
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
	*slot = dup_or_fail(call, v, &rc);
	return rc;
}

/* A secret given by the admin (checked by valid), or 256 random bits. */
static int take_secret(bs_call_t *call, const char *field,
		int (*valid)(const char *, char *, size_t), char **slot)
{
	char fresh[BS_SECRET_LEN + 1];
	const char *v;
	int rc = bs_call_string(call, field, &v);

	if (rc != BS_OK)
		return rc;
	if (v != NULL && valid(v, call->message, sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	if (v == NULL && bs_crypto_secret(fresh) != BS_OK)
		return bs_call_fail(call, BS_ERR_INTERNAL, "no randomness for a secret");
	*slot = dup_or_fail(call, v ? v : fresh, &rc);
	explicit_bzero(fresh, sizeof(fresh));
	return rc;
}

static int valid_client_secret(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len == 0 || len > BS_KEY_MAX) {
		snprintf(err, errlen, "client_secret: must be 1 to 256 bytes");
		return BS_ERR_INVALID;
	}
	return BS_OK;
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

/* channels: ids (or {"id": ...}) of existing channels, no repeats. */
static int take_channels(bs_call_t *call, bs_config_t *cfg)
{
	json_t *list = json_object_get(call->cmd, "channels"), *item;
	size_t i;
	int rc;

	if (list == NULL)
		return BS_OK;
	if (!json_is_array(list))
		return bs_call_fail(call, BS_ERR_INVALID, "channels: must be an array");
	if ((cfg->channels = calloc(json_array_size(list) + 1, sizeof(bs_channel_t))) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
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

static int read_config(bs_call_t *call, bs_config_t *cfg)
{
	const char *ext;
	int rc;

	if (json_object_get(call->cmd, "state") != NULL)
		return bs_call_fail(call, BS_ERR_INVALID,
				"state: a new config is disabled; use enableConfig");
	if ((rc = bs_call_required(call, "external_id", &ext)) != BS_OK)
		return rc;
	if (bs_valid_external_id(ext, call->message, sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	cfg->external_id = dup_or_fail(call, ext, &rc);
	if (rc == BS_OK)
		rc = take_id(call, "client_id", &cfg->client_id);
	if (rc == BS_OK)
		rc = take_secret(call, "client_secret", valid_client_secret, &cfg->client_secret);
	if (rc == BS_OK)
		rc = take_secret(call, "external_key", bs_valid_external_key, &cfg->external_key);
	if (rc == BS_OK)
		rc = take_text(call, "name", BS_ID_MAX, "", &cfg->name);
	if (rc == BS_OK)
		rc = take_text(call, "content", BS_CONTENT_MAX, "", &cfg->content);
	if (rc == BS_OK)
		rc = take_certs(call, cfg);
	if (rc == BS_OK)
		rc = take_channels(call, cfg);
	return rc;
}

static int insert_failed(bs_call_t *call, const bs_config_t *cfg, int rc)
{
	bs_config_t other;

	if (rc != BS_ERR_CONFLICT)
		return rc == BS_ERR_NOT_FOUND
			? bs_call_fail(call, rc, "a channel of this config does not exist")
			: bs_call_store_failed(call);
	if (bs_store_config_get(call->core->store, cfg->client_id, NULL, 0, &other) == BS_OK) {
		bs_config_clear(&other);
		return bs_call_fail(call, rc, "a config with client_id '%.64s' already exists",
				cfg->client_id);
	}
	return bs_call_fail(call, rc, "a config with this external_id already exists");
}

int bs_cmd_create_config(bs_call_t *call)
{
	bs_config_t cfg = { 0 };
	const char *given = json_string_value(json_object_get(call->cmd, "client_id"));
	int rc;

	/* The audit line names the client_id even when the command fails. */
	snprintf(call->target, sizeof(call->target), "%s", given ? given : "");
	rc = read_config(call, &cfg);
	if (cfg.client_id != NULL)
		snprintf(call->target, sizeof(call->target), "%s", cfg.client_id);
	if (rc != BS_OK)
		goto out;
	bs_time_format(call->ctx->now, cfg.created_at);
	memcpy(cfg.updated_at, cfg.created_at, sizeof(cfg.updated_at));
	if ((rc = bs_store_config_insert(call->core->store, &cfg)) != BS_OK) {
		rc = insert_failed(call, &cfg, rc);
		goto out;
	}
	call->data = bs_config_admin_json(&cfg);
	if (call->data == NULL || json_object_set_new(call->data, "external_key",
			json_string(cfg.external_key)) != 0)
		rc = bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
out:
	bs_config_clear(&cfg);
	return rc;
}

/* Loads the config named by client_id (or external_id when allowed) into
 * call->data, as the admin sees it. */
static int answer_config(bs_call_t *call, const char *client_id,
		const char *external_id)
{
	bs_config_t cfg;
	int rc = bs_store_config_get(call->core->store, client_id, external_id,
			BS_LOAD_CHANNELS | BS_LOAD_SECRET, &cfg);

	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, client_id ? "no config with client_id '%.64s'"
				: "no config with external_id '%.64s'",
				client_id ? client_id : external_id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	if ((call->data = bs_config_admin_json(&cfg)) == NULL)
		rc = bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	bs_config_clear(&cfg);
	return rc;
}

int bs_cmd_get_config(bs_call_t *call)
{
	const char *client_id, *external_id;
	int rc;

	if ((rc = bs_call_string(call, "client_id", &client_id)) != BS_OK
			|| (rc = bs_call_string(call, "external_id", &external_id)) != BS_OK)
		return rc;
	if (client_id == NULL && external_id == NULL)
		return bs_call_fail(call, BS_ERR_INVALID,
				"client_id or external_id is required");
	return answer_config(call, client_id, client_id ? NULL : external_id);
}

static int set_state(bs_call_t *call, int enabled)
{
	char now[BS_TIME_LEN];
	const char *client_id;
	int rc = bs_call_required(call, "client_id", &client_id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", client_id);
	bs_time_format(call->ctx->now, now);
	rc = bs_store_config_set_enabled(call->core->store, client_id, enabled, now);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no config with client_id '%.64s'", client_id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	call->kick = !enabled;
	return answer_config(call, client_id, NULL);
}

int bs_cmd_enable_config(bs_call_t *call)
{
	return set_state(call, 1);
}

int bs_cmd_disable_config(bs_call_t *call)
{
	return set_state(call, 0);
}

int bs_cmd_delete_config(bs_call_t *call)
{
	const char *client_id;
	int rc = bs_call_required(call, "client_id", &client_id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", client_id);
	rc = bs_store_config_delete(call->core->store, client_id);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no config with client_id '%.64s'", client_id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	call->kick = 1;
	call->data = json_object();
	return BS_OK;
}
