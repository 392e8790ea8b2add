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
#include <mqtt_protocol.h>
#include <string.h>
#include <time.h>

void bs_plugin_answer(bs_plugin_t *p, bs_device_job_t *job, const char *clientid,
		int qos, const void *corr, uint16_t corrlen)
{
	bs_reply_t reply;

	if (bs_device_finish(p->core, job, &reply) != BS_OK) {
		bs_core_log(p->core, BS_LOG_ERR, "out of memory building a reply");
		return;
	}
	if (bs_plugin_publish_corr(clientid, reply.topic, reply.payload, reply.payloadlen,
			qos, corr, corrlen) != MOSQ_ERR_SUCCESS)
		bs_core_log(p->core, BS_LOG_WARNING, "cannot queue a reply");
	bs_plugin_kick(&reply.kicks);
	if (reply.event != NULL)
		bs_plugin_publish(NULL, BS_CONTROL_EVENTS_TOPIC, reply.event,
				strlen(reply.event), 0, NULL);
	bs_reply_free(&reply);
}

/* The lookup goes to the worker when there is one (db_url), else it runs
 * here; a full queue answers internal_error at once. */
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
	bs_device_job_t *job;
	void *corr = NULL;
	uint16_t corrlen = 0;
	int rc = bs_device_begin(p->core, &ctx, ev->payload, ev->payloadlen, &job);

	mosquitto_free(response_topic);
	if (rc != BS_OK) {
		bs_core_log(p->core, BS_LOG_ERR, "out of memory building a reply");
		return;
	}
	if (ev->properties != NULL)
		mosquitto_property_read_binary(ev->properties, MQTT_PROP_CORRELATION_DATA,
				&corr, &corrlen, false);
	if (bs_device_needs_lookup(job) && p->worker != NULL) {
		if (bs_plugin_lookups_submit(p, job, clientid, ev->qos, corr, corrlen) == BS_OK)
			return;
	} else if (bs_device_needs_lookup(job) && bs_core_enter(p->core) == BS_OK) {
		bs_device_lookup(p->core->store, job);
		bs_core_leave(p->core);
	}
	bs_plugin_answer(p, job, clientid, ev->qos, corr, corrlen);
	mosquitto_free(corr);
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
