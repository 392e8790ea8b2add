/* The configs table and its channel links; secret columns are sealed here. */
#include "store_int.h"

#include "certs.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column positions in the SELECTs of configs (CFG_COLUMNS in store.c). */
enum { C_ROWID, C_ID, C_SECRET, C_NAME, C_EXT_ID, C_EXT_KEY, C_CONTENT,
	C_CERT, C_KEY, C_CA, C_ENABLED, C_CREATED, C_UPDATED, C_LAST, C_CHANNEL_IDS,
	C_SERIAL, C_EXPIRES, C_PROFILE, C_VARS, C_GROUP };

/* The additional data of a sealed column: table NUL column NUL row id. */
static size_t make_aad(char *buf, size_t buflen, const char *table,
		const char *column, const char *id)
{
	size_t tlen = strlen(table) + 1, clen = strlen(column), ilen = strlen(id);
	size_t n = tlen + clen + 1 + ilen;

	if (n > buflen)
		return 0;
	memcpy(buf, table, tlen);
	memcpy(buf + tlen, column, clen + 1);
	memcpy(buf + tlen + clen + 1, id, ilen);
	return n;
}

int store_seal_in(bs_store_t *st, const char *table, const char *column,
		const char *id, const char *clear, uint8_t **out, size_t *outlen)
{
	char aad[BS_ID_MAX + 64];
	size_t aadlen = make_aad(aad, sizeof(aad), table, column, id);

	if (aadlen == 0 || bs_crypto_seal(st->key, aad, aadlen, clear,
			strlen(clear), out, outlen) != BS_OK) {
		snprintf(st->errmsg, sizeof(st->errmsg), "cannot seal %s", column);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

int store_open_in(bs_store_t *st, const char *table, const char *column,
		const char *id, const uint8_t *blob, size_t len, char **out)
{
	char aad[BS_ID_MAX + 64];
	size_t aadlen = make_aad(aad, sizeof(aad), table, column, id);
	uint8_t *pt = NULL;
	size_t ptlen = 0;

	*out = NULL;
	if (blob == NULL)
		return BS_OK;
	if (aadlen == 0 || bs_crypto_open(st->key, aad, aadlen, blob, len,
			&pt, &ptlen) != BS_OK) {
		snprintf(st->errmsg, sizeof(st->errmsg),
				"%s of %s does not open with this key file", column, id);
		return BS_ERR_INTERNAL;
	}
	*out = (char *)pt;
	return BS_OK;
}

static int seal(bs_store_t *st, const char *column, const char *client_id,
		const char *clear, uint8_t **out, size_t *outlen)
{
	return store_seal_in(st, "configs", column, client_id, clear, out, outlen);
}

/* Opens a sealed value into a NUL-terminated string; NULL stays NULL. */
static int open_blob(bs_store_t *st, const uint8_t *blob, size_t len,
		const char *column, const char *client_id, char **out)
{
	return store_open_in(st, "configs", column, client_id, blob, len, out);
}

static int unseal(bs_store_t *st, sqlite3_stmt *s, int col, const char *column,
		const char *client_id, char **out)
{
	const uint8_t *blob = sqlite3_column_type(s, col) == SQLITE_NULL
		? NULL : sqlite3_column_blob(s, col);

	return open_blob(st, blob, (size_t)sqlite3_column_bytes(s, col), column,
			client_id, out);
}

/* Copies a sealed column as it is; NULL stays NULL. */
static int keep_blob(sqlite3_stmt *s, int col, uint8_t **out, size_t *len)
{
	const void *blob = sqlite3_column_blob(s, col);

	*len = (size_t)sqlite3_column_bytes(s, col);
	if (sqlite3_column_type(s, col) == SQLITE_NULL || blob == NULL)
		return BS_OK;
	if ((*out = malloc(*len)) == NULL)
		return BS_ERR_INTERNAL;
	memcpy(*out, blob, *len);
	return BS_OK;
}

int store_config_probe_key(bs_store_t *st)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_ANY);
	char *secret = NULL;
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		rc = unseal(st, s, 1, "client_secret",
				(const char *)sqlite3_column_text(s, 0), &secret) == BS_OK
			? BS_OK : BS_ERR_UNAUTHORIZED;
	else
		rc = rc == SQLITE_DONE ? BS_OK : store_fail(st, "read a config");
	sqlite3_reset(s);
	if (secret != NULL)
		bs_crypto_free_secret(secret, strlen(secret));
	return rc;
}

int bs_store_config_unseal(bs_store_t *st, bs_config_t *cfg)
{
	int rc = open_blob(st, cfg->sealed.secret, cfg->sealed.secret_len,
			"client_secret", cfg->client_id, &cfg->client_secret);

	if (rc == BS_OK)
		rc = open_blob(st, cfg->sealed.client_key, cfg->sealed.client_key_len,
				"client_key", cfg->client_id, &cfg->client_key);
	return rc;
}

/* Binds a sealed secret (or NULL) at col. The sealed buffer is kept in
 * *keep until the statement ran. */
static int bind_sealed(bs_store_t *st, sqlite3_stmt *s, int col,
		const char *column, const char *client_id, const char *clear,
		uint8_t **keep)
{
	size_t len = 0;
	int rc;

	if (clear == NULL)
		return sqlite3_bind_null(s, col) == SQLITE_OK ? BS_OK : BS_ERR_INTERNAL;
	if ((rc = seal(st, column, client_id, clear, keep, &len)) != BS_OK)
		return rc;
	sqlite3_bind_blob(s, col, *keep, (int)len, SQLITE_STATIC);
	return BS_OK;
}

/* The channel ids of cfg joined by newlines, as configs.channel_ids keeps
 * them (ids hold no control characters). */
static char *join_channel_ids(const bs_config_t *cfg)
{
	size_t len = 1, at = 0;
	char *out;

	for (size_t i = 0; i < cfg->nchannels; i++)
		len += strlen(cfg->channels[i].id) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->nchannels; i++) {
		size_t n = strlen(cfg->channels[i].id);
		if (i > 0)
			out[at++] = '\n';
		memcpy(out + at, cfg->channels[i].id, n);
		at += n;
	}
	out[at] = '\0';
	return out;
}

static int insert_links(bs_store_t *st, const bs_config_t *cfg)
{
	for (size_t i = 0; i < cfg->nchannels; i++) {
		sqlite3_stmt *s = store_stmt(st, ST_LINK_INSERT);
		int rc;

		store_bind_text(s, 1, cfg->client_id);
		store_bind_text(s, 2, cfg->channels[i].id);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
		if ((rc = store_done(st, s, "link channel")) != BS_OK)
			return rc;
	}
	return BS_OK;
}

/* A config made with a deleted config's client_id is a config again. */
static int forget_deleted(bs_store_t *st, const char *client_id)
{
	sqlite3_stmt *s = store_stmt(st, ST_GONE_CLEAR);

	store_bind_text(s, 1, client_id);
	return store_done(st, s, "forget a deleted client_id");
}

/* The serial at col and the end of validity at col + 1 of cfg's
 * client_cert: NULL for none. */
static void bind_cert_info(sqlite3_stmt *s, int col, const bs_config_t *cfg)
{
	store_bind_text(s, col, cfg->cert_serial[0] ? cfg->cert_serial : NULL);
	store_bind_text(s, col + 1, cfg->cert_expires_at[0] ? cfg->cert_expires_at : NULL);
}

int bs_store_config_set_cert(bs_store_t *st, const bs_config_t *cfg, const char *now)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_SET_CERT);
	int rc;

	store_bind_text(s, 1, cfg->client_cert);
	bind_cert_info(s, 2, cfg);
	store_bind_text(s, 4, now);
	store_bind_text(s, 5, cfg->client_id);
	rc = store_change_one(st, s, "store an issued certificate");
	sqlite3_clear_bindings(s);
	return rc;
}

/* The serial and the end of validity of a certificate stored before
 * schema version 6. */
static int fill_one(bs_store_t *st, sqlite3_stmt *u, const char *client_id,
		const char *cert)
{
	bs_config_t info = { 0 };
	time_t not_after;

	if (bs_certs_info(cert, strlen(cert), info.cert_serial, &not_after) != BS_OK) {
		snprintf(st->errmsg, sizeof(st->errmsg),
				"the client_cert of %.64s does not parse", client_id);
		return BS_ERR_INTERNAL;
	}
	bs_time_format(not_after, info.cert_expires_at);
	sqlite3_reset(u);
	bind_cert_info(u, 1, &info);
	sqlite3_bind_text(u, 3, client_id, -1, SQLITE_TRANSIENT);
	return store_done(st, u, "fill in a certificate's serial");
}

int store_config_fill_cert_info(bs_store_t *st)
{
	sqlite3_stmt *s = NULL, *u = NULL;
	int rc = BS_OK, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(st->db, bs_store_sql[ST_CFG_CERTS], -1, &s, NULL) != SQLITE_OK
			|| sqlite3_prepare_v2(st->db, bs_store_sql[ST_CFG_CERT_INFO], -1, &u,
				NULL) != SQLITE_OK)
		rc = store_fail(st, "prepare the certificates' migration");
	while (rc == BS_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = fill_one(st, u, (const char *)sqlite3_column_text(s, 0),
				(const char *)sqlite3_column_text(s, 1));
	if (rc == BS_OK && step != SQLITE_DONE)
		rc = store_fail(st, "read the stored certificates");
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

int bs_store_config_insert(bs_store_t *st, const bs_config_t *cfg)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_INSERT);
	uint8_t *sealed[3] = { NULL, NULL, NULL };
	char *ids = join_channel_ids(cfg);
	int rc;

	store_bind_text(s, 1, cfg->client_id);
	store_bind_text(s, 3, cfg->name ? cfg->name : "");
	store_bind_text(s, 4, cfg->external_id);
	store_bind_text(s, 6, cfg->content ? cfg->content : "");
	store_bind_text(s, 7, cfg->client_cert);
	store_bind_text(s, 9, cfg->ca_cert);
	sqlite3_bind_int(s, 10, cfg->enabled ? 1 : 0);
	store_bind_text(s, 11, cfg->created_at);
	store_bind_text(s, 12, cfg->updated_at);
	store_bind_text(s, 13, ids);
	bind_cert_info(s, 14, cfg);
	store_bind_text(s, 16, cfg->profile);
	store_bind_text(s, 17, cfg->vars);
	store_bind_text(s, 18, cfg->group);
	rc = BS_ERR_INTERNAL;
	if (ids == NULL
			|| (rc = bind_sealed(st, s, 2, "client_secret", cfg->client_id,
			cfg->client_secret, &sealed[0])) != BS_OK
			|| (rc = bind_sealed(st, s, 5, "external_key", cfg->client_id,
			cfg->external_key, &sealed[1])) != BS_OK
			|| (rc = bind_sealed(st, s, 8, "client_key", cfg->client_id,
			cfg->client_key, &sealed[2])) != BS_OK)
		goto out;
	if ((rc = store_done(st, s, "insert config")) != BS_OK
			|| (rc = insert_links(st, cfg)) != BS_OK
			|| (rc = forget_deleted(st, cfg->client_id)) != BS_OK)
		goto out;
	rc = store_count_change(st, cfg->enabled, 1);
out:
	sqlite3_clear_bindings(s);
	for (int i = 0; i < 3; i++)
		free(sealed[i]);
	free(ids);
	return rc;
}

/* A copy of the cached channel, or of the stored one (then cached). */
static int get_channel(bs_store_t *st, const char *id, bs_channel_t *out)
{
	const bs_channel_t *hit = store_cache_get(st, id);
	int rc;

	if (hit == NULL) {
		if ((rc = bs_store_channel_get(st, id, out)) == BS_OK)
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
	if (rc == BS_ERR_NOT_FOUND) {
		snprintf(st->errmsg, sizeof(st->errmsg),
				"config %s names a missing channel", cfg->client_id);
		return BS_ERR_INTERNAL;
	}
	if (rc == BS_OK)
		cfg->nchannels++;
	return rc;
}

/* Channels come from the small channels table, which stays in the page
 * cache, by the ids kept with the config's row. */
int bs_store_config_channels(bs_store_t *st, bs_config_t *cfg)
{
	const char *p = cfg->channel_ids;
	char id[BS_ID_MAX + 1];
	int rc = BS_OK;

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


static int read_config(bs_store_t *st, sqlite3_stmt *s, unsigned flags,
		bs_config_t *out)
{
	int oom = 0;
	int rc = BS_OK;

	out->client_id = store_col_text(s, C_ID, &oom);
	out->name = store_col_text(s, C_NAME, &oom);
	out->external_id = store_col_text(s, C_EXT_ID, &oom);
	out->content = store_col_text(s, C_CONTENT, &oom);
	out->client_cert = store_col_text(s, C_CERT, &oom);
	out->ca_cert = store_col_text(s, C_CA, &oom);
	out->has_client_key = sqlite3_column_type(s, C_KEY) != SQLITE_NULL;
	out->enabled = sqlite3_column_int(s, C_ENABLED);
	store_col_copy(s, C_CREATED, out->created_at, BS_TIME_LEN);
	store_col_copy(s, C_UPDATED, out->updated_at, BS_TIME_LEN);
	if (sqlite3_column_type(s, C_LAST) != SQLITE_NULL)
		bs_time_format((time_t)sqlite3_column_int64(s, C_LAST), out->last_bootstrap_at);
	out->id = sqlite3_column_int64(s, C_ROWID);
	out->channel_ids = store_col_text(s, C_CHANNEL_IDS, &oom);
	store_col_copy(s, C_SERIAL, out->cert_serial, sizeof(out->cert_serial));
	store_col_copy(s, C_EXPIRES, out->cert_expires_at, sizeof(out->cert_expires_at));
	out->profile = store_col_text(s, C_PROFILE, &oom);
	out->vars = store_col_text(s, C_VARS, &oom);
	out->group = store_col_text(s, C_GROUP, &oom);
	if (oom || out->client_id == NULL)
		return BS_ERR_INTERNAL;
	if ((flags & BS_LOAD_SECRET) && rc == BS_OK)
		rc = unseal(st, s, C_SECRET, "client_secret", out->client_id,
				&out->client_secret);
	if ((flags & BS_LOAD_EXTERNAL_KEY) && rc == BS_OK)
		rc = unseal(st, s, C_EXT_KEY, "external_key", out->client_id,
				&out->external_key);
	if ((flags & BS_LOAD_CLIENT_KEY) && rc == BS_OK)
		rc = unseal(st, s, C_KEY, "client_key", out->client_id,
				&out->client_key);
	if ((flags & BS_LOAD_SEALED) && rc == BS_OK
			&& (keep_blob(s, C_SECRET, &out->sealed.secret, &out->sealed.secret_len) != BS_OK
			|| keep_blob(s, C_KEY, &out->sealed.client_key, &out->sealed.client_key_len) != BS_OK))
		rc = BS_ERR_INTERNAL;
	return rc;
}

int bs_store_config_get(bs_store_t *st, const char *client_id,
		const char *external_id, unsigned flags, bs_config_t *out)
{
	enum stmt_id id = client_id ? ((flags & BS_LOGIN_VIEW) ? ST_CFG_LOGIN : ST_CFG_BY_ID)
		: (flags & BS_DEVICE_VIEW) ? ST_CFG_DEVICE : ST_CFG_BY_EXT;
	sqlite3_stmt *s = store_stmt(st, id);
	int rc;

	memset(out, 0, sizeof(*out));
	store_bind_text(s, 1, client_id ? client_id : external_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = read_config(st, s, flags, out);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : store_fail(st, "get config");
	sqlite3_reset(s);
	if (rc == BS_OK && (flags & BS_LOAD_CHANNELS))
		rc = bs_store_config_channels(st, out);
	if (rc != BS_OK)
		bs_config_clear(out);
	return rc;
}

int bs_store_config_set_enabled(bs_store_t *st, const char *client_id,
		int enabled, const char *now)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_ENABLE);
	int rc;

	sqlite3_bind_int(s, 1, enabled ? 1 : 0);
	store_bind_text(s, 2, now);
	store_bind_text(s, 3, client_id);
	rc = store_change_one(st, s, "set state");
	if (rc == BS_OK) {
		if ((rc = store_count_change(st, enabled, 1)) == BS_OK)
			rc = store_count_change(st, !enabled, -1);
		return rc;
	}
	if (rc != BS_ERR_NOT_FOUND)
		return rc;
	s = store_stmt(st, ST_CFG_RESTATE);
	store_bind_text(s, 1, now);
	store_bind_text(s, 2, client_id);
	return store_change_one(st, s, "set state");
}

/* Deletes the config, counting it out in the state it had. */
static int delete_row(bs_store_t *st, const char *client_id)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_DELETE);
	int rc, enabled;

	store_bind_text(s, 1, client_id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : store_fail(st, "delete config");
	}
	enabled = sqlite3_column_int(s, 0);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "delete config");
	return store_count_change(st, enabled, -1);
}

int bs_store_config_delete(bs_store_t *st, const char *client_id, const char *now)
{
	sqlite3_stmt *s = store_stmt(st, ST_BOOT_DELETE);
	int rc;

	store_bind_text(s, 1, client_id);
	if ((rc = store_done(st, s, "delete last bootstrap")) != BS_OK)
		return rc;
	if ((rc = delete_row(st, client_id)) != BS_OK)
		return rc;
	s = store_stmt(st, ST_GONE_ADD);
	store_bind_text(s, 1, client_id);
	store_bind_text(s, 2, now);
	return store_done(st, s, "remember a deleted client_id");
}

int bs_store_client_deleted(bs_store_t *st, const char *client_id)
{
	sqlite3_stmt *s = store_stmt(st, ST_GONE_GET);
	int rc;

	store_bind_text(s, 1, client_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail(st, "look up a deleted client_id");
}

int bs_store_config_touch_bootstrap(bs_store_t *st, int64_t id, time_t when)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_TOUCH);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)when);
	return store_done(st, s, "set last_bootstrap_at");
}

static void bind_filter(sqlite3_stmt *s, const bs_config_filter_t *f)
{
	if (f->enabled >= 0)
		sqlite3_bind_int(s, 1, f->enabled);
	store_bind_text(s, 2, f->name);
	store_bind_text(s, 3, f->external_id);
	store_bind_text(s, 6, f->cert_expires_before);
}

int bs_store_config_count(bs_store_t *st, const bs_config_filter_t *f,
		long *total)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_COUNT);

	bind_filter(s, f);
	return store_count(st, s, total, "count configs");
}

int bs_store_config_states(bs_store_t *st, long *enabled, long *disabled)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_STATES);
	int rc;

	*enabled = *disabled = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*(sqlite3_column_int(s, 0) ? enabled : disabled) = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? BS_OK : store_fail(st, "read the config counts");
}

static void free_configs(bs_config_t *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bs_config_clear(&list[i]);
	free(list);
}

/* Reads the rows of ST_CFG_LIST; channels are loaded afterwards, once the
 * list statement is done with. */
static int read_page(bs_store_t *st, sqlite3_stmt *s, unsigned flags,
		bs_config_t *list, size_t max, size_t *n)
{
	int rc = SQLITE_DONE;

	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = read_config(st, s, flags & ~BS_LOAD_CHANNELS, &list[*n])) != BS_OK) {
			bs_config_clear(&list[*n]);
			return rc;
		}
		(*n)++;
	}
	return *n == max || rc == SQLITE_DONE ? BS_OK : store_fail(st, "list configs");
}

int bs_store_config_list(bs_store_t *st, const bs_config_filter_t *f,
		long offset, long limit, unsigned flags, bs_config_t **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_LIST);
	bs_config_t *list = calloc((size_t)limit + 1, sizeof(*list));
	int rc;

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return BS_ERR_INTERNAL;
	bind_filter(s, f);
	sqlite3_bind_int64(s, 4, limit);
	sqlite3_bind_int64(s, 5, offset);
	rc = read_page(st, s, flags, list, (size_t)limit, n);
	sqlite3_reset(s);
	for (size_t i = 0; rc == BS_OK && (flags & BS_LOAD_CHANNELS) && i < *n; i++)
		rc = bs_store_config_channels(st, &list[i]);
	if (rc != BS_OK) {
		free_configs(list, *n);
		*n = 0;
		return rc;
	}
	*out = list;
	return BS_OK;
}

/* Replaces the links and the ids kept with the row by cfg->channels. */
static int relink(bs_store_t *st, const bs_config_t *cfg)
{
	sqlite3_stmt *s = store_stmt(st, ST_LINK_CLEAR);
	char *ids;
	int rc;

	store_bind_text(s, 1, cfg->client_id);
	if ((rc = store_done(st, s, "unlink channels")) != BS_OK
			|| (rc = insert_links(st, cfg)) != BS_OK)
		return rc;
	if ((ids = join_channel_ids(cfg)) == NULL)
		return BS_ERR_INTERNAL;
	s = store_stmt(st, ST_CFG_SET_CHANNELS);
	store_bind_text(s, 1, ids);
	store_bind_text(s, 2, cfg->client_id);
	rc = store_done(st, s, "keep channel ids");
	free(ids);
	return rc;
}

int bs_store_config_update(bs_store_t *st, const bs_config_t *cfg, int relink_channels)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_UPDATE);
	uint8_t *sealed[3] = { NULL, NULL, NULL };
	int rc;

	store_bind_text(s, 1, cfg->name ? cfg->name : "");
	store_bind_text(s, 3, cfg->content ? cfg->content : "");
	store_bind_text(s, 4, cfg->client_cert);
	store_bind_text(s, 6, cfg->ca_cert);
	store_bind_text(s, 7, cfg->updated_at);
	store_bind_text(s, 8, cfg->client_id);
	bind_cert_info(s, 10, cfg);
	store_bind_text(s, 12, cfg->profile);
	store_bind_text(s, 13, cfg->vars);
	if ((rc = bind_sealed(st, s, 2, "external_key", cfg->client_id,
			cfg->external_key, &sealed[0])) != BS_OK
			|| (rc = bind_sealed(st, s, 5, "client_key", cfg->client_id,
			cfg->client_key, &sealed[1])) != BS_OK
			|| (rc = bind_sealed(st, s, 9, "client_secret", cfg->client_id,
			cfg->client_secret, &sealed[2])) != BS_OK)
		goto out;
	if ((rc = store_change_one(st, s, "update config")) == BS_OK && relink_channels)
		rc = relink(st, cfg);
out:
	sqlite3_clear_bindings(s);
	for (int i = 0; i < 3; i++)
		free(sealed[i]);
	return rc;
}

/* The secrets of one config, opened, while the key is changed. */
typedef struct {
	char *external_id;
	char *clear[3];           /* client_secret, external_key, client_key */
	char *client_id;
} reseal_row_t;

static const char *const reseal_columns[3] = { "client_secret", "external_key",
	"client_key" };

static void reseal_clear(reseal_row_t *r)
{
	for (int i = 0; i < 3; i++) {
		if (r->clear[i] != NULL)
			bs_crypto_free_secret(r->clear[i], strlen(r->clear[i]));
	}
	free(r->external_id);
	free(r->client_id);
	memset(r, 0, sizeof(*r));
}

/* The next page of configs after the external_id after, opened with the
 * store's key; *n of them. */
static int reseal_page(bs_store_t *st, const char *after, reseal_row_t *rows, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_SEALED_PAGE);
	int rc = BS_OK, step, oom = 0;

	*n = 0;
	store_bind_text(s, 1, after);
	while (rc == BS_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		reseal_row_t *r = &rows[(*n)++];
		r->external_id = store_col_text(s, 0, &oom);
		r->client_id = store_col_text(s, 1, &oom);
		if (oom || r->client_id == NULL)
			rc = BS_ERR_INTERNAL;
		for (int i = 0; rc == BS_OK && i < 3; i++)
			rc = unseal(st, s, 2 + i, reseal_columns[i], r->client_id, &r->clear[i]);
	}
	if (rc == BS_OK && step != SQLITE_DONE)
		rc = store_fail(st, "read configs to seal again");
	sqlite3_reset(s);
	return rc;
}

/* Writes row's secrets sealed under the store's (new) key. */
static int reseal_write(bs_store_t *st, const reseal_row_t *r)
{
	sqlite3_stmt *s = store_stmt(st, ST_CFG_RESEAL);
	uint8_t *sealed[3] = { NULL, NULL, NULL };
	int rc = BS_OK;

	for (int i = 0; rc == BS_OK && i < 3; i++)
		rc = bind_sealed(st, s, i + 1, reseal_columns[i], r->client_id,
				r->clear[i], &sealed[i]);
	store_bind_text(s, 4, r->external_id);
	if (rc == BS_OK)
		rc = store_change_one(st, s, "seal a config again");
	sqlite3_clear_bindings(s);
	for (int i = 0; i < 3; i++)
		free(sealed[i]);
	return rc;
}

int store_config_reseal(bs_store_t *st, const uint8_t new_key[BS_KEY_LEN], size_t *n)
{
	uint8_t old_key[BS_KEY_LEN];
	reseal_row_t rows[512];
	char *after = strdup("");
	size_t got = 0;
	int rc = after ? BS_OK : BS_ERR_INTERNAL;

	memcpy(old_key, st->key, BS_KEY_LEN);
	memset(rows, 0, sizeof(rows));
	*n = 0;
	while (rc == BS_OK && (rc = reseal_page(st, after, rows, &got)) == BS_OK && got > 0) {
		/* Read under the old key, written under the new one. */
		memcpy(st->key, new_key, BS_KEY_LEN);
		for (size_t i = 0; rc == BS_OK && i < got; i++)
			rc = reseal_write(st, &rows[i]);
		memcpy(st->key, old_key, BS_KEY_LEN);
		free(after);
		after = strdup(rows[got - 1].external_id);
		if (after == NULL)
			rc = BS_ERR_INTERNAL;
		*n += got;
		for (size_t i = 0; i < got; i++)
			reseal_clear(&rows[i]);
	}
	for (size_t i = 0; i < got; i++)
		reseal_clear(&rows[i]);
	free(after);
	if (rc == BS_OK)
		memcpy(st->key, new_key, BS_KEY_LEN);
	explicit_bzero(old_key, sizeof(old_key));
	return rc;
}

static int one_external_id(bs_store_t *st, sqlite3_stmt *s, char **out)
{
	int rc = sqlite3_step(s), oom = 0;

	*out = NULL;
	if (rc == SQLITE_ROW)
		*out = store_col_text(s, 0, &oom);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return *out != NULL ? BS_OK : BS_ERR_INTERNAL;
	return rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : store_fail(st, "find a config");
}

int bs_store_config_next_external_id(bs_store_t *st, const char *after, char **out)
{
	sqlite3_stmt *s;
	int rc = BS_ERR_NOT_FOUND;

	if (after != NULL) {
		s = store_stmt(st, ST_CFG_NEXT_EXT);
		store_bind_text(s, 1, after);
		rc = one_external_id(st, s, out);
	}
	return rc == BS_ERR_NOT_FOUND ? one_external_id(st, store_stmt(st, ST_CFG_FIRST_EXT), out)
		: rc;
}
