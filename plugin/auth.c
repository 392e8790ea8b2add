/*
 * MOSQ_EVT_BASIC_AUTH and MOSQ_EVT_DISCONNECT, registered with
 * client_auth true: the login of bootstrapped clients and the end of their
 * sessions (lib/sessions.c).
 */
#include "plugin.h"

#include "sessions.h"

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ev = event_data;
	bs_plugin_t *p = userdata;
	bs_client_t c;

	(void)event;
	bs_plugin_client(ev->client, &c);
	switch (bs_login(p->core, &c, ev->password)) {
	case BS_LOGIN_OK:
		return MOSQ_ERR_SUCCESS;
	case BS_LOGIN_REFUSED:
		return MOSQ_ERR_AUTH;
	default:
		return MOSQ_ERR_PLUGIN_DEFER;
	}
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ev = event_data;
	bs_plugin_t *p = userdata;
	bs_client_t c;

	(void)event;
	bs_plugin_client(ev->client, &c);
	bs_client_gone(p->core, &c);
	return MOSQ_ERR_SUCCESS;
}

static void *certificate(const void *handle)
{
	return mosquitto_client_certificate(handle);
}

void bs_plugin_client(const struct mosquitto *client, bs_client_t *out)
{
	out->handle = client;
	out->client_id = mosquitto_client_id(client);
	out->username = mosquitto_client_username(client);
	out->cert = certificate;
}

void bs_plugin_kick(const bs_kicks_t *k)
{
	for (size_t i = 0; i < k->n; i++) {
		if (k->v[i].by_username)
			mosquitto_kick_client_by_username(k->v[i].name, false);
		else
			mosquitto_kick_client_by_clientid(k->v[i].name, false);
	}
}

int bs_plugin_auth_register(bs_plugin_t *p)
{
	int rc;

	if (!p->core->opts.client_auth)
		return MOSQ_ERR_SUCCESS;
	rc = mosquitto_callback_register(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_callback_register(p->id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, p);
	return rc;
}

void bs_plugin_auth_unregister(bs_plugin_t *p)
{
	if (!p->core->opts.client_auth)
		return;
	mosquitto_callback_unregister(p->id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
}
