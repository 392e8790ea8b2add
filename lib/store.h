/*
 * The store: the fleet's configs, channels, profiles, groups and unknown
 * devices, over a backend (lib/store_backend.h: SQLite today), with the
 * master key, the caches and the sealing of secret columns here above it.
 *
 * Secrets (client_secret, external_key, client_key) go in and come out in
 * clear; stored they are AES-256-GCM sealed with additional data
 * "configs" NUL column NUL client_id (lib/vault.h), so a sealed value moved
 * to another row or column does not open.
 *
 * Every function returns 0 or a negative bs_err_t: BS_ERR_NOT_FOUND,
 * BS_ERR_CONFLICT (a unique key taken), BS_ERR_INTERNAL (a backend or
 * crypto failure; the reason goes to the store's last error,
 * bs_store_errmsg).
 */
#ifndef BS_STORE_H
#define BS_STORE_H

#include "crypto.h"
#include "model.h"
#include "vault.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct bs_store bs_store_t;
typedef struct bs_backend bs_backend_t;

/* What bs_store_config_get loads besides the plain columns. */
enum {
	BS_LOAD_CHANNELS = 1,     /* cfg->channels */
	BS_LOAD_SECRET = 2,       /* cfg->client_secret */
	BS_LOAD_EXTERNAL_KEY = 4, /* cfg->external_key */
	BS_LOAD_CLIENT_KEY = 8,   /* cfg->client_key */
	/* A login's lookup by client_id: client_secret, client_cert, state and
	 * channel ids; the rest is left empty. */
	BS_LOGIN_VIEW = 16,
};

/*
 * Opens the store db: a postgresql:// or postgres:// URL (db_url, the
 * PostgreSQL backend), else the path of a SQLite file (db_path, created
 * when missing). The schema is migrated to this plugin's version in one
 * transaction, then key is checked to be the store's (BS_ERR_UNAUTHORIZED
 * when it is not). On failure *out is NULL and err names the option, the
 * store (never a password) and the reason.
 */
int bs_store_open(const char *db, const uint8_t key[BS_KEY_LEN],
		bs_store_t **out, char *err, size_t errlen);
/* 1 when db is a PostgreSQL URL. */
int bs_store_is_url(const char *db);
/* "db_path FILE", or "db_url URL" without its password or parameters. */
void bs_store_name(const char *db, char *out, size_t len);
void bs_store_close(bs_store_t *st);

/*
 * Master key rotation: every stored secret, and the key check, sealed
 * again under new_key in one transaction, which then is the store's key;
 * *n counts the configs. On failure nothing changed and the old key stays.
 */
int bs_store_rekey(bs_store_t *st, const uint8_t new_key[BS_KEY_LEN], size_t *n);

/* The last backend or crypto failure, for logs; never holds a secret. */
const char *bs_store_errmsg(const bs_store_t *st);

/* When the connection to a server (PostgreSQL) is found lost: drops every
 * cache and connects again, waiting up to its connect timeout. BS_OK when
 * connected (always for SQLite). */
int bs_store_revive(bs_store_t *st);
/* Connections to a server that it closed, in this process (lib/store_pg.h
 * bs_pg_losses; always 0 for SQLite): a count that only grows. */
unsigned long bs_store_losses(void);
/* The same without waiting for the server (for the broker's thread): 1
 * while the new connection is under way, to be called again. */
int bs_store_revive_step(bs_store_t *st);

/* 1 when the open transaction wrote what the caches hold (a channel, a
 * profile); forget empties the caches of every store of the process. */
int bs_store_cache_dirty(const bs_store_t *st);
void bs_store_forget(bs_store_t *st);

/* Challenge nonces on a store several brokers share (lib/challenge.h):
 * 1 when the store records their use, and the use of one, good until
 * expires: BS_OK the first time, BS_ERR_UNAUTHORIZED after. */
int bs_store_shares_nonces(const bs_store_t *st);
int bs_store_nonce_use(bs_store_t *st, const uint8_t *nonce, size_t len, time_t expires);

/* The backend under the store, for what only one backend does. */
bs_backend_t *bs_store_backend(bs_store_t *st);

/* The schema version after migrations. */
int bs_store_schema_version(bs_store_t *st);

/* One write transaction, and savepoints nested inside it. */
int bs_store_begin(bs_store_t *st);
/* 1 while a transaction begun by bs_store_begin is open: 0 once a failure
 * (a full disk, an I/O error) made the backend roll all of it back. */
int bs_store_in_transaction(const bs_store_t *st);
int bs_store_commit(bs_store_t *st);
void bs_store_rollback(bs_store_t *st);
int bs_store_savepoint(bs_store_t *st);
int bs_store_release(bs_store_t *st);
void bs_store_rollback_savepoint(bs_store_t *st);

int bs_store_channel_insert(bs_store_t *st, const bs_channel_t *ch,
		const char *now);
/* Fills out (cleared by the caller after use). */
int bs_store_channel_get(bs_store_t *st, const char *id, bs_channel_t *out);
/* Sets name and metadata of the channel ch->id. */
int bs_store_channel_update(bs_store_t *st, const bs_channel_t *ch,
		const char *now);
/* Deletes a channel; it leaves every config that had it (their updated_at
 * becomes now). */
int bs_store_channel_delete(bs_store_t *st, const char *id, const char *now);
/* A page of channels ordered by created_at then id, in *out (*n of them;
 * free each with bs_channel_clear, then the array). */
int bs_store_channel_list(bs_store_t *st, long offset, long limit,
		bs_channel_t **out, size_t *n);
int bs_store_channel_count(bs_store_t *st, long *total);

/*
 * Profiles and enrollment groups (protocol 7.1, 7.2; lib/fleet.h). put
 * inserts (create) or updates; an id taken is BS_ERR_CONFLICT, an id
 * missing BS_ERR_NOT_FOUND. A group's key is opened only with with_key,
 * and written only when set. A list gives *n items in a malloc()ed array
 * (even on failure: clear them and free it); deleting a profile that a
 * config or group uses is BS_ERR_CONFLICT.
 */
struct bs_profile;
struct bs_group;
int bs_store_profile_put(bs_store_t *st, const struct bs_profile *p, int create,
		const char *now);
int bs_store_profile_get(bs_store_t *st, const char *id, struct bs_profile *out);
/* The template and default vars of profile id, from memory when read
 * before: valid until the next store write or rollback. */
int bs_store_profile_peek(bs_store_t *st, const char *id, const char **content,
		const json_t **defaults);
int bs_store_profile_delete(bs_store_t *st, const char *id);
int bs_store_profile_list(bs_store_t *st, long offset, long limit,
		struct bs_profile **out, size_t *n);
int bs_store_profile_count(bs_store_t *st, long *total);
int bs_store_group_put(bs_store_t *st, const struct bs_group *g, int create,
		const char *now);
int bs_store_group_get(bs_store_t *st, const char *id, int with_key,
		struct bs_group *out);
int bs_store_group_delete(bs_store_t *st, const char *id);
int bs_store_group_list(bs_store_t *st, long offset, long limit,
		struct bs_group **out, size_t *n);
int bs_store_group_count(bs_store_t *st, long *total);

/* What listConfigs matches; NULL or -1 fields match everything. */
typedef struct bs_config_filter {
	int enabled;              /* -1 any, 0 disabled, 1 enabled */
	const char *name;         /* substring, ASCII case-insensitive */
	const char *external_id;  /* exact */
	const char *cert_expires_before;  /* canonical RFC 3339 UTC (bs_time_format) */
} bs_config_filter_t;

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

/* A page of matching configs ordered by created_at then client_id, loaded
 * as bs_store_config_get would with flags (free each with
 * bs_config_clear, then the array). */
int bs_store_config_list(bs_store_t *st, const bs_config_filter_t *f,
		long offset, long limit, unsigned flags, bs_config_t **out, size_t *n);
int bs_store_config_count(bs_store_t *st, const bs_config_filter_t *f,
		long *total);

/* How many configs are enabled and disabled now, without counting them
 * (the schema keeps the two figures). */
int bs_store_config_states(bs_store_t *st, long *enabled, long *disabled);

/* A certificate the plugin issued (protocol 3.3), cfg->client_cert with
 * its cert_serial and cert_expires_at, becomes the config's client_cert;
 * its client_key is cleared; updated_at is now. */
int bs_store_config_set_cert(bs_store_t *st, const bs_config_t *cfg, const char *now);

/*
 * Writes the changeable fields of cfg (name, external_key, content,
 * client_cert, client_key, ca_cert, updated_at, and client_secret unless
 * it is NULL) over the stored row; cfg must hold its external_key and
 * client_key in clear. With relink, the channel links are replaced by
 * cfg->channels.
 */
int bs_store_config_update(bs_store_t *st, const bs_config_t *cfg, int relink);

/*
 * A bootstrap's lookup by external_id: what a device reply needs (name and
 * external_id only with a profile, for its template; the three times
 * empty), its external_key opened; its client_secret and client_key stay
 * sealed in held (cleared by the caller), to be opened by
 * bs_store_config_unseal only once the device has proved its key.
 */
int bs_store_device_get(bs_store_t *st, const char *external_id, bs_config_t *cfg,
		bs_config_blobs_t *held);
/*
 * The same for up to BS_DEVICES_MAX bootstraps at once: on a server, one
 * statement for them all. rows[i].external_id is read; rows[i].cfg and
 * rows[i].held (the caller's, cleared by it) are filled as
 * bs_store_device_get fills them, and rows[i].found is BS_OK or
 * BS_ERR_NOT_FOUND. An external_id may come twice. BS_OK, or the failure
 * of them all (BS_ERR_INTERNAL, BS_ERR_INVALID for n over the bound), each
 * cfg and held then empty.
 */
#define BS_DEVICES_MAX 64
typedef struct bs_device_row {
	const char *external_id;
	bs_config_t *cfg;
	bs_config_blobs_t *held;
	int found;
} bs_device_row_t;
int bs_store_devices_get(bs_store_t *st, bs_device_row_t *rows, size_t n);
int bs_store_config_unseal(bs_store_t *st, bs_config_t *cfg,
		const bs_config_blobs_t *held);
/* Loads cfg->channels (after a get without BS_LOAD_CHANNELS). */
int bs_store_config_channels(bs_store_t *st, bs_config_t *cfg);

/* The external_id of the config after the one given (the first when
 * after is NULL or the last; malloc()ed), or BS_ERR_NOT_FOUND. */
int bs_store_config_next_external_id(bs_store_t *st, const char *after, char **out);

int bs_store_config_set_enabled(bs_store_t *st, const char *client_id,
		int enabled, const char *now);
/* Deletes a config and remembers its client_id as deleted (at now). */
int bs_store_config_delete(bs_store_t *st, const char *client_id, const char *now);
/* 1 when client_id is a deleted config's (and no config has it since), 0
 * when not, or a negative code. */
int bs_store_client_deleted(bs_store_t *st, const char *client_id);
/*
 * For a replica of the login views (lib/logins.h), on a store on a
 * server only: up to max configs as bs_store_config_get gives them with
 * BS_LOGIN_VIEW | BS_LOAD_SECRET, ordered by client_id, after the one
 * given ("" for the first), into out[0..max) (*n of them; clear each);
 * and up to max client_ids of deleted configs the same way (free each).
 */
int bs_store_login_page(bs_store_t *st, const char *after, size_t max,
		bs_config_t *out, size_t *n);
int bs_store_deleted_page(bs_store_t *st, const char *after, size_t max, char **ids,
		size_t *n);
/* The login views of the configs ids[0..n) (all different), in two
 * statements: out[i] (zeroed here; clear each) filled and found[i] set
 * for each that exists, deleted[i] set for each a deleted config had. */
int bs_store_logins_get(bs_store_t *st, const char *const *ids, size_t n,
		bs_config_t *out, int *found, int *deleted);
/* Records that the config whose store id is id bootstrapped at when. */
int bs_store_config_touch_bootstrap(bs_store_t *st, int64_t id, time_t when);
/* The same for n configs, ids all different: on a store across the
 * network one statement for up to BS_TOUCH_BATCH of them. */
#define BS_TOUCH_BATCH 512
int bs_store_config_touch_many(bs_store_t *st, const int64_t *ids, const time_t *whens,
		size_t n);

#endif
