/* The SQLite backend's configs table, its channel links and the last
 * bootstraps; secret columns come and go sealed. */
#include "store_sqlite.h"

#include "certs.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column positions in the SELECTs of configs (CFG_SELECT in store_sqlite.c). */
enum { C_ROWID, C_ID, C_SECRET, C_NAME, C_EXT_ID, C_EXT_KEY, C_CONTENT,
	C_CERT, C_KEY, C_CA, C_ENABLED, C_CREATED, C_UPDATED, C_LAST, C_CHANNEL_IDS,
	C_SERIAL, C_EXPIRES, C_PROFILE, C_VARS, C_GROUP };

static int insert_links(lite_t *st, const bs_config_t *cfg)
{
	for (size_t i = 0; i < cfg->nchannels; i++) {
		sqlite3_stmt *s = bs_lite_stmt(st, ST_LINK_INSERT);
		int rc;

		bs_lite_bind_text(s, 1, cfg->client_id);
		bs_lite_bind_text(s, 2, cfg->channels[i].id);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
		if ((rc = bs_lite_done(st, s, "link channel")) != BS_OK)
			return rc;
	}
	return BS_OK;
}

/* A config made with a deleted config's client_id is a config again. */
static int forget_deleted(lite_t *st, const char *client_id)
{
	sqlite3_stmt *s = bs_lite_stmt(st, ST_GONE_CLEAR);

	bs_lite_bind_text(s, 1, client_id);
	return bs_lite_done(st, s, "forget a deleted client_id");
}

/* The serial at col and the end of validity at col + 1 of cfg's
 * client_cert: NULL for none. */
static void bind_cert_info(sqlite3_stmt *s, int col, const bs_config_t *cfg)
{
	bs_lite_bind_text(s, col, cfg->cert_serial[0] ? cfg->cert_serial : NULL);
	bs_lite_bind_text(s, col + 1, cfg->cert_expires_at[0] ? cfg->cert_expires_at : NULL);
}

int bs_lite_config_set_cert(bs_backend_t *b, const bs_config_t *cfg, const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_SET_CERT);
	int rc;

	bs_lite_bind_text(s, 1, cfg->client_cert);
	bind_cert_info(s, 2, cfg);
	bs_lite_bind_text(s, 4, now);
	bs_lite_bind_text(s, 5, cfg->client_id);
	rc = bs_lite_change_one(st, s, "store an issued certificate");
	sqlite3_clear_bindings(s);
	return rc;
}

/* The serial and the end of validity of a certificate stored before
 * schema version 6. */
static int fill_one(lite_t *st, sqlite3_stmt *u, const char *client_id,
		const char *cert)
{
	bs_config_t info = { 0 };
	time_t not_after;

	if (bs_certs_info(cert, strlen(cert), info.cert_serial, &not_after) != BS_OK) {
		snprintf(st->base.errmsg, sizeof(st->base.errmsg),
				"the client_cert of %.64s does not parse", client_id);
		return BS_ERR_INTERNAL;
	}
	bs_time_format(not_after, info.cert_expires_at);
	sqlite3_reset(u);
	bind_cert_info(u, 1, &info);
	sqlite3_bind_text(u, 3, client_id, -1, SQLITE_TRANSIENT);
	return bs_lite_done(st, u, "fill in a certificate's serial");
}

int bs_lite_fill_cert_info(lite_t *st)
{
	sqlite3_stmt *s = NULL, *u = NULL;
	int rc = BS_OK, step = SQLITE_DONE;

	if (sqlite3_prepare_v2(st->db, bs_lite_sql[ST_CFG_CERTS], -1, &s, NULL) != SQLITE_OK
			|| sqlite3_prepare_v2(st->db, bs_lite_sql[ST_CFG_CERT_INFO], -1, &u,
				NULL) != SQLITE_OK)
		rc = bs_lite_fail(st, "prepare the certificates' migration");
	while (rc == BS_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = fill_one(st, u, (const char *)sqlite3_column_text(s, 0),
				(const char *)sqlite3_column_text(s, 1));
	if (rc == BS_OK && step != SQLITE_DONE)
		rc = bs_lite_fail(st, "read the stored certificates");
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

int bs_lite_config_insert(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_INSERT);
	char *ids = bs_config_join_channels(cfg);
	int rc;

	bs_lite_bind_text(s, 1, cfg->client_id);
	bs_lite_bind_blob(s, 2, &sealed->secret);
	bs_lite_bind_text(s, 3, cfg->name ? cfg->name : "");
	bs_lite_bind_text(s, 4, cfg->external_id);
	bs_lite_bind_blob(s, 5, &sealed->external_key);
	bs_lite_bind_text(s, 6, cfg->content ? cfg->content : "");
	bs_lite_bind_text(s, 7, cfg->client_cert);
	bs_lite_bind_blob(s, 8, &sealed->client_key);
	bs_lite_bind_text(s, 9, cfg->ca_cert);
	sqlite3_bind_int(s, 10, cfg->enabled ? 1 : 0);
	bs_lite_bind_text(s, 11, cfg->created_at);
	bs_lite_bind_text(s, 12, cfg->updated_at);
	bs_lite_bind_text(s, 13, ids);
	bind_cert_info(s, 14, cfg);
	bs_lite_bind_text(s, 16, cfg->profile);
	bs_lite_bind_text(s, 17, cfg->vars);
	bs_lite_bind_text(s, 18, cfg->group);
	if (ids == NULL)
		rc = BS_ERR_INTERNAL;
	else if ((rc = bs_lite_done(st, s, "insert config")) == BS_OK
			&& (rc = insert_links(st, cfg)) == BS_OK
			&& (rc = forget_deleted(st, cfg->client_id)) == BS_OK)
		rc = bs_lite_count_change(st, cfg->enabled, 1);
	sqlite3_clear_bindings(s);
	free(ids);
	return rc;
}

static int read_sealed(sqlite3_stmt *s, bs_config_blobs_t *out)
{
	if (bs_lite_col_blob(s, C_SECRET, &out->secret) != BS_OK
			|| bs_lite_col_blob(s, C_EXT_KEY, &out->external_key) != BS_OK
			|| bs_lite_col_blob(s, C_KEY, &out->client_key) != BS_OK)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

/* The columns every SELECT of configs reads; the device and login
 * statements select NULL for the rest (read_listed). */
static int read_common(sqlite3_stmt *s, bs_config_t *out, bs_config_blobs_t *sealed)
{
	int oom = 0;

	out->client_id = bs_lite_col_text(s, C_ID, &oom);
	out->name = bs_lite_col_text(s, C_NAME, &oom);
	out->external_id = bs_lite_col_text(s, C_EXT_ID, &oom);
	out->content = bs_lite_col_text(s, C_CONTENT, &oom);
	out->client_cert = bs_lite_col_text(s, C_CERT, &oom);
	out->ca_cert = bs_lite_col_text(s, C_CA, &oom);
	out->has_client_key = sqlite3_column_type(s, C_KEY) != SQLITE_NULL;
	out->enabled = sqlite3_column_int(s, C_ENABLED);
	out->id = sqlite3_column_int64(s, C_ROWID);
	out->channel_ids = bs_lite_col_text(s, C_CHANNEL_IDS, &oom);
	out->profile = bs_lite_col_text(s, C_PROFILE, &oom);
	out->vars = bs_lite_col_text(s, C_VARS, &oom);
	if (oom || out->client_id == NULL)
		return BS_ERR_INTERNAL;
	return sealed != NULL ? read_sealed(s, sealed) : BS_OK;
}

/* The columns only a listing or a get of the whole config selects: its
 * times, its certificate's serial and end, its group. */
static int read_listed(sqlite3_stmt *s, bs_config_t *out)
{
	int oom = 0;

	bs_lite_col_copy(s, C_CREATED, out->created_at, BS_TIME_LEN);
	bs_lite_col_copy(s, C_UPDATED, out->updated_at, BS_TIME_LEN);
	if (sqlite3_column_type(s, C_LAST) != SQLITE_NULL)
		bs_time_format((time_t)sqlite3_column_int64(s, C_LAST), out->last_bootstrap_at);
	bs_lite_col_copy(s, C_SERIAL, out->cert_serial, sizeof(out->cert_serial));
	bs_lite_col_copy(s, C_EXPIRES, out->cert_expires_at, sizeof(out->cert_expires_at));
	out->group = bs_lite_col_text(s, C_GROUP, &oom);
	return oom ? BS_ERR_INTERNAL : BS_OK;
}

static int read_config(sqlite3_stmt *s, bs_config_t *out, bs_config_blobs_t *sealed)
{
	int rc = read_common(s, out, sealed);

	return rc == BS_OK ? read_listed(s, out) : rc;
}

static enum stmt_id get_statement(const char *client_id, enum bs_config_view view)
{
	if (client_id != NULL)
		return view == BS_VIEW_LOGIN ? ST_CFG_LOGIN : ST_CFG_BY_ID;
	return view == BS_VIEW_DEVICE ? ST_CFG_DEVICE : ST_CFG_BY_EXT;
}

int bs_lite_config_get(bs_backend_t *b, const char *client_id,
		const char *external_id, enum bs_config_view view,
		bs_config_t *out, bs_config_blobs_t *sealed)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, get_statement(client_id, view));
	int rc;

	bs_lite_bind_text(s, 1, client_id ? client_id : external_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && (view == BS_VIEW_DEVICE || view == BS_VIEW_LOGIN))
		rc = read_common(s, out, sealed);
	else if (rc == SQLITE_ROW)
		rc = read_config(s, out, sealed);
	else
		rc = rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "get config");
	sqlite3_reset(s);
	return rc;
}

int bs_lite_config_set_enabled(bs_backend_t *b, const char *client_id,
		int enabled, const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_ENABLE);
	int rc;

	sqlite3_bind_int(s, 1, enabled ? 1 : 0);
	bs_lite_bind_text(s, 2, now);
	bs_lite_bind_text(s, 3, client_id);
	rc = bs_lite_change_one(st, s, "set state");
	if (rc == BS_OK) {
		if ((rc = bs_lite_count_change(st, enabled, 1)) == BS_OK)
			rc = bs_lite_count_change(st, !enabled, -1);
		return rc;
	}
	if (rc != BS_ERR_NOT_FOUND)
		return rc;
	s = bs_lite_stmt(st, ST_CFG_RESTATE);
	bs_lite_bind_text(s, 1, now);
	bs_lite_bind_text(s, 2, client_id);
	return bs_lite_change_one(st, s, "set state");
}

/* Deletes the config, counting it out in the state it had. */
static int delete_row(lite_t *st, const char *client_id)
{
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_DELETE);
	int rc, enabled;

	bs_lite_bind_text(s, 1, client_id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "delete config");
	}
	enabled = sqlite3_column_int(s, 0);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return bs_lite_fail(st, "delete config");
	return bs_lite_count_change(st, enabled, -1);
}

int bs_lite_config_delete(bs_backend_t *b, const char *client_id, const char *now)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_BOOT_DELETE);
	int rc;

	bs_lite_bind_text(s, 1, client_id);
	if ((rc = bs_lite_done(st, s, "delete last bootstrap")) != BS_OK)
		return rc;
	if ((rc = delete_row(st, client_id)) != BS_OK)
		return rc;
	s = bs_lite_stmt(st, ST_GONE_ADD);
	bs_lite_bind_text(s, 1, client_id);
	bs_lite_bind_text(s, 2, now);
	return bs_lite_done(st, s, "remember a deleted client_id");
}

int bs_lite_client_deleted(bs_backend_t *b, const char *client_id)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_GONE_GET);
	int rc;

	bs_lite_bind_text(s, 1, client_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : bs_lite_fail(st, "look up a deleted client_id");
}

int bs_lite_config_touch(bs_backend_t *b, int64_t id, time_t when)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_TOUCH);

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)when);
	return bs_lite_done(st, s, "set last_bootstrap_at");
}

static void bind_filter(sqlite3_stmt *s, const bs_config_filter_t *f)
{
	if (f->enabled >= 0)
		sqlite3_bind_int(s, 1, f->enabled);
	bs_lite_bind_text(s, 2, f->name);
	bs_lite_bind_text(s, 3, f->external_id);
	bs_lite_bind_text(s, 6, f->cert_expires_before);
}

int bs_lite_config_count(bs_backend_t *b, const bs_config_filter_t *f,
		long *total)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_COUNT);

	bind_filter(s, f);
	return bs_lite_count(st, s, total, "count configs");
}

int bs_lite_config_states(bs_backend_t *b, long *enabled, long *disabled)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_STATES);
	int rc;

	*enabled = *disabled = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*(sqlite3_column_int(s, 0) ? enabled : disabled) = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? BS_OK : bs_lite_fail(st, "read the config counts");
}

int bs_lite_config_list(bs_backend_t *b, const bs_config_filter_t *f,
		long offset, long limit, bs_config_t *out, bs_config_blobs_t *sealed,
		size_t *n)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_LIST);
	int rc = BS_OK, step = SQLITE_DONE;

	*n = 0;
	bind_filter(s, f);
	sqlite3_bind_int64(s, 4, limit);
	sqlite3_bind_int64(s, 5, offset);
	while (rc == BS_OK && *n < (size_t)limit && (step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = read_config(s, &out[*n], sealed ? &sealed[*n] : NULL);
		(*n)++;
	}
	if (rc == BS_OK && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = bs_lite_fail(st, "list configs");
	sqlite3_reset(s);
	return rc;
}

/* Replaces the links and the ids kept with the row by cfg->channels. */
static int relink(lite_t *st, const bs_config_t *cfg)
{
	sqlite3_stmt *s = bs_lite_stmt(st, ST_LINK_CLEAR);
	char *ids;
	int rc;

	bs_lite_bind_text(s, 1, cfg->client_id);
	if ((rc = bs_lite_done(st, s, "unlink channels")) != BS_OK
			|| (rc = insert_links(st, cfg)) != BS_OK)
		return rc;
	if ((ids = bs_config_join_channels(cfg)) == NULL)
		return BS_ERR_INTERNAL;
	s = bs_lite_stmt(st, ST_CFG_SET_CHANNELS);
	bs_lite_bind_text(s, 1, ids);
	bs_lite_bind_text(s, 2, cfg->client_id);
	rc = bs_lite_done(st, s, "keep channel ids");
	free(ids);
	return rc;
}

int bs_lite_config_update(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed, int relink_channels)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_UPDATE);
	int rc;

	bs_lite_bind_text(s, 1, cfg->name ? cfg->name : "");
	bs_lite_bind_blob(s, 2, &sealed->external_key);
	bs_lite_bind_text(s, 3, cfg->content ? cfg->content : "");
	bs_lite_bind_text(s, 4, cfg->client_cert);
	bs_lite_bind_blob(s, 5, &sealed->client_key);
	bs_lite_bind_text(s, 6, cfg->ca_cert);
	bs_lite_bind_text(s, 7, cfg->updated_at);
	bs_lite_bind_text(s, 8, cfg->client_id);
	bs_lite_bind_blob(s, 9, &sealed->secret);
	bind_cert_info(s, 10, cfg);
	bs_lite_bind_text(s, 12, cfg->profile);
	bs_lite_bind_text(s, 13, cfg->vars);
	if ((rc = bs_lite_change_one(st, s, "update config")) == BS_OK && relink_channels)
		rc = relink(st, cfg);
	sqlite3_clear_bindings(s);
	return rc;
}

int bs_lite_config_sealed_page(bs_backend_t *b, const char *after,
		bs_sealed_row_t *rows, size_t max, size_t *n)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_SEALED_PAGE);
	int rc = BS_OK, step = SQLITE_DONE, oom = 0;

	*n = 0;
	bs_lite_bind_text(s, 1, after);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (rc == BS_OK && *n < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		bs_sealed_row_t *r = &rows[(*n)++];
		r->external_id = bs_lite_col_text(s, 0, &oom);
		r->client_id = bs_lite_col_text(s, 1, &oom);
		if (oom || r->client_id == NULL || r->external_id == NULL
				|| bs_lite_col_blob(s, 2, &r->blobs.secret) != BS_OK
				|| bs_lite_col_blob(s, 3, &r->blobs.external_key) != BS_OK
				|| bs_lite_col_blob(s, 4, &r->blobs.client_key) != BS_OK)
			rc = BS_ERR_INTERNAL;
	}
	if (rc == BS_OK && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = bs_lite_fail(st, "read configs to seal again");
	sqlite3_reset(s);
	return rc;
}

int bs_lite_config_reseal(bs_backend_t *b, const char *external_id,
		const bs_config_blobs_t *sealed)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_RESEAL);
	int rc;

	bs_lite_bind_blob(s, 1, &sealed->secret);
	bs_lite_bind_blob(s, 2, &sealed->external_key);
	bs_lite_bind_blob(s, 3, &sealed->client_key);
	bs_lite_bind_text(s, 4, external_id);
	rc = bs_lite_change_one(st, s, "seal a config again");
	sqlite3_clear_bindings(s);
	return rc;
}

int bs_lite_config_next_external_id(bs_backend_t *b, const char *after, char **out)
{
	lite_t *st = lite(b);
	sqlite3_stmt *s = bs_lite_stmt(st, ST_CFG_NEXT_EXT);
	int rc, oom = 0;

	*out = NULL;
	bs_lite_bind_text(s, 1, after);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*out = bs_lite_col_text(s, 0, &oom);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return *out != NULL ? BS_OK : BS_ERR_INTERNAL;
	return rc == SQLITE_DONE ? BS_ERR_NOT_FOUND : bs_lite_fail(st, "find a config");
}
