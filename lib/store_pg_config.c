/* Writing configs: insert, update, state, deletion, bootstrap times. */
#include "store_pg_int.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "" means no certificate: NULL in the row, as in SQLite. */
static const char *or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Runs a statement answering (missing channels, rows written): a missing
 * channel is BS_ERR_NOT_FOUND, no row written is none_rc. */
static int checked_write(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p,
		int none_rc, const char *what)
{
	PGresult *r;
	int rc = bs_pg_run(pg, id, p, &r, what);

	if (rc != BS_OK)
		return rc;
	if (PQntuples(r) != 1)
		rc = bs_pg_fail(pg, what, "no answer");
	else if (bs_pg_col_int(r, 0, 0) > 0)
		rc = BS_ERR_NOT_FOUND;
	else if (bs_pg_col_int(r, 0, 1) == 0)
		rc = none_rc;
	PQclear(r);
	return rc;
}

static void insert_params(bs_pg_params_t *p, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed, const char *ids)
{
	bs_pg_params_init(p);
	bs_pg_param_text(p, cfg->client_id);
	bs_pg_param_blob(p, &sealed->secret);
	bs_pg_param_text(p, cfg->name ? cfg->name : "");
	bs_pg_param_text(p, cfg->external_id);
	bs_pg_param_blob(p, &sealed->external_key);
	bs_pg_param_text(p, cfg->content ? cfg->content : "");
	bs_pg_param_text(p, cfg->client_cert);
	bs_pg_param_blob(p, &sealed->client_key);
	bs_pg_param_text(p, cfg->ca_cert);
	bs_pg_param_bool(p, cfg->enabled);
	bs_pg_param_text(p, cfg->created_at);
	bs_pg_param_text(p, cfg->updated_at);
	bs_pg_param_text(p, ids);
	bs_pg_param_text(p, or_null(cfg->cert_serial));
	bs_pg_param_text(p, or_null(cfg->cert_expires_at));
	bs_pg_param_text(p, cfg->profile);
	bs_pg_param_text(p, cfg->vars);
	bs_pg_param_text(p, cfg->group);
}

int bs_pg_config_insert(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	char *ids = bs_config_join_channels(cfg);
	bs_pg_params_t p;
	int own, rc;

	if (ids == NULL)
		return bs_pg_fail(pg, "insert config", "out of memory");
	if ((rc = bs_pg_own_begin(pg, &own)) == BS_OK) {
		insert_params(&p, cfg, sealed, ids);
		rc = checked_write(pg, PG_CFG_INSERT, &p, BS_ERR_CONFLICT, "insert config");
		if (rc == BS_OK)
			bs_pg_count_change(pg, cfg->enabled, 1);
		rc = bs_pg_own_end(pg, own, rc);
	}
	free(ids);
	return rc;
}

int bs_pg_config_set_cert(bs_backend_t *b, const bs_config_t *cfg, const char *now)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, cfg->client_cert);
	bs_pg_param_text(&p, or_null(cfg->cert_serial));
	bs_pg_param_text(&p, or_null(cfg->cert_expires_at));
	bs_pg_param_text(&p, now);
	bs_pg_param_text(&p, cfg->client_id);
	return bs_pg_change_one((bs_pg_t *)b, PG_CFG_SET_CERT, &p,
			"store an issued certificate");
}

static void update_params(bs_pg_params_t *p, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed, const char *ids)
{
	bs_pg_params_init(p);
	bs_pg_param_text(p, cfg->name ? cfg->name : "");
	bs_pg_param_blob(p, &sealed->external_key);
	bs_pg_param_text(p, cfg->content ? cfg->content : "");
	bs_pg_param_text(p, cfg->client_cert);
	bs_pg_param_blob(p, &sealed->client_key);
	bs_pg_param_text(p, cfg->ca_cert);
	bs_pg_param_text(p, cfg->updated_at);
	bs_pg_param_text(p, cfg->client_id);
	bs_pg_param_blob(p, &sealed->secret);   /* none: kept */
	bs_pg_param_text(p, or_null(cfg->cert_serial));
	bs_pg_param_text(p, or_null(cfg->cert_expires_at));
	bs_pg_param_text(p, cfg->profile);
	bs_pg_param_text(p, cfg->vars);
	bs_pg_param_text(p, ids);
	bs_pg_param_bool(p, ids != NULL);
}

/* The links of cfg replaced by cfg->channels, in order. */
static int relink(bs_pg_t *pg, const bs_config_t *cfg, const char *ids)
{
	bs_pg_params_t p;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, cfg->client_id);
	if ((rc = bs_pg_do(pg, PG_LINK_CLEAR, &p, "unlink channels")) != BS_OK)
		return rc;
	bs_pg_param_text(&p, ids);
	return bs_pg_do(pg, PG_LINK_INSERT, &p, "link channels");
}

/* With relink, the row is written only when every channel exists, so
 * that a missing one leaves the config as it was. */
int bs_pg_config_update(bs_backend_t *b, const bs_config_t *cfg,
		const bs_config_blobs_t *sealed, int relink_channels)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	char *ids = relink_channels ? bs_config_join_channels(cfg) : NULL;
	bs_pg_params_t p;
	int own = 0, rc;

	if (relink_channels && ids == NULL)
		return bs_pg_fail(pg, "update config", "out of memory");
	if ((rc = relink_channels ? bs_pg_own_begin(pg, &own) : BS_OK) == BS_OK) {
		update_params(&p, cfg, sealed, ids);
		rc = checked_write(pg, PG_CFG_UPDATE, &p, BS_ERR_NOT_FOUND, "update config");
		if (rc == BS_OK && relink_channels)
			rc = relink(pg, cfg, ids);
		rc = bs_pg_own_end(pg, own, rc);
	}
	free(ids);
	return rc;
}

int bs_pg_config_set_enabled(bs_backend_t *b, const char *client_id, int enabled,
		const char *now)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	bs_pg_params_t p;
	PGresult *r;
	int own, rc;

	if ((rc = bs_pg_own_begin(pg, &own)) != BS_OK)
		return rc;
	bs_pg_params_init(&p);
	bs_pg_param_bool(&p, enabled);
	bs_pg_param_text(&p, now);
	bs_pg_param_text(&p, client_id);
	if ((rc = bs_pg_run(pg, PG_CFG_ENABLE, &p, &r, "set state")) == BS_OK) {
		if (PQntuples(r) == 0)
			rc = BS_ERR_NOT_FOUND;
		else if ((bs_pg_col_int(r, 0, 0) != 0) != (enabled != 0)) {
			bs_pg_count_change(pg, enabled, 1);
			bs_pg_count_change(pg, !enabled, -1);
		}
		PQclear(r);
	}
	return bs_pg_own_end(pg, own, rc);
}

int bs_pg_config_delete(bs_backend_t *b, const char *client_id, const char *now)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	bs_pg_params_t p;
	PGresult *r;
	int own, rc;

	if ((rc = bs_pg_own_begin(pg, &own)) != BS_OK)
		return rc;
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, client_id);
	bs_pg_param_text(&p, now);
	if ((rc = bs_pg_run(pg, PG_CFG_DELETE, &p, &r, "delete config")) == BS_OK) {
		if (PQntuples(r) == 0)
			rc = BS_ERR_NOT_FOUND;
		else
			bs_pg_count_change(pg, bs_pg_col_int(r, 0, 0) != 0, -1);
		PQclear(r);
	}
	return bs_pg_own_end(pg, own, rc);
}

int bs_pg_client_deleted(bs_backend_t *b, const char *client_id)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, client_id);
	rc = bs_pg_run((bs_pg_t *)b, PG_GONE_GET, &p, &r, "look up a deleted client_id");
	if (rc != BS_OK)
		return rc;
	rc = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

int bs_pg_config_touch(bs_backend_t *b, int64_t id, time_t when)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_int(&p, id);
	bs_pg_param_int(&p, (long long)when);
	return bs_pg_do((bs_pg_t *)b, PG_CFG_TOUCH, &p, "set last_bootstrap_at");
}

/* Appends v to the array literal being written in out ("{v,v,...}",
 * integers need no quoting); len is where it ends. */
static void append_int(char *out, size_t cap, size_t *len, long long v, int last)
{
	*len += (size_t)snprintf(out + *len, cap - *len, "%s%lld%s", *len == 0 ? "{" : ",",
			v, last ? "}" : "");
}

/* One statement for n configs: their ids and times as two arrays. */
int bs_pg_config_touch_many(bs_backend_t *b, const int64_t *ids, const time_t *whens,
		size_t n)
{
	size_t cap = 2 + n * 22, idlen = 0, atlen = 0;
	char *id_text = malloc(cap), *at_text = malloc(cap);
	bs_pg_params_t p;
	int rc;

	if (id_text == NULL || at_text == NULL || n == 0) {
		free(id_text);
		free(at_text);
		return n == 0 ? BS_OK : bs_pg_fail((bs_pg_t *)b, "set last_bootstrap_at",
				"out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		append_int(id_text, cap, &idlen, (long long)ids[i], i + 1 == n);
		append_int(at_text, cap, &atlen, (long long)whens[i], i + 1 == n);
	}
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, id_text);
	bs_pg_param_text(&p, at_text);
	rc = bs_pg_do((bs_pg_t *)b, PG_CFG_TOUCH_MANY, &p, "set last_bootstrap_at");
	free(id_text);
	free(at_text);
	return rc;
}
