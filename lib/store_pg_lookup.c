/* Reading configs: by key in a view, a batch of bootstraps by external id,
 * pages, counts, walking external ids. */
#include "store_pg_int.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* Column positions in the config SELECTs (store_pg_sql.c). */
enum { C_ROWID, C_ID, C_SECRET, C_NAME, C_EXT_ID, C_EXT_KEY, C_CONTENT,
	C_CERT, C_KEY, C_CA, C_ENABLED, C_CREATED, C_UPDATED, C_LAST, C_CHANNEL_IDS,
	C_SERIAL, C_EXPIRES, C_PROFILE, C_VARS, C_GROUP,
	C_ORDINAL /* PG_CFG_DEVICES: the place in the list, from 1 */ };

static int read_sealed(const PGresult *r, int row, bs_config_blobs_t *sealed)
{
	if (bs_pg_col_blob(r, row, C_SECRET, &sealed->secret) != BS_OK
			|| bs_pg_col_blob(r, row, C_EXT_KEY, &sealed->external_key) != BS_OK
			|| bs_pg_col_blob(r, row, C_KEY, &sealed->client_key) != BS_OK)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

/* A row into out, and its sealed columns into sealed when not NULL; the
 * columns a view left out are NULL, which leaves their fields empty. */
static int read_config(const PGresult *r, int row, bs_config_t *out,
		bs_config_blobs_t *sealed)
{
	int oom = 0;

	out->id = bs_pg_col_int(r, row, C_ROWID);
	out->client_id = bs_pg_col_text(r, row, C_ID, &oom);
	out->name = bs_pg_col_text(r, row, C_NAME, &oom);
	out->external_id = bs_pg_col_text(r, row, C_EXT_ID, &oom);
	out->content = bs_pg_col_text(r, row, C_CONTENT, &oom);
	out->client_cert = bs_pg_col_text(r, row, C_CERT, &oom);
	out->ca_cert = bs_pg_col_text(r, row, C_CA, &oom);
	out->has_client_key = !bs_pg_col_null(r, row, C_KEY);
	out->enabled = bs_pg_col_int(r, row, C_ENABLED) != 0;
	bs_pg_col_copy(r, row, C_CREATED, out->created_at, BS_TIME_LEN);
	bs_pg_col_copy(r, row, C_UPDATED, out->updated_at, BS_TIME_LEN);
	if (!bs_pg_col_null(r, row, C_LAST))
		bs_time_format((time_t)bs_pg_col_int(r, row, C_LAST), out->last_bootstrap_at);
	out->channel_ids = bs_pg_col_text(r, row, C_CHANNEL_IDS, &oom);
	bs_pg_col_copy(r, row, C_SERIAL, out->cert_serial, sizeof(out->cert_serial));
	bs_pg_col_copy(r, row, C_EXPIRES, out->cert_expires_at, sizeof(out->cert_expires_at));
	out->profile = bs_pg_col_text(r, row, C_PROFILE, &oom);
	out->vars = bs_pg_col_text(r, row, C_VARS, &oom);
	out->group = bs_pg_col_text(r, row, C_GROUP, &oom);
	if (oom || out->client_id == NULL)
		return BS_ERR_INTERNAL;
	return sealed != NULL ? read_sealed(r, row, sealed) : BS_OK;
}

static enum pg_stmt get_stmt(int by_id, enum bs_config_view view)
{
	switch (view) {
	case BS_VIEW_DEVICE:
		return by_id ? PG_CFG_DEVICE_ID : PG_CFG_DEVICE_EXT;
	case BS_VIEW_LOGIN:
		return by_id ? PG_CFG_LOGIN_ID : PG_CFG_LOGIN_EXT;
	default:
		return by_id ? PG_CFG_ALL_ID : PG_CFG_ALL_EXT;
	}
}

int bs_pg_config_get(bs_backend_t *b, const char *client_id, const char *external_id,
		enum bs_config_view view, bs_config_t *out, bs_config_blobs_t *sealed)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sealed != NULL)
		memset(sealed, 0, sizeof(*sealed));
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, client_id ? client_id : external_id);
	rc = bs_pg_run((bs_pg_t *)b, get_stmt(client_id != NULL, view), &p, &r, "get config");
	if (rc != BS_OK)
		return rc;
	rc = PQntuples(r) == 0 ? BS_ERR_NOT_FOUND : read_config(r, 0, out, sealed);
	PQclear(r);
	if (rc != BS_OK) {
		bs_config_clear(out);
		if (sealed != NULL)
			bs_config_blobs_clear(sealed);
	}
	return rc;
}

/* Strings as a text[] literal, every element quoted: {"a","b\\"c"}. */
static char *text_array(const char *const *ids, size_t n)
{
	size_t len = 3;
	char *s, *o;

	for (size_t i = 0; i < n; i++)
		len += 2 * strlen(ids[i]) + 3;
	if ((s = malloc(len)) == NULL)
		return NULL;
	o = s;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (const char *c = ids[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				*o++ = '\\';
			*o++ = *c;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return s;
}

/* The external_ids of rows, as text_array. */
static char *id_array(const bs_device_row_t *rows, size_t n)
{
	const char *ids[BS_DEVICES_MAX];

	if (n > BS_DEVICES_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ids[i] = rows[i].external_id;
	return text_array(ids, n);
}

static void rows_clear(bs_device_row_t *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bs_config_clear(rows[i].cfg);
		bs_config_blobs_clear(rows[i].held);
		rows[i].found = BS_ERR_NOT_FOUND;
	}
}

/* Each result row names its place in the list. */
static int read_devices(const PGresult *r, bs_device_row_t *rows, size_t n)
{
	for (int k = 0; k < PQntuples(r); k++) {
		long long at = bs_pg_col_int(r, k, C_ORDINAL) - 1;

		if (at < 0 || (size_t)at >= n || rows[at].found == BS_OK)
			return BS_ERR_INTERNAL;
		if (read_config(r, k, rows[at].cfg, rows[at].held) != BS_OK)
			return BS_ERR_INTERNAL;
		rows[at].found = BS_OK;
	}
	return BS_OK;
}

int bs_pg_config_get_devices(bs_backend_t *b, bs_device_row_t *rows, size_t n)
{
	bs_pg_params_t p;
	PGresult *r;
	char *ids;
	int rc;

	for (size_t i = 0; i < n; i++) {
		memset(rows[i].cfg, 0, sizeof(*rows[i].cfg));
		memset(rows[i].held, 0, sizeof(*rows[i].held));
		rows[i].found = BS_ERR_NOT_FOUND;
	}
	if (n == 0)
		return BS_OK;
	if (n > BS_DEVICES_MAX)
		return BS_ERR_INVALID;
	if ((ids = id_array(rows, n)) == NULL)
		return bs_pg_fail((bs_pg_t *)b, "get configs", "out of memory");
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, ids);
	rc = bs_pg_run((bs_pg_t *)b, PG_CFG_DEVICES, &p, &r, "get configs");
	free(ids);
	if (rc != BS_OK)
		return rc;
	rc = read_devices(r, rows, n);
	PQclear(r);
	if (rc != BS_OK) {
		rows_clear(rows, n);
		bs_pg_fail((bs_pg_t *)b, "get configs", "unreadable rows");
	}
	return rc;
}

static void bind_filter(bs_pg_params_t *p, const bs_config_filter_t *f)
{
	if (f != NULL && f->enabled >= 0)
		bs_pg_param_bool(p, f->enabled);
	else
		bs_pg_param_text(p, NULL);
	bs_pg_param_text(p, f ? f->name : NULL);
	bs_pg_param_text(p, f ? f->external_id : NULL);
	bs_pg_param_text(p, f ? f->cert_expires_before : NULL);
}

int bs_pg_config_list(bs_backend_t *b, const bs_config_filter_t *f, long offset,
		long limit, bs_config_t *out, bs_config_blobs_t *sealed, size_t *n)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc, rows;

	*n = 0;
	bs_pg_params_init(&p);
	bind_filter(&p, f);
	bs_pg_param_limit(&p, limit);
	bs_pg_param_int(&p, offset);
	if ((rc = bs_pg_run((bs_pg_t *)b, PG_CFG_LIST, &p, &r, "list configs")) != BS_OK)
		return rc;
	rows = PQntuples(r);
	for (int i = 0; rc == BS_OK && i < rows && (limit < 0 || i < limit); i++) {
		rc = read_config(r, i, &out[i], sealed ? &sealed[i] : NULL);
		(*n)++;
	}
	PQclear(r);
	if (rc != BS_OK) {
		for (size_t i = 0; i < *n; i++) {
			bs_config_clear(&out[i]);
			if (sealed != NULL)
				bs_config_blobs_clear(&sealed[i]);
		}
		*n = 0;
	}
	return rc;
}

int bs_pg_config_count(bs_backend_t *b, const bs_config_filter_t *f, long *total)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bind_filter(&p, f);
	return bs_pg_count((bs_pg_t *)b, PG_CFG_COUNT, &p, total, "count configs");
}

int bs_pg_config_states(bs_backend_t *b, long *enabled, long *disabled)
{
	PGresult *r;
	int rc = bs_pg_run((bs_pg_t *)b, PG_STATES, NULL, &r, "read the config counts");

	*enabled = *disabled = 0;
	if (rc != BS_OK)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		*(bs_pg_col_int(r, i, 0) ? enabled : disabled) = (long)bs_pg_col_int(r, i, 1);
	PQclear(r);
	return BS_OK;
}

int bs_pg_config_next_external_id(bs_backend_t *b, const char *after, char **out)
{
	bs_pg_params_t p;
	PGresult *r;
	int rc, oom = 0;

	*out = NULL;
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, after ? after : "");
	if ((rc = bs_pg_run((bs_pg_t *)b, PG_CFG_NEXT_EXT, &p, &r, "find a config")) != BS_OK)
		return rc;
	if (PQntuples(r) == 0)
		rc = BS_ERR_NOT_FOUND;
	else if ((*out = bs_pg_col_text(r, 0, 0, &oom)) == NULL)
		rc = BS_ERR_INTERNAL;
	PQclear(r);
	return rc;
}

int bs_pg_config_login_page(bs_backend_t *b, const char *after, size_t max,
		bs_config_t *out, bs_config_blobs_t *sealed, size_t *n)
{
	PGresult *r;
	int rc;

	*n = 0;
	if ((rc = bs_pg_run_page((bs_pg_t *)b, PG_CFG_LOGIN_PAGE, after, max, &r,
			"read a page of logins")) != BS_OK)
		return rc;
	for (int i = 0; rc == BS_OK && i < PQntuples(r) && (size_t)i < max; i++) {
		rc = read_config(r, i, &out[i], &sealed[i]);
		(*n)++;
	}
	PQclear(r);
	if (rc != BS_OK) {
		for (size_t i = 0; i < *n; i++) {
			bs_config_clear(&out[i]);
			bs_config_blobs_clear(&sealed[i]);
		}
		*n = 0;
	}
	return rc;
}

int bs_pg_deleted_page(bs_backend_t *b, const char *after, size_t max, char **ids,
		size_t *n)
{
	PGresult *r;
	int rc, oom = 0;

	*n = 0;
	if ((rc = bs_pg_run_page((bs_pg_t *)b, PG_GONE_PAGE, after, max, &r,
			"read a page of deleted clients")) != BS_OK)
		return rc;
	for (int i = 0; i < PQntuples(r) && (size_t)i < max && !oom; i++)
		if ((ids[i] = bs_pg_col_text(r, i, 0, &oom)) != NULL)
			(*n)++;
	PQclear(r);
	if (oom) {
		for (size_t i = 0; i < *n; i++)
			free(ids[i]);
		*n = 0;
		return bs_pg_fail((bs_pg_t *)b, "read a page of deleted clients",
				"out of memory");
	}
	return BS_OK;
}

/* Index of id in ids[0..n), or -1. */
static long index_of(const char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return (long)i;
	return -1;
}

static int read_logins(const PGresult *r, const char *const *ids, size_t n,
		bs_config_t *out, bs_config_blobs_t *sealed, int *found)
{
	int rc = BS_OK;

	for (int k = 0; rc == BS_OK && k < PQntuples(r); k++) {
		char id[BS_ID_MAX + 1];
		long at;

		bs_pg_col_copy(r, k, C_ID, id, sizeof(id));
		if ((at = index_of(ids, n, id)) < 0 || found[at])
			continue;
		rc = read_config(r, k, &out[at], &sealed[at]);
		found[at] = 1;
	}
	return rc;
}

int bs_pg_config_logins_get(bs_backend_t *b, const char *const *ids, size_t n,
		bs_config_t *out, bs_config_blobs_t *sealed, int *found, int *deleted)
{
	bs_pg_t *pg = (bs_pg_t *)b;
	char *arr = text_array(ids, n);
	bs_pg_params_t p;
	PGresult *r = NULL;
	int rc;

	for (size_t i = 0; i < n; i++)
		found[i] = deleted[i] = 0;
	if (arr == NULL)
		return bs_pg_fail(pg, "read logins", "out of memory");
	bs_pg_params_init(&p);
	bs_pg_param_text(&p, arr);
	rc = bs_pg_run(pg, PG_CFG_LOGINS, &p, &r, "read logins");
	if (rc == BS_OK) {
		rc = read_logins(r, ids, n, out, sealed, found);
		PQclear(r);
	}
	if (rc == BS_OK && (rc = bs_pg_run(pg, PG_GONE_MANY, &p, &r,
			"read deleted clients")) == BS_OK) {
		for (int k = 0; k < PQntuples(r); k++) {
			char id[BS_ID_MAX + 1];
			long at;
			bs_pg_col_copy(r, k, 0, id, sizeof(id));
			if ((at = index_of(ids, n, id)) >= 0)
				deleted[at] = 1;
		}
		PQclear(r);
	}
	free(arr);
	if (rc != BS_OK) {
		for (size_t i = 0; i < n; i++) {
			bs_config_clear(&out[i]);
			bs_config_blobs_clear(&sealed[i]);
			found[i] = deleted[i] = 0;
		}
	}
	return rc;
}
