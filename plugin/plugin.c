/* Entry points: version, init (options, core, callbacks), cleanup. */
#include "plugin.h"

#include "error.h"

#include <mosquitto.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

static void log_line(void *userdata, bs_log_level_t level, const char *line)
{
	static const int levels[] = {
		[BS_LOG_ERR] = MOSQ_LOG_ERR, [BS_LOG_WARNING] = MOSQ_LOG_WARNING,
		[BS_LOG_NOTICE] = MOSQ_LOG_NOTICE, [BS_LOG_INFO] = MOSQ_LOG_INFO,
	};

	(void)userdata;
	mosquitto_log_printf(levels[level], "bootstrap: %s", line);
}

static int read_options(struct mosquitto_opt *options, int count,
		bs_options_t *opts, char *err, size_t errlen)
{
	int rc = bs_options_init(opts);

	for (int i = 0; rc == BS_OK && i < count; i++)
		rc = bs_options_set(opts, options[i].key, options[i].value, err, errlen);
	if (rc == BS_OK)
		rc = bs_options_finish(opts, err, errlen);
	return rc;
}

static int register_all(bs_plugin_t *p)
{
	int rc = bs_plugin_acl_register(p);

	if (rc == MOSQ_ERR_SUCCESS)
		rc = bs_plugin_auth_register(p);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = bs_plugin_message_register(p);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = bs_plugin_control_register(p);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = bs_plugin_tick_register(p);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = bs_plugin_reload_register(p);
	return rc;
}

static void unregister_all(bs_plugin_t *p)
{
	bs_plugin_reload_unregister(p);
	bs_plugin_tick_unregister(p);
	bs_plugin_control_unregister(p);
	bs_plugin_message_unregister(p);
	bs_plugin_auth_unregister(p);
	bs_plugin_acl_unregister(p);
}

static void release(bs_plugin_t *p)
{
	unregister_all(p);
	bs_plugin_lookups_stop(p);
	bs_core_close(p->core);
	free(p);
}

EXPORT int mosquitto_plugin_version(int supported_version_count,
		const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == 5)
			return 5;
	}
	return -1;
}

EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier,
		void **userdata, struct mosquitto_opt *options, int option_count)
{
	bs_plugin_t *p = calloc(1, sizeof(*p));
	bs_options_t opts;
	char err[512] = "out of memory";
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (p == NULL) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "bootstrap: out of memory");
		return MOSQ_ERR_NOMEM;
	}
	p->id = identifier;
	rc = read_options(options, option_count, &opts, err, sizeof(err));
	if (rc == BS_OK)
		rc = bs_core_open(&opts, log_line, NULL, &p->core, err, sizeof(err));
	else
		bs_options_free(&opts);
	if (rc != BS_OK) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "bootstrap: refusing to start: %s", err);
		free(p);
		return MOSQ_ERR_INVAL;
	}
	if (bs_plugin_lookups_start(p, err, sizeof(err)) != BS_OK) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "bootstrap: refusing to start: %s", err);
		release(p);
		return MOSQ_ERR_INVAL;
	}
	if (register_all(p) != MOSQ_ERR_SUCCESS) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
				"bootstrap: refusing to start: cannot register the plugin's callbacks");
		release(p);
		return MOSQ_ERR_INVAL;
	}
	if (p->core->opts.acl_default == BS_ACL_DEFAULT_DEFER)
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "bootstrap: plugin_opt_acl_default "
				"is defer: topics outside %s/ and $CONTROL/bootstrap/ are left "
				"to acl_file or another plugin, and with neither Mosquitto denies "
				"them to every client; set plugin_opt_acl_default allow (or an "
				"acl_file) to keep other clients working",
				p->core->opts.topic_prefix);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	mosquitto_log_printf(MOSQ_LOG_INFO, "bootstrap: started in %.1f ms "
			"(schema version %d, requests on %s)",
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
			bs_store_schema_version(p->core->store), p->core->opts.req_topic);
	*userdata = p;
	return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options,
		int option_count)
{
	(void)options;
	(void)option_count;
	if (userdata != NULL)
		release(userdata);
	return MOSQ_ERR_SUCCESS;
}

char *bs_plugin_response_topic(const mosquitto_property *props)
{
	char *topic = NULL;

	if (props != NULL)
		mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &topic, false);
	return topic;
}

int bs_plugin_publish_corr(const char *clientid, const char *topic,
		const void *payload, size_t len, int qos, const void *corr, uint16_t corrlen)
{
	mosquitto_property *props = NULL;
	int rc;

	if (corr != NULL && (rc = mosquitto_property_add_binary(&props,
			MQTT_PROP_CORRELATION_DATA, corr, corrlen)) != MOSQ_ERR_SUCCESS)
		return rc;
	rc = mosquitto_broker_publish_copy(clientid, topic, (int)len, payload,
			qos, false, props);
	if (rc != MOSQ_ERR_SUCCESS)
		mosquitto_property_free_all(&props);
	return rc;
}

int bs_plugin_publish(const char *clientid, const char *topic,
		const void *payload, size_t len, int qos,
		const mosquitto_property *request_props)
{
	void *corr = NULL;
	uint16_t corrlen = 0;
	int rc;

	if (request_props != NULL)
		mosquitto_property_read_binary(request_props, MQTT_PROP_CORRELATION_DATA,
				&corr, &corrlen, false);
	rc = bs_plugin_publish_corr(clientid, topic, payload, len, qos, corr, corrlen);
	mosquitto_free(corr);
	return rc;
}
