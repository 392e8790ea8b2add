/* MOSQ_EVT_ACL_CHECK: the answers of lib/acl.c, in the broker's codes. */
#include "plugin.h"

#include "acl.h"
#include "sessions.h"

static int on_acl(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ev = event_data;
	bs_plugin_t *p = userdata;
	bs_acl_t a;

	(void)event;
	if (p->core->opts.client_auth) {
		bs_client_t c;
		bs_plugin_client(ev->client, &c);
		a = bs_client_acl(p->core, &c, ev->topic, ev->access);
	} else {
		a = bs_acl_check(&p->core->opts, mosquitto_client_username(ev->client),
				ev->topic, ev->access);
	}
	switch (a) {
	case BS_ACL_ALLOW:
		return MOSQ_ERR_SUCCESS;
	case BS_ACL_DENY:
		return MOSQ_ERR_ACL_DENIED;
	default:
		return MOSQ_ERR_PLUGIN_DEFER;
	}
}

int bs_plugin_acl_register(bs_plugin_t *p)
{
	return mosquitto_callback_register(p->id, MOSQ_EVT_ACL_CHECK, on_acl, NULL, p);
}

void bs_plugin_acl_unregister(bs_plugin_t *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl, NULL);
}
