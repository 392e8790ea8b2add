/*
 * The shipped configurations in config-examples/, each started as it is
 * after its prepare step: prepare.sh fills a temporary directory (VAR_DIR)
 * and the test starts a copy of the file in which the only changes are the
 * listener's port (a free one), var/ (that directory) and the plugin's path
 * (absolute, the sanitizer build under make test-san). Then the admin
 * creates a config, a device bootstraps, and, where the file lets
 * bootstrapped devices log in, the device logs in with the credentials its
 * bootstrap reply gave it and uses its channel. The TLS example's device
 * is the reference client, over TLS with the example's CA; the issuing
 * example's device bootstraps with a CSR and then publishes by certificate
 * with mosquitto_pub, as the README's walkthrough does. The web
 * console's websockets listener of mosquitto.conf moves to a free port
 * too, and serves the console that make console built.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ADMIN_PASSWORD "adminpw"    /* what the harness's admin helpers use */
#define SHIPPED_LISTENER "listener 1883 127.0.0.1"
#define SHIPPED_TLS_LISTENER "listener 8883 127.0.0.1"
#define SHIPPED_WS_LISTENER "listener 9001 127.0.0.1"
#define DEVICE_BIN ((char *)device_bin())

static broker_t B;

/* ---- starting a shipped file ------------------------------------------ */

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p != NULL;
			p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

/* text with each from replaced by to (malloc()ed). */
static char *replace_all(const char *text, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = count(text, from);
	char *out = malloc(strlen(text) + n * (tl > fl ? tl - fl : 0) + 1);
	if (out == NULL)
		return NULL;
	char *w = out;
	for (const char *p = text;;) {
		const char *at = strstr(p, from);
		size_t len = at != NULL ? (size_t)(at - p) : strlen(p);
		memcpy(w, p, len);
		w += len;
		if (at == NULL)
			break;
		memcpy(w, to, tl);
		w += tl;
		p = at + fl;
	}
	*w = '\0';
	return out;
}

/* text (taken) loading the plugin the harness tests (broker_plugin: the
 * same file, or the sanitizer build) instead of the shipped path. */
static char *with_plugin(char *text)
{
	char line[IT_PATH_MAX + 8], *out;
	if (text == NULL || broker_plugin(line + 7, sizeof line - 7) != 0) {
		free(text);
		return NULL;
	}
	memcpy(line, "plugin ", 7);
	out = replace_all(text, "plugin plugin/mosquitto_bootstrap.so", line);
	free(text);
	return out;
}

static int ws_port;             /* where the console's listener went, or 0 */

/*
 * The shipped file, moved to b's port and directory (malloc()ed); a file
 * with a TLS listener (SHIPPED_TLS_LISTENER) has it moved to tls_port, and
 * one with the console's (SHIPPED_WS_LISTENER) has it moved to ws_port.
 */
static char *rewritten(const broker_t *b, const char *conf_file, int tls_port)
{
	char listener[64], tls_listener[64], ws_listener[64], dir[IT_PATH_MAX + 2];
	char *text = read_file_text(conf_file, NULL), *moved = NULL, *out = NULL;
	size_t listeners = tls_port > 0 ? 2 : 1;
	snprintf(listener, sizeof listener, "listener %d 127.0.0.1", b->port);
	snprintf(tls_listener, sizeof tls_listener, "listener %d 127.0.0.1", tls_port);
	snprintf(dir, sizeof dir, "%s/", b->dir);
	ws_port = 0;
	if (text != NULL && count(text, "\n" SHIPPED_WS_LISTENER "\n") == 1) {
		if ((ws_port = it_free_port()) <= 0) {
			free(text);
			return NULL;
		}
		listeners++;
	}
	snprintf(ws_listener, sizeof ws_listener, "listener %d 127.0.0.1", ws_port);
	/* Any other listener would stay on a fixed port. */
	if (text != NULL && (count(text, "\nlistener ") != listeners ||
				count(text, "\n" SHIPPED_LISTENER "\n") != 1 ||
				(tls_port > 0 && count(text, "\n" SHIPPED_TLS_LISTENER "\n") != 1) ||
				count(text, "var/") == 0))
		fprintf(stderr, "%s: expected one \"%s\" line%s and var/ paths\n",
				conf_file, SHIPPED_LISTENER, tls_port > 0
				? ", one \"" SHIPPED_TLS_LISTENER "\" line" : "");
	else if (text != NULL)
		moved = replace_all(text, SHIPPED_LISTENER, listener);
	if (moved != NULL && tls_port > 0) {
		char *tls = replace_all(moved, SHIPPED_TLS_LISTENER, tls_listener);
		free(moved);
		moved = tls;
	}
	if (moved != NULL && ws_port > 0) {
		char *ws = replace_all(moved, SHIPPED_WS_LISTENER, ws_listener);
		free(moved);
		moved = ws;
	}
	if (moved != NULL)
		out = replace_all(moved, "var/", dir);
	free(text);
	free(moved);
	return with_plugin(out);
}

/* Runs config-examples/prepare.sh [setup] with VAR_DIR set to b's dir. */
static int prepare(const broker_t *b, const char *setup)
{
	char var[IT_PATH_MAX + 16];
	snprintf(var, sizeof var, "VAR_DIR=%s", b->dir);
	char *argv[] = { "env", var, "ADMIN_PASSWORD=" ADMIN_PASSWORD, "sh",
		"config-examples/prepare.sh", (char *)setup, NULL };
	if (run_quiet(argv) != 0) {
		fprintf(stderr, "prepare.sh %s failed\n", setup != NULL ? setup : "");
		return -1;
	}
	return 0;
}

static bool logs_in;            /* the file sets plugin_opt_client_auth true */
static int tls_port;            /* where the file's TLS listener went, or 0 */

static int start_example(const char *conf_file, const char *setup)
{
	if (broker_prepare(&B, NULL, BROKER_NO_CONF) != 0)
		return -1;
	B.tls_port = tls_port;      /* broker_launch waits for it to listen too */
	char *conf = prepare(&B, setup) == 0 ? rewritten(&B, conf_file, tls_port) : NULL;
	int rc = conf != NULL && write_file_text(B.conf, conf) == 0
		? broker_launch(&B) : -1;
	logs_in = conf != NULL && strstr(conf, "\nplugin_opt_client_auth true\n") != NULL;
	free(conf);
	if (rc != 0)
		broker_cleanup(&B);
	return rc;
}

static int start_default(void)
{
	return start_example("config-examples/mosquitto.conf", NULL);
}

static int start_plugin_alone(void)
{
	return start_example("config-examples/plugin-alone.conf", "plugin-alone");
}

static int start_with_files(void)
{
	return start_example("config-examples/with-files.conf", "with-files");
}

static int start_with_dynsec(void)
{
	return start_example("config-examples/with-dynsec.conf", "with-dynsec");
}

static int start_with_tls(void)
{
	if ((tls_port = it_free_port()) <= 0)
		return -1;
	int rc = start_example("config-examples/with-tls.conf", "with-tls");
	tls_port = 0;
	return rc;
}

static int start_with_issuing(void)
{
	if ((tls_port = it_free_port()) <= 0)
		return -1;
	int rc = start_example("config-examples/with-issuing.conf", "with-issuing");
	tls_port = 0;
	return rc;
}

static int stop_broker(void)
{
	broker_cleanup(&B);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */


/* A new enabled config, and the bootstrap reply its device gets. */
static json_t *bootstrap_new_device(boot_cfg_t *cfg)
{
	char *ext = unique_name("example");
	char *req = NULL;
	json_t *reply = NULL;
	if (CHECK(ext != NULL && make_config(&B, ext, NULL, true, cfg) == 0))
		req = boot_request(cfg->external_id, cfg->external_key, "e1");
	if (CHECK(req != NULL)) {
		it_msg_t *m = device_rr(&B, 4, NULL, req, (int)strlen(req), NULL);
		reply = msg_json(m);
		msg_free(m);
	}
	free(req);
	free(ext);
	return reply;
}

/* mosquitto_ctrl, as the admin, on this broker: its exit status. */
static int ctrl(const char *const *args)
{
	char port[16];
	char *argv[16] = { "mosquitto_ctrl", "-h", "127.0.0.1", "-p", port,
		"-u", "admin", "-P", ADMIN_PASSWORD, "dynsec" };
	size_t n = 10;
	snprintf(port, sizeof port, "%d", B.port);
	for (; *args != NULL && n + 1 < sizeof argv / sizeof argv[0]; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return run_quiet(argv);
}

/* ---- the checks ------------------------------------------------------- */

/* The broker is up and the plugin answers its admin (as root, the broker
 * runs as "mosquitto": prepare.sh gave that user the directory). */
static void test_broker_runs_the_plugin(void)
{
	CHECK(broker_alive(&B));
	json_t *data = admin_ok_take(&B, json_pack("{ss}", "command", "listConfigs"));
	CHECK(data != NULL);
	json_decref(data);
}

/* make run's file serves the web console on its websockets listener. */
static void test_default_serves_the_console(void)
{
	char *index = NULL, *script = NULL;
	if (!CHECK(ws_port > 0))
		return;
	index = http_get(ws_port, "/");
	script = http_get(ws_port, "/console.js");
	CHECK(index != NULL && strncmp(index, "HTTP/1.0 200", 12) == 0 &&
			strstr(index, "<title>Bootstrap console</title>") != NULL);
	CHECK(script != NULL && strncmp(script, "HTTP/1.0 200", 12) == 0);
	free(index);
	free(script);
}

/*
 * The admin creates a config, its device bootstraps anonymously, then logs
 * in with what the reply gave it and publishes on its channel (or, where
 * the file does not let devices log in, is refused).
 */
static void test_device_bootstraps_then_logs_in_on_its_channel(void)
{
	boot_cfg_t cfg;
	json_t *reply = bootstrap_new_device(&cfg);
	const char *id = jstr(reply, "client_id"), *secret = jstr(reply, "client_secret");
	char *filter = cfg.channel_id != NULL ? channel_topic(cfg.channel_id, "#") : NULL;
	char *topic = cfg.channel_id != NULL ? channel_topic(cfg.channel_id, "temp") : NULL;
	client_t *c = NULL;
	CHECK_STR(id, cfg.client_id);
	if (!CHECK(secret != NULL && filter != NULL && topic != NULL))
		goto out;
	if (!logs_in) {
		CHECK(client_connack(&B, 4, id, secret) == 5);
		goto out;
	}
	c = client_connect(&B, 5, id, id, secret);
	if (CHECK(c != NULL))
		CHECK(client_echo(c, filter, topic) == 0);
out:
	client_close(c);
	free(topic);
	free(filter);
	json_decref(reply);
	boot_cfg_free(&cfg);
}

/* Only the admin may log in with a username, and only to administer. */
static void test_plugin_alone_refuses_other_users_and_topics(void)
{
	client_t *anon = client_connect(&B, 5, NULL, NULL, NULL);
	client_t *admin = client_connect(&B, 5, NULL, "admin", ADMIN_PASSWORD);
	static const pub_opts_t q1 = { .qos = 1 };
	CHECK(client_connack(&B, 4, "ops", "ops-password") == 5);
	CHECK(client_connack(&B, 4, "admin", "wrong") == 5);
	if (!CHECK(anon != NULL && admin != NULL))
		goto out;
	CHECK(client_subscribe(anon, "public/#", 1) == 0x87);
	CHECK(client_publish(anon, "public/x", "x", 1, &q1) == 0x87);
	CHECK(client_publish(admin, "public/x", "x", 1, &q1) == 0x87);
out:
	client_close(admin);
	client_close(anon);
}

/* ops has what aclfile.example gives it: its own tree, and reading the
 * devices' channels; nothing else. */
static void test_with_files_ops_has_its_acl_file_rights(void)
{
	boot_cfg_t cfg;
	json_t *reply = bootstrap_new_device(&cfg);
	char *all = channel_topic("+", "#");
	char *topic = cfg.channel_id != NULL ? channel_topic(cfg.channel_id, "temp") : NULL;
	client_t *ops = client_connect(&B, 5, NULL, "ops", "ops-password");
	client_t *dev = jstr(reply, "client_id") == NULL ? NULL
		: client_connect(&B, 5, NULL, jstr(reply, "client_id"),
				jstr(reply, "client_secret"));
	static const pub_opts_t q1 = { .qos = 1 };
	CHECK(client_connack(&B, 4, "ops", "wrong") == 5);
	if (!CHECK(ops != NULL && dev != NULL && all != NULL && topic != NULL))
		goto out;
	CHECK(client_echo(ops, "ops/#", "ops/status") == 0);
	CHECK(client_publish(ops, "elsewhere/x", "x", 1, &q1) == 0x87);
	int granted = client_subscribe(ops, all, 1);
	CHECK(granted >= 0 && granted < 0x80);
	CHECK(client_publish(dev, topic, "21.5", 4, &q1) < 0x80);
	it_msg_t *m = client_wait(ops, IT_WAIT_MS);
	if (CHECK(m != NULL))
		CHECK_STR(m->topic, topic);
	msg_free(m);
out:
	client_close(dev);
	client_close(ops);
	free(topic);
	free(all);
	json_decref(reply);
	boot_cfg_free(&cfg);
}

/*
 * The mosquitto_ctrl commands the file's comment shows work for its admin,
 * and the client they make has its role's rights.
 */
static void test_with_dynsec_admin_makes_a_client_with_mosquitto_ctrl(void)
{
	static const char *const steps[][8] = {
		{ "createClient", "ops", "-p", "ops-password", NULL },
		{ "createRole", "ops", NULL },
		{ "addRoleACL", "ops", "publishClientSend", "ops/#", "allow", NULL },
		{ "addRoleACL", "ops", "publishClientReceive", "ops/#", "allow", NULL },
		{ "addRoleACL", "ops", "subscribePattern", "ops/#", "allow", NULL },
		{ "addClientRole", "ops", "ops", NULL },
	};
	static const pub_opts_t q1 = { .qos = 1 };
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		CHECK(ctrl(steps[i]) == 0);
	CHECK(client_connack(&B, 4, "ops", "wrong") == 5);
	client_t *ops = client_connect(&B, 5, NULL, "ops", "ops-password");
	if (CHECK(ops != NULL)) {
		CHECK(client_echo(ops, "ops/#", "ops/status") == 0);
		CHECK(client_publish(ops, "elsewhere/x", "x", 1, &q1) == 0x87);
	}
	client_close(ops);
}

/*
 * The reference device client bootstraps over the TLS listener, checking
 * the broker's certificate (made by make-tls.sh for localhost) against the
 * example CA; without the CA it gets no connection.
 */
static void test_with_tls_device_client_bootstraps_with_cafile(void)
{
	boot_cfg_t cfg;
	char *ext = unique_name("tls-example"), *out = NULL;
	char ca[IT_PATH_MAX], port[16];
	json_t *got = NULL;

	snprintf(port, sizeof port, "%d", B.tls_port);
	if (!CHECK(ext != NULL && broker_path(&B, "tls/ca.pem", ca, sizeof ca) == 0 &&
				make_config(&B, ext, NULL, true, &cfg) == 0))
		goto out;
	char *with_ca[] = { DEVICE_BIN, "-h", "localhost", "-p", port, "--cafile", ca,
		"-E", ext, "--key-file", "-", "--mode", "plain", "-W", "5", NULL };
	CHECK(run_capture(with_ca, cfg.external_key, &out, NULL) == 0);
	got = out != NULL ? json_loads(out, 0, NULL) : NULL;
	CHECK_STR(jstr(got, "client_id"), cfg.client_id);
	CHECK_STR(jstr(got, "client_secret"), cfg.client_secret);
	char *without[] = { DEVICE_BIN, "-h", "localhost", "-p", port, "-E", ext,
		"--key-file", "-", "-W", "2", NULL };
	CHECK(run_capture(without, cfg.external_key, NULL, NULL) == 3);
	/* make-tls.sh leaves the private keys to their owner alone. */
	static const char *const keys[] = { "tls/ca.key", "tls/server.key" };
	for (size_t i = 0; i < 2; i++) {
		char path[IT_PATH_MAX];
		struct stat st;
		CHECK(broker_path(&B, keys[i], path, sizeof path) == 0 &&
				stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	}
	boot_cfg_free(&cfg);
out:
	json_decref(got);
	free(out);
	free(ext);
}

/*
 * The walkthrough of the issuing example: the device bootstraps on the
 * plain listener with --csr (its key in a file of its own, 0600), then
 * publishes on its channel with mosquitto_pub over the TLS listener, by
 * the certificate it got alone; the certificate verifies against the
 * issuing CA that make-issuing-ca.sh made.
 */
static void test_with_issuing_device_gets_a_certificate_and_publishes(void)
{
	boot_cfg_t cfg;
	char *ext = unique_name("issuing-example");
	char port[16], tls[16], ca[IT_PATH_MAX], issuing[IT_PATH_MAX], dir[IT_PATH_MAX],
		key[IT_PATH_MAX], cert[IT_PATH_MAX + 32], topic[IT_PATH_MAX];
	struct stat st;

	snprintf(port, sizeof port, "%d", B.port);
	snprintf(tls, sizeof tls, "%d", B.tls_port);
	if (!CHECK(ext != NULL && broker_path(&B, "tls/ca.pem", ca, sizeof ca) == 0 &&
				broker_path(&B, "issuing/issuing-ca.pem", issuing, sizeof issuing) == 0 &&
				broker_path(&B, "device", dir, sizeof dir) == 0 &&
				broker_path(&B, "device.key", key, sizeof key) == 0 &&
				make_config(&B, ext, NULL, true, &cfg) == 0))
		goto out;
	snprintf(cert, sizeof cert, "%s/client_cert.pem", dir);
	snprintf(topic, sizeof topic, "channels/%s/messages/hello", cfg.channel_id);
	char *boot[] = { DEVICE_BIN, "-h", "localhost", "-p", port, "-E", ext,
		"--key-file", "-", "--csr", "--key-out", key, "--out-dir", dir, "-W", "5", NULL };
	int st_boot = run_capture(boot, cfg.external_key, NULL, NULL);
	if (!CHECK(st_boot == 0)) {
		fprintf(stderr, "with-issuing: the device got no certificate (exit %d)\n", st_boot);
		goto free_cfg;
	}
	CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
	char *verify[] = { "openssl", "verify", "-CAfile", issuing, cert, NULL };
	CHECK(run_quiet(verify) == 0);
	char *pub[] = { "mosquitto_pub", "-h", "localhost", "-p", tls, "--cafile", ca,
		"--cert", cert, "--key", key, "-V", "mqttv5", "-q", "1", "-t", topic,
		"-m", "hi", NULL };
	CHECK(run_quiet(pub) == 0);
	/* No certificate, no login on that listener. */
	char *anon[] = { "mosquitto_pub", "-h", "localhost", "-p", tls, "--cafile", ca,
		"-t", topic, "-m", "hi", NULL };
	CHECK(run_quiet(anon) != 0);
free_cfg:
	boot_cfg_free(&cfg);
out:
	free(ext);
}

/* ---- registration ----------------------------------------------------- */

static const cu_test_t default_tests[] = {
	{ "broker_runs_the_plugin", test_broker_runs_the_plugin },
	{ "device_bootstraps_then_logs_in_on_its_channel",
		test_device_bootstraps_then_logs_in_on_its_channel },
	{ "default_serves_the_console", test_default_serves_the_console },
	{ NULL, NULL },
};

static const cu_test_t plugin_alone_tests[] = {
	{ "broker_runs_the_plugin", test_broker_runs_the_plugin },
	{ "device_bootstraps_then_logs_in_on_its_channel",
		test_device_bootstraps_then_logs_in_on_its_channel },
	{ "plugin_alone_refuses_other_users_and_topics",
		test_plugin_alone_refuses_other_users_and_topics },
	{ NULL, NULL },
};

static const cu_test_t with_files_tests[] = {
	{ "broker_runs_the_plugin", test_broker_runs_the_plugin },
	{ "device_bootstraps_then_logs_in_on_its_channel",
		test_device_bootstraps_then_logs_in_on_its_channel },
	{ "with_files_ops_has_its_acl_file_rights",
		test_with_files_ops_has_its_acl_file_rights },
	{ NULL, NULL },
};

static const cu_test_t with_dynsec_tests[] = {
	{ "broker_runs_the_plugin", test_broker_runs_the_plugin },
	{ "device_bootstraps_then_logs_in_on_its_channel",
		test_device_bootstraps_then_logs_in_on_its_channel },
	{ "with_dynsec_admin_makes_a_client_with_mosquitto_ctrl",
		test_with_dynsec_admin_makes_a_client_with_mosquitto_ctrl },
	{ NULL, NULL },
};

static const cu_test_t with_tls_tests[] = {
	{ "broker_runs_the_plugin", test_broker_runs_the_plugin },
	{ "device_bootstraps_then_logs_in_on_its_channel",
		test_device_bootstraps_then_logs_in_on_its_channel },
	{ "with_tls_device_client_bootstraps_with_cafile",
		test_with_tls_device_client_bootstraps_with_cafile },
	{ NULL, NULL },
};

static const cu_test_t with_issuing_tests[] = {
	{ "broker_runs_the_plugin", test_broker_runs_the_plugin },
	{ "device_bootstraps_then_logs_in_on_its_channel",
		test_device_bootstraps_then_logs_in_on_its_channel },
	{ "with_issuing_device_gets_a_certificate_and_publishes",
		test_with_issuing_device_gets_a_certificate_and_publishes },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("mosquitto.conf", start_default, stop_broker, default_tests);
	cu_add_suite("plugin-alone.conf", start_plugin_alone, stop_broker,
			plugin_alone_tests);
	cu_add_suite("with-files.conf", start_with_files, stop_broker,
			with_files_tests);
	cu_add_suite("with-dynsec.conf", start_with_dynsec, stop_broker,
			with_dynsec_tests);
	cu_add_suite("with-tls.conf", start_with_tls, stop_broker, with_tls_tests);
	cu_add_suite("with-issuing.conf", start_with_issuing, stop_broker, with_issuing_tests);
	return cu_run("test_examples");
}
