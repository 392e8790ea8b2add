/* Private to the plugin: its state, and one registration pair per event
 * family (each in its own file). */
#ifndef BS_PLUGIN_H
#define BS_PLUGIN_H

#include "core.h"
#include "device.h"

#include <mosquitto.h>
#include <time.h>
#include <mosquitto_broker.h>

typedef struct bs_plugin {
	mosquitto_plugin_id_t *id;
	bs_core_t *core;
	long long last_tick_ms;
	time_t last_stats;          /* when the statistics were last published */
	char conf_path[4096];       /* the broker's configuration file, for reloads */
	/* Device lookups off the broker thread (lookups.c), with db_url. */
	bs_store_t *lookup_store;
	struct bs_worker *worker;
	/* The login replica's own store connection (lib/logins.h). */
	bs_store_t *logins_store;
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
/* The same with the Correlation Data given (corr NULL for none). */
int bs_plugin_publish_corr(const char *clientid, const char *topic,
		const void *payload, size_t len, int qos, const void *corr, uint16_t corrlen);

/* Finishes a device request (bs_device_finish) and publishes its answer
 * to clientid, with what the answer brings (kicks, an event). */
void bs_plugin_answer(bs_plugin_t *p, bs_device_job_t *job, const char *clientid,
		int qos, const void *corr, uint16_t corrlen);

/* The device lookups of lookups.c: started at init when the store is
 * db_url (a no-op otherwise), stopped at cleanup before the core closes;
 * submit hands a begun request over with its Correlation Data (mosquitto
 * allocated; BS_OK), or fails with nothing taken;
 * the tick publishes the answers ready. */
int bs_plugin_lookups_start(bs_plugin_t *p, char *err, size_t errlen);
void bs_plugin_lookups_stop(bs_plugin_t *p);
int bs_plugin_lookups_submit(bs_plugin_t *p, bs_device_job_t *job,
		const char *clientid, int qos, void *corr, uint16_t corrlen);
void bs_plugin_lookups_tick(bs_plugin_t *p);

/* Each tick: the statistics, when stats_interval has passed. */
void bs_plugin_stats_tick(bs_plugin_t *p, time_t now);

/* What the core needs to know of a client. */
void bs_plugin_client(const struct mosquitto *client, bs_client_t *out);

/* Ends the sessions k names. */
void bs_plugin_kick(const bs_kicks_t *k);

/* The request's MQTT v5 Response Topic (mosquitto_free it), or NULL. */
char *bs_plugin_response_topic(const mosquitto_property *props);

#endif
