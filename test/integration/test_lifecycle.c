/*
 * The whole life of a bootstrapped device on this broker (protocol
 * section 5), on a real broker with plugin_opt_client_auth true, over MQTT
 * 3.1.1 and 5: it bootstraps, logs in with what it was given, talks on its
 * channel to a second device, loses the channel, is disabled, enabled,
 * rotated and deleted, and the broker follows each change at once.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static broker_t B;

/* A device: its config as the admin made it, and what bootstrapping gave. */
typedef struct {
	boot_cfg_t cfg;
	char *client_id, *client_secret;
} device_t;

static int suite_init(void)
{
	/* acl_default allow, so that a watcher may subscribe to '#' and see
	 * what a device must not be able to publish. */
	return broker_start(&B, "plugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow");
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* Bootstraps d with its external key; keeps client_id and client_secret. */
static bool bootstrap(int version, device_t *d)
{
	char *req = boot_request(d->cfg.external_id, d->cfg.external_key, "r1");
	char *sub = malloc(strlen(d->cfg.external_id) + 16);
	it_msg_t *m = NULL;
	json_t *reply = NULL;

	if (req != NULL && sub != NULL) {
		sprintf(sub, "bootstrap/res/%s", d->cfg.external_id);
		m = device_rr(&B, version, sub, req, (int)strlen(req), NULL);
		reply = msg_json(m);
	}
	free(d->client_id);
	free(d->client_secret);
	d->client_id = jstr(reply, "client_id") ? strdup(jstr(reply, "client_id")) : NULL;
	d->client_secret = jstr(reply, "client_secret")
		? strdup(jstr(reply, "client_secret")) : NULL;
	json_decref(reply);
	msg_free(m);
	free(sub);
	free(req);
	return d->client_id != NULL && d->client_secret != NULL;
}

static void device_free(device_t *d)
{
	boot_cfg_free(&d->cfg);
	free(d->client_id);
	free(d->client_secret);
	memset(d, 0, sizeof(*d));
}

static client_t *login(int version, const device_t *d)
{
	return client_connect(&B, version, NULL, d->client_id, d->client_secret);
}

static bool granted(client_t *c, const char *filter)
{
	int q = client_subscribe(c, filter, 1);
	return q >= 0 && q < 0x80;
}

static bool refused(client_t *c, const char *filter)
{
	return client_subscribe(c, filter, 1) >= 0x80;
}

static json_t *cmd_on(const char *command, const char *client_id)
{
	return json_pack("{ss ss}", "command", command, "client_id", client_id);
}

static bool admin_does(json_t *cmd)
{
	json_t *data = admin_ok_take(&B, cmd);
	bool ok = data != NULL;
	json_decref(data);
	return ok;
}

/* from publishes text on topic; to receives exactly that. */
static bool delivered(client_t *from, client_t *to, const char *topic, const char *text)
{
	pub_opts_t o = { .qos = 1 };
	it_msg_t *m;
	bool ok;

	if (client_publish(from, topic, text, (int)strlen(text), &o) < 0)
		return false;
	m = client_wait(to, IT_WAIT_MS);
	ok = m != NULL && strcmp(m->topic, topic) == 0 && strcmp(m->payload, text) == 0;
	msg_free(m);
	return ok;
}

/* from publishes on topic; none of the watchers receives it. */
static bool not_delivered(client_t *from, client_t *w1, client_t *w2, const char *topic)
{
	pub_opts_t o = { .qos = 1 };

	client_publish(from, topic, "x", 1, &o);
	return client_expect_none(w1, IT_QUIET_MS) && client_expect_none(w2, 100);
}

/* Two devices on one channel, both enabled and bootstrapped. */
static bool two_devices(int version, device_t *a, device_t *b)
{
	char *ea = unique_name("life-a"), *eb = unique_name("life-b");
	json_t *extra = NULL;
	bool ok = make_config(&B, ea, NULL, true, &a->cfg) == 0;

	if (ok)
		extra = json_pack("{s[s]}", "channels", a->cfg.channel_id);
	ok = ok && make_config(&B, eb, extra, true, &b->cfg) == 0
		&& bootstrap(version, a) && bootstrap(version, b);
	json_decref(extra);
	free(ea);
	free(eb);
	return ok;
}

/* ---- the life --------------------------------------------------------- */

static void life(int version)
{
	device_t a = { 0 }, b = { 0 };
	client_t *ca = NULL, *cb = NULL, *watch = NULL;
	char *topic = NULL, *mine = NULL, *other = NULL;
	char *boot_b = NULL;

	if (!CHECK(two_devices(version, &a, &b)))
		goto out;
	CHECK_STR(a.client_id, a.cfg.client_id);
	CHECK_STR(a.client_secret, a.cfg.client_secret);
	topic = channel_topic(a.cfg.channel_id, "temperature");
	mine = channel_topic(a.cfg.channel_id, "#");
	other = channel_topic(b.cfg.channel_id, "#");
	ca = login(version, &a);
	cb = login(version, &b);
	watch = client_connect(&B, version, NULL, NULL, NULL);
	if (!CHECK(ca != NULL && cb != NULL && watch != NULL))
		goto out;
	CHECK(granted(watch, "#"));

	/* On its channel it talks to the other device. */
	CHECK(granted(cb, mine));
	CHECK(delivered(ca, cb, topic, "21.5"));
	it_msg_t *seen = client_wait(watch, IT_WAIT_MS);
	CHECK(seen != NULL);
	msg_free(seen);
	/* Nowhere else. */
	CHECK(refused(ca, "#"));
	CHECK(refused(ca, "channels/+/messages/#"));
	CHECK(refused(ca, other));
	CHECK(refused(ca, "elsewhere"));
	CHECK(not_delivered(ca, cb, watch, "elsewhere"));
	CHECK(not_delivered(ca, cb, watch, "$SYS/fake"));

	/* Its channel is removed from its config: refused at once. */
	CHECK(admin_does(json_pack("{ss ss s[]}", "command", "modifyConfig",
			"client_id", a.client_id, "channels")));
	CHECK(refused(ca, mine));
	CHECK(not_delivered(ca, cb, watch, topic));
	/* And given back. */
	CHECK(admin_does(json_pack("{ss ss s[s]}", "command", "modifyConfig",
			"client_id", a.client_id, "channels", a.cfg.channel_id)));
	CHECK(delivered(ca, cb, topic, "22"));
	msg_free(client_wait(watch, IT_WAIT_MS));

	/* Disabled: disconnected, and refused. */
	CHECK(admin_does(cmd_on("disableConfig", a.client_id)));
	CHECK(client_wait_gone(ca, IT_WAIT_MS));
	client_close(ca);
	ca = login(version, &a);
	CHECK(ca == NULL);
	/* Enabled: in again. */
	CHECK(admin_does(cmd_on("enableConfig", a.client_id)));
	client_close(ca);
	ca = login(version, &a);
	if (CHECK(ca != NULL))
		CHECK(delivered(ca, cb, topic, "23"));
	msg_free(client_wait(watch, IT_WAIT_MS));

	/* A wrong secret is refused. */
	client_t *wrong = client_connect(&B, version, NULL, a.client_id, "not-the-secret");
	CHECK(wrong == NULL);
	client_close(wrong);

	/* b's secret is rotated: its session ends, the old secret is refused,
	 * and bootstrapping again gives the new one, which works. */
	boot_b = strdup(b.client_secret);
	CHECK(admin_does(json_pack("{ss ss sb}", "command", "modifyConfig",
			"client_id", b.client_id, "rotate_secret", 1)));
	CHECK(client_wait_gone(cb, IT_WAIT_MS));
	client_close(cb);
	cb = login(version, &b);
	CHECK(cb == NULL);
	if (CHECK(bootstrap(version, &b)))
		CHECK(strcmp(b.client_secret, boot_b) != 0);
	client_close(cb);
	cb = login(version, &b);
	CHECK(cb != NULL && granted(cb, mine));

	/* Deleted: disconnected, and refused for good. */
	CHECK(admin_does(cmd_on("deleteConfig", a.client_id)));
	CHECK(client_wait_gone(ca, IT_WAIT_MS));
	client_close(ca);
	ca = login(version, &a);
	CHECK(ca == NULL);
out:
	free(boot_b);
	client_close(ca);
	client_close(cb);
	client_close(watch);
	free(topic);
	free(mine);
	free(other);
	device_free(&a);
	device_free(&b);
}

static void test_life_over_mqtt311(void)
{
	life(4);
}

static void test_life_over_mqtt5(void)
{
	life(5);
}

/* Deleting a channel takes it from a logged-in device at once. */
static void test_deleted_channel_is_refused_at_once(void)
{
	device_t a = { 0 };
	char *ext = unique_name("life-ch"), *mine = NULL;
	client_t *c = NULL;

	if (!CHECK(make_config(&B, ext, NULL, true, &a.cfg) == 0 && bootstrap(5, &a)))
		goto out;
	mine = channel_topic(a.cfg.channel_id, "#");
	c = login(5, &a);
	if (!CHECK(c != NULL))
		goto out;
	CHECK(granted(c, mine));
	CHECK(admin_does(json_pack("{ss ss}", "command", "deleteChannel",
			"id", a.cfg.channel_id)));
	CHECK(refused(c, mine));
out:
	client_close(c);
	free(mine);
	free(ext);
	device_free(&a);
}

/* Other usernames are the broker's other sources' to decide. */
static void test_other_users_are_deferred(void)
{
	client_t *alice = client_connect(&B, 4, NULL, "alice", "alicepw");
	client_t *bad = client_connect(&B, 4, NULL, "alice", "wrong");
	client_t *nobody = client_connect(&B, 4, NULL, "nobody", "x");
	client_t *anon = client_connect(&B, 4, NULL, NULL, NULL);

	CHECK(alice != NULL);
	CHECK(bad == NULL);
	CHECK(nobody == NULL);
	if (CHECK(anon != NULL))
		CHECK(granted(anon, "anything/#"));
	if (alice != NULL)
		CHECK(granted(alice, "anything/#"));
	client_close(alice);
	client_close(bad);
	client_close(nobody);
	client_close(anon);
}

static const cu_test_t tests[] = {
	{ "life_over_mqtt311", test_life_over_mqtt311 },
	{ "life_over_mqtt5", test_life_over_mqtt5 },
	{ "deleted_channel_is_refused_at_once", test_deleted_channel_is_refused_at_once },
	{ "other_users_are_deferred", test_other_users_are_deferred },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("lifecycle", suite_init, suite_clean, tests);
	return cu_run("test_lifecycle");
}
