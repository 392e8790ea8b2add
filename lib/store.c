/*
 * The store's front: the one API the rest of the plugin calls, over the
 * backend that keeps the rows (lib/store_backend.h). Here are the master
 * key, the sealing and opening of secrets, the key check and its rotation,
 * and the caches; the backend never sees a key.
 */
#include "store_front.h"
#include "store_pg.h"

#include "challenge.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_fail(bs_store_t *st, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->b->errmsg, sizeof(st->b->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

int store_seal(bs_store_t *st, const char *table, const char *column,
		const char *row, const char *clear, bs_blob_t *out)
{
	if (bs_vault_seal(st->key, table, column, row, clear, out) != BS_OK)
		return store_fail(st, BS_ERR_INTERNAL, "cannot seal %s", column);
	return BS_OK;
}

int store_open(bs_store_t *st, const char *table, const char *column,
		const char *row, const bs_blob_t *blob, char **out)
{
	if (bs_vault_open(st->key, table, column, row, blob, out) != BS_OK)
		return store_fail(st, BS_ERR_INTERNAL,
				"%s of %s does not open with this key file", column, row);
	return BS_OK;
}

int store_put_check(bs_store_t *st, const uint8_t key[BS_KEY_LEN])
{
	bs_blob_t check = { 0 };
	int rc = bs_vault_check_make(key, &check);

	if (rc == BS_OK)
		rc = OPS(st)->key_check_put(st->b, &check);
	bs_blob_clear(&check);
	return rc;
}

/* Before there was a key check: the first stored secret must open. */
static int probe_key(bs_store_t *st)
{
	bs_sealed_row_t row = { 0 };
	size_t n = 0;
	char *secret = NULL;
	int rc = OPS(st)->config_sealed_page(st->b, "", &row, 1, &n);

	if (rc == BS_OK && n == 1
			&& bs_vault_open(st->key, "configs", "client_secret", row.client_id,
				&row.blobs.secret, &secret) != BS_OK)
		rc = BS_ERR_UNAUTHORIZED;
	if (secret != NULL)
		bs_crypto_free_secret(secret, strlen(secret));
	free(row.external_id);
	free(row.client_id);
	bs_config_blobs_clear(&row.blobs);
	return rc;
}

/*
 * BS_ERR_UNAUTHORIZED when the key is not the database's: its key check
 * does not open, or, before there is one, the first stored secret does
 * not. A database with neither gets its key check now.
 */
static int check_key(bs_store_t *st)
{
	bs_blob_t check = { 0 };
	int rc = OPS(st)->key_check_get(st->b, &check);

	if (rc == BS_OK) {
		rc = bs_vault_check_open(st->key, &check);
		bs_blob_clear(&check);
		return rc;
	}
	if (rc != BS_ERR_NOT_FOUND || (rc = probe_key(st)) != BS_OK)
		return rc;
	return store_put_check(st, st->key);
}

int bs_store_is_url(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

/* The URL without its password and parameters (a password may be in
 * either): scheme, user, host, port and database. */
static void url_name(const char *url, char *out, size_t len)
{
	const char *rest = strstr(url, "://") + 3;
	size_t auth = strcspn(rest, "/?"), end = strcspn(rest, "?");
	const char *at = NULL, *colon;

	for (size_t i = 0; i < auth; i++)
		if (rest[i] == '@')
			at = rest + i;
	colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	if (colon == NULL)
		snprintf(out, len, "db_url %.*s%.*s", (int)(rest - url), url, (int)end, rest);
	else
		snprintf(out, len, "db_url %.*s%.*s%.*s", (int)(rest - url), url,
				(int)(colon - rest), rest, (int)(end - (size_t)(at - rest)), at);
}

void bs_store_name(const char *db, char *out, size_t len)
{
	if (bs_store_is_url(db))
		url_name(db, out, len);
	else
		snprintf(out, len, "db_path %s", db);
}

static int open_backend(const char *db, bs_backend_t **b, char *why, size_t len)
{
	if (bs_store_is_url(db))
		return bs_pg_open(db, b, why, len);
	return bs_sqlite_open(db, b, why, len);
}

int bs_store_open(const char *db, const uint8_t key[BS_KEY_LEN],
		bs_store_t **out, char *err, size_t errlen)
{
	bs_store_t *st = calloc(1, sizeof(*st));
	char name[BS_ID_MAX + 64], why[256];
	int rc;

	*out = NULL;
	bs_store_name(db, name, sizeof(name));
	if (st == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return BS_ERR_INTERNAL;
	}
	memcpy(st->key, key, BS_KEY_LEN);
	if ((rc = open_backend(db, &st->b, why, sizeof(why))) != BS_OK) {
		snprintf(err, errlen, "%s: %s", name, why);
		bs_store_close(st);
		return rc;
	}
	if ((rc = check_key(st)) != BS_OK) {
		if (rc == BS_ERR_UNAUTHORIZED)
			store_fail(st, rc, "the master key does not open the secrets stored here");
		snprintf(err, errlen, "%s: %s", name, st->b->errmsg);
		bs_store_close(st);
		return rc;
	}
	*out = st;
	return BS_OK;
}

void bs_store_close(bs_store_t *st)
{
	if (st == NULL)
		return;
	store_cache_forget(st);
	if (st->b != NULL)
		OPS(st)->close(st->b);
	explicit_bzero(st->key, sizeof(st->key));
	free(st);
}

const char *bs_store_errmsg(const bs_store_t *st)
{
	return st->b->errmsg;
}

static int revive(bs_store_t *st, int wait)
{
	int rc = OPS(st)->revive != NULL ? OPS(st)->revive(st->b, wait) : 0;

	/* What was cached may have changed while the connection was down. */
	if (rc == 1 || rc < 0)
		store_cache_forget(st);
	return rc < 0 ? rc : rc == 2 ? 1 : BS_OK;
}

unsigned long bs_store_losses(void)
{
	return bs_pg_losses();
}

int bs_store_revive(bs_store_t *st)
{
	return revive(st, 1);
}

int bs_store_revive_step(bs_store_t *st)
{
	return revive(st, 0);
}

int bs_store_cache_dirty(const bs_store_t *st)
{
	return st->cache_dirty;
}

void bs_store_forget(bs_store_t *st)
{
	store_cache_forget(st);
}

int bs_store_shares_nonces(const bs_store_t *st)
{
	return OPS(st)->nonce_use != NULL;
}

/* A use is kept a nonce's lifetime past its expiry, for brokers whose
 * clocks run behind this one's. */
int bs_store_nonce_use(bs_store_t *st, const uint8_t *nonce, size_t len, time_t expires)
{
	if (OPS(st)->nonce_use == NULL)
		return BS_ERR_INTERNAL;
	return OPS(st)->nonce_use(st->b, nonce, len, expires,
			time(NULL) - 2 * BS_NONCE_SECONDS);
}

bs_backend_t *bs_store_backend(bs_store_t *st)
{
	return st->b;
}

int bs_store_schema_version(bs_store_t *st)
{
	return OPS(st)->schema_version(st->b);
}

int bs_store_begin(bs_store_t *st)
{
	return OPS(st)->begin(st->b);
}

int bs_store_in_transaction(const bs_store_t *st)
{
	return OPS(st)->in_transaction(st->b);
}

/* What a transaction changed in the caches is cleared again once it is
 * committed: another store may have cached the old rows meanwhile. */
static void committed(bs_store_t *st)
{
	if (st->cache_dirty)
		store_cache_forget(st);
	st->cache_dirty = 0;
}

int bs_store_commit(bs_store_t *st)
{
	int rc = OPS(st)->commit(st->b);

	committed(st);
	return rc;
}

void bs_store_rollback(bs_store_t *st)
{
	store_cache_forget(st);
	st->cache_dirty = 0;
	OPS(st)->rollback(st->b);
}

int bs_store_savepoint(bs_store_t *st)
{
	return OPS(st)->savepoint(st->b);
}

int bs_store_release(bs_store_t *st)
{
	int rc = OPS(st)->release(st->b);

	if (!OPS(st)->in_transaction(st->b))
		committed(st);
	return rc;
}

void bs_store_rollback_savepoint(bs_store_t *st)
{
	store_cache_forget(st);
	OPS(st)->rollback_savepoint(st->b);
}
