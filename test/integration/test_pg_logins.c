/*
 * Logins on PostgreSQL answered from memory (lib/logins.h): brokers A and
 * B on one database. A config made, disabled, enabled, given a new secret
 * or deleted through A is in force for logins on B within a second; with
 * PostgreSQL frozen, B answers the login of a config it never saw at once
 * (from the login views it read at start) where a read of the store would
 * wait for the statement timeout; and a wrong secret is never let in.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "store_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How soon B must follow a change made through A (the contract's second). */
#define FOLLOW_MS 1000
/* A login answered at once, with room for a loaded machine. */
#define AT_ONCE_MS 1000

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The password_file user that B knows besides the plugin. */
#define FILE_PW "file-password"

/* A broker on a fresh database (url filled), or on url with peer's key;
 * file_user (may be NULL) is a user of its password_file, FILE_PW. */
static int start_with(broker_t *b, char *url, size_t len, const broker_t *peer,
		const char *file_user)
{
	char conf[700];
	int rc;

	if (peer == NULL && test_store_db("", url, len) != 0)
		return -1;
	snprintf(conf, sizeof conf, "plugin_opt_db_url %s\nplugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow\nplugin_opt_max_failures 0", url);
	if (peer == NULL)
		return broker_start(b, conf);
	rc = broker_prepare_peer(b, conf, peer);
	if (rc == 0 && file_user != NULL) {
		char passwd[IT_PATH_MAX];
		char *argv[] = { "mosquitto_passwd", "-b", passwd, (char *)file_user,
			FILE_PW, NULL };
		rc = broker_path(b, "passwd", passwd, sizeof passwd) == 0
			&& run_quiet(argv) == 0 ? 0 : -1;
	}
	return rc == 0 ? broker_launch(b) : -1;
}

static int start_on(broker_t *b, char *url, size_t len, const broker_t *peer)
{
	return start_with(b, url, len, peer, NULL);
}

/* A wrong secret, refused: checked at every step. */
static void wrong_refused(const broker_t *b, const boot_cfg_t *cfg)
{
	CHECK(client_connack(b, 5, cfg->client_id, "wrong-secret-0123456789abcdef") != 0);
	CHECK(client_connack(b, 5, cfg->client_id, "") != 0);
}

/* B follows cfg's state: let in (or refused) within FOLLOW_MS, printed. */
static void follows(const broker_t *b, const boot_cfg_t *cfg, const char *secret,
		bool let_in, const char *what)
{
	double took = client_connack_within(b, 5, cfg->client_id, secret, let_in,
			IT_WAIT_MS);

	if (CHECK(took >= 0)) {
		printf("\n    %s: B %s the login in %.0f ms", what,
				let_in ? "let in" : "refused", took);
		CHECK(took <= FOLLOW_MS);
	}
}

static json_t *cmd_one(const char *command, const char *client_id)
{
	return admin_cmd_by(command, "client_id", client_id);
}

static void test_changes_through_a_are_in_force_on_b_within_a_second(void)
{
	char url[256], *ext = unique_name("pg-logins"), *id = unique_name("pg-login-id");
	broker_t a, b;
	boot_cfg_t cfg = { 0 };
	json_t *data, *extra;
	char *secret = NULL;
	int rc;

	if (!CHECK(start_on(&a, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(start_with(&b, url, sizeof url, &a, id) == 0)) {
		broker_cleanup(&a);
		goto out;
	}
	/* Before the config, its client_id is left to the password_file. */
	CHECK(client_connack(&b, 5, id, FILE_PW) == 0);
	extra = json_pack("{s:s}", "client_id", id);
	rc = make_config(&a, ext, extra, true, &cfg);
	json_decref(extra);
	if (!CHECK(rc == 0))
		goto stop;
	CHECK_STR(cfg.client_id, id);
	follows(&b, &cfg, cfg.client_secret, true, "created through A");
	wrong_refused(&b, &cfg);
	data = admin_ok_take(&a, cmd_one("disableConfig", cfg.client_id));
	CHECK(data != NULL);
	json_decref(data);
	follows(&b, &cfg, cfg.client_secret, false, "disabled through A");
	data = admin_ok_take(&a, cmd_one("enableConfig", cfg.client_id));
	CHECK(data != NULL);
	json_decref(data);
	follows(&b, &cfg, cfg.client_secret, true, "enabled through A");
	wrong_refused(&b, &cfg);
	data = admin_ok_take(&a, json_pack("{s:s, s:s, s:b}", "command", "modifyConfig",
			"client_id", cfg.client_id, "rotate_secret", 1));
	if (CHECK(data != NULL) && CHECK(jstr(data, "client_secret") != NULL))
		secret = strdup(jstr(data, "client_secret"));
	json_decref(data);
	if (secret != NULL) {
		CHECK(strcmp(secret, cfg.client_secret) != 0);
		follows(&b, &cfg, cfg.client_secret, false, "old secret after a new one");
		follows(&b, &cfg, secret, true, "new secret");
		CHECK(client_connack(&b, 5, cfg.client_id, cfg.client_secret) != 0);
		CHECK(client_connack(&a, 5, cfg.client_id, cfg.client_secret) != 0);
		CHECK(client_connack(&a, 5, cfg.client_id, secret) == 0);
	}
	wrong_refused(&b, &cfg);
	data = admin_ok_take(&a, cmd_one("deleteConfig", cfg.client_id));
	CHECK(data != NULL);
	json_decref(data);
	follows(&b, &cfg, secret ? secret : cfg.client_secret, false, "deleted through A");
	/* Refused by the plugin, not left to the broker's other sources. */
	CHECK(client_connack(&b, 5, id, FILE_PW) != 0);
	printf("\n");
stop:
	broker_cleanup(&b);
	broker_cleanup(&a);
out:
	free(secret);
	boot_cfg_free(&cfg);
	free(ext);
	free(id);
}

/*
 * B started after the configs were made: it read them at start and never
 * saw a login of x. With PostgreSQL frozen, x logs in through B at once,
 * and a wrong secret is refused at once.
 */
static void test_frozen_postgresql_holds_up_no_login(void)
{
	char url[256], *e1 = unique_name("pg-seen"), *e2 = unique_name("pg-unseen");
	broker_t a, b;
	boot_cfg_t ready = { 0 }, x = { 0 };
	double t0, took;
	int rc;

	if (!CHECK(start_on(&a, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&a, e1, NULL, true, &ready) == 0)
			|| !CHECK(make_config(&a, e2, NULL, true, &x) == 0)
			|| !CHECK(start_on(&b, url, sizeof url, &a) == 0))
		goto stop_a;
	/* B has read the login views once another config logs in. */
	CHECK(client_connack_within(&b, 5, ready.client_id, ready.client_secret, true,
			IT_WAIT_MS) >= 0);
	if (!CHECK(bs_pg_server_freeze(test_pg_server(), 1) == 0))
		goto stop;
	t0 = now_ms();
	rc = client_connack(&b, 5, x.client_id, x.client_secret);
	took = now_ms() - t0;
	CHECK(rc == 0);
	printf("\n    with PostgreSQL frozen, a config B never saw logged in through B "
			"in %.0f ms\n", took);
	CHECK(took <= AT_ONCE_MS);
	t0 = now_ms();
	CHECK(client_connack(&b, 5, x.client_id, "wrong-secret-0123456789abcdef") != 0);
	CHECK(now_ms() - t0 <= AT_ONCE_MS);
	bs_pg_server_freeze(test_pg_server(), 0);
	wrong_refused(&b, &x);
	CHECK(client_connack(&b, 5, x.client_id, x.client_secret) == 0);
stop:
	bs_pg_server_freeze(test_pg_server(), 0);
	broker_cleanup(&b);
stop_a:
	broker_cleanup(&a);
out:
	boot_cfg_free(&ready);
	boot_cfg_free(&x);
	free(e1);
	free(e2);
}

/* PostgreSQL restarted under B: its login views are dropped, read
 * again, and logins are answered as before; a wrong secret never is, and
 * a password_file user is let in throughout. */
static void test_logins_come_back_after_a_restart(void)
{
	char url[256], *ext = unique_name("pg-relog"), *id = unique_name("pg-relog-file");
	broker_t a, b;
	boot_cfg_t cfg = { 0 };

	if (!CHECK(start_on(&a, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(start_with(&b, url, sizeof url, &a, id) == 0))
		goto stop_a;
	if (!CHECK(make_config(&b, ext, NULL, true, &cfg) == 0))
		goto stop;
	CHECK(client_connack(&b, 5, cfg.client_id, cfg.client_secret) == 0);
	CHECK(bs_pg_server_restart(test_pg_server()) == 0);
	CHECK(client_connack(&b, 5, id, FILE_PW) == 0);
	wrong_refused(&b, &cfg);
	CHECK(client_connack(&b, 5, id, FILE_PW) == 0);
	CHECK(client_connack_within(&b, 5, cfg.client_id, cfg.client_secret, true,
			3 * IT_WAIT_MS) >= 0);
	wrong_refused(&b, &cfg);
stop:
	broker_cleanup(&b);
stop_a:
	broker_cleanup(&a);
out:
	boot_cfg_free(&cfg);
	free(ext);
	free(id);
}

/* The broker's log, "mosquitto.log" in its directory (malloc()ed). */
static char *broker_log(const broker_t *b)
{
	char path[IT_PATH_MAX];

	return broker_path(b, "mosquitto.log", path, sizeof path) == 0
		? read_file_text(path, NULL) : NULL;
}

/*
 * The copy is read while the plugin starts, before Mosquitto opens its
 * listeners: the first login already finds it, and a password_file user
 * is let in at once, never refused for the copy's sake.
 */
static void test_the_copy_is_loaded_before_the_broker_listens(void)
{
	char url[256], *ext = unique_name("pg-early"), *id = unique_name("pg-early-file");
	broker_t a, b;
	boot_cfg_t cfg = { 0 };
	char *log;
	const char *loaded, *running;

	if (!CHECK(start_on(&a, url, sizeof url, NULL) == 0))
		goto out;
	if (!CHECK(make_config(&a, ext, NULL, true, &cfg) == 0)
			|| !CHECK(start_with(&b, url, sizeof url, &a, id) == 0))
		goto stop_a;
	CHECK(client_connack(&b, 5, id, FILE_PW) == 0);
	CHECK(client_connack(&b, 5, cfg.client_id, cfg.client_secret) == 0);
	wrong_refused(&b, &cfg);
	log = broker_log(&b);
	loaded = log ? strstr(log, "deleted client ids in memory") : NULL;
	running = log ? strstr(log, " running") : NULL;
	CHECK(loaded != NULL && running != NULL && loaded < running);
	free(log);
	broker_cleanup(&b);
stop_a:
	broker_cleanup(&a);
out:
	boot_cfg_free(&cfg);
	free(ext);
	free(id);
}

static const cu_test_t tests[] = {
	{ "changes through A are in force on B within a second",
		test_changes_through_a_are_in_force_on_b_within_a_second },
	{ "frozen PostgreSQL holds up no login",
		test_frozen_postgresql_holds_up_no_login },
	{ "logins come back after a restart", test_logins_come_back_after_a_restart },
	{ "the copy is loaded before the broker listens",
		test_the_copy_is_loaded_before_the_broker_listens },
	{ NULL, NULL },
};

int main(void)
{
	setenv("BS_TEST_BACKEND", "postgresql", 1);
	cu_add_suite("pg_logins", NULL, NULL, tests);
	return cu_run("test_pg_logins");
}
