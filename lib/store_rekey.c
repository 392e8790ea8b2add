/*
 * A change of master key: every sealed value opened under the old key and
 * sealed again under the new one, and the key check replaced, in one
 * transaction of the backend.
 */
#include "store_front.h"

#include "error.h"
#include "fleet.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 512

static const char *const columns[3] = { "client_secret", "external_key", "client_key" };

static bs_blob_t *column_blob(bs_config_blobs_t *b, int i)
{
	return i == 0 ? &b->secret : i == 1 ? &b->external_key : &b->client_key;
}

/* One sealed value of table's row, opened under from and sealed under to. */
static int reseal_one(bs_store_t *st, const uint8_t to[BS_KEY_LEN], const char *table,
		const char *column, const char *row, const bs_blob_t *in, bs_blob_t *out)
{
	char *clear = NULL;
	int rc = store_open(st, table, column, row, in, &clear);

	if (rc == BS_OK && bs_vault_seal(to, table, column, row, clear, out) != BS_OK)
		rc = store_fail(st, BS_ERR_INTERNAL, "cannot seal %s", column);
	if (clear != NULL)
		bs_crypto_free_secret(clear, strlen(clear));
	return rc;
}

static int reseal_config(bs_store_t *st, const uint8_t to[BS_KEY_LEN], bs_sealed_row_t *r)
{
	bs_config_blobs_t fresh = { 0 };
	int rc = BS_OK;

	for (int i = 0; rc == BS_OK && i < 3; i++)
		rc = reseal_one(st, to, "configs", columns[i], r->client_id,
				column_blob(&r->blobs, i), column_blob(&fresh, i));
	if (rc == BS_OK)
		rc = OPS(st)->config_reseal(st->b, r->external_id, &fresh);
	bs_config_blobs_clear(&fresh);
	return rc;
}

static void rows_clear(bs_sealed_row_t *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].external_id);
		free(rows[i].client_id);
		bs_config_blobs_clear(&rows[i].blobs);
		memset(&rows[i], 0, sizeof(rows[i]));
	}
}

static int reseal_configs(bs_store_t *st, const uint8_t to[BS_KEY_LEN], size_t *n)
{
	bs_sealed_row_t *rows = calloc(PAGE, sizeof(*rows));
	char *after = strdup("");
	size_t got = 0;
	int rc = rows && after ? BS_OK : BS_ERR_INTERNAL;

	*n = 0;
	while (rc == BS_OK
			&& (rc = OPS(st)->config_sealed_page(st->b, after, rows, PAGE, &got)) == BS_OK
			&& got > 0) {
		for (size_t i = 0; rc == BS_OK && i < got; i++)
			rc = reseal_config(st, to, &rows[i]);
		free(after);
		if ((after = strdup(rows[got - 1].external_id)) == NULL)
			rc = BS_ERR_INTERNAL;
		*n += got;
		rows_clear(rows, got);
		got = 0;
	}
	if (rows != NULL)
		rows_clear(rows, got);
	free(rows);
	free(after);
	return rc;
}

static int reseal_group(bs_store_t *st, const uint8_t to[BS_KEY_LEN], const char *id)
{
	bs_group_t g;
	bs_blob_t old = { 0 }, fresh = { 0 };
	int rc = OPS(st)->group_get(st->b, id, &g, &old);

	if (rc == BS_OK && old.data != NULL
			&& (rc = reseal_one(st, to, "enroll_groups", "group_key", id, &old,
				&fresh)) == BS_OK)
		rc = OPS(st)->group_put(st->b, &g, &fresh, 0, g.updated_at);
	bs_group_clear(&g);
	bs_blob_clear(&old);
	bs_blob_clear(&fresh);
	return rc;
}

static int reseal_groups(bs_store_t *st, const uint8_t to[BS_KEY_LEN])
{
	bs_group_t *list = NULL;
	size_t n = 0;
	long offset = 0;
	int rc;

	do {
		rc = OPS(st)->group_list(st->b, offset, PAGE, &list, &n);
		for (size_t i = 0; rc == BS_OK && i < n; i++)
			rc = reseal_group(st, to, list[i].id);
		for (size_t i = 0; i < n; i++)
			bs_group_clear(&list[i]);
		free(list);
		list = NULL;
		offset += PAGE;
	} while (rc == BS_OK && n == PAGE);
	return rc;
}

int bs_store_rekey(bs_store_t *st, const uint8_t new_key[BS_KEY_LEN], size_t *n)
{
	int rc = bs_store_begin(st);

	if (rc != BS_OK)
		return rc;
	if ((rc = reseal_configs(st, new_key, n)) == BS_OK
			&& (rc = reseal_groups(st, new_key)) == BS_OK
			&& (rc = store_put_check(st, new_key)) == BS_OK)
		rc = bs_store_commit(st);
	if (rc != BS_OK) {
		bs_store_rollback(st);
		return rc;
	}
	memcpy(st->key, new_key, BS_KEY_LEN);
	store_cache_clear(st);
	return BS_OK;
}
