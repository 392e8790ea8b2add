/* getStats (protocol section 8): the statistics as one object. */
#include "admin_int.h"

#include "error.h"
#include "stats.h"

int bs_cmd_get_stats(bs_call_t *call)
{
	bs_stat_t figures[BS_STATS_N];
	json_t *data = json_object();
	char key[64];

	if (data == NULL)
		return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
	/* An admin batch holds the store. */
	bs_stats_collect(call->core, call->ctx->now, 1, figures);
	for (int i = 0; i < BS_STATS_N; i++) {
		if (json_object_set_new(data, bs_stats_key(figures[i].name, key, sizeof(key)),
				json_integer(figures[i].value)) != 0) {
			json_decref(data);
			return bs_call_fail(call, BS_ERR_INTERNAL, "out of memory");
		}
	}
	call->data = data;
	return BS_OK;
}
