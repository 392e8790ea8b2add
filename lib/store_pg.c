/*
 * The PostgreSQL backend: connecting, the session's settings, migrations,
 * preparing the statements, and the function table.
 */
#include "store_pg_int.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const char *const bs_pg_schema_migrations[];
extern const int bs_pg_schema_count;

/* Identity columns (10), ON CONFLICT and WITH ORDINALITY (9.5). */
/* The advisory lock that brokers migrating at once take in turn: any
 * constant of this schema's own ("mosqboot"). */
#define MIGRATION_LOCK "7885359155601272692"
/* How long a broker waits for another one's migration. */
#define MIGRATION_LOCK_WAIT_MS "60000"

void bs_pg_options_init(bs_pg_options_t *opt)
{
	opt->statement_timeout_ms = BS_PG_STATEMENT_TIMEOUT_MS;
	opt->connect_timeout_s = BS_PG_CONNECT_TIMEOUT_S;
}

/* ---- what messages must not show ------------------------------------- */

/* The password as written in a URI (user:password@) or as a keyword's
 * value (password=...), found without libpq: its parser echoes the whole
 * URI when it fails on one. */
static char *written_password(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at = NULL, *colon;

	if (p != NULL) {
		p += 3;
		end = p + strcspn(p, "/?");
		for (const char *c = p; c < end; c++)
			if (*c == '@')
				at = c;
		colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
		return colon ? strndup(colon + 1, (size_t)(at - colon - 1)) : NULL;
	}
	if ((p = strstr(url, "password")) == NULL)
		return NULL;
	p += strlen("password");
	p += strspn(p, " \t");
	if (*p++ != '=')
		return NULL;
	p += strspn(p, " \t");
	if (*p == '\'')
		return strndup(p + 1, strcspn(p + 1, "'"));
	return strndup(p, strcspn(p, " \t"));
}

/* The password libpq reads from url, decoded; NULL for none. */
static char *parsed_password(const char *url)
{
	PQconninfoOption *opts = PQconninfoParse(url, NULL);
	char *pw = NULL;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0])
			pw = strdup(o->val);
	PQconninfoFree(opts);
	return pw;
}

static void hide_url(bs_pg_t *pg, const char *url)
{
	pg->hide[1] = written_password(url);
	pg->hide[2] = parsed_password(url);
	if ((pg->hide[1] && pg->hide[1][0]) || pg->hide[2])
		pg->hide[0] = strdup(url);
}

/* url with its password as ***, for err. */
static void shown_url(const bs_pg_t *pg, const char *url, char *out, size_t size)
{
	bs_pg_t only_password = { .hide = { NULL, pg->hide[1], pg->hide[2] } };

	snprintf(out, size, "%s", url);
	bs_pg_redact(&only_password, out, size);
}

/* ---- the connection -------------------------------------------------- */

static void drop_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The URL's parameters win over the defaults before it (libpq reads the
 * keywords in order), but not over client_encoding, after it: text comes
 * back in binary as its bytes, which must be UTF-8. */
static int connect_db(bs_pg_t *pg, const char *url)
{
	char timeout[16];
	const char *keys[5], *values[5];
	int n = 0;

	keys[n] = "fallback_application_name";
	values[n++] = "mosquitto-bootstrap";
	if (pg->opt.connect_timeout_s > 0) {
		snprintf(timeout, sizeof(timeout), "%d", pg->opt.connect_timeout_s);
		keys[n] = "connect_timeout";
		values[n++] = timeout;
	}
	keys[n] = "dbname";
	values[n++] = url;
	keys[n] = "client_encoding";
	values[n++] = "UTF8";
	keys[n] = values[n] = NULL;
	pg->conn = PQconnectdbParams(keys, values, 1);
	if (pg->conn == NULL)
		return bs_pg_fail(pg, "connect", "out of memory");
	if (PQstatus(pg->conn) != CONNECTION_OK)
		return bs_pg_fail(pg, "connect", NULL);
	/* A library prints nothing: the server's notices (and the goodbye
	 * of a server shutting down) are dropped, failures come back as
	 * results. PQreset keeps it. */
	PQsetNoticeProcessor(pg->conn, drop_notice, NULL);
	return BS_OK;
}

/* One statement outside the table (session set-up, migrations), with
 * text parameters. */
static int exec_once(bs_pg_t *pg, const char *sql, int nparams, const char *const *values,
		PGresult **res, const char *what)
{
	PGresult *r = nparams > 0 || res != NULL
		? PQexecParams(pg->conn, sql, nparams, NULL, values, NULL, NULL, 0)
		: PQexec(pg->conn, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		int rc = bs_pg_fail(pg, what, primary);
		PQclear(r);
		return rc;
	}
	if (res != NULL)
		*res = r;
	else
		PQclear(r);
	return BS_OK;
}

/* ---- migrations ------------------------------------------------------ */

/* The version recorded, 0 for a database without the schema. */
static int read_version(bs_pg_t *pg, int *version)
{
	PGresult *r = NULL;
	int rc = exec_once(pg, "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL,
			&r, "read the schema version");

	*version = 0;
	if (rc == BS_OK && strcmp(PQgetvalue(r, 0, 0), "t") == 0) {
		PQclear(r);
		r = NULL;
		rc = exec_once(pg, "SELECT coalesce(max(version), 0) FROM schema_version", 0,
				NULL, &r, "read the schema version");
		if (rc == BS_OK)
			*version = atoi(PQgetvalue(r, 0, 0));
	}
	PQclear(r);
	return rc;
}

static int apply(bs_pg_t *pg, int i)
{
	char what[32], version[16], at[BS_TIME_LEN];
	const char *values[2] = { version, at };
	int rc;

	snprintf(what, sizeof(what), "migration %03d", i + 1);
	if ((rc = exec_once(pg, bs_pg_schema_migrations[i], 0, NULL, NULL, what)) != BS_OK)
		return rc;
	snprintf(version, sizeof(version), "%d", i + 1);
	bs_time_format(time(NULL), at);
	return exec_once(pg, "INSERT INTO schema_version (version, applied_at) VALUES "
			"($1::integer, $2::text)", 2, values, NULL, what);
}

/*
 * The migrations newer than the database, in one transaction, under an
 * advisory lock that other brokers opening the same database wait for:
 * the one after reads the version the first one committed. No statement
 * timeout inside (a migration of a large table takes what it takes); the
 * wait for the lock is bounded instead.
 */
static int migrate(bs_pg_t *pg)
{
	int version = 0, rc;

	if ((rc = exec_once(pg, "BEGIN", 0, NULL, NULL, "begin migration")) != BS_OK)
		return rc;
	if ((rc = exec_once(pg, "SELECT set_config('statement_timeout', '0', true), "
			"set_config('lock_timeout', '" MIGRATION_LOCK_WAIT_MS "', true)", 0,
			NULL, NULL, "migration timeouts")) != BS_OK
			|| (rc = exec_once(pg, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")",
			0, NULL, NULL, "wait for another broker's migration")) != BS_OK
			|| (rc = read_version(pg, &version)) != BS_OK)
		goto fail;
	if (version > bs_pg_schema_count) {
		char why[96];
		snprintf(why, sizeof(why), "schema version %d is newer than this plugin (%d)",
				version, bs_pg_schema_count);
		rc = bs_pg_fail(pg, "migrate", why);
		goto fail;
	}
	for (int i = version; i < bs_pg_schema_count; i++)
		if ((rc = apply(pg, i)) != BS_OK)
			goto fail;
	return exec_once(pg, "COMMIT", 0, NULL, NULL, "commit migration");
fail:
	PQclear(PQexec(pg->conn, "ROLLBACK"));
	return rc;
}

/* ---- the table ------------------------------------------------------- */

static void pg_close(bs_backend_t *b)
{
	bs_pg_t *pg = (bs_pg_t *)b;

	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg->rows_buf);
	for (size_t i = 0; i < pg->nlistening; i++)
		free(pg->listening[i]);
	for (int i = 0; i < 3; i++) {
		if (pg->hide[i] != NULL)
			explicit_bzero(pg->hide[i], strlen(pg->hide[i]));
		free(pg->hide[i]);
	}
	free(pg);
}

static int pg_schema_version(bs_backend_t *b)
{
	long v = 0;
	int rc = bs_pg_count((bs_pg_t *)b, PG_VERSION, NULL, &v, "read the schema version");

	return rc == BS_OK ? (int)v : rc;
}

static int pg_revive(bs_backend_t *b, int wait)
{
	int rc;

	if (!bs_pg_reconnecting(b) && bs_pg_connected(b))
		return 0;
	rc = wait ? bs_pg_reconnect(b) : bs_pg_reconnect_step(b);
	return rc == BS_OK ? 1 : rc > 0 ? 2 : BS_ERR_INTERNAL;
}

static const bs_backend_ops_t pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.schema_version = pg_schema_version,
	.key_check_get = bs_pg_key_check_get,
	.key_check_put = bs_pg_key_check_put,
	.begin = bs_pg_begin,
	.commit = bs_pg_commit,
	.rollback = bs_pg_rollback,
	.savepoint = bs_pg_savepoint,
	.release = bs_pg_release,
	.rollback_savepoint = bs_pg_rollback_savepoint,
	.in_transaction = bs_pg_in_transaction,
	.revive = pg_revive,
	.channel_insert = bs_pg_channel_insert,
	.channel_get = bs_pg_channel_get,
	.channel_update = bs_pg_channel_update,
	.channel_delete = bs_pg_channel_delete,
	.channel_list = bs_pg_channel_list,
	.channel_count = bs_pg_channel_count,
	.profile_put = bs_pg_profile_put,
	.profile_get = bs_pg_profile_get,
	.profile_delete = bs_pg_profile_delete,
	.profile_list = bs_pg_profile_list,
	.profile_count = bs_pg_profile_count,
	.group_put = bs_pg_group_put,
	.group_get = bs_pg_group_get,
	.group_delete = bs_pg_group_delete,
	.group_list = bs_pg_group_list,
	.group_count = bs_pg_group_count,
	.config_insert = bs_pg_config_insert,
	.config_get = bs_pg_config_get,
	.config_get_devices = bs_pg_config_get_devices,
	.config_list = bs_pg_config_list,
	.config_count = bs_pg_config_count,
	.config_states = bs_pg_config_states,
	.config_set_cert = bs_pg_config_set_cert,
	.config_update = bs_pg_config_update,
	.config_set_enabled = bs_pg_config_set_enabled,
	.config_delete = bs_pg_config_delete,
	.client_deleted = bs_pg_client_deleted,
	.config_touch = bs_pg_config_touch,
	.config_touch_many = bs_pg_config_touch_many,
	.config_next_external_id = bs_pg_config_next_external_id,
	.config_sealed_page = bs_pg_config_sealed_page,
	.config_reseal = bs_pg_config_reseal,
	.config_login_page = bs_pg_config_login_page,
	.deleted_page = bs_pg_deleted_page,
	.config_logins_get = bs_pg_config_logins_get,
	.unknown_put = bs_pg_unknown_put,
	.unknown_delete = bs_pg_unknown_delete,
	.unknown_count = bs_pg_unknown_count,
	.unknown_list = bs_pg_unknown_list,
	.unknown_each = bs_pg_unknown_each,
	.unknown_trim = bs_pg_unknown_trim,
	.nonce_use = bs_pg_nonce_use,
	.rows_read = bs_pg_rows_read,
	.rows_open = bs_pg_rows_open,
	.rows_put = bs_pg_rows_put,
	.rows_close = bs_pg_rows_close,
	.rows_settle = bs_pg_rows_settle,
};

int bs_pg_open_with(const char *url, const bs_pg_options_t *opt,
		bs_backend_t **out, char *err, size_t errlen)
{
	bs_pg_t *pg = calloc(1, sizeof(*pg));
	char shown[256];
	int rc;

	*out = NULL;
	if (pg == NULL || url == NULL) {
		bs_set_err(err, errlen, "db_url: %s", pg ? "none given" : "out of memory");
		free(pg);
		return BS_ERR_INTERNAL;
	}
	pg->base.ops = &pg_ops;
	if (opt != NULL)
		pg->opt = *opt;
	else
		bs_pg_options_init(&pg->opt);
	hide_url(pg, url);
	if ((rc = connect_db(pg, url)) != BS_OK || (rc = bs_pg_set_session(pg)) != BS_OK
			|| (rc = migrate(pg)) != BS_OK || (rc = bs_pg_prepare_all(pg)) != BS_OK) {
		shown_url(pg, url, shown, sizeof(shown));
		bs_set_err(err, errlen, "db_url %s: %s", shown, pg->base.errmsg);
		pg_close(&pg->base);
		return rc;
	}
	*out = &pg->base;
	return BS_OK;
}

int bs_pg_open(const char *url, bs_backend_t **out, char *err, size_t errlen)
{
	return bs_pg_open_with(url, NULL, out, err, errlen);
}

