/*
 * The statistics of protocol section 8, published retained under
 * $SYS/broker/bootstrap/ every stats_interval seconds, from the tick.
 */
#include "plugin.h"

#include "error.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

#define STATS_ROOT "$SYS/broker/bootstrap/"

static void publish(const bs_stat_t *s)
{
	char topic[96], text[32];
	int len = snprintf(text, sizeof(text), "%lld", s->value);

	snprintf(topic, sizeof(topic), STATS_ROOT "%s", s->name);
	mosquitto_broker_publish_copy(NULL, topic, len, text, 0, true, NULL);
}

void bs_plugin_stats_tick(bs_plugin_t *p, time_t now)
{
	bs_stat_t figures[BS_STATS_N];
	int interval = p->core->opts.stats_interval;
	/* Never waits for the store: a figure it cannot read now (-1) waits
	 * for the next round. */
	int held;

	if (interval <= 0 || (p->last_stats != 0 && now - p->last_stats < interval))
		return;
	p->last_stats = now;
	held = bs_core_try(p->core) == BS_OK;
	bs_stats_collect(p->core, now, held, figures);
	if (held)
		bs_core_leave(p->core);
	for (int i = 0; i < BS_STATS_N; i++) {
		if (figures[i].value >= 0)
			publish(&figures[i]);
	}
}
