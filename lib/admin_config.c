/* The config commands. */
#include "admin_int.h"

#include "error.h"
#include "fleet.h"
#include "render.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* profile: an id, or null (none). */
static int read_profile_id(bs_call_t *call, bs_config_t *cfg)
{
	json_t *v = json_object_get(call->cmd, "profile");

	if (v == NULL)
		return BS_OK;
	free(cfg->profile);
	cfg->profile = NULL;
	if (json_is_null(v))
		return BS_OK;
	if (!json_is_string(v))
		return bs_call_fail(call, BS_ERR_INVALID, "profile: must be a profile id or null");
	if ((cfg->profile = strdup(json_string_value(v))) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
}

/* The template must render for cfg, every placeholder with a value. */
static int check_render(bs_call_t *call, bs_config_t *cfg)
{
	char *kept = cfg->content;
	int rc;

	cfg->content = NULL;
	rc = bs_render_config(call->core->store, cfg, 1, call->message, sizeof(call->message));
	free(cfg->content);
	cfg->content = kept;
	if (rc == BS_ERR_NOT_FOUND)
		return BS_ERR_NOT_FOUND;
	return rc == BS_OK || rc == BS_ERR_INVALID ? rc : bs_call_store_failed(call);
}

/*
 * profile and vars (protocol 7.1). A config with a profile takes its
 * content from the template (a content of its own is refused) and, when
 * it has no channels, the profile's; *took is set then.
 */
static int read_fleet(bs_call_t *call, bs_config_t *cfg, int *took)
{
	bs_profile_t p;
	int present, rc;

	*took = 0;
	if ((rc = bs_field_vars(call, &cfg->vars, &present)) != BS_OK
			|| (rc = read_profile_id(call, cfg)) != BS_OK || cfg->profile == NULL)
		return rc;
	if (json_string_length(json_object_get(call->cmd, "content")) > 0)
		return bs_call_fail(call, BS_ERR_INVALID, "content: a config with a profile "
				"takes its content from the profile's template");
	rc = bs_store_profile_get(call->core->store, cfg->profile, &p);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no profile with id '%.64s'", cfg->profile);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	if (cfg->nchannels == 0 && p.channel_ids != NULL && p.channel_ids[0] != '\0') {
		free(cfg->channel_ids);
		cfg->channel_ids = p.channel_ids;
		p.channel_ids = NULL;
		*took = 1;
		if (bs_store_config_channels(call->core->store, cfg) != BS_OK)
			rc = bs_call_store_failed(call);
	}
	bs_profile_clear(&p);
	free(cfg->content);
	cfg->content = NULL;
	return rc == BS_OK ? check_render(call, cfg) : rc;
}

static int read_config(bs_call_t *call, bs_config_t *cfg)
{
	const char *ext;
	int present, rc;

	if (json_object_get(call->cmd, "state") != NULL)
		return bs_call_fail(call, BS_ERR_INVALID,
				"state: a new config is disabled; use enableConfig");
	if ((rc = bs_call_required(call, "external_id", &ext)) != BS_OK)
		return rc;
	if (bs_valid_external_id(ext, call->message, sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	if ((cfg->external_id = strdup(ext)) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	if ((rc = bs_field_id(call, "client_id", &cfg->client_id)) != BS_OK
			|| (rc = bs_field_secret(call, "client_secret", bs_valid_client_secret,
				1, &cfg->client_secret)) != BS_OK
			|| (rc = bs_field_secret(call, "external_key", bs_valid_external_key,
				1, &cfg->external_key)) != BS_OK
			|| (rc = bs_field_text(call, "name", BS_ID_MAX, &cfg->name)) != BS_OK
			|| (rc = bs_field_text(call, "content", BS_CONTENT_MAX, &cfg->content)) != BS_OK
			|| (rc = bs_field_certs(call, cfg)) != BS_OK
			|| (rc = bs_field_channels(call, cfg, &present)) != BS_OK)
		return rc;
	return read_fleet(call, cfg, &present);
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

/* cfg as the call's data, its content rendered, with external_key when
 * given. */
static int answer_with(bs_call_t *call, bs_config_t *cfg, const char *external_key)
{
	char why[128];
	size_t len;

	/* A template that no longer renders leaves the stored content, "". */
	bs_render_config(call->core->store, cfg, 0, why, sizeof(why));
	if ((call->data_text = bs_config_admin_text(cfg, external_key, &len)) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
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
	bs_unknown_forget(call->core, cfg.external_id);
	call->effects = BS_FX_LOGIN;
	rc = answer_with(call, &cfg, cfg.external_key);
out:
	bs_config_clear(&cfg);
	return rc;
}

/* Loads the config named by client_id (or external_id when allowed) into
 * the call's data, as the admin sees it. */
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
	rc = answer_with(call, &cfg, NULL);
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
	call->effects = enabled ? BS_FX_LOGIN : BS_FX_END_ALL;
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
	char now[BS_TIME_LEN];
	const char *client_id;
	int rc = bs_call_required(call, "client_id", &client_id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", client_id);
	bs_time_format(call->ctx->now, now);
	rc = bs_store_config_delete(call->core->store, client_id, now);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no config with client_id '%.64s'", client_id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	call->effects = BS_FX_END_ALL;
	call->data = json_object();
	return BS_OK;
}

/* Fields modifyConfig refuses to change, rather than ignore. */
static int refuse_fixed(bs_call_t *call)
{
	static const char *const fixed[] = { "external_id", "client_secret", "state" };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (json_object_get(call->cmd, fixed[i]) != NULL)
			return bs_call_fail(call, BS_ERR_INVALID,
					"%s: cannot be changed by modifyConfig", fixed[i]);
	}
	return BS_OK;
}

static int apply_fields(bs_call_t *call, bs_config_t *cfg, int *relink)
{
	int rc;

	int took;

	if ((rc = bs_field_text(call, "name", BS_ID_MAX, &cfg->name)) != BS_OK
			|| (rc = bs_field_text(call, "content", BS_CONTENT_MAX, &cfg->content)) != BS_OK
			|| (rc = bs_field_secret(call, "external_key", bs_valid_external_key,
				0, &cfg->external_key)) != BS_OK
			|| (rc = bs_field_certs(call, cfg)) != BS_OK
			|| (rc = bs_field_channels(call, cfg, relink)) != BS_OK
			|| (rc = read_fleet(call, cfg, &took)) != BS_OK)
		return rc;
	*relink |= took;
	return BS_OK;
}

/* "rotate_secret": true gives the config a fresh client_secret (a
 * client_secret field itself was refused before). */
static int rotate_secret(bs_call_t *call, bs_config_t *cfg)
{
	json_t *v = json_object_get(call->cmd, "rotate_secret");

	if (v == NULL || json_is_false(v))
		return BS_OK;
	if (!json_is_true(v))
		return bs_call_fail(call, BS_ERR_INVALID, "rotate_secret: must be true or false");
	call->effects |= BS_FX_END_PASSWORD;
	return bs_field_secret(call, "client_secret", bs_valid_client_secret, 1,
			&cfg->client_secret);
}

/* The effects of changing the certificate or the channels of a config. */
static void note_effects(bs_call_t *call, const char *old_cert,
		const bs_config_t *cfg, int relink)
{
	if ((old_cert == NULL) != (cfg->client_cert == NULL)
			|| (old_cert != NULL && strcmp(old_cert, cfg->client_cert) != 0))
		call->effects |= BS_FX_END_CERT;
	if (relink)
		call->effects |= BS_FX_RELOAD;
}

static int apply_changes(bs_call_t *call, bs_config_t *cfg, int *relink)
{
	char *old_cert = cfg->client_cert ? strdup(cfg->client_cert) : NULL;
	int rc;

	if (cfg->client_cert != NULL && old_cert == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	rc = apply_fields(call, cfg, relink);
	if (rc == BS_OK)
		rc = rotate_secret(call, cfg);
	if (rc == BS_OK)
		note_effects(call, old_cert, cfg, *relink);
	free(old_cert);
	return rc;
}

int bs_cmd_modify_config(bs_call_t *call)
{
	const char *client_id;
	bs_config_t cfg = { 0 };
	int relink = 0, rc;

	if ((rc = bs_call_required(call, "client_id", &client_id)) != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", client_id);
	if ((rc = refuse_fixed(call)) != BS_OK)
		return rc;
	rc = bs_store_config_get(call->core->store, client_id, NULL, BS_LOAD_CHANNELS
			| BS_LOAD_SECRET | BS_LOAD_EXTERNAL_KEY | BS_LOAD_CLIENT_KEY, &cfg);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no config with client_id '%.64s'", client_id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	if ((rc = apply_changes(call, &cfg, &relink)) != BS_OK)
		goto out;
	bs_time_format(call->ctx->now, cfg.updated_at);
	if ((rc = bs_store_config_update(call->core->store, &cfg, relink)) != BS_OK) {
		rc = bs_call_store_failed(call);
		goto out;
	}
	/* A new external_key is shown once, in this reply. */
	rc = answer_with(call, &cfg, json_object_get(call->cmd, "external_key")
			? cfg.external_key : NULL);
out:
	bs_config_clear(&cfg);
	return rc;
}
