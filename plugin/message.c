/*
 * MOSQ_EVT_MESSAGE: device requests on <prefix>/req.
 *
 * The request is answered with a directed publish to its sender, then
 * consumed: the broker goes on routing the message, so the callback turns
 * it into an empty, non-retained message on $<prefix>/consumed without
 * properties, a topic that '#' does not match and that the plugin's ACL lets
 * nobody read. Returning an error instead would refuse the PUBLISH (a QoS 1
 * sender would see 0x87) or disconnect the sender.
 */
#include "plugin.h"

#include "admin.h"
#include "device.h"
#include "error.h"

#include <mosquitto.h>
#include <string.h>
#include <time.h>

static void answer(bs_plugin_t *p, struct mosquitto_evt_message *ev)
{
	const char *clientid = mosquitto_client_id(ev->client);
	char *response_topic = bs_plugin_response_topic(ev->properties);
	bs_request_ctx_t ctx = {
		.client_id = clientid,
		.address = mosquitto_client_address(ev->client),
		.response_topic = response_topic,
		.now = time(NULL),
	};
	bs_reply_t reply;

	if (bs_device_handle(p->core, &ctx, ev->payload, ev->payloadlen, &reply) == BS_OK) {
		if (bs_plugin_publish(clientid, reply.topic, reply.payload,
				reply.payloadlen, ev->qos, ev->properties) != MOSQ_ERR_SUCCESS)
			bs_core_log(p->core, BS_LOG_WARNING, "cannot queue a reply");
		bs_plugin_kick(&reply.kicks);
		if (reply.event != NULL)
			bs_plugin_publish(NULL, BS_CONTROL_EVENTS_TOPIC, reply.event,
					strlen(reply.event), 0, NULL);
		bs_reply_free(&reply);
	} else {
		bs_core_log(p->core, BS_LOG_ERR, "out of memory building a reply");
	}
	mosquitto_free(response_topic);
}

static int consume(bs_plugin_t *p, struct mosquitto_evt_message *ev)
{
	char *topic = mosquitto_strdup(p->core->opts.consumed_topic);

	if (topic == NULL)
		return MOSQ_ERR_NOMEM;
	mosquitto_free(ev->topic);
	ev->topic = topic;
	/* The broker frees the old payload when it sees a new pointer. */
	ev->payload = NULL;
	ev->payloadlen = 0;
	ev->retain = false;
	mosquitto_property_free_all(&ev->properties);
	return MOSQ_ERR_SUCCESS;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ev = event_data;
	bs_plugin_t *p = userdata;

	(void)event;
	if (ev->topic == NULL || strcmp(ev->topic, p->core->opts.req_topic) != 0)
		return MOSQ_ERR_SUCCESS;
	answer(p, ev);
	return consume(p, ev);
}

int bs_plugin_message_register(bs_plugin_t *p)
{
	return mosquitto_callback_register(p->id, MOSQ_EVT_MESSAGE, on_message, NULL, p);
}

void bs_plugin_message_unregister(bs_plugin_t *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_MESSAGE, on_message, NULL);
}
