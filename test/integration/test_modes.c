/*
 * The encrypted reply (protocol 3.1) and challenge mode (3.2) through a
 * real broker, over MQTT 3.1.1 and 5, checked as a device written
 * elsewhere would check them (test/common/sealed.c: openssl kdf and dgst,
 * EVP): the reply opens with the key and AAD of the contract, and holds
 * the config the admin made. And the lockout (section 6), per external ID
 * and client address.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "sealed.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static broker_t B;

static int suite_init(void)
{
	return broker_start(&B, NULL);
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

/* Sends payload as a fresh device listening on its reply topic; the reply
 * parsed (new reference), or NULL. */
static json_t *ask(int version, const char *ext, const char *payload)
{
	char sub[400];
	it_msg_t *m;
	json_t *reply;

	snprintf(sub, sizeof sub, "bootstrap/res/%s", ext);
	m = device_rr(&B, version, sub, payload, (int)strlen(payload), NULL);
	reply = msg_json(m);
	msg_free(m);
	return reply;
}

static void encrypted_reply(int version)
{
	char *ext = unique_name("sealed"), req[600];
	boot_cfg_t cfg;
	uint8_t key[32];
	json_t *reply = NULL, *plain = NULL;

	if (!CHECK(make_config(&B, ext, NULL, true, &cfg) == 0))
		goto out;
	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"external_key\":\"%s\","
			"\"encrypt\":true,\"id\":\"e1\"}", ext, cfg.external_key);
	reply = ask(version, ext, req);
	CHECK_STR(jstr(reply, "id"), "e1");
	CHECK(json_object_get(reply, "client_secret") == NULL);
	if (CHECK(sealed_key(cfg.external_key, ext, key) == 0))
		plain = sealed_open(reply, key, ext, strlen(ext));
	if (CHECK(plain != NULL)) {
		CHECK_STR(jstr(plain, "client_id"), cfg.client_id);
		CHECK_STR(jstr(plain, "client_secret"), cfg.client_secret);
		CHECK(json_array_size(json_object_get(plain, "channels")) == 1);
	}
	boot_cfg_free(&cfg);
out:
	json_decref(plain);
	json_decref(reply);
	free(ext);
}

/* Asks for a nonce for ext; 0 with it in nonce. */
static int challenge(int version, const char *ext, uint8_t nonce[32])
{
	char req[400];
	uint8_t raw[48];
	json_t *reply;
	int rc = -1;

	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"op\":\"challenge\"}", ext);
	reply = ask(version, ext, req);
	if (jstr(reply, "nonce") != NULL && sealed_unb64(jstr(reply, "nonce"), raw) == 32
			&& json_integer_value(json_object_get(reply, "expires_in")) == 60) {
		memcpy(nonce, raw, 32);
		rc = 0;
	}
	json_decref(reply);
	return rc;
}

/* The answer to nonce for ext, proved with key; its reply. */
static json_t *prove(int version, const char *ext, const char *key,
		const uint8_t nonce[32])
{
	char proof[64], nonce64[64], req[600];
	uint8_t copy[48];

	if (sealed_proof(B.dir, key, nonce, ext, proof) != 0)
		return NULL;
	memcpy(copy, nonce, 32);
	EVP_EncodeBlock((unsigned char *)nonce64, copy, 32);
	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"nonce\":\"%s\","
			"\"proof\":\"%s\",\"id\":\"p1\"}", ext, nonce64, proof);
	return ask(version, ext, req);
}

static void challenge_mode(int version)
{
	char *ext = unique_name("challenged");
	boot_cfg_t cfg;
	uint8_t nonce[32], key[32], aad[400];
	json_t *reply = NULL, *plain = NULL, *again = NULL;
	size_t len = strlen(ext);

	if (!CHECK(make_config(&B, ext, NULL, true, &cfg) == 0))
		goto out;
	if (CHECK(challenge(version, ext, nonce) == 0))
		reply = prove(version, ext, cfg.external_key, nonce);
	CHECK_STR(jstr(reply, "id"), "p1");
	memcpy(aad, ext, len);
	memcpy(aad + len, nonce, 32);
	if (CHECK(sealed_key(cfg.external_key, ext, key) == 0))
		plain = sealed_open(reply, key, aad, len + 32);
	if (CHECK(plain != NULL))
		CHECK_STR(jstr(plain, "client_secret"), cfg.client_secret);
	/* The same answer again: the nonce is used up. */
	again = prove(version, ext, cfg.external_key, nonce);
	CHECK_STR(jstr(again, "error"), "unauthorized");
	boot_cfg_free(&cfg);
out:
	json_decref(again);
	json_decref(plain);
	json_decref(reply);
	free(ext);
}

/* One request from a fresh client connected from bind; its reply. */
static json_t *ask_from(const char *bind, const char *ext, const char *payload)
{
	client_t *c = client_connect_from(&B, 5, bind);
	char sub[400];
	it_msg_t *m = NULL;
	json_t *reply;

	snprintf(sub, sizeof sub, "bootstrap/res/%s", ext);
	if (c != NULL && client_subscribe(c, sub, 1) == 1
			&& client_publish(c, "bootstrap/req", payload, (int)strlen(payload), NULL) >= 0)
		m = client_wait(c, IT_WAIT_MS);
	reply = msg_json(m);
	msg_free(m);
	client_close(c);
	return reply;
}

/* Five wrong keys from one address lock that address out for the ID,
 * right key or not; from another address the device still bootstraps. */
static void test_lockout_is_per_id_and_address(void)
{
	char *ext = unique_name("locked"), good[600], bad[600];
	boot_cfg_t cfg;
	json_t *r;

	if (!CHECK(make_config(&B, ext, NULL, true, &cfg) == 0))
		goto out;
	snprintf(good, sizeof good, "{\"external_id\":\"%s\",\"external_key\":\"%s\"}",
			ext, cfg.external_key);
	snprintf(bad, sizeof bad, "{\"external_id\":\"%s\",\"external_key\":\"wrong-key-1\"}",
			ext);
	for (int i = 0; i < 5; i++) {
		r = ask_from("127.0.0.1", ext, bad);
		CHECK_STR(jstr(r, "error"), "unauthorized");
		json_decref(r);
	}
	r = ask_from("127.0.0.1", ext, good);
	CHECK_STR(jstr(r, "error"), "rate_limited");
	CHECK(json_integer_value(json_object_get(r, "retry_after")) == 60);
	json_decref(r);
	r = ask_from("127.0.0.2", ext, good);
	CHECK_STR(jstr(r, "client_id"), cfg.client_id);
	json_decref(r);
	/* Each failure left one line in the broker's log, never the key. */
	snprintf(good, sizeof good, "bootstrap: device external_id=%s client=", ext);
	CHECK(broker_log_contains(&B, good));
	CHECK(broker_log_contains(&B, "address=127.0.0.1 result=rate_limited"));
	CHECK(!broker_log_contains(&B, "wrong-key-1"));
	CHECK(!broker_log_contains(&B, cfg.external_key));
	boot_cfg_free(&cfg);
out:
	free(ext);
}

static void test_encrypted_reply_v4(void) { encrypted_reply(4); }
static void test_encrypted_reply_v5(void) { encrypted_reply(5); }
static void test_challenge_mode_v4(void) { challenge_mode(4); }
static void test_challenge_mode_v5(void) { challenge_mode(5); }

static const cu_test_t tests[] = {
	{ "encrypted_reply_over_mqtt311", test_encrypted_reply_v4 },
	{ "encrypted_reply_over_mqtt5", test_encrypted_reply_v5 },
	{ "challenge_mode_over_mqtt311", test_challenge_mode_v4 },
	{ "challenge_mode_over_mqtt5", test_challenge_mode_v5 },
	{ "lockout_is_per_id_and_address", test_lockout_is_per_id_and_address },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("modes", suite_init, suite_clean, tests);
	return cu_run("test_modes");
}
