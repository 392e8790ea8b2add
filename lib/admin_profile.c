/* The profile commands (protocol 7.1). */
#include "admin_int.h"

#include "error.h"
#include "fleet.h"
#include "jsonw.h"
#include "store.h"
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The profile as the call's data; p is cleared either way. */
static int answer(bs_call_t *call, bs_profile_t *p, int rc)
{
	jw_t w;
	size_t len;

	if (rc == BS_OK) {
		jw_init(&w);
		bs_profile_write(&w, p);
		if ((call->data_text = jw_finish(&w, &len)) == NULL)
			rc = bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	}
	bs_profile_clear(p);
	return rc;
}

/* name, content (the template, checked), channels, vars: those present. */
static int read_fields(bs_call_t *call, bs_profile_t *p)
{
	int present, rc;

	if ((rc = bs_field_text(call, "name", BS_ID_MAX, &p->name)) != BS_OK
			|| (rc = bs_field_text(call, "content", BS_CONTENT_MAX, &p->content)) != BS_OK
			|| (rc = bs_field_channel_ids(call, &p->channel_ids, &present)) != BS_OK
			|| (rc = bs_field_vars(call, &p->vars, &present)) != BS_OK)
		return rc;
	if (p->content != NULL && bs_template_check(p->content, call->message,
			sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	return BS_OK;
}

static int load(bs_call_t *call, const char *id, bs_profile_t *p)
{
	int rc = bs_store_profile_get(call->core->store, id, p);

	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no profile with id '%.64s'", id);
	return rc == BS_OK ? rc : bs_call_store_failed(call);
}

static int store_put(bs_call_t *call, bs_profile_t *p, int create)
{
	char now[BS_TIME_LEN];
	int rc;

	bs_time_format(call->ctx->now, now);
	rc = bs_store_profile_put(call->core->store, p, create, now);
	if (rc == BS_ERR_CONFLICT)
		return bs_call_fail(call, rc, "a profile with id '%.64s' already exists", p->id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	snprintf(p->created_at, BS_TIME_LEN, "%s", create ? now : p->created_at);
	snprintf(p->updated_at, BS_TIME_LEN, "%s", now);
	return BS_OK;
}

int bs_cmd_create_profile(bs_call_t *call)
{
	bs_profile_t p = { 0 };
	int rc = bs_field_id(call, "id", &p.id);

	if (rc == BS_OK)
		snprintf(call->target, sizeof(call->target), "%s", p.id);
	if (rc == BS_OK && json_object_get(call->cmd, "name") == NULL)
		rc = bs_call_fail(call, BS_ERR_INVALID, "name: is required");
	if (rc == BS_OK && json_object_get(call->cmd, "content") == NULL)
		rc = bs_call_fail(call, BS_ERR_INVALID, "content: is required");
	if (rc == BS_OK)
		rc = read_fields(call, &p);
	if (rc == BS_OK)
		rc = store_put(call, &p, 1);
	return answer(call, &p, rc);
}

int bs_cmd_get_profile(bs_call_t *call)
{
	bs_profile_t p = { 0 };
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc == BS_OK)
		rc = load(call, id, &p);
	return answer(call, &p, rc);
}

int bs_cmd_modify_profile(bs_call_t *call)
{
	bs_profile_t p = { 0 };
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", id);
	if ((rc = load(call, id, &p)) == BS_OK && (rc = read_fields(call, &p)) == BS_OK)
		rc = store_put(call, &p, 0);
	return answer(call, &p, rc);
}

int bs_cmd_delete_profile(bs_call_t *call)
{
	const char *id;
	int rc = bs_call_required(call, "id", &id);

	if (rc != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", id);
	rc = bs_store_profile_delete(call->core->store, id);
	if (rc == BS_ERR_NOT_FOUND)
		return bs_call_fail(call, rc, "no profile with id '%.64s'", id);
	if (rc == BS_ERR_CONFLICT)
		return bs_call_fail(call, rc, "profile '%.64s' is used by a config or a group", id);
	if (rc != BS_OK)
		return bs_call_store_failed(call);
	call->data = json_object();
	return BS_OK;
}

static int page(bs_store_t *st, long offset, long limit, void **items, size_t *n)
{
	return bs_store_profile_list(st, offset, limit, (bs_profile_t **)items, n);
}

static void write_item(jw_t *w, const void *item)
{
	bs_profile_write(w, item);
}

static void clear_item(void *item)
{
	bs_profile_clear(item);
}

int bs_cmd_list_profiles(bs_call_t *call)
{
	static const bs_listing_t profiles = { "profiles", sizeof(bs_profile_t),
		bs_store_profile_count, page, write_item, clear_item };

	return bs_call_list(call, &profiles);
}
