/* MOSQ_EVT_TICK: writes the recorded bootstraps about once a second. */
#include "plugin.h"

#include <time.h>

static int on_tick(int event, void *event_data, void *userdata)
{
	bs_plugin_t *p = userdata;
	time_t now = time(NULL); /* the 2.0 tick event carries no time */

	(void)event;
	(void)event_data;
	if (now != p->last_flush) {
		p->last_flush = now;
		bs_core_flush(p->core);
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
