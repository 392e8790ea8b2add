/*
 * The admin tool's fleet commands (PROTOCOL.md section 7, and section 9's
 * --profile, --var and import --group), as built by make, against a real
 * broker with the plugin.
 *
 * Two suites. "fleet usage": every new command and flag refused as it
 * should be before anything is sent (exit 2), and --help naming them; it
 * needs no broker. "fleet commands": each command of section 7 once as it
 * should go and once as it should fail, its text and --json output, what
 * the plugin stores, the group key shown once, import --group with the
 * key derived as the factory derives it (the openssl line of the
 * contract), and the unknown devices listed and cleared.
 */
#include "cu_main.h"
#include "harness.h"
#include "tool_run.h"
#include "it_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>



/* The exit statuses of PROTOCOL.md section 9. */
enum { ST_OK = 0, ST_CMD = 1, ST_USAGE = 2, ST_CONN = 3 };

static broker_t B;

static int suite_init(void)
{
	return broker_start(&B, NULL);
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


static void expect_error(const char *code, run_t r)
{
	CHECK(r.status == ST_CMD);
	CHECK(contains(r.err, code));
	CHECK(r.out != NULL && r.out[0] == '\0');
	run_free(&r);
}

/* Exit 2 with a reason, and nothing sent: no broker is named at all. */
static void expect_usage(run_t r, const char *why)
{
	CHECK(r.status == ST_USAGE);
	if (why != NULL && !contains(r.err, why))
		fprintf(stderr, "usage error without \"%s\": %s", why, r.err ? r.err : "");
	CHECK(why == NULL || contains(r.err, why));
	run_free(&r);
}

/* A --json run that must succeed: its data (new reference), or NULL. */
static json_t *ok_json(run_t r)
{
	json_t *data = r.status == ST_OK ? out_json(&r) : NULL;

	CHECK(r.status == ST_OK);
	CHECK(data != NULL);
	run_free(&r);
	return data;
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

static const char *id_at(const json_t *list, size_t i)
{
	const json_t *v = json_array_get(list, i);
	return json_is_string(v) ? json_string_value(v) : jstr(v, "id");
}

/* ---- usage: before anything is sent ----------------------------------- */

static void test_usage_profiles(void)
{
	expect_usage(bare("createProfile", "p1", NULL), "needs --name");
	expect_usage(bare("createProfile", "p1", "--name", "N", NULL),
			"needs --content TEXT or --content-file FILE");
	expect_usage(bare("createProfile", "--name", "N", "--content", "a", "--content-file",
				"b", NULL), "cannot go together");
	expect_usage(bare("createProfile", "p1", "p2", "--name", "N", "--content", "a", NULL),
			"unexpected argument");
	expect_usage(bare("createProfile", "--name", "N", "--content-file",
				"/nonexistent/template.txt", NULL), NULL);
	expect_usage(bare("createProfile", "--name", "N", "--content", "a", "--var", "site",
				NULL), "KEY=VALUE");
	expect_usage(bare("createProfile", "--name", "N", "--content", "a", "--var", "=x",
				NULL), "KEY=VALUE");
	expect_usage(bare("createProfile", "--name", "N", "--content", "a", "--var", "a=1",
				"--var", "a=2", NULL), "given twice");
	expect_usage(bare("createProfile", "--name", "N", "--content", "a", "--var", NULL),
			"missing value");
	expect_usage(bare("getProfile", NULL), "needs ID");
	expect_usage(bare("getProfile", "a", "b", NULL), "unexpected argument");
	expect_usage(bare("deleteProfile", NULL), "needs ID");
	expect_usage(bare("listProfiles", "--limit", "5", "--all", NULL), "cannot go together");
	expect_usage(bare("listProfiles", "--offset", "-1", NULL), "takes a count");
	expect_usage(bare("modifyProfile", "--name", "x", NULL), "needs ID");
	expect_usage(bare("modifyProfile", "p", "--var", "a=1", "--clear-vars", NULL),
			"cannot go together");
	expect_usage(bare("modifyProfile", "p", "--channel", "a", "--clear-channels", NULL),
			"cannot go together");
	expect_usage(bare("modifyProfile", "p", "--profile", "x", NULL), "no option --profile");
}

static void test_usage_groups(void)
{
	expect_usage(bare("createGroup", "g1", NULL), "needs --name");
	expect_usage(bare("createGroup", "g1", "--name", "N", "--enable=yes", NULL),
			"takes no value");
	expect_usage(bare("createGroup", "g1", "--name", "N", "--rotate-key", NULL),
			"no option --rotate-key");
	expect_usage(bare("getGroup", NULL), "needs ID");
	expect_usage(bare("deleteGroup", NULL), "needs ID");
	expect_usage(bare("listGroups", "--limit", "x", NULL), "takes a count");
	expect_usage(bare("modifyGroup", "g", "--enable", "maybe", NULL), "true or false");
	expect_usage(bare("modifyGroup", "g", "--enable", NULL), "missing value");
	expect_usage(bare("modifyGroup", "g", "--profile", "p", "--clear-profile", NULL),
			"cannot go together");
	expect_usage(bare("modifyGroup", "g", "--rotate-key=true", NULL), "takes no value");
	expect_usage(bare("modifyGroup", "g", "--group-key", "k", NULL), "no option --group-key");
}

static void test_usage_unknown_and_configs(void)
{
	expect_usage(bare("listUnknown", "x", NULL), "unexpected argument");
	expect_usage(bare("listUnknown", "--all", "--limit", "3", NULL), "cannot go together");
	expect_usage(bare("clearUnknown", "dev-1", NULL), "unexpected argument");
	expect_usage(bare("clearUnknown", "--external-id", NULL), "missing value");
	expect_usage(bare("createConfig", "x", "--var", "noequals", NULL), "KEY=VALUE");
	expect_usage(bare("createConfig", "x", "--profile", NULL), "missing value");
	expect_usage(bare("createConfig", "x", "--clear-profile", NULL), "no option");
	expect_usage(bare("modifyConfig", "c", "--profile", "p", "--clear-profile", NULL),
			"cannot go together");
	expect_usage(bare("modifyConfig", "c", "--var", "a=1", "--clear-vars", NULL),
			"cannot go together");
	expect_usage(bare("modifyConfig", "c", "--var", "a=1", "--var", "a=1", NULL),
			"given twice");
}

static void test_usage_import_group(void)
{
	char dir[] = "/tmp/bs-it-fleet-XXXXXX", csv[64], key[64];

	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	snprintf(csv, sizeof csv, "%s/fleet.csv", dir);
	snprintf(key, sizeof key, "%s/group.key", dir);
	CHECK(write_file_text(csv, "dev-a,key-aaaa-0001,A\ndev-b,,B\n") == 0);
	CHECK(write_file_text(key, "\n") == 0);
	expect_usage(bare("import", csv, "--group-key-file", key, NULL), "goes with --group");
	expect_usage(bare("import", csv, "--group", "g", "--channel", "c", NULL),
			"cannot go together");
	expect_usage(bare("import", csv, "--group", "g", "--group", "h", NULL), "given twice");
	/* Line 2 has no key, and no group key to derive it from: a generated
	 * key would lock the device out. */
	expect_usage(bare("import", csv, "--group", "g", "--out", "/nonexistent/x", NULL),
			"line 2 has no external_key");
	expect_usage(bare("import", csv, "--group", "g", "--group-key-file", key, NULL),
			"no group key");
	expect_usage(bare("import", csv, "--group", "g", "--group-key-file",
				"/nonexistent/group.key", NULL), NULL);
	unlink(csv);
	unlink(key);
	rmdir(dir);
}

static void test_usage_help(void)
{
	run_t r = bare("--help", NULL);
	const char *names[] = { "createProfile [ID] --name NAME", "getProfile ID",
		"listProfiles", "modifyProfile ID", "deleteProfile ID", "createGroup [ID] --name NAME",
		"getGroup ID", "listGroups", "modifyGroup ID", "deleteGroup ID", "listUnknown",
		"clearUnknown [--external-id X]", "--group ID", "[--profile ID]",
		"[--var KEY=VALUE]...", "[--enable true|false]", "[--rotate-key]" };

	CHECK(r.status == ST_OK);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!contains(r.out, names[i]))
			fprintf(stderr, "--help does not show \"%s\"\n", names[i]);
		CHECK(contains(r.out, names[i]));
	}
	run_free(&r);
	r = bare("createProfile", "--help", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "(--content TEXT | --content-file FILE)"));
	run_free(&r);
	r = bare("import", "--help", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "--group-key-file FILE"));
	run_free(&r);
}

/* ---- profiles --------------------------------------------------------- */

static const char TEMPLATE[] = "{\"id\": \"{{external_id}}\", \"site\": \"{{vars.site}}\"}";

static void test_profile_commands(void)
{
	char *id = unique_name("prof"), *ch = unique_name("ch"), *file = path_in_dir("tpl.txt");
	json_t *p = NULL;
	run_t r;

	r = ctrl("createChannel", ch, "Telemetry", NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	r = ctrl("createProfile", id, "--name", "Boilers", "--content", TEMPLATE,
			"--channel", ch, "--var", "site=plant-1", "--var", "unit=C", NULL);
	if (!CHECK(r.status == ST_OK)) {
		run_free(&r);
		goto out;
	}
	CHECK(contains(r.out, "name:") && contains(r.out, "Boilers"));
	CHECK(contains(r.out, "{{vars.site}}"));
	CHECK(contains(r.out, ch));
	run_free(&r);
	expect_error("conflict", ctrl("createProfile", id, "--name", "Again", "--content", "x",
				NULL));
	expect_error("invalid_request", ctrl("createProfile", "--name", "Bad", "--content",
				"{{serial}}", NULL));
	expect_error("not_found", ctrl("createProfile", "--name", "NoCh", "--content", "x",
				"--channel", "no-such-channel", NULL));

	/* Without an id the plugin makes one. */
	p = ok_json(ctrl("createProfile", "--name", "Generated", "--content", "", "--json", NULL));
	CHECK(jstr(p, "id") != NULL && jstr(p, "id")[0] != '\0');
	json_decref(p);

	p = ok_json(ctrl("getProfile", id, "--json", NULL));
	CHECK_STR(jstr(p, "name"), "Boilers");
	CHECK_STR(jstr(p, "content"), TEMPLATE);
	CHECK_STR(id_at(json_object_get(p, "channels"), 0), ch);
	CHECK_STR(jstr(json_object_get(p, "vars"), "site"), "plant-1");
	CHECK_STR(jstr(json_object_get(p, "vars"), "unit"), "C");
	json_decref(p);
	expect_error("not_found", ctrl("getProfile", "no-such-profile", NULL));

	CHECK(file != NULL && write_file_text(file, "site={{vars.site}}\n") == 0);
	p = ok_json(ctrl("modifyProfile", id, "--name", "Boilers 2", "--content-file", file,
				"--var", "site=plant-2", "--clear-channels", "--json", NULL));
	CHECK_STR(jstr(p, "name"), "Boilers 2");
	CHECK_STR(jstr(p, "content"), "site={{vars.site}}\n");
	CHECK_STR(jstr(json_object_get(p, "vars"), "site"), "plant-2");
	CHECK(json_array_size(json_object_get(p, "channels")) == 0);
	json_decref(p);
	expect_error("not_found", ctrl("modifyProfile", "no-such-profile", "--name", "x", NULL));
	expect_error("invalid_request", ctrl("modifyProfile", id, "--content", "{{nope}}", NULL));

	r = ctrl("listProfiles", "--limit", "1", NULL);
	CHECK(r.status == ST_OK);
	CHECK(contains(r.out, "ID") && contains(r.out, "NAME") && contains(r.out, "VARS"));
	CHECK(contains(r.out, "1 of 2 profiles"));
	run_free(&r);
	p = ok_json(ctrl("listProfiles", "--all", "--json", NULL));
	CHECK(json_array_size(json_object_get(p, "profiles")) == 2);
	CHECK(json_integer_value(json_object_get(p, "total")) == 2);
	json_decref(p);
	expect_error("invalid_request", ctrl("listProfiles", "--limit", "0", NULL));

	r = ctrl("deleteProfile", id, NULL);
	CHECK(r.status == ST_OK && r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	expect_error("not_found", ctrl("deleteProfile", id, NULL));
out:
	free(file);
	free(id);
	free(ch);
}

/* createConfig and modifyConfig with --profile and --var: the content is
 * rendered in reads; a profile in use cannot be deleted. */
static void test_config_with_profile(void)
{
	char *prof = unique_name("prof"), *ext = unique_name("dev");
	json_t *cfg = NULL;
	run_t r;

	r = ctrl("createProfile", prof, "--name", "Sites", "--content", TEMPLATE,
			"--var", "site=default", NULL);
	if (!CHECK(r.status == ST_OK)) {
		run_free(&r);
		goto out;
	}
	run_free(&r);

	cfg = ok_json(ctrl("createConfig", ext, "--profile", prof, "--var", "site=plant-9",
				"--external-key", "profile-key-01", "--json", NULL));
	char want[300];
	snprintf(want, sizeof want, "{\"id\": \"%s\", \"site\": \"plant-9\"}", ext);
	CHECK_STR(jstr(cfg, "profile"), prof);
	CHECK_STR(jstr(json_object_get(cfg, "vars"), "site"), "plant-9");
	CHECK_STR(jstr(cfg, "content"), want);
	CHECK(json_is_null(json_object_get(cfg, "group")));
	const char *id = jstr(cfg, "client_id");
	char *client_id = id != NULL ? strdup(id) : NULL;
	json_decref(cfg);
	cfg = NULL;
	if (!CHECK(client_id != NULL))
		goto out;

	r = ctrl("getConfig", client_id, NULL);
	CHECK(r.status == ST_OK && contains(r.out, "profile:") && contains(r.out, prof));
	CHECK(contains(r.out, "group:"));
	run_free(&r);

	cfg = ok_json(ctrl("modifyConfig", client_id, "--clear-vars", "--json", NULL));
	snprintf(want, sizeof want, "{\"id\": \"%s\", \"site\": \"default\"}", ext);
	CHECK_STR(jstr(cfg, "content"), want);
	json_decref(cfg);
	cfg = ok_json(ctrl("modifyConfig", client_id, "--var", "site=plant-3", "--json", NULL));
	snprintf(want, sizeof want, "{\"id\": \"%s\", \"site\": \"plant-3\"}", ext);
	CHECK_STR(jstr(cfg, "content"), want);
	json_decref(cfg);
	cfg = NULL;

	expect_error("invalid_request", ctrl("createConfig", "both-dev", "--profile", prof,
				"--content", "not empty", NULL));
	expect_error("not_found", ctrl("createConfig", "noprof-dev", "--profile",
				"no-such-profile", NULL));
	expect_error("conflict", ctrl("deleteProfile", prof, NULL));
	r = ctrl("deleteConfig", client_id, NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	r = ctrl("deleteProfile", prof, NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	free(client_id);
out:
	json_decref(cfg);
	free(prof);
	free(ext);
}

/* ---- groups ----------------------------------------------------------- */

/* The value of "key:" in text output (malloc()ed), or NULL. */
static char *text_field(const char *out, const char *key)
{
	char label[64];
	const char *at;

	snprintf(label, sizeof label, "\n%s:", key);
	if (out == NULL)
		return NULL;
	if (strncmp(out, label + 1, strlen(label) - 1) == 0)
		at = out + strlen(label) - 1;
	else if ((at = strstr(out, label)) != NULL)
		at += strlen(label);
	else
		return NULL;
	at += strspn(at, " ");
	return strndup(at, strcspn(at, "\n"));
}

static void test_group_commands(void)
{
	char *id = unique_name("grp"), *prof = unique_name("prof"), *ch = unique_name("ch");
	char *key = NULL;
	json_t *g = NULL;
	run_t r;

	r = ctrl("createChannel", ch, "Fleet", NULL);
	run_free(&r);
	r = ctrl("createProfile", prof, "--name", "P", "--content", "x", NULL);
	run_free(&r);
	r = ctrl("createGroup", id, "--name", "Factory line 1", "--profile", prof,
			"--channel", ch, "--enable", NULL);
	if (!CHECK(r.status == ST_OK)) {
		run_free(&r);
		goto out;
	}
	/* The group key, shown this once: 256 bits as URL-safe base64. */
	key = text_field(r.out, "group_key");
	CHECK(key != NULL && strlen(key) == 43 && strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
	CHECK(contains(r.out, "enable:") && contains(r.out, "true"));
	run_free(&r);
	expect_error("conflict", ctrl("createGroup", id, "--name", "Again", NULL));
	expect_error("not_found", ctrl("createGroup", "--name", "NoProfile", "--profile",
				"no-such-profile", NULL));
	expect_error("conflict", ctrl("deleteProfile", prof, NULL));

	g = ok_json(ctrl("getGroup", id, "--json", NULL));
	CHECK_STR(jstr(g, "name"), "Factory line 1");
	CHECK_STR(jstr(g, "profile"), prof);
	CHECK_STR(id_at(json_object_get(g, "channels"), 0), ch);
	CHECK(json_is_true(json_object_get(g, "enable")));
	CHECK(json_object_get(g, "group_key") == NULL);
	json_decref(g);
	r = ctrl("getGroup", id, NULL);
	CHECK(r.status == ST_OK && !contains(r.out, "group_key") &&
			(key == NULL || !contains(r.out, key)));
	run_free(&r);
	expect_error("not_found", ctrl("getGroup", "no-such-group", NULL));

	g = ok_json(ctrl("modifyGroup", id, "--name", "Line 1", "--enable", "false",
				"--clear-profile", "--json", NULL));
	CHECK_STR(jstr(g, "name"), "Line 1");
	CHECK(json_is_false(json_object_get(g, "enable")));
	CHECK(json_is_null(json_object_get(g, "profile")));
	CHECK(json_object_get(g, "group_key") == NULL);
	json_decref(g);
	g = ok_json(ctrl("modifyGroup", id, "--rotate-key", "--json", NULL));
	CHECK(jstr(g, "group_key") != NULL && key != NULL &&
			strcmp(jstr(g, "group_key"), key) != 0);
	json_decref(g);
	g = NULL;
	expect_error("not_found", ctrl("modifyGroup", "no-such-group", "--name", "x", NULL));

	r = ctrl("listGroups", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "PROFILE") && contains(r.out, "ENABLE") &&
			contains(r.out, id) && contains(r.out, " groups\n"));
	CHECK(key == NULL || !contains(r.out, key));
	run_free(&r);
	g = ok_json(ctrl("listGroups", "--all", "--json", NULL));
	CHECK(json_array_size(json_object_get(g, "groups")) >= 1);
	json_decref(g);
	g = NULL;

	r = ctrl("deleteGroup", id, NULL);
	CHECK(r.status == ST_OK && r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	expect_error("not_found", ctrl("deleteGroup", id, NULL));
out:
	json_decref(g);
	free(key);
	free(id);
	free(prof);
	free(ch);
}

/* import --group: the group's profile, channels and state; a line without
 * a key gets the derived key, the one the device bootstraps with. */
static void test_import_group(void)
{
	char *grp = unique_name("grp"), *prof = unique_name("prof"), *ch = unique_name("ch");
	char *ext = unique_name("line"), *csv = path_in_dir("group.csv");
	char *keyfile = path_in_dir("group.key"), *out = path_in_dir("group-secrets.csv");
	char text[600], *secrets = NULL, *want = NULL;
	json_t *g = NULL, *cfg = NULL;
	run_t r;

	if (!CHECK(csv != NULL && keyfile != NULL && out != NULL))
		goto out;
	r = ctrl("createChannel", ch, "Fleet", NULL);
	run_free(&r);
	r = ctrl("createProfile", prof, "--name", "P", "--content", "id={{external_id}}", NULL);
	run_free(&r);
	g = ok_json(ctrl("createGroup", grp, "--name", "Line", "--profile", prof,
				"--channel", ch, "--enable", "--json", NULL));
	const char *group_key = jstr(g, "group_key");
	if (!CHECK(group_key != NULL))
		goto out;
	snprintf(text, sizeof text, "%s\n", group_key);
	CHECK(write_file_text(keyfile, text) == 0);
	snprintf(text, sizeof text, "%s-a,,Pump A\n%s-b,given-key-0002,Pump B\n", ext, ext);
	CHECK(write_file_text(csv, text) == 0);

	r = ctrl("import", csv, "--group", grp, "--group-key-file", keyfile, "--out", out, NULL);
	CHECK(r.status == ST_OK && contains(r.err, "imported 2 of 2 devices"));
	CHECK(!contains(r.err, group_key) && !contains(r.out, group_key));
	run_free(&r);

	snprintf(text, sizeof text, "%s-a", ext);
	want = factory_key(group_key, text);
	secrets = read_file_text(out, NULL);
	CHECK(want != NULL && strlen(want) == 43);
	char line[700];
	snprintf(line, sizeof line, "%s-a,", ext);
	const char *a = secrets != NULL ? strstr(secrets, line) : NULL;
	CHECK(a != NULL && want != NULL && strstr(a, want) != NULL);

	cfg = admin_get_config(&B, "external_id", text);
	CHECK_STR(jstr(cfg, "name"), "Pump A");
	CHECK_STR(jstr(cfg, "profile"), prof);
	CHECK_STR(jstr(cfg, "state"), "enabled");
	CHECK_STR(jstr(json_array_get(json_object_get(cfg, "channels"), 0), "id"), ch);
	snprintf(line, sizeof line, "id=%s", text);
	CHECK_STR(jstr(cfg, "content"), line);

	/* The device, flashed with the derived key, bootstraps with it. */
	char *req = want != NULL ? boot_request(text, want, "g1") : NULL;
	it_msg_t *m = req != NULL ? device_rr(&B, 5, NULL, req, (int)strlen(req), NULL) : NULL;
	json_t *reply = msg_json(m);
	CHECK_STR(jstr(reply, "client_id"), jstr(cfg, "client_id"));
	json_decref(reply);
	msg_free(m);
	free(req);

	r = ctrl("import", csv, "--group", "no-such-group", "--group-key-file", keyfile, NULL);
	CHECK(r.status == ST_CMD && contains(r.err, "not_found") &&
			contains(r.err, "nothing was imported"));
	run_free(&r);
out:
	json_decref(g);
	json_decref(cfg);
	free(want);
	free(secrets);
	free(grp);
	free(prof);
	free(ch);
	free(ext);
	free(csv);
	free(keyfile);
	free(out);
}

/* ---- unknown devices -------------------------------------------------- */

static void knock(const char *ext)
{
	char *req = boot_request(ext, "not-the-key-0001", "u1");
	it_msg_t *m = req != NULL ? device_rr(&B, 5, NULL, req, (int)strlen(req), NULL) : NULL;

	msg_free(m);
	free(req);
}

/* The unknown entry for ext (new reference), waiting up to 3 s for it to
 * appear (want) or go. */
static json_t *unknown_entry(const char *ext, bool want)
{
	for (int i = 0; i < 30; i++) {
		run_t r = ctrl("listUnknown", "--all", "--json", NULL);
		json_t *page = r.status == ST_OK ? out_json(&r) : NULL, *e, *found = NULL;
		size_t k;
		run_free(&r);
		if (page == NULL)
			return NULL;
		json_array_foreach(json_object_get(page, "unknown"), k, e) {
			if (found == NULL && jstr(e, "external_id") != NULL &&
					strcmp(jstr(e, "external_id"), ext) == 0)
				found = json_incref(e);
		}
		json_decref(page);
		if ((found != NULL) == want)
			return found;
		json_decref(found);
		usleep(100 * 1000);
	}
	return NULL;
}

static void test_unknown_commands(void)
{
	char *a = unique_name("stray"), *b = unique_name("stray");
	json_t *e;
	run_t r;

	knock(a);
	knock(a);
	knock(b);
	e = unknown_entry(a, true);
	if (!CHECK(e != NULL))
		goto out;
	CHECK(json_integer_value(json_object_get(e, "attempts")) == 2);
	CHECK(jstr(e, "first_seen") != NULL && jstr(e, "last_seen") != NULL);
	CHECK(jstr(e, "address") != NULL);
	CHECK(json_object_get(e, "external_key") == NULL);
	json_decref(e);

	r = ctrl("listUnknown", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "EXTERNAL_ID") && contains(r.out, "ATTEMPTS") &&
			contains(r.out, "LAST_SEEN") && contains(r.out, a) && contains(r.out, " unknown\n"));
	/* Most recently seen first: b knocked last. */
	CHECK(r.out != NULL && strstr(r.out, b) != NULL && strstr(r.out, a) != NULL &&
			strstr(r.out, b) < strstr(r.out, a));
	CHECK(!contains(r.out, "not-the-key-0001"));
	run_free(&r);
	r = ctrl("listUnknown", "--limit", "1", NULL);
	CHECK(r.status == ST_OK && contains(r.out, "1 of "));
	run_free(&r);

	r = ctrl("clearUnknown", "--external-id", a, NULL);
	CHECK(r.status == ST_OK && r.out != NULL && r.out[0] == '\0');
	run_free(&r);
	e = unknown_entry(a, false);
	CHECK(e == NULL);
	json_decref(e);

	/* A config for it takes it off the list. */
	e = unknown_entry(b, true);
	CHECK(e != NULL);
	json_decref(e);
	r = ctrl("createConfig", b, "--external-key", "stray-key-0002", NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	e = unknown_entry(b, false);
	CHECK(e == NULL);
	json_decref(e);

	knock(a);
	r = ctrl("clearUnknown", NULL);
	CHECK(r.status == ST_OK);
	run_free(&r);
	e = ok_json(ctrl("listUnknown", "--json", NULL));
	CHECK(json_integer_value(json_object_get(e, "total")) == 0);
	json_decref(e);
out:
	free(a);
	free(b);
}

static const cu_test_t usage_tests[] = {
	{ "usage_profiles", test_usage_profiles },
	{ "usage_groups", test_usage_groups },
	{ "usage_unknown_and_configs", test_usage_unknown_and_configs },
	{ "usage_import_group", test_usage_import_group },
	{ "usage_help", test_usage_help },
	{ NULL, NULL },
};

static const cu_test_t fleet_tests[] = {
	{ "profile_commands", test_profile_commands },
	{ "config_with_profile", test_config_with_profile },
	{ "group_commands", test_group_commands },
	{ "import_group", test_import_group },
	{ "unknown_commands", test_unknown_commands },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("fleet usage", NULL, NULL, usage_tests);
	cu_add_suite("fleet commands", suite_init, suite_clean, fleet_tests);
	return cu_run("test_ctrl_fleet");
}
