/*
 * The device protocol's answers (device.h): a request begun on the broker
 * thread, its store lookup (device_lookup.c), and the answer made from
 * what was found, on the broker thread again.
 */
#include "device_int.h"

#include "changes.h"
#include "devlog.h"
#include "encrypt.h"
#include "enroll.h"
#include "error.h"
#include "issue.h"
#include "jsonw.h"
#include "store.h"
#include "unknown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BS_STR_(x) #x
#define BS_STR(x) BS_STR_(x)

static const char unauthorized_text[] = "unknown external_id or wrong external_key";
static const char unauthorized_proof[] =
	"unknown external_id, wrong proof, or a nonce that is used up or expired";

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

	bs_sessions_apply_live(core, &fx, 1, &out->kicks);
	for (size_t i = 0; i < out->kicks.n; i++) {
		if (ctx->client_id != NULL && strcmp(out->kicks.v[i].name, ctx->client_id) == 0)
			free(out->kicks.v[i].name);
		else
			out->kicks.v[kept++] = out->kicks.v[i];
	}
	out->kicks.n = kept;
}

/* The config's login view as the lookup read it after its change, for
 * the login replica (on PostgreSQL); else, the thread reads it. */
static void take_login(bs_core_t *core, bs_device_job_t *job)
{
	if (core->logins != NULL && job->want_login)
		bs_logins_take(core->logins, &job->login_mark, job->cfg->client_id, job->login);
}

/* The certificate the lookup issued for the request's CSR (3.3). */
static int issued(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out)
{
	bs_config_t *cfg = job->cfg;
	char safe[BS_ID_MAX + 1];

	if (job->issued == BS_ERR_INTERNAL)
		bs_devlog_error(core, job->why, job->ctx.now);
	if (job->issued != BS_OK)
		return job->issued;
	core->stats.certificates_issued++;
	end_old_cert(core, &job->ctx, cfg->client_id, out);
	/* The new certificate is its identity at once, here. */
	take_login(core, job);
	bs_core_log(core, BS_LOG_NOTICE, "bootstrap: certificate issued client_id=%s "
			"serial=%s expires=%s", bs_log_safe(cfg->client_id, safe, sizeof(safe)),
			cfg->cert_serial, cfg->cert_expires_at);
	return BS_OK;
}

/* A bootstrap that failed after its lookup, said as one of the second's
 * device lines (devlog.h). */
static void log_failed(bs_core_t *core, bs_device_job_t *job)
{
	char line[sizeof(job->why)];

	snprintf(line, sizeof(line), "bootstrap of %s failed: %s", job->cfg->client_id,
			bs_store_errmsg(core->store));
	bs_devlog_error(core, line, job->ctx.now);
}

/* Opens what the reply carries, writes it, and records the bootstrap. */
static int complete(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out)
{
	const bs_request_ctx_t *ctx = &job->ctx;
	request_t *req = &job->req;
	bs_config_t *cfg = job->cfg;
	int rc = job->prepared;

	if (rc != BS_OK) {
		bs_devlog_error(core, job->why, job->ctx.now);
		return rc;
	}
	if (req->csr != NULL && (rc = issued(core, job, out)) != BS_OK)
		return rc;
	rc = bs_store_config_unseal(core->store, cfg, &req->held);
	if (rc == BS_OK && (out->payload = success_reply(req, cfg, &out->payloadlen)) == NULL)
		rc = BS_ERR_INTERNAL;
	if (rc == BS_OK)
		bs_core_note_bootstrap(core, cfg->id, ctx->now);
	else
		log_failed(core, job);
	return rc;
}

/* The enrolled device's config is in the store: it is no longer unknown,
 * and the admins hear of it. */
static void enrolled(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out)
{
	core->stats.enrolled++;
	bs_unknown_forgotten(core, job->req.external_id, job->forgotten);
	take_login(core, job);
	out->event = bs_enroll_event(core, job->req.group, job->ctx.client_id,
			job->cfg->client_id, job->ctx.now);
}

/* The key that the request must prove it holds: the config's, or for an
 * unknown external_id a decoy's, compared all the same (device_lookup.c).
 * With no config stored, the decoy key sealed at start. */
static int key_proved(bs_core_t *core, bs_device_job_t *job)
{
	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	int same;

	if (job->found == BS_OK)
		return job->enrolled || bs_device_proves(&job->req, job->cfg->external_key);
	core->decoy_used = 1;
	if (job->decoy_found)
		return bs_device_proves(&job->req, job->decoy->external_key);
	bs_crypto_open(core->key, "decoy", 5, core->decoy, core->decoy_len,
			&sealed, &sealedlen);
	same = bs_device_proves(&job->req, sealed ? (const char *)sealed : "");
	bs_crypto_free_secret(sealed, sealedlen);
	return same;
}

/*
 * Checks the key or the proof. Both failures (unknown external_id, wrong
 * key) cost one AES-GCM open and one constant-time compare, and give the
 * same reply; a wrong key or proof is counted against the pair (section 6).
 */
static int authenticate(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out)
{
	const bs_request_ctx_t *ctx = &job->ctx;
	request_t *req = &job->req;
	const char *text = req->mode == MODE_PROOF ? unauthorized_proof : unauthorized_text;
	int same;

	if (job->found == BS_ERR_UNAUTHORIZED) {
		/* Its nonce was used before, through this broker or another. */
		bs_lockout_failed(&core->lockout, req->external_id, ctx->address, ctx->now);
		return bs_device_say(req, BS_ERR_UNAUTHORIZED, text);
	}
	if (job->found != BS_OK && job->found != BS_ERR_NOT_FOUND) {
		bs_devlog_error(core, job->why, job->ctx.now);
		return BS_ERR_INTERNAL;
	}
	if (job->enroll_failed != BS_ENROLL_OK)
		bs_devlog_error(core, job->why, job->ctx.now);
	if (job->enroll_failed == BS_ENROLL_NOT_MADE)
		return BS_ERR_INTERNAL;
	same = key_proved(core, job);
	if (job->enrolled)
		enrolled(core, job, out);
	if (job->found == BS_ERR_NOT_FOUND || !same) {
		bs_core_note_failed(core, req->external_id, ctx->address, ctx->now,
				job->found == BS_ERR_NOT_FOUND);
		bs_lockout_failed(&core->lockout, req->external_id, ctx->address, ctx->now);
		return bs_device_say(req, BS_ERR_UNAUTHORIZED, text);
	}
	bs_lockout_passed(&core->lockout, req->external_id, ctx->address);
	if (!job->cfg->enabled)
		return bs_device_say(req, BS_ERR_DISABLED,
				"this bootstrap configuration is disabled");
	return BS_OK;
}

/* A nonce kept by this broker, or signed for any broker of a shared store
 * (challenge.h). */
static int issue_nonce(bs_core_t *core, const char *external_id, time_t now,
		uint8_t out[BS_NONCE_LEN])
{
	if (core->signed_nonces)
		return bs_nonce_sign(core->nonce_key, external_id, now, out);
	return bs_nonces_issue(&core->nonces, external_id, now, out);
}

/* A proof's nonce: used up now when this broker keeps them; else checked
 * now and used up by the lookup, in the store that every broker shares. */
static int take_nonce(bs_core_t *core, bs_device_job_t *job)
{
	request_t *req = &job->req;

	if (!core->signed_nonces)
		return bs_nonces_take(&core->nonces, req->nonce, req->external_id,
				job->ctx.now);
	return bs_nonce_verify(core->nonce_key, req->nonce, req->external_id,
			job->ctx.now, &job->nonce_expires);
}

/* {"id", "nonce", "expires_in"}: issued for any well-formed external_id,
 * known or not, with no lookup, so the reply says nothing of it. */
static int challenge(bs_core_t *core, const bs_request_ctx_t *ctx,
		request_t *req, bs_reply_t *out)
{
	uint8_t nonce[BS_NONCE_LEN];
	char *text;
	jw_t w;

	if (issue_nonce(core, req->external_id, ctx->now, nonce) != BS_OK
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
 * locked out, before any key work; a challenge is answered at once, and a
 * proof's nonce used up before anything else; the rest needs the lookup.
 */
static int start(bs_core_t *core, bs_device_job_t *job)
{
	const bs_request_ctx_t *ctx = &job->ctx;
	request_t *req = &job->req;

	req->retry_after = bs_lockout_wait(&core->lockout, req->external_id,
			ctx->address, ctx->now);
	if (req->retry_after > 0)
		return bs_device_say(req, BS_ERR_RATE_LIMITED, "too many failed attempts; "
				"try again after retry_after seconds");
	if (req->mode == MODE_CHALLENGE)
		return BS_OK;
	if (req->mode == MODE_PROOF && take_nonce(core, job) != BS_OK) {
		bs_lockout_failed(&core->lockout, req->external_id, ctx->address, ctx->now);
		return bs_device_say(req, BS_ERR_UNAUTHORIZED, unauthorized_proof);
	}
	job->lookup = 1;
	return BS_OK;
}

/* The context's strings and the decoy's external_id, copied into one
 * allocation (job->copies) rather than four: past seven chunks of a size,
 * malloc's per-thread cache overflows into its slower bins. */
static int copy_ctx(bs_device_job_t *job, const bs_request_ctx_t *ctx,
		const char *decoy_id)
{
	const char *from[] = { ctx->client_id, ctx->address, ctx->response_topic, decoy_id };
	char **to[] = { &job->client_id, &job->address, &job->response_topic,
		&job->decoy_id };
	size_t len[4], total = 0;
	char *p;

	for (size_t i = 0; i < 4; i++) {
		len[i] = from[i] != NULL ? strlen(from[i]) + 1 : 0;
		total += len[i];
	}
	if ((job->copies = p = malloc(total > 0 ? total : 1)) == NULL)
		return BS_ERR_INTERNAL;
	for (size_t i = 0; i < 4; i++) {
		if (from[i] == NULL)
			continue;
		*to[i] = memcpy(p, from[i], len[i]);
		p += len[i];
	}
	job->ctx.client_id = job->client_id;
	job->ctx.address = job->address;
	job->ctx.response_topic = job->response_topic;
	job->ctx.now = ctx->now;
	return BS_OK;
}

static void job_free(bs_device_job_t *job)
{
	bs_request_free(&job->parsed);
	if (job->cfg != NULL) {
		bs_config_clear(job->cfg);
		bs_config_clear(job->decoy);
		free(job->cfg);
	}
	if (job->login != NULL) {
		bs_config_clear(job->login);
		free(job->login);
	}
	bs_config_blobs_clear(&job->req.held);
	free(job->copies);
	free(job);
}

/* Zeroed memory through malloc: glibc's calloc (2.36) does not use the
 * per-thread cache, and cost about 470 instructions a call here
 * (callgrind). explicit_bzero, because the compiler turns malloc and
 * memset back into calloc. */
static void *zalloc(size_t size)
{
	void *p = malloc(size);

	if (p != NULL)
		explicit_bzero(p, size);
	return p;
}

int bs_device_begin(bs_core_t *core, const bs_request_ctx_t *ctx,
		const void *payload, size_t len, bs_device_job_t **out)
{
	bs_device_job_t *job = zalloc(sizeof(*job));
	int rc;

	*out = NULL;
	if (job == NULL)
		return BS_ERR_INTERNAL;
	if ((job->cfg = zalloc(2 * sizeof(*job->cfg))) == NULL) {
		free(job);
		return BS_ERR_INTERNAL;
	}
	job->decoy = job->cfg + 1;
	job->announce_as = bs_changes_as(core);
	job->issuer = core->issuer;
	job->issued = BS_ERR_INTERNAL;
	if ((job->want_login = core->logins != NULL))
		bs_logins_mark(core->logins, &job->login_mark);
	if (copy_ctx(job, ctx, core->decoy_external_id) != BS_OK) {
		job_free(job);
		return BS_ERR_INTERNAL;
	}
	job->usable = ctx->response_topic != NULL && bs_valid_topic_name(ctx->response_topic);
	rc = bs_device_parse(core, payload, len, &job->parsed, &job->req);
	if (rc == BS_OK && ctx->response_topic != NULL && !job->usable)
		rc = bs_device_invalid(&job->req, "response topic is not a valid topic name");
	if (rc == BS_OK)
		rc = start(core, job);
	job->rc = rc;
	*out = job;
	return BS_OK;
}

int bs_device_needs_lookup(const bs_device_job_t *job)
{
	return job->lookup;
}

/* The answer once the lookup is done (or was never needed). */
static int answer(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out)
{
	int rc = job->rc;

	if (rc != BS_OK)
		return rc;
	if (job->req.mode == MODE_CHALLENGE)
		return challenge(core, &job->ctx, &job->req, out);
	if ((rc = authenticate(core, job, out)) != BS_OK)
		return rc;
	return complete(core, job, out);
}

int bs_device_finish(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out)
{
	request_t *req = &job->req;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = job->lookup ? bs_device_say(req, BS_ERR_INTERNAL, "") : answer(core, job, out);
	if (rc == BS_ERR_INTERNAL)
		bs_device_say(req, rc, "the bootstrap store failed; try again later");
	if (rc != BS_OK)
		out->payload = error_reply(req, rc, &out->payloadlen);
	out->err = rc;
	if (req->mode == MODE_CHALLENGE && rc == BS_OK)
		core->stats.challenges++;
	else
		bs_stats_request(&core->stats, rc);
	bs_devlog_request(core, req->external_id, job->ctx.client_id, job->ctx.address,
			rc, job->ctx.now);
	pick_topic(core, &job->ctx, job->usable, req, out);
	rc = out->payload != NULL && out->topic != NULL ? BS_OK : BS_ERR_INTERNAL;
	job_free(job);
	if (rc != BS_OK)
		bs_reply_free(out);
	return rc;
}

void bs_device_cancel(bs_device_job_t *job)
{
	if (job != NULL)
		job_free(job);
}

int bs_device_handle(bs_core_t *core, const bs_request_ctx_t *ctx,
		const void *payload, size_t len, bs_reply_t *out)
{
	bs_device_job_t *job;

	memset(out, 0, sizeof(*out));
	if (bs_device_begin(core, ctx, payload, len, &job) != BS_OK)
		return BS_ERR_INTERNAL;
	if (job->lookup && bs_core_enter(core) == BS_OK) {
		bs_device_lookup(core->store, job);
		bs_core_leave(core);
	}
	return bs_device_finish(core, job, out);
}

void bs_reply_free(bs_reply_t *r)
{
	free(r->topic);
	free(r->payload);
	bs_kicks_free(&r->kicks);
	free(r->event);
	memset(r, 0, sizeof(*r));
}
