/* The store's front for configs: their secrets sealed on the way in and
 * opened on the way out, and their channels from the cache. */
#include "store_front.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

static int seal(bs_store_t *st, const char *column, const char *client_id,
		const char *clear, bs_blob_t *out)
{
	return store_seal(st, "configs", column, client_id, clear, out);
}

static int open_blob(bs_store_t *st, const char *column, const char *client_id,
		const bs_blob_t *blob, char **out)
{
	return store_open(st, "configs", column, client_id, blob, out);
}

/* cfg's three secrets, sealed; client_secret none when cfg has none. */
static int seal_all(bs_store_t *st, const bs_config_t *cfg, bs_config_blobs_t *out)
{
	int rc;

	if ((rc = seal(st, "client_secret", cfg->client_id, cfg->client_secret,
			&out->secret)) != BS_OK
			|| (rc = seal(st, "external_key", cfg->client_id, cfg->external_key,
			&out->external_key)) != BS_OK
			|| (rc = seal(st, "client_key", cfg->client_id, cfg->client_key,
			&out->client_key)) != BS_OK)
		bs_config_blobs_clear(out);
	return rc;
}

int bs_store_config_insert(bs_store_t *st, const bs_config_t *cfg)
{
	bs_config_blobs_t sealed = { 0 };
	int rc = seal_all(st, cfg, &sealed);

	if (rc == BS_OK)
		rc = OPS(st)->config_insert(st->b, cfg, &sealed);
	bs_config_blobs_clear(&sealed);
	return rc;
}

int bs_store_config_update(bs_store_t *st, const bs_config_t *cfg, int relink)
{
	bs_config_blobs_t sealed = { 0 };
	int rc = seal_all(st, cfg, &sealed);

	if (rc == BS_OK)
		rc = OPS(st)->config_update(st->b, cfg, &sealed, relink);
	bs_config_blobs_clear(&sealed);
	return rc;
}

/* A copy of the cached channel, or of the stored one (then cached). */
static int get_channel(bs_store_t *st, const char *id, bs_channel_t *out)
{
	const bs_channel_t *hit = store_cache_get(st, id);
	int rc;

	if (hit == NULL) {
		if ((rc = OPS(st)->channel_get(st->b, id, out)) == BS_OK)
			store_cache_put(st, out);
		return rc;
	}
	out->id = strdup(hit->id);
	out->name = strdup(hit->name);
	out->metadata = strdup(hit->metadata);
	if (out->id == NULL || out->name == NULL || out->metadata == NULL) {
		bs_channel_clear(out);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

static int add_channel(bs_store_t *st, bs_config_t *cfg, const char *id)
{
	bs_channel_t *grown = realloc(cfg->channels,
			(cfg->nchannels + 1) * sizeof(*grown));
	int rc;

	if (grown == NULL)
		return BS_ERR_INTERNAL;
	cfg->channels = grown;
	memset(&grown[cfg->nchannels], 0, sizeof(*grown));
	rc = get_channel(st, id, &grown[cfg->nchannels]);
	if (rc == BS_ERR_NOT_FOUND)
		return store_fail(st, BS_ERR_INTERNAL, "config %s names a missing channel",
				cfg->client_id);
	if (rc == BS_OK)
		cfg->nchannels++;
	return rc;
}

int bs_store_config_channels(bs_store_t *st, bs_config_t *cfg)
{
	const char *p = cfg->channel_ids;
	char id[BS_ID_MAX + 1];
	int rc = BS_OK;

	store_cache_fresh(st);
	while (rc == BS_OK && p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");
		if (n > BS_ID_MAX)
			return BS_ERR_INTERNAL;
		memcpy(id, p, n);
		id[n] = '\0';
		rc = add_channel(st, cfg, id);
		p += n + (p[n] == '\n');
	}
	return rc;
}

static enum bs_config_view view_of(unsigned flags)
{
	return (flags & BS_LOGIN_VIEW) ? BS_VIEW_LOGIN : BS_VIEW_ALL;
}

#define SECRET_FLAGS (BS_LOAD_SECRET | BS_LOAD_EXTERNAL_KEY | BS_LOAD_CLIENT_KEY)

/* Opens the secrets flags ask for, and loads the channels. */
static int finish(bs_store_t *st, unsigned flags, const bs_config_blobs_t *sealed,
		bs_config_t *cfg)
{
	const char *id = cfg->client_id;
	int rc = BS_OK;

	if ((flags & BS_LOAD_SECRET) && rc == BS_OK)
		rc = open_blob(st, "client_secret", id, &sealed->secret, &cfg->client_secret);
	if ((flags & BS_LOAD_EXTERNAL_KEY) && rc == BS_OK)
		rc = open_blob(st, "external_key", id, &sealed->external_key,
				&cfg->external_key);
	if ((flags & BS_LOAD_CLIENT_KEY) && rc == BS_OK)
		rc = open_blob(st, "client_key", id, &sealed->client_key, &cfg->client_key);
	if ((flags & BS_LOAD_CHANNELS) && rc == BS_OK)
		rc = bs_store_config_channels(st, cfg);
	return rc;
}

int bs_store_config_get(bs_store_t *st, const char *client_id,
		const char *external_id, unsigned flags, bs_config_t *out)
{
	bs_config_blobs_t sealed = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = OPS(st)->config_get(st->b, client_id, external_id, view_of(flags), out,
			(flags & SECRET_FLAGS) ? &sealed : NULL);
	if (rc == BS_OK)
		rc = finish(st, flags, &sealed, out);
	bs_config_blobs_clear(&sealed);
	if (rc != BS_OK)
		bs_config_clear(out);
	return rc;
}

int bs_store_device_get(bs_store_t *st, const char *external_id, bs_config_t *cfg,
		bs_config_blobs_t *held)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(held, 0, sizeof(*held));
	rc = OPS(st)->config_get(st->b, NULL, external_id, BS_VIEW_DEVICE, cfg, held);
	if (rc == BS_OK)
		rc = open_blob(st, "external_key", cfg->client_id, &held->external_key,
				&cfg->external_key);
	bs_blob_clear(&held->external_key);
	if (rc != BS_OK) {
		bs_config_clear(cfg);
		bs_config_blobs_clear(held);
	}
	return rc;
}

/* A row a backend read: its external_key opened, as bs_store_device_get. */
static int open_device(bs_store_t *st, bs_device_row_t *row)
{
	int rc = open_blob(st, "external_key", row->cfg->client_id,
			&row->held->external_key, &row->cfg->external_key);

	bs_blob_clear(&row->held->external_key);
	return rc;
}

static void devices_clear(bs_device_row_t *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bs_config_clear(rows[i].cfg);
		bs_config_blobs_clear(rows[i].held);
	}
}

int bs_store_devices_get(bs_store_t *st, bs_device_row_t *rows, size_t n)
{
	int rc = BS_OK;

	if (n > BS_DEVICES_MAX)
		return BS_ERR_INVALID;
	if (OPS(st)->config_get_devices == NULL) {
		for (size_t i = 0; i < n && rc == BS_OK; i++) {
			rows[i].found = bs_store_device_get(st, rows[i].external_id,
					rows[i].cfg, rows[i].held);
			if (rows[i].found == BS_ERR_INTERNAL)
				rc = BS_ERR_INTERNAL;
		}
	} else {
		rc = OPS(st)->config_get_devices(st->b, rows, n);
		for (size_t i = 0; i < n && rc == BS_OK; i++)
			if (rows[i].found == BS_OK)
				rc = open_device(st, &rows[i]);
	}
	if (rc != BS_OK)
		devices_clear(rows, n);
	return rc;
}

int bs_store_config_unseal(bs_store_t *st, bs_config_t *cfg, const bs_config_blobs_t *held)
{
	int rc = open_blob(st, "client_secret", cfg->client_id, &held->secret,
			&cfg->client_secret);

	if (rc == BS_OK)
		rc = open_blob(st, "client_key", cfg->client_id, &held->client_key,
				&cfg->client_key);
	return rc;
}

int bs_store_config_list(bs_store_t *st, const bs_config_filter_t *f,
		long offset, long limit, unsigned flags, bs_config_t **out, size_t *n)
{
	static const bs_config_blobs_t none;
	bs_config_t *list = calloc((size_t)limit + 1, sizeof(*list));
	bs_config_blobs_t *sealed = NULL;
	int rc = list != NULL ? BS_OK : BS_ERR_INTERNAL;

	*out = NULL;
	*n = 0;
	if (rc == BS_OK && (flags & SECRET_FLAGS)
			&& (sealed = calloc((size_t)limit + 1, sizeof(*sealed))) == NULL)
		rc = BS_ERR_INTERNAL;
	if (rc == BS_OK)
		rc = OPS(st)->config_list(st->b, f, offset, limit, list, sealed, n);
	for (size_t i = 0; rc == BS_OK && i < *n; i++)
		rc = finish(st, flags, sealed ? &sealed[i] : &none, &list[i]);
	for (size_t i = 0; sealed != NULL && i < *n; i++)
		bs_config_blobs_clear(&sealed[i]);
	free(sealed);
	if (rc != BS_OK) {
		for (size_t i = 0; list != NULL && i < *n; i++)
			bs_config_clear(&list[i]);
		free(list);
		*n = 0;
		return rc;
	}
	*out = list;
	return BS_OK;
}

int bs_store_config_next_external_id(bs_store_t *st, const char *after, char **out)
{
	int rc = OPS(st)->config_next_external_id(st->b, after ? after : "", out);

	if (rc == BS_ERR_NOT_FOUND && after != NULL && *after != '\0')
		rc = OPS(st)->config_next_external_id(st->b, "", out);
	return rc;
}

int bs_store_config_count(bs_store_t *st, const bs_config_filter_t *f, long *total)
{
	return OPS(st)->config_count(st->b, f, total);
}

int bs_store_config_states(bs_store_t *st, long *enabled, long *disabled)
{
	return OPS(st)->config_states(st->b, enabled, disabled);
}

int bs_store_config_set_cert(bs_store_t *st, const bs_config_t *cfg, const char *now)
{
	return OPS(st)->config_set_cert(st->b, cfg, now);
}

int bs_store_config_set_enabled(bs_store_t *st, const char *client_id,
		int enabled, const char *now)
{
	return OPS(st)->config_set_enabled(st->b, client_id, enabled, now);
}

int bs_store_config_delete(bs_store_t *st, const char *client_id, const char *now)
{
	return OPS(st)->config_delete(st->b, client_id, now);
}

int bs_store_client_deleted(bs_store_t *st, const char *client_id)
{
	return OPS(st)->client_deleted(st->b, client_id);
}

int bs_store_config_touch_bootstrap(bs_store_t *st, int64_t id, time_t when)
{
	return OPS(st)->config_touch(st->b, id, when);
}

int bs_store_config_touch_many(bs_store_t *st, const int64_t *ids, const time_t *whens,
		size_t n)
{
	int rc = BS_OK;

	if (OPS(st)->config_touch_many == NULL) {
		for (size_t i = 0; rc == BS_OK && i < n; i++)
			rc = OPS(st)->config_touch(st->b, ids[i], whens[i]);
		return rc;
	}
	for (size_t at = 0; rc == BS_OK && at < n; at += BS_TOUCH_BATCH)
		rc = OPS(st)->config_touch_many(st->b, ids + at, whens + at,
				n - at < BS_TOUCH_BATCH ? n - at : BS_TOUCH_BATCH);
	return rc;
}

/*
 * The client_secret of out[i] opened from sealed[i] for each of n rows
 * the backend read (rc) and found (found NULL: all), every sealed[i]
 * cleared; on a failure every out[i] is cleared too. The code.
 */
static int open_secrets(bs_store_t *st, int rc, bs_config_t *out,
		bs_config_blobs_t *sealed, size_t n, const int *found)
{
	for (size_t i = 0; i < n; i++) {
		if (rc == BS_OK && (found == NULL || found[i]))
			rc = open_blob(st, "client_secret", out[i].client_id,
					&sealed[i].secret, &out[i].client_secret);
		bs_config_blobs_clear(&sealed[i]);
	}
	for (size_t i = 0; rc != BS_OK && i < n; i++)
		bs_config_clear(&out[i]);
	return rc;
}

int bs_store_login_page(bs_store_t *st, const char *after, size_t max,
		bs_config_t *out, size_t *n)
{
	bs_config_blobs_t *sealed;
	int rc;

	*n = 0;
	if (OPS(st)->config_login_page == NULL)
		return store_fail(st, BS_ERR_INTERNAL, "no paged logins on this store");
	if ((sealed = calloc(max ? max : 1, sizeof(*sealed))) == NULL)
		return store_fail(st, BS_ERR_INTERNAL, "out of memory");
	memset(out, 0, max * sizeof(*out));
	rc = OPS(st)->config_login_page(st->b, after, max, out, sealed, n);
	if ((rc = open_secrets(st, rc, out, sealed, *n, NULL)) != BS_OK)
		*n = 0;
	free(sealed);
	return rc;
}

int bs_store_deleted_page(bs_store_t *st, const char *after, size_t max, char **ids,
		size_t *n)
{
	*n = 0;
	if (OPS(st)->deleted_page == NULL)
		return store_fail(st, BS_ERR_INTERNAL, "no paged logins on this store");
	return OPS(st)->deleted_page(st->b, after, max, ids, n);
}

int bs_store_logins_get(bs_store_t *st, const char *const *ids, size_t n,
		bs_config_t *out, int *found, int *deleted)
{
	bs_config_blobs_t *sealed;
	int rc;

	if (OPS(st)->config_logins_get == NULL)
		return store_fail(st, BS_ERR_INTERNAL, "no paged logins on this store");
	if ((sealed = calloc(n ? n : 1, sizeof(*sealed))) == NULL)
		return store_fail(st, BS_ERR_INTERNAL, "out of memory");
	memset(out, 0, n * sizeof(*out));
	rc = OPS(st)->config_logins_get(st->b, ids, n, out, sealed, found, deleted);
	if ((rc = open_secrets(st, rc, out, sealed, n, found)) != BS_OK) {
		memset(found, 0, n * sizeof(*found));
		memset(deleted, 0, n * sizeof(*deleted));
	}
	free(sealed);
	return rc;
}
