#include "store_sqlite.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A config with its last bootstrap; column positions in store_sqlite_config.c. */
#define CFG_SELECT "SELECT c.id, c.client_id, c.client_secret, c.name, " \
	"c.external_id, c.external_key, c.content, c.client_cert, c.client_key, " \
	"c.ca_cert, c.enabled, c.created_at, c.updated_at, b.at, c.channel_ids, " \
	"c.cert_serial, c.cert_expires_at, c.profile, c.vars, c.group_id " \
	"FROM configs c LEFT JOIN bootstraps b ON b.config_id = c.id"

/* The filters of listConfigs: NULL parameters match everything. */
#define CFG_FILTER " WHERE (?1 IS NULL OR c.enabled = ?1)" \
	" AND (?2 IS NULL OR instr(lower(c.name), lower(?2)) > 0)" \
	" AND (?3 IS NULL OR c.external_id = ?3)" \
	" AND (?6 IS NULL OR c.cert_expires_at < ?6)"

const char *const bs_lite_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT cmd",
	[ST_RELEASE] = "RELEASE cmd",
	[ST_ROLLBACK_TO] = "ROLLBACK TO cmd",
	/* The unknown devices: times are Unix seconds; the list and the walks
	 * read the index on (last_seen, external_id), both ways. */
	[ST_UNK_PUT] = "INSERT INTO unknown_devices (external_id, first_seen, last_seen, "
		"attempts, address) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (external_id) "
		"DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
		"last_seen = max(last_seen, excluded.last_seen), "
		"attempts = attempts + excluded.attempts, address = excluded.address",
	[ST_UNK_DELETE] = "DELETE FROM unknown_devices WHERE external_id = ?",
	[ST_UNK_CLEAR] = "DELETE FROM unknown_devices",
	[ST_UNK_COUNT] = "SELECT count(*) FROM unknown_devices",
	[ST_UNK_LIST] = "SELECT external_id, first_seen, last_seen, attempts, address "
		"FROM unknown_devices ORDER BY last_seen DESC, external_id DESC "
		"LIMIT ?1 OFFSET ?2",
	[ST_UNK_OLDEST] = "SELECT external_id, first_seen, last_seen, attempts, address "
		"FROM unknown_devices ORDER BY last_seen, external_id LIMIT ?1",
	[ST_UNK_TRIM] = "DELETE FROM unknown_devices WHERE external_id IN "
		"(SELECT external_id FROM unknown_devices "
		"ORDER BY last_seen DESC, external_id DESC LIMIT -1 OFFSET ?1)",
	[ST_CH_INSERT] = "INSERT INTO channels (id, name, metadata, created_at, "
		"updated_at) VALUES (?, ?, ?, ?, ?)",
	[ST_CH_GET] = "SELECT id, name, metadata FROM channels WHERE id = ?",
	[ST_CH_LIST] = "SELECT id, name, metadata FROM channels "
		"ORDER BY created_at, id LIMIT ? OFFSET ?",
	[ST_CH_COUNT] = "SELECT count(*) FROM channels",
	[ST_CH_UPDATE] = "UPDATE channels SET name = ?, metadata = ?, updated_at = ? "
		"WHERE id = ?",
	[ST_CH_TOUCH_CONFIGS] = "UPDATE configs SET updated_at = ?1, channel_ids = "
		"(SELECT ifnull(group_concat(channel_id, char(10)), '') FROM "
		"(SELECT channel_id FROM config_channels l WHERE l.client_id = "
		"configs.client_id AND l.channel_id != ?2 ORDER BY l.position)) "
		"WHERE client_id IN (SELECT client_id FROM config_channels "
		"WHERE channel_id = ?2)",
	[ST_CH_DELETE] = "DELETE FROM channels WHERE id = ?",
	[ST_CFG_INSERT] = "INSERT INTO configs (client_id, client_secret, name, "
		"external_id, external_key, content, client_cert, client_key, ca_cert, "
		"enabled, created_at, updated_at, channel_ids, cert_serial, "
		"cert_expires_at, profile, vars, group_id, id) VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
		"(SELECT ifnull(max(id), 0) + 1 FROM configs))",
	[ST_LINK_INSERT] = "INSERT INTO config_channels (client_id, channel_id, "
		"position) VALUES (?, ?, ?)",
	[ST_LINK_CLEAR] = "DELETE FROM config_channels WHERE client_id = ?",
	[ST_CFG_BY_ID] = CFG_SELECT " WHERE c.client_id = ?",
	[ST_CFG_BY_EXT] = CFG_SELECT " WHERE c.external_id = ?",
	/* The same columns without the join: one B-tree fewer per bootstrap. */
	/* Text and blob columns cost SQLite an allocation each: a bootstrap
	 * selects only those its reply needs. */
	/* name and external_id only for a template to render (protocol 7.1). */
	[ST_CFG_DEVICE] = "SELECT c.id, c.client_id, c.client_secret, "
		"iif(c.profile IS NULL, NULL, c.name), iif(c.profile IS NULL, NULL, c.external_id), "
		"c.external_key, c.content, c.client_cert, c.client_key, c.ca_cert, "
		"c.enabled, NULL, NULL, NULL, c.channel_ids, NULL, NULL, c.profile, "
		"c.vars, NULL FROM configs c WHERE c.external_id = ?",
	[ST_CFG_LOGIN] = "SELECT c.id, c.client_id, c.client_secret, NULL, NULL, "
		"NULL, NULL, c.client_cert, NULL, NULL, c.enabled, NULL, NULL, NULL, "
		"c.channel_ids, NULL, NULL, NULL, NULL, NULL FROM configs c "
		"WHERE c.client_id = ?",
	[ST_CFG_LIST] = CFG_SELECT CFG_FILTER
		" ORDER BY c.created_at, c.client_id LIMIT ?4 OFFSET ?5",
	[ST_CFG_COUNT] = "SELECT count(*) FROM configs c" CFG_FILTER,
	[ST_CFG_UPDATE] = "UPDATE configs SET name = ?, external_key = ?, content = ?, "
		"client_cert = ?, client_key = ?, ca_cert = ?, updated_at = ?, "
		"client_secret = coalesce(?9, client_secret), cert_serial = ?10, "
		"cert_expires_at = ?11, profile = ?12, vars = ?13 WHERE client_id = ?8",
	[ST_CFG_SET_CERT] = "UPDATE configs SET client_cert = ?, client_key = NULL, "
		"cert_serial = ?, cert_expires_at = ?, updated_at = ? WHERE client_id = ?",
	[ST_CFG_CERTS] = "SELECT client_id, client_cert FROM configs "
		"WHERE client_cert IS NOT NULL",
	[ST_CFG_CERT_INFO] = "UPDATE configs SET cert_serial = ?, cert_expires_at = ? "
		"WHERE client_id = ?",
	[ST_CFG_SET_CHANNELS] = "UPDATE configs SET channel_ids = ? WHERE client_id = ?",
	/* The state changes, or (no row changed) the config is in that state
	 * already or missing, which ST_CFG_RESTATE tells apart. */
	[ST_CFG_ENABLE] = "UPDATE configs SET enabled = ?1, updated_at = ?2 "
		"WHERE client_id = ?3 AND enabled <> ?1",
	[ST_CFG_RESTATE] = "UPDATE configs SET updated_at = ? WHERE client_id = ?",
	[ST_BOOT_DELETE] = "DELETE FROM bootstraps WHERE config_id = "
		"(SELECT id FROM configs WHERE client_id = ?)",
	[ST_CFG_DELETE] = "DELETE FROM configs WHERE client_id = ? RETURNING enabled",
	[ST_GONE_ADD] = "INSERT OR REPLACE INTO deleted_clients (client_id, deleted_at) "
		"VALUES (?, ?)",
	[ST_GONE_CLEAR] = "DELETE FROM deleted_clients WHERE client_id = ?",
	[ST_GONE_GET] = "SELECT 1 FROM deleted_clients WHERE client_id = ?",
	[ST_KEY_GET] = "SELECT sealed FROM key_check WHERE id = 1",
	[ST_KEY_PUT] = "INSERT INTO key_check (id, sealed) VALUES (1, ?)",
	[ST_KEY_DEL] = "DELETE FROM key_check",
	[ST_CFG_NEXT_EXT] = "SELECT external_id FROM configs WHERE external_id > ? "
		"ORDER BY external_id LIMIT 1",
	[ST_CFG_STATES] = "SELECT enabled, n FROM config_counts",
	[ST_COUNTS_ADD] = "UPDATE config_counts SET n = n + ? WHERE enabled = ?",
	[ST_PRO_INSERT] = "INSERT INTO profiles (id, name, content, channel_ids, vars, "
		"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[ST_PRO_UPDATE] = "UPDATE profiles SET name = ?2, content = ?3, channel_ids = ?4, "
		"vars = ?5, updated_at = ?6 WHERE id = ?1",
	[ST_PRO_GET] = "SELECT id, name, content, channel_ids, vars, created_at, updated_at "
		"FROM profiles WHERE id = ?",
	[ST_PRO_LIST] = "SELECT id, name, content, channel_ids, vars, created_at, updated_at "
		"FROM profiles ORDER BY created_at, id LIMIT ? OFFSET ?",
	[ST_PRO_COUNT] = "SELECT count(*) FROM profiles",
	[ST_PRO_DELETE] = "DELETE FROM profiles WHERE id = ?",
	[ST_PRO_USED] = "SELECT EXISTS (SELECT 1 FROM configs WHERE profile = ?1) "
		"OR EXISTS (SELECT 1 FROM enroll_groups WHERE profile = ?1)",
	[ST_GRP_INSERT] = "INSERT INTO enroll_groups (id, name, profile, channel_ids, enable, "
		"group_key, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
	[ST_GRP_UPDATE] = "UPDATE enroll_groups SET name = ?2, profile = ?3, channel_ids = ?4, "
		"enable = ?5, group_key = coalesce(?6, group_key), updated_at = ?7 WHERE id = ?1",
	[ST_GRP_GET] = "SELECT id, name, profile, channel_ids, enable, created_at, updated_at, "
		"group_key FROM enroll_groups WHERE id = ?",
	[ST_GRP_LIST] = "SELECT id, name, profile, channel_ids, enable, created_at, updated_at, "
		"NULL FROM enroll_groups ORDER BY created_at, id LIMIT ? OFFSET ?",
	[ST_GRP_COUNT] = "SELECT count(*) FROM enroll_groups",
	[ST_GRP_DELETE] = "DELETE FROM enroll_groups WHERE id = ?",
	/* A deleted channel leaves the default channels of profiles and groups,
	 * as it leaves configs. */
	[ST_CH_OUT_OF_PROFILES] = "UPDATE profiles SET channel_ids = trim(replace(char(10) "
		"|| channel_ids || char(10), char(10) || ?1 || char(10), char(10)), char(10)) "
		"WHERE instr(char(10) || channel_ids || char(10), char(10) || ?1 || char(10)) > 0",
	[ST_CH_OUT_OF_GROUPS] = "UPDATE enroll_groups SET channel_ids = trim(replace(char(10) "
		"|| channel_ids || char(10), char(10) || ?1 || char(10), char(10)), char(10)) "
		"WHERE instr(char(10) || channel_ids || char(10), char(10) || ?1 || char(10)) > 0",
	[ST_CFG_SEALED_PAGE] = "SELECT external_id, client_id, client_secret, "
		"external_key, client_key FROM configs WHERE external_id > ?1 "
		"ORDER BY external_id LIMIT ?2",
	[ST_CFG_RESEAL] = "UPDATE configs SET client_secret = ?, external_key = ?, "
		"client_key = ? WHERE external_id = ?",
	[ST_CFG_TOUCH] = "INSERT OR REPLACE INTO bootstraps (config_id, at) VALUES (?, ?)",
};

int bs_lite_fail(lite_t *st, const char *what)
{
	snprintf(st->base.errmsg, sizeof(st->base.errmsg), "%s: %s", what,
			sqlite3_errmsg(st->db));
	return BS_ERR_INTERNAL;
}

sqlite3_stmt *bs_lite_stmt(lite_t *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int bs_lite_done(lite_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return BS_OK;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
		return BS_ERR_CONFLICT;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return BS_ERR_NOT_FOUND;
	return bs_lite_fail(st, what);
}

int bs_lite_change_one(lite_t *st, sqlite3_stmt *s, const char *what)
{
	int rc = bs_lite_done(st, s, what);

	if (rc == BS_OK && sqlite3_changes(st->db) == 0)
		return BS_ERR_NOT_FOUND;
	return rc;
}

int bs_lite_bind_text(sqlite3_stmt *s, int col, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC);
}

void bs_lite_col_copy(sqlite3_stmt *s, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t len = t ? strnlen((const char *)t, size - 1) : 0;

	memcpy(out, t ? (const char *)t : "", len);
	out[len] = '\0';
}

char *bs_lite_col_text(sqlite3_stmt *s, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *copy;

	if (t == NULL)
		return NULL;
	copy = strdup((const char *)t);
	if (copy == NULL)
		*oom = 1;
	return copy;
}

int bs_lite_read_channel(sqlite3_stmt *s, bs_channel_t *out)
{
	int oom = 0;

	out->id = bs_lite_col_text(s, 0, &oom);
	out->name = bs_lite_col_text(s, 1, &oom);
	out->metadata = bs_lite_col_text(s, 2, &oom);
	if (oom) {
		bs_channel_clear(out);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

int bs_lite_count(lite_t *st, sqlite3_stmt *s, long *out, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? BS_OK : bs_lite_fail(st, what);
}

int bs_lite_bind_blob(sqlite3_stmt *s, int col, const bs_blob_t *v)
{
	if (v->data == NULL)
		return sqlite3_bind_null(s, col);
	return sqlite3_bind_blob(s, col, v->data, (int)v->len, SQLITE_STATIC);
}

int bs_lite_col_blob(sqlite3_stmt *s, int col, bs_blob_t *out)
{
	const void *data;

	/* The type first: it must be asked before any conversion, and a
	 * NULL column needs nothing more. */
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return bs_blob_copy(out, NULL, 0);
	data = sqlite3_column_blob(s, col);
	return bs_blob_copy(out, data != NULL ? data : "",
			(size_t)sqlite3_column_bytes(s, col));
}
