/*
 * The plugin beside the broker's other authentication and ACL sources, on
 * a real broker, with plugin_opt_client_auth true and acl_default defer:
 *
 * (a) Mosquitto's own password_file and acl_file: their users and
 *     anonymous clients keep exactly what the acl_file gives them, a wrong
 *     password is refused, and a bootstrapped client logs in and has its
 *     channel rights and nothing more, even where the acl_file grants every
 *     client everything;
 * (b) the dynamic-security plugin loaded beside this one, in both orders
 *     of the plugin lines: dynsec's clients have their roles' rights,
 *     bootstrapped clients their channels, and dynsec's admin keeps
 *     $CONTROL/dynamic-security/v1. The broker asks the plugins in load
 *     order and takes the first answer that is not "defer", so the one
 *     difference is on the plugin's own topics: loaded first, the plugin
 *     decides them; loaded after dynsec, a dynsec role that grants "#"
 *     wins there.
 *
 * Refusals: a publish at QoS 1 over MQTT v5 gets PUBACK 0x87, a refused
 * subscription SUBACK 0x87. The acl_file grants every subscription and
 * refuses at delivery instead, so for its users "cannot read" means no
 * message arrives.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOT_AUTHORIZED 0x87
#define DYNSEC_TOPIC "$CONTROL/dynamic-security/v1"

static broker_t B;
static bool dynsec_first;       /* which plugin line comes first */
static const pub_opts_t q1 = { .qos = 1 };

/* ---- rights ----------------------------------------------------------- */

/* The PUBACK reason of a QoS 1 publish to topic (c must be MQTT v5). */
static int pub(client_t *c, const char *topic)
{
	return client_publish(c, topic, "x", 1, &q1);
}

static bool pub_ok(client_t *c, const char *topic)
{
	int reason = pub(c, topic);
	if (reason < 0 || reason >= 0x80)
		fprintf(stderr, "  publish to %s: %d\n", topic, reason);
	return reason >= 0 && reason < 0x80;
}

static bool pub_refused(client_t *c, const char *topic)
{
	int reason = pub(c, topic);
	if (reason != NOT_AUTHORIZED)
		fprintf(stderr, "  publish to %s: %d, expected a refusal\n", topic, reason);
	return reason == NOT_AUTHORIZED;
}

static bool sub_refused(client_t *c, const char *filter)
{
	int granted = client_subscribe(c, filter, 1);
	if (granted < 0x80)
		fprintf(stderr, "  subscription to %s: %d, expected a refusal\n",
				filter, granted);
	return granted >= 0x80;
}

/*
 * reader subscribes to filter, writer publishes to topic (which must be
 * accepted): whether the message reaches reader.
 */
static bool reads(client_t *reader, const char *filter, client_t *writer,
		const char *topic)
{
	int granted = client_subscribe(reader, filter, 1);
	if (granted < 0 || granted >= 0x80)
		return false;
	if (!CHECK(pub_ok(writer, topic)))
		return false;
	it_msg_t *m = client_wait(reader, IT_QUIET_MS);
	bool got = m != NULL && strcmp(m->topic, topic) == 0;
	msg_free(m);
	return got;
}

/* prefix/<unique> (malloc()ed). */
static char *topic_under(const char *prefix)
{
	return unique_name(prefix);
}


/* ---- bootstrapped clients --------------------------------------------- */

typedef struct {
	boot_cfg_t cfg;
	char *filter;               /* channels/<id>/messages/# */
	char *topic;                /* channels/<id>/messages/<unique> */
} device_t;

static void device_free(device_t *d)
{
	boot_cfg_free(&d->cfg);
	free(d->filter);
	free(d->topic);
	memset(d, 0, sizeof *d);
}

/* A new config on a new channel, enabled when enable is set. */
static bool device_new(device_t *d, bool enable)
{
	char *ext = unique_name("coexist");
	memset(d, 0, sizeof *d);
	bool ok = ext != NULL && make_config(&B, ext, NULL, enable, &d->cfg) == 0;
	free(ext);
	if (ok) {
		char *leaf = unique_name("t");
		d->filter = channel_topic(d->cfg.channel_id, "#");
		d->topic = leaf != NULL ? channel_topic(d->cfg.channel_id, leaf) : NULL;
		free(leaf);
		ok = d->filter != NULL && d->topic != NULL;
	}
	if (!CHECK(ok))
		device_free(d);
	return ok;
}

static client_t *device_login(const device_t *d)
{
	return client_connect(&B, 5, NULL, d->cfg.client_id, d->cfg.client_secret);
}

/* An anonymous client bootstraps d's config and gets its credentials. */
static void check_anonymous_bootstrap(const device_t *d)
{
	char *req = boot_request(d->cfg.external_id, d->cfg.external_key, "c1");
	it_msg_t *m = req != NULL ? device_rr(&B, 4, NULL, req, (int)strlen(req), NULL) : NULL;
	json_t *reply = msg_json(m);
	CHECK_STR(jstr(reply, "client_id"), d->cfg.client_id);
	CHECK_STR(jstr(reply, "client_secret"), d->cfg.client_secret);
	json_decref(reply);
	msg_free(m);
	free(req);
}

/* The right secret lets it in; a wrong one, or a disabled config, not. */
static void check_device_login(void)
{
	device_t on, off;
	if (!device_new(&on, true))
		return;
	if (device_new(&off, false)) {
		CHECK(client_connack(&B, 4, on.cfg.client_id, on.cfg.client_secret) == 0);
		CHECK(client_connack(&B, 5, on.cfg.client_id, on.cfg.client_secret) == 0);
		CHECK(client_connack(&B, 4, on.cfg.client_id, "wrong-secret") == 5);
		CHECK(client_connack(&B, 4, on.cfg.client_id, off.cfg.client_secret) == 5);
		CHECK(client_connack(&B, 4, off.cfg.client_id, off.cfg.client_secret) == 5);
		device_free(&off);
	}
	device_free(&on);
}

/*
 * The device uses its channel (its own messages come back, and another
 * client's message on it arrives, when writer is given), and has nothing
 * else: not another config's channel, not the wildcards that would cover
 * one, not any of others (topics a broader source would grant it).
 */
static void check_device_rights(client_t *writer, const char *const *others)
{
	device_t d, other;
	client_t *c = NULL;
	char *other_topic = NULL;
	if (!device_new(&d, true))
		return;
	if (!device_new(&other, true))
		goto out;
	c = device_login(&d);
	if (!CHECK(c != NULL))
		goto out;
	CHECK(client_echo(c, d.filter, d.topic) == 0);
	if (writer != NULL) {
		CHECK(pub_ok(writer, d.topic));
		it_msg_t *m = client_wait(c, IT_WAIT_MS);
		CHECK(m != NULL && strcmp(m->topic, d.topic) == 0);
		msg_free(m);
	}
	CHECK(sub_refused(c, "#"));
	CHECK(sub_refused(c, "channels/+/messages/#"));
	CHECK(sub_refused(c, "channels/#"));
	CHECK(sub_refused(c, other.filter));
	CHECK(pub_refused(c, other.topic));
	other_topic = topic_under("bootstrap/res/spoof");
	CHECK(other_topic != NULL && pub_refused(c, other_topic));
	for (; others != NULL && *others != NULL; others++) {
		CHECK(sub_refused(c, *others));
		CHECK(pub_refused(c, *others));
	}
out:
	client_close(c);
	free(other_topic);
	device_free(&other);
	device_free(&d);
}

/* ---- (a) password_file + acl_file ------------------------------------- */

/*
 * ops and alice are password_file users; alice may write anywhere and
 * feeds the read checks. The pattern line would give a bootstrapped client
 * clients/<client_id>/#.
 */
static const char files_acl[] =
	"# anonymous clients\n"
	"topic read public/#\n"
	"\n"
	"user ops\n"
	"topic readwrite ops/#\n"
	"topic write public/#\n"
	"\n"
	"user alice\n"
	"topic write #\n"
	"\n"
	"pattern readwrite clients/%u/#\n";

/* Every client, anonymous or not, may read and write everything. */
static const char wide_acl[] =
	"topic readwrite #\n"
	"pattern readwrite #\n"
	"\n"
	"user ops\n"
	"topic readwrite #\n";

static const char files_conf[] =
	"acl_file @DIR@/acl\n"
	"plugin_opt_client_auth true\n"
	"plugin_opt_acl_default defer\n";

static int start_files(const char *acl)
{
	char passwd[IT_PATH_MAX], aclpath[IT_PATH_MAX];
	if (broker_prepare(&B, files_conf, 0) != 0)
		return -1;
	char *argv[] = { "mosquitto_passwd", "-b", passwd, "ops", "opspw", NULL };
	if (broker_path(&B, "passwd", passwd, sizeof passwd) != 0 ||
			broker_path(&B, "acl", aclpath, sizeof aclpath) != 0 ||
			run_quiet(argv) != 0 || write_file_text(aclpath, acl) != 0 ||
			broker_launch(&B) != 0) {
		broker_cleanup(&B);
		return -1;
	}
	return 0;
}

static int start_files_acl(void)
{
	return start_files(files_acl);
}

static int start_wide_acl(void)
{
	return start_files(wide_acl);
}

static int stop_broker(void)
{
	broker_cleanup(&B);
	return 0;
}

static void test_password_file_user_keeps_exactly_its_acl_file_rights(void)
{
	client_t *ops = client_connect(&B, 5, NULL, "ops", "opspw");
	client_t *alice = client_connect(&B, 5, NULL, "alice", "alicepw");
	char *own = topic_under("ops/status"), *pattern = topic_under("clients/ops/x");
	char *notice = topic_under("public/notice"), *secret = topic_under("secret/x");
	char *spoof = topic_under("bootstrap/res/spoof");
	if (!CHECK(ops != NULL && alice != NULL && own != NULL && pattern != NULL &&
				notice != NULL && secret != NULL && spoof != NULL))
		goto out;
	CHECK(client_echo(ops, "ops/#", own) == 0);
	CHECK(client_echo(ops, "clients/ops/#", pattern) == 0);
	CHECK(pub_ok(ops, notice));
	CHECK(pub_refused(ops, secret));
	CHECK(pub_refused(ops, "elsewhere/x"));
	CHECK(pub_refused(ops, spoof));
	/* write-only on public/#, nothing on secret/#: neither is delivered */
	CHECK(!reads(ops, "public/#", alice, notice));
	CHECK(!reads(ops, "secret/#", alice, secret));
out:
	client_close(alice);
	client_close(ops);
	free(spoof);
	free(secret);
	free(notice);
	free(pattern);
	free(own);
}

static void test_password_file_user_with_wrong_password_is_refused(void)
{
	int v5 = client_connack(&B, 5, "ops", "wrong");
	CHECK(client_connack(&B, 4, "ops", "opspw") == 0);
	CHECK(client_connack(&B, 4, "ops", "wrong") == 5);
	CHECK(v5 == 0x86 || v5 == 0x87);
	CHECK(client_connack(&B, 4, "nobody", "nobodypw") == 5);
}

static void test_anonymous_clients_keep_their_acl_file_rights(void)
{
	client_t *anon = client_connect(&B, 5, NULL, NULL, NULL);
	client_t *ops = client_connect(&B, 5, NULL, "ops", "opspw");
	client_t *alice = client_connect(&B, 5, NULL, "alice", "alicepw");
	char *notice = topic_under("public/notice"), *secret = topic_under("secret/x");
	device_t d;
	if (!CHECK(anon != NULL && ops != NULL && alice != NULL &&
				notice != NULL && secret != NULL))
		goto out;
	CHECK(reads(anon, "public/#", ops, notice));
	CHECK(pub_refused(anon, notice));
	CHECK(!reads(anon, "secret/#", alice, secret));
	if (device_new(&d, true)) {
		check_anonymous_bootstrap(&d);
		device_free(&d);
	}
out:
	client_close(alice);
	client_close(ops);
	client_close(anon);
	free(secret);
	free(notice);
}

static void test_bootstrapped_client_logs_in_with_its_secret(void)
{
	check_device_login();
}

/* Nothing the acl_file grants others (nor its pattern line) reaches it. */
static void test_bootstrapped_client_has_its_channel_and_nothing_else(void)
{
	client_t *alice = client_connect(&B, 5, NULL, "alice", "alicepw");
	device_t probe;
	char pattern[IT_PATH_MAX] = "";
	if (!CHECK(alice != NULL) || !device_new(&probe, true))
		goto out;
	/* clients/<its client_id>/x: the pattern line's topic for it */
	snprintf(pattern, sizeof pattern, "clients/%s/x", probe.cfg.client_id);
	client_t *c = device_login(&probe);
	if (CHECK(c != NULL)) {
		CHECK(sub_refused(c, "public/#"));
		CHECK(sub_refused(c, pattern));
		CHECK(pub_refused(c, pattern));
		CHECK(pub_refused(c, "ops/x"));
	}
	client_close(c);
	device_free(&probe);
	static const char *const others[] = { "public/notice", "secret/x", NULL };
	check_device_rights(alice, others);
out:
	client_close(alice);
}

/* The control: this acl_file does give everyone everything. */
static void test_wide_acl_file_grants_everyone_everything(void)
{
	client_t *anon = client_connect(&B, 5, NULL, NULL, NULL);
	client_t *ops = client_connect(&B, 5, NULL, "ops", "opspw");
	char *t1 = topic_under("elsewhere/a"), *t2 = topic_under("elsewhere/b");
	if (CHECK(anon != NULL && ops != NULL && t1 != NULL && t2 != NULL)) {
		CHECK(client_echo(anon, "#", t1) == 0);
		CHECK(client_echo(ops, "#", t2) == 0);
	}
	client_close(ops);
	client_close(anon);
	free(t2);
	free(t1);
}

static void test_wide_acl_file_does_not_widen_a_bootstrapped_client(void)
{
	client_t *ops = client_connect(&B, 5, NULL, "ops", "opspw");
	static const char *const others[] = { "elsewhere/x", "ops/x", NULL };
	if (CHECK(ops != NULL))
		check_device_rights(ops, others);
	client_close(ops);
}

/* ---- (b) the dynamic-security plugin ---------------------------------- */

static const char dynsec_setup[] =
	"{\"commands\":["
	"{\"command\":\"createRole\",\"rolename\":\"sensors\"},"
	"{\"command\":\"addRoleACL\",\"rolename\":\"sensors\","
	"\"acltype\":\"publishClientSend\",\"topic\":\"sensors/#\",\"allow\":true},"
	"{\"command\":\"addRoleACL\",\"rolename\":\"sensors\","
	"\"acltype\":\"publishClientReceive\",\"topic\":\"sensors/#\",\"allow\":true},"
	"{\"command\":\"addRoleACL\",\"rolename\":\"sensors\","
	"\"acltype\":\"subscribePattern\",\"topic\":\"sensors/#\",\"allow\":true},"
	"{\"command\":\"createClient\",\"username\":\"sensor\",\"password\":\"sensorpw\","
	"\"roles\":[{\"rolename\":\"sensors\"}]},"
	"{\"command\":\"createRole\",\"rolename\":\"everything\"},"
	"{\"command\":\"addRoleACL\",\"rolename\":\"everything\","
	"\"acltype\":\"publishClientSend\",\"topic\":\"#\",\"allow\":true},"
	"{\"command\":\"addRoleACL\",\"rolename\":\"everything\","
	"\"acltype\":\"publishClientReceive\",\"topic\":\"#\",\"allow\":true},"
	"{\"command\":\"addRoleACL\",\"rolename\":\"everything\","
	"\"acltype\":\"subscribePattern\",\"topic\":\"#\",\"allow\":true},"
	"{\"command\":\"createClient\",\"username\":\"wide\",\"password\":\"widepw\","
	"\"roles\":[{\"rolename\":\"everything\"}]}"
	"]}";

/* The dynamic-security plugin installed here, or NULL (malloc()ed). */
static char *dynsec_plugin(void)
{
	static const char *const patterns[] = {
		"/usr/lib/*/mosquitto_dynamic_security.so",
		"/usr/lib/mosquitto_dynamic_security.so",
		"/usr/local/lib/mosquitto_dynamic_security.so",
		"/usr/local/lib/*/mosquitto_dynamic_security.so",
	};
	char *found = NULL;
	for (size_t i = 0; found == NULL && i < sizeof patterns / sizeof patterns[0]; i++) {
		glob_t g;
		if (glob(patterns[i], 0, NULL, &g) == 0 && g.gl_pathc > 0)
			found = strdup(g.gl_pathv[0]);
		globfree(&g);
	}
	if (found == NULL)
		fprintf(stderr, "mosquitto_dynamic_security.so is not installed\n");
	return found;
}

/* The two plugin blocks, each with its own plugin_opt_* lines, in order. */
static int write_dynsec_conf(const char *dynsec)
{
	char plugin[IT_PATH_MAX];
	FILE *f = broker_plugin(plugin, sizeof plugin) == 0 ? fopen(B.conf, "w") : NULL;
	if (f == NULL)
		return -1;
	char ours[3 * IT_PATH_MAX + 256], theirs[2 * IT_PATH_MAX + 64], store[IT_PATH_MAX];
	if (broker_store_conf(&B, store, sizeof store) != 0) {
		fclose(f);
		return -1;
	}
	snprintf(ours, sizeof ours,
			"plugin %s\n"
			"%s\n"
			"plugin_opt_key_file %s/bootstrap.key\n"
			"plugin_opt_admin_users admin\n"
			"plugin_opt_client_auth true\n"
			"plugin_opt_acl_default defer\n", plugin, store, B.dir);
	snprintf(theirs, sizeof theirs, "plugin %s\nplugin_opt_config_file %s/dynsec.json\n",
			dynsec, B.dir);
	int rc = broker_conf_base(f, &B) == 0 && fprintf(f, "%s%s",
			dynsec_first ? theirs : ours, dynsec_first ? ours : theirs) >= 0 ? 0 : -1;
	return fclose(f) != 0 ? -1 : rc;
}

/*
 * Sends payload to $CONTROL/dynamic-security/v1 as user and returns the
 * parsed reply, or NULL when none came.
 */
static json_t *dynsec_rr(const char *user, const char *pass, const char *payload)
{
	client_t *c = client_connect(&B, 5, NULL, user, pass);
	json_t *reply = NULL;
	int granted = c != NULL ? client_subscribe(c, DYNSEC_TOPIC "/response", 1) : -1;
	if (granted >= 0 && granted < 0x80 &&
			client_publish(c, DYNSEC_TOPIC, payload, (int)strlen(payload), &q1) == 0) {
		it_msg_t *m = client_wait(c, IT_WAIT_MS);
		reply = msg_json(m);
		msg_free(m);
	}
	client_close(c);
	return reply;
}

/* Whether every response of a dynsec reply succeeded; says which did not. */
static bool dynsec_all_ok(const json_t *reply)
{
	json_t *rs = json_object_get(reply, "responses"), *r;
	size_t i;
	if (!json_is_array(rs) || json_array_size(rs) == 0)
		return false;
	json_array_foreach(rs, i, r) {
		if (json_object_get(r, "error") != NULL) {
			fprintf(stderr, "dynsec %s: %s\n", jstr(r, "command"), jstr(r, "error"));
			return false;
		}
	}
	return true;
}

/*
 * dynsec.json made by mosquitto_ctrl with the admin "admin" (the plugin's
 * admin too), then the roles and clients made through dynsec's API.
 */
static int start_dynsec(bool first)
{
	char path[IT_PATH_MAX];
	char *dynsec = dynsec_plugin();
	int rc = -1;
	dynsec_first = first;
	if (dynsec == NULL || broker_prepare(&B, NULL, BROKER_NO_CONF) != 0)
		goto out;
	char *init[] = { "mosquitto_ctrl", "dynsec", "init", path, "admin", "adminpw", NULL };
	if (broker_path(&B, "dynsec.json", path, sizeof path) == 0 && run_quiet(init) == 0 &&
			write_dynsec_conf(dynsec) == 0 && broker_launch(&B) == 0) {
		json_t *reply = dynsec_rr("admin", "adminpw", dynsec_setup);
		rc = dynsec_all_ok(reply) ? 0 : -1;
		json_decref(reply);
	}
	if (rc != 0)
		broker_cleanup(&B);
out:
	free(dynsec);
	return rc;
}

static int start_dynsec_first(void)
{
	return start_dynsec(true);
}

static int start_ours_first(void)
{
	return start_dynsec(false);
}

static void test_dynsec_api_keeps_working_for_its_admin(void)
{
	json_t *reply = dynsec_rr("admin", "adminpw",
			"{\"commands\":[{\"command\":\"getClient\",\"username\":\"sensor\"},"
			"{\"command\":\"listRoles\"}]}");
	json_t *rs = json_object_get(reply, "responses");
	json_t *client = json_object_get(json_object_get(json_array_get(rs, 0), "data"), "client");
	json_t *role = json_array_get(json_object_get(client, "roles"), 0);
	json_t *roles = json_object_get(json_object_get(json_array_get(rs, 1), "data"), "roles");
	CHECK(dynsec_all_ok(reply));
	CHECK_STR(jstr(client, "username"), "sensor");
	CHECK_STR(jstr(role, "rolename"), "sensors");
	CHECK(json_array_size(roles) == 3);     /* admin, sensors, everything */
	json_decref(reply);
}

/* A dynsec client without a role on $CONTROL/dynamic-security/# cannot use
 * it, nor the plugin's $CONTROL/bootstrap/v1. */
static void test_dynsec_api_refuses_other_clients(void)
{
	client_t *c = client_connect(&B, 5, NULL, "sensor", "sensorpw");
	if (CHECK(c != NULL)) {
		CHECK(pub_refused(c, DYNSEC_TOPIC));
		CHECK(pub_refused(c, "$CONTROL/bootstrap/v1"));
		CHECK(sub_refused(c, DYNSEC_TOPIC "/response"));
	}
	client_close(c);
}

static void test_dynsec_client_logs_in_and_has_its_role_rights(void)
{
	int v5 = client_connack(&B, 5, "sensor", "wrong");
	client_t *c = client_connect(&B, 5, NULL, "sensor", "sensorpw");
	char *own = topic_under("sensors/temp");
	CHECK(client_connack(&B, 4, "sensor", "wrong") == 5);
	CHECK(v5 == 0x86 || v5 == 0x87);
	CHECK(client_connack(&B, 4, "nobody", "nobodypw") == 5);
	if (CHECK(c != NULL && own != NULL)) {
		CHECK(client_echo(c, "sensors/#", own) == 0);
		CHECK(pub_refused(c, "elsewhere/x"));
		CHECK(sub_refused(c, "elsewhere/#"));
		CHECK(sub_refused(c, "#"));
	}
	client_close(c);
	free(own);
}

static void test_anonymous_device_bootstraps(void)
{
	device_t d;
	if (device_new(&d, true)) {
		check_anonymous_bootstrap(&d);
		device_free(&d);
	}
}

static void test_bootstrapped_client_logs_in_beside_dynsec(void)
{
	check_device_login();
}

/* The dynsec client "wide" (a role granting "#") writes to the device's
 * channel; the device has nothing of what the dynsec roles grant. */
static void test_bootstrapped_client_has_its_channel_beside_dynsec(void)
{
	client_t *wide = client_connect(&B, 5, NULL, "wide", "widepw");
	static const char *const others[] = { "sensors/temp", "elsewhere/x", NULL };
	if (CHECK(wide != NULL))
		check_device_rights(wide, others);
	client_close(wide);
}

/*
 * The order's one difference: "wide" publishes a bootstrap reply and
 * subscribes to the admin's response topic. With the plugin first, its
 * own topics are refused whatever dynsec grants; with dynsec first,
 * dynsec's "#" answers first and both are granted. The admin's replies
 * still do not reach "wide": dynsec never grants a $CONTROL topic through
 * a "#" read, so the plugin decides the delivery, and refuses it.
 */
static void test_plugin_topics_and_the_plugin_order(void)
{
	client_t *wide = client_connect(&B, 5, NULL, "wide", "widepw");
	char *spoof = topic_under("bootstrap/res/spoof");
	char *ext = unique_name("watched");
	if (!CHECK(wide != NULL && spoof != NULL && ext != NULL))
		goto out;
	int reason = pub(wide, spoof);
	int granted = client_subscribe(wide, "$CONTROL/bootstrap/v1/response", 1);
	fprintf(stderr, "  %s first: wide's bootstrap/res publish %d, "
			"$CONTROL/bootstrap/v1/response subscription %d\n",
			dynsec_first ? "dynsec" : "plugin", reason, granted);
	if (dynsec_first) {
		CHECK(reason >= 0 && reason < 0x80);
		CHECK(granted >= 0 && granted < 0x80);
	} else {
		CHECK(reason == NOT_AUTHORIZED);
		CHECK(granted == NOT_AUTHORIZED);
	}
	json_t *made = admin_create_config(&B, ext, NULL);
	CHECK(made != NULL);
	json_decref(made);
	CHECK(client_expect_none(wide, IT_QUIET_MS));
	/* the plugin's request topic stays open to everyone */
	CHECK(pub_ok(wide, "bootstrap/req"));
out:
	client_close(wide);
	free(ext);
	free(spoof);
}

/* ---- registration ----------------------------------------------------- */

static const cu_test_t files_tests[] = {
	{ "password_file_user_keeps_exactly_its_acl_file_rights",
		test_password_file_user_keeps_exactly_its_acl_file_rights },
	{ "password_file_user_with_wrong_password_is_refused",
		test_password_file_user_with_wrong_password_is_refused },
	{ "anonymous_clients_keep_their_acl_file_rights",
		test_anonymous_clients_keep_their_acl_file_rights },
	{ "bootstrapped_client_logs_in_with_its_secret",
		test_bootstrapped_client_logs_in_with_its_secret },
	{ "bootstrapped_client_has_its_channel_and_nothing_else",
		test_bootstrapped_client_has_its_channel_and_nothing_else },
	{ NULL, NULL },
};

static const cu_test_t wide_tests[] = {
	{ "wide_acl_file_grants_everyone_everything",
		test_wide_acl_file_grants_everyone_everything },
	{ "wide_acl_file_does_not_widen_a_bootstrapped_client",
		test_wide_acl_file_does_not_widen_a_bootstrapped_client },
	{ NULL, NULL },
};

static const cu_test_t dynsec_tests[] = {
	{ "dynsec_api_keeps_working_for_its_admin",
		test_dynsec_api_keeps_working_for_its_admin },
	{ "dynsec_api_refuses_other_clients", test_dynsec_api_refuses_other_clients },
	{ "dynsec_client_logs_in_and_has_its_role_rights",
		test_dynsec_client_logs_in_and_has_its_role_rights },
	{ "anonymous_device_bootstraps", test_anonymous_device_bootstraps },
	{ "bootstrapped_client_logs_in_beside_dynsec",
		test_bootstrapped_client_logs_in_beside_dynsec },
	{ "bootstrapped_client_has_its_channel_beside_dynsec",
		test_bootstrapped_client_has_its_channel_beside_dynsec },
	{ "plugin_topics_and_the_plugin_order", test_plugin_topics_and_the_plugin_order },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("password_file_and_acl_file", start_files_acl, stop_broker,
			files_tests);
	cu_add_suite("acl_file_granting_everything", start_wide_acl, stop_broker,
			wide_tests);
	cu_add_suite("dynsec_then_plugin", start_dynsec_first, stop_broker,
			dynsec_tests);
	cu_add_suite("plugin_then_dynsec", start_ours_first, stop_broker,
			dynsec_tests);
	return cu_run("test_coexist");
}
