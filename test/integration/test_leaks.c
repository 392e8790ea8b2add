/*
 * Nothing leaks (protocol section 2): on a real broker, every external
 * key, client secret and client key made by this test stays out of the
 * broker's log, out of the database's bytes (database, WAL, shared
 * memory; on PostgreSQL every row of its database), out of every
 * reply but its own, and out of everything a client subscribed to '#' and
 * '$CONTROL/#' receives, after bootstraps in every mode, logins, wrong
 * keys and admin commands.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "leakscan.h"
#include "sealed.h"
#include "store_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NDEV 3

static broker_t B;

typedef struct {
	char *ext, *key, *secret;
	char *cert, *pkey, *pkey_line;  /* pkey_line: a line of the private key */
	char *client_id;
} leak_dev_t;

static leak_dev_t devs[NDEV];

static int suite_init(void)
{
	return broker_start(&B, "plugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow\nplugin_opt_log_bootstraps all");
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	for (int i = 0; i < NDEV; i++) {
		free(devs[i].ext);
		free(devs[i].key);
		free(devs[i].secret);
		free(devs[i].cert);
		free(devs[i].pkey);
		free(devs[i].pkey_line);
		free(devs[i].client_id);
	}
	return 0;
}

/* The second line of a PEM text: 64 characters of the key itself. */
static char *pem_line(const char *pem)
{
	const char *a = strchr(pem, '\n');
	const char *b = a ? strchr(a + 1, '\n') : NULL;
	return a && b ? strndup(a + 1, (size_t)(b - a - 1)) : NULL;
}

static bool make_device(int i, leak_dev_t *d)
{
	char name[32];
	json_t *extra, *data;

	snprintf(name, sizeof name, "leak-%d", i);
	d->ext = unique_name("leak-ext");
	d->key = unique_name("ExternalKeyThatMustNotLeak");
	d->secret = unique_name("ClientSecretThatMustNotLeak");
	if (make_cert(B.dir, name, &d->cert, &d->pkey) != 0
			|| (d->pkey_line = pem_line(d->pkey)) == NULL)
		return false;
	extra = json_pack("{ss ss ss ss}", "external_key", d->key,
			"client_secret", d->secret, "client_cert", d->cert, "client_key", d->pkey);
	data = admin_create_config(&B, d->ext, extra);
	json_decref(extra);
	d->client_id = jstr(data, "client_id") ? strdup(jstr(data, "client_id")) : NULL;
	json_decref(data);
	if (d->client_id == NULL)
		return false;
	data = admin_ok_take(&B, json_pack("{ss ss}", "command", "enableConfig",
				"client_id", d->client_id));
	json_decref(data);
	return data != NULL;
}

/* The secrets of d, for scanning. */
static const char *secrets_of(const leak_dev_t *d, int k)
{
	return k == 0 ? d->key : k == 1 ? d->secret : d->pkey_line;
}

static bool contains(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n > 0 && n <= len && i <= len - n; i++) {
		if (memcmp(text + i, needle, n) == 0)
			return true;
	}
	return false;
}

/* True when text holds a secret of any device but own (NULL: any). */
static bool holds_secret(const char *text, size_t len, const leak_dev_t *own)
{
	for (int i = 0; i < NDEV; i++) {
		for (int k = 0; k < 3; k++) {
			const char *s = secrets_of(&devs[i], k);
			if (&devs[i] == own || s == NULL)
				continue;
			if (contains(text, len, s)) {
				fprintf(stderr, "leak of a secret of device %d (kind %d)\n", i, k);
				return true;
			}
		}
	}
	return false;
}

static json_t *ask(const leak_dev_t *d, const char *payload, bool *own_only)
{
	char sub[400];
	it_msg_t *m;
	json_t *reply;

	snprintf(sub, sizeof sub, "bootstrap/res/%s", d->ext);
	m = device_rr(&B, 5, sub, payload, (int)strlen(payload), NULL);
	*own_only = m == NULL || !holds_secret(m->payload, (size_t)m->len, d);
	reply = msg_json(m);
	msg_free(m);
	return reply;
}

/* Every mode, a wrong key, and a login, for device i. */
static void exercise(int i)
{
	leak_dev_t *d = &devs[i];
	char req[1024], proof[64], nonce64[64];
	uint8_t nonce[32], raw[48];
	bool own;
	json_t *r;
	client_t *c;

	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"external_key\":\"%s\"%s}",
			d->ext, d->key, i == 1 ? ",\"encrypt\":true" : "");
	r = ask(d, req, &own);
	CHECK(own);
	/* The scan looks for the right strings: its own reply has them. */
	if (i == 1)
		CHECK(json_object_get(r, "encrypted") != NULL);
	else
		CHECK_STR(jstr(r, "client_secret"), d->secret);
	json_decref(r);
	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"external_key\":\"wrong-%s\"}",
			d->ext, d->key);
	r = ask(d, req, &own);
	CHECK(own);
	CHECK_STR(jstr(r, "error"), "unauthorized");
	json_decref(r);
	snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"op\":\"challenge\"}", d->ext);
	r = ask(d, req, &own);
	if (CHECK(jstr(r, "nonce") != NULL && sealed_unb64(jstr(r, "nonce"), raw) == 32)) {
		memcpy(nonce, raw, 32);
		CHECK(sealed_proof(B.dir, d->key, nonce, d->ext, proof) == 0);
		snprintf(nonce64, sizeof nonce64, "%s", jstr(r, "nonce"));
		snprintf(req, sizeof req, "{\"external_id\":\"%s\",\"nonce\":\"%s\","
				"\"proof\":\"%s\"}", d->ext, nonce64, proof);
		json_decref(r);
		r = ask(d, req, &own);
		CHECK(own && json_object_get(r, "encrypted") != NULL);
	}
	json_decref(r);
	c = client_connect(&B, 4, NULL, d->client_id, d->secret);
	if (CHECK(c != NULL))
		CHECK(client_publish(c, "channels/none/messages/x", "hello", 5, NULL) >= 0);
	client_close(c);
}

/* The whole file at name in the broker's directory, or "" when missing. */
static char *file_bytes(const char *name, size_t *len)
{
	char path[IT_PATH_MAX];
	char *text;

	*len = 0;
	if (broker_path(&B, name, path, sizeof path) != 0
			|| (text = read_file_text(path, len)) == NULL)
		return strdup("");
	return text;
}

/* On PostgreSQL, no row of the database holds a secret; the rows are
 * shown to be read by an external ID, which is no secret. */
static void check_database(void)
{
	char *rows = test_pg_rows(B.db_url);

	CHECK(rows != NULL && strstr(rows, devs[0].ext) != NULL);
	if (rows != NULL && !CHECK(!holds_secret(rows, strlen(rows), NULL)))
		fprintf(stderr, "  in the database\n");
	free(rows);
}

static void test_no_secret_reaches_a_log_a_file_or_another_client(void)
{
	static const char *const files[] = { "mosquitto.log", "stderr.log",
		"bootstrap.db", "bootstrap.db-wal", "bootstrap.db-shm" };
	client_t *watch = client_connect(&B, 5, NULL, NULL, NULL);
	it_msg_t *m;
	size_t seen = 0;

	if (!CHECK(watch != NULL))
		return;
	CHECK(client_subscribe(watch, "#", 1) == 1);
	CHECK(client_subscribe(watch, "$CONTROL/#", 1) == 1);
	for (int i = 0; i < NDEV; i++)
		if (!CHECK(make_device(i, &devs[i])))
			goto out;
	for (int i = 0; i < NDEV; i++)
		exercise(i);
	/* A read of each config, as an admin does. */
	for (int i = 0; i < NDEV; i++)
		json_decref(admin_get_config(&B, "client_id", devs[i].client_id));
	/* Last, a message the watcher must see, so that it is shown to work. */
	CHECK(client_publish(watch, "leak/probe", "probe", 5, NULL) >= 0);
	while ((m = client_wait(watch, IT_QUIET_MS)) != NULL) {
		CHECK(!holds_secret(m->payload, (size_t)m->len, NULL));
		CHECK(!holds_secret(m->topic, strlen(m->topic), NULL));
		seen++;
		msg_free(m);
	}
	CHECK(seen > 0);
	/* And the log has the lines to scan: every request is logged. */
	CHECK(broker_log_contains(&B, devs[0].ext));
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		size_t len;
		char *bytes = file_bytes(files[f], &len);
		if (!CHECK(!holds_secret(bytes, len, NULL)))
			fprintf(stderr, "  in %s\n", files[f]);
		free(bytes);
	}
	if (it_on_pg())
		check_database();
out:
	client_close(watch);
}

/*
 * The scan that runs beside every integration test (leakscan.h) finds what
 * it looks for: a client secret written into a log file and an external
 * key published where a '#' subscriber sees it are two findings.
 */
static void test_suite_wide_scan_finds_planted_secrets(void)
{
	broker_t own;
	char path[IT_PATH_MAX];
	json_t *data = NULL;
	client_t *c = NULL;

	if (!CHECK(broker_start(&own, "plugin_opt_acl_default allow") == 0))
		return;
	data = admin_create_config(&own, "planted", NULL);
	const char *key = jstr(data, "external_key"), *secret = jstr(data, "client_secret");
	c = client_connect(&own, 4, NULL, NULL, NULL);
	if (!CHECK(key != NULL && secret != NULL && c != NULL)
			|| !CHECK(client_subscribe(c, "planted/#", 1) == 1))
		goto out;
	CHECK(client_publish(c, "planted/key", key, (int)strlen(key), NULL) >= 0);
	msg_free(client_wait(c, IT_WAIT_MS));
	CHECK(broker_path(&own, "planted.log", path, sizeof path) == 0
			&& write_file_text(path, secret) == 0);
	CHECK(broker_stop(&own) == 0);
	CHECK(leak_scan(&own) == 2);
	unlink(path);
out:
	client_close(c);
	json_decref(data);
	broker_cleanup(&own);
}

static const cu_test_t tests[] = {
	{ "no_secret_reaches_a_log_a_file_or_another_client",
		test_no_secret_reaches_a_log_a_file_or_another_client },
	{ "suite_wide_scan_finds_planted_secrets",
		test_suite_wide_scan_finds_planted_secrets },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("leaks", suite_init, suite_clean, tests);
	return cu_run("test_leaks");
}
