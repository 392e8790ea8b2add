/*
 * The plugin on PostgreSQL (db_url): a real PostgreSQL started for the
 * test (test/common/pg_server.h), a real broker on it, devices that
 * bootstrap with their lookups on the plugin's lookup thread, a second
 * broker on the same database that knows the same devices, and service
 * that resumes by itself after PostgreSQL restarts.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "sealed.h"
#include "store_db.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A broker on a fresh database, or on url with the master key of the
 * broker peer (the key file is each broker's copy of one key); its
 * bootstrapped clients may log in. */
static int start_on(broker_t *b, char *url, size_t len, const broker_t *peer)
{
	char conf[700];

	if (peer == NULL && test_store_db("", url, len) != 0)
		return -1;
	snprintf(conf, sizeof conf, "plugin_opt_db_url %s\nplugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow", url);
	if (peer == NULL)
		return broker_start(b, conf);
	return broker_prepare_peer(b, conf, peer) == 0 ? broker_launch(b) : -1;
}

/* Brokers a, b and c on one fresh database, with one key: 0 when all
 * three are up, else -1 with none left running. */
static int start_three(broker_t *a, broker_t *b, broker_t *c)
{
	char url[256];

	if (start_on(a, url, sizeof url, NULL) != 0)
		return -1;
	if (start_on(b, url, sizeof url, a) == 0) {
		if (start_on(c, url, sizeof url, a) == 0)
			return 0;
		broker_cleanup(b);
	}
	broker_cleanup(a);
	return -1;
}

static void stop_three(broker_t *a, broker_t *b, broker_t *c)
{
	broker_cleanup(c);
	broker_cleanup(b);
	broker_cleanup(a);
}

/* external_id bootstraps with key: the reply, parsed (NULL for none). */
static json_t *bootstrap(const broker_t *b, const char *external_id, const char *key)
{
	char *req = boot_request(external_id, key, "r1");
	it_msg_t *m = req != NULL ? device_rr(b, 5, NULL, req, (int)strlen(req), NULL) : NULL;
	json_t *reply = msg_json(m);

	msg_free(m);
	free(req);
	return reply;
}

static void expect_bootstrap(const broker_t *b, const boot_cfg_t *cfg)
{
	json_t *reply = bootstrap(b, cfg->external_id, cfg->external_key);

	CHECK(reply != NULL);
	CHECK(json_object_get(reply, "error") == NULL);
	CHECK_STR(jstr(reply, "id"), "r1");
	CHECK_STR(jstr(reply, "client_id"), cfg->client_id);
	CHECK_STR(jstr(reply, "client_secret"), cfg->client_secret);
	json_decref(reply);
}

static void expect_error(const broker_t *b, const char *external_id, const char *key,
		const char *code)
{
	json_t *reply = bootstrap(b, external_id, key);

	CHECK(reply != NULL);
	CHECK_STR(jstr(reply, "error"), code);
	CHECK(json_object_get(reply, "client_secret") == NULL);
	json_decref(reply);
}

static void test_devices_bootstrap_from_postgresql(void)
{
	char url[256];
	broker_t b;
	boot_cfg_t on = { 0 }, off = { 0 };
	char *e1 = unique_name("pg-on"), *e2 = unique_name("pg-off");

	if (!CHECK(start_on(&b, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&b, e1, NULL, true, &on) == 0)
			|| !CHECK(make_config(&b, e2, NULL, false, &off) == 0))
		goto stop;
	CHECK(broker_log_contains(&b, "device lookups run on a thread of their own"));
	for (int i = 0; i < 20; i++)
		expect_bootstrap(&b, &on);
	expect_error(&b, e1, "wrong-key-0123456789", "unauthorized");
	expect_error(&b, "pg-nobody", "wrong-key-0123456789", "unauthorized");
	expect_error(&b, e2, off.external_key, "disabled");
stop:
	broker_cleanup(&b);
out:
	boot_cfg_free(&on);
	boot_cfg_free(&off);
	free(e1);
	free(e2);
}

/* The store is the database's, not the broker's: a restart, or a second
 * broker on the same database, finds the same configs. */
static void test_a_second_broker_and_a_restart_find_the_same_configs(void)
{
	char url[256];
	broker_t a, b;
	boot_cfg_t cfg = { 0 };
	char *ext = unique_name("pg-shared");

	if (!CHECK(start_on(&a, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&a, ext, NULL, true, &cfg) == 0))
		goto stop_a;
	if (CHECK(start_on(&b, url, sizeof url, &a) == 0)) {
		expect_bootstrap(&b, &cfg);
		broker_cleanup(&b);
	}
	CHECK(broker_stop(&a) == 0);
	if (CHECK(broker_launch(&a) == 0))
		expect_bootstrap(&a, &cfg);
stop_a:
	broker_cleanup(&a);
out:
	boot_cfg_free(&cfg);
	free(ext);
}

/* PostgreSQL restarted under the broker: every connection it had is cut.
 * The lookup thread connects again before its next lookup, and the broker
 * thread's connection (admin commands) at its next tick; nothing is
 * answered wrong meanwhile. */
static void test_service_resumes_after_postgresql_restarts(void)
{
	char url[256];
	broker_t b;
	boot_cfg_t cfg = { 0 };
	char *ext = unique_name("pg-restart");
	json_t *got = NULL;

	if (!CHECK(start_on(&b, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&b, ext, NULL, true, &cfg) == 0))
		goto stop;
	expect_bootstrap(&b, &cfg);
	CHECK(bs_pg_server_restart(test_pg_server()) == 0);
	expect_bootstrap(&b, &cfg);
	expect_error(&b, ext, "wrong-key-0123456789", "unauthorized");
	for (int i = 0; i < 30 && got == NULL; i++) {
		if ((got = admin_get_config(&b, "client_id", cfg.client_id)) == NULL)
			usleep(100 * 1000);
	}
	CHECK(got != NULL);
	CHECK_STR(jstr(got, "external_id"), ext);
	json_decref(got);
stop:
	broker_cleanup(&b);
out:
	boot_cfg_free(&cfg);
	free(ext);
}

/* The lookup thread reads channels through caches of its own: a channel
 * an admin renamed is the new one in the very next bootstrap. */
static void test_a_renamed_channel_is_in_the_next_bootstrap(void)
{
	char url[256];
	broker_t b;
	boot_cfg_t cfg = { 0 };
	char *ext = unique_name("pg-rename"), *name = NULL;
	json_t *data;

	if (!CHECK(start_on(&b, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&b, ext, NULL, true, &cfg) == 0))
		goto stop;
	name = boot_channel_name(&b, &cfg);
	CHECK(name != NULL && strcmp(name, "renamed") != 0);
	data = admin_ok_take(&b, json_pack("{s:s, s:s, s:s}", "command", "modifyChannel",
			"id", cfg.channel_id, "name", "renamed"));
	CHECK(data != NULL);
	json_decref(data);
	free(name);
	name = boot_channel_name(&b, &cfg);
	CHECK_STR(name, "renamed");
stop:
	broker_cleanup(&b);
out:
	free(name);
	boot_cfg_free(&cfg);
	free(ext);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/*
 * Three brokers on one database: an admin change made through A is in
 * force on B and C within a second (the contract, section 11): the
 * disabled config's session on B ends, its login on C is refused, and a
 * renamed channel is in B's next bootstrap.
 */
static void test_a_change_through_one_broker_is_in_force_on_the_others(void)
{
	char *ext = unique_name("pg-three"), *name = NULL;
	broker_t a, b, c;
	boot_cfg_t cfg = { 0 };
	client_t *dev = NULL;
	json_t *data;
	double t0;

	if (!CHECK(start_three(&a, &b, &c) == 0))
		goto out;
	if (!CHECK(make_config(&a, ext, NULL, true, &cfg) == 0))
		goto stop;
	/* B and C hear of the new config, and read its login view, first. */
	CHECK(client_connack_within(&b, 5, cfg.client_id, cfg.client_secret, true, 1000) >= 0);
	dev = client_connect(&b, 5, cfg.client_id, cfg.client_id, cfg.client_secret);
	CHECK(dev != NULL);
	CHECK(client_connack_within(&c, 5, cfg.client_id, cfg.client_secret, true, 1000) >= 0);
	data = admin_ok_take(&a, json_pack("{s:s, s:s, s:s}", "command", "modifyChannel",
			"id", cfg.channel_id, "name", "renamed everywhere"));
	CHECK(data != NULL);
	json_decref(data);
	usleep(200 * 1000);
	name = boot_channel_name(&b, &cfg);
	CHECK_STR(name, "renamed everywhere");
	t0 = now_ms();
	data = admin_ok_take(&a, admin_cmd_by("disableConfig", "client_id", cfg.client_id));
	CHECK(data != NULL);
	json_decref(data);
	if (dev != NULL && CHECK(client_wait_gone(dev, IT_WAIT_MS))) {
		double took = now_ms() - t0;
		printf("\n    a disable through A ended the session on B in %.0f ms\n", took);
		CHECK(took <= 1000);
	}
	CHECK(client_connack(&c, 5, cfg.client_id, cfg.client_secret) != 0);
stop:
	if (dev != NULL)
		client_close(dev);
	stop_three(&a, &b, &c);
out:
	free(name);
	boot_cfg_free(&cfg);
	free(ext);
}

/*
 * PostgreSQL stopped under the broker: a bootstrap answers internal_error
 * (never a wrong answer), a login is refused, other clients' traffic goes
 * on; once PostgreSQL is back, service resumes by itself.
 */
static void test_postgresql_stopped_then_back(void)
{
	char url[256], *ext = unique_name("pg-down");
	broker_t b;
	boot_cfg_t cfg = { 0 };
	client_t *other = NULL;
	json_t *reply = NULL;
	double t0;

	if (!CHECK(start_on(&b, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&b, ext, NULL, true, &cfg) == 0))
		goto stop;
	other = client_connect(&b, 5, "bystander", NULL, NULL);
	CHECK(other != NULL);
	if (!CHECK(bs_pg_server_pause(test_pg_server()) == 0))
		goto stop;
	t0 = now_ms();
	expect_error(&b, ext, cfg.external_key, "internal_error");
	printf("\n    with PostgreSQL stopped, a bootstrap answered internal_error in %.0f ms\n",
			now_ms() - t0);
	CHECK(client_connack(&b, 5, cfg.client_id, cfg.client_secret) != 0);
	if (other != NULL)
		CHECK(client_echo(other, "plant/+/temp", "plant/1/temp") == 0);
	CHECK(bs_pg_server_resume(test_pg_server()) == 0);
	for (int i = 0; i < 50; i++) {
		json_decref(reply);
		reply = bootstrap(&b, ext, cfg.external_key);
		if (reply != NULL && json_object_get(reply, "error") == NULL)
			break;
		usleep(100 * 1000);
	}
	CHECK(reply != NULL && json_object_get(reply, "error") == NULL);
	CHECK_STR(jstr(reply, "client_secret"), cfg.client_secret);
	json_decref(reply);
stop:
	if (other != NULL)
		client_close(other);
	broker_cleanup(&b);
out:
	boot_cfg_free(&cfg);
	free(ext);
}

/* Sends payload to b as a fresh device; the reply, parsed (NULL for none). */
static json_t *ask(const broker_t *b, const char *payload)
{
	it_msg_t *m = device_rr(b, 5, NULL, payload, (int)strlen(payload), NULL);
	json_t *reply = msg_json(m);

	msg_free(m);
	return reply;
}

/* A nonce for ext from b into nonce; 0 when one came. */
static int challenge(const broker_t *b, const char *ext, uint8_t nonce[32])
{
	char req[400];
	uint8_t raw[48];
	json_t *reply;
	int rc = -1;

	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"op\":\"challenge\"}", ext);
	reply = ask(b, req);
	if (jstr(reply, "nonce") != NULL && sealed_unb64(jstr(reply, "nonce"), raw) == 32) {
		memcpy(nonce, raw, 32);
		rc = 0;
	}
	json_decref(reply);
	return rc;
}

/* The answer for ext to nonce, proved with key, sent to b; its reply. */
static json_t *prove(const broker_t *b, const char *ext, const char *key,
		const uint8_t nonce[32])
{
	char proof[64], nonce64[64], req[600];
	uint8_t copy[48];

	if (sealed_proof(b->dir, key, nonce, ext, proof) != 0)
		return NULL;
	memcpy(copy, nonce, 32);
	EVP_EncodeBlock((unsigned char *)nonce64, copy, 32);
	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"nonce\":\"%s\","
			"\"proof\":\"%s\",\"id\":\"p1\"}", ext, nonce64, proof);
	return ask(b, req);
}

static void expect_proof_refused(const broker_t *b, const boot_cfg_t *cfg,
		const uint8_t nonce[32])
{
	json_t *reply = prove(b, cfg->external_id, cfg->external_key, nonce);

	CHECK_STR(jstr(reply, "error"), "unauthorized");
	CHECK(json_object_get(reply, "encrypted") == NULL);
	json_decref(reply);
}

/* The success reply to a proof, opened as the device opens it. */
static void expect_proof_opens(const broker_t *b, const boot_cfg_t *cfg,
		const uint8_t nonce[32])
{
	json_t *reply = prove(b, cfg->external_id, cfg->external_key, nonce), *plain = NULL;
	size_t len = strlen(cfg->external_id);
	uint8_t key[32], aad[512];

	CHECK_STR(jstr(reply, "id"), "p1");
	memcpy(aad, cfg->external_id, len);
	memcpy(aad + len, nonce, 32);
	if (CHECK(sealed_key(cfg->external_key, cfg->external_id, key) == 0))
		plain = sealed_open(reply, key, aad, len + 32);
	if (CHECK(plain != NULL))
		CHECK_STR(jstr(plain, "client_secret"), cfg->client_secret);
	json_decref(plain);
	json_decref(reply);
}

/*
 * A challenge issued by broker A is answered through broker B (section
 * 11), once: the same answer again, through B or through C, is
 * unauthorized, and a nonce serves only the external_id it was issued to.
 */
static void test_a_challenge_from_one_broker_is_answered_through_another_once(void)
{
	char *ext = unique_name("pg-nonce"), *other = unique_name("pg-other");
	broker_t a, b, c;
	boot_cfg_t cfg = { 0 }, cfg2 = { 0 };
	uint8_t nonce[32], nonce2[32];

	if (!CHECK(start_three(&a, &b, &c) == 0))
		goto out;
	if (!CHECK(make_config(&a, ext, NULL, true, &cfg) == 0)
			|| !CHECK(make_config(&a, other, NULL, true, &cfg2) == 0))
		goto stop;
	if (CHECK(challenge(&a, ext, nonce) == 0)) {
		expect_proof_opens(&b, &cfg, nonce);
		expect_proof_refused(&c, &cfg, nonce);
		expect_proof_refused(&b, &cfg, nonce);
		expect_proof_refused(&a, &cfg, nonce);
	}
	/* Issued to ext, answered by another device with its own key. */
	if (CHECK(challenge(&c, ext, nonce2) == 0))
		expect_proof_refused(&b, &cfg2, nonce2);
stop:
	stop_three(&a, &b, &c);
out:
	boot_cfg_free(&cfg);
	boot_cfg_free(&cfg2);
	free(ext);
	free(other);
}

/* 1 when listUnknown through b names external_id. */
static int listed_unknown(const broker_t *b, const char *external_id)
{
	json_t *data = admin_ok_take(b, json_pack("{s:s, s:i}", "command", "listUnknown",
			"limit", 100)), *row;
	size_t i;
	int found = 0;

	json_array_foreach(json_object_get(data, "unknown"), i, row)
		found |= row != NULL && strcmp(jstr(row, "external_id"), external_id) == 0;
	json_decref(data);
	return found;
}

/*
 * What a device does through one broker ends up in the store that every
 * broker reads (section 11): a bootstrap through B is the config's
 * last_bootstrap_at through A, an unknown device tried through C is in
 * A's listUnknown, each once the broker that saw it has written it (its
 * write-behind runs every few seconds).
 */
static void test_bootstraps_and_unknown_devices_from_every_broker_are_stored(void)
{
	char *ext = unique_name("pg-seen"), *stranger = unique_name("pg-stranger");
	broker_t a, b, c;
	boot_cfg_t cfg = { 0 };
	json_t *got = NULL;
	int stored = 0, listed = 0;
	double t0;

	if (!CHECK(start_three(&a, &b, &c) == 0))
		goto out;
	if (!CHECK(make_config(&a, ext, NULL, true, &cfg) == 0))
		goto stop;
	expect_bootstrap(&b, &cfg);
	expect_error(&c, stranger, "wrong-key-0123456789", "unauthorized");
	t0 = now_ms();
	for (int i = 0; i < 150 && !(stored && listed); i++) {
		usleep(100 * 1000);
		got = admin_get_config(&a, "client_id", cfg.client_id);
		stored = json_is_string(json_object_get(got, "last_bootstrap_at"));
		json_decref(got);
		listed = listed || listed_unknown(&a, stranger);
	}
	if (CHECK(stored) && CHECK(listed))
		printf("\n    both were read through A %.1f s later\n", (now_ms() - t0) / 1e3);
stop:
	stop_three(&a, &b, &c);
out:
	boot_cfg_free(&cfg);
	free(ext);
	free(stranger);
}

/* The bootstrap's reply on the device's topic, or NULL after wait_ms. */
static json_t *bootstrap_reply(client_t *dev, int wait_ms)
{
	it_msg_t *m = client_wait(dev, wait_ms);
	json_t *reply = msg_json(m);

	msg_free(m);
	return reply;
}

/*
 * PostgreSQL frozen (it takes connections and never answers, as a server
 * cut off without a reset looks): a bootstrap waits on the lookup thread,
 * not on the broker's, so other clients' messages keep flowing meanwhile;
 * it is answered internal_error once the statement timeout and its grace
 * have passed, and the next one after the thaw succeeds.
 */
static void test_postgresql_frozen_holds_up_no_other_client(void)
{
	char url[256], *ext = unique_name("pg-frozen"), *req = NULL, sub[300];
	broker_t b;
	boot_cfg_t cfg = { 0 };
	client_t *other = NULL, *dev = NULL;
	json_t *reply = NULL;
	double t0;

	if (!CHECK(start_on(&b, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&b, ext, NULL, true, &cfg) == 0))
		goto stop;
	other = client_connect(&b, 5, "bystander", NULL, NULL);
	dev = client_connect(&b, 5, "frozen-dev", NULL, NULL);
	snprintf(sub, sizeof sub, "bootstrap/res/%s", ext);
	req = boot_request(ext, cfg.external_key, "f1");
	if (!CHECK(other != NULL && dev != NULL && req != NULL)
			|| !CHECK(client_subscribe(dev, sub, 1) == 1)
			|| !CHECK(bs_pg_server_freeze(test_pg_server(), 1) == 0))
		goto stop;
	t0 = now_ms();
	CHECK(client_publish(dev, "bootstrap/req", req, (int)strlen(req), NULL) >= 0);
	for (int i = 0; i < 5; i++)
		CHECK(client_echo(other, "plant/+/temp", "plant/1/temp") == 0);
	reply = bootstrap_reply(dev, 15000);
	bs_pg_server_freeze(test_pg_server(), 0);
	CHECK_STR(jstr(reply, "error"), "internal_error");
	printf("\n    with PostgreSQL frozen, five echoes went through meanwhile and the "
			"bootstrap answered internal_error in %.1f s\n", (now_ms() - t0) / 1e3);
	json_decref(reply);
	reply = NULL;
	for (int i = 0; i < 50; i++) {
		json_decref(reply);
		reply = bootstrap(&b, ext, cfg.external_key);
		if (reply != NULL && json_object_get(reply, "error") == NULL)
			break;
		usleep(100 * 1000);
	}
	CHECK_STR(jstr(reply, "client_secret"), cfg.client_secret);
	json_decref(reply);
stop:
	bs_pg_server_freeze(test_pg_server(), 0);
	if (dev != NULL)
		client_close(dev);
	if (other != NULL)
		client_close(other);
	broker_cleanup(&b);
out:
	free(req);
	boot_cfg_free(&cfg);
	free(ext);
}

#define FLOOD 480
#define FLOOD_CLIENTS 4

/* The replies to c's requests, as many as want at most: how many gave
 * the config, how many unauthorized, how many anything else. */
static void count_replies(client_t *c, int want, int *ok, int *refused, int *other)
{
	for (int got = 0; got < want; got++) {
		it_msg_t *m = client_wait(c, IT_WAIT_MS);
		json_t *reply = msg_json(m);

		msg_free(m);
		if (reply == NULL)
			return;
		if (jstr(reply, "client_secret") != NULL)
			(*ok)++;
		else if (jstr(reply, "error") != NULL
				&& strcmp(jstr(reply, "error"), "unauthorized") == 0)
			(*refused)++;
		else
			(*other)++;
		json_decref(reply);
	}
}

/*
 * A flood of unknown external IDs with a known device among them, sent
 * without waiting for the answers: the lookup thread takes them in
 * batches, every unknown one with its decoy. Each is answered as it
 * would be alone, and the broker goes on.
 */
static void test_a_flood_of_unknown_devices_is_answered_one_by_one(void)
{
	char url[256], id[64], rid[16];
	broker_t b;
	boot_cfg_t cfg = { 0 };
	char *ext = unique_name("pg-flood");
	client_t *c[FLOOD_CLIENTS] = { NULL };
	int ok = 0, refused = 0, other = 0, sent = 0;

	if (!CHECK(start_on(&b, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&b, ext, NULL, true, &cfg) == 0))
		goto stop;
	for (int i = 0; i < FLOOD_CLIENTS; i++)
		if (!CHECK((c[i] = client_connect(&b, 5, NULL, NULL, NULL)) != NULL))
			goto stop;
	for (int i = 0; i < FLOOD; i++) {
		int known = i % 8 == 0;
		char *req;

		snprintf(id, sizeof id, "pg-stranger-%d-\"'\\", i);
		snprintf(rid, sizeof rid, "r%d", i);
		req = boot_request(known ? ext : id, known ? cfg.external_key
				: "wrong-key-0123456789", rid);
		sent += req != NULL && client_publish(c[i % FLOOD_CLIENTS], "bootstrap/req",
				req, (int)strlen(req), NULL) >= 0;
		free(req);
	}
	CHECK(sent == FLOOD);
	for (int i = 0; i < FLOOD_CLIENTS; i++)
		count_replies(c[i], FLOOD / FLOOD_CLIENTS, &ok, &refused, &other);
	CHECK(ok == FLOOD / 8);
	CHECK(refused == FLOOD - FLOOD / 8);
	CHECK(other == 0);
	CHECK(broker_alive(&b));
	expect_bootstrap(&b, &cfg);
stop:
	for (int i = 0; i < FLOOD_CLIENTS; i++)
		if (c[i] != NULL)
			client_close(c[i]);
	broker_cleanup(&b);
out:
	boot_cfg_free(&cfg);
	free(ext);
}

static const cu_test_t tests[] = {
	{ "a flood of unknown devices is answered one by one",
		test_a_flood_of_unknown_devices_is_answered_one_by_one },
	{ "PostgreSQL frozen holds up no other client",
		test_postgresql_frozen_holds_up_no_other_client },
	{ "bootstraps and unknown devices from every broker are stored",
		test_bootstraps_and_unknown_devices_from_every_broker_are_stored },
	{ "a challenge from one broker is answered through another, once",
		test_a_challenge_from_one_broker_is_answered_through_another_once },
	{ "PostgreSQL stopped, then back", test_postgresql_stopped_then_back },
	{ "a change through one broker is in force on the others",
		test_a_change_through_one_broker_is_in_force_on_the_others },
	{ "a renamed channel is in the next bootstrap",
		test_a_renamed_channel_is_in_the_next_bootstrap },
	{ "service resumes after PostgreSQL restarts",
		test_service_resumes_after_postgresql_restarts },
	{ "devices bootstrap from PostgreSQL", test_devices_bootstrap_from_postgresql },
	{ "a second broker and a restart find the same configs",
		test_a_second_broker_and_a_restart_find_the_same_configs },
	{ NULL, NULL },
};

int main(void)
{
	setenv("BS_TEST_BACKEND", "postgresql", 1);
	cu_add_suite("pg", NULL, NULL, tests);
	return cu_run("test_pg");
}
