/*
 * lib/sessions.c: the login of bootstrapped clients, their ACL answers,
 * and what admin changes do to them, through the core and a real database
 * (the admin fixture), with certificates made by the openssl command.
 */
#include "admin_env.h"
#include "cu_main.h"
#include "sessions.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAN_TOPIC "channels/ch1/messages/t"

/* The certificate the fake client presents, or NULL. */
static X509 *presented;

static void *present(const void *handle)
{
	(void)handle;
	if (presented != NULL)
		X509_up_ref(presented);
	return presented;
}

static bs_client_t client(const void *handle, const char *id, const char *user)
{
	bs_client_t c = { .handle = handle, .client_id = id, .username = user,
		.cert = present };
	return c;
}

/* A channel ch1 and an enabled config dev-1 on it with secret s3cret. */
static void make_device(const char *cert)
{
	json_t *cmd = json_pack("{ss ss ss ss s[s]}", "command", "createConfig",
			"client_id", "dev-1", "external_id", "ext-1",
			"client_secret", "s3cret", "channels", "ch1");

	if (cert != NULL)
		json_object_set_new(cmd, "client_cert", json_string(cert));
	ok_data(create_channel("ch1", "one"));
	ok_data(run1(cmd));
	ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", "dev-1")));
}

/* Runs one command (stolen) and applies its effects; kicks go to k. */
static void admin_apply(json_t *cmd, bs_kicks_t *k)
{
	ok_data(run1(cmd));
	bs_sessions_apply(env.core, env.last.effects, env.last.neffects, k);
}

static int has_kick(const bs_kicks_t *k, int by_username, const char *name)
{
	for (size_t i = 0; i < k->n; i++) {
		if (k->v[i].by_username == by_username && strcmp(k->v[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static bs_acl_t acl(const bs_client_t *c, const char *topic, int access)
{
	return bs_client_acl(env.core, c, topic, access);
}

static void test_login_needs_the_secret_of_an_enabled_config(void)
{
	int h;
	bs_client_t dev = client(&h, "mqtt-1", "dev-1");
	bs_client_t other = client(&h, "mqtt-2", "alice");
	bs_client_t anon = client(&h, "mqtt-3", NULL);

	env_open();
	make_device(NULL);
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_OK);
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "wrong"), BS_LOGIN_REFUSED);
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, NULL), BS_LOGIN_REFUSED);
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cre"), BS_LOGIN_REFUSED);
	CU_ASSERT_EQUAL(bs_login(env.core, &other, "whatever"), BS_LOGIN_DEFER);
	CU_ASSERT_EQUAL(bs_login(env.core, &anon, NULL), BS_LOGIN_DEFER);
	ok_data(run1(json_pack("{ss ss}", "command", "disableConfig", "client_id", "dev-1")));
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_REFUSED);
	ok_data(run1(json_pack("{ss ss}", "command", "deleteConfig", "client_id", "dev-1")));
	/* A deleted config's client_id is refused, not left to others... */
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_REFUSED);
	/* ...until a config has it again. */
	ok_data(run1(json_pack("{ss ss ss ss}", "command", "createConfig",
			"client_id", "dev-1", "external_id", "ext-2", "client_secret", "new")));
	ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", "dev-1")));
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "new"), BS_LOGIN_OK);
	env_close();
}

static void test_a_logged_in_device_has_its_channel_and_nothing_else(void)
{
	int h;
	bs_client_t dev = client(&h, "mqtt-1", "dev-1");
	bs_client_t other = client(&h, "mqtt-2", "alice");

	env_open();
	make_device(NULL);
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_OK);
	CU_ASSERT_EQUAL(acl(&dev, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_ALLOW);
	CU_ASSERT_EQUAL(acl(&dev, CHAN_TOPIC, BS_ACCESS_READ), BS_ACL_ALLOW);
	CU_ASSERT_EQUAL(acl(&dev, "channels/ch1/messages", BS_ACCESS_WRITE), BS_ACL_ALLOW);
	CU_ASSERT_EQUAL(acl(&dev, "channels/ch1/messages/#", BS_ACCESS_SUBSCRIBE), BS_ACL_ALLOW);
	CU_ASSERT_EQUAL(acl(&dev, "bootstrap/req", BS_ACCESS_WRITE), BS_ACL_ALLOW);
	CU_ASSERT_EQUAL(acl(&dev, "#", BS_ACCESS_SUBSCRIBE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&dev, "channels/+/messages/#", BS_ACCESS_SUBSCRIBE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&dev, "channels/ch2/messages/t", BS_ACCESS_WRITE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&dev, "elsewhere", BS_ACCESS_WRITE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&dev, "$SYS/broker/uptime", BS_ACCESS_READ), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&dev, "$CONTROL/bootstrap/v1", BS_ACCESS_WRITE), BS_ACL_DENY);
	/* Another user's topics are left to the broker's other sources. */
	CU_ASSERT_EQUAL(bs_login(env.core, &other, "pw"), BS_LOGIN_DEFER);
	CU_ASSERT_EQUAL(acl(&other, "elsewhere", BS_ACCESS_WRITE), BS_ACL_DEFER);
	env_close();
}

static void test_admin_changes_follow_at_once(void)
{
	int h;
	bs_client_t dev = client(&h, "mqtt-1", "dev-1");
	bs_kicks_t k = { 0 };
	json_t *reply;
	const char *secret;

	env_open();
	make_device(NULL);
	ok_data(create_channel("ch2", "two"));
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_OK);
	admin_apply(json_pack("{ss ss s[s]}", "command", "modifyConfig",
			"client_id", "dev-1", "channels", "ch2"), &k);
	CU_ASSERT_EQUAL(k.n, 0);
	CU_ASSERT_EQUAL(acl(&dev, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&dev, "channels/ch2/messages/t", BS_ACCESS_WRITE), BS_ACL_ALLOW);
	admin_apply(json_pack("{ss ss}", "command", "deleteChannel", "id", "ch2"), &k);
	CU_ASSERT_EQUAL(acl(&dev, "channels/ch2/messages/t", BS_ACCESS_WRITE), BS_ACL_DENY);
	admin_apply(json_pack("{ss ss sb}", "command", "modifyConfig",
			"client_id", "dev-1", "rotate_secret", 1), &k);
	CU_ASSERT_TRUE(has_kick(&k, 0, "mqtt-1"));
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_REFUSED);
	reply = json_loads(env.last.payload, 0, NULL);
	secret = str(json_object_get(json_array_get(json_object_get(reply,
			"responses"), 0), "data"), "client_secret");
	CU_ASSERT_TRUE(secret != NULL && strcmp(secret, "s3cret") != 0);
	json_decref(reply);
	bs_kicks_free(&k);
	admin_apply(json_pack("{ss ss}", "command", "disableConfig", "client_id", "dev-1"), &k);
	CU_ASSERT_TRUE(has_kick(&k, 1, "dev-1"));
	/* Until the broker ends it, the session may do nothing. */
	CU_ASSERT_EQUAL(acl(&dev, "channels/ch1/messages/t", BS_ACCESS_WRITE), BS_ACL_DENY);
	bs_kicks_free(&k);
	env_close();
}

static void test_a_session_outlives_its_disconnect_until_the_tick(void)
{
	int h1, h2;
	bs_client_t dev = client(&h1, "mqtt-1", "dev-1");
	bs_client_t again = client(&h2, "mqtt-1", "dev-1");
	bs_kicks_t k = { 0 };

	env_open();
	make_device(NULL);
	CU_ASSERT_EQUAL(bs_login(env.core, &dev, "s3cret"), BS_LOGIN_OK);
	/* A new connection with the same client id takes the session over;
	 * the old one's disconnect does not end the new one. */
	CU_ASSERT_EQUAL(bs_login(env.core, &again, "s3cret"), BS_LOGIN_OK);
	/* The old one (its will) is refused, without taking the session. */
	CU_ASSERT_EQUAL(acl(&dev, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_DENY);
	bs_client_gone(env.core, &dev);
	CU_ASSERT_EQUAL(acl(&again, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_ALLOW);
	bs_sessions_tick(env.core, &k);
	CU_ASSERT_EQUAL(k.n, 0);
	CU_ASSERT_EQUAL(acl(&again, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_ALLOW);
	bs_client_gone(env.core, &again);
	bs_sessions_tick(env.core, &k);
	/* Nothing is held but the two (empty) tables. */
	CU_ASSERT_EQUAL(bs_sessions_bytes(&env.core->sessions),
			(env.core->sessions.clients.cap + env.core->sessions.records.cap)
			* sizeof(void *));
	bs_kicks_free(&k);
	env_close();
}

/* dir/name.pem made by openssl for CN name, read back. */
static char *make_cert(const char *name)
{
	char cmd[1024], path[256];

	snprintf(path, sizeof(path), "%s/%s.pem", env.dir, name);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
			"ec_paramgen_curve:prime256v1 -nodes -keyout %s/%s.key -out %s "
			"-days 2 -subj /CN=dev-1 2>/dev/null", env.dir, name, path);
	if (system(cmd) != 0)
		return NULL;
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 8192);
	if (f != NULL && text != NULL)
		fread(text, 1, 8191, f);
	if (f != NULL)
		fclose(f);
	return keep(text);
}

static X509 *parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return x;
}

static void test_a_certificate_identity_must_be_the_configs_cert(void)
{
	int h1, h2;
	bs_client_t good = client(&h1, "tls-1", "dev-1");
	bs_client_t bad = client(&h2, "tls-2", "dev-1");
	bs_kicks_t k = { 0 };
	char *cert, *other;

	env_open();
	cert = make_cert("good");
	other = make_cert("other");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	make_device(cert);
	presented = parse(cert);
	CU_ASSERT_EQUAL(acl(&good, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_ALLOW);
	X509_free(presented);
	presented = parse(other);
	CU_ASSERT_EQUAL(acl(&bad, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&bad, "bootstrap/req", BS_ACCESS_WRITE), BS_ACL_DENY);
	bs_sessions_tick(env.core, &k);
	CU_ASSERT_TRUE(has_kick(&k, 0, "tls-2"));
	bs_kicks_free(&k);
	/* Refused, but gone before the tick: a disconnected client is never
	 * kicked (the broker would end its session twice). */
	CU_ASSERT_EQUAL(acl(&bad, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_DENY);
	bs_client_gone(env.core, &bad);
	bs_sessions_tick(env.core, &k);
	CU_ASSERT_EQUAL(k.n, 0);
	CU_ASSERT_EQUAL(acl(&bad, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_DENY);
	bs_sessions_tick(env.core, &k);
	CU_ASSERT_TRUE(has_kick(&k, 0, "tls-2"));
	bs_kicks_free(&k);
	/* A renewed certificate ends the sessions of the old one. */
	admin_apply(json_pack("{ss ss ss}", "command", "modifyConfig",
			"client_id", "dev-1", "client_cert", other), &k);
	CU_ASSERT_TRUE(has_kick(&k, 0, "tls-1"));
	bs_kicks_free(&k);
	/* Once deleted, the config's certificate may do nothing. */
	admin_apply(json_pack("{ss ss}", "command", "deleteConfig", "client_id", "dev-1"), &k);
	CU_ASSERT_TRUE(has_kick(&k, 1, "dev-1"));
	bs_kicks_free(&k);
	CU_ASSERT_EQUAL(acl(&bad, CHAN_TOPIC, BS_ACCESS_WRITE), BS_ACL_DENY);
	CU_ASSERT_EQUAL(acl(&bad, "elsewhere", BS_ACCESS_WRITE), BS_ACL_DENY);
	X509_free(presented);
	presented = NULL;
	env_close();
}

static const cu_test_t tests[] = {
	{ "login_needs_the_secret_of_an_enabled_config",
		test_login_needs_the_secret_of_an_enabled_config },
	{ "a_logged_in_device_has_its_channel_and_nothing_else",
		test_a_logged_in_device_has_its_channel_and_nothing_else },
	{ "admin_changes_follow_at_once", test_admin_changes_follow_at_once },
	{ "a_session_outlives_its_disconnect_until_the_tick",
		test_a_session_outlives_its_disconnect_until_the_tick },
	{ "a_certificate_identity_must_be_the_configs_cert",
		test_a_certificate_identity_must_be_the_configs_cert },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("sessions", NULL, suite_clean, tests);
	return cu_run("test_sessions");
}
