/* listChannels and listConfigs: pages of at most 1000 items, with totals. */
#include "admin_int.h"

#include "error.h"
#include "jsonw.h"
#include "render.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 10
#define PAGE_MAX 1000

static int read_count(bs_call_t *call, const char *field, long min, long max,
		long *out)
{
	json_t *v = json_object_get(call->cmd, field);

	if (v == NULL)
		return BS_OK;
	if (!json_is_integer(v) || json_integer_value(v) < min
			|| json_integer_value(v) > max)
		return bs_call_fail(call, BS_ERR_INVALID,
				"%s: must be an integer from %ld to %ld", field, min, max);
	*out = (long)json_integer_value(v);
	return BS_OK;
}

int bs_call_page(bs_call_t *call, long *offset, long *limit)
{
	int rc;

	*offset = 0;
	*limit = PAGE_DEFAULT;
	if ((rc = read_count(call, "offset", 0, 1L << 40, offset)) != BS_OK)
		return rc;
	return read_count(call, "limit", 1, PAGE_MAX, limit);
}

/* {"<key>": items, "total": n, "offset": o, "limit": l}; steals items. */
static int page_data(bs_call_t *call, const char *key, json_t *items,
		long total, long offset, long limit)
{
	call->data = json_pack("{s:o, s:I, s:I, s:I}", key, items,
			"total", (json_int_t)total, "offset", (json_int_t)offset,
			"limit", (json_int_t)limit);
	if (call->data == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
}

int bs_call_page_text(bs_call_t *call, jw_t *w, int rc, long total, long offset,
		long limit)
{
	char tail[96];
	size_t len;

	if (rc != BS_OK) {
		free(jw_finish(w, &len));
		return rc;
	}
	snprintf(tail, sizeof(tail), ",\"total\":%ld,\"offset\":%ld,\"limit\":%ld}",
			total, offset, limit);
	jw_punct(w, tail);
	if ((call->data_text = jw_finish(w, &len)) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
}

int bs_call_list(bs_call_t *call, const bs_listing_t *l)
{
	char *items = NULL;
	size_t n = 0;
	long offset, limit, total;
	jw_t w;
	int rc;

	if ((rc = bs_call_page(call, &offset, &limit)) != BS_OK)
		return rc;
	if (l->count(call->core->store, &total) != BS_OK
			|| l->page(call->core->store, offset, limit, (void **)&items, &n) != BS_OK)
		rc = bs_call_store_failed(call);
	jw_init(&w);
	jw_punct(&w, "{\"");
	jw_punct(&w, l->key);
	jw_punct(&w, "\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jw_punct(&w, ",");
		l->write(&w, items + i * l->size);
		l->clear(items + i * l->size);
	}
	free(items);
	jw_punct(&w, "]");
	return bs_call_page_text(call, &w, rc, total, offset, limit);
}

int bs_cmd_list_channels(bs_call_t *call)
{
	bs_channel_t *list = NULL;
	size_t n = 0;
	long offset, limit, total;
	json_t *items;
	int rc;

	if ((rc = bs_call_page(call, &offset, &limit)) != BS_OK)
		return rc;
	if (bs_store_channel_count(call->core->store, &total) != BS_OK
			|| bs_store_channel_list(call->core->store, offset, limit, &list, &n) != BS_OK)
		return bs_call_store_failed(call);
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		if (items != NULL && json_array_append_new(items, bs_channel_json(&list[i])) != 0)
			json_decref(items), items = NULL;
		bs_channel_clear(&list[i]);
	}
	free(list);
	if (items == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return page_data(call, "channels", items, total, offset, limit);
}

/* cert_expires_before, as the store compares it: canonical UTC text. */
static int read_expiry(bs_call_t *call, bs_config_filter_t *f, char out[BS_TIME_LEN])
{
	const char *given;
	time_t t;
	int rc = bs_call_string(call, "cert_expires_before", &given);

	if (rc != BS_OK || given == NULL)
		return rc;
	/* Whole seconds, rounded up: before 10.5 s is before 11 s. */
	if (bs_time_parse(given, 1, &t) != BS_OK)
		return bs_call_fail(call, BS_ERR_INVALID, "cert_expires_before: must be an "
				"RFC 3339 time, such as 2027-01-01T00:00:00Z");
	bs_time_format(t, out);
	f->cert_expires_before = out;
	return BS_OK;
}

static int read_filter(bs_call_t *call, bs_config_filter_t *f, char expiry[BS_TIME_LEN])
{
	const char *state;
	int rc;

	memset(f, 0, sizeof(*f));
	f->enabled = -1;
	if ((rc = bs_call_string(call, "state", &state)) != BS_OK
			|| (rc = bs_call_string(call, "name", &f->name)) != BS_OK
			|| (rc = bs_call_string(call, "external_id", &f->external_id)) != BS_OK
			|| (rc = read_expiry(call, f, expiry)) != BS_OK)
		return rc;
	if (state == NULL)
		return BS_OK;
	if (strcmp(state, "enabled") != 0 && strcmp(state, "disabled") != 0)
		return bs_call_fail(call, BS_ERR_INVALID, "state: must be enabled or disabled");
	f->enabled = state[0] == 'e';
	return BS_OK;
}

int bs_cmd_list_configs(bs_call_t *call)
{
	bs_config_filter_t f;
	char expiry[BS_TIME_LEN];
	bs_config_t *list = NULL;
	size_t n = 0;
	long offset, limit, total;
	jw_t w;
	int rc;

	if ((rc = bs_call_page(call, &offset, &limit)) != BS_OK
			|| (rc = read_filter(call, &f, expiry)) != BS_OK)
		return rc;
	if (bs_store_config_count(call->core->store, &f, &total) != BS_OK
			|| bs_store_config_list(call->core->store, &f, offset, limit,
				BS_LOAD_CHANNELS | BS_LOAD_SECRET, &list, &n) != BS_OK)
		return bs_call_store_failed(call);
	jw_init(&w);
	jw_punct(&w, "{\"configs\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jw_punct(&w, ",");
		bs_render_config(call->core->store, &list[i], 0, call->message,
				sizeof(call->message));
		bs_config_admin_write(&w, &list[i], NULL);
		bs_config_clear(&list[i]);
	}
	free(list);
	jw_punct(&w, "]");
	return bs_call_page_text(call, &w, BS_OK, total, offset, limit);
}
