/* listUnknown and clearUnknown (protocol 7.3), and the forgetting of an
 * unknown device that has a config now. */
#include "admin_int.h"

#include "error.h"
#include "jsonw.h"
#include "store_unknown.h"

#include <stdio.h>
#include <stdlib.h>

void bs_unknown_forgotten(bs_core_t *core, const char *external_id, long deleted)
{
	int had_row = bs_unknown_drop(&core->unknown, external_id);

	if (deleted > 0 && !had_row)
		bs_unknown_row_gone(&core->unknown);
}

void bs_unknown_forget(bs_core_t *core, const char *external_id)
{
	long deleted = 0;

	if (bs_store_unknown_delete(core->store, external_id, &deleted) != BS_OK) {
		bs_core_log(core, BS_LOG_WARNING, "an unknown device is not forgotten "
				"in the store: %s", bs_store_errmsg(core->store));
		deleted = 0;
	}
	bs_unknown_forgotten(core, external_id, deleted);
}

/* {"external_id", "first_seen", "last_seen", "attempts", "address"}: never
 * a key, since none is kept. */
static void write_row(jw_t *w, const bs_unknown_row_t *r)
{
	char first[BS_TIME_LEN], last[BS_TIME_LEN], n[24];

	bs_time_format(r->first_seen, first);
	bs_time_format(r->last_seen, last);
	snprintf(n, sizeof(n), "%lld", (long long)r->attempts);
	jw_object_begin(w);
	jw_member(w, "external_id", r->external_id);
	jw_member(w, "first_seen", first);
	jw_member(w, "last_seen", last);
	jw_key(w, "attempts");
	jw_raw(w, n);
	jw_member(w, "address", r->address ? r->address : "");
	jw_object_end(w);
}

/* The batch began by writing what memory held (bs_core_flush), so the
 * store has every attempt so far. */
int bs_cmd_list_unknown(bs_call_t *call)
{
	bs_unknown_row_t *rows = NULL;
	size_t n = 0, len;
	long offset, limit, total;
	char tail[96];
	jw_t w;
	int rc;

	if ((rc = bs_call_page(call, &offset, &limit)) != BS_OK)
		return rc;
	if (bs_store_unknown_count(call->core->store, &total) != BS_OK
			|| bs_store_unknown_list(call->core->store, offset, limit, &rows, &n) != BS_OK)
		return bs_call_store_failed(call);
	jw_init(&w);
	jw_punct(&w, "{\"unknown\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jw_punct(&w, ",");
		write_row(&w, &rows[i]);
	}
	bs_unknown_rows_free(rows, n);
	snprintf(tail, sizeof(tail), "],\"total\":%ld,\"offset\":%ld,\"limit\":%ld}",
			total, offset, limit);
	jw_punct(&w, tail);
	if ((call->data_text = jw_finish(&w, &len)) == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	return BS_OK;
}

/* One external ID, or every one; {} even when it was not remembered. */
int bs_cmd_clear_unknown(bs_call_t *call)
{
	const char *ext;
	long deleted;
	int rc;

	if ((rc = bs_call_string(call, "external_id", &ext)) != BS_OK)
		return rc;
	snprintf(call->target, sizeof(call->target), "%s", ext ? ext : "");
	if (ext != NULL && bs_valid_external_id(ext, call->message,
			sizeof(call->message)) != BS_OK)
		return BS_ERR_INVALID;
	if (bs_store_unknown_delete(call->core->store, ext, &deleted) != BS_OK)
		return bs_call_store_failed(call);
	if (!bs_unknown_drop(&call->core->unknown, ext) && ext != NULL && deleted > 0)
		bs_unknown_row_gone(&call->core->unknown);
	return BS_OK;
}
