#include "device.h"

#include "challenge.h"
#include "devlog.h"
#include "encrypt.h"
#include "enroll.h"
#include "error.h"
#include "issue.h"
#include "jsonw.h"
#include "model.h"
#include "render.h"
#include "request.h"
#include "unknown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BS_STR_(x) #x
#define BS_STR(x) BS_STR_(x)

/* The four kinds of request (protocol 3, 3.1, 3.2). */
enum { MODE_PLAIN, MODE_ENCRYPT, MODE_CHALLENGE, MODE_PROOF };

/* What a parsed request holds; the strings point into its parsed copy. */
typedef struct {
	const char *id;            /* NULL when absent or unusable */
	const char *external_id;   /* NULL until validated */
	const char *external_key;  /* MODE_PLAIN and MODE_ENCRYPT */
	int mode;
	uint8_t nonce[BS_NONCE_LEN];    /* MODE_PROOF */
	uint8_t proof[BS_SHA256_LEN];
	const char *csr;           /* a PEM CSR (3.3), or NULL */
	const char *group;         /* an enrollment group id (7.2), or NULL */
	size_t csr_len;
	long retry_after;          /* seconds, with rate_limited */
	char message[160];
	/* The config's client_secret and client_key as stored, opened only
	 * once the device has proved its key. */
	bs_config_blobs_t held;
} request_t;

static const char unauthorized_text[] = "unknown external_id or wrong external_key";
static const char unauthorized_proof[] =
	"unknown external_id, wrong proof, or a nonce that is used up or expired";

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

/* A base64 string member decoding to exactly len bytes. */
static int read_b64(const bs_member_t *m, uint8_t *out, size_t len)
{
	size_t got = 0;

	return m->kind == BS_JSON_STRING
		&& bs_b64_decode(m->str, m->len, out, len, &got) == BS_OK && got == len
		? BS_OK : BS_ERR_INVALID;
}

/* {"external_id", "nonce", "proof"}: the answer to a challenge. */
static int read_proof(const bs_request_t *r, request_t *req)
{
	if (r->external_key.kind != BS_JSON_ABSENT)
		return invalid(req, "external_key: a challenge answer carries a proof instead");
	if (read_b64(&r->nonce, req->nonce, BS_NONCE_LEN) != BS_OK)
		return invalid(req, "nonce: must be the base64 of the 32 bytes issued");
	if (read_b64(&r->proof, req->proof, BS_SHA256_LEN) != BS_OK)
		return invalid(req, "proof: must be the base64 of an HMAC-SHA256");
	req->mode = MODE_PROOF;
	return BS_OK;
}

/* {"external_id", "op": "challenge"}: a request for a nonce. */
static int read_challenge(const bs_request_t *r, request_t *req)
{
	if (r->op.kind != BS_JSON_STRING || strcmp(r->op.str, "challenge") != 0)
		return invalid(req, "op: must be \"challenge\"");
	if (r->external_key.kind != BS_JSON_ABSENT || r->nonce.kind != BS_JSON_ABSENT
			|| r->proof.kind != BS_JSON_ABSENT)
		return invalid(req, "op: a challenge request carries no key, nonce or proof");
	req->mode = MODE_CHALLENGE;
	return BS_OK;
}

static int read_key(const bs_request_t *r, request_t *req)
{
	if (r->encrypt.kind == BS_JSON_TRUE)
		req->mode = MODE_ENCRYPT;
	else if (r->encrypt.kind != BS_JSON_ABSENT && r->encrypt.kind != BS_JSON_FALSE)
		return invalid(req, "encrypt: must be true or false");
	if (r->external_key.kind != BS_JSON_STRING)
		return invalid(req, "external_key: a string is required");
	if (r->external_key.len > BS_KEY_MAX)
		return invalid(req, "external_key: must be at most 256 bytes");
	req->external_key = r->external_key.str;
	return BS_OK;
}

/* A CSR (3.3) rides with a key or a proof, on a broker that issues. */
static int read_csr(const bs_request_t *r, request_t *req, int can_issue)
{
	if (r->csr.kind == BS_JSON_ABSENT)
		return BS_OK;
	if (r->csr.kind != BS_JSON_STRING)
		return invalid(req, "csr: must be a string (a PEM certificate signing request)");
	if (!can_issue)
		return invalid(req, "csr: this broker issues no certificates");
	if (req->mode == MODE_CHALLENGE)
		return invalid(req, "csr: goes with the answer to the challenge, not with op");
	req->csr = r->csr.str;
	req->csr_len = r->csr.len;
	return BS_OK;
}

static int read_fields(const bs_request_t *r, request_t *req, int can_issue)
{
	char err[128];
	int rc;

	if (r->external_id.kind != BS_JSON_STRING)
		return invalid(req, "external_id: a string is required");
	if (bs_valid_external_id(r->external_id.str, err, sizeof(err)) != BS_OK)
		return invalid(req, err);
	req->external_id = r->external_id.str;
	if (r->id.kind != BS_JSON_ABSENT && req->id == NULL)
		return invalid(req, "id: must be a string of at most 64 bytes");
	if (r->op.kind != BS_JSON_ABSENT)
		rc = read_challenge(r, req);
	else if (r->nonce.kind != BS_JSON_ABSENT || r->proof.kind != BS_JSON_ABSENT)
		rc = read_proof(r, req);
	else
		rc = read_key(r, req);
	if (rc == BS_OK && r->group.kind != BS_JSON_ABSENT) {
		if (r->group.kind != BS_JSON_STRING || r->group.len == 0 || r->group.len > BS_ID_MAX)
			return invalid(req, "group: must be a group id");
		if (req->mode != MODE_CHALLENGE)
			req->group = r->group.str;
	}
	return rc == BS_OK ? read_csr(r, req, can_issue) : rc;
}

static int parse(const bs_core_t *core, const void *payload, size_t len,
		bs_request_t *r, request_t *req)
{
	size_t max = core->opts.max_request_bytes;
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
	return read_fields(r, req, core->issuer != NULL);
}

/*
 * For an unknown external_id: the key of a stored config, read and opened
 * by the same statement and work as a known one's, so that the two cost
 * the same (measured with make bench-core); it is then compared and
 * dropped; the core moves on to the next config at the next tick, so
 * that the decoy's row is not always the one in the cache. With no config
 * stored, the decoy key, sealed at start.
 */
static int decoy_key(bs_core_t *core, bs_config_t *decoy, const char **key,
		uint8_t **sealed, size_t *sealedlen)
{
	bs_config_blobs_t held = { 0 };
	int rc = BS_ERR_NOT_FOUND;

	for (int tries = 0; rc == BS_ERR_NOT_FOUND && tries < 2; tries++) {
		if (core->decoy_external_id != NULL)
			rc = bs_store_device_get(core->store, core->decoy_external_id,
					decoy, &held);
		if (rc == BS_ERR_NOT_FOUND && bs_core_next_decoy(core) != BS_OK)
			break;
	}
	bs_config_blobs_clear(&held);
	if (rc == BS_OK) {
		core->decoy_used = 1;
		*key = decoy->external_key;
		return BS_OK;
	}
	bs_crypto_open(core->key, "decoy", 5, core->decoy, core->decoy_len,
			sealed, sealedlen);
	*key = *sealed ? (const char *)*sealed : "";
	return BS_OK;
}

/*
 * The external_key that req must prove it holds: the config's, or for an
 * unknown external_id a decoy's (decoy_key). *sealed is set (free it with
 * bs_crypto_free_secret) when the decoy key is the one sealed at start.
 */
static int load_key(bs_core_t *core, request_t *req, bs_config_t *cfg,
		bs_config_t *decoy, const char **key, uint8_t **sealed, size_t *sealedlen)
{
	int rc = bs_store_device_get(core->store, req->external_id, cfg, &req->held);

	*sealed = NULL;
	*sealedlen = 0;
	if (rc == BS_OK)
		*key = cfg->external_key;
	else if (rc == BS_ERR_NOT_FOUND)
		decoy_key(core, decoy, key, sealed, sealedlen);
	else
		bs_core_log(core, BS_LOG_ERR, "device lookup failed: %s",
				bs_store_errmsg(core->store));
	return rc;
}

/* 1 when req holds key: the key itself, or the proof of it over the nonce. */
static int proves(const request_t *req, const char *key)
{
	uint8_t msg[BS_NONCE_LEN + BS_ID_MAX], mac[BS_SHA256_LEN];
	size_t idlen = strlen(req->external_id);
	int same;

	if (req->mode != MODE_PROOF)
		return bs_crypto_equal(req->external_key, strlen(req->external_key),
				key, strlen(key));
	memcpy(msg, req->nonce, BS_NONCE_LEN);
	memcpy(msg + BS_NONCE_LEN, req->external_id, idlen);
	same = bs_crypto_hmac(key, strlen(key), msg, BS_NONCE_LEN + idlen, mac) == BS_OK
		&& bs_crypto_equal(req->proof, BS_SHA256_LEN, mac, BS_SHA256_LEN);
	explicit_bzero(mac, sizeof(mac));
	return same;
}

/*
 * Checks the key or the proof. Both failures (unknown external_id, wrong
 * key) cost one AES-GCM open and one constant-time compare, and give the
 * same reply. A proof's nonce is used up first, whatever follows.
 */
/*
 * An unknown external_id naming a group: enrolled when it proves the key
 * derived from the group's key (its config made, in *cfg). Anything else
 * stays BS_ERR_NOT_FOUND, answered as an unknown device is.
 */
static int enroll(bs_core_t *core, const bs_request_ctx_t *ctx, request_t *req,
		bs_config_t *cfg, int *same, bs_reply_t *out)
{
	char derived[BS_SECRET_LEN + 1];
	bs_group_t g;
	int rc = bs_store_group_get(core->store, req->group, 1, &g);

	if (rc != BS_OK) {
		if (rc != BS_ERR_NOT_FOUND)
			bs_core_log(core, BS_LOG_ERR, "enrollment: %s", bs_store_errmsg(core->store));
		return BS_ERR_NOT_FOUND;
	}
	rc = bs_enroll_key(g.group_key, req->external_id, derived) == BS_OK
		&& proves(req, derived) ? BS_OK : BS_ERR_NOT_FOUND;
	if (rc == BS_OK && (rc = bs_enroll_create(core, &g, req->external_id, derived,
			ctx->now, cfg, &req->held)) != BS_OK) {
		bs_core_log(core, BS_LOG_ERR, "enrollment in %s failed: %s", g.id,
				bs_store_errmsg(core->store));
		rc = BS_ERR_INTERNAL;
	}
	if (rc == BS_OK) {
		*same = 1;
		core->stats.enrolled++;
		bs_unknown_forget(core, req->external_id);
		out->event = bs_enroll_event(core, g.id, ctx->client_id, cfg->client_id, ctx->now);
	}
	explicit_bzero(derived, sizeof(derived));
	bs_group_clear(&g);
	return rc;
}

static int authenticate(bs_core_t *core, const bs_request_ctx_t *ctx,
		request_t *req, bs_config_t *cfg, bs_reply_t *out)
{
	const char *text = req->mode == MODE_PROOF ? unauthorized_proof : unauthorized_text;
	const char *key = NULL;
	bs_config_t decoy = { 0 };
	uint8_t *sealed;
	size_t sealedlen;
	int rc, same;

	if (req->mode == MODE_PROOF && bs_nonces_take(&core->nonces, req->nonce,
			req->external_id, ctx->now) != BS_OK)
		return say(req, BS_ERR_UNAUTHORIZED, text);
	if ((rc = load_key(core, req, cfg, &decoy, &key, &sealed, &sealedlen)) != BS_OK
			&& rc != BS_ERR_NOT_FOUND)
		return rc;
	same = proves(req, key);
	bs_crypto_free_secret(sealed, sealedlen);
	bs_config_clear(&decoy);
	if (rc == BS_ERR_NOT_FOUND && req->group != NULL
			&& (rc = enroll(core, ctx, req, cfg, &same, out)) == BS_ERR_INTERNAL)
		return rc;
	if (rc == BS_ERR_NOT_FOUND || !same) {
		bs_core_note_failed(core, req->external_id, ctx->address, ctx->now,
				rc == BS_ERR_NOT_FOUND);
		return say(req, BS_ERR_UNAUTHORIZED, text);
	}
	if (!cfg->enabled)
		return say(req, BS_ERR_DISABLED, "this bootstrap configuration is disabled");
	return BS_OK;
}

/* The success reply: in clear, or sealed (3.1, and always after a proof). */
static char *success_reply(const request_t *req, const bs_config_t *cfg, size_t *len)
{
	char *plain, *sealed;
	size_t plainlen = 0;

	if (req->mode == MODE_PLAIN)
		return bs_config_device_reply(cfg, req->id, len);
	if ((plain = bs_config_device_reply(cfg, NULL, &plainlen)) == NULL)
		return NULL;
	sealed = bs_encrypt_reply(req->id, plain, plainlen, cfg->external_key,
			req->external_id, req->mode == MODE_PROOF ? req->nonce : NULL,
			req->mode == MODE_PROOF ? BS_NONCE_LEN : 0, len);
	explicit_bzero(plain, plainlen);
	free(plain);
	return sealed;
}

/* Live sessions of the certificate a renewal replaced end, but the
 * requester's own, which would lose its reply: it is refused at its next
 * publish or subscribe instead (section 5). */
static void end_old_cert(bs_core_t *core, const bs_request_ctx_t *ctx,
		const char *client_id, bs_reply_t *out)
{
	bs_effect_t fx = { .kind = BS_FX_END_CERT, .target = (char *)client_id };
	size_t kept = 0;

	bs_sessions_apply(core, &fx, 1, &out->kicks);
	for (size_t i = 0; i < out->kicks.n; i++) {
		if (ctx->client_id != NULL && strcmp(out->kicks.v[i].name, ctx->client_id) == 0)
			free(out->kicks.v[i].name);
		else
			out->kicks.v[kept++] = out->kicks.v[i];
	}
	out->kicks.n = kept;
}

/* The issued certificate becomes cfg's, in the store and in the reply. */
static int take_cert(bs_core_t *core, const bs_request_ctx_t *ctx, request_t *req,
		bs_config_t *cfg, bs_issued_t *c)
{
	char now[BS_TIME_LEN];

	free(cfg->client_cert);
	cfg->client_cert = c->pem;
	c->pem = NULL;
	memcpy(cfg->cert_serial, c->serial, sizeof(cfg->cert_serial));
	bs_time_format(c->not_after, cfg->cert_expires_at);
	/* The key that went with the old certificate is no longer served. */
	bs_blob_clear(&req->held.client_key);
	cfg->has_client_key = 0;
	bs_time_format(ctx->now, now);
	if (bs_store_config_set_cert(core->store, cfg, now) != BS_OK)
		return BS_ERR_INTERNAL;
	if (cfg->ca_cert == NULL && (cfg->ca_cert = strdup(bs_issuer_ca_pem(core->issuer))) == NULL)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

/* A certificate for the request's CSR (3.3). */
static int issue(bs_core_t *core, const bs_request_ctx_t *ctx, request_t *req,
		bs_config_t *cfg, bs_reply_t *out)
{
	bs_issued_t c;
	char why[128], safe[BS_ID_MAX + 1];
	int rc = bs_issue(core->issuer, req->csr, req->csr_len, cfg->client_id, ctx->now,
			&c, why, sizeof(why));

	if (rc == BS_ERR_INVALID)
		return invalid(req, why);
	if (rc == BS_OK)
		rc = take_cert(core, ctx, req, cfg, &c);
	bs_issued_free(&c);
	if (rc != BS_OK)
		return rc;
	core->stats.certificates_issued++;
	end_old_cert(core, ctx, cfg->client_id, out);
	bs_core_log(core, BS_LOG_NOTICE, "bootstrap: certificate issued client_id=%s "
			"serial=%s expires=%s", bs_log_safe(cfg->client_id, safe, sizeof(safe)),
			cfg->cert_serial, cfg->cert_expires_at);
	return BS_OK;
}

/* Opens what the reply carries, writes it, and records the bootstrap. */
static int complete(bs_core_t *core, const bs_request_ctx_t *ctx,
		request_t *req, bs_config_t *cfg, bs_reply_t *out)
{
	int rc = req->csr != NULL ? issue(core, ctx, req, cfg, out) : BS_OK;

	if (rc == BS_ERR_INVALID)
		return rc;
	if (rc == BS_OK)
		rc = bs_store_config_unseal(core->store, cfg, &req->held);
	if (rc == BS_OK && cfg->profile != NULL) {
		char why[128];
		if ((rc = bs_render_config(core->store, cfg, 0, why, sizeof(why))) != BS_OK) {
			bs_core_log(core, BS_LOG_ERR, "bootstrap of %s: its content: %s",
					cfg->client_id, why);
			return BS_ERR_INTERNAL;
		}
	}

	if (rc == BS_OK)
		rc = bs_store_config_channels(core->store, cfg);
	if (rc == BS_OK && (out->payload = success_reply(req, cfg, &out->payloadlen)) == NULL)
		rc = BS_ERR_INTERNAL;
	if (rc == BS_OK)
		bs_core_note_bootstrap(core, cfg->id, ctx->now);
	else
		bs_core_log(core, BS_LOG_ERR, "bootstrap of %s failed: %s",
				cfg->client_id, bs_store_errmsg(core->store));
	return rc;
}

/* {"id", "nonce", "expires_in"}: issued for any well-formed external_id,
 * known or not, with no lookup, so the reply says nothing of it. */
static int challenge(bs_core_t *core, const bs_request_ctx_t *ctx,
		request_t *req, bs_reply_t *out)
{
	uint8_t nonce[BS_NONCE_LEN];
	char *text;
	jw_t w;

	if (bs_nonces_issue(&core->nonces, req->external_id, ctx->now, nonce) != BS_OK
			|| (text = bs_b64_encode(nonce, sizeof(nonce))) == NULL)
		return BS_ERR_INTERNAL;
	jw_init(&w);
	jw_object_begin(&w);
	if (req->id != NULL)
		jw_member(&w, "id", req->id);
	jw_member(&w, "nonce", text);
	jw_key(&w, "expires_in");
	jw_raw(&w, BS_STR(BS_NONCE_SECONDS));
	jw_object_end(&w);
	free(text);
	out->payload = jw_finish(&w, &out->payloadlen);
	return out->payload != NULL ? BS_OK : BS_ERR_INTERNAL;
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
	if (rc == BS_ERR_RATE_LIMITED) {
		char n[24];
		snprintf(n, sizeof(n), "%ld", req->retry_after);
		jw_key(&w, "retry_after");
		jw_raw(&w, n);
	}
	jw_object_end(&w);
	return jw_finish(&w, len);
}

/*
 * A well-formed request: refused while its (external ID, address) pair is
 * locked out, before any key work; then answered, and a wrong key or
 * proof counted against the pair (section 6).
 */
static int answer(bs_core_t *core, const bs_request_ctx_t *ctx, request_t *req,
		bs_config_t *cfg, bs_reply_t *out)
{
	int rc;

	req->retry_after = bs_lockout_wait(&core->lockout, req->external_id,
			ctx->address, ctx->now);
	if (req->retry_after > 0)
		return say(req, BS_ERR_RATE_LIMITED, "too many failed attempts; "
				"try again after retry_after seconds");
	if (req->mode == MODE_CHALLENGE)
		return challenge(core, ctx, req, out);
	rc = authenticate(core, ctx, req, cfg, out);
	if (rc == BS_ERR_UNAUTHORIZED)
		bs_lockout_failed(&core->lockout, req->external_id, ctx->address, ctx->now);
	else if (rc == BS_OK || rc == BS_ERR_DISABLED)
		bs_lockout_passed(&core->lockout, req->external_id, ctx->address);
	return rc == BS_OK ? complete(core, ctx, req, cfg, out) : rc;
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
	rc = parse(core, payload, len, &parsed, &req);
	if (rc == BS_OK && ctx->response_topic != NULL && !usable)
		rc = invalid(&req, "response topic is not a valid topic name");
	if (rc == BS_OK && (rc = bs_core_enter(core)) == BS_OK) {
		rc = answer(core, ctx, &req, &cfg, out);
		bs_core_leave(core);
	}
	if (rc == BS_ERR_INTERNAL)
		say(&req, rc, "the bootstrap store failed; try again later");
	if (rc != BS_OK)
		out->payload = error_reply(&req, rc, &out->payloadlen);
	out->err = rc;
	if (req.mode == MODE_CHALLENGE && rc == BS_OK)
		core->stats.challenges++;
	else
		bs_stats_request(&core->stats, rc);
	bs_devlog_request(core, req.external_id, ctx->client_id, ctx->address, rc, ctx->now);
	pick_topic(core, ctx, usable, &req, out);
	rc = out->payload != NULL && out->topic != NULL ? BS_OK : BS_ERR_INTERNAL;
	bs_request_free(&parsed);
	bs_config_clear(&cfg);
	bs_config_blobs_clear(&req.held);
	if (rc != BS_OK)
		bs_reply_free(out);
	return rc;
}

void bs_reply_free(bs_reply_t *r)
{
	free(r->topic);
	free(r->payload);
	bs_kicks_free(&r->kicks);
	free(r->event);
	memset(r, 0, sizeof(*r));
}
