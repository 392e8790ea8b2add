/*
 * The SQLite store: opening, pragmas, migrations, every SQL statement
 * (prepared once, reused), transactions, and the sealing of secret columns.
 *
 * Secrets (client_secret, external_key, client_key) go in and come out in
 * clear; on disk they are AES-256-GCM sealed with additional data
 * "configs" NUL column NUL client_id, so a sealed value moved to another row
 * or column does not open.
 *
 * Every function returns 0 or a negative bs_err_t: BS_ERR_NOT_FOUND,
 * BS_ERR_CONFLICT (a unique key taken), BS_ERR_INTERNAL (SQLite or crypto
 * failure; the reason goes to the store's last error, bs_store_errmsg).
 */
#ifndef BS_STORE_H
#define BS_STORE_H

#include "crypto.h"
#include "model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bs_store bs_store_t;

/* What bs_store_config_get loads besides the plain columns. */
enum {
	BS_LOAD_CHANNELS = 1,     /* cfg->channels */
	BS_LOAD_SECRET = 2,       /* cfg->client_secret */
	BS_LOAD_EXTERNAL_KEY = 4, /* cfg->external_key */
	BS_LOAD_CLIENT_KEY = 8,   /* cfg->client_key */
};

/*
 * Opens (creating when missing) the database at path, sets WAL mode and
 * foreign keys, and applies the embedded migrations that are newer than its
 * PRAGMA user_version, all in one transaction. On failure *out is NULL and
 * err names the file and the reason.
 */
int bs_store_open(const char *path, const uint8_t key[BS_KEY_LEN],
		bs_store_t **out, char *err, size_t errlen);
void bs_store_close(bs_store_t *st);

/* The last SQLite or crypto failure, for logs; never holds a secret. */
const char *bs_store_errmsg(const bs_store_t *st);

/* The schema version after migrations (PRAGMA user_version). */
int bs_store_schema_version(bs_store_t *st);

/* One write transaction, and savepoints nested inside it. */
int bs_store_begin(bs_store_t *st);
int bs_store_commit(bs_store_t *st);
void bs_store_rollback(bs_store_t *st);
int bs_store_savepoint(bs_store_t *st);
int bs_store_release(bs_store_t *st);
void bs_store_rollback_savepoint(bs_store_t *st);

int bs_store_channel_insert(bs_store_t *st, const bs_channel_t *ch,
		const char *now);
/* Fills out (cleared by the caller after use). */
int bs_store_channel_get(bs_store_t *st, const char *id, bs_channel_t *out);

/*
 * Inserts cfg with its channel links, in the order given (only
 * cfg->channels[i].id is read). BS_ERR_CONFLICT when client_id or
 * external_id is taken; BS_ERR_NOT_FOUND when a channel does not exist.
 */
int bs_store_config_insert(bs_store_t *st, const bs_config_t *cfg);

/*
 * Loads the config whose client_id (or, when client_id is NULL, whose
 * external_id) is given, with what the flags ask for.
 */
int bs_store_config_get(bs_store_t *st, const char *client_id,
		const char *external_id, unsigned flags, bs_config_t *out);

int bs_store_config_set_enabled(bs_store_t *st, const char *client_id,
		int enabled, const char *now);
int bs_store_config_delete(bs_store_t *st, const char *client_id);
int bs_store_config_touch_bootstrap(bs_store_t *st, const char *client_id,
		const char *now);

#endif
