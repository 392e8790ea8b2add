#include "vault.h"

#include "error.h"
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define CHECK_TEXT "mosquitto-bootstrap key check"
#define CHECK_AAD "key_check"

void bs_blob_clear(bs_blob_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void bs_config_blobs_clear(bs_config_blobs_t *b)
{
	bs_blob_clear(&b->secret);
	bs_blob_clear(&b->external_key);
	bs_blob_clear(&b->client_key);
}

int bs_blob_copy(bs_blob_t *out, const void *data, size_t len)
{
	out->data = NULL;
	out->len = 0;
	if (data == NULL)
		return BS_OK;
	/* One byte more, so that an empty value is not taken for none. */
	if ((out->data = malloc(len + 1)) == NULL)
		return BS_ERR_INTERNAL;
	memcpy(out->data, data, len);
	out->len = len;
	return BS_OK;
}

/* table NUL column NUL row. */
static size_t make_aad(char *buf, size_t buflen, const char *table,
		const char *column, const char *row)
{
	size_t tlen = strlen(table) + 1, clen = strlen(column), rlen = strlen(row);
	size_t n = tlen + clen + 1 + rlen;

	if (n > buflen)
		return 0;
	memcpy(buf, table, tlen);
	memcpy(buf + tlen, column, clen + 1);
	memcpy(buf + tlen + clen + 1, row, rlen);
	return n;
}

int bs_vault_seal(const uint8_t key[BS_KEY_LEN], const char *table,
		const char *column, const char *row, const char *clear, bs_blob_t *out)
{
	char aad[BS_ID_MAX + 64];
	size_t aadlen = make_aad(aad, sizeof(aad), table, column, row);

	out->data = NULL;
	out->len = 0;
	if (clear == NULL)
		return BS_OK;
	if (aadlen == 0 || bs_crypto_seal(key, aad, aadlen, clear, strlen(clear),
			&out->data, &out->len) != BS_OK)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

int bs_vault_open(const uint8_t key[BS_KEY_LEN], const char *table,
		const char *column, const char *row, const bs_blob_t *blob, char **out)
{
	char aad[BS_ID_MAX + 64];
	size_t aadlen = make_aad(aad, sizeof(aad), table, column, row);
	uint8_t *pt = NULL;
	size_t ptlen = 0;

	*out = NULL;
	if (blob->data == NULL)
		return BS_OK;
	if (aadlen == 0 || bs_crypto_open(key, aad, aadlen, blob->data, blob->len,
			&pt, &ptlen) != BS_OK)
		return BS_ERR_INTERNAL;
	*out = (char *)pt;
	return BS_OK;
}

int bs_vault_check_make(const uint8_t key[BS_KEY_LEN], bs_blob_t *out)
{
	return bs_crypto_seal(key, CHECK_AAD, sizeof(CHECK_AAD) - 1, CHECK_TEXT,
			sizeof(CHECK_TEXT) - 1, &out->data, &out->len);
}

int bs_vault_check_open(const uint8_t key[BS_KEY_LEN], const bs_blob_t *blob)
{
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int rc = bs_crypto_open(key, CHECK_AAD, sizeof(CHECK_AAD) - 1, blob->data,
			blob->len, &pt, &ptlen) == BS_OK && ptlen == sizeof(CHECK_TEXT) - 1
		&& memcmp(pt, CHECK_TEXT, ptlen) == 0 ? BS_OK : BS_ERR_UNAUTHORIZED;

	free(pt);
	return rc;
}
