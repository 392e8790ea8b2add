/*
 * Every SQL statement of the PostgreSQL backend. Parameters carry their
 * types ($1::text): the server cannot guess them in INSERT ... SELECT, and
 * the casts document what each slot takes. Orderings and filters are
 * those of the SQLite store, on COLLATE "C" columns (schema/pg/001_init.sql).
 */
#include "store_pg_int.h"

/* A config with its last bootstrap; the column positions are C_* in
 * store_pg_config.c. */
#define CFG_ALL "SELECT c.id, c.client_id, c.client_secret, c.name, c.external_id, " \
	"c.external_key, c.content, c.client_cert, c.client_key, c.ca_cert, c.enabled, " \
	"c.created_at, c.updated_at, b.at, c.channel_ids, c.cert_serial, " \
	"c.cert_expires_at, c.profile, c.vars, c.group_id " \
	"FROM configs c LEFT JOIN bootstraps b ON b.config_id = c.id"
/* A bootstrap's columns: name and external_id only for a template. */
#define CFG_DEVICE_COLS "SELECT c.id, c.client_id, c.client_secret, " \
	"CASE WHEN c.profile IS NULL THEN NULL ELSE c.name END, " \
	"CASE WHEN c.profile IS NULL THEN NULL ELSE c.external_id END, " \
	"c.external_key, c.content, c.client_cert, c.client_key, c.ca_cert, c.enabled, " \
	"NULL, NULL, NULL, c.channel_ids, NULL, NULL, c.profile, c.vars, NULL"
#define CFG_DEVICE CFG_DEVICE_COLS " FROM configs c"
/* A login's columns. */
#define CFG_LOGIN "SELECT c.id, c.client_id, c.client_secret, NULL, NULL, NULL, NULL, " \
	"c.client_cert, NULL, NULL, c.enabled, NULL, NULL, NULL, c.channel_ids, " \
	"NULL, NULL, NULL, NULL, NULL FROM configs c"
#define BY_ID " WHERE c.client_id = $1::text"
#define BY_EXT " WHERE c.external_id = $1::text"

/* The filters of listConfigs, NULL matching everything; the needle is
 * folded as the column is (ASCII only, as SQLite's lower()), not by the
 * database's collation. */
#define CFG_FILTER " WHERE ($1::boolean IS NULL OR c.enabled = $1::boolean)" \
	" AND ($2::text IS NULL OR strpos(lower(c.name), lower($2::text COLLATE \"C\")) > 0)" \
	" AND ($3::text IS NULL OR c.external_id = $3::text)" \
	" AND ($4::text IS NULL OR c.cert_expires_at < $4::text)"

/* The ids of a channel list given as newline-joined text ("" for none). */
#define IDS(n) "unnest(string_to_array(" n "::text, E'\\n'))"

/* The advisory lock of the announcements (PG_CHANGE_ADD): a constant of
 * this schema's own, not the migrations' one (lib/store_pg.c). */
#define CHANGES_LOCK "7885359155601272693"

/* A channel leaves the ids of profiles and groups that list it. */
#define DROP_ID(table) "UPDATE " table " SET channel_ids = array_to_string(" \
	"array_remove(string_to_array(channel_ids, E'\\n'), $1::text), E'\\n') " \
	"WHERE $1::text = ANY (string_to_array(channel_ids, E'\\n'))"

const bs_pg_sql_t bs_pg_sql[PG_STMT_COUNT] = {
	[PG_BEGIN] = { "BEGIN", 0 },
	[PG_COMMIT] = { "COMMIT", 0 },
	[PG_ROLLBACK] = { "ROLLBACK", 0 },
	[PG_SAVEPOINT] = { "SAVEPOINT cmd", 0 },
	[PG_RELEASE] = { "RELEASE SAVEPOINT cmd", 0 },
	[PG_ROLLBACK_TO] = { "ROLLBACK TO SAVEPOINT cmd", 0 },
	[PG_VERSION] = { "SELECT coalesce(max(version), 0) FROM schema_version", 0 },
	[PG_KEY_GET] = { "SELECT sealed FROM key_check WHERE id = 1", 0 },
	[PG_KEY_PUT] = { "INSERT INTO key_check (id, sealed) VALUES (1, $1::bytea) "
		"ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed", 0 },
	[PG_COUNTS_ADD] = { "UPDATE config_counts SET n = n + $1::bigint "
		"WHERE enabled = $2::boolean", 0 },
	[PG_STATES] = { "SELECT enabled, n FROM config_counts", 0 },
	[PG_NOTIFY] = { "SELECT pg_notify($1::text, $2::text)", 0 },

	[PG_CH_INSERT] = { "INSERT INTO channels (id, name, metadata, created_at, updated_at) "
		"VALUES ($1::text, $2::text, $3::text, $4::text, $4::text) "
		"ON CONFLICT DO NOTHING RETURNING 1", 0 },
	[PG_CH_GET] = { "SELECT id, name, metadata FROM channels WHERE id = $1::text", 0 },
	[PG_CH_UPDATE] = { "UPDATE channels SET name = $2::text, metadata = $3::text, "
		"updated_at = $4::text WHERE id = $1::text", 0 },
	/* Taken before PG_CH_DELETE, whose snapshot then holds every config
	 * that linked the channel: a config being linked to it meanwhile
	 * waits for the lock, or was committed before it was granted. */
	[PG_CH_LOCK] = { "SELECT 1 FROM channels WHERE id = $1::text FOR UPDATE", 0 },
	/* The configs that had it keep the rest of their ids in order, and
	 * their updated_at becomes now; the links go by ON DELETE CASCADE. */
	[PG_CH_DELETE] = { "WITH t AS (UPDATE configs c SET updated_at = $2::text, "
		"channel_ids = coalesce((SELECT string_agg(l.channel_id, E'\\n' "
		"ORDER BY l.position) FROM config_channels l WHERE l.client_id = c.client_id "
		"AND l.channel_id <> $1::text), '') WHERE c.client_id IN "
		"(SELECT client_id FROM config_channels WHERE channel_id = $1::text)), "
		"p AS (" DROP_ID("profiles") "), g AS (" DROP_ID("enroll_groups") "), "
		"d AS (DELETE FROM channels WHERE id = $1::text RETURNING 1) "
		"SELECT count(*) FROM d", 0 },
	[PG_CH_LIST] = { "SELECT id, name, metadata FROM channels "
		"ORDER BY created_at, id LIMIT $1::bigint OFFSET $2::bigint", 0 },
	[PG_CH_COUNT] = { "SELECT count(*) FROM channels", 0 },

	[PG_PRO_INSERT] = { "INSERT INTO profiles (id, name, content, channel_ids, vars, "
		"created_at, updated_at) VALUES ($1::text, $2::text, $3::text, $4::text, "
		"$5::text, $6::text, $6::text) ON CONFLICT DO NOTHING RETURNING 1", 0 },
	[PG_PRO_UPDATE] = { "UPDATE profiles SET name = $2::text, content = $3::text, "
		"channel_ids = $4::text, vars = $5::text, updated_at = $6::text "
		"WHERE id = $1::text", 0 },
	[PG_PRO_GET] = { "SELECT id, name, content, channel_ids, vars, created_at, "
		"updated_at FROM profiles WHERE id = $1::text", 0 },
	/* Whether a config or a group uses it, and the deletion if none. */
	[PG_PRO_DELETE] = { "WITH used AS (SELECT EXISTS (SELECT 1 FROM configs "
		"WHERE profile = $1::text) OR EXISTS (SELECT 1 FROM enroll_groups "
		"WHERE profile = $1::text) AS yes), d AS (DELETE FROM profiles "
		"WHERE id = $1::text AND NOT (SELECT yes FROM used) RETURNING 1) "
		"SELECT (SELECT yes FROM used), (SELECT count(*) FROM d)", 0 },
	[PG_PRO_LIST] = { "SELECT id, name, content, channel_ids, vars, created_at, "
		"updated_at FROM profiles ORDER BY created_at, id "
		"LIMIT $1::bigint OFFSET $2::bigint", 0 },
	[PG_PRO_COUNT] = { "SELECT count(*) FROM profiles", 0 },

	[PG_GRP_INSERT] = { "INSERT INTO enroll_groups (id, name, profile, channel_ids, "
		"enable, group_key, created_at, updated_at) VALUES ($1::text, $2::text, "
		"$3::text, $4::text, $5::boolean, $6::bytea, $7::text, $7::text) "
		"ON CONFLICT DO NOTHING RETURNING 1", 0 },
	[PG_GRP_UPDATE] = { "UPDATE enroll_groups SET name = $2::text, profile = $3::text, "
		"channel_ids = $4::text, enable = $5::boolean, "
		"group_key = coalesce($6::bytea, group_key), updated_at = $7::text "
		"WHERE id = $1::text", 0 },
	[PG_GRP_GET] = { "SELECT id, name, profile, channel_ids, enable, created_at, "
		"updated_at, group_key FROM enroll_groups WHERE id = $1::text", 0 },
	[PG_GRP_DELETE] = { "DELETE FROM enroll_groups WHERE id = $1::text", 0 },
	[PG_GRP_LIST] = { "SELECT id, name, profile, channel_ids, enable, created_at, "
		"updated_at, NULL FROM enroll_groups ORDER BY created_at, id "
		"LIMIT $1::bigint OFFSET $2::bigint", 0 },
	[PG_GRP_COUNT] = { "SELECT count(*) FROM enroll_groups", 0 },

	[PG_CFG_ALL_ID] = { CFG_ALL BY_ID, 0 },
	[PG_CFG_ALL_EXT] = { CFG_ALL BY_EXT, 0 },
	[PG_CFG_DEVICE_ID] = { CFG_DEVICE BY_ID, 0 },
	[PG_CFG_DEVICE_EXT] = { CFG_DEVICE BY_EXT, 0 },
	/* Column 20 is the position in the list (from 1): an ID given twice
	 * has a row for each time, an unknown one none. */
	[PG_CFG_DEVICES] = { CFG_DEVICE_COLS ", q.i FROM unnest($1::text[]) "
		"WITH ORDINALITY AS q(ext, i) JOIN configs c ON c.external_id = q.ext "
		"ORDER BY q.i", 0 },
	[PG_CFG_LOGIN_ID] = { CFG_LOGIN BY_ID, 0 },
	[PG_CFG_LOGIN_EXT] = { CFG_LOGIN BY_EXT, 0 },
	/*
	 * One statement: the channels checked, the row (no row when a unique
	 * key is taken), its links, and the client_id no longer deleted.
	 * Answers (missing channels, rows inserted).
	 */
	[PG_CFG_INSERT] = { "WITH want AS (SELECT u.id, u.pos FROM " IDS("$13")
		" WITH ORDINALITY AS u(id, pos)), missing AS (SELECT 1 FROM want w "
		"WHERE NOT EXISTS (SELECT 1 FROM channels ch WHERE ch.id = w.id)), "
		"c AS (INSERT INTO configs (client_id, client_secret, name, external_id, "
		"external_key, content, client_cert, client_key, ca_cert, enabled, created_at, "
		"updated_at, channel_ids, cert_serial, cert_expires_at, profile, vars, group_id) "
		"SELECT $1::text, $2::bytea, $3::text, $4::text, $5::bytea, $6::text, $7::text, "
		"$8::bytea, $9::text, $10::boolean, $11::text, $12::text, $13::text, $14::text, "
		"$15::text, $16::text, $17::text, $18::text WHERE NOT EXISTS "
		"(SELECT 1 FROM missing) ON CONFLICT DO NOTHING RETURNING client_id), "
		"l AS (INSERT INTO config_channels (client_id, position, channel_id) "
		"SELECT c.client_id, w.pos - 1, w.id FROM c, want w), "
		"g AS (DELETE FROM deleted_clients d USING c WHERE d.client_id = c.client_id) "
		"SELECT (SELECT count(*) FROM missing), (SELECT count(*) FROM c)", 0 },
	[PG_CFG_LIST] = { CFG_ALL CFG_FILTER " ORDER BY c.created_at, c.client_id "
		"LIMIT $5::bigint OFFSET $6::bigint", 1 },
	[PG_CFG_COUNT] = { "SELECT count(*) FROM configs c" CFG_FILTER, 1 },
	[PG_CFG_SET_CERT] = { "UPDATE configs SET client_cert = $1::text, client_key = NULL, "
		"cert_serial = $2::text, cert_expires_at = $3::text, updated_at = $4::text "
		"WHERE client_id = $5::text", 0 },
	/* The row, unless a channel of the new links ($14, when $15) is
	 * missing; answers (missing channels, rows updated). */
	[PG_CFG_UPDATE] = { "WITH want AS (SELECT u.id FROM " IDS("$14") " AS u(id) "
		"WHERE $15::boolean), missing AS (SELECT 1 FROM want w WHERE NOT EXISTS "
		"(SELECT 1 FROM channels ch WHERE ch.id = w.id)), u AS (UPDATE configs SET "
		"name = $1::text, external_key = $2::bytea, content = $3::text, "
		"client_cert = $4::text, client_key = $5::bytea, ca_cert = $6::text, "
		"updated_at = $7::text, client_secret = coalesce($9::bytea, client_secret), "
		"cert_serial = $10::text, cert_expires_at = $11::text, profile = $12::text, "
		"vars = $13::text, channel_ids = CASE WHEN $15::boolean THEN $14::text "
		"ELSE channel_ids END WHERE client_id = $8::text AND NOT EXISTS "
		"(SELECT 1 FROM missing) RETURNING 1) "
		"SELECT (SELECT count(*) FROM missing), (SELECT count(*) FROM u)", 0 },
	[PG_LINK_CLEAR] = { "DELETE FROM config_channels WHERE client_id = $1::text", 0 },
	[PG_LINK_INSERT] = { "INSERT INTO config_channels (client_id, position, channel_id) "
		"SELECT $1::text, u.pos - 1, u.id FROM " IDS("$2")
		" WITH ORDINALITY AS u(id, pos)", 0 },
	/* The state it had, read under the row's lock, for the counts. */
	[PG_CFG_ENABLE] = { "UPDATE configs c SET enabled = $1::boolean, "
		"updated_at = $2::text FROM (SELECT client_id, enabled FROM configs "
		"WHERE client_id = $3::text FOR UPDATE) o WHERE c.client_id = o.client_id "
		"RETURNING o.enabled", 0 },
	/* The row, its last bootstrap and its client_id remembered as
	 * deleted; answers the state it had. */
	[PG_CFG_DELETE] = { "WITH d AS (DELETE FROM configs WHERE client_id = $1::text "
		"RETURNING id, enabled), b AS (DELETE FROM bootstraps "
		"WHERE config_id IN (SELECT id FROM d)), g AS (INSERT INTO deleted_clients "
		"(client_id, deleted_at) SELECT $1::text, $2::text FROM d "
		"ON CONFLICT (client_id) DO UPDATE SET deleted_at = excluded.deleted_at) "
		"SELECT enabled FROM d", 0 },
	[PG_GONE_GET] = { "SELECT 1 FROM deleted_clients WHERE client_id = $1::text", 0 },
	/* The login views of every config, a page at a time by client_id. */
	[PG_CFG_LOGIN_PAGE] = { CFG_LOGIN " WHERE c.client_id > $1::text "
		"ORDER BY c.client_id LIMIT $2::bigint", 0 },
	/* Several login views, and which of several client_ids were deleted. */
	[PG_CFG_LOGINS] = { CFG_LOGIN " WHERE c.client_id = ANY ($1::text[])", 0 },
	[PG_GONE_MANY] = { "SELECT client_id FROM deleted_clients "
		"WHERE client_id = ANY ($1::text[])", 0 },
	[PG_GONE_PAGE] = { "SELECT client_id FROM deleted_clients WHERE client_id > $1::text "
		"ORDER BY client_id LIMIT $2::bigint", 0 },
	/* Brokers flush their bootstrap times in any order: the latest wins.
	 * A config deleted meanwhile gets none. */
	[PG_CFG_TOUCH] = { "INSERT INTO bootstraps (config_id, at) SELECT $1::bigint, "
		"$2::bigint WHERE EXISTS (SELECT 1 FROM configs WHERE id = $1::bigint) "
		"ON CONFLICT (config_id) DO UPDATE SET at = greatest(bootstraps.at, excluded.at)",
		0 },
	[PG_CFG_TOUCH_MANY] = { "INSERT INTO bootstraps (config_id, at) SELECT t.id, t.at "
		"FROM unnest($1::bigint[], $2::bigint[]) AS t(id, at) "
		"WHERE EXISTS (SELECT 1 FROM configs WHERE id = t.id) "
		"ON CONFLICT (config_id) DO UPDATE SET at = greatest(bootstraps.at, excluded.at)",
		0 },
	[PG_CFG_NEXT_EXT] = { "SELECT external_id FROM configs WHERE external_id > $1::text "
		"ORDER BY external_id LIMIT 1", 0 },
	[PG_CFG_SEALED_PAGE] = { "SELECT external_id, client_id, client_secret, external_key, "
		"client_key FROM configs WHERE external_id > $1::text ORDER BY external_id "
		"LIMIT $2::bigint", 0 },
	[PG_CFG_RESEAL] = { "UPDATE configs SET client_secret = $1::bytea, "
		"external_key = $2::bytea, client_key = $3::bytea WHERE external_id = $4::text",
		0 },

	[PG_UNK_PUT] = { "INSERT INTO unknown_devices (external_id, first_seen, last_seen, "
		"attempts, address) VALUES ($1::text, $2::bigint, $3::bigint, $4::bigint, "
		"$5::text) ON CONFLICT (external_id) DO UPDATE SET "
		"first_seen = least(unknown_devices.first_seen, excluded.first_seen), "
		"last_seen = greatest(unknown_devices.last_seen, excluded.last_seen), "
		"attempts = unknown_devices.attempts + excluded.attempts, "
		"address = excluded.address", 0 },
	[PG_UNK_DELETE] = { "DELETE FROM unknown_devices WHERE external_id = $1::text", 0 },
	[PG_UNK_CLEAR] = { "DELETE FROM unknown_devices", 0 },
	[PG_UNK_COUNT] = { "SELECT count(*) FROM unknown_devices", 0 },
	[PG_UNK_LIST] = { "SELECT external_id, first_seen, last_seen, attempts, address "
		"FROM unknown_devices ORDER BY last_seen DESC, external_id DESC "
		"LIMIT $1::bigint OFFSET $2::bigint", 0 },
	[PG_UNK_OLDEST] = { "SELECT external_id, first_seen, last_seen, attempts, address "
		"FROM unknown_devices ORDER BY last_seen, external_id LIMIT $1::bigint", 0 },
	[PG_UNK_TRIM] = { "DELETE FROM unknown_devices WHERE external_id IN "
		"(SELECT external_id FROM unknown_devices "
		"ORDER BY last_seen DESC, external_id DESC OFFSET $1::bigint)", 0 },

	/* A challenge nonce's use: no row inserted is a nonce used before.
	 * Each use takes a few long expired ones away, skipping those another
	 * broker is taking, so that two never wait on each other. */
	[PG_NONCE_USE] = { "WITH gone AS (DELETE FROM used_nonces WHERE nonce IN "
		"(SELECT nonce FROM used_nonces WHERE expires_at < $3::bigint "
		"LIMIT 8 FOR UPDATE SKIP LOCKED)) "
		"INSERT INTO used_nonces (nonce, expires_at) VALUES ($1::bytea, $2::bigint) "
		"ON CONFLICT DO NOTHING", 0 },

	/* An announcement (schema/pg/003), kept and sent. The advisory lock,
	 * taken before the row's seq is drawn and held to the commit, makes
	 * seq the order in which announcements commit: one drawn after
	 * another's is committed after it, so that a broker reading seq > its
	 * last misses none. Each takes a few rows older than an hour away,
	 * skipping those another broker is taking. */
	[PG_CHANGE_ADD] = { "WITH gone AS (DELETE FROM changes WHERE seq IN "
		"(SELECT seq FROM changes WHERE at < now() - interval '1 hour' "
		"ORDER BY at LIMIT 100 FOR UPDATE SKIP LOCKED)), "
		"added AS (INSERT INTO changes (payload) SELECT $2::text "
		"FROM pg_advisory_xact_lock(" CHANGES_LOCK ") RETURNING seq) "
		"SELECT seq, pg_notify($1::text, '#' || seq::text || E'\\n' || $2::text) FROM added", 0 },
	[PG_CHANGES_SINCE] = { "SELECT seq, payload FROM changes WHERE seq > $1::bigint "
		"ORDER BY seq LIMIT $2::bigint", 0 },
	[PG_CHANGES_LAST] = { "SELECT coalesce(max(seq), 0) FROM changes", 0 },
};
