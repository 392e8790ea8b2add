/*
 * The admin tool, tools/mosquitto_bootstrap_ctrl, as built by make, run
 * against a real broker with the plugin: every command once as it should
 * go and once as it should fail, its text and --json output, its exit
 * status for each kind of outcome (1 a command error, 2 bad usage, 3 no
 * broker, refused login, no answer), -o options files, and import (with
 * failures reported by CSV line and a 0600 secrets file) and export
 * (without secrets). What it prints is checked against what the admin
 * protocol itself answers.
 */
#include "cu_main.h"
#include "harness.h"
#include "tool_run.h"
#include "it_check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>



/* The exit statuses of PROTOCOL.md section 9. */
enum { ST_OK = 0, ST_CMD = 1, ST_USAGE = 2, ST_CONN = 3 };

static broker_t B;
static char port_text[16];

static int suite_init(void)
{
	if (broker_start(&B, NULL) != 0)
		return -1;
	snprintf(port_text, sizeof port_text, "%d", B.port);
	return 0;
}

static int suite_clean(void)
{
	broker_cleanup(&B);
	return 0;
}

/* ---- running the tool ------------------------------------------------- */

#define bare ctrl_bare
#define ctrl(...) ctrl_admin(&B, __VA_ARGS__)
#define out_json run_json


/* A command that the plugin refuses: exit 1, the code on stderr, nothing
 * on stdout. */
static void expect_error(const char *code, run_t r)
{
	CHECK(r.status == ST_CMD);
	CHECK(contains(r.err, code));
	CHECK(r.out != NULL && r.out[0] == '\0');
	run_free(&r);
}

static void expect_usage(run_t r)
{
	CHECK(r.status == ST_USAGE);
	CHECK(r.err != NULL && r.err[0] != '\0');
	run_free(&r);
}

static char *path_in_dir(const char *name)
{
	char *p = malloc(IT_PATH_MAX);

	if (p != NULL && broker_path(&B, name, p, IT_PATH_MAX) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* ---- channels --------------------------------------------------------- */

static void test_channel_commands(void)
{
	char *id = unique_name("ch");
	run_t r = ctrl("createChannel", id, "Telemetry", "--metadata", "{\"unit\":\"C\"}", NULL);

	CHECK(r.status == ST_OK);
	CHECK(contains(r.out, "name:") && contains(r.out, "Telemetry"));
	CHECK(contains(r.out, "{\"unit\":\"C\"}"));
	run_free(&r);
	expect_error("conflict", ctrl("createChannel", id, "Again", NULL));

	r = ctrl("getChannel", id, "--json", NULL);
	json_t *ch = out_json(&r);
	CHECK(r.status == ST_OK);
	CHECK_STR(jstr(ch, "name"), "Telemetry");
	CHECK_STR(jstr(json_object_get(ch, "metadata"), "unit"), "C");
	json_decref(ch);
	run_free(&r);
	expect_error("not_found", ctrl("getChannel", "no-such-channel", NULL));

	r = ctrl("modifyChannel", id, "--name", "Renamed", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "Renamed"));
	run_free(&r);
	expect_error("not_found", ctrl("modifyChannel", "no-such-channel", "--name", "x", NULL));

	r = ctrl("listChannels", "--limit", "1000", NULL);
	CHECK(r.status == ST_OK);
	CHECK(contains(r.out, "ID") && contains(r.out, "NAME") && contains(r.out, id));
	CHECK(contains(r.out, " channels\n"));
	run_free(&r);
	expect_error("invalid_request", ctrl("listChannels", "--limit", "0", NULL));

	r = ctrl("deleteChannel", id, NULL);
	CHECK(r.status == ST_OK && r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	expect_error("not_found", ctrl("deleteChannel", id, NULL));
	free(id);
}

/* ---- configs ---------------------------------------------------------- */

static void test_create_config_with_every_flag(void)
{
	char *ext = unique_name("dev"), *ch = unique_name("ch"), *cert = NULL, *key = NULL;
	char *content = path_in_dir("content.txt"), *keyfile = path_in_dir("ctrl-cert.key");
	char *certfile = path_in_dir("ctrl-cert.pem");
	json_t *cfg = NULL;
	run_t r = { 0 };

	if (!CHECK(content != NULL && keyfile != NULL && certfile != NULL &&
				make_cert(B.dir, "ctrl-cert", &cert, &key) == 0 &&
				write_file_text(content, "{\"interval\": 30}\n") == 0))
		goto out;
	run_free(&r);
	r = ctrl("createChannel", ch, "Telemetry", NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	r = ctrl("createConfig", ext, "--name", "Boiler room", "--external-key", "s3cret-key-1",
			"--client-secret", "given-secret-123456", "--channel", ch,
			"--content-file", content, "--client-cert", certfile, "--client-key", keyfile,
			"--ca-cert", certfile, "--enable", "--json", NULL);
	cfg = out_json(&r);
	CHECK(r.status == ST_OK);
	CHECK_STR(jstr(cfg, "external_id"), ext);
	CHECK_STR(jstr(cfg, "state"), "enabled");
	CHECK_STR(jstr(cfg, "external_key"), "s3cret-key-1");
	CHECK_STR(jstr(cfg, "client_secret"), "given-secret-123456");
	CHECK_STR(jstr(cfg, "content"), "{\"interval\": 30}\n");
	CHECK_STR(jstr(cfg, "client_cert"), cert);
	CHECK_STR(jstr(cfg, "ca_cert"), cert);
	CHECK(json_is_true(json_object_get(cfg, "has_client_key")));
	CHECK_STR(jstr(json_array_get(json_object_get(cfg, "channels"), 0), "id"), ch);

	/* What the tool made is what the plugin stores. */
	json_t *stored = admin_get_config(&B, "external_id", ext);
	CHECK_STR(jstr(stored, "state"), "enabled");
	CHECK_STR(jstr(stored, "client_id"), jstr(cfg, "client_id"));
	json_decref(stored);

	expect_error("conflict", ctrl("createConfig", ext, NULL));
	expect_error("not_found", ctrl("createConfig", "other-dev", "--channel",
				"no-such-channel", NULL));
	expect_error("invalid_request", ctrl("createConfig", "short-key-dev",
				"--external-key", "short", NULL));
out:
	run_free(&r);
	json_decref(cfg);
	free(ext);
	free(ch);
	free(cert);
	free(key);
	free(content);
	free(keyfile);
	free(certfile);
}

/* createConfig without --enable: disabled, and the text output shows the
 * fields as "key: value" lines, secrets included (shown this once). */
static char *create_disabled(const char *ext)
{
	run_t r = ctrl("createConfig", ext, "--name", "Pump", "--external-key",
			"pump-key-0001", NULL);
	char *id = NULL;

	CHECK(r.status == ST_OK);
	CHECK(contains(r.out, "state:") && contains(r.out, "disabled"));
	CHECK(contains(r.out, "external_key:") && contains(r.out, "pump-key-0001"));
	const char *line = r.out != NULL ? strstr(r.out, "client_id:") : NULL;
	if (CHECK(line != NULL)) {
		line += strlen("client_id:");
		line += strspn(line, " ");
		id = strndup(line, strcspn(line, "\n"));
	}
	run_free(&r);
	return id;
}

static void test_config_lifecycle(void)
{
	char *ext = unique_name("pump"), *id = create_disabled(ext);
	json_t *cfg = NULL, *before = NULL;
	run_t r;

	if (!CHECK(id != NULL))
		goto out;
	r = ctrl("getConfig", id, NULL);
	CHECK(r.status == ST_OK && contains(r.out, ext) && !contains(r.out, "pump-key-0001"));
	run_free(&r);
	r = ctrl("getConfig", "--external-id", ext, "--json", NULL);
	before = out_json(&r);
	CHECK_STR(jstr(before, "client_id"), id);
	CHECK(json_object_get(before, "external_key") == NULL);
	run_free(&r);
	expect_error("not_found", ctrl("getConfig", "no-such-client", NULL));
	expect_error("not_found", ctrl("getConfig", "--external-id", "no-such-dev", NULL));

	r = ctrl("enableConfig", id, "--json", NULL);
	cfg = out_json(&r);
	CHECK_STR(jstr(cfg, "state"), "enabled");
	json_decref(cfg);
	run_free(&r);
	r = ctrl("disableConfig", id, NULL);
	CHECK(r.status == ST_OK && contains(r.out, "disabled"));
	run_free(&r);
	expect_error("not_found", ctrl("enableConfig", "no-such-client", NULL));
	expect_error("not_found", ctrl("disableConfig", "no-such-client", NULL));

	r = ctrl("modifyConfig", id, "--name", "Pump 2", "--content", "x=1", "--rotate-secret",
			"--clear-client-cert", "--json", NULL);
	cfg = out_json(&r);
	CHECK(r.status == ST_OK);
	CHECK_STR(jstr(cfg, "name"), "Pump 2");
	CHECK_STR(jstr(cfg, "content"), "x=1");
	CHECK(jstr(cfg, "client_secret") != NULL &&
			strcmp(jstr(cfg, "client_secret"), jstr(before, "client_secret")) != 0);
	CHECK(json_is_null(json_object_get(cfg, "client_cert")));
	json_decref(cfg);
	run_free(&r);
	expect_error("not_found", ctrl("modifyConfig", "no-such-client", "--name", "x", NULL));
	expect_error("invalid_request", ctrl("modifyConfig", id, "--external-key", "short", NULL));

	r = ctrl("deleteConfig", id, NULL);
	CHECK(r.status == ST_OK && r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	expect_error("not_found", ctrl("deleteConfig", id, NULL));
	expect_error("not_found", ctrl("getConfig", id, NULL));
out:
	json_decref(before);
	free(id);
	free(ext);
}

/* listConfigs filters, its table, and --all across pages of 1000. */
static void test_list_configs(void)
{
	char *prefix = unique_name("many"), text[128];
	json_t *cmds = json_array(), *reply, *list;
	const int n = 1003;

	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof text, "%s-%04d", prefix, i);
		json_array_append_new(cmds, json_pack("{ssssss}", "command", "createConfig",
				"external_id", text, "name", text));
	}
	reply = admin_rr_json(&B, cmds);
	CHECK(json_array_size(json_object_get(reply, "responses")) == (size_t)n);
	json_decref(reply);
	json_decref(cmds);

	run_t r = ctrl("listConfigs", "--name", prefix, "--limit", "2", NULL);
	CHECK(r.status == ST_OK);
	CHECK(contains(r.out, "CLIENT_ID") && contains(r.out, "EXTERNAL_ID") &&
			contains(r.out, "STATE"));
	snprintf(text, sizeof text, "2 of %d configs", n);
	CHECK(contains(r.out, text));
	run_free(&r);

	r = ctrl("listConfigs", "--name", prefix, "--all", "--json", NULL);
	list = out_json(&r);
	CHECK(r.status == ST_OK);
	CHECK(json_array_size(json_object_get(list, "configs")) == (size_t)n);
	CHECK(json_integer_value(json_object_get(list, "total")) == n);
	json_decref(list);
	run_free(&r);

	snprintf(text, sizeof text, "%s-0007", prefix);
	r = ctrl("listConfigs", "--external-id", text, "--state", "disabled", "--json", NULL);
	list = out_json(&r);
	CHECK(json_array_size(json_object_get(list, "configs")) == 1);
	CHECK_STR(jstr(json_array_get(json_object_get(list, "configs"), 0), "external_id"), text);
	json_decref(list);
	run_free(&r);
	expect_error("invalid_request", ctrl("listConfigs", "--state", "sleeping", NULL));
	free(prefix);
}

static void test_get_stats(void)
{
	run_t r = ctrl("getStats", NULL);

	CHECK(r.status == ST_OK && contains(r.out, "requests_ok:"));
	run_free(&r);
	r = ctrl("getStats", "--json", NULL);
	json_t *stats = out_json(&r);
	CHECK(json_is_integer(json_object_get(stats, "configs_enabled")));
	json_decref(stats);
	run_free(&r);
	/* getStats takes no field: the plugin says so. */
	expect_error("invalid_request", ctrl("raw", "{\"command\":\"getStats\",\"x\":1}", NULL));
}

/* raw: one command object, or a whole batch answered as JSON. */
static void test_raw(void)
{
	char *ch = unique_name("raw"), cmd[200];
	run_t r;

	snprintf(cmd, sizeof cmd, "{\"command\":\"createChannel\",\"id\":\"%s\",\"name\":\"R\"}", ch);
	r = ctrl("raw", cmd, "--json", NULL);
	json_t *data = out_json(&r);
	CHECK(r.status == ST_OK);
	CHECK_STR(jstr(data, "id"), ch);
	json_decref(data);
	run_free(&r);

	snprintf(cmd, sizeof cmd, "{\"commands\":[{\"command\":\"getChannel\",\"id\":\"%s\","
			"\"correlationData\":\"c1\"},{\"command\":\"getChannel\",\"id\":\"nope\"}]}", ch);
	r = ctrl("raw", cmd, NULL);
	json_t *reply = out_json(&r);
	json_t *responses = json_object_get(reply, "responses");
	CHECK(r.status == ST_CMD);      /* the second one failed */
	CHECK(json_array_size(responses) == 2);
	CHECK_STR(jstr(json_array_get(responses, 0), "correlationData"), "c1");
	CHECK_STR(jstr(json_array_get(responses, 1), "error"), "not_found");
	CHECK(contains(r.err, "not_found"));
	json_decref(reply);
	run_free(&r);

	expect_usage(ctrl("raw", "not json", NULL));
	expect_usage(ctrl("raw", "{\"id\":\"x\"}", NULL));
	expect_usage(ctrl("raw", NULL));
	free(ch);
}

/* ---- exit statuses ---------------------------------------------------- */

static void test_bad_usage(void)
{
	expect_usage(ctrl(NULL));
	expect_usage(ctrl("noSuchCommand", NULL));
	expect_usage(ctrl("getChannel", NULL));
	expect_usage(ctrl("getChannel", "a", "b", NULL));
	expect_usage(ctrl("getConfig", "id", "--external-id", "x", NULL));
	expect_usage(ctrl("createConfig", "x", "--content", "a", "--content-file", "b", NULL));
	expect_usage(ctrl("listConfigs", "--limit", "5", "--all", NULL));
	expect_usage(ctrl("listConfigs", "--offset", "minus", NULL));
	/* --cert-expires-before takes an RFC 3339 time, checked here. */
	expect_usage(ctrl("listConfigs", "--cert-expires-before", "tomorrow", NULL));
	expect_usage(ctrl("listConfigs", "--cert-expires-before", "2026-12-31", NULL));
	expect_usage(ctrl("listConfigs", "--cert-expires-before", "2026-13-01T00:00:00Z", NULL));
	expect_usage(ctrl("listConfigs", "--cert-expires-before", "2026-12-31T00:00:00", NULL));
	expect_usage(ctrl("createChannel", "a", "b", "--metadata", "{not json", NULL));
	expect_usage(ctrl("createConfig", "x", "--client-cert", "/nonexistent/cert.pem", NULL));
	expect_usage(ctrl("createConfig", "x", "--name", NULL));
	expect_usage(bare("-W", "0", "getStats", NULL));
	expect_usage(bare("--cert", "c.pem", "getStats", NULL));

	/* A mistyped option's value (perhaps a key) is not echoed. */
	run_t r = ctrl("createConfig", "x", "--externl-key=hush-12345678", NULL);
	CHECK(r.status == ST_USAGE && !contains(r.err, "hush-12345678"));
	run_free(&r);

	r = bare("--help", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "Exit status") &&
			contains(r.out, "createConfig EXTERNAL_ID"));
	run_free(&r);
	r = bare("listConfigs", "--help", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "--limit N | --all") &&
			contains(r.out, "--cert-expires-before TIME"));
	run_free(&r);
}

static void test_no_connection(void)
{
	char port[16];
	int quiet = 0, s;

	snprintf(port, sizeof port, "%d", it_free_port());
	run_t r = bare("-h", "127.0.0.1", "-p", port, "-u", "admin", "-P", "adminpw",
			"getStats", NULL);
	CHECK(r.status == ST_CONN && contains(r.err, "Connection refused"));
	run_free(&r);

	if (CHECK((s = silent_listener(&quiet)) >= 0)) {
		snprintf(port, sizeof port, "%d", quiet);
		r = bare("-h", "127.0.0.1", "-p", port, "-W", "1", "getStats", NULL);
		CHECK(r.status == ST_CONN && contains(r.err, "within 1 s"));
		run_free(&r);
		close(s);
	}
}

static void test_refused_login(void)
{
	run_t r = bare("-h", "127.0.0.1", "-p", port_text, "-u", "admin", "-P", "wrong",
			"-W", "5", "getStats", NULL);
	CHECK(r.status == ST_CONN && contains(r.err, "refused the connection"));
	run_free(&r);

	/* alice logs in, but is no admin: her command is refused. */
	r = bare("-h", "127.0.0.1", "-p", port_text, "-u", "alice", "-P", "alicepw",
			"-W", "5", "getStats", NULL);
	CHECK(r.status == ST_CONN && contains(r.err, "refused"));
	run_free(&r);
}

/* -o: "-option value" lines, '#' comments; the command line overrides. */
static void test_options_file(void)
{
	char *good = path_in_dir("ctrl-good.conf"), *bad = path_in_dir("ctrl-bad.conf");
	char *wrong = path_in_dir("ctrl-wrong.conf"), text[400];
	run_t r;

	snprintf(text, sizeof text, "# the admin's connection\n-h 127.0.0.1\n\n--port %d\n"
			"-u admin\n  -P adminpw  \n-W 5\n", B.port);
	if (!CHECK(good != NULL && bad != NULL && wrong != NULL &&
				write_file_text(good, text) == 0 &&
				write_file_text(bad, "-h 127.0.0.1\n--colour blue\n") == 0))
		goto out;
	snprintf(text, sizeof text, "-h 127.0.0.1\n-p %d\n-u admin\n-P wrong\n", B.port);
	CHECK(write_file_text(wrong, text) == 0);

	r = bare("-o", good, "getStats", "--json", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "requests_ok"));
	run_free(&r);
	r = bare("-o", wrong, "-W", "5", "getStats", NULL);
	CHECK(r.status == ST_CONN);
	run_free(&r);
	r = bare("-o", wrong, "-P", "adminpw", "-W", "5", "getStats", NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	r = bare("-o", bad, "getStats", NULL);
	CHECK(r.status == ST_USAGE && contains(r.err, "line 2"));
	run_free(&r);
	expect_usage(bare("-o", "/nonexistent/ctrl.conf", "getStats", NULL));
out:
	free(good);
	free(bad);
	free(wrong);
}

/* ---- import and export ------------------------------------------------ */

static int entries_here(void)
{
	DIR *d = opendir(".");
	int n = 0;

	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

/* Each line of the secrets file names a device that bootstraps with it. */
static void check_secrets_line(const char *line, const char *ch)
{
	char ext[128], id[64], key[300], secret[300];

	if (!CHECK(sscanf(line, "%127[^,],%63[^,],%299[^,],%299s", ext, id, key, secret) == 4))
		return;
	json_t *cfg = admin_get_config(&B, "client_id", id);
	CHECK_STR(jstr(cfg, "external_id"), ext);
	CHECK_STR(jstr(cfg, "state"), "enabled");
	CHECK_STR(jstr(cfg, "client_secret"), secret);
	CHECK_STR(jstr(json_array_get(json_object_get(cfg, "channels"), 0), "id"), ch);
	json_decref(cfg);

	char *req = boot_request(ext, key, "r1");
	it_msg_t *m = req != NULL ? device_rr(&B, 5, NULL, req, (int)strlen(req), NULL) : NULL;
	json_t *reply = msg_json(m);
	CHECK_STR(jstr(reply, "client_id"), id);
	json_decref(reply);
	msg_free(m);
	free(req);
}

static void test_import(void)
{
	char *csv = path_in_dir("fleet.csv"), *out = path_in_dir("fleet-secrets.csv");
	char *ch = unique_name("fleet"), *taken = unique_name("taken"), text[1024];
	char *secrets = NULL;
	struct stat st;
	run_t r = { 0 };

	if (!CHECK(csv != NULL && out != NULL))
		goto out;
	r = ctrl("createChannel", ch, "Fleet", NULL);
	run_free(&r);
	r = ctrl("createConfig", taken, "--external-key", "taken-key-123", NULL);
	run_free(&r);
	snprintf(text, sizeof text,
			"# external_id,external_key,name\n"     /* 1 */
			"%s-a,key-aaaa-0001,Pump 1\n"            /* 2 */
			"\n"                                     /* 3 */
			"%s-b\n"                                 /* 4: a generated key */
			"%s,key-taken-002\n"                     /* 5: exists already */
			",key-nobody-03\n"                       /* 6: no external_id */
			"%s-c,short\n"                           /* 7: the key is too short */
			"%s-d,key-dddd-0004,Name, with a comma\r\n"  /* 8 */
			"%s-a,key-aaaa-0005\n",                  /* 9: repeats line 2 */
			ch, ch, taken, ch, ch, ch);
	CHECK(write_file_text(csv, text) == 0);

	/* Line 4 has no key: without --out its generated key would be lost. */
	r = ctrl("import", csv, "--enable", NULL);
	CHECK(r.status == ST_USAGE && contains(r.err, "line 4"));
	run_free(&r);

	int before = entries_here();
	r = ctrl("import", csv, "--enable", "--channel", ch, "--out", out, NULL);
	CHECK(r.status == ST_CMD);
	CHECK(contains(r.err, "imported 3 of 7 devices"));
	CHECK(contains(r.err, "line 5: conflict"));
	CHECK(contains(r.err, "line 6: invalid_request"));
	CHECK(contains(r.err, "line 7: invalid_request"));
	CHECK(contains(r.err, "line 9: conflict"));
	CHECK(!contains(r.err, "line 2:") && !contains(r.err, "line 4:") &&
			!contains(r.err, "line 8:"));
	CHECK(!contains(r.err, "key-aaaa-0001") && !contains(r.out, "key-aaaa-0001"));
	CHECK(entries_here() == before);
	run_free(&r);

	CHECK(stat(out, &st) == 0 && (st.st_mode & 0777) == 0600);
	secrets = read_file_text(out, NULL);
	int lines = 0;
	for (char *line = secrets, *next; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		check_secrets_line(line, ch);
		lines++;
	}
	CHECK(lines == 3);
	snprintf(text, sizeof text, "%s-d", ch);
	json_t *d = admin_get_config(&B, "external_id", text);
	CHECK_STR(jstr(d, "name"), "Name, with a comma");
	json_decref(d);

	/* The secrets file is never overwritten. */
	r = ctrl("import", csv, "--out", out, NULL);
	CHECK(r.status == ST_USAGE && contains(r.err, "never overwritten"));
	run_free(&r);
	expect_usage(ctrl("import", NULL));
	expect_usage(ctrl("import", "/nonexistent/fleet.csv", NULL));
out:
	free(secrets);
	free(csv);
	free(out);
	free(ch);
	free(taken);
}

static void test_export(void)
{
	char *out = path_in_dir("export.jsonl"), *text = NULL;
	json_t *list = NULL;
	size_t n = 0;
	bool secret = false, bad = false;

	if (!CHECK(out != NULL))
		return;
	run_t r = ctrl("export", "--out", out, NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	text = read_file_text(out, NULL);
	for (char *line = text, *next; line != NULL && *line != '\0'; line = next, n++) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		json_t *cfg = json_loads(line, 0, NULL);
		bad |= jstr(cfg, "client_id") == NULL;
		secret |= json_object_get(cfg, "client_secret") != NULL ||
			json_object_get(cfg, "external_key") != NULL ||
			json_object_get(cfg, "client_key") != NULL;
		json_decref(cfg);
	}
	CHECK(!bad && !secret);
	list = admin_ok_take(&B, json_pack("{ss}", "command", "listConfigs"));
	CHECK(n > 1000 && (json_int_t)n == json_integer_value(json_object_get(list, "total")));
	json_decref(list);

	r = ctrl("export", NULL);
	CHECK(r.status == ST_OK && r.out != NULL && !contains(r.out, "client_secret"));
	run_free(&r);
	expect_usage(ctrl("export", "--out", out, NULL));      /* exists */
	expect_usage(ctrl("export", "extra", NULL));
	free(text);
	free(out);
}

static const cu_test_t tests[] = {
	{ "channel_commands", test_channel_commands },
	{ "create_config_with_every_flag", test_create_config_with_every_flag },
	{ "config_lifecycle", test_config_lifecycle },
	{ "list_configs", test_list_configs },
	{ "get_stats", test_get_stats },
	{ "raw", test_raw },
	{ "bad_usage", test_bad_usage },
	{ "no_connection", test_no_connection },
	{ "refused_login", test_refused_login },
	{ "options_file", test_options_file },
	{ "import", test_import },
	{ "export", test_export },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("admin tool", suite_init, suite_clean, tests);
	return cu_run("test_ctrl");
}
