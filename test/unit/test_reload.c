/*
 * lib/conffile.c and lib/reload.c: this plugin's options read back from a
 * mosquitto.conf as the broker reads it, and applied all or none.
 */
#include "admin_env.h"
#include "conffile.h"
#include "cu_main.h"
#include "error.h"
#include "reload.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static char conf[160], plugin[160], other[160];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* A directory with a main file, two plugin files and an include_dir. */
static void files(const char *main_extra)
{
	char dir[160], text[2048], path[200];

	env_open();
	env_path(plugin, sizeof plugin, "ours.so");
	env_path(other, sizeof other, "theirs.so");
	env_path(conf, sizeof conf, "mosquitto.conf");
	env_path(dir, sizeof dir, "conf.d");
	write_text(plugin, "");
	write_text(other, "");
	mkdir(dir, 0700);
	snprintf(text, sizeof text, "# plugin_opt_db_path /commented\n"
			"plugin %s\nplugin_opt_db_path /a.db\n  plugin_opt_key_file   /a key\n"
			"plugin %s\nplugin_opt_db_path /theirs.db\n%sinclude_dir %s\n",
			plugin, other, main_extra, dir);
	write_text(conf, text);
	/* Read in the broker's order: a.conf, then B.conf, then c.conf. */
	snprintf(path, sizeof path, "%s/c.conf", dir);
	snprintf(text, sizeof text, "plugin %s/../ours.so\nplugin_opt_stats_interval 3\n", dir);
	write_text(path, text);
	snprintf(path, sizeof path, "%s/B.conf", dir);
	write_text(path, "plugin_opt_stats_interval 2\n");
	snprintf(path, sizeof path, "%s/a.conf", dir);
	write_text(path, "plugin_opt_stats_interval 1\n");
	snprintf(path, sizeof path, "%s/ignored.txt", dir);
	write_text(path, "plugin_opt_stats_interval 9\n");
}

static void test_options_are_read_as_the_broker_reads_them(void)
{
	bs_conf_opts_t o;
	char err[256];

	files("");
	CU_ASSERT_EQUAL_FATAL(bs_conf_plugin_options(conf, plugin, &o, err, sizeof err), BS_OK);
	/* Ours in the main file, then (after the other plugin's line) ours
	 * again in c.conf: a.conf and B.conf belong to the other plugin. */
	CU_ASSERT_EQUAL_FATAL(o.n, 3);
	CU_ASSERT_STRING_EQUAL(o.v[0].name, "db_path");
	CU_ASSERT_STRING_EQUAL(o.v[0].value, "/a.db");
	CU_ASSERT_STRING_EQUAL(o.v[1].name, "key_file");
	CU_ASSERT_STRING_EQUAL(o.v[1].value, "/a key");
	CU_ASSERT_STRING_EQUAL(o.v[2].name, "stats_interval");
	CU_ASSERT_STRING_EQUAL(o.v[2].value, "3");
	bs_conf_opts_free(&o);
	/* A file that does not load the plugin is refused. */
	CU_ASSERT_EQUAL(bs_conf_plugin_options(conf, conf, &o, err, sizeof err), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no longer loads"));
}

static bs_conf_opts_t opts_of(const char *const *pairs, size_t n)
{
	bs_conf_opts_t o = { 0 };
	static bs_conf_opt_t v[16];
	for (size_t i = 0; i < n; i++) {
		v[i].name = (char *)pairs[2 * i];
		v[i].value = (char *)pairs[2 * i + 1];
	}
	o.v = v;
	o.n = n;
	return o;
}

static void test_reload_takes_all_or_nothing(void)
{
	char err[256], restart[128];
	const char *good[] = { "db_path", env.db, "key_file", "", "admin_users", "ops",
		"log_bootstraps", "all", "max_failures", "9", "stats_interval", "0" };
	const char *bad[] = { "db_path", env.db, "key_file", "", "admin_users", "nobody",
		"max_failures", "lots" };
	char key[200];
	bs_conf_opts_t o;

	env_open();
	env_path(key, sizeof key, "master.key");
	good[3] = bad[3] = key;
	o = opts_of(bad, 4);
	CU_ASSERT_EQUAL(bs_core_reload(env.core, &o, restart, sizeof restart, err, sizeof err),
			BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plugin_opt_max_failures"));
	CU_ASSERT_TRUE(bs_options_is_admin(&env.core->opts, "admin"));
	CU_ASSERT_FALSE(bs_options_is_admin(&env.core->opts, "nobody"));
	o = opts_of(good, 6);
	CU_ASSERT_EQUAL(bs_core_reload(env.core, &o, restart, sizeof restart, err, sizeof err),
			BS_OK);
	CU_ASSERT_STRING_EQUAL(restart, "");
	CU_ASSERT_TRUE(bs_options_is_admin(&env.core->opts, "ops"));
	CU_ASSERT_FALSE(bs_options_is_admin(&env.core->opts, "admin"));
	CU_ASSERT_EQUAL(env.core->opts.log_bootstraps, BS_LOG_BOOT_ALL);
	CU_ASSERT_EQUAL(env.core->lockout.max_failures, 9);
	CU_ASSERT_EQUAL(env.core->opts.stats_interval, 0);
	/* Another database and prefix take a restart: named, not applied. */
	good[1] = "/elsewhere.db";
	o = opts_of(good, 6);
	CU_ASSERT_EQUAL(bs_core_reload(env.core, &o, restart, sizeof restart, err, sizeof err),
			BS_OK);
	CU_ASSERT_STRING_EQUAL(restart, "db_path");
	CU_ASSERT_STRING_EQUAL(env.core->opts.db_path, env.db);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "options are read as the broker reads them",
			test_options_are_read_as_the_broker_reads_them },
		{ "reload takes all or nothing", test_reload_takes_all_or_nothing },
		{ NULL, NULL },
	};

	cu_add_suite("reload", NULL, suite_clean, tests);
	return cu_run("reload");
}
