/*
 * Sealing of stored secrets, above every storage backend: a backend keeps
 * sealed values as opaque bytes and never sees a key.
 *
 * A value is AES-256-GCM sealed under the master key with the additional
 * data table NUL column NUL row, where row is the config's client_id or
 * the group's id: a sealed value moved to another row or column does not
 * open. The same bytes open on every backend, so a fleet moves between
 * SQLite and PostgreSQL without being sealed again.
 */
#ifndef BS_VAULT_H
#define BS_VAULT_H

#include "crypto.h"

#include <stddef.h>
#include <stdint.h>

/* A sealed value as a backend stores it; data NULL for none (SQL NULL). */
typedef struct bs_blob {
	uint8_t *data;
	size_t len;
} bs_blob_t;

/* The sealed columns of a config. */
typedef struct bs_config_blobs {
	bs_blob_t secret, external_key, client_key;
} bs_config_blobs_t;

void bs_blob_clear(bs_blob_t *b);
void bs_config_blobs_clear(bs_config_blobs_t *b);
/* A malloc()ed copy of len bytes at data (none for NULL data). */
int bs_blob_copy(bs_blob_t *out, const void *data, size_t len);

/* Seals clear (NULL gives none) for column of row of table. */
int bs_vault_seal(const uint8_t key[BS_KEY_LEN], const char *table,
		const char *column, const char *row, const char *clear, bs_blob_t *out);
/* Opens blob into a malloc()ed string (none gives NULL); BS_ERR_INTERNAL
 * when it does not open under key for that place. */
int bs_vault_open(const uint8_t key[BS_KEY_LEN], const char *table,
		const char *column, const char *row, const bs_blob_t *blob, char **out);

/* The key check: a known text sealed under the key, stored once, so that a
 * wrong key file is refused at start, before anything is written. */
int bs_vault_check_make(const uint8_t key[BS_KEY_LEN], bs_blob_t *out);
/* BS_OK when blob is the key check of key, BS_ERR_UNAUTHORIZED when not. */
int bs_vault_check_open(const uint8_t key[BS_KEY_LEN], const bs_blob_t *blob);

#endif
