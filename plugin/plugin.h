/* Private to the plugin: its state, and one registration pair per event
 * family (each in its own file). */
#ifndef BS_PLUGIN_H
#define BS_PLUGIN_H

#include "core.h"

#include <mosquitto.h>
#include <time.h>
#include <mosquitto_broker.h>

typedef struct bs_plugin {
	mosquitto_plugin_id_t *id;
	bs_core_t *core;
	long long last_tick_ms;
	time_t last_stats;          /* when the statistics were last published */
	char conf_path[4096];       /* the broker's configuration file, for reloads */
} bs_plugin_t;

int bs_plugin_message_register(bs_plugin_t *p);
void bs_plugin_message_unregister(bs_plugin_t *p);
int bs_plugin_control_register(bs_plugin_t *p);
void bs_plugin_control_unregister(bs_plugin_t *p);
int bs_plugin_acl_register(bs_plugin_t *p);
void bs_plugin_acl_unregister(bs_plugin_t *p);
int bs_plugin_auth_register(bs_plugin_t *p);
void bs_plugin_auth_unregister(bs_plugin_t *p);
int bs_plugin_tick_register(bs_plugin_t *p);
void bs_plugin_tick_unregister(bs_plugin_t *p);
int bs_plugin_reload_register(bs_plugin_t *p);
void bs_plugin_reload_unregister(bs_plugin_t *p);

/*
 * Publishes payload to one client (clientid set, no ACL, no subscription
 * needed) or to the topic's subscribers (clientid NULL), echoing the
 * request's Correlation Data when it had one.
 */
int bs_plugin_publish(const char *clientid, const char *topic,
		const void *payload, size_t len, int qos,
		const mosquitto_property *request_props);

/* Each tick: the statistics, when stats_interval has passed. */
void bs_plugin_stats_tick(bs_plugin_t *p, time_t now);

/* What the core needs to know of a client. */
void bs_plugin_client(const struct mosquitto *client, bs_client_t *out);

/* Ends the sessions k names. */
void bs_plugin_kick(const bs_kicks_t *k);

/* The request's MQTT v5 Response Topic (mosquitto_free it), or NULL. */
char *bs_plugin_response_topic(const mosquitto_property *props);

#endif
