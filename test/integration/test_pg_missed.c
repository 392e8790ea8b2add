/*
 * An admin change made while another broker was not listening (protocol
 * section 11): brokers A and B on one PostgreSQL, PostgreSQL restarted,
 * and a config disabled and a channel renamed through A before B's
 * listening connection is back. B's connections log in as a role of
 * their own, kept out (NOLOGIN) from before the restart until after the
 * changes, so that B is not listening when they are announced, every
 * time. Once B can connect again it ends the disabled config's live
 * session, refuses its login, and bootstraps with the new channel name.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "store_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* B's role: a superuser, as the test's own one is, but B's alone. */
#define B_ROLE "broker_b"
/* How long after B may connect again its sessions must follow A's
 * change: the contract's second, and the retry second of the listener,
 * with room for a loaded machine. */
#define CATCH_UP_MS 3000

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A on a fresh database (its URL into url), B on the same one as B_ROLE
 * with A's key file. 0, or -1 with none left running. */
static int start_two(broker_t *a, broker_t *b, char *url, size_t len)
{
	char conf[IT_PATH_MAX + 512], *at;

	if (test_store_db("", url, len) != 0 || (at = strstr(url, "://bs@")) == NULL
			|| bs_pg_server_exec(test_pg_server(), NULL,
			"CREATE ROLE " B_ROLE " SUPERUSER LOGIN") != 0)
		return -1;
	snprintf(conf, sizeof conf, "plugin_opt_db_url %s\nplugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow\nplugin_opt_max_failures 0\n", url);
	if (broker_start(a, conf) != 0)
		return -1;
	snprintf(conf, sizeof conf, "plugin_opt_db_url %.*s://" B_ROLE "@%s\n"
			"plugin_opt_client_auth true\nplugin_opt_acl_default allow\n"
			"plugin_opt_max_failures 0\nplugin_opt_key_file %s/bootstrap.key\n",
			(int)(at - url), url, at + strlen("://bs@"), a->dir);
	if (broker_start(b, conf) != 0) {
		broker_cleanup(a);
		return -1;
	}
	return 0;
}

/* B's role let in (1) or kept out (0), on the server's own database. */
static int let_b_in(int in)
{
	bs_pg_server_t *s = test_pg_server();

	return s != NULL ? bs_pg_server_exec(s, NULL, in ? "ALTER ROLE " B_ROLE " LOGIN"
			: "ALTER ROLE " B_ROLE " NOLOGIN") : -1;
}

/* cmd through b, tried while its store comes back (up to ms): 1 when it
 * succeeded. */
static int admin_within(const broker_t *b, json_t *cmd, int ms)
{
	double end = now_ms() + ms;
	json_t *data = NULL;

	while (data == NULL && now_ms() < end) {
		data = admin_ok_take(b, json_incref(cmd));
		if (data == NULL)
			usleep(100 * 1000);
	}
	json_decref(cmd);
	json_decref(data);
	return data != NULL;
}

/* 1 when cfg's bootstrap through b names its channel name within ms. */
static int named_within(const broker_t *b, const boot_cfg_t *cfg, const char *name,
		int ms)
{
	double end = now_ms() + ms;
	int same = 0;

	while (!same && now_ms() < end) {
		char *got = boot_channel_name(b, cfg);
		same = got != NULL && strcmp(got, name) == 0;
		free(got);
		if (!same)
			usleep(100 * 1000);
	}
	return same;
}

static void test_a_change_b_did_not_hear_is_in_force_once_b_is_back(void)
{
	char url[256], *ext = unique_name("pg-missed"), *ext2 = unique_name("pg-kept");
	broker_t a, b;
	boot_cfg_t cfg = { 0 }, other = { 0 };
	client_t *dev = NULL;
	double t0;

	if (!CHECK(start_two(&a, &b, url, sizeof url) == 0))
		goto out;
	if (!CHECK(make_config(&a, ext, NULL, true, &cfg) == 0)
			|| !CHECK(make_config(&a, ext2, NULL, true, &other) == 0))
		goto stop;
	/* B hears of the new config, and reads its login view, first. */
	CHECK(client_connack_within(&b, 5, cfg.client_id, cfg.client_secret, true, 1000) >= 0);
	dev = client_connect(&b, 5, cfg.client_id, cfg.client_id, cfg.client_secret);
	if (!CHECK(dev != NULL))
		goto stop;
	/* B kept out from before the restart until A's changes are made. */
	if (!CHECK(let_b_in(0) == 0) || !CHECK(bs_pg_server_restart(test_pg_server()) == 0))
		goto stop;
	CHECK(admin_within(&a, admin_cmd_by("disableConfig", "client_id", cfg.client_id),
			IT_WAIT_MS));
	CHECK(admin_within(&a, json_pack("{s:s, s:s, s:s}", "command", "modifyChannel",
			"id", other.channel_id, "name", "renamed while B was away"), IT_WAIT_MS));
	/* B heard nothing: its session stands. */
	CHECK(!client_wait_gone(dev, 1500));
	if (!CHECK(let_b_in(1) == 0))
		goto stop;
	t0 = now_ms();
	if (CHECK(client_wait_gone(dev, IT_WAIT_MS > CATCH_UP_MS ? IT_WAIT_MS : CATCH_UP_MS))) {
		double took = now_ms() - t0;
		printf("\n    B ended the session %.0f ms after it could connect again\n", took);
		CHECK(took <= CATCH_UP_MS);
	}
	CHECK(client_connack(&b, 5, cfg.client_id, cfg.client_secret) != 0);
	CHECK(named_within(&b, &other, "renamed while B was away", CATCH_UP_MS));
stop:
	if (dev != NULL)
		client_close(dev);
	let_b_in(1);
	broker_cleanup(&b);
	broker_cleanup(&a);
out:
	boot_cfg_free(&cfg);
	boot_cfg_free(&other);
	free(ext);
	free(ext2);
}

static const cu_test_t tests[] = {
	{ "a change B did not hear is in force once B is back",
		test_a_change_b_did_not_hear_is_in_force_once_b_is_back },
	{ NULL, NULL },
};

int main(void)
{
	setenv("BS_TEST_BACKEND", "postgresql", 1);
	cu_add_suite("pg_missed", NULL, NULL, tests);
	return cu_run("test_pg_missed");
}
