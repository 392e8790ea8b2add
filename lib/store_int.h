/*
 * Private to the store: the connection, its prepared statements, and the
 * helpers that store.c, store_channel.c and store_config.c share.
 */
#ifndef BS_STORE_INT_H
#define BS_STORE_INT_H

#include "store.h"

#include <jansson.h>
#include <sqlite3.h>

/* Profiles kept for rendering; a fleet has a few. */
#define STORE_PROFILES 32

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	/* The unknown devices (store_unknown.c). */
	ST_UNK_PUT, ST_UNK_DELETE, ST_UNK_CLEAR, ST_UNK_COUNT, ST_UNK_LIST, ST_UNK_OLDEST,
	ST_UNK_TRIM,
	ST_CH_INSERT, ST_CH_GET, ST_CH_LIST, ST_CH_COUNT, ST_CH_UPDATE,
	ST_CH_TOUCH_CONFIGS, ST_CH_DELETE,
	ST_CFG_INSERT, ST_LINK_INSERT, ST_LINK_CLEAR, ST_CFG_BY_ID, ST_CFG_BY_EXT,
	ST_CFG_DEVICE, ST_CFG_LOGIN,
	ST_CFG_LIST, ST_CFG_COUNT, ST_CFG_UPDATE, ST_CFG_SET_CERT, ST_CFG_CERTS,
	ST_CFG_CERT_INFO, ST_CFG_SET_CHANNELS,
	ST_CFG_ENABLE, ST_CFG_RESTATE, ST_BOOT_DELETE, ST_CFG_DELETE, ST_CFG_TOUCH,
	ST_GONE_ADD, ST_GONE_CLEAR, ST_GONE_GET, ST_KEY_GET, ST_KEY_PUT, ST_KEY_DEL, ST_CFG_ANY,
	ST_CFG_SEALED_PAGE, ST_CFG_RESEAL, ST_CFG_FIRST_EXT, ST_CFG_NEXT_EXT, ST_CFG_STATES,
	ST_COUNTS_ADD,
	ST_PRO_INSERT, ST_PRO_UPDATE, ST_PRO_GET, ST_PRO_LIST, ST_PRO_COUNT, ST_PRO_DELETE,
	ST_PRO_USED, ST_GRP_INSERT, ST_GRP_UPDATE, ST_GRP_GET, ST_GRP_LIST, ST_GRP_COUNT,
	ST_GRP_DELETE, ST_CH_OUT_OF_PROFILES, ST_CH_OUT_OF_GROUPS,
	ST_COUNT
};

struct bs_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	uint8_t key[BS_KEY_LEN];
	char errmsg[256];
	/* Channels by id for bootstraps (store_cache.c): open addressing. */
	bs_channel_t *cache;
	size_t cache_cap, cache_n;
	/* Changes to config_counts by state (0 disabled, 1 enabled) not yet
	 * written: those of the open transaction, and their value when its
	 * current savepoint began. */
	long counts_pending[2], counts_saved[2];
	/* Profiles read for rendering (store_fleet.c), emptied with the
	 * channel cache: by every profile write and every rollback. */
	struct store_profile {
		char *id, *content;
		json_t *defaults;
	} profiles[STORE_PROFILES];
	size_t nprofiles;
};

/* The SQL of each statement, in store.c. */
extern const char *const bs_store_sql[ST_COUNT];

/* Records SQLite's last error under what; returns BS_ERR_INTERNAL. */
int store_fail(bs_store_t *st, const char *what);
/* The statement, reset and with its bindings cleared. */
sqlite3_stmt *store_stmt(bs_store_t *st, enum stmt_id id);
/* Runs a statement that returns no rows; maps constraint failures to
 * BS_ERR_CONFLICT (unique keys) and BS_ERR_NOT_FOUND (foreign keys). */
int store_done(bs_store_t *st, sqlite3_stmt *s, const char *what);
/* The same, and BS_ERR_NOT_FOUND when no row changed. */
int store_change_one(bs_store_t *st, sqlite3_stmt *s, const char *what);
/* Binds text, or NULL for a NULL pointer (the text must outlive the step). */
int store_bind_text(sqlite3_stmt *s, int col, const char *v);
/* A short text column into out ("" for NULL), cut to fit size. */
void store_col_copy(sqlite3_stmt *s, int col, char *out, size_t size);
/* strdup of a text column; NULL for SQL NULL; *oom set when out of memory. */
char *store_col_text(sqlite3_stmt *s, int col, int *oom);
/* delta configs more (or fewer) in state enabled: gathered until the
 * transaction commits, written at once outside one. */
int store_count_change(bs_store_t *st, int enabled, long delta);
/* Seals clear for column of the row id of table (the additional data
 * binds the three), and opens it again (a NULL blob gives NULL). */
int store_seal_in(bs_store_t *st, const char *table, const char *column,
		const char *id, const char *clear, uint8_t **out, size_t *outlen);
int store_open_in(bs_store_t *st, const char *table, const char *column,
		const char *id, const uint8_t *blob, size_t len, char **out);
/* Reads a channel row (id, name, metadata). */
int store_read_channel(sqlite3_stmt *s, bs_channel_t *out);
/* The channel cache (store_cache.c). */
const bs_channel_t *store_cache_get(const bs_store_t *st, const char *id);
void store_cache_put(bs_store_t *st, const bs_channel_t *ch);
void store_cache_clear(bs_store_t *st);
void store_profiles_clear(bs_store_t *st);

/* The serial and end of validity of every stored client_cert, for the
 * certificates stored before schema version 6 (its migration). */
int store_config_fill_cert_info(bs_store_t *st);
/* BS_OK when the store's key opens the first config's client_secret (or
 * there is none), BS_ERR_UNAUTHORIZED when it does not (store_config.c). */
int store_config_probe_key(bs_store_t *st);

/* Seals every config's secrets again under new_key, which becomes the
 * store's key; *n counts the configs (store_config.c). Inside a
 * transaction the caller holds. */
int store_config_reseal(bs_store_t *st, const uint8_t new_key[BS_KEY_LEN], size_t *n);

/* Runs a single-row count(*) statement. */
int store_count(bs_store_t *st, sqlite3_stmt *s, long *out, const char *what);

#endif
