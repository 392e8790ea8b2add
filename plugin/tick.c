/* MOSQ_EVT_TICK: publishes the device answers that the lookup thread has
 * ready (every loop), hands the recorded bootstraps over, ends sessions,
 * logs, publishes the statistics. */
#include "plugin.h"

#include "changes.h"
#include "devlog.h"

#include <time.h>

static int on_tick(int event, void *event_data, void *userdata)
{
	bs_plugin_t *p = userdata;
	struct timespec ts;
	long long now_ms;

	(void)event;
	(void)event_data;
	bs_plugin_lookups_tick(p);
	/* The 2.0 tick event carries no time, and comes with every loop. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now_ms - p->last_tick_ms >= BS_TICK_MS) {
		bs_kicks_t kicks;
		p->last_tick_ms = now_ms;
		bs_core_tick(p->core, now_ms);
		bs_devlog_tick(p->core, time(NULL));
		bs_plugin_stats_tick(p, time(NULL));
		bs_sessions_tick(p->core, &kicks);
		bs_changes_poll(p->core, now_ms, &kicks);
		bs_plugin_kick(&kicks);
		bs_kicks_free(&kicks);
	}
	return MOSQ_ERR_SUCCESS;
}

int bs_plugin_tick_register(bs_plugin_t *p)
{
	return mosquitto_callback_register(p->id, MOSQ_EVT_TICK, on_tick, NULL, p);
}

void bs_plugin_tick_unregister(bs_plugin_t *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
}
