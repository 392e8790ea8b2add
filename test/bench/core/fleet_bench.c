/*
 * Fleets without a broker (protocol 7): what rendering a profile's
 * template costs a bootstrap, against the same config without a profile,
 * and how fast an enrollment group makes configs (first bootstraps with
 * the derived key).
 *
 *   fleet_bench [bootstraps, default 100000] [enrollments, default 20000]
 */
#include "admin.h"
#include "bench_core.h"
#include "device.h"
#include "enroll.h"
#include "error.h"
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A realistic device configuration: 1.2 KiB, 12 placeholders. */
#define TEMPLATE "{\"mqtt\": {\"host\": \"{{vars.host}}\", \"port\": {{vars.port}}, " \
	"\"client_id\": \"{{client_id}}\", \"topics\": {\"telemetry\": " \
	"\"channels/{{vars.channel}}/messages/{{external_id}}/telemetry\", \"commands\": " \
	"\"channels/{{vars.channel}}/messages/{{external_id}}/commands\"}}, " \
	"\"device\": {\"name\": \"{{name}}\", \"site\": \"{{vars.site}}\", " \
	"\"firmware\": {\"channel\": \"{{vars.fw}}\", \"check_hours\": 24}, " \
	"\"sampling\": {\"interval_s\": {{vars.interval}}, \"batch\": 16, " \
	"\"sensors\": [\"temperature\", \"humidity\", \"pressure\", \"vibration\"]}, " \
	"\"limits\": {\"temperature_c\": [-20, 85], \"humidity_pct\": [0, 100], " \
	"\"pressure_hpa\": [300, 1100]}, \"timezone\": \"{{vars.tz}}\", " \
	"\"ntp\": [\"0.pool.ntp.org\", \"1.pool.ntp.org\"], \"log\": {\"level\": " \
	"\"info\", \"remote\": true}}, \"description\": \"A device of the " \
	"{{vars.site}} site, configured by its profile; the values in double " \
	"braces are filled in at each bootstrap from the config's own vars and " \
	"the profile's defaults, so that a fleet shares one template.\"}"
#define VARS "{\"host\": \"broker.example.com\", \"port\": \"8883\", \"channel\": " \
	"\"telemetry\", \"site\": \"Lyon\", \"fw\": \"stable\", \"interval\": \"30\", " \
	"\"tz\": \"Europe/Paris\"}"

static bs_core_t *open_core(const char *dir)
{
	static const char *const extra[] = { "max_failures", "0", NULL };
	char db[256], key[256];

	snprintf(db, sizeof(db), "%s/fleet.db", dir);
	snprintf(key, sizeof(key), "%s/fleet.key", dir);
	return bench_core_open(db, key, extra);
}

/* One admin command (stolen); its data's field, copied, when asked. */
static int admin(bs_core_t *core, json_t *command, const char *field, char *out,
		size_t outlen)
{
	bs_admin_ctx_t ctx = { .username = "admin", .client_id = "bench", .now = time(NULL) };
	json_t *batch = json_pack("{s[o]}", "commands", command);
	char *text = json_dumps(batch, JSON_COMPACT);
	bs_admin_result_t res;
	int rc = bs_admin_handle(core, &ctx, text, strlen(text), &res);

	if (rc == BS_OK && strstr(res.payload, "\"error\"") != NULL) {
		fprintf(stderr, "fleet_bench: %s\n", res.payload);
		rc = BS_ERR_INTERNAL;
	}
	if (rc == BS_OK && field != NULL) {
		json_t *r = json_loads(res.payload, 0, NULL);
		json_t *d = json_object_get(json_array_get(json_object_get(r, "responses"), 0), "data");
		snprintf(out, outlen, "%s", json_string_value(json_object_get(d, field)));
		json_decref(r);
	}
	bs_admin_result_free(&res);
	json_decref(batch);
	free(text);
	return rc;
}

/* The same bootstrap, its 1.2 KiB content stored, then rendered. */
static int rendering(bs_core_t *core, long n)
{
	double plain, rendered;

	if (admin(core, json_pack("{ss ss ss ss so}", "command", "createProfile", "id", "p",
			"name", "p", "content", TEMPLATE, "vars", json_loads(VARS, 0, NULL)),
			NULL, NULL, 0) != BS_OK
			|| admin(core, json_pack("{ss ss ss ss ss}", "command", "createConfig",
			"client_id", "plain", "external_id", "ext-plain", "external_key",
			"key-plain-12345", "content", TEMPLATE), NULL, NULL, 0) != BS_OK
			|| admin(core, json_pack("{ss ss ss ss ss s{ss}}", "command", "createConfig",
			"client_id", "tpl", "external_id", "ext-tpl", "external_key", "key-tpl-123456",
			"profile", "p", "vars", "site", "Grenoble"), NULL, NULL, 0) != BS_OK
			|| admin(core, json_pack("{ss ss}", "command", "enableConfig", "client_id",
			"plain"), NULL, NULL, 0) != BS_OK
			|| admin(core, json_pack("{ss ss}", "command", "enableConfig", "client_id",
			"tpl"), NULL, NULL, 0) != BS_OK)
		return 1;
	plain = bench_requests(core, "{\"external_id\":\"ext-plain\",\"external_key\":\"key-plain-12345\"}", n);
	rendered = bench_requests(core, "{\"external_id\":\"ext-tpl\",\"external_key\":\"key-tpl-123456\"}", n);
	if (plain < 0 || rendered < 0)
		return 1;
	printf("bootstrap, 1.2 KiB content stored:   %7.2f us each\n", plain / n * 1e6);
	printf("bootstrap, rendered from a profile:  %7.2f us each (%.2f us for the template, "
			"12 placeholders)\n", rendered / n * 1e6, (rendered - plain) / n * 1e6);
	return 0;
}

/* First bootstraps through a group: a config made per request. */
static int enrollment(bs_core_t *core, long n)
{
	char gkey[64], ext[32], key[BS_SECRET_LEN + 1], req[256];
	bs_request_ctx_t ctx = { .client_id = "dev", .address = "192.0.2.1" };
	double t0;

	if (admin(core, json_pack("{ss ss ss ss sb}", "command", "createGroup", "id", "g",
			"name", "g", "profile", "p", "enable", 1), "group_key", gkey,
			sizeof(gkey)) != BS_OK)
		return 1;
	t0 = bench_now();
	for (long i = 0; i < n; i++) {
		bs_reply_t r;
		snprintf(ext, sizeof(ext), "enr-%08ld", i);
		if (bs_enroll_key(gkey, ext, key) != BS_OK)
			return 1;
		snprintf(req, sizeof(req), "{\"external_id\":\"%s\",\"external_key\":\"%s\","
				"\"group\":\"g\"}", ext, key);
		ctx.now = time(NULL);
		if (bs_device_handle(core, &ctx, req, strlen(req), &r) != BS_OK || r.err != BS_OK) {
			bs_reply_free(&r);
			fprintf(stderr, "fleet_bench: enrollment %ld failed\n", i);
			return 1;
		}
		bs_reply_free(&r);
		if (i % 1000 == 0)
			bs_core_tick(core, (long long)(bench_now() * 1000));
	}
	printf("enrollment: %ld configs made by first bootstraps in %.2f s (%.0f per second)\n",
			n, bench_now() - t0, n / (bench_now() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long enrollments = argc > 2 ? atol(argv[2]) : 20000;
	char dir[64];
	bs_core_t *core;
	int rc = 1;

	if (n < 1 || enrollments < 1 || tmpdir_make(dir, sizeof(dir), "/tmp/bs-fleet-XXXXXX") != 0)
		return 2;
	if ((core = open_core(dir)) != NULL)
		rc = rendering(core, n) || enrollment(core, enrollments);
	bs_core_close(core);
	tmpdir_remove(dir);
	return rc;
}
