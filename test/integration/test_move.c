/*
 * Moving a fleet (mosquitto_bootstrap_copy): a fleet made through a real
 * broker on SQLite, copied into PostgreSQL and back, is the same fleet
 * row for row (sealed secrets byte for byte); a broker on the PostgreSQL
 * copy, with the old key file, lists what the old one listed, bootstraps
 * the old devices with their old keys, enrolls with the old group key,
 * and makes new configs. Refused copies (the wrong key, a target that
 * holds a fleet, one store twice, a bad URL) and a copy that fails half
 * way write nothing.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "store_backend.h"
#include "store_db.h"
#include "tool_run.h"

#include "error.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static broker_t A;              /* the fleet's broker, on SQLite; stopped */
static char A_DB[IT_PATH_MAX + 32], A_KEY[IT_PATH_MAX + 32];
static boot_cfg_t ON, OFF;
static char *GROUP, *GROUP_KEY;
static json_t *BEFORE;          /* what A listed, read back from its store */
static char PG_COPY[256];       /* A's fleet in PostgreSQL (the round trip) */

static const char *copy_bin(void)
{
	const char *v = getenv("IT_COPY");
	return v != NULL ? v : "build/default/tools/mosquitto_bootstrap_copy";
}

static run_t copy_run(const char *first, ...)
{
	char *argv[TOOL_MAX_ARGS] = { (char *)copy_bin() };
	va_list ap;

	va_start(ap, first);
	run_t r = run_tool(argv, 1, NULL, first, ap);
	va_end(ap);
	return r;
}

static run_t copy_store(const char *from, const char *to, const char *key)
{
	return copy_run("--from", from, "--to", to, "--key-file", key, NULL);
}

/* ---- every row of a store, as text -------------------------------------- */

typedef struct {
	char *text;
	size_t len, cap;
} dump_t;

static void add(dump_t *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (d->len + (size_t)n + 1 > d->cap) {
		d->cap = (d->len + (size_t)n + 1) * 2;
		d->text = realloc(d->text, d->cap);
		if (d->text == NULL)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(d->text + d->len, d->cap - d->len, fmt, ap);
	va_end(ap);
	d->len += (size_t)n;
}

static void add_hex(dump_t *d, const void *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		add(d, "%02x", ((const unsigned char *)data)[i]);
}

static int dump_row(void *arg, const bs_rows_table_t *t, const bs_rows_value_t *v)
{
	dump_t *d = arg;

	add(d, "%s", t->name);
	for (size_t i = 0; i < t->ncols; i++) {
		if (v[i].null)
			add(d, " %s=NULL", t->cols[i].name);
		else if (t->cols[i].kind == BS_ROWS_INT || t->cols[i].kind == BS_ROWS_BOOL)
			add(d, " %s=%lld", t->cols[i].name, v[i].i);
		else {
			add(d, " %s=", t->cols[i].name);
			add_hex(d, v[i].data, v[i].len);
		}
	}
	add(d, "\n");
	return 0;
}

/* Every row of every table copied, the key check and the config counts,
 * read through the backend (malloc()ed; NULL when it does not open). */
static char *dump(const char *db)
{
	bs_backend_t *b = NULL;
	bs_blob_t check = { 0 };
	dump_t d = { 0 };
	long on = 0, off = 0;
	char err[300];
	int rc = bs_store_is_url(db) ? bs_pg_open(db, &b, err, sizeof(err))
		: bs_sqlite_open(db, &b, err, sizeof(err));

	if (rc != BS_OK) {
		fprintf(stderr, "dump %s: %s\n", db, err);
		return NULL;
	}
	add(&d, "");
	rc = b->ops->rows_read(b, bs_rows_tables, bs_rows_ntables, dump_row, &d);
	if (rc == BS_OK && b->ops->key_check_get(b, &check) == BS_OK) {
		add(&d, "key_check ");
		add_hex(&d, check.data, check.len);
		add(&d, "\n");
	}
	if (rc == BS_OK && (rc = b->ops->config_states(b, &on, &off)) == BS_OK)
		add(&d, "config_counts %ld %ld\n", on, off);
	bs_blob_clear(&check);
	b->ops->close(b);
	if (rc != BS_OK) {
		free(d.text);
		return NULL;
	}
	return d.text;
}

/* The dump of a store that holds nothing at all. */
static bool dump_empty(const char *db)
{
	char *d = dump(db);
	bool empty = d != NULL && strcmp(d, "config_counts 0 0\n") == 0;

	if (!empty)
		fprintf(stderr, "not empty: %s\n", d ? d : "(no dump)");
	free(d);
	return empty;
}

static bool same_dump(const char *a, const char *b)
{
	char *da = dump(a), *db = dump(b);
	bool same = da != NULL && db != NULL && strcmp(da, db) == 0;

	free(da);
	free(db);
	return same;
}

static int new_pg_db(const char *name, char *url, size_t len)
{
	bs_pg_server_t *s = test_pg_server();

	return s != NULL ? bs_pg_server_createdb(s, name, NULL, url, len) : -1;
}

/* ---- the fleet -------------------------------------------------------- */

static json_t *bootstrap(const broker_t *b, const char *ext, const char *key,
		const char *group)
{
	char req[700];
	it_msg_t *m;
	json_t *reply;

	if (group != NULL)
		snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
				"\"group\":\"%s\",\"id\":\"m1\"}", ext, key, group);
	else
		snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
				"\"id\":\"m1\"}", ext, key);
	m = device_rr(b, 5, NULL, req, (int)strlen(req), NULL);
	reply = msg_json(m);
	msg_free(m);
	return reply;
}

/* What b lists of every kind, as one JSON object. */
static json_t *listings(const broker_t *b)
{
	static const char *const kinds[] = { "listConfigs", "listChannels", "listProfiles",
		"listGroups", "listUnknown" };
	json_t *all = json_object();

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		json_object_set_new(all, kinds[i], admin_ok_take(b, json_pack("{ss si}",
				"command", kinds[i], "limit", 1000)));
	return all;
}

static int make_fleet(void)
{
	char *channel = unique_name("move-ch"), *profile = unique_name("move-pro");
	char *e_on = unique_name("move-on"), *e_off = unique_name("move-off");
	char *e_gone = unique_name("move-gone"), *e_dev = unique_name("move-dev");
	char *dev_key = NULL, *cert = NULL, *cert_key = NULL;
	boot_cfg_t gone = { 0 };
	json_t *d, *extra, *with_cert = NULL, *r;
	int rc = -1;

	GROUP = unique_name("move-line");
	json_decref(admin_ok_take(&A, json_pack("{ss ss ss s{si}}", "command", "createChannel",
			"id", channel, "name", "line\ttab \\ and\nnewline", "metadata",
			"floor", 2)));
	json_decref(admin_ok_take(&A, json_pack("{ss ss ss ss s[s] s{ss}}", "command",
			"createProfile", "id", profile, "name", profile, "content",
			"{\"device\": \"{{external_id}}\", \"site\": \"{{vars.site}}\"}",
			"channels", channel, "vars", "site", "factory")));
	d = admin_ok_take(&A, json_pack("{ss ss ss ss sb}", "command", "createGroup",
			"id", GROUP, "name", GROUP, "profile", profile, "enable", 1));
	if (jstr(d, "group_key") != NULL)
		GROUP_KEY = strdup(jstr(d, "group_key"));
	json_decref(d);
	extra = json_pack("{ss}", "content", "a\tb\nc \\ d");
	if (make_cert(A.dir, "move-cert", &cert, &cert_key) != 0)
		goto out;
	with_cert = json_pack("{ss ss}", "client_cert", cert, "client_key", cert_key);
	if (GROUP_KEY == NULL || make_config(&A, e_on, extra, true, &ON) != 0
			|| make_config(&A, e_off, with_cert, false, &OFF) != 0
			|| make_config(&A, e_gone, NULL, true, &gone) != 0)
		goto out;
	json_decref(admin_ok_take(&A, admin_cmd_by("deleteConfig", "client_id",
			gone.client_id)));
	/* A last bootstrap, an unknown device, a device the group made. */
	json_decref(bootstrap(&A, ON.external_id, ON.external_key, NULL));
	json_decref(bootstrap(&A, "move-nobody", "nobody-key-0123456789", NULL));
	if ((dev_key = factory_key(GROUP_KEY, e_dev)) == NULL)
		goto out;
	r = bootstrap(&A, e_dev, dev_key, GROUP);
	rc = jstr(r, "client_id") != NULL ? 0 : -1;
	json_decref(r);
	/* What the store holds, listed by a broker started on it again. */
	if (rc == 0 && (broker_stop(&A) != 0 || broker_launch(&A) != 0))
		rc = -1;
	if (rc == 0 && (BEFORE = listings(&A)) == NULL)
		rc = -1;
	if (rc == 0 && json_array_size(json_object_get(json_object_get(BEFORE, "listConfigs"),
			"configs")) != 3)
		rc = -1;
	if (broker_stop(&A) != 0)
		rc = -1;
out:
	json_decref(extra);
	json_decref(with_cert);
	free(cert);
	free(cert_key);
	boot_cfg_free(&gone);
	free(dev_key);
	free(channel);
	free(profile);
	free(e_on);
	free(e_off);
	free(e_gone);
	free(e_dev);
	return rc;
}

static int suite_init(void)
{
	if (broker_start(&A, "plugin_opt_client_auth true") != 0)
		return -1;
	snprintf(A_DB, sizeof(A_DB), "%s/bootstrap.db", A.dir);
	snprintf(A_KEY, sizeof(A_KEY), "%s/bootstrap.key", A.dir);
	if (make_fleet() != 0 || new_pg_db("move_copy", PG_COPY, sizeof(PG_COPY)) != 0) {
		fprintf(stderr, "test_move: the fleet could not be made\n");
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	broker_cleanup(&A);
	boot_cfg_free(&ON);
	boot_cfg_free(&OFF);
	free(GROUP);
	free(GROUP_KEY);
	json_decref(BEFORE);
	return 0;
}

/* ---- the tests -------------------------------------------------------- */

static void test_sqlite_to_postgresql_and_back_is_the_same_fleet(void)
{
	char back[IT_PATH_MAX + 32];
	char *d;
	run_t r = copy_store(A_DB, PG_COPY, A_KEY);

	CHECK(r.status == 0);
	CHECK(contains(r.out, "1 enroll_groups") && contains(r.out, "3 configs")
			&& contains(r.out, "1 deleted_clients") && contains(r.out, "1 unknown_devices")
			&& contains(r.out, "2 bootstraps"));
	run_free(&r);
	snprintf(back, sizeof(back), "%s/back.db", A.dir);
	r = copy_store(PG_COPY, back, A_KEY);
	CHECK(r.status == 0);
	run_free(&r);
	/* Every row, sealed secrets and the group key byte for byte. */
	CHECK(same_dump(A_DB, PG_COPY));
	CHECK(same_dump(A_DB, back));
	d = dump(back);
	CHECK(d != NULL && contains(d, "client_secret=") && contains(d, "group_key=")
			&& contains(d, "config_counts 2 1"));
	free(d);
}

/* A broker on the PostgreSQL copy with the old key file. */
static int start_on_copy(broker_t *b)
{
	char conf[400], key[IT_PATH_MAX + 32];
	char *text = read_file_text(A_KEY, NULL);
	int rc = -1;

	snprintf(conf, sizeof(conf), "plugin_opt_db_url %s\nplugin_opt_client_auth true",
			PG_COPY);
	if (text != NULL && broker_prepare(b, conf, 0) == 0) {
		snprintf(key, sizeof(key), "%s/bootstrap.key", b->dir);
		rc = write_file_text(key, text) == 0 && chmod(key, 0600) == 0
			? broker_launch(b) : -1;
	}
	free(text);
	return rc;
}

static void test_a_broker_on_the_copy_serves_the_old_devices(void)
{
	broker_t b;
	json_t *now = NULL, *reply = NULL;
	char *e_new = unique_name("move-dev2"), *e_fresh = unique_name("move-new");
	char *key = NULL;
	boot_cfg_t fresh = { 0 };

	if (!CHECK(start_on_copy(&b) == 0))
		goto out;
	now = listings(&b);
	CHECK(now != NULL && json_equal(now, BEFORE));
	reply = bootstrap(&b, ON.external_id, ON.external_key, NULL);
	CHECK_STR(jstr(reply, "client_id"), ON.client_id);
	CHECK_STR(jstr(reply, "client_secret"), ON.client_secret);
	CHECK_STR(jstr(reply, "content"), "a\tb\nc \\ d");
	json_decref(reply);
	reply = bootstrap(&b, OFF.external_id, OFF.external_key, NULL);
	CHECK_STR(jstr(reply, "error"), "disabled");
	json_decref(reply);
	/* The group key opened under the same master key. */
	key = factory_key(GROUP_KEY, e_new);
	reply = key ? bootstrap(&b, e_new, key, GROUP) : NULL;
	CHECK(jstr(reply, "client_id") != NULL);
	json_decref(reply);
	/* New configs draw ids past the copied ones. */
	CHECK(make_config(&b, e_fresh, NULL, true, &fresh) == 0);
	broker_cleanup(&b);
out:
	json_decref(now);
	boot_cfg_free(&fresh);
	free(key);
	free(e_new);
	free(e_fresh);
}

static void test_the_copy_opens_with_the_fleets_key_and_no_other(void)
{
	uint8_t key[BS_KEY_LEN], other[BS_KEY_LEN];
	char err[300], back[IT_PATH_MAX + 32];
	bs_store_t *st = NULL;
	run_t r;

	snprintf(back, sizeof(back), "%s/keyed.db", A.dir);
	r = copy_store(A_DB, back, A_KEY);
	CHECK(r.status == 0);
	run_free(&r);
	if (!CHECK(bs_crypto_key_load(A_KEY, key, err, sizeof(err)) == BS_OK))
		return;
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	CHECK(bs_store_open(back, key, &st, err, sizeof(err)) == BS_OK);
	bs_store_close(st);
	CHECK(bs_store_open(back, other, &st, err, sizeof(err)) == BS_ERR_UNAUTHORIZED);
	CHECK(st == NULL);
}

static void test_the_wrong_key_is_refused_and_nothing_written(void)
{
	char url[256], wrong[IT_PATH_MAX + 32], missing[IT_PATH_MAX + 32];
	run_t r;

	snprintf(wrong, sizeof(wrong), "%s/wrong.key", A.dir);
	snprintf(missing, sizeof(missing), "%s/missing.key", A.dir);
	if (!CHECK(new_pg_db("move_wrong_key", url, sizeof(url)) == 0)
			|| !CHECK(write_file_text(wrong, "000102030405060708090a0b0c0d0e0f"
				"101112131415161718191a1b1c1d1e1f\n") == 0)
			|| !CHECK(chmod(wrong, 0600) == 0))
		return;
	r = copy_store(A_DB, url, wrong);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "the master key does not open the secrets stored here"));
	run_free(&r);
	CHECK(dump_empty(url));
	/* A key file that is not there is not made. */
	r = copy_store(A_DB, url, missing);
	CHECK(r.status == 2);
	CHECK(contains(r.err, "no such file"));
	CHECK(access(missing, F_OK) != 0);
	run_free(&r);
	CHECK(dump_empty(url));
}

static void test_a_target_that_holds_a_fleet_is_refused(void)
{
	char *before = dump(PG_COPY), *after;
	char other[IT_PATH_MAX + 32];
	run_t r = copy_store(A_DB, PG_COPY, A_KEY);

	CHECK(r.status == 1);
	CHECK(contains(r.err, "holds a fleet already") && contains(r.err, "empty store"));
	run_free(&r);
	after = dump(PG_COPY);
	CHECK(before != NULL && after != NULL && strcmp(before, after) == 0);
	free(before);
	free(after);
	/* Into a SQLite file with a fleet, too: the second copy. */
	snprintf(other, sizeof(other), "%s/twice.db", A.dir);
	r = copy_store(A_DB, other, A_KEY);
	CHECK(r.status == 0);
	run_free(&r);
	r = copy_store(A_DB, other, A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "holds a fleet already"));
	run_free(&r);
}

static void test_one_store_twice_and_a_bad_url_are_refused(void)
{
	char spelled[IT_PATH_MAX + 48], gone[IT_PATH_MAX + 32];
	run_t r = copy_store(A_DB, A_DB, A_KEY);

	CHECK(r.status == 1);
	CHECK(contains(r.err, "the same store"));
	run_free(&r);
	snprintf(spelled, sizeof(spelled), "%s/./bootstrap.db", A.dir);
	r = copy_store(A_DB, spelled, A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "the same store"));
	run_free(&r);
	r = copy_store(PG_COPY, PG_COPY, A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "the same store"));
	run_free(&r);
	/* Nothing listens there; the password is never shown. */
	r = copy_store(A_DB, "postgresql://bs:pw-s3cret@127.0.0.1:1/none", A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "db_url postgresql://") && contains(r.err, "127.0.0.1:1/none"));
	CHECK(!contains(r.err, "pw-s3cret"));
	run_free(&r);
	/* A SQLite source that is not there is not made. */
	snprintf(gone, sizeof(gone), "%s/none.db", A.dir);
	r = copy_store(gone, PG_COPY, A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "no such file"));
	CHECK(access(gone, F_OK) != 0);
	run_free(&r);
}

static int sqlite_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db) == SQLITE_OK
		&& sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;

	if (rc != 0)
		fprintf(stderr, "sqlite3 %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

/*
 * Copies that fail once rows are written: a config naming a profile that
 * is not there (PostgreSQL refuses it at the end of the configs), and a
 * channel link to a channel that is not there (SQLite refuses the row).
 */
static void test_a_copy_that_fails_half_way_writes_nothing(void)
{
	char broken[IT_PATH_MAX + 32], linked[IT_PATH_MAX + 32], into[IT_PATH_MAX + 32];
	char url[256], sql[400];
	run_t r;

	snprintf(broken, sizeof(broken), "%s/broken.db", A.dir);
	snprintf(linked, sizeof(linked), "%s/linked.db", A.dir);
	snprintf(into, sizeof(into), "%s/into.db", A.dir);
	r = copy_store(A_DB, broken, A_KEY);
	CHECK(r.status == 0);
	run_free(&r);
	r = copy_store(A_DB, linked, A_KEY);
	CHECK(r.status == 0);
	run_free(&r);
	snprintf(sql, sizeof(sql), "UPDATE configs SET profile = 'move-ghost' "
			"WHERE client_id = '%s'", OFF.client_id);
	if (!CHECK(sqlite_exec(broken, sql) == 0)
			|| !CHECK(new_pg_db("move_half", url, sizeof(url)) == 0))
		return;
	r = copy_store(broken, url, A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "configs") && contains(r.err, "foreign key")
			&& contains(r.err, "nothing was written"));
	run_free(&r);
	CHECK(dump_empty(url));
	/* The links come after the channels, profiles, groups and configs. */
	snprintf(sql, sizeof(sql), "INSERT INTO config_channels (client_id, position, "
			"channel_id) VALUES ('%s', 99, 'move-ghost')", ON.client_id);
	if (!CHECK(sqlite_exec(linked, sql) == 0))
		return;
	r = copy_store(linked, into, A_KEY);
	CHECK(r.status == 1);
	CHECK(contains(r.err, "config_channels") && contains(r.err, "nothing was written"));
	run_free(&r);
	CHECK(access(into, F_OK) != 0);
}

static const cu_test_t tests[] = {
	{ "SQLite to PostgreSQL and back is the same fleet",
		test_sqlite_to_postgresql_and_back_is_the_same_fleet },
	{ "a broker on the copy serves the old devices",
		test_a_broker_on_the_copy_serves_the_old_devices },
	{ "the copy opens with the fleet's key and no other",
		test_the_copy_opens_with_the_fleets_key_and_no_other },
	{ "the wrong key is refused and nothing written",
		test_the_wrong_key_is_refused_and_nothing_written },
	{ "a target that holds a fleet is refused",
		test_a_target_that_holds_a_fleet_is_refused },
	{ "one store twice and a bad URL are refused",
		test_one_store_twice_and_a_bad_url_are_refused },
	{ "a copy that fails half way writes nothing",
		test_a_copy_that_fails_half_way_writes_nothing },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("move", suite_init, suite_clean, tests);
	return cu_run("test_move");
}
