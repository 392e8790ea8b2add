/*
 * The store's part of a device request: the config of its external_id,
 * or a decoy's key and an enrollment for an unknown one, what the reply
 * needs beyond the row, and a certificate for a CSR. Every write it makes
 * (an enrollment, an issued certificate) goes in one transaction with its
 * announcement to the other brokers, and the login view it changed is
 * read back for the login replica. It touches the job, the store it is
 * given and the issuing CA (read only) and nothing else, so that it may
 * run off the broker thread on a store of its own (device.h).
 */
#include "device_int.h"

#include "changes.h"
#include "enroll.h"
#include "error.h"
#include "render.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bs_device_proves(const request_t *req, const char *key)
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

static void why(bs_device_job_t *job, const char *what, const char *detail)
{
	snprintf(job->why, sizeof(job->why), "%s: %s", what, detail);
}

/*
 * For an unknown external_id: the key of a stored config, read and opened
 * by the same statement and work as a known one's, so that the two cost
 * the same (measured with make bench-core); it is then compared and
 * dropped, and the core moves on to the next config at the next tick, so
 * that the decoy's row is not always the one in the cache.
 */
static void lookup_decoy(bs_store_t *st, bs_device_job_t *job)
{
	bs_config_blobs_t held = { 0 };

	if (job->decoy_id != NULL)
		job->decoy_found = bs_store_device_get(st, job->decoy_id, job->decoy,
				&held) == BS_OK;
	bs_config_blobs_clear(&held);
}

/*
 * An unknown external_id naming a group: enrolled when it proves the key
 * derived from the group's key, its config made (in job->cfg). Anything
 * else leaves it unknown, answered as an unknown device is.
 */
static void enroll(bs_store_t *st, bs_device_job_t *job)
{
	request_t *req = &job->req;
	char derived[BS_SECRET_LEN + 1];
	bs_group_t g;
	int rc = bs_store_group_get(st, req->group, 1, &g);

	if (rc != BS_OK) {
		if (rc != BS_ERR_NOT_FOUND) {
			job->enroll_failed = BS_ENROLL_NO_GROUP;
			why(job, "enrollment", bs_store_errmsg(st));
		}
		return;
	}
	if (bs_enroll_key(g.group_key, req->external_id, derived) == BS_OK
			&& bs_device_proves(req, derived)) {
		if (bs_enroll_create(st, &g, req->external_id, derived, job->ctx.now,
				job->announce_as, &job->forgotten) == BS_OK
				&& bs_store_device_get(st, req->external_id, job->cfg,
					&req->held) == BS_OK) {
			job->enrolled = 1;
			job->found = BS_OK;
		} else {
			job->enroll_failed = BS_ENROLL_NOT_MADE;
			snprintf(job->why, sizeof(job->why), "enrollment in %s failed: %s",
					g.id, bs_store_errmsg(st));
		}
	}
	explicit_bzero(derived, sizeof(derived));
	bs_group_clear(&g);
}

/* The content from the config's profile, and its channels. */
static void prepare(bs_store_t *st, bs_device_job_t *job)
{
	bs_config_t *cfg = job->cfg;
	char err[128];

	if (cfg->profile != NULL
			&& bs_render_config(st, cfg, 0, err, sizeof(err)) != BS_OK) {
		job->prepared = BS_ERR_INTERNAL;
		snprintf(job->why, sizeof(job->why), "bootstrap of %s: its content: %s",
				cfg->client_id, err);
		return;
	}
	if (bs_store_config_channels(st, cfg) != BS_OK) {
		job->prepared = BS_ERR_INTERNAL;
		snprintf(job->why, sizeof(job->why), "bootstrap of %s failed: %s",
				cfg->client_id, bs_store_errmsg(st));
	}
}

/* cfg's certificate in the store, and the other brokers told: their
 * sessions of the old one end (section 5). */
static int store_cert(bs_store_t *st, bs_device_job_t *job)
{
	bs_config_t *cfg = job->cfg;
	bs_effect_t fx = { .kind = BS_FX_END_CERT, .target = cfg->client_id };
	char now[BS_TIME_LEN];
	int rc;

	bs_time_format(job->ctx.now, now);
	if ((rc = bs_store_begin(st)) != BS_OK)
		return rc;
	if ((rc = bs_store_config_set_cert(st, cfg, now)) != BS_OK) {
		bs_store_rollback(st);
		return rc;
	}
	return bs_changes_commit(st, job->announce_as, &fx, 1);
}

/* The issued certificate becomes cfg's, in the store and in the reply; the
 * key that went with the old one is no longer served. */
static int take_cert(bs_store_t *st, bs_device_job_t *job, bs_issued_t *c)
{
	bs_config_t *cfg = job->cfg;

	free(cfg->client_cert);
	cfg->client_cert = c->pem;
	c->pem = NULL;
	memcpy(cfg->cert_serial, c->serial, sizeof(cfg->cert_serial));
	bs_time_format(c->not_after, cfg->cert_expires_at);
	bs_blob_clear(&job->req.held.client_key);
	cfg->has_client_key = 0;
	if (store_cert(st, job) != BS_OK) {
		snprintf(job->why, sizeof(job->why), "bootstrap of %s: its certificate "
				"not stored: %s", cfg->client_id, bs_store_errmsg(st));
		return BS_ERR_INTERNAL;
	}
	if (cfg->ca_cert == NULL
			&& (cfg->ca_cert = strdup(bs_issuer_ca_pem(job->issuer))) == NULL)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

/* A certificate for the CSR (3.3) of a device that proved its key and
 * will be answered with it: issued here, where a store across the network
 * may be waited on, rather than on the broker's thread. */
static void issue(bs_store_t *st, bs_device_job_t *job)
{
	request_t *req = &job->req;
	bs_config_t *cfg = job->cfg;
	bs_issued_t c;
	char why[128];
	int rc;

	if (req->csr == NULL || job->found != BS_OK || job->prepared != BS_OK
			|| !cfg->enabled
			|| !(job->enrolled || bs_device_proves(req, cfg->external_key)))
		return;
	rc = bs_issue(job->issuer, req->csr, req->csr_len, cfg->client_id, job->ctx.now,
			&c, why, sizeof(why));
	if (rc == BS_ERR_INVALID)
		bs_device_invalid(req, why);
	else if (rc == BS_OK)
		rc = take_cert(st, job, &c);
	else
		snprintf(job->why, sizeof(job->why), "bootstrap of %s: no certificate "
				"issued: %s", cfg->client_id, why);
	bs_issued_free(&c);
	job->issued = rc;
}

/* The login view of a config made or changed here, read after its commit
 * for the login replica (lib/logins.h: bs_logins_take). */
static void read_login(bs_store_t *st, bs_device_job_t *job)
{
	/* issued is BS_OK only for a CSR answered, and enrolled only for a
	 * config found. */
	if (!job->want_login || (!job->enrolled && job->issued != BS_OK)
			|| (job->login = calloc(1, sizeof(*job->login))) == NULL)
		return;
	if (bs_store_config_get(st, job->cfg->client_id, NULL,
			BS_LOGIN_VIEW | BS_LOAD_SECRET, job->login) != BS_OK) {
		bs_config_clear(job->login);
		free(job->login);
		job->login = NULL;
	}
}

/* A proof's nonce used up; 0 when the lookup goes no further. */
static int nonce_used(bs_store_t *st, bs_device_job_t *job)
{
	if (job->nonce_expires == 0)
		return 1;
	job->found = bs_store_nonce_use(st, job->req.nonce, BS_NONCE_LEN,
			job->nonce_expires);
	if (job->found == BS_ERR_INTERNAL)
		why(job, "a challenge answer's nonce", bs_store_errmsg(st));
	return job->found == BS_OK;
}

/* What follows the read of the config: enrollment, or the reply's parts. */
static void after_get(bs_store_t *st, bs_device_job_t *job)
{
	if (job->found == BS_ERR_NOT_FOUND && job->req.group != NULL)
		enroll(st, job);
	else if (job->found != BS_OK && job->found != BS_ERR_NOT_FOUND)
		why(job, "device lookup failed", bs_store_errmsg(st));
	if (job->found != BS_OK)
		return;
	prepare(st, job);
	issue(st, job);
	read_login(st, job);
}

void bs_device_lookup(bs_store_t *st, bs_device_job_t *job)
{
	job->lookup = 0;
	if (!nonce_used(st, job))
		return;
	job->found = bs_store_device_get(st, job->req.external_id, job->cfg,
			&job->req.held);
	if (job->found == BS_ERR_NOT_FOUND)
		lookup_decoy(st, job);
	after_get(st, job);
}

/* The decoys of the unknown ones among jobs[0..n), read together. */
static void decoys_many(bs_store_t *st, bs_device_job_t *const *jobs, size_t n)
{
	bs_device_row_t rows[BS_DEVICES_MAX];
	bs_config_blobs_t held[BS_DEVICES_MAX];
	bs_device_job_t *of[BS_DEVICES_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (jobs[i]->found != BS_ERR_NOT_FOUND || jobs[i]->decoy_id == NULL)
			continue;
		rows[k].external_id = jobs[i]->decoy_id;
		rows[k].cfg = jobs[i]->decoy;
		rows[k].held = &held[k];
		of[k] = jobs[i];
		k++;
	}
	if (k == 0)
		return;
	if (bs_store_devices_get(st, rows, k) != BS_OK)
		return;         /* no decoy found: compared with the one sealed */
	for (size_t j = 0; j < k; j++) {
		of[j]->decoy_found = rows[j].found == BS_OK;
		bs_config_blobs_clear(&held[j]);
	}
}

/* Up to BS_DEVICES_MAX jobs: their configs in one read, then their decoys
 * in one; a read that fails for them all is made again for each, so that
 * one request cannot fail the others. */
static void lookup_chunk(bs_store_t *st, bs_device_job_t *const *jobs, size_t n)
{
	bs_device_row_t rows[BS_DEVICES_MAX];
	bs_device_job_t *asked[BS_DEVICES_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		jobs[i]->lookup = 0;
		if (!nonce_used(st, jobs[i]))
			continue;
		rows[k].external_id = jobs[i]->req.external_id;
		rows[k].cfg = jobs[i]->cfg;
		rows[k].held = &jobs[i]->req.held;
		asked[k] = jobs[i];
		k++;
	}
	if (k == 0)
		return;
	if (bs_store_devices_get(st, rows, k) != BS_OK) {
		for (size_t j = 0; j < k; j++) {
			asked[j]->nonce_expires = 0;        /* used up above */
			bs_device_lookup(st, asked[j]);
		}
		return;
	}
	for (size_t j = 0; j < k; j++)
		asked[j]->found = rows[j].found;
	decoys_many(st, asked, k);
	for (size_t j = 0; j < k; j++)
		after_get(st, asked[j]);
}

void bs_device_lookup_many(bs_store_t *st, bs_device_job_t *const *jobs, size_t n)
{
	for (size_t at = 0; at < n; at += BS_DEVICES_MAX)
		lookup_chunk(st, jobs + at, n - at < BS_DEVICES_MAX ? n - at : BS_DEVICES_MAX);
}
