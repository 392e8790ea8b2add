/*
 * Unit tests of the PostgreSQL backend (lib/store_pg*.c) through its
 * function table (lib/store_backend.h) and lib/store_pg.h, against a
 * throwaway server (test/common/pg_server.c) started once: every test
 * gets a database of its own, made with an ICU en-US collation so that
 * orderings are shown to be bytewise, as SQLite's are, whatever the
 * database's collation.
 */
#define _GNU_SOURCE

#include "cu_main.h"
#include "error.h"
#include "fleet.h"
#include "pg_server.h"
#include "store_backend.h"
#include "store_pg.h"

#include <CUnit/CUnit.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern const int bs_pg_schema_count;

#define T(fn) {#fn, fn}

#define NOW "2026-01-02T03:04:05Z"
#define LATER "2026-02-03T04:05:06Z"
#define LATER_UNIX 1770091506
#define PASSWORD "Secr3t-Pw-9QkLm"
#define EVIL "x'); DROP TABLE configs;--"

static bs_pg_server_t server;
static int server_up;
static bs_backend_t *b;          /* the test's backend, closed by the next */
static char dbname[32];          /* the suite's database */
static char url[256];            /* its URL */
static char err[512];
static int ndb;

/* ---- environment -------------------------------------------------------- */

static int fresh_db(void);

/* Each suite starts on a new database, which its tests empty. */
static int suite_init(void)
{
	if (!server_up && bs_pg_server_start(&server) == 0)
		server_up = 1;
	return server_up && fresh_db() == 0 ? 0 : -1;
}

static void close_backend(void)
{
	if (b != NULL)
		b->ops->close(b);
	b = NULL;
}

static int suite_clean(void)
{
	close_backend();
	return 0;
}

/* A new database, its name in dbname and its URL in url. */
static int fresh_db(void)
{
	snprintf(dbname, sizeof(dbname), "t%d", ++ndb);
	return bs_pg_server_createdb(&server, dbname, "en-US", url, sizeof(url));
}

/* The suite's database opened (migrated when new) and emptied, which is
 * quicker than a new one: most tests start here. */
static void fresh(void)
{
	close_backend();
	CU_ASSERT_FATAL(bs_pg_open(url, &b, err, sizeof(err)) == BS_OK);
	CU_ASSERT_FATAL(bs_pg_server_exec(&server, dbname, "DELETE FROM config_channels; "
			"DELETE FROM bootstraps; DELETE FROM deleted_clients; DELETE FROM configs; "
			"DELETE FROM enroll_groups; DELETE FROM profiles; DELETE FROM channels; "
			"DELETE FROM key_check; DELETE FROM unknown_devices; DELETE FROM used_nonces; "
			"DELETE FROM changes; UPDATE config_counts SET n = 0") == 0);
}

/* A new database, opened, which is then the suite's. */
static void fresh_new(void)
{
	close_backend();
	CU_ASSERT_FATAL(fresh_db() == 0);
	CU_ASSERT_FATAL(bs_pg_open(url, &b, err, sizeof(err)) == BS_OK);
}

/* One value of a query on the test's database, as a number. */
static long sql_long(const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQexec(c, sql);
	long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
		? atol(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	PQfinish(c);
	return v;
}

static bs_blob_t blob(const char *s)
{
	bs_blob_t out = { 0 };

	bs_blob_copy(&out, s, strlen(s));
	return out;
}

static int blob_is(const bs_blob_t *v, const char *s)
{
	return v->data != NULL && v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}

static void channel(const char *id, const char *name, const char *created)
{
	bs_channel_t ch = { .id = (char *)id, .name = (char *)name, .metadata = NULL };

	CU_ASSERT_EQUAL_FATAL(b->ops->channel_insert(b, &ch, created), BS_OK);
}

/* A config with its secrets sealed as "secret-<client_id>" and so on,
 * linked to the channels ids (newline-joined, "" for none). */
static void make_config(bs_config_t *c, bs_config_blobs_t *s, const char *client_id,
		const char *external_id, const char *created, const char *ids)
{
	char v[128];

	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	c->client_id = strdup(client_id);
	c->external_id = strdup(external_id);
	c->name = strdup(client_id);
	c->content = strdup("{\"interval\": 30}");
	snprintf(c->created_at, BS_TIME_LEN, "%s", created);
	snprintf(c->updated_at, BS_TIME_LEN, "%s", created);
	c->channels = calloc(8, sizeof(bs_channel_t));
	for (const char *p = ids; *p != '\0'; ) {
		size_t n = strcspn(p, "\n");
		c->channels[c->nchannels++].id = strndup(p, n);
		p += n + (p[n] == '\n');
	}
	snprintf(v, sizeof(v), "secret-%s", client_id);
	s->secret = blob(v);
	snprintf(v, sizeof(v), "extkey-%s", client_id);
	s->external_key = blob(v);
}

static void clear_config(bs_config_t *c, bs_config_blobs_t *s)
{
	bs_config_clear(c);
	bs_config_blobs_clear(s);
}

/* make_config, inserted. */
static void config(const char *client_id, const char *external_id, const char *created,
		const char *ids, int enabled)
{
	bs_config_t c;
	bs_config_blobs_t s;

	make_config(&c, &s, client_id, external_id, created, ids);
	c.enabled = enabled;
	CU_ASSERT_EQUAL(b->ops->config_insert(b, &c, &s), BS_OK);
	clear_config(&c, &s);
}

static void states_are(long enabled, long disabled)
{
	long e = -1, d = -1;

	CU_ASSERT_EQUAL(b->ops->config_states(b, &e, &d), BS_OK);
	CU_ASSERT_EQUAL(e, enabled);
	CU_ASSERT_EQUAL(d, disabled);
}

static void get_all(const char *client_id, bs_config_t *out, bs_config_blobs_t *s)
{
	CU_ASSERT_EQUAL_FATAL(b->ops->config_get(b, client_id, NULL, BS_VIEW_ALL, out, s),
			BS_OK);
}

/* ---- opening and migrations -------------------------------------------- */

static void test_open_migrates_to_the_last_version(void)
{
	fresh_new();
	CU_ASSERT_STRING_EQUAL(b->ops->name, "postgresql");
	CU_ASSERT_EQUAL(b->ops->schema_version(b), bs_pg_schema_count);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM schema_version"), bs_pg_schema_count);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM config_counts"), 2);
}

static void test_reopen_does_not_migrate_again(void)
{
	bs_backend_t *second = NULL;

	fresh_new();
	CU_ASSERT_EQUAL_FATAL(bs_pg_open(url, &second, err, sizeof(err)), BS_OK);
	CU_ASSERT_EQUAL(second->ops->schema_version(second), bs_pg_schema_count);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM schema_version"), bs_pg_schema_count);
	second->ops->close(second);
}

typedef struct {
	bs_backend_t *b;
	int rc;
	char err[512];
} opener_t;

static void *open_in_thread(void *arg)
{
	opener_t *o = arg;

	o->rc = bs_pg_open(url, &o->b, o->err, sizeof(o->err));
	return NULL;
}

/* Two brokers starting at once on a new database: the advisory lock makes
 * the second wait for the first's migration, then find it done. */
static void test_two_opens_at_once_migrate_once(void)
{
	opener_t o[2] = { { .rc = -100 }, { .rc = -100 } };
	pthread_t t[2];

	close_backend();
	CU_ASSERT_FATAL(fresh_db() == 0);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, open_in_thread, &o[i]) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(o[i].rc, BS_OK);
		if (o[i].rc != BS_OK)
			fprintf(stderr, "open %d: %s\n", i, o[i].err);
		else
			o[i].b->ops->close(o[i].b);
	}
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM schema_version"), bs_pg_schema_count);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM pg_tables WHERE tablename = 'configs'"), 1);
}

static void test_newer_schema_version_is_refused(void)
{
	fresh_new();
	close_backend();
	CU_ASSERT_EQUAL(sql_long("WITH i AS (INSERT INTO schema_version VALUES (999, '" NOW
			"') RETURNING 1) SELECT count(*) FROM i"), 1);
	CU_ASSERT_EQUAL(bs_pg_open(url, &b, err, sizeof(err)), BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer than this plugin"));
	CU_ASSERT_FATAL(fresh_db() == 0);       /* for the tests after */
}

static void test_unreachable_server_fails_with_the_reason(void)
{
	char bad[128];

	close_backend();
	/* Port 1 on loopback: nobody listens there. */
	snprintf(bad, sizeof(bad), "postgresql://bs@127.0.0.1:1/postgres");
	CU_ASSERT_EQUAL(bs_pg_open(bad, &b, err, sizeof(err)), BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "db_url postgresql://bs@127.0.0.1:1/postgres"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "refused"));
}

/* ---- messages ------------------------------------------------------------- */

static void assert_no_password(const char *msg)
{
	CU_ASSERT_PTR_NULL(strstr(msg, PASSWORD));
	CU_ASSERT_PTR_NULL(strstr(msg, "Secr3t"));
	if (strstr(msg, "Secr3t") != NULL)
		fprintf(stderr, "message with the password: %s\n", msg);
}

static void test_messages_never_show_the_password(void)
{
	char u[256];
	bs_group_t g = { .id = "g", .name = "G" };
	/* Each URL is the two texts around the server's port. */
	const char *wrong[][2] = {
		/* a wrong password, which the server refuses */
		{ "postgresql://" BS_PG_PASSWORD_ROLE ":" PASSWORD "x@127.0.0.1:", "/postgres" },
		/* a URI that libpq cannot parse, whose message quotes it whole */
		{ "postgresql://" BS_PG_PASSWORD_ROLE ":" PASSWORD "@[::1:", "/postgres" },
		/* percent-encoded, as a password with an @ must be */
		{ "postgresql://" BS_PG_PASSWORD_ROLE ":Secr3t%40x@127.0.0.1:", "/nodb" },
		{ "host=127.0.0.1 port=", " user=" BS_PG_PASSWORD_ROLE " password='" PASSWORD
			"' dbname=nodb" },
	};

	fresh();
	CU_ASSERT_FATAL(bs_pg_server_exec(&server, NULL, "DO $$ BEGIN CREATE ROLE "
			BS_PG_PASSWORD_ROLE " LOGIN SUPERUSER PASSWORD '" PASSWORD "'; "
			"EXCEPTION WHEN duplicate_object THEN NULL; END $$") == 0);
	close_backend();
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		snprintf(u, sizeof(u), "%s%d%s", wrong[i][0], server.port, wrong[i][1]);
		CU_ASSERT_EQUAL(bs_pg_open(u, &b, err, sizeof(err)), BS_ERR_INTERNAL);
		assert_no_password(err);
	}
	snprintf(u, sizeof(u), "postgresql://" BS_PG_PASSWORD_ROLE ":" PASSWORD
			"@127.0.0.1:%d/%s", server.port, dbname);
	CU_ASSERT_EQUAL_FATAL(bs_pg_open(u, &b, err, sizeof(err)), BS_OK);
	/* A failure of the engine (no key for a new group), then of the
	 * connection. */
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, NULL, 1, NOW), BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(b->errmsg, "insert group"));
	assert_no_password(b->errmsg);
	CU_ASSERT_EQUAL(bs_pg_server_exec(&server, NULL, "SELECT pg_terminate_backend(pid) "
			"FROM pg_stat_activity WHERE usename = '" BS_PG_PASSWORD_ROLE "'"), 0);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &(long){ 0 }), BS_ERR_INTERNAL);
	assert_no_password(b->errmsg);
	CU_ASSERT_EQUAL(bs_pg_reconnect(b), BS_OK);
	close_backend();
}

/* A statement that waits past statement_timeout fails, and the
 * connection stays usable. */
static void test_statement_timeout_cancels_a_wait(void)
{
	bs_pg_options_t opt;
	PGconn *locker;
	PGresult *r;
	bs_channel_t ch = { .id = "c", .name = "C" };
	struct timespec t0, t1;
	long total = -1;

	fresh();
	close_backend();
	bs_pg_options_init(&opt);
	CU_ASSERT_EQUAL(opt.statement_timeout_ms, BS_PG_STATEMENT_TIMEOUT_MS);
	opt.statement_timeout_ms = 200;
	CU_ASSERT_EQUAL_FATAL(bs_pg_open_with(url, &opt, &b, err, sizeof(err)), BS_OK);
	locker = PQconnectdb(url);
	r = PQexec(locker, "BEGIN; LOCK TABLE channels");
	CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(b->ops->channel_insert(b, &ch, NOW), BS_ERR_INTERNAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT_PTR_NOT_NULL(strstr(b->errmsg, "57014"));
	CU_ASSERT(t1.tv_sec - t0.tv_sec < 3);
	PQfinish(locker);
	CU_ASSERT_EQUAL(b->ops->channel_insert(b, &ch, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM pg_stat_activity "
			"WHERE application_name = 'mosquitto-bootstrap'"), 1);
}

static void test_key_check_is_missing_then_replaced(void)
{
	bs_blob_t got = { 0 }, one = blob("check-one"), two = blob("check-two");

	fresh();
	CU_ASSERT_EQUAL(b->ops->key_check_get(b, &got), BS_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NULL(got.data);
	CU_ASSERT_EQUAL(b->ops->key_check_put(b, &one), BS_OK);
	CU_ASSERT_EQUAL(b->ops->key_check_get(b, &got), BS_OK);
	CU_ASSERT(blob_is(&got, "check-one"));
	bs_blob_clear(&got);
	CU_ASSERT_EQUAL(b->ops->key_check_put(b, &two), BS_OK);
	CU_ASSERT_EQUAL(b->ops->key_check_get(b, &got), BS_OK);
	CU_ASSERT(blob_is(&got, "check-two"));
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM key_check"), 1);
	bs_blob_clear(&got);
	bs_blob_clear(&one);
	bs_blob_clear(&two);
}

/* ---- channels ------------------------------------------------------------- */

/* Created at the same second, "B" comes before "a": bytes, not en-US. */
static void test_channel_round_trip_list_order_and_conflict(void)
{
	bs_channel_t ch = { .id = "a", .name = "Again", .metadata = "{\"x\":1}" }, got;
	bs_channel_t *list = NULL;
	size_t n = 0;
	long total = -1;

	fresh();
	channel("a", "Alpha", NOW);
	channel("B", "Beta", NOW);
	channel("0", "Zero", LATER);
	CU_ASSERT_EQUAL(b->ops->channel_insert(b, &ch, NOW), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(b->ops->channel_get(b, "a", &got), BS_OK);
	CU_ASSERT_STRING_EQUAL(got.name, "Alpha");
	CU_ASSERT_STRING_EQUAL(got.metadata, "{}");
	bs_channel_clear(&got);
	CU_ASSERT_EQUAL(b->ops->channel_get(b, "A", &got), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->channel_list(b, 0, 10, &list, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(list[0].id, "B");
	CU_ASSERT_STRING_EQUAL(list[1].id, "a");
	CU_ASSERT_STRING_EQUAL(list[2].id, "0");
	for (size_t i = 0; i < n; i++)
		bs_channel_clear(&list[i]);
	free(list);
	CU_ASSERT_EQUAL(b->ops->channel_list(b, 1, 1, &list, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(list[0].id, "a");
	bs_channel_clear(&list[0]);
	free(list);
	CU_ASSERT_EQUAL(b->ops->channel_list(b, 5, 10, &list, &n), BS_OK);
	CU_ASSERT_EQUAL(n, 0);
	free(list);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 3);
}

static void test_channel_update_and_missing_one(void)
{
	bs_channel_t ch = { .id = "a", .name = "Renamed", .metadata = "{\"unit\":\"C\"}" }, got;

	fresh();
	channel("a", "Alpha", NOW);
	CU_ASSERT_EQUAL(b->ops->channel_update(b, &ch, LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->channel_get(b, "a", &got), BS_OK);
	CU_ASSERT_STRING_EQUAL(got.name, "Renamed");
	CU_ASSERT_STRING_EQUAL(got.metadata, "{\"unit\":\"C\"}");
	bs_channel_clear(&got);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM channels WHERE updated_at = '"
			LATER "' AND created_at = '" NOW "'"), 1);
	ch.id = "nope";
	CU_ASSERT_EQUAL(b->ops->channel_update(b, &ch, LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->channel_delete(b, "nope", LATER), BS_ERR_NOT_FOUND);
}

/* Deleting y: the config keeps x and z in order with updated_at now, the
 * profile and the group lose it, a config that did not have it is left
 * as it was. */
static void test_channel_delete_leaves_configs_profiles_and_groups(void)
{
	bs_profile_t p = { .id = "p", .name = "P", .channel_ids = "x\ny", .vars = "{}" };
	bs_group_t g = { .id = "g", .name = "G", .channel_ids = "y" }, gg;
	bs_blob_t key = blob("sealed-group-key");
	bs_config_t c;
	bs_config_blobs_t s;
	bs_profile_t pp;

	fresh();
	channel("x", "X", NOW);
	channel("y", "Y", NOW);
	channel("z", "Z", NOW);
	config("c1", "e1", NOW, "x\ny\nz", 1);
	config("c2", "e2", NOW, "x", 1);
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 1, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, &key, 1, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->channel_delete(b, "y", LATER), BS_OK);
	get_all("c1", &c, &s);
	CU_ASSERT_STRING_EQUAL(c.channel_ids, "x\nz");
	CU_ASSERT_STRING_EQUAL(c.updated_at, LATER);
	clear_config(&c, &s);
	get_all("c2", &c, &s);
	CU_ASSERT_STRING_EQUAL(c.updated_at, NOW);
	clear_config(&c, &s);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM config_channels WHERE channel_id = 'y'"), 0);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM config_channels"), 3);
	CU_ASSERT_EQUAL(b->ops->profile_get(b, "p", &pp), BS_OK);
	CU_ASSERT_STRING_EQUAL(pp.channel_ids, "x");
	bs_profile_clear(&pp);
	CU_ASSERT_EQUAL(b->ops->group_get(b, "g", &gg, NULL), BS_OK);
	CU_ASSERT_STRING_EQUAL(gg.channel_ids, "");
	bs_group_clear(&gg);
	CU_ASSERT_EQUAL(b->ops->channel_get(b, "y", &(bs_channel_t){ 0 }), BS_ERR_NOT_FOUND);
	/* A config naming the deleted channel is refused. */
	make_config(&c, &s, "c3", "e3", NOW, "y");
	CU_ASSERT_EQUAL(b->ops->config_insert(b, &c, &s), BS_ERR_NOT_FOUND);
	clear_config(&c, &s);
	bs_blob_clear(&key);
}

/* ---- configs -------------------------------------------------------------- */

/* Every column of a config, with a client_key, a certificate and a
 * profile, as each view reads it. */
static void full_config(void)
{
	bs_profile_t p = { .id = "prof", .name = "Prof", .content = "{{name}}", .vars = "{}" };
	bs_config_t c;
	bs_config_blobs_t s;

	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 1, NOW), BS_OK);
	channel("t", "T", NOW);
	channel("u", "U", NOW);
	make_config(&c, &s, "dev-1", "00:1A", NOW, "u\nt");
	s.client_key = blob("clientkey-dev-1");
	c.client_cert = strdup("CERT");
	c.ca_cert = strdup("CA");
	snprintf(c.cert_serial, sizeof(c.cert_serial), "0a1b");
	snprintf(c.cert_expires_at, BS_TIME_LEN, LATER);
	c.profile = strdup("prof");
	c.vars = strdup("{\"site\":\"p1\"}");
	c.group = strdup("grp");
	c.enabled = 1;
	snprintf(c.updated_at, BS_TIME_LEN, LATER);
	CU_ASSERT_EQUAL_FATAL(b->ops->config_insert(b, &c, &s), BS_OK);
	clear_config(&c, &s);
}

static void test_config_get_all_by_either_key(void)
{
	bs_config_t c;
	bs_config_blobs_t s;

	fresh();
	full_config();
	for (int by_ext = 0; by_ext < 2; by_ext++) {
		CU_ASSERT_EQUAL_FATAL(b->ops->config_get(b, by_ext ? NULL : "dev-1",
				by_ext ? "00:1A" : NULL, BS_VIEW_ALL, &c, &s), BS_OK);
		CU_ASSERT(c.id > 0);
		CU_ASSERT_STRING_EQUAL(c.client_id, "dev-1");
		CU_ASSERT_STRING_EQUAL(c.external_id, "00:1A");
		CU_ASSERT_STRING_EQUAL(c.name, "dev-1");
		CU_ASSERT_STRING_EQUAL(c.content, "{\"interval\": 30}");
		CU_ASSERT_STRING_EQUAL(c.client_cert, "CERT");
		CU_ASSERT_STRING_EQUAL(c.ca_cert, "CA");
		CU_ASSERT_STRING_EQUAL(c.cert_serial, "0a1b");
		CU_ASSERT_STRING_EQUAL(c.cert_expires_at, LATER);
		CU_ASSERT_STRING_EQUAL(c.created_at, NOW);
		CU_ASSERT_STRING_EQUAL(c.updated_at, LATER);
		CU_ASSERT_STRING_EQUAL(c.last_bootstrap_at, "");
		CU_ASSERT_STRING_EQUAL(c.channel_ids, "u\nt");
		CU_ASSERT_STRING_EQUAL(c.profile, "prof");
		CU_ASSERT_STRING_EQUAL(c.vars, "{\"site\":\"p1\"}");
		CU_ASSERT_STRING_EQUAL(c.group, "grp");
		CU_ASSERT_EQUAL(c.enabled, 1);
		CU_ASSERT_EQUAL(c.has_client_key, 1);
		/* The secrets stay sealed, in sealed only. */
		CU_ASSERT_PTR_NULL(c.client_secret);
		CU_ASSERT_PTR_NULL(c.external_key);
		CU_ASSERT_PTR_NULL(c.client_key);
		CU_ASSERT(blob_is(&s.secret, "secret-dev-1"));
		CU_ASSERT(blob_is(&s.external_key, "extkey-dev-1"));
		CU_ASSERT(blob_is(&s.client_key, "clientkey-dev-1"));
		clear_config(&c, &s);
	}
	CU_ASSERT_EQUAL(sql_long("SELECT position FROM config_channels WHERE channel_id = 't'"), 1);
	CU_ASSERT_EQUAL(b->ops->config_get(b, "dev-2", NULL, BS_VIEW_ALL, &c, NULL),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->config_get(b, NULL, "00:1a", BS_VIEW_DEVICE, &c, NULL),
			BS_ERR_NOT_FOUND);
	/* sealed may be NULL. */
	CU_ASSERT_EQUAL(b->ops->config_get(b, "dev-1", NULL, BS_VIEW_ALL, &c, NULL), BS_OK);
	bs_config_clear(&c);
}

static void test_config_device_and_login_views_fill_what_they_say(void)
{
	bs_config_t c;
	bs_config_blobs_t s;

	fresh();
	full_config();
	config("plain", "00:2B", NOW, "t", 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->config_get(b, NULL, "00:1A", BS_VIEW_DEVICE, &c, &s),
			BS_OK);
	CU_ASSERT(c.id > 0);
	CU_ASSERT_STRING_EQUAL(c.client_id, "dev-1");
	CU_ASSERT_STRING_EQUAL(c.content, "{\"interval\": 30}");
	CU_ASSERT_STRING_EQUAL(c.client_cert, "CERT");
	CU_ASSERT_STRING_EQUAL(c.ca_cert, "CA");
	CU_ASSERT_STRING_EQUAL(c.channel_ids, "u\nt");
	CU_ASSERT_STRING_EQUAL(c.profile, "prof");
	CU_ASSERT_STRING_EQUAL(c.vars, "{\"site\":\"p1\"}");
	/* a profile: name and external_id for its template */
	CU_ASSERT_STRING_EQUAL(c.name, "dev-1");
	CU_ASSERT_STRING_EQUAL(c.external_id, "00:1A");
	CU_ASSERT_EQUAL(c.enabled, 1);
	CU_ASSERT_EQUAL(c.has_client_key, 1);
	CU_ASSERT_STRING_EQUAL(c.created_at, "");
	CU_ASSERT_STRING_EQUAL(c.cert_serial, "");
	CU_ASSERT_PTR_NULL(c.group);
	CU_ASSERT(blob_is(&s.secret, "secret-dev-1"));
	CU_ASSERT(blob_is(&s.external_key, "extkey-dev-1"));
	CU_ASSERT(blob_is(&s.client_key, "clientkey-dev-1"));
	clear_config(&c, &s);
	CU_ASSERT_EQUAL_FATAL(b->ops->config_get(b, NULL, "00:2B", BS_VIEW_DEVICE, &c, &s),
			BS_OK);
	CU_ASSERT_PTR_NULL(c.name);
	CU_ASSERT_PTR_NULL(c.external_id);
	CU_ASSERT_EQUAL(c.has_client_key, 0);
	CU_ASSERT_PTR_NULL(s.client_key.data);
	clear_config(&c, &s);
	CU_ASSERT_EQUAL_FATAL(b->ops->config_get(b, "dev-1", NULL, BS_VIEW_LOGIN, &c, &s),
			BS_OK);
	CU_ASSERT_STRING_EQUAL(c.client_id, "dev-1");
	CU_ASSERT_STRING_EQUAL(c.client_cert, "CERT");
	CU_ASSERT_STRING_EQUAL(c.channel_ids, "u\nt");
	CU_ASSERT_EQUAL(c.enabled, 1);
	CU_ASSERT(blob_is(&s.secret, "secret-dev-1"));
	CU_ASSERT_PTR_NULL(s.external_key.data);
	CU_ASSERT_PTR_NULL(c.name);
	CU_ASSERT_PTR_NULL(c.content);
	CU_ASSERT_PTR_NULL(c.ca_cert);
	CU_ASSERT_PTR_NULL(c.profile);
	clear_config(&c, &s);
}

/* Neither a taken client_id nor a taken external_id nor a missing
 * channel stores anything, and none of them spoils the transaction:
 * the admin's next lookup in it works. */
static void test_config_conflicts_and_missing_channel(void)
{
	bs_config_t c, got;
	bs_config_blobs_t s;

	fresh();
	channel("t", "T", NOW);
	config("dev-1", "00:1A", NOW, "t", 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->savepoint(b), BS_OK);
	make_config(&c, &s, "dev-1", "00:FF", NOW, "t");
	CU_ASSERT_EQUAL(b->ops->config_insert(b, &c, &s), BS_ERR_CONFLICT);
	clear_config(&c, &s);
	CU_ASSERT_EQUAL(b->ops->config_get(b, "dev-1", NULL, BS_VIEW_ALL, &got, NULL), BS_OK);
	bs_config_clear(&got);
	make_config(&c, &s, "dev-2", "00:1A", NOW, "t");
	CU_ASSERT_EQUAL(b->ops->config_insert(b, &c, &s), BS_ERR_CONFLICT);
	clear_config(&c, &s);
	make_config(&c, &s, "dev-3", "00:3C", NOW, "t\nnope");
	CU_ASSERT_EQUAL(b->ops->config_insert(b, &c, &s), BS_ERR_NOT_FOUND);
	clear_config(&c, &s);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 1);
	CU_ASSERT_EQUAL(b->ops->config_get(b, "dev-3", NULL, BS_VIEW_ALL, &got, NULL),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->release(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_OK);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM configs"), 1);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM config_channels"), 1);
	states_are(0, 1);
}

static void test_sql_metacharacters_are_stored_verbatim(void)
{
	bs_config_t c;
	bs_config_blobs_t s;

	fresh();
	channel(EVIL, EVIL, NOW);
	config(EVIL, EVIL, NOW, EVIL, 0);
	get_all(EVIL, &c, &s);
	CU_ASSERT_STRING_EQUAL(c.external_id, EVIL);
	CU_ASSERT_STRING_EQUAL(c.channel_ids, EVIL);
	clear_config(&c, &s);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM configs"), 1);
}

/* The page of configs matching f, as client_ids joined by spaces. */
static void list_is(const bs_config_filter_t *f, long offset, long limit, const char *want)
{
	bs_config_t out[16];
	bs_config_blobs_t sealed[16];
	char got[256] = "";
	size_t n = 0;
	long total = -1;

	memset(out, 0, sizeof(out));
	memset(sealed, 0, sizeof(sealed));
	CU_ASSERT_EQUAL_FATAL(b->ops->config_list(b, f, offset, limit, out, sealed, &n), BS_OK);
	for (size_t i = 0; i < n; i++) {
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
				out[i].client_id);
		CU_ASSERT(sealed[i].secret.data != NULL);
		CU_ASSERT_STRING_NOT_EQUAL(out[i].created_at, "");
		clear_config(&out[i], &sealed[i]);
	}
	CU_ASSERT_STRING_EQUAL(got, want);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "list: got \"%s\", want \"%s\"\n", got, want);
	if (offset == 0 && limit >= 16) {
		CU_ASSERT_EQUAL(b->ops->config_count(b, f, &total), BS_OK);
		CU_ASSERT_EQUAL((size_t)total, n);
	}
}

static void set_name_and_expiry(const char *client_id, const char *name, const char *expires)
{
	bs_config_t c;
	bs_config_blobs_t s;

	get_all(client_id, &c, &s);
	free(c.name);
	c.name = strdup(name);
	if (expires != NULL) {
		snprintf(c.cert_expires_at, BS_TIME_LEN, "%s", expires);
		snprintf(c.cert_serial, sizeof(c.cert_serial), "01");
	}
	CU_ASSERT_EQUAL(b->ops->config_update(b, &c, &s, 0), BS_OK);
	clear_config(&c, &s);
}

/* created_at then client_id, bytewise; name is a substring folded for
 * ASCII only, as SQLite's lower() folds. */
static void test_config_list_orders_filters_and_pages(void)
{
	bs_config_filter_t all = { .enabled = -1 }, f;

	fresh();
	config("b", "e5", NOW, "", 1);
	config("a", "e4", NOW, "", 0);
	config("C", "e3", NOW, "", 1);
	config("0", "e2", LATER, "", 0);
	config("aa", "e1", "2025-12-31T00:00:00Z", "", 1);
	set_name_and_expiry("a", "Boiler ROOM", "2026-03-01T00:00:00Z");
	set_name_and_expiry("b", "Café ÉLAN", "2026-05-01T00:00:00Z");
	set_name_and_expiry("C", "room 2", NULL);
	list_is(&all, 0, 16, "aa C a b 0");
	list_is(&all, 1, 2, "C a");
	list_is(&all, 4, 16, "0");
	list_is(&all, 5, 16, "");
	list_is(NULL, 0, 16, "aa C a b 0");
	f = all;
	f.enabled = 1;
	list_is(&f, 0, 16, "aa C b");
	f.enabled = 0;
	list_is(&f, 0, 16, "a 0");
	f = all;
	f.name = "rOoM";
	list_is(&f, 0, 16, "C a");
	f.name = "Élan";
	list_is(&f, 0, 16, "b");
	f.name = "élan";            /* É is not folded, as in SQLite */
	list_is(&f, 0, 16, "");
	f.name = "";
	list_is(&f, 0, 16, "aa C a b 0");
	f = all;
	f.external_id = "e3";
	list_is(&f, 0, 16, "C");
	f.external_id = "E3";
	list_is(&f, 0, 16, "");
	f = all;
	f.cert_expires_before = "2026-04-01T00:00:00Z";
	list_is(&f, 0, 16, "a");
	f.cert_expires_before = "2027-01-01T00:00:00Z";
	f.enabled = 1;
	list_is(&f, 0, 16, "b");
}

static void test_config_states_follow_writes_and_rollbacks(void)
{
	fresh();
	states_are(0, 0);
	config("a", "e1", NOW, "", 1);
	config("b", "e2", NOW, "", 0);
	config("c", "e3", NOW, "", 0);
	states_are(1, 2);
	CU_ASSERT_EQUAL(b->ops->config_set_enabled(b, "b", 1, LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->config_set_enabled(b, "b", 1, LATER), BS_OK);
	states_are(2, 1);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "a", LATER), BS_OK);
	states_are(1, 1);
	/* A transaction's changes count at its commit, not before, and not at
	 * all when rolled back, the savepoint's alone included. */
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	config("d", "e4", NOW, "", 1);
	CU_ASSERT_EQUAL(b->ops->savepoint(b), BS_OK);
	config("e", "e5", NOW, "", 1);
	CU_ASSERT_EQUAL(b->ops->config_set_enabled(b, "c", 1, LATER), BS_OK);
	b->ops->rollback_savepoint(b);
	CU_ASSERT_EQUAL(b->ops->savepoint(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "b", LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->release(b), BS_OK);
	CU_ASSERT_EQUAL(sql_long("SELECT n FROM config_counts WHERE enabled"), 1);
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_OK);
	states_are(1, 1);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	config("f", "e6", NOW, "", 0);
	b->ops->rollback(b);
	states_are(1, 1);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM configs WHERE enabled"), 1);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM configs WHERE NOT enabled"), 1);
}

static void test_config_update_keeps_the_secret_when_none_is_given(void)
{
	bs_config_t c;
	bs_config_blobs_t s;

	fresh();
	channel("t", "T", NOW);
	channel("u", "U", NOW);
	config("dev", "00:1A", NOW, "t", 1);
	get_all("dev", &c, &s);
	free(c.content);
	c.content = strdup("new content");
	c.client_cert = strdup("CERT");
	snprintf(c.updated_at, BS_TIME_LEN, LATER);
	bs_blob_clear(&s.secret);
	bs_blob_clear(&s.external_key);
	s.external_key = blob("extkey-new");
	s.client_key = blob("clientkey-new");
	CU_ASSERT_EQUAL(b->ops->config_update(b, &c, &s, 0), BS_OK);
	clear_config(&c, &s);
	get_all("dev", &c, &s);
	CU_ASSERT_STRING_EQUAL(c.content, "new content");
	CU_ASSERT_STRING_EQUAL(c.client_cert, "CERT");
	CU_ASSERT_STRING_EQUAL(c.updated_at, LATER);
	CU_ASSERT_STRING_EQUAL(c.created_at, NOW);
	CU_ASSERT_STRING_EQUAL(c.channel_ids, "t");
	CU_ASSERT(blob_is(&s.secret, "secret-dev"));
	CU_ASSERT(blob_is(&s.external_key, "extkey-new"));
	CU_ASSERT(blob_is(&s.client_key, "clientkey-new"));
	/* A new secret, and new links in the order given. */
	bs_blob_clear(&s.secret);
	s.secret = blob("secret-new");
	c.channels = calloc(2, sizeof(bs_channel_t));
	c.channels[0].id = strdup("u");
	c.channels[1].id = strdup("t");
	c.nchannels = 2;
	CU_ASSERT_EQUAL(b->ops->config_update(b, &c, &s, 1), BS_OK);
	clear_config(&c, &s);
	get_all("dev", &c, &s);
	CU_ASSERT(blob_is(&s.secret, "secret-new"));
	CU_ASSERT_STRING_EQUAL(c.channel_ids, "u\nt");
	CU_ASSERT_EQUAL(sql_long("SELECT position FROM config_channels WHERE channel_id = 'u'"), 0);
	clear_config(&c, &s);
	states_are(1, 0);
}

static void test_config_update_missing_channel_or_config_changes_nothing(void)
{
	bs_config_t c;
	bs_config_blobs_t s;

	fresh();
	channel("t", "T", NOW);
	config("dev", "00:1A", NOW, "t", 0);
	get_all("dev", &c, &s);
	free(c.content);
	c.content = strdup("changed");
	c.channels = calloc(1, sizeof(bs_channel_t));
	c.channels[0].id = strdup("nope");
	c.nchannels = 1;
	CU_ASSERT_EQUAL(b->ops->config_update(b, &c, &s, 1), BS_ERR_NOT_FOUND);
	free(c.client_id);
	c.client_id = strdup("other");
	CU_ASSERT_EQUAL(b->ops->config_update(b, &c, &s, 0), BS_ERR_NOT_FOUND);
	clear_config(&c, &s);
	get_all("dev", &c, &s);
	CU_ASSERT_STRING_EQUAL(c.content, "{\"interval\": 30}");
	CU_ASSERT_STRING_EQUAL(c.channel_ids, "t");
	clear_config(&c, &s);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM config_channels"), 1);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
}

static void test_config_set_cert_drops_the_client_key(void)
{
	bs_config_t c, got;
	bs_config_blobs_t s;

	fresh();
	make_config(&c, &s, "dev", "00:1A", NOW, "");
	s.client_key = blob("clientkey");
	CU_ASSERT_EQUAL_FATAL(b->ops->config_insert(b, &c, &s), BS_OK);
	c.client_cert = strdup("ISSUED");
	snprintf(c.cert_serial, sizeof(c.cert_serial), "abcd");
	snprintf(c.cert_expires_at, BS_TIME_LEN, LATER);
	CU_ASSERT_EQUAL(b->ops->config_set_cert(b, &c, LATER), BS_OK);
	get_all("dev", &got, NULL);
	CU_ASSERT_STRING_EQUAL(got.client_cert, "ISSUED");
	CU_ASSERT_STRING_EQUAL(got.cert_serial, "abcd");
	CU_ASSERT_STRING_EQUAL(got.cert_expires_at, LATER);
	CU_ASSERT_STRING_EQUAL(got.updated_at, LATER);
	CU_ASSERT_EQUAL(got.has_client_key, 0);
	bs_config_clear(&got);
	free(c.client_id);
	c.client_id = strdup("other");
	CU_ASSERT_EQUAL(b->ops->config_set_cert(b, &c, LATER), BS_ERR_NOT_FOUND);
	clear_config(&c, &s);
}

static void test_config_set_enabled_and_missing_one(void)
{
	bs_config_t c;

	fresh();
	config("dev", "00:1A", NOW, "", 0);
	CU_ASSERT_EQUAL(b->ops->config_set_enabled(b, "nope", 1, LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->config_set_enabled(b, "dev", 0, LATER), BS_OK);
	get_all("dev", &c, NULL);
	CU_ASSERT_EQUAL(c.enabled, 0);
	CU_ASSERT_STRING_EQUAL(c.updated_at, LATER);
	bs_config_clear(&c);
	CU_ASSERT_EQUAL(b->ops->config_set_enabled(b, "dev", 1, "2026-03-01T00:00:00Z"), BS_OK);
	get_all("dev", &c, NULL);
	CU_ASSERT_EQUAL(c.enabled, 1);
	CU_ASSERT_STRING_EQUAL(c.updated_at, "2026-03-01T00:00:00Z");
	bs_config_clear(&c);
	states_are(1, 0);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "nope", LATER), BS_ERR_NOT_FOUND);
}

/* A touch records the latest time, the deletion forgets it and
 * remembers the client_id until a config has it again. */
static void test_config_touch_delete_and_client_deleted(void)
{
	bs_config_t c;
	int64_t id;

	fresh();
	config("dev", "00:1A", NOW, "", 1);
	get_all("dev", &c, NULL);
	id = c.id;
	bs_config_clear(&c);
	CU_ASSERT_EQUAL(b->ops->config_touch(b, id, LATER_UNIX), BS_OK);
	CU_ASSERT_EQUAL(b->ops->config_touch(b, id, LATER_UNIX - 60), BS_OK);
	CU_ASSERT_EQUAL(b->ops->config_touch(b, id + 1000, LATER_UNIX), BS_OK);
	get_all("dev", &c, NULL);
	CU_ASSERT_STRING_EQUAL(c.last_bootstrap_at, LATER);
	bs_config_clear(&c);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM bootstraps"), 1);
	CU_ASSERT_EQUAL(b->ops->client_deleted(b, "dev"), 0);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "dev", LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->config_get(b, "dev", NULL, BS_VIEW_ALL, &c, NULL),
			BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->client_deleted(b, "dev"), 1);
	CU_ASSERT_EQUAL(b->ops->client_deleted(b, "other"), 0);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM bootstraps"), 0);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "dev", LATER), BS_ERR_NOT_FOUND);
	config("dev", "00:1A", LATER, "", 0);
	CU_ASSERT_EQUAL(b->ops->client_deleted(b, "dev"), 0);
	get_all("dev", &c, NULL);
	CU_ASSERT(c.id != id);
	CU_ASSERT_STRING_EQUAL(c.last_bootstrap_at, "");
	bs_config_clear(&c);
	states_are(0, 1);
}

static void test_next_external_id_walks_in_order(void)
{
	char *id = NULL;

	fresh();
	CU_ASSERT_EQUAL(b->ops->config_next_external_id(b, "", &id), BS_ERR_NOT_FOUND);
	config("c1", "b", NOW, "", 0);
	config("c2", "B", NOW, "", 0);
	config("c3", "a", NOW, "", 0);
	CU_ASSERT_EQUAL(b->ops->config_next_external_id(b, "", &id), BS_OK);
	CU_ASSERT_STRING_EQUAL(id, "B");
	free(id);
	CU_ASSERT_EQUAL(b->ops->config_next_external_id(b, NULL, &id), BS_OK);
	CU_ASSERT_STRING_EQUAL(id, "B");
	free(id);
	CU_ASSERT_EQUAL(b->ops->config_next_external_id(b, "B", &id), BS_OK);
	CU_ASSERT_STRING_EQUAL(id, "a");
	free(id);
	CU_ASSERT_EQUAL(b->ops->config_next_external_id(b, "a", &id), BS_OK);
	CU_ASSERT_STRING_EQUAL(id, "b");
	free(id);
	id = NULL;
	CU_ASSERT_EQUAL(b->ops->config_next_external_id(b, "b", &id), BS_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NULL(id);
}

static void test_sealed_pages_and_reseal(void)
{
	bs_sealed_row_t rows[2];
	bs_config_blobs_t s = { 0 };
	bs_config_t c;
	size_t n = 0;

	fresh();
	config("c1", "e3", NOW, "", 0);
	config("c2", "e1", NOW, "", 0);
	config("c3", "e2", NOW, "", 0);
	memset(rows, 0, sizeof(rows));
	CU_ASSERT_EQUAL_FATAL(b->ops->config_sealed_page(b, "", rows, 2, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(rows[0].external_id, "e1");
	CU_ASSERT_STRING_EQUAL(rows[0].client_id, "c2");
	CU_ASSERT(blob_is(&rows[0].blobs.secret, "secret-c2"));
	CU_ASSERT(blob_is(&rows[0].blobs.external_key, "extkey-c2"));
	CU_ASSERT_PTR_NULL(rows[0].blobs.client_key.data);
	CU_ASSERT_STRING_EQUAL(rows[1].external_id, "e2");
	for (size_t i = 0; i < n; i++) {
		free(rows[i].external_id);
		free(rows[i].client_id);
		bs_config_blobs_clear(&rows[i].blobs);
	}
	CU_ASSERT_EQUAL_FATAL(b->ops->config_sealed_page(b, "e2", rows, 2, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(rows[0].external_id, "e3");
	free(rows[0].external_id);
	free(rows[0].client_id);
	bs_config_blobs_clear(&rows[0].blobs);
	CU_ASSERT_EQUAL(b->ops->config_sealed_page(b, "e3", rows, 2, &n), BS_OK);
	CU_ASSERT_EQUAL(n, 0);
	s.secret = blob("resealed-secret");
	s.external_key = blob("resealed-extkey");
	s.client_key = blob("resealed-clientkey");
	CU_ASSERT_EQUAL(b->ops->config_reseal(b, "e1", &s), BS_OK);
	CU_ASSERT_EQUAL(b->ops->config_reseal(b, "e9", &s), BS_ERR_NOT_FOUND);
	bs_config_blobs_clear(&s);
	get_all("c2", &c, &s);
	CU_ASSERT(blob_is(&s.secret, "resealed-secret"));
	CU_ASSERT(blob_is(&s.external_key, "resealed-extkey"));
	CU_ASSERT(blob_is(&s.client_key, "resealed-clientkey"));
	CU_ASSERT_EQUAL(c.has_client_key, 1);
	clear_config(&c, &s);
}

/* The login replica's reads (lib/logins.h): login views a page at a time
 * by client_id (bytewise), and the deleted client_ids the same way. */
static void test_login_and_deleted_pages_walk_by_client_id(void)
{
	bs_config_t out[2];
	bs_config_blobs_t s[2];
	char *ids[2];
	size_t n = 9;

	fresh();
	channel("ch1", "One", NOW);
	config("b", "e1", NOW, "ch1", 1);
	config("B", "e2", NOW, "", 0);
	config("a", "e3", NOW, "", 1);
	config("gone", "e4", NOW, "", 1);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "gone", LATER), BS_OK);
	memset(out, 0, sizeof(out));
	memset(s, 0, sizeof(s));
	CU_ASSERT_EQUAL_FATAL(b->ops->config_login_page(b, "", 2, out, s, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(out[0].client_id, "B");
	CU_ASSERT_EQUAL(out[0].enabled, 0);
	CU_ASSERT(blob_is(&s[0].secret, "secret-B"));
	CU_ASSERT_PTR_NULL(out[0].name);
	CU_ASSERT_STRING_EQUAL(out[1].client_id, "a");
	for (size_t i = 0; i < n; i++)
		clear_config(&out[i], &s[i]);
	memset(out, 0, sizeof(out));
	memset(s, 0, sizeof(s));
	CU_ASSERT_EQUAL_FATAL(b->ops->config_login_page(b, "a", 2, out, s, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(out[0].client_id, "b");
	CU_ASSERT_STRING_EQUAL(out[0].channel_ids, "ch1");
	CU_ASSERT_EQUAL(out[0].enabled, 1);
	clear_config(&out[0], &s[0]);
	CU_ASSERT_EQUAL(b->ops->config_login_page(b, "b", 2, out, s, &n), BS_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->deleted_page(b, "", 2, ids, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(ids[0], "gone");
	free(ids[0]);
	CU_ASSERT_EQUAL(b->ops->deleted_page(b, "gone", 2, ids, &n), BS_OK);
	CU_ASSERT_EQUAL(n, 0);
}

/* Several login views in two statements, each in its place. */
static void test_several_logins_are_read_together(void)
{
	const char *ids[4] = { "b", "nobody", "gone", "x\"y" };
	bs_config_t out[4];
	bs_config_blobs_t s[4];
	int found[4], deleted[4];

	fresh();
	config("b", "e1", NOW, "", 1);
	config("x\"y", "e2", NOW, "", 0);
	config("gone", "e3", NOW, "", 1);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "gone", LATER), BS_OK);
	memset(out, 0, sizeof(out));
	memset(s, 0, sizeof(s));
	CU_ASSERT_EQUAL_FATAL(b->ops->config_logins_get(b, ids, 4, out, s, found, deleted),
			BS_OK);
	CU_ASSERT(found[0] && !deleted[0]);
	CU_ASSERT_STRING_EQUAL(out[0].client_id, "b");
	CU_ASSERT(blob_is(&s[0].secret, "secret-b"));
	CU_ASSERT(!found[1] && !deleted[1]);
	CU_ASSERT(!found[2] && deleted[2]);
	CU_ASSERT(found[3] && out[3].enabled == 0);
	CU_ASSERT_STRING_EQUAL(out[3].client_id, "x\"y");
	for (size_t i = 0; i < 4; i++)
		clear_config(&out[i], &s[i]);
}

/* ---- profiles and groups -------------------------------------------------- */

static void test_profiles_put_get_list_and_delete(void)
{
	bs_profile_t p = { .id = "p2", .name = "Two", .content = "{{external_id}}",
		.channel_ids = "t", .vars = "{\"a\":\"1\"}" }, got, *list = NULL;
	size_t n = 0;
	long total = -1;

	fresh();
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 1, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 1, NOW), BS_ERR_CONFLICT);
	p.id = "P1";
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 1, NOW), BS_OK);
	p.id = "p2";
	p.name = "Renamed";
	p.vars = NULL;
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 0, LATER), BS_OK);
	p.id = "p9";
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 0, LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(b->ops->profile_get(b, "p2", &got), BS_OK);
	CU_ASSERT_STRING_EQUAL(got.name, "Renamed");
	CU_ASSERT_STRING_EQUAL(got.content, "{{external_id}}");
	CU_ASSERT_STRING_EQUAL(got.channel_ids, "t");
	CU_ASSERT_STRING_EQUAL(got.vars, "{}");
	CU_ASSERT_STRING_EQUAL(got.created_at, NOW);
	CU_ASSERT_STRING_EQUAL(got.updated_at, LATER);
	bs_profile_clear(&got);
	CU_ASSERT_EQUAL(b->ops->profile_get(b, "p9", &got), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(b->ops->profile_list(b, 0, 10, &list, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0].id, "P1");
	CU_ASSERT_STRING_EQUAL(list[1].id, "p2");
	for (size_t i = 0; i < n; i++)
		bs_profile_clear(&list[i]);
	free(list);
	CU_ASSERT_EQUAL(b->ops->profile_list(b, 1, 10, &list, &n), BS_OK);
	CU_ASSERT_EQUAL(n, 1);
	bs_profile_clear(&list[0]);
	free(list);
	CU_ASSERT_EQUAL(b->ops->profile_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 2);
	CU_ASSERT_EQUAL(b->ops->profile_delete(b, "P1"), BS_OK);
	CU_ASSERT_EQUAL(b->ops->profile_delete(b, "P1"), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->profile_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 1);
}

static void test_profile_in_use_is_not_deleted(void)
{
	bs_profile_t p = { .id = "p", .name = "P" };
	bs_group_t g = { .id = "g", .name = "G", .profile = "p" };
	bs_blob_t key = blob("sealed-key");
	bs_config_t c;
	bs_config_blobs_t s;

	fresh();
	CU_ASSERT_EQUAL(b->ops->profile_put(b, &p, 1, NOW), BS_OK);
	make_config(&c, &s, "dev", "00:1A", NOW, "");
	c.profile = strdup("p");
	CU_ASSERT_EQUAL_FATAL(b->ops->config_insert(b, &c, &s), BS_OK);
	clear_config(&c, &s);
	CU_ASSERT_EQUAL(b->ops->profile_delete(b, "p"), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(b->ops->config_delete(b, "dev", LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, &key, 1, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->profile_delete(b, "p"), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(b->ops->group_delete(b, "g"), BS_OK);
	CU_ASSERT_EQUAL(b->ops->profile_delete(b, "p"), BS_OK);
	bs_blob_clear(&key);
}

static void test_groups_keep_their_key_unless_given_one(void)
{
	bs_group_t g = { .id = "g", .name = "G", .channel_ids = "t", .enable = 1,
		.group_key = "never read" }, got, *list = NULL;
	bs_blob_t key = blob("sealed-key-1"), key2 = blob("sealed-key-2"), k = { 0 };
	size_t n = 0;
	long total = -1;

	fresh();
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, &key, 1, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, &key, 1, NOW), BS_ERR_CONFLICT);
	g.name = "Renamed";
	g.enable = 0;
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, NULL, 0, LATER), BS_OK);
	CU_ASSERT_EQUAL_FATAL(b->ops->group_get(b, "g", &got, &k), BS_OK);
	CU_ASSERT_STRING_EQUAL(got.name, "Renamed");
	CU_ASSERT_EQUAL(got.enable, 0);
	CU_ASSERT_STRING_EQUAL(got.channel_ids, "t");
	CU_ASSERT_PTR_NULL(got.profile);
	CU_ASSERT_PTR_NULL(got.group_key);
	CU_ASSERT_STRING_EQUAL(got.created_at, NOW);
	CU_ASSERT_STRING_EQUAL(got.updated_at, LATER);
	CU_ASSERT(blob_is(&k, "sealed-key-1"));
	bs_group_clear(&got);
	bs_blob_clear(&k);
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, &key2, 0, LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->group_get(b, "g", &got, &k), BS_OK);
	CU_ASSERT(blob_is(&k, "sealed-key-2"));
	bs_group_clear(&got);
	bs_blob_clear(&k);
	CU_ASSERT_EQUAL(b->ops->group_get(b, "g", &got, NULL), BS_OK);
	bs_group_clear(&got);
	g.id = "h";
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, NULL, 0, LATER), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, &key, 1, LATER), BS_OK);
	CU_ASSERT_EQUAL(b->ops->group_get(b, "x", &got, &k), BS_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(b->ops->group_list(b, 0, 10, &list, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0].id, "g");
	CU_ASSERT_STRING_EQUAL(list[1].id, "h");
	for (size_t i = 0; i < n; i++)
		bs_group_clear(&list[i]);
	free(list);
	CU_ASSERT_EQUAL(b->ops->group_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 2);
	CU_ASSERT_EQUAL(b->ops->group_delete(b, "g"), BS_OK);
	CU_ASSERT_EQUAL(b->ops->group_delete(b, "g"), BS_ERR_NOT_FOUND);
	bs_blob_clear(&key);
	bs_blob_clear(&key2);
}

/* ---- unknown devices ------------------------------------------------------ */

typedef struct {
	char seen[128];
	int stop_after;
	int calls;
} walk_t;

static int walk(void *arg, const char *external_id, time_t first_seen, time_t last_seen,
		const char *address)
{
	walk_t *w = arg;

	(void)first_seen;
	(void)last_seen;
	(void)address;
	snprintf(w->seen + strlen(w->seen), sizeof(w->seen) - strlen(w->seen), "%s%s",
			w->calls ? " " : "", external_id);
	return ++w->calls == w->stop_after;
}

static void test_unknown_devices_merge_list_walk_and_trim(void)
{
	bs_unknown_row_t *rows = NULL;
	size_t n = 0;
	long total = -1, deleted = -1;
	walk_t w = { .stop_after = 0 };

	fresh();
	CU_ASSERT_EQUAL(b->ops->unknown_put(b, "u1", 100, 200, 2, "10.0.0.1"), BS_OK);
	CU_ASSERT_EQUAL(b->ops->unknown_put(b, "u1", 50, 150, 3, "10.0.0.2"), BS_OK);
	CU_ASSERT_EQUAL(b->ops->unknown_put(b, "u2", 300, 300, 1, NULL), BS_OK);
	CU_ASSERT_EQUAL(b->ops->unknown_put(b, "u3", 100, 300, 1, "x"), BS_OK);
	CU_ASSERT_EQUAL(b->ops->unknown_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 3);
	CU_ASSERT_EQUAL_FATAL(b->ops->unknown_list(b, 0, 10, &rows, &n), BS_OK);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	/* the most recently seen first, ties by external_id, descending */
	CU_ASSERT_STRING_EQUAL(rows[0].external_id, "u3");
	CU_ASSERT_STRING_EQUAL(rows[1].external_id, "u2");
	CU_ASSERT_STRING_EQUAL(rows[1].address, "");
	CU_ASSERT_STRING_EQUAL(rows[2].external_id, "u1");
	CU_ASSERT_EQUAL(rows[2].first_seen, 50);
	CU_ASSERT_EQUAL(rows[2].last_seen, 200);
	CU_ASSERT_EQUAL(rows[2].attempts, 5);
	CU_ASSERT_STRING_EQUAL(rows[2].address, "10.0.0.2");
	bs_unknown_rows_free(rows, n);
	CU_ASSERT_EQUAL(b->ops->unknown_list(b, 2, 10, &rows, &n), BS_OK);
	CU_ASSERT_EQUAL(n, 1);
	bs_unknown_rows_free(rows, n);
	CU_ASSERT_EQUAL(b->ops->unknown_each(b, 1, 10, walk, &w), BS_OK);
	CU_ASSERT_STRING_EQUAL(w.seen, "u3 u2 u1");
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	CU_ASSERT_EQUAL(b->ops->unknown_each(b, 0, 10, walk, &w), BS_OK);
	CU_ASSERT_STRING_EQUAL(w.seen, "u1 u2");
	CU_ASSERT_EQUAL(b->ops->unknown_trim(b, 2, &deleted), BS_OK);
	CU_ASSERT_EQUAL(deleted, 1);
	CU_ASSERT_EQUAL(b->ops->unknown_trim(b, 2, &deleted), BS_OK);
	CU_ASSERT_EQUAL(deleted, 0);
	CU_ASSERT_EQUAL(b->ops->unknown_delete(b, "u3", &deleted), BS_OK);
	CU_ASSERT_EQUAL(deleted, 1);
	CU_ASSERT_EQUAL(b->ops->unknown_delete(b, "u3", &deleted), BS_OK);
	CU_ASSERT_EQUAL(deleted, 0);
	CU_ASSERT_EQUAL(b->ops->unknown_put(b, "u4", 1, 1, 1, ""), BS_OK);
	CU_ASSERT_EQUAL(b->ops->unknown_delete(b, NULL, &deleted), BS_OK);
	CU_ASSERT_EQUAL(deleted, 2);
	CU_ASSERT_EQUAL(b->ops->unknown_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 0);
}

/* A nonce's use is recorded once, whichever connection (broker) comes
 * first; uses long expired are dropped by later ones, and only those. */
static void test_a_nonce_is_used_once_and_forgotten_after_expiry(void)
{
	const uint8_t n1[32] = { 1 }, n2[32] = { 2 }, n3[32] = { 3 };
	bs_backend_t *other = NULL;

	fresh();
	CU_ASSERT_FATAL(bs_pg_open(url, &other, err, sizeof(err)) == BS_OK);
	CU_ASSERT_EQUAL(b->ops->nonce_use(b, n1, 32, 2000, 0), BS_OK);
	CU_ASSERT_EQUAL(other->ops->nonce_use(other, n1, 32, 2000, 0), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(b->ops->nonce_use(b, n1, 32, 2000, 0), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(b->ops->nonce_use(b, n2, 32, 100, 0), BS_OK);
	/* n2 expired before 1000: this use takes it away, and not n1. */
	CU_ASSERT_EQUAL(other->ops->nonce_use(other, n3, 32, 2000, 1000), BS_OK);
	CU_ASSERT_EQUAL(b->ops->nonce_use(b, n2, 32, 100, 0), BS_OK);
	CU_ASSERT_EQUAL(b->ops->nonce_use(b, n1, 32, 2000, 1000), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(b->ops->nonce_use(b, n3, 32, 2000, 1000), BS_ERR_UNAUTHORIZED);
	other->ops->close(other);
}

/* ---- transactions --------------------------------------------------------- */

static long channels(void)
{
	long total = -1;

	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_OK);
	return total;
}

/* A failed statement aborts a PostgreSQL transaction: in_transaction
 * stays 1, and rolling back to the savepoint repairs it. */
static void test_savepoint_rollback_repairs_a_failed_statement(void)
{
	bs_channel_t a = { .id = "a", .name = "A" }, c = { .id = "c", .name = "C" };
	bs_group_t g = { .id = "g", .name = "G" };

	fresh();
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->begin(b), BS_ERR_INTERNAL);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 1);
	CU_ASSERT_EQUAL(b->ops->channel_insert(b, &a, NOW), BS_OK);
	CU_ASSERT_EQUAL(b->ops->savepoint(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->channel_insert(b, &a, NOW), BS_ERR_CONFLICT);
	CU_ASSERT_EQUAL(b->ops->channel_insert(b, &c, NOW), BS_OK);
	b->ops->rollback_savepoint(b);
	CU_ASSERT_EQUAL(b->ops->savepoint(b), BS_OK);
	/* a group without its key: refused by the engine */
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, NULL, 1, NOW), BS_ERR_INTERNAL);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 1);
	b->ops->rollback_savepoint(b);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 1);
	CU_ASSERT_EQUAL(b->ops->savepoint(b), BS_OK);
	channel("b", "B", NOW);
	CU_ASSERT_EQUAL(b->ops->release(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	CU_ASSERT_EQUAL(channels(), 2);
	CU_ASSERT_EQUAL(b->ops->channel_get(b, "c", &c), BS_ERR_NOT_FOUND);
}

static void test_commit_of_a_failed_transaction_rolls_it_back(void)
{
	bs_group_t g = { .id = "g", .name = "G" };

	fresh();
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_ERR_INTERNAL);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	channel("a", "A", NOW);
	CU_ASSERT_EQUAL(b->ops->group_put(b, &g, NULL, 1, NOW), BS_ERR_INTERNAL);
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(b->errmsg, "rolled back"));
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	b->ops->rollback(b);
	CU_ASSERT_EQUAL(channels(), 0);
	/* rolled back by hand */
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	channel("a", "A", NOW);
	b->ops->rollback(b);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	CU_ASSERT_EQUAL(channels(), 0);
}

/* As in SQLite, a savepoint outside a transaction begins one, which its
 * release commits and its rollback undoes. */
static void test_savepoint_outside_a_transaction_is_one(void)
{
	fresh();
	CU_ASSERT_EQUAL_FATAL(b->ops->savepoint(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 1);
	channel("a", "A", NOW);
	config("dev", "e", NOW, "a", 1);
	CU_ASSERT_EQUAL(b->ops->release(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	states_are(1, 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->savepoint(b), BS_OK);
	channel("b", "B", NOW);
	config("dev2", "e2", NOW, "", 1);
	b->ops->rollback_savepoint(b);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	CU_ASSERT_EQUAL(channels(), 1);
	states_are(1, 0);
}

/* ---- the connection ------------------------------------------------------- */

typedef struct {
	char got[256];
	int count, own;
} heard_t;

static void hear(void *arg, const char *ch, const char *payload, int own)
{
	heard_t *h = arg;

	snprintf(h->got + strlen(h->got), sizeof(h->got) - strlen(h->got), "%s%s=%s",
			h->count ? " " : "", ch, payload);
	h->count++;
	h->own += own;
}

/* Waits up to 2 s for what listener hears. */
static void wait_for(bs_backend_t *listener, heard_t *h, int want)
{
	for (int i = 0; i < 40 && h->count < want; i++) {
		struct pollfd p = { .fd = bs_pg_socket(listener), .events = POLLIN };
		poll(&p, 1, 50);
		CU_ASSERT(bs_pg_poll_notify(listener, hear, h) >= 0);
	}
}

static void test_notify_is_heard_after_commit(void)
{
	bs_backend_t *listener = NULL;
	heard_t h = { .count = 0 };

	fresh();
	CU_ASSERT_EQUAL_FATAL(bs_pg_open(url, &listener, err, sizeof(err)), BS_OK);
	CU_ASSERT(bs_pg_socket(listener) >= 0);
	CU_ASSERT_EQUAL(bs_pg_listen(listener, "bootstrap changes"), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_listen(listener, "bootstrap changes"), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_poll_notify(listener, hear, &h), 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_notify(b, "bootstrap changes", "config dev"), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_notify(b, "elsewhere", "x"), BS_OK);
	usleep(100 * 1000);
	CU_ASSERT_EQUAL(bs_pg_poll_notify(listener, hear, &h), 0);
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_OK);
	wait_for(listener, &h, 1);
	CU_ASSERT_STRING_EQUAL(h.got, "bootstrap changes=config dev");
	CU_ASSERT_EQUAL(h.own, 0);
	/* outside a transaction: at once; and a connection hears its own */
	CU_ASSERT_EQUAL(bs_pg_notify(listener, "bootstrap changes", "mine"), BS_OK);
	wait_for(listener, &h, 2);
	CU_ASSERT_EQUAL(h.count, 2);
	CU_ASSERT_EQUAL(h.own, 1);
	listener->ops->close(listener);
}

/* A restarted server cuts the connection: it shows as down, operations
 * fail, and a reconnect brings back the prepared statements and the
 * channels listened on. */
/* The suite's database opened with these timeouts, then the server
 * frozen (thawed by the caller). */
static void open_frozen(int statement_timeout_ms, int connect_timeout_s)
{
	bs_pg_options_t opt;

	fresh();
	close_backend();
	bs_pg_options_init(&opt);
	opt.statement_timeout_ms = statement_timeout_ms;
	opt.connect_timeout_s = connect_timeout_s;
	CU_ASSERT_EQUAL_FATAL(bs_pg_open_with(url, &opt, &b, err, sizeof(err)), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_pg_server_freeze(&server, 1), 0);
}

/* A server that stops answering (its backend frozen here, as a cut-off
 * link would look): the statement fails once the statement timeout and
 * the grace have passed, the connection is dropped, and a reconnect
 * serves again. */
static void test_a_server_that_stops_answering_fails_the_statement(void)
{
	struct timespec t0, t1;
	long total = -1;

	unsigned long losses = bs_pg_losses();

	open_frozen(200, BS_PG_CONNECT_TIMEOUT_S);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_ERR_INTERNAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	bs_pg_server_freeze(&server, 0);
	/* Shut down by the client for its silence: not a loss. */
	CU_ASSERT_EQUAL(bs_pg_losses(), losses);
	CU_ASSERT_PTR_NOT_NULL(strstr(b->errmsg, "no answer from the server in time"));
	printf("\n    a frozen server failed the statement after %.2f s\n",
			(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	CU_ASSERT_EQUAL(bs_pg_connected(b), 0);
	CU_ASSERT_EQUAL_FATAL(bs_pg_reconnect(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 0);
}

/* Steps until the reconnect is no longer under way; the calls that said
 * it was, in *steps, and the longest call, in *longest (seconds). */
static int step_until_done(int *steps, double *longest)
{
	struct timespec t0, t1;
	int rc;

	*steps = 0;
	*longest = 0;
	for (int i = 0; i < 400; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = bs_pg_reconnect_step(b);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (took > *longest)
			*longest = took;
		if (rc != 1)
			return rc;
		(*steps)++;
		usleep(20 * 1000);
	}
	return 1;
}

/* A reconnect taken step by step returns at every step: with the server
 * frozen (it takes the connection, never answers) it is under way until
 * the connect timeout ends it, and once the server answers again it
 * connects, its statements prepared. */
static void test_a_reconnect_step_never_waits_for_the_server(void)
{
	long total = -1;
	double longest;
	int steps;

	open_frozen(BS_PG_STATEMENT_TIMEOUT_MS, 1);
	shutdown(bs_pg_socket(b), SHUT_RDWR);
	CU_ASSERT_EQUAL(bs_pg_connected(b), 0);
	CU_ASSERT_EQUAL(step_until_done(&steps, &longest), BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(b->errmsg, "connect timeout"));
	CU_ASSERT(steps > 1);
	printf("\n    frozen server: %d steps under way, the longest %.4f s\n", steps, longest);
	CU_ASSERT_EQUAL(bs_pg_reconnecting(b), 0);
	bs_pg_server_freeze(&server, 0);
	CU_ASSERT_EQUAL(step_until_done(&steps, &longest), BS_OK);
	printf("    back: connected after %d steps, the longest %.4f s\n", steps, longest);
	CU_ASSERT_EQUAL(bs_pg_connected(b), 1);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(total, 0);
}

static void test_reconnect_after_a_server_restart(void)
{
	bs_config_t c;
	heard_t h = { .count = 0 };
	long total = -1;
	unsigned long losses;

	fresh();
	config("dev", "00:1A", NOW, "", 1);
	CU_ASSERT_EQUAL(bs_pg_listen(b, "changes"), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_connected(b), 1);
	losses = bs_pg_losses();
	CU_ASSERT_EQUAL_FATAL(bs_pg_server_restart(&server), 0);
	usleep(100 * 1000);
	CU_ASSERT_EQUAL(bs_pg_connected(b), 0);
	CU_ASSERT_EQUAL(b->ops->config_get(b, NULL, "00:1A", BS_VIEW_DEVICE, &c, NULL),
			BS_ERR_INTERNAL);
	/* A connection the server closed is counted as lost. */
	CU_ASSERT(bs_pg_losses() > losses);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	CU_ASSERT_EQUAL_FATAL(bs_pg_reconnect(b), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_connected(b), 1);
	CU_ASSERT_EQUAL(b->ops->config_get(b, NULL, "00:1A", BS_VIEW_DEVICE, &c, NULL), BS_OK);
	bs_config_clear(&c);
	CU_ASSERT_EQUAL(b->ops->channel_count(b, &total), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_notify(b, "changes", "after"), BS_OK);
	wait_for(b, &h, 1);
	CU_ASSERT_STRING_EQUAL(h.got, "changes=after");
	/* A transaction cut by the restart is lost, and says so. */
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	config("dev2", "00:2B", NOW, "", 1);
	CU_ASSERT_EQUAL_FATAL(bs_pg_server_restart(&server), 0);
	CU_ASSERT_NOT_EQUAL(b->ops->commit(b), BS_OK);
	CU_ASSERT_EQUAL(b->ops->in_transaction(b), 0);
	b->ops->rollback(b);
	CU_ASSERT_EQUAL_FATAL(bs_pg_reconnect(b), BS_OK);
	states_are(1, 0);
}

/* As the broker's tick does it: a listener whose server restarted is read
 * for notifications, then made again a step at a time, read again between
 * steps; once connected it hears what is sent after. Reading its input
 * while a step was under way ate the server's answers to the reconnect,
 * which then never ended. */
static void test_a_listener_reconnecting_by_steps_hears_again(void)
{
	bs_backend_t *listener = NULL;
	heard_t h = { .count = 0 };
	int rc = 1;

	fresh();
	CU_ASSERT_EQUAL_FATAL(bs_pg_open(url, &listener, err, sizeof(err)), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_listen(listener, "changes"), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_pg_server_restart(&server), 0);
	usleep(100 * 1000);
	for (int i = 0; i < 400 && rc != BS_OK; i++) {
		if (bs_pg_poll_notify(listener, hear, &h) < 0)
			rc = bs_pg_reconnect_step(listener);
		usleep(20 * 1000);
	}
	CU_ASSERT_EQUAL(rc, BS_OK);
	CU_ASSERT_EQUAL(bs_pg_reconnecting(listener), 0);
	CU_ASSERT_EQUAL_FATAL(bs_pg_reconnect(b), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_notify(b, "changes", "after"), BS_OK);
	wait_for(listener, &h, 1);
	CU_ASSERT_STRING_EQUAL(h.got, "changes=after");
	listener->ops->close(listener);
}

/* ---- the announcements kept (schema/pg/003) ------------------------------- */

typedef struct {
	long long seq[1300];
	char first[64];
	int n, ordered;
} kept_t;

static void keep(void *arg, long long seq, const char *payload)
{
	kept_t *k = arg;

	if (k->n > 0 && seq <= k->seq[k->n - 1])
		k->ordered = 0;
	if (k->n == 0)
		snprintf(k->first, sizeof(k->first), "%s", payload);
	if (k->n < (int)(sizeof(k->seq) / sizeof(k->seq[0])))
		k->seq[k->n] = seq;
	k->n++;
}

/* An announcement is a row and a notification "#seq\npayload", both at
 * the commit, neither after a rollback; a reader gets the rows after a
 * seq, in order. */
static void test_an_announcement_is_kept_and_sent_at_commit(void)
{
	bs_backend_t *listener = NULL;
	heard_t h = { .count = 0 };
	kept_t k = { .n = 0, .ordered = 1 };
	long long last = -1, seq = 0, seq2 = 0;
	char want[96];

	fresh();
	CU_ASSERT_EQUAL_FATAL(bs_pg_open(url, &listener, err, sizeof(err)), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_listen(listener, "changes"), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_changes_last(listener, &last), BS_OK);
	CU_ASSERT(last >= 0);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_announce(b, "changes", "rolled back", NULL), BS_OK);
	b->ops->rollback(b);
	CU_ASSERT_EQUAL_FATAL(b->ops->begin(b), BS_OK);
	CU_ASSERT_EQUAL(bs_pg_announce(b, "changes", "one\n1 dev", &seq), BS_OK);
	CU_ASSERT(seq > last);
	CU_ASSERT_EQUAL(bs_pg_changes_since(listener, last, keep, &k), BS_OK);
	CU_ASSERT_EQUAL(k.n, 0);
	/* the lock that orders the announcements, held to the commit */
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM pg_locks WHERE locktype = "
			"'advisory' AND granted"), 1);
	CU_ASSERT_EQUAL(b->ops->commit(b), BS_OK);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM pg_locks WHERE locktype = "
			"'advisory'"), 0);
	wait_for(listener, &h, 1);
	snprintf(want, sizeof(want), "changes=#%lld\none\n1 dev", seq);
	CU_ASSERT_STRING_EQUAL(h.got, want);
	CU_ASSERT_EQUAL(h.count, 1);
	/* outside a transaction: at once */
	CU_ASSERT_EQUAL(bs_pg_announce(b, "changes", "two", &seq2), BS_OK);
	CU_ASSERT(seq2 > seq);
	CU_ASSERT_EQUAL(bs_pg_changes_since(listener, last, keep, &k), BS_OK);
	CU_ASSERT_EQUAL(k.n, 2);
	CU_ASSERT_STRING_EQUAL(k.first, "one\n1 dev");
	CU_ASSERT(k.n == 2 && k.seq[0] == seq && k.seq[1] == seq2);
	k.n = 0;
	CU_ASSERT_EQUAL(bs_pg_changes_since(listener, seq, keep, &k), BS_OK);
	CU_ASSERT(k.n == 1 && k.seq[0] == seq2);
	CU_ASSERT_EQUAL(bs_pg_changes_last(listener, &last), BS_OK);
	CU_ASSERT_EQUAL(last, seq2);
	listener->ops->close(listener);
}

/* Rows older than an hour go with the next announcement; a long read
 * comes in pages, every row once, in order. */
static void test_announcements_are_pruned_and_read_in_pages(void)
{
	kept_t k = { .n = 0, .ordered = 1 };
	long long last = 0, seq = 0;

	fresh();
	CU_ASSERT_EQUAL(bs_pg_changes_last(b, &last), BS_OK);
	CU_ASSERT_FATAL(bs_pg_server_exec(&server, dbname, "INSERT INTO changes "
			"(at, payload) SELECT now() - interval '2 hours', 'old' "
			"FROM generate_series(1, 3); INSERT INTO changes (payload) "
			"SELECT 'new ' || i FROM generate_series(1, 1200) i") == 0);
	CU_ASSERT_EQUAL(bs_pg_announce(b, "changes", "last", &seq), BS_OK);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM changes WHERE payload = 'old'"), 0);
	CU_ASSERT_EQUAL(bs_pg_changes_since(b, last, keep, &k), BS_OK);
	CU_ASSERT_EQUAL(k.n, 1201);
	CU_ASSERT(k.ordered);
	CU_ASSERT_STRING_EQUAL(k.first, "new 1");
	CU_ASSERT(k.n == 1201 && k.seq[1200] == seq);
}

/* ---- the runner ----------------------------------------------------------- */

static const cu_test_t open_tests[] = {
	T(test_open_migrates_to_the_last_version),
	T(test_reopen_does_not_migrate_again),
	T(test_two_opens_at_once_migrate_once),
	T(test_newer_schema_version_is_refused),
	T(test_unreachable_server_fails_with_the_reason),
	T(test_messages_never_show_the_password),
	T(test_statement_timeout_cancels_a_wait),
	T(test_key_check_is_missing_then_replaced),
	{ NULL, NULL },
};

static const cu_test_t data_tests[] = {
	T(test_channel_round_trip_list_order_and_conflict),
	T(test_channel_update_and_missing_one),
	T(test_channel_delete_leaves_configs_profiles_and_groups),
	T(test_config_get_all_by_either_key),
	T(test_config_device_and_login_views_fill_what_they_say),
	T(test_config_conflicts_and_missing_channel),
	T(test_sql_metacharacters_are_stored_verbatim),
	T(test_config_list_orders_filters_and_pages),
	T(test_config_states_follow_writes_and_rollbacks),
	T(test_config_update_keeps_the_secret_when_none_is_given),
	T(test_config_update_missing_channel_or_config_changes_nothing),
	T(test_config_set_cert_drops_the_client_key),
	T(test_config_set_enabled_and_missing_one),
	T(test_config_touch_delete_and_client_deleted),
	T(test_next_external_id_walks_in_order),
	T(test_sealed_pages_and_reseal),
	T(test_login_and_deleted_pages_walk_by_client_id),
	T(test_several_logins_are_read_together),
	T(test_profiles_put_get_list_and_delete),
	T(test_profile_in_use_is_not_deleted),
	T(test_groups_keep_their_key_unless_given_one),
	T(test_unknown_devices_merge_list_walk_and_trim),
	T(test_a_nonce_is_used_once_and_forgotten_after_expiry),
	{ NULL, NULL },
};

static const cu_test_t tx_tests[] = {
	T(test_savepoint_rollback_repairs_a_failed_statement),
	T(test_commit_of_a_failed_transaction_rolls_it_back),
	T(test_savepoint_outside_a_transaction_is_one),
	T(test_notify_is_heard_after_commit),
	T(test_reconnect_after_a_server_restart),
	T(test_a_listener_reconnecting_by_steps_hears_again),
	T(test_an_announcement_is_kept_and_sent_at_commit),
	T(test_announcements_are_pruned_and_read_in_pages),
	T(test_a_server_that_stops_answering_fails_the_statement),
	T(test_a_reconnect_step_never_waits_for_the_server),
	{ NULL, NULL },
};

int main(void)
{
	int rc;

	cu_add_suite("pg_open", suite_init, suite_clean, open_tests);
	cu_add_suite("pg_data", suite_init, suite_clean, data_tests);
	cu_add_suite("pg_transactions", suite_init, suite_clean, tx_tests);
	rc = cu_run("store_pg");
	close_backend();
	bs_pg_server_stop(&server);
	return rc;
}
