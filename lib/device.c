#include "device.h"

#include "error.h"
#include "jsonw.h"
#include "model.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a parsed request holds; the strings point into its parsed copy. */
typedef struct {
	const char *id;            /* NULL when absent or unusable */
	const char *external_id;   /* NULL until validated */
	const char *external_key;
	char message[160];
} request_t;

/* Sets the reply's message and returns code. */
static int say(request_t *req, int code, const char *msg)
{
	snprintf(req->message, sizeof(req->message), "%s", msg);
	return code;
}

static int invalid(request_t *req, const char *msg)
{
	return say(req, BS_ERR_INVALID, msg);
}

/* The id is read first, so that even a bad request gets its id echoed. */
static void read_id(const bs_request_t *r, request_t *req)
{
	if (r->id.kind == BS_JSON_STRING && r->id.len <= BS_REQ_ID_MAX)
		req->id = r->id.str;
}

static int read_fields(const bs_request_t *r, request_t *req)
{
	char err[128];

	if (r->external_id.kind != BS_JSON_STRING)
		return invalid(req, "external_id: a string is required");
	if (bs_valid_external_id(r->external_id.str, err, sizeof(err)) != BS_OK)
		return invalid(req, err);
	req->external_id = r->external_id.str;
	if (r->id.kind != BS_JSON_ABSENT && req->id == NULL)
		return invalid(req, "id: must be a string of at most 64 bytes");
	if (r->op.kind != BS_JSON_ABSENT || r->proof.kind != BS_JSON_ABSENT
			|| r->nonce.kind != BS_JSON_ABSENT)
		return invalid(req, "challenge mode is not supported by this version");
	if (r->encrypt.kind != BS_JSON_ABSENT && r->encrypt.kind != BS_JSON_FALSE)
		return invalid(req, "encrypted replies are not supported by this version");
	if (r->external_key.kind != BS_JSON_STRING)
		return invalid(req, "external_key: a string is required");
	if (r->external_key.len > BS_KEY_MAX)
		return invalid(req, "external_key: must be at most 256 bytes");
	req->external_key = r->external_key.str;
	return BS_OK;
}

static int parse(const void *payload, size_t len, size_t max, bs_request_t *r,
		request_t *req)
{
	const char *why;
	int rc;

	if (len > max)
		return invalid(req, "request is larger than max_request_bytes");
	rc = bs_request_parse(payload, len, r, &why);
	if (rc == BS_ERR_INTERNAL)
		return say(req, rc, "out of memory");
	if (rc != BS_OK)
		return invalid(req, why && strcmp(why, "not an object") == 0
				? "request must be a JSON object" : "request is not valid JSON");
	read_id(r, req);
	return read_fields(r, req);
}

/*
 * Checks the key. An unknown external_id opens the decoy and compares
 * against it, so both failures cost one AES-GCM open and one
 * constant-time compare, and give the same reply.
 */
static int authenticate(bs_core_t *core, request_t *req, bs_config_t *cfg)
{
	int rc = bs_store_config_get(core->store, NULL, req->external_id,
			BS_LOAD_EXTERNAL_KEY | BS_LOAD_SEALED | BS_DEVICE_VIEW, cfg);
	size_t keylen = strlen(req->external_key);
	int same;

	if (rc == BS_ERR_NOT_FOUND) {
		uint8_t *pt = NULL;
		size_t ptlen = 0;
		bs_crypto_open(core->key, "decoy", 5, core->decoy, core->decoy_len,
				&pt, &ptlen);
		bs_crypto_equal(req->external_key, keylen, pt, ptlen);
		bs_crypto_free_secret(pt, ptlen);
		rc = BS_ERR_UNAUTHORIZED;
	} else if (rc == BS_OK) {
		same = bs_crypto_equal(req->external_key, keylen,
				cfg->external_key, strlen(cfg->external_key));
		if (!same)
			rc = BS_ERR_UNAUTHORIZED;
		else if (!cfg->enabled)
			rc = BS_ERR_DISABLED;
	} else {
		bs_core_log(core, BS_LOG_ERR, "device lookup failed: %s",
				bs_store_errmsg(core->store));
	}
	if (rc == BS_ERR_UNAUTHORIZED)
		return say(req, rc, "unknown external_id or wrong external_key");
	if (rc == BS_ERR_DISABLED)
		return say(req, rc, "this bootstrap configuration is disabled");
	return rc;
}

/* Opens what the reply carries, writes it, and records the bootstrap. */
static int complete(bs_core_t *core, const bs_request_ctx_t *ctx,
		const request_t *req, bs_config_t *cfg, bs_reply_t *out)
{
	int rc = bs_store_config_unseal(core->store, cfg);

	if (rc == BS_OK)
		rc = bs_store_config_channels(core->store, cfg);
	if (rc == BS_OK && (out->payload = bs_config_device_reply(cfg, req->id,
			&out->payloadlen)) == NULL)
		rc = BS_ERR_INTERNAL;
	if (rc == BS_OK)
		bs_core_note_bootstrap(core, cfg->id, ctx->now);
	else
		bs_core_log(core, BS_LOG_ERR, "bootstrap of %s failed: %s",
				cfg->client_id, bs_store_errmsg(core->store));
	return rc;
}

/* base, or base/leaf when there is a leaf. */
static char *join_topic(const char *base, const char *leaf)
{
	size_t blen = strlen(base), llen = leaf ? strlen(leaf) : 0;
	char *t = malloc(blen + llen + 2);

	if (t == NULL)
		return NULL;
	memcpy(t, base, blen);
	if (leaf != NULL) {
		t[blen] = '/';
		memcpy(t + blen + 1, leaf, llen);
		blen += llen + 1;
	}
	t[blen] = '\0';
	return t;
}

/* The Response Topic when usable, else <prefix>/res[/<external_id>]. */
static void pick_topic(bs_core_t *core, const bs_request_ctx_t *ctx,
		int usable, const request_t *req, bs_reply_t *out)
{
	if (usable) {
		out->topic = strdup(ctx->response_topic);
		out->on_response_topic = 1;
	} else {
		out->topic = join_topic(core->opts.res_topic, req->external_id);
	}
}

static char *error_reply(const request_t *req, int rc, size_t *len)
{
	jw_t w;

	jw_init(&w);
	jw_object_begin(&w);
	if (req->id != NULL)
		jw_member(&w, "id", req->id);
	jw_member(&w, "error", bs_error_code(rc));
	jw_member(&w, "message", req->message[0] ? req->message : bs_error_code(rc));
	jw_object_end(&w);
	return jw_finish(&w, len);
}

int bs_device_handle(bs_core_t *core, const bs_request_ctx_t *ctx,
		const void *payload, size_t len, bs_reply_t *out)
{
	request_t req;
	bs_request_t parsed;
	bs_config_t cfg;
	int usable = ctx->response_topic != NULL && bs_valid_topic_name(ctx->response_topic);
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&parsed, 0, sizeof(parsed));
	memset(&cfg, 0, sizeof(cfg));
	memset(out, 0, sizeof(*out));
	rc = parse(payload, len, core->opts.max_request_bytes, &parsed, &req);
	if (rc == BS_OK && ctx->response_topic != NULL && !usable)
		rc = invalid(&req, "response topic is not a valid topic name");
	if (rc == BS_OK)
		rc = authenticate(core, &req, &cfg);
	if (rc == BS_OK)
		rc = complete(core, ctx, &req, &cfg, out);
	if (rc == BS_ERR_INTERNAL)
		say(&req, rc, "the bootstrap store failed; try again later");
	if (rc != BS_OK)
		out->payload = error_reply(&req, rc, &out->payloadlen);
	out->err = rc;
	pick_topic(core, ctx, usable, &req, out);
	rc = out->payload != NULL && out->topic != NULL ? BS_OK : BS_ERR_INTERNAL;
	bs_request_free(&parsed);
	bs_config_clear(&cfg);
	if (rc != BS_OK)
		bs_reply_free(out);
	return rc;
}

void bs_reply_free(bs_reply_t *r)
{
	free(r->topic);
	free(r->payload);
	memset(r, 0, sizeof(*r));
}
