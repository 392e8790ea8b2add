/*
 * libFuzzer target for the device request handler (protocol section 3),
 * on a real store with three configs: enabled with every field, disabled,
 * and enabled with none. The first input byte picks the context (a Response
 * Topic or not, valid or not, one of two addresses) and whether the target
 * answers a challenge itself: it then asks for a nonce for the request's
 * external_id and writes a proof of the stored key into the request, so
 * that proofs reach the success path too. The rest is the payload.
 *
 * Checked for every input: a reply with a topic and a JSON object; an error
 * carries no stored secret; a success only for the right key (or a proof
 * the target made), with that config's client_id, sealed when it must be.
 */
#include "crypto.h"
#include "device.h"
#include "encrypt.h"
#include "error.h"
#include "fuzz_core.h"
#include "sealed.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	CTX_RESPONSE_TOPIC = 1,  /* the request carries a Response Topic */
	CTX_BAD_TOPIC = 2,       /* and it is not a valid topic name */
	CTX_OTHER_ADDRESS = 4,
	CTX_PROVE = 8,           /* the target answers a challenge itself */
};

#define REPLY_TOPIC "fuzz/reply"

typedef struct {
	const char *external_id, *external_key, *client_id, *client_secret;
	int enabled;
} seeded_t;

static const seeded_t seeded[] = {
	{ "dev-1", "key-of-dev-1", "cid-1", "secret-of-cid-1", 1 },
	{ "dev-2", "key-of-dev-2", "cid-2", "secret-of-cid-2", 0 },
	{ "dev-3", "key-of-dev-3", "cid-3", "secret-of-cid-3", 1 },
};
#define NSEEDED (sizeof seeded / sizeof seeded[0])

/* A line from the middle of the stored private key's PEM body. */
static const char key_line[] = "1cmLO4kgWUKed1c5/2HHFi87EAShRANCAASGbPEgvrRqpJaBaK2n5E1DjtEfs2fc";

static bs_core_t *core;
static long long clock_ms;
static unsigned long inputs;

static void seed_configs(void)
{
	json_t *cmds = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:{s:i}}]",
			"command", "createChannel", "id", "c1", "name", "telemetry",
			"command", "createChannel", "id", "c2", "name", "commands",
			"metadata", "qos", 1);
	for (size_t i = 0; i < NSEEDED; i++) {
		const seeded_t *s = &seeded[i];
		json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s}",
				"command", "createConfig", "client_id", s->client_id,
				"client_secret", s->client_secret, "external_id", s->external_id,
				"external_key", s->external_key);
		if (i == 0)
			json_object_update_new(c, json_pack("{s:[s, s], s:s, s:s, s:s, s:s}",
					"channels", "c1", "c2", "content", "{\"interval\": 30}",
					"client_cert", fuzz_cert_pem, "client_key", fuzz_key_pem,
					"ca_cert", fuzz_ca_pem));
		json_array_append_new(cmds, c);
		if (s->enabled)
			json_array_append_new(cmds, json_pack("{s:s, s:s}",
					"command", "enableConfig", "client_id", s->client_id));
	}
	fuzz_admin_ok(core, cmds);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	core = fuzz_core_open();
	seed_configs();
	return 0;
}

static const seeded_t *find(const char *external_id)
{
	for (size_t i = 0; external_id != NULL && i < NSEEDED; i++) {
		if (strcmp(seeded[i].external_id, external_id) == 0)
			return &seeded[i];
	}
	return NULL;
}

/* The payload with the "nonce" a challenge got and a "proof" of the stored
 * key (of a key no config has, for an unknown external_id), as new text;
 * NULL when the payload has no string external_id. */
static char *prove(const bs_request_ctx_t *ctx, json_t *req, uint8_t nonce[BS_NONCE_LEN])
{
	const char *ext = json_string_value(json_object_get(req, "external_id"));
	const seeded_t *s = find(ext);
	const char *key = s ? s->external_key : "not-the-key";
	uint8_t msg[BS_NONCE_LEN + 512], mac[32], raw[48];
	const char *got_nonce;
	bs_reply_t r;
	json_t *ask, *got;
	char *text, *proof;
	size_t extlen;

	if (ext == NULL || (extlen = strlen(ext)) > 512)
		return NULL;
	ask = json_pack("{s:s, s:s}", "external_id", ext, "op", "challenge");
	text = json_dumps(ask, JSON_COMPACT);
	json_decref(ask);
	if (text == NULL || bs_device_handle(core, ctx, text, strlen(text), &r) != BS_OK)
		abort();
	free(text);
	got = json_loadb(r.payload, r.payloadlen, 0, NULL);
	got_nonce = json_string_value(json_object_get(got, "nonce"));
	text = NULL;
	if (r.err == BS_OK && got_nonce != NULL && strlen(got_nonce) <= 44
			&& sealed_unb64(got_nonce, raw) == BS_NONCE_LEN) {
		memcpy(nonce, raw, BS_NONCE_LEN);
		memcpy(msg, nonce, BS_NONCE_LEN);
		memcpy(msg + BS_NONCE_LEN, ext, extlen);
		HMAC(EVP_sha256(), key, (int)strlen(key), msg, BS_NONCE_LEN + extlen, mac, NULL);
		if ((proof = bs_b64_encode(mac, sizeof mac)) == NULL)
			abort();
		json_object_set_new(req, "nonce", json_string(got_nonce));
		json_object_set_new(req, "proof", json_string(proof));
		free(proof);
		text = json_dumps(req, JSON_COMPACT);
	}
	json_decref(got);
	bs_reply_free(&r);
	return text;
}

/* An error reply: its code, and no stored secret outside the echoed id. */
static void check_error(json_t *reply)
{
	char *text;

	if (!json_is_string(json_object_get(reply, "error"))
			|| !json_is_string(json_object_get(reply, "message")))
		abort();
	json_object_del(reply, "id");
	if ((text = json_dumps(reply, JSON_COMPACT)) == NULL)
		abort();
	for (size_t i = 0; i < NSEEDED; i++) {
		if (strstr(text, seeded[i].external_key) || strstr(text, seeded[i].client_secret))
			abort();
	}
	if (strstr(text, key_line))
		abort();
	free(text);
}

/* A sealed success reply opened with the stored key; new reference. */
static json_t *open_sealed(json_t *reply, const seeded_t *s, const uint8_t *nonce)
{
	uint8_t key[32], aad[256 + BS_NONCE_LEN];
	size_t extlen = strlen(s->external_id);

	if (bs_crypto_hkdf(s->external_key, strlen(s->external_key), s->external_id,
			extlen, BS_REPLY_INFO, strlen(BS_REPLY_INFO), key, sizeof key) != BS_OK)
		abort();
	memcpy(aad, s->external_id, extlen);
	if (nonce != NULL)
		memcpy(aad + extlen, nonce, BS_NONCE_LEN);
	return sealed_open(reply, key, aad, extlen + (nonce ? BS_NONCE_LEN : 0));
}

/*
 * A success: a nonce, or the bootstrap of an enabled config whose
 * external_id the request named, with its key or with the proof the
 * target made; sealed when asked to be or after a proof.
 */
static void check_success(json_t *reply, const char *payload, size_t len,
		int proved, const uint8_t *nonce)
{
	json_error_t jerr;
	json_t *req = json_loadb(payload, len, JSON_DECODE_INT_AS_REAL, &jerr), *plain;
	const seeded_t *s;
	const char *key;
	int sealed;

	if (json_is_string(json_object_get(reply, "nonce"))) {
		if (json_object_get(reply, "client_id") != NULL)
			abort();
		json_decref(req);
		return;
	}
	/* Jansson refuses numbers that overflow a double; JSON does not. */
	if (req == NULL && strstr(jerr.text, "overflow") != NULL)
		return;
	s = find(json_string_value(json_object_get(req, "external_id")));
	if (s == NULL || !s->enabled)
		abort();
	key = json_string_value(json_object_get(req, "external_key"));
	if (!proved && (key == NULL || json_string_length(json_object_get(req, "external_key"))
			!= strlen(s->external_key) || strcmp(key, s->external_key) != 0))
		abort();
	sealed = proved || json_is_true(json_object_get(req, "encrypt"));
	if (sealed != (json_object_get(reply, "encrypted") != NULL))
		abort();
	plain = sealed ? open_sealed(reply, s, proved ? nonce : NULL) : json_incref(reply);
	if (plain == NULL || !json_is_string(json_object_get(plain, "client_id"))
			|| strcmp(json_string_value(json_object_get(plain, "client_id")),
				s->client_id) != 0
			|| !json_is_array(json_object_get(plain, "channels")))
		abort();
	json_decref(plain);
	json_decref(req);
}

static void check_topic(const bs_reply_t *r, unsigned flags)
{
	int on_rt = (flags & CTX_RESPONSE_TOPIC) && !(flags & CTX_BAD_TOPIC);

	if (r->on_response_topic != on_rt)
		abort();
	if (on_rt ? strcmp(r->topic, REPLY_TOPIC) != 0
			: strncmp(r->topic, "bootstrap/res", 13) != 0)
		abort();
	if ((flags & CTX_RESPONSE_TOPIC) && (flags & CTX_BAD_TOPIC) && r->err != BS_ERR_INVALID)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags = size > 0 ? data[0] : 0;
	bs_request_ctx_t ctx = { .client_id = "fuzz-device",
		.address = flags & CTX_OTHER_ADDRESS ? "198.51.100.2" : "192.0.2.1",
		.response_topic = !(flags & CTX_RESPONSE_TOPIC) ? NULL
			: flags & CTX_BAD_TOPIC ? "fuzz/+/bad" : REPLY_TOPIC,
		/* A second every 100 inputs: nonces expire, log lines roll over. */
		.now = FUZZ_NOW + (time_t)(inputs++ / 100) };
	const char *payload = size > 0 ? (const char *)data + 1 : "";
	size_t len = size > 0 ? size - 1 : 0;
	uint8_t nonce[BS_NONCE_LEN];
	char *proved = NULL;
	json_t *reply;
	bs_reply_t r;

	if (flags & CTX_PROVE) {
		json_t *req = json_loadb(payload, len, 0, NULL);
		if (json_is_object(req) && (proved = prove(&ctx, req, nonce)) != NULL) {
			payload = proved;
			len = strlen(proved);
		}
		json_decref(req);
	}
	if (bs_device_handle(core, &ctx, payload, len, &r) != BS_OK || r.payload == NULL
			|| r.topic == NULL)
		abort();
	check_topic(&r, flags);
	reply = json_loadb(r.payload, r.payloadlen, 0, NULL);
	if (!json_is_object(reply))
		abort();
	if (r.err != BS_OK)
		check_error(reply);
	else
		check_success(reply, payload, len, proved != NULL, nonce);
	json_decref(reply);
	bs_reply_free(&r);
	free(proved);
	if (inputs % 64 == 0)
		bs_core_tick(core, clock_ms += 1000);
	return 0;
}
