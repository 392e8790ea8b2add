/*
 * Certificate identity on a real broker (protocol section 5, last
 * paragraph): on a TLS listener with require_certificate and
 * use_identity_as_username, a client whose certificate CN is a config's
 * client_id is that config's client, as long as the certificate it presents
 * is the config's current client_cert.
 *
 * The broker runs with acl_default allow, so that every refusal seen here is
 * the plugin's own answer and not a deferral the broker turned into one;
 * that is also what lets a stranger's certificate through. Each check runs
 * over MQTT 3.1.1 and 5; the certificates come from a test CA made with the
 * openssl command in the broker's directory.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DROP_MS 2000            /* a refused certificate client is gone by then */
#define STAY_MS 1000            /* long enough to see a client is not dropped */

static broker_t B;
static const pub_opts_t qos1 = { .qos = 1 };

/* test_<check>: the check over MQTT 3.1.1, then over MQTT 5. */
#define BOTH_VERSIONS(check) \
	static void test_##check(void) \
	{ \
		check(4); \
		check(5); \
	}

static int suite_init(void)
{
	return broker_start_flags(&B, "plugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow", BROKER_TLS);
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

/* ---- devices ---------------------------------------------------------- */

/* A config whose client_id is the CN of the certificate file "<name>". */
typedef struct {
	boot_cfg_t cfg;
	char *name;                 /* certificate and key file name = the CN */
	char filter[IT_PATH_MAX];   /* channels/<channel>/messages/# */
	char topic[IT_PATH_MAX];    /* channels/<channel>/messages/t */
} device_t;

static void device_free(device_t *d)
{
	boot_cfg_free(&d->cfg);
	free(d->name);
	memset(d, 0, sizeof *d);
}

/*
 * A certificate from the test CA for a fresh CN, and a config (enabled when
 * enable is set) on a channel of its own, with that CN as client_id and that
 * certificate as client_cert.
 */
static bool new_device(bool enable, device_t *d)
{
	char *cert = NULL, *ext = unique_name("cert-dev");
	json_t *extra = NULL;
	bool ok = false;

	memset(d, 0, sizeof *d);
	d->name = unique_name("cn");
	if (ext == NULL || d->name == NULL ||
			make_signed_cert(B.dir, "ca", d->name, d->name, &cert, NULL) != 0)
		goto out;
	extra = json_pack("{ss ss}", "client_id", d->name, "client_cert", cert);
	if (extra == NULL || make_config(&B, ext, extra, enable, &d->cfg) != 0)
		goto out;
	snprintf(d->filter, sizeof d->filter, "channels/%s/messages/#", d->cfg.channel_id);
	snprintf(d->topic, sizeof d->topic, "channels/%s/messages/t", d->cfg.channel_id);
	ok = strcmp(d->cfg.client_id, d->name) == 0;
out:
	if (!CHECK(ok))
		device_free(d);
	json_decref(extra);
	free(cert);
	free(ext);
	return ok;
}

/* Another certificate for the device's CN, from the same CA, new key. */
static char *other_cert(const device_t *d, const char *suffix)
{
	size_t n = strlen(d->name) + strlen(suffix) + 2;
	char *name = malloc(n);

	if (name != NULL)
		snprintf(name, n, "%s-%s", d->name, suffix);
	if (name != NULL &&
			make_signed_cert(B.dir, "ca", name, d->name, NULL, NULL) != 0) {
		free(name);
		name = NULL;
	}
	CHECK(name != NULL);
	return name;
}

/* The path of the file <name>.<ext> in the broker's directory. */
static bool cert_file(const char *name, const char *ext, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s.%s", B.dir, name, ext);
	return n > 0 && (size_t)n < len;
}

/* A TLS client presenting the certificate file "<name>"; see
 * client_connect_tls for connack. */
static client_t *connect_cert(int version, const char *name, int *connack)
{
	char cert[IT_PATH_MAX], key[IT_PATH_MAX];

	if (connack != NULL)
		*connack = -1;
	if (!cert_file(name, "pem", cert, sizeof cert) ||
			!cert_file(name, "key", key, sizeof key))
		return NULL;
	return client_connect_tls(&B, version, NULL, cert, key, connack);
}

static bool admin_on(const char *command, const char *client_id)
{
	json_t *data = admin_ok_take(&B, admin_cmd_by(command, "client_id", client_id));
	bool ok = data != NULL;

	json_decref(data);
	return CHECK(ok);
}

static bool modify(const char *client_id, json_t *change)
{
	json_t *cmd = json_pack("{ss ss}", "command", "modifyConfig",
			"client_id", client_id);
	json_t *data = NULL;

	if (cmd != NULL && change != NULL && json_object_update(cmd, change) == 0)
		data = admin_ok(&B, cmd);
	json_decref(cmd);
	json_decref(change);
	bool ok = data != NULL;
	json_decref(data);
	return CHECK(ok);
}

/* ---- what a client can do --------------------------------------------- */

static bool granted(int suback)
{
	return suback >= 0 && suback < 0x80;
}

/* A QoS 1 publish the broker took: PUBACK success (0x10, no subscribers, is
 * one too). */
static bool published(int puback)
{
	return puback >= 0 && puback < 0x80;
}

/* The admin on the plain listener, subscribed to filter. */
static client_t *watcher(const char *filter)
{
	client_t *w = client_connect(&B, 5, NULL, "admin", "adminpw");

	if (w != NULL && !granted(client_subscribe(w, filter, 1))) {
		client_close(w);
		w = NULL;
	}
	CHECK(w != NULL);
	return w;
}

/* The next message c gets is payload on topic. */
static bool gets(client_t *c, const char *topic, const char *payload)
{
	it_msg_t *m = client_wait(c, IT_WAIT_MS);
	bool ok = CHECK(m != NULL);

	if (ok) {
		ok = CHECK_STR(m->topic, topic);
		ok = CHECK_STR(m->payload, payload) && ok;
	}
	msg_free(m);
	return ok;
}

/* c may subscribe to its channel and publish there, and hears itself. */
static bool uses_channel(client_t *c, const device_t *d)
{
	bool ok = CHECK(granted(client_subscribe(c, d->filter, 1)));

	ok = CHECK(published(client_publish(c, d->topic, "hello", 5, &qos1))) && ok;
	return gets(c, d->topic, "hello") && ok;
}

/* A fresh client with the certificate "<name>" uses d's channel. */
static void check_works(int version, const device_t *d, const char *name)
{
	client_t *c = connect_cert(version, name, NULL);

	if (CHECK(c != NULL))
		uses_channel(c, d);
	client_close(c);
}

/*
 * A fresh client with the certificate "<name>" gets nothing out of d's
 * config: refused at CONNACK, or let in and then granted no subscription to
 * the channel, its publish there reaching no one, and disconnected within
 * DROP_MS. A CONNACK must come either way, so that a failed TLS handshake
 * cannot pass for a refusal.
 */
static void check_shut_out(int version, const device_t *d, const char *name)
{
	client_t *w = watcher(d->filter);
	int connack = -1;
	client_t *c = connect_cert(version, name, &connack);

	if (!CHECK(c != NULL || connack > 0))
		goto out;
	if (c != NULL) {
		CHECK(!granted(client_subscribe(c, d->filter, 1)));
		/* Once dropped, a publish cannot even be tried. */
		if (!client_wait_gone(c, 0)) {
			int rc = client_publish(c, d->topic, "intruder", 8, &qos1);
			if (version == 5)
				CHECK(!published(rc));
		}
		CHECK(client_wait_gone(c, DROP_MS));
	}
	if (w != NULL)
		CHECK(client_expect_none(w, IT_QUIET_MS));
out:
	client_close(c);
	client_close(w);
}

/*
 * After command on d's config, the connected client c is disconnected
 * within DROP_MS and gets nothing of what the admin publishes on its
 * channel meanwhile.
 */
static void check_cut_off(client_t *c, const device_t *d, const char *command)
{
	client_t *w = watcher(d->filter);

	if (!admin_on(command, d->cfg.client_id) || w == NULL)
		goto out;
	CHECK(published(client_publish(w, d->topic, "after", 5, &qos1)));
	CHECK(client_wait_gone(c, DROP_MS));
	it_msg_t *m = client_wait(c, 0);
	if (!CHECK(m == NULL))
		fprintf(stderr, "after %s the client got %s\n", command, m->topic);
	msg_free(m);
out:
	client_close(w);
}

/* The connected certificate client of a stranger's CN publishes on topic,
 * the admin hears it, and it is not dropped. */
static void check_stranger(client_t *c, const char *topic)
{
	client_t *w = watcher(topic);

	if (CHECK(w != NULL)) {
		CHECK(published(client_publish(c, topic, "free", 4, &qos1)));
		gets(w, topic, "free");
		CHECK(!client_wait_gone(c, STAY_MS));
	}
	client_close(w);
}

/* ---- the checks ------------------------------------------------------- */

static void cert_client_uses_its_channel(int version)
{
	device_t d;
	int connack = -1;

	if (!new_device(true, &d))
		return;
	client_t *c = connect_cert(version, d.name, &connack);
	if (CHECK(c != NULL))
		uses_channel(c, &d);
	else
		fprintf(stderr, "v%d: connack %d\n", version, connack);
	client_close(c);
	device_free(&d);
}
BOTH_VERSIONS(cert_client_uses_its_channel)

/*
 * Refused "#", the all-channels wildcard and another config's channel;
 * publishes on another channel and on an arbitrary topic reach no one. The
 * admin watches all of them, and the client's own publish, sent last, must
 * be the first thing the admin sees.
 */
static void refused_elsewhere(client_t *c, const device_t *d,
		const device_t *other, int version)
{
	client_t *w = watcher("channels/#");
	char *free_topic = unique_name("elsewhere/t");

	if (!CHECK(w != NULL && free_topic != NULL) ||
			!CHECK(granted(client_subscribe(w, "elsewhere/#", 1))))
		goto out;
	CHECK(!granted(client_subscribe(c, "#", 1)));
	CHECK(!granted(client_subscribe(c, "channels/+/messages/#", 1)));
	CHECK(!granted(client_subscribe(c, other->filter, 1)));
	int to_other = client_publish(c, other->topic, "stray", 5, &qos1);
	int to_free = client_publish(c, free_topic, "stray", 5, &qos1);
	if (version == 5)
		CHECK(!published(to_other) && !published(to_free));
	CHECK(published(client_publish(c, d->topic, "mine", 4, &qos1)));
	gets(w, d->topic, "mine");
	CHECK(client_expect_none(w, IT_QUIET_MS));
out:
	client_close(w);
	free(free_topic);
}

static void cert_client_refused_outside_its_channel(int version)
{
	device_t d, other;

	if (!new_device(true, &d))
		return;
	if (new_device(true, &other)) {
		client_t *c = connect_cert(version, d.name, NULL);
		if (CHECK(c != NULL))
			refused_elsewhere(c, &d, &other, version);
		client_close(c);
		device_free(&other);
	}
	device_free(&d);
}
BOTH_VERSIONS(cert_client_refused_outside_its_channel)

/*
 * A certificate with the config's CN from the same CA, but not the
 * config's client_cert, is shut out; the genuine client, connected
 * meanwhile, keeps working and never sees the intruder's message.
 */
static void same_cn_other_cert_is_shut_out(int version)
{
	device_t d;

	if (!new_device(true, &d))
		return;
	char *twin = other_cert(&d, "twin");
	client_t *genuine = connect_cert(version, d.name, NULL);
	if (CHECK(twin != NULL && genuine != NULL) &&
			CHECK(granted(client_subscribe(genuine, d.filter, 1)))) {
		check_shut_out(version, &d, twin);
		uses_channel(genuine, &d);
	}
	client_close(genuine);
	free(twin);
	device_free(&d);
}
BOTH_VERSIONS(same_cn_other_cert_is_shut_out)

static void disable_disconnects_and_enable_restores(int version)
{
	device_t d;

	if (!new_device(true, &d))
		return;
	client_t *c = connect_cert(version, d.name, NULL);
	if (CHECK(c != NULL) && uses_channel(c, &d)) {
		check_cut_off(c, &d, "disableConfig");
		check_shut_out(version, &d, d.name);
		if (admin_on("enableConfig", d.cfg.client_id))
			check_works(version, &d, d.name);
	}
	client_close(c);
	device_free(&d);
}
BOTH_VERSIONS(disable_disconnects_and_enable_restores)

/* A config created disabled lets its certificate do nothing. */
static void never_enabled_config_shuts_cert_out(int version)
{
	device_t d;

	if (!new_device(false, &d))
		return;
	check_shut_out(version, &d, d.name);
	device_free(&d);
}
BOTH_VERSIONS(never_enabled_config_shuts_cert_out)

/* modifyConfig of d's client_cert to the PEM of the certificate "<name>". */
static bool set_client_cert(const device_t *d, const char *name)
{
	char path[IT_PATH_MAX];
	char *pem = cert_file(name, "pem", path, sizeof path)
		? read_file_text(path, NULL) : NULL;
	bool ok = CHECK(pem != NULL) &&
		modify(d->cfg.client_id, json_pack("{ss}", "client_cert", pem));

	free(pem);
	return ok;
}

/*
 * modifyConfig with a renewed client_cert for the same CN revokes the old
 * one: its session ends, it is shut out, and the new one works.
 */
static void renewed_cert_revokes_the_old(int version)
{
	device_t d;

	if (!new_device(true, &d))
		return;
	char *renewed = other_cert(&d, "renewed");
	client_t *c = connect_cert(version, d.name, NULL);
	if (CHECK(renewed != NULL && c != NULL) && uses_channel(c, &d) &&
			set_client_cert(&d, renewed)) {
		CHECK(client_wait_gone(c, DROP_MS));
		check_shut_out(version, &d, d.name);
		check_works(version, &d, renewed);
	}
	client_close(c);
	free(renewed);
	device_free(&d);
}
BOTH_VERSIONS(renewed_cert_revokes_the_old)

/*
 * deleteConfig ends the connected session, which gets nothing meanwhile,
 * and the deleted config's certificate (still signed by the CA) may do
 * nothing afterwards, though acl_default allow would let a stranger in.
 */
static void delete_disconnects_and_shuts_cert_out(int version)
{
	device_t d;

	if (!new_device(true, &d))
		return;
	client_t *c = connect_cert(version, d.name, NULL);
	if (CHECK(c != NULL) && uses_channel(c, &d)) {
		check_cut_off(c, &d, "deleteConfig");
		check_shut_out(version, &d, d.name);
	}
	client_close(c);
	device_free(&d);
}
BOTH_VERSIONS(delete_disconnects_and_shuts_cert_out)

/*
 * modifyConfig channels moves the connected certificate client to the new
 * channel at its next check, without ending its session.
 */
static void channel_change_applies_to_connected_cert_client(int version)
{
	device_t d, other;

	if (!new_device(true, &d))
		return;
	if (new_device(true, &other)) {
		client_t *c = connect_cert(version, d.name, NULL);
		if (CHECK(c != NULL) && uses_channel(c, &d) &&
				modify(d.cfg.client_id, json_pack("{s[s]}", "channels",
						other.cfg.channel_id))) {
			CHECK(!granted(client_subscribe(c, d.filter, 1)));
			uses_channel(c, &other);
		}
		client_close(c);
		device_free(&other);
	}
	device_free(&d);
}
BOTH_VERSIONS(channel_change_applies_to_connected_cert_client)

/*
 * A certificate whose CN is no config's client_id is the broker's business:
 * under acl_default allow it publishes on an arbitrary topic and stays.
 */
static void unknown_cn_is_left_to_the_broker(int version)
{
	char *name = unique_name("stranger");
	char topic[IT_PATH_MAX];
	client_t *c = NULL;

	if (!CHECK(name != NULL &&
			make_signed_cert(B.dir, "ca", name, name, NULL, NULL) == 0))
		goto out;
	snprintf(topic, sizeof topic, "free/%s", name);
	c = connect_cert(version, name, NULL);
	if (CHECK(c != NULL))
		check_stranger(c, topic);
out:
	client_close(c);
	free(name);
}
BOTH_VERSIONS(unknown_cn_is_left_to_the_broker)

static const cu_test_t cert_tests[] = {
	{ "cert_client_uses_its_channel", test_cert_client_uses_its_channel },
	{ "cert_client_refused_outside_its_channel",
		test_cert_client_refused_outside_its_channel },
	{ "same_cn_other_cert_is_shut_out", test_same_cn_other_cert_is_shut_out },
	{ "disable_disconnects_and_enable_restores",
		test_disable_disconnects_and_enable_restores },
	{ "never_enabled_config_shuts_cert_out",
		test_never_enabled_config_shuts_cert_out },
	{ "renewed_cert_revokes_the_old", test_renewed_cert_revokes_the_old },
	{ "delete_disconnects_and_shuts_cert_out",
		test_delete_disconnects_and_shuts_cert_out },
	{ "channel_change_applies_to_connected_cert_client",
		test_channel_change_applies_to_connected_cert_client },
	{ "unknown_cn_is_left_to_the_broker", test_unknown_cn_is_left_to_the_broker },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("cert_identity", suite_init, suite_clean, cert_tests);
	return cu_run("test_cert_identity");
}
