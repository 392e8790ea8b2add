/*
 * The benchmark's yardstick plugin: the broker's own cost of a request
 * answered by a plugin. It does what the bootstrap plugin does around its
 * store (take the request in MOSQ_EVT_MESSAGE, answer with a directed
 * publish, consume the request by rewriting it) and nothing else: no
 * parsing beyond finding two strings, no lookup, no crypto. Its reply has
 * the shape and size of a bootstrap reply for the benchmark's configs.
 *
 *   request  on bench/floor/req: {"external_id":"ext-N",...,"id":"I"}
 *   reply    on bench/floor/res/ext-N, directed to the sender:
 *            {"id":"I","client_id":"bench-N","client_secret":"<43>","channels":[]}
 *
 * Loaded beside the bootstrap plugin in the benchmark's own broker only.
 */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <stdio.h>
#include <string.h>

#define FLOOR_REQ "bench/floor/req"
#define FLOOR_RES "bench/floor/res/"
#define FLOOR_CONSUMED "$bench/consumed"
#define FIELD_MAX 64

static mosquitto_plugin_id_t *plugin_id;

/* The string value of "name":"..." in a flat request, or 0 when absent. */
static size_t find_value(const char *p, size_t len, const char *name, char *out)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i + nlen + 1 < len; i++) {
		size_t n = 0;

		if (memcmp(p + i, name, nlen) != 0 || p[i + nlen] != '"')
			continue;
		for (i += nlen + 1; i < len && p[i] != '"' && n < FIELD_MAX - 1; i++)
			out[n++] = p[i];
		out[n] = '\0';
		return n;
	}
	return 0;
}

static void answer(struct mosquitto_evt_message *ev)
{
	char ext[FIELD_MAX], id[FIELD_MAX], topic[sizeof(FLOOR_RES) + FIELD_MAX];
	char reply[256];
	const char *p = ev->payload;
	int len;

	if (find_value(p, ev->payloadlen, "\"external_id\":", ext) < 5
			|| find_value(p, ev->payloadlen, "\"id\":", id) == 0)
		return;
	snprintf(topic, sizeof(topic), FLOOR_RES "%s", ext);
	len = snprintf(reply, sizeof(reply), "{\"id\":\"%s\",\"client_id\":\"bench-%s\","
			"\"client_secret\":\"%.43s\",\"channels\":[]}", id, ext + 4,
			"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG");
	if (len > 0 && (size_t)len < sizeof(reply))
		mosquitto_broker_publish_copy(mosquitto_client_id(ev->client), topic,
				len, reply, ev->qos, false, NULL);
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ev = event_data;
	char *consumed;

	(void)event;
	(void)userdata;
	if (ev->topic == NULL || strcmp(ev->topic, FLOOR_REQ) != 0)
		return MOSQ_ERR_SUCCESS;
	answer(ev);
	consumed = mosquitto_strdup(FLOOR_CONSUMED);
	if (consumed == NULL)
		return MOSQ_ERR_NOMEM;
	mosquitto_free(ev->topic);
	ev->topic = consumed;
	ev->payload = NULL;
	ev->payloadlen = 0;
	ev->retain = false;
	mosquitto_property_free_all(&ev->properties);
	return MOSQ_ERR_SUCCESS;
}

__attribute__((visibility("default")))
int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	(void)supported_version_count;
	(void)supported_versions;
	return 5;
}

__attribute__((visibility("default")))
int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	plugin_id = identifier;
	return mosquitto_callback_register(plugin_id, MOSQ_EVT_MESSAGE, on_message,
			NULL, NULL);
}

__attribute__((visibility("default")))
int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
		int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message,
			NULL);
}
