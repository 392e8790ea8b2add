/*
 * What a storage backend implements: one table of functions per engine
 * (store_sqlite*.c, store_pg*.c), which the store's front (store.c and
 * its siblings, lib/store_front.h) calls and nothing else does. A backend stores rows; it never sees a key or a secret in clear
 * (secret columns come and go as sealed bytes, lib/vault.h), keeps no
 * cache that another writer could make wrong, and allocates config ids so
 * that several writers never draw the same one.
 *
 * Every function returns 0 or a negative bs_err_t: BS_ERR_NOT_FOUND,
 * BS_ERR_CONFLICT (a unique key taken), BS_ERR_INTERNAL (the engine
 * failed; the reason is in b->errmsg, never with a secret in it). Strings
 * out are malloc()ed and owned by the caller; structs out are cleared by
 * the caller with their _clear function, also after a failure.
 */
#ifndef BS_STORE_BACKEND_H
#define BS_STORE_BACKEND_H

#include "fleet.h"
#include "model.h"
#include "store.h"
#include "store_rows.h"
#include "store_unknown.h"
#include "vault.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Which columns a config lookup fills (the others are left empty). */
enum bs_config_view {
	BS_VIEW_ALL,        /* every column, last_bootstrap_at included */
	/* A bootstrap: id, client_id, the three secrets, content, client_cert,
	 * ca_cert, enabled, channel_ids, profile and vars; name and external_id
	 * only when there is a profile (a template may name them). */
	BS_VIEW_DEVICE,
	/* A login: id, client_id, client_secret, client_cert, enabled and
	 * channel_ids. */
	BS_VIEW_LOGIN,
};

/* One config's secrets as stored, for a change of master key. */
typedef struct bs_sealed_row {
	char *external_id, *client_id;
	bs_config_blobs_t blobs;
} bs_sealed_row_t;

typedef struct bs_backend bs_backend_t;

typedef struct bs_backend_ops {
	const char *name;       /* "sqlite", "postgresql" */
	void (*close)(bs_backend_t *b);
	/* The schema version after migrations. */
	int (*schema_version)(bs_backend_t *b);

	/* The stored key check (BS_ERR_NOT_FOUND before there is one), and
	 * putting one in place of any other. */
	int (*key_check_get)(bs_backend_t *b, bs_blob_t *out);
	int (*key_check_put)(bs_backend_t *b, const bs_blob_t *check);

	/* One write transaction, and savepoints nested inside it.
	 * in_transaction is 0 once a failure made the engine roll it all
	 * back. */
	int (*begin)(bs_backend_t *b);
	int (*commit)(bs_backend_t *b);
	void (*rollback)(bs_backend_t *b);
	int (*savepoint)(bs_backend_t *b);
	int (*release)(bs_backend_t *b);
	void (*rollback_savepoint)(bs_backend_t *b);
	int (*in_transaction)(const bs_backend_t *b);
	/* For a backend on a server (NULL for SQLite): 0 while its connection
	 * is up, 1 when it was lost and is made again, BS_ERR_INTERNAL when it
	 * cannot be. Without wait, it never waits for the server: 2 while the
	 * new connection is under way (call again). */
	int (*revive)(bs_backend_t *b, int wait);

	int (*channel_insert)(bs_backend_t *b, const bs_channel_t *ch, const char *now);
	int (*channel_get)(bs_backend_t *b, const char *id, bs_channel_t *out);
	int (*channel_update)(bs_backend_t *b, const bs_channel_t *ch, const char *now);
	/* Also takes it out of every config (their updated_at becomes now),
	 * profile and group that had it. */
	int (*channel_delete)(bs_backend_t *b, const char *id, const char *now);
	/* Ordered by created_at then id. *out is malloc()ed or NULL, with *n
	 * items, which the caller clears and frees on failure too. */
	int (*channel_list)(bs_backend_t *b, long offset, long limit,
			bs_channel_t **out, size_t *n);
	int (*channel_count)(bs_backend_t *b, long *total);

	int (*profile_put)(bs_backend_t *b, const bs_profile_t *p, int create,
			const char *now);
	int (*profile_get)(bs_backend_t *b, const char *id, bs_profile_t *out);
	/* BS_ERR_CONFLICT while a config or group uses it. */
	int (*profile_delete)(bs_backend_t *b, const char *id);
	int (*profile_list)(bs_backend_t *b, long offset, long limit,
			bs_profile_t **out, size_t *n);
	int (*profile_count)(bs_backend_t *b, long *total);

	/* g->group_key is not read: key is the sealed key, written when not
	 * NULL (a new or rotated key), kept otherwise. */
	int (*group_put)(bs_backend_t *b, const bs_group_t *g, const bs_blob_t *key,
			int create, const char *now);
	/* key, when not NULL, gets the sealed key. */
	int (*group_get)(bs_backend_t *b, const char *id, bs_group_t *out, bs_blob_t *key);
	int (*group_delete)(bs_backend_t *b, const char *id);
	int (*group_list)(bs_backend_t *b, long offset, long limit,
			bs_group_t **out, size_t *n);
	int (*group_count)(bs_backend_t *b, long *total);

	/* cfg's plain fields and channel links (cfg->channels[i].id, in that
	 * order), with its secrets as sealed; cfg->id is not read. Forgets
	 * that the client_id was deleted. BS_ERR_CONFLICT for a client_id or
	 * external_id taken, BS_ERR_NOT_FOUND for a missing channel. */
	int (*config_insert)(bs_backend_t *b, const bs_config_t *cfg,
			const bs_config_blobs_t *sealed);
	/* By client_id, or by external_id when client_id is NULL. The secrets
	 * of out stay NULL; sealed, when not NULL, gets them as stored. */
	int (*config_get)(bs_backend_t *b, const char *client_id,
			const char *external_id, enum bs_config_view view,
			bs_config_t *out, bs_config_blobs_t *sealed);
	/* For a store on a server (NULL for SQLite, whose front calls
	 * config_get for each): the configs of rows[0..n) by external_id in
	 * BS_VIEW_DEVICE, n at most BS_DEVICES_MAX, in one statement; each
	 * row's cfg and held (sealed as stored) are filled, found set. On a
	 * failure they are all left empty. */
	int (*config_get_devices)(bs_backend_t *b, bs_device_row_t *rows, size_t n);
	/* A page of matching configs ordered by created_at then client_id,
	 * in view BS_VIEW_ALL, into out[0..limit) and, when not NULL,
	 * sealed[0..limit), both zeroed by the caller. */
	int (*config_list)(bs_backend_t *b, const bs_config_filter_t *f,
			long offset, long limit, bs_config_t *out,
			bs_config_blobs_t *sealed, size_t *n);
	int (*config_count)(bs_backend_t *b, const bs_config_filter_t *f, long *total);
	/* How many configs are enabled and disabled, without counting rows. */
	int (*config_states)(bs_backend_t *b, long *enabled, long *disabled);
	/* client_cert, cert_serial and cert_expires_at of cfg become the
	 * config's; its client_key goes; updated_at is now. */
	int (*config_set_cert)(bs_backend_t *b, const bs_config_t *cfg, const char *now);
	/* name, content, client_cert, cert_serial, cert_expires_at, ca_cert,
	 * profile, vars, updated_at and the external_key and client_key of
	 * sealed are written over the row of cfg->client_id; its
	 * client_secret too unless sealed->secret is none. With relink the
	 * channel links become cfg->channels. */
	int (*config_update)(bs_backend_t *b, const bs_config_t *cfg,
			const bs_config_blobs_t *sealed, int relink);
	/* BS_ERR_NOT_FOUND when there is no such config; in the state asked
	 * already, only updated_at changes. */
	int (*config_set_enabled)(bs_backend_t *b, const char *client_id,
			int enabled, const char *now);
	/* Deletes it and its last bootstrap, and remembers the client_id as
	 * deleted at now. */
	int (*config_delete)(bs_backend_t *b, const char *client_id, const char *now);
	/* 1 when client_id was deleted (and no config has it since), 0 when
	 * not. */
	int (*client_deleted)(bs_backend_t *b, const char *client_id);
	int (*config_touch)(bs_backend_t *b, int64_t id, time_t when);
	/* The same for n configs at once, ids all different, n at most
	 * BS_TOUCH_BATCH (NULL: config_touch for each). */
	int (*config_touch_many)(bs_backend_t *b, const int64_t *ids,
			const time_t *whens, size_t n);
	/* The smallest external_id greater than after ("" for the first). */
	int (*config_next_external_id)(bs_backend_t *b, const char *after, char **out);
	/* Up to max configs' secrets, ordered by external_id, after the one
	 * given (""). */
	int (*config_sealed_page)(bs_backend_t *b, const char *after,
			bs_sealed_row_t *rows, size_t max, size_t *n);
	/* Writes the three sealed secrets of the config external_id. */
	int (*config_reseal)(bs_backend_t *b, const char *external_id,
			const bs_config_blobs_t *sealed);
	/* For a store on a server (NULL for SQLite, whose brokers read a
	 * login's config when it comes): up to max configs in BS_VIEW_LOGIN
	 * ordered by client_id, after the one given (""), into out[0..max)
	 * and sealed[0..max), zeroed by the caller; and up to max client_ids
	 * of deleted configs the same way (malloc()ed). */
	int (*config_login_page)(bs_backend_t *b, const char *after, size_t max,
			bs_config_t *out, bs_config_blobs_t *sealed, size_t *n);
	int (*deleted_page)(bs_backend_t *b, const char *after, size_t max,
			char **ids, size_t *n);
	/* The same for the configs of ids[0..n) (all different), in two
	 * statements: out[i] and sealed[i] (zeroed by the caller) filled and
	 * found[i] set for each that exists; deleted[i] for each that a
	 * deleted config had. */
	int (*config_logins_get)(bs_backend_t *b, const char *const *ids, size_t n,
			bs_config_t *out, bs_config_blobs_t *sealed, int *found, int *deleted);

	/* The unknown devices, as lib/store_unknown.h says. */
	int (*unknown_put)(bs_backend_t *b, const char *external_id, time_t first_seen,
			time_t last_seen, int64_t attempts, const char *address);
	int (*unknown_delete)(bs_backend_t *b, const char *external_id, long *deleted);
	int (*unknown_count)(bs_backend_t *b, long *total);
	int (*unknown_list)(bs_backend_t *b, long offset, long limit,
			bs_unknown_row_t **out, size_t *n);
	int (*unknown_each)(bs_backend_t *b, int newest, long limit,
			bs_unknown_row_fn fn, void *arg);
	int (*unknown_trim)(bs_backend_t *b, long keep, long *deleted);

	/* For a store several brokers share (NULL for SQLite, whose broker
	 * keeps its nonces in memory, lib/challenge.h): records the use of a
	 * challenge nonce good until expires: BS_OK the first time,
	 * BS_ERR_UNAUTHORIZED when it was used before. Uses expired before
	 * forget_before may be dropped. */
	int (*nonce_use)(bs_backend_t *b, const uint8_t *nonce, size_t len,
			time_t expires, time_t forget_before);

	/* Rows as stored, for moving a fleet (lib/store_rows.h, store_copy.c).
	 * rows_read calls fn for every row of tables[0..n), each in the order
	 * of its key, in the open transaction or else in a read-only one of
	 * its own: either way one view of them all. */
	int (*rows_read)(bs_backend_t *b, const bs_rows_table_t *const *tables,
			size_t n, bs_rows_fn fn, void *arg);
	/* Writing rows of table t, in the open transaction: rows_open, then
	 * rows_put for each row, then rows_close (with abandon 1 after a
	 * failure), and no other op of b in between. A row may be refused
	 * only at rows_close (PostgreSQL checks foreign keys at the end). */
	int (*rows_open)(bs_backend_t *b, const bs_rows_table_t *t);
	int (*rows_put)(bs_backend_t *b, const bs_rows_value_t *v);
	int (*rows_close)(bs_backend_t *b, int abandon);
	/* Once the rows are written: config_states counted again from the
	 * configs, and new config ids drawn past the highest one. */
	int (*rows_settle)(bs_backend_t *b);
} bs_backend_ops_t;

/* The first member of every backend's own struct. */
struct bs_backend {
	const bs_backend_ops_t *ops;
	char errmsg[256];
};

/* The backends: each opens (creating and migrating when needed) the
 * database it is given, or fails with the reason in err. */
int bs_sqlite_open(const char *path, bs_backend_t **out, char *err, size_t errlen);
int bs_pg_open(const char *url, bs_backend_t **out, char *err, size_t errlen);

#endif
