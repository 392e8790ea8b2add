/* The channel commands. */
#include "admin_int.h"

#include "error.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* metadata: an optional JSON object, stored as compact text. */
static int read_metadata(bs_call_t *call, char **out)
{
	json_t *meta = json_object_get(call->cmd, "metadata");

	if (meta == NULL || json_is_null(meta))
		meta = NULL;
	else if (!json_is_object(meta))
		return bs_call_fail(call, BS_ERR_INVALID, "metadata: must be a JSON object");
	*out = meta ? json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	if (*out == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	if (strlen(*out) > BS_CONTENT_MAX)
		return bs_call_fail(call, BS_ERR_INVALID, "metadata: must be at most 64 KiB as JSON");
	return BS_OK;
}

static int read_channel(bs_call_t *call, bs_channel_t *ch)
{
	const char *id, *name;
	char uuid[BS_UUID_LEN + 1];
	int rc;

	if ((rc = bs_call_string(call, "id", &id)) != BS_OK
			|| (rc = bs_call_required(call, "name", &name)) != BS_OK)
		return rc;
	if (id == NULL) {
		if (bs_crypto_uuid4(uuid) != BS_OK)
			return bs_call_fail(call, BS_ERR_INTERNAL, "no randomness for an id");
		id = uuid;
	}
	if (bs_valid_id("id", id, call->message, sizeof(call->message)) != BS_OK
			|| bs_valid_text("name", name, BS_ID_MAX, call->message,
				sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	if ((rc = read_metadata(call, &ch->metadata)) != BS_OK)
		return rc;
	ch->id = strdup(id);
	ch->name = strdup(name);
	if (ch->id == NULL || ch->name == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
}

/* Loads the channel id names, answering not_found when there is none. */
static int load(bs_call_t *call, const char *id, bs_channel_t *ch)
{
	int rc = bs_store_channel_get(call->core->store, id, ch);

	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no channel with id '%.64s'", id);
	return rc == BS_OK ? rc : bs_call_store_failed(call);
}

/* On success the channel is the response data; ch is cleared either way. */
static int answer(bs_call_t *call, bs_channel_t *ch, int rc)
{
	if (rc == BS_OK && (call->data = bs_channel_json(ch)) == NULL)
		rc = bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	bs_channel_clear(ch);
	return rc;
}

int bs_cmd_create_channel(bs_call_t *call)
{
	bs_channel_t ch = { 0 };
	char now[BS_TIME_LEN];
	int rc = read_channel(call, &ch);

	if (rc != BS_OK)
		return answer(call, &ch, rc);
	snprintf(call->target, sizeof(call->target), "%s", ch.id);
	bs_time_format(call->ctx->now, now);
	rc = bs_store_channel_insert(call->core->store, &ch, now);
	if (rc == BS_ERR_CONFLICT)
		rc = bs_call_fail(call, rc, "a channel with id '%.64s' already exists", ch.id);
	else if (rc != BS_OK)
		rc = bs_call_store_failed(call);
	return answer(call, &ch, rc);
}

int bs_cmd_get_channel(bs_call_t *call)
{
	bs_channel_t ch = { 0 };
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc == BS_OK)
		rc = load(call, id, &ch);
	return answer(call, &ch, rc);
}

int bs_cmd_modify_channel(bs_call_t *call)
{
	bs_channel_t ch = { 0 };
	char now[BS_TIME_LEN];
	const char *id;
	int rc;

	if ((rc = bs_call_required(call, "id", &id)) != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", id);
	if ((rc = load(call, id, &ch)) == BS_OK)
		rc = bs_field_text(call, "name", BS_ID_MAX, &ch.name);
	if (rc == BS_OK && json_object_get(call->cmd, "metadata") != NULL) {
		free(ch.metadata);
		ch.metadata = NULL;
		rc = read_metadata(call, &ch.metadata);
	}
	if (rc == BS_OK) {
		bs_time_format(call->ctx->now, now);
		if (bs_store_channel_update(call->core->store, &ch, now) != BS_OK)
			rc = bs_call_store_failed(call);
	}
	return answer(call, &ch, rc);
}

int bs_cmd_delete_channel(bs_call_t *call)
{
	char now[BS_TIME_LEN];
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", id);
	bs_time_format(call->ctx->now, now);
	rc = bs_store_channel_delete(call->core->store, id, now);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no channel with id '%.64s'", id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	call->effects = BS_FX_CHANNEL_GONE;
	call->data = json_object();
	return BS_OK;
}
