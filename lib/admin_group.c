/* The enrollment group commands (protocol 7.2). */
#include "admin_int.h"

#include "crypto.h"
#include "error.h"
#include "fleet.h"
#include "jsonw.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The group as the call's data, with its key when just made; g is cleared
 * either way. */
static int answer(bs_call_t *call, bs_group_t *g, int show_key, int rc)
{
	jw_t w;
	size_t len;

	if (rc == BS_OK) {
		jw_init(&w);
		bs_group_write(&w, g, show_key ? g->group_key : NULL);
		if ((call->data_text = jw_finish(&w, &len)) == NULL)
			rc = bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	}
	bs_group_clear(g);
	return rc;
}

/* profile: an existing profile's id; null clears it. */
static int read_profile(bs_call_t *call, bs_group_t *g)
{
	json_t *v = json_object_get(call->cmd, "profile");
	bs_profile_t p;
	int rc;

	if (v == NULL)
		return BS_OK;
	free(g->profile);
	g->profile = NULL;
	if (json_is_null(v))
		return BS_OK;
	if (!json_is_string(v))
		return bs_call_fail(call, BS_ERR_INVALID, "profile: must be a profile id or null");
	rc = bs_store_profile_get(call->core->store, json_string_value(v), &p);
	bs_profile_clear(&p);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no profile with id '%.64s'", json_string_value(v));
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	if ((g->profile = strdup(json_string_value(v))) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
}

static int read_bool(bs_call_t *call, const char *field, int *out)
{
	json_t *v = json_object_get(call->cmd, field);

	if (v == NULL)
		return BS_OK;
	if (!json_is_boolean(v))
		return bs_call_fail(call, BS_ERR_INVALID, "%s: must be true or false", field);
	*out = json_is_true(v);
	return BS_OK;
}

/* A new group_key. One that starts with '-' is drawn again (a 64th of
 * them, 0.02 bits of the 256): the factory line of the contract passes
 * the key to "openssl dgst -hmac", which takes it for an option. */
static int new_key(bs_call_t *call, bs_group_t *g)
{
	char key[BS_SECRET_LEN + 1];
	int rc;

	do
		rc = bs_crypto_secret(key);
	while (rc == BS_OK && key[0] == '-');
	free(g->group_key);
	g->group_key = rc == BS_OK ? strdup(key) : NULL;
	explicit_bzero(key, sizeof(key));
	if (g->group_key == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "no randomness for a group key");
	return BS_OK;
}

static int read_fields(bs_call_t *call, bs_group_t *g)
{
	int present, rc;

	if ((rc = bs_field_text(call, "name", BS_ID_MAX, &g->name)) != BS_OK
			|| (rc = read_profile(call, g)) != BS_OK
			|| (rc = bs_field_channel_ids(call, &g->channel_ids, &present)) != BS_OK)
		return rc;
	return read_bool(call, "enable", &g->enable);
}

static int store_put(bs_call_t *call, bs_group_t *g, int create)
{
	char now[BS_TIME_LEN];
	int rc;

	bs_time_format(call->ctx->now, now);
	rc = bs_store_group_put(call->core->store, g, create, now);
	if (rc == BS_ERR_CONFLICT)
		return bs_call_fail(call, rc, "a group with id '%.64s' already exists", g->id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	snprintf(g->created_at, BS_TIME_LEN, "%s", create ? now : g->created_at);
	snprintf(g->updated_at, BS_TIME_LEN, "%s", now);
	return BS_OK;
}

static int load(bs_call_t *call, const char *id, bs_group_t *g)
{
	int rc = bs_store_group_get(call->core->store, id, 0, g);

	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no group with id '%.64s'", id);
	return rc == BS_OK ? rc : bs_call_store_failed(call);
}

int bs_cmd_create_group(bs_call_t *call)
{
	bs_group_t g = { 0 };
	int rc = bs_field_id(call, "id", &g.id);

	if (rc == BS_OK)
		snprintf(call->target, sizeof(call->target), "%s", g.id);
	if (rc == BS_OK && json_object_get(call->cmd, "name") == NULL)
		rc = bs_call_fail(call, BS_ERR_INVALID, "name: is required");
	if (rc == BS_OK && (rc = read_fields(call, &g)) == BS_OK
			&& (rc = new_key(call, &g)) == BS_OK)
		rc = store_put(call, &g, 1);
	return answer(call, &g, 1, rc);
}

int bs_cmd_get_group(bs_call_t *call)
{
	bs_group_t g = { 0 };
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc == BS_OK)
		rc = load(call, id, &g);
	return answer(call, &g, 0, rc);
}

int bs_cmd_modify_group(bs_call_t *call)
{
	bs_group_t g = { 0 };
	const char *id;
	int rotate = 0, rc = bs_call_required(call, "id", &id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", id);
	if ((rc = read_bool(call, "rotate_key", &rotate)) == BS_OK
			&& (rc = load(call, id, &g)) == BS_OK && (rc = read_fields(call, &g)) == BS_OK
			&& rotate)
		rc = new_key(call, &g);
	if (rc == BS_OK)
		rc = store_put(call, &g, 0);
	return answer(call, &g, rotate, rc);
}

int bs_cmd_delete_group(bs_call_t *call)
{
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", id);
	rc = bs_store_group_delete(call->core->store, id);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no group with id '%.64s'", id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	call->data = json_object();
	return BS_OK;
}

static int page(bs_store_t *st, long offset, long limit, void **items, size_t *n)
{
	return bs_store_group_list(st, offset, limit, (bs_group_t **)items, n);
}

static void write_item(jw_t *w, const void *item)
{
	bs_group_write(w, item, NULL);
}

static void clear_item(void *item)
{
	bs_group_clear(item);
}

int bs_cmd_list_groups(bs_call_t *call)
{
	static const bs_listing_t groups = { "groups", sizeof(bs_group_t),
		bs_store_group_count, page, write_item, clear_item };

	return bs_call_list(call, &groups);
}
