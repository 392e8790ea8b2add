/*
 * MOSQ_EVT_CONTROL on $CONTROL/bootstrap/v1: admin command batches.
 *
 * The broker has already checked the WRITE ACL; when admin_users is set the
 * sender is checked once more here, so that another plugin's or file's
 * ACL granting the topic cannot open the admin API to others.
 */
#include "plugin.h"

#include "acl.h"
#include "admin.h"
#include "error.h"
#include "login_view.h"
#include "model.h"

#include <mosquitto.h>
#include <string.h>
#include <time.h>

static void reply(const struct mosquitto_evt_control *ev, const bs_admin_result_t *res)
{
	char *topic = bs_plugin_response_topic(ev->properties);
	int qos = ev->qos > 1 ? 1 : ev->qos;

	if (topic != NULL && bs_valid_topic_name(topic))
		bs_plugin_publish(mosquitto_client_id(ev->client), topic, res->payload,
				res->payloadlen, qos, ev->properties);
	else
		bs_plugin_publish(NULL, BS_CONTROL_RESPONSE_TOPIC, res->payload,
				res->payloadlen, qos, ev->properties);
	mosquitto_free(topic);
}

/* Applies the batch's effects, then ends the sessions they name (which
 * calls back into the cache, so only once the effects are applied). */
static void end_sessions(bs_plugin_t *p, const bs_admin_result_t *res)
{
	bs_kicks_t kicks = { 0 };

	bs_sessions_apply(p->core, res->effects, res->neffects, &kicks);
	bs_login_view_changed(p->core, res->effects, res->neffects);
	/* The channels of live sessions, from the entries just read. */
	bs_sessions_reload_pending(p->core, &kicks);
	bs_plugin_kick(&kicks);
	bs_kicks_free(&kicks);
}

static int on_control(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_control *ev = event_data;
	bs_plugin_t *p = userdata;
	const char *username = mosquitto_client_username(ev->client);
	bs_admin_ctx_t ctx = {
		.username = username,
		.client_id = mosquitto_client_id(ev->client),
		.now = time(NULL),
	};
	bs_admin_result_t res;

	(void)event;
	if (p->core->opts.admin_users != NULL
			&& !bs_options_is_admin(&p->core->opts, username))
		return MOSQ_ERR_ACL_DENIED;
	if (bs_admin_handle(p->core, &ctx, ev->payload, ev->payloadlen, &res) != BS_OK) {
		bs_core_log(p->core, BS_LOG_ERR, "out of memory answering an admin batch");
		return MOSQ_ERR_NOMEM;
	}
	reply(ev, &res);
	end_sessions(p, &res);
	/* To every admin subscribed: the topic is readable by admins alone. */
	for (size_t i = 0; i < res.nevents; i++)
		bs_plugin_publish(NULL, BS_CONTROL_EVENTS_TOPIC, res.events[i],
				strlen(res.events[i]), 0, NULL);
	bs_admin_result_free(&res);
	return MOSQ_ERR_SUCCESS;
}

int bs_plugin_control_register(bs_plugin_t *p)
{
	return mosquitto_callback_register(p->id, MOSQ_EVT_CONTROL, on_control,
			BS_CONTROL_TOPIC, p);
}

void bs_plugin_control_unregister(bs_plugin_t *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_CONTROL, on_control,
			BS_CONTROL_TOPIC);
}
