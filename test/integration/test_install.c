/*
 * make install, then a broker that reads the installed conf.d snippet (as
 * Debian's mosquitto.conf reads /etc/mosquitto/conf.d) and loads the
 * installed plugin: the admin creates a config, the installed device
 * client bootstraps with it. The install goes under a throwaway PREFIX
 * (SYSCONFDIR is then PREFIX/etc) and its own STATEDIR, so that the
 * snippet's paths are the installed ones. The broker also has a
 * websockets listener whose http_dir is the installed web console, as the
 * README tells an installed broker to have.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static broker_t B;
static char prefix[IT_PATH_MAX], state[IT_PATH_MAX];
static int ws_port;

static int install_into(void)
{
	char p[IT_PATH_MAX + 16], s[IT_PATH_MAX + 16];
	char *argv[] = { "make", "-s", "install", p, s, NULL };

	snprintf(p, sizeof p, "PREFIX=%s", prefix);
	snprintf(s, sizeof s, "STATEDIR=%s", state);
	return run_quiet(argv) == 0 ? 0 : -1;
}

/* The broker's own lines, then the installed snippet. */
static int write_conf(void)
{
	FILE *f = fopen(B.conf, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = broker_conf_base(f, &B) == 0 && fprintf(f, "password_file %s/passwd\n"
			"listener %d 127.0.0.1\nprotocol websockets\n"
			"http_dir %s/share/mosquitto-bootstrap/console\n"
			"include_dir %s/etc/mosquitto/conf.d\n", B.dir, ws_port, prefix, prefix) > 0 ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

static int suite_init(void)
{
	char *passwd[] = { "mosquitto_passwd", "-b", "-c", NULL, "admin", "adminpw", NULL };
	char pw[IT_PATH_MAX];

	if (broker_prepare(&B, NULL, BROKER_NO_CONF) != 0
			|| broker_path(&B, "usr", prefix, sizeof prefix) != 0
			|| broker_path(&B, "state", state, sizeof state) != 0
			|| broker_path(&B, "passwd", pw, sizeof pw) != 0
			|| mkdir(state, 0700) != 0)
		return -1;
	passwd[3] = pw;
	if ((ws_port = it_free_port()) < 0)
		return -1;
	if (install_into() != 0 || run_quiet(passwd) != 0 || write_conf() != 0)
		return -1;
	return broker_launch(&B);
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

static void test_installed_plugin_and_client_bootstrap_a_device(void)
{
	char client[IT_PATH_MAX + 32], port[16], db[IT_PATH_MAX + 32];
	char *out = NULL, *err = NULL;
	boot_cfg_t cfg = { 0 };
	struct stat st;

	if (!CHECK(make_config(&B, "installed-dev", NULL, true, &cfg) == 0))
		return;
	snprintf(client, sizeof client, "%s/bin/mosquitto_bootstrap_device", prefix);
	snprintf(port, sizeof port, "%d", B.port);
	char *argv[] = { client, "-h", "127.0.0.1", "-p", port, "-W", "5",
		"-E", cfg.external_id, "--key-file", "-", NULL };
	CHECK(run_capture(argv, cfg.external_key, &out, &err) == 0);
	CHECK(out != NULL && strstr(out, cfg.client_secret) != NULL);
	/* The database and the key are where the snippet says. */
	snprintf(db, sizeof db, "%s/bootstrap.db", state);
	CHECK(stat(db, &st) == 0 && (st.st_mode & 077) == 0);
	snprintf(db, sizeof db, "%s/bootstrap.key", state);
	CHECK(stat(db, &st) == 0 && (st.st_mode & 077) == 0);
	free(out);
	free(err);
	boot_cfg_free(&cfg);
}

static void test_installed_man_pages_render(void)
{
	char page[IT_PATH_MAX + 64];
	char *out = NULL, *err = NULL;

	snprintf(page, sizeof page, "%s/share/man/man7/mosquitto_bootstrap.7", prefix);
	char *argv[] = { "man", "-l", page, NULL };
	CHECK(run_capture(argv, NULL, &out, &err) == 0);
	CHECK(out != NULL && strstr(out, "a Mosquitto plugin that bootstraps") != NULL);
	free(out);
	free(err);
}

static void test_installed_console_is_served(void)
{
	char *index = http_get(ws_port, "/");
	char *script = http_get(ws_port, "/console.js");

	CHECK(index != NULL && strncmp(index, "HTTP/1.0 200", 12) == 0);
	CHECK(index != NULL && strstr(index, "<title>Bootstrap console</title>") != NULL);
	CHECK(index != NULL && strstr(index, "Content-Security-Policy") != NULL);
	CHECK(script != NULL && strncmp(script, "HTTP/1.0 200", 12) == 0 && strlen(script) > 100000);
	free(index);
	free(script);
}

static const cu_test_t tests[] = {
	{ "installed_plugin_and_client_bootstrap_a_device",
		test_installed_plugin_and_client_bootstrap_a_device },
	{ "installed_man_pages_render", test_installed_man_pages_render },
	{ "installed_console_is_served", test_installed_console_is_served },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("install", suite_init, suite_clean, tests);
	return cu_run("test_install");
}
