/*
 * SIGHUP on a real broker: the plugin reads its options again from the
 * configuration file and applies those that can change while running, all
 * of them or none (a bad value is logged, the running options are kept);
 * one that needs a restart is named in one line.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static broker_t B;
static boot_cfg_t cfg;

static int start(void)
{
	if (broker_start(&B, "plugin_opt_log_bootstraps none\nplugin_opt_acl_default allow") != 0)
		return -1;
	return make_config(&B, "reload-dev", NULL, true, &cfg);
}

static int stop(void)
{
	boot_cfg_free(&cfg);
	broker_cleanup(&B);
	return 0;
}

static size_t occurrences(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text ? strstr(text, what) : NULL; p; p = strstr(p + 1, what))
		n++;
	return n;
}

static size_t log_count(const char *what)
{
	char path[IT_PATH_MAX];
	char *text = broker_path(&B, "mosquitto.log", path, sizeof path) == 0
		? read_file_text(path, NULL) : NULL;
	size_t n = occurrences(text, what);
	free(text);
	return n;
}

/* Replaces the line from with to in the configuration. */
static bool edit(const char *from, const char *to)
{
	char *text = read_file_text(B.conf, NULL), *at = text ? strstr(text, from) : NULL;
	bool ok = false;
	if (at != NULL) {
		size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
		char *out = malloc(n);
		if (out != NULL) {
			snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
			ok = write_file_text(B.conf, out) == 0;
		}
		free(out);
	}
	free(text);
	return ok;
}

/* SIGHUP, then waits until the plugin has said it reloaded or refused. */
static bool hup(void)
{
	size_t before = log_count("bootstrap: reload");
	if (kill(B.pid, SIGHUP) != 0)
		return false;
	for (int i = 0; i < 50; i++) {
		if (log_count("bootstrap: reload") > before)
			return true;
		usleep(100000);
	}
	return false;
}

/* A failed bootstrap: how many device lines the log has after it. */
static size_t failed_bootstrap(void)
{
	char *req = boot_request(cfg.external_id, "not-the-key-123", NULL);
	msg_free(device_rr(&B, 4, NULL, req, (int)strlen(req), NULL));
	free(req);
	usleep(200000);
	return log_count("device external_id=reload-dev");
}

static bool is_admin(const char *user, const char *pass)
{
	json_t *r = admin_rr_as(&B, NULL, user, pass, "{\"commands\":[{\"command\":\"getStats\"}]}");
	bool ok = r != NULL;
	json_decref(r);
	return ok;
}

static void test_sighup_applies_the_options_that_may_change(void)
{
	CHECK(failed_bootstrap() == 0);
	CHECK(edit("plugin_opt_log_bootstraps none", "plugin_opt_log_bootstraps all"));
	CHECK(edit("plugin_opt_admin_users admin", "plugin_opt_admin_users alice"));
	if (!CHECK(hup()))
		return;
	CHECK(log_count("bootstrap: reloaded the options from") == 1);
	CHECK(failed_bootstrap() == 1);
	CHECK(is_admin("alice", "alicepw"));
	CHECK(!is_admin("admin", "adminpw"));
}

static void test_a_bad_value_changes_nothing(void)
{
	size_t lines = failed_bootstrap();

	/* One good change and one bad: neither is taken. */
	CHECK(edit("plugin_opt_log_bootstraps all", "plugin_opt_log_bootstraps none\n"
				"plugin_opt_max_failures lots"));
	if (!CHECK(hup()))
		return;
	CHECK(log_count("reload refused, the running options are kept: "
				"plugin_opt_max_failures") == 1);
	CHECK(failed_bootstrap() == lines + 1);
	CHECK(is_admin("alice", "alicepw"));
	CHECK(edit("plugin_opt_max_failures lots\n", ""));
}

/* The store's option names another store: its database on PostgreSQL,
 * else its file. */
static void test_a_restart_only_option_is_named(void)
{
	char other[sizeof B.db_url + 16];

	snprintf(other, sizeof other, "%s-elsewhere", B.db_url);
	CHECK(it_on_pg() ? edit(B.db_url, other) : edit("/bootstrap.db", "/elsewhere.db"));
	if (!CHECK(hup()))
		return;
	CHECK(log_count(it_on_pg()
			? "bootstrap: reload: db_url changed; that takes a restart"
			: "bootstrap: reload: db_path changed; that takes a restart") == 1);
	/* And the running store is the one it started with. */
	char *req = boot_request(cfg.external_id, cfg.external_key, NULL);
	it_msg_t *m = device_rr(&B, 4, NULL, req, (int)strlen(req), NULL);
	CHECK(m != NULL && strstr(m->payload, cfg.client_secret) != NULL);
	msg_free(m);
	free(req);
}

static const cu_test_t tests[] = {
	{ "sighup_applies_the_options_that_may_change",
		test_sighup_applies_the_options_that_may_change },
	{ "a_bad_value_changes_nothing", test_a_bad_value_changes_nothing },
	{ "a_restart_only_option_is_named", test_a_restart_only_option_is_named },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("reload", start, stop, tests);
	return cu_run("test_reload");
}
