/*
 * The store outlives the broker process: configs survive a clean stop and a
 * SIGKILL, and their secrets still open with the same key file.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"

#include <stdlib.h>
#include <string.h>

/* The device bootstraps and gets its own client_id and client_secret. */
static void check_bootstrap(const broker_t *b, const boot_cfg_t *cfg)
{
	char *req = boot_request(cfg->external_id, cfg->external_key, "s1");
	it_msg_t *m = req != NULL
		? device_rr(b, 4, NULL, req, (int)strlen(req), NULL) : NULL;
	json_t *reply = msg_json(m);
	CHECK(m != NULL);
	CHECK(json_object_get(reply, "error") == NULL);
	CHECK_STR(jstr(reply, "client_id"), cfg->client_id);
	CHECK_STR(jstr(reply, "client_secret"), cfg->client_secret);
	json_decref(reply);
	msg_free(m);
	free(req);
}

static void check_state(const broker_t *b, const char *client_id,
		const char *state)
{
	json_t *cfg = admin_get_config(b, "client_id", client_id);
	CHECK(cfg != NULL);
	CHECK_STR(jstr(cfg, "state"), state);
	json_decref(cfg);
}

/* Two configs, one enabled and one not; then stop() and start again. */
static void survives(int (*stop)(broker_t *))
{
	broker_t b;
	boot_cfg_t on = { 0 }, off = { 0 };
	if (!CHECK(broker_start(&b, NULL) == 0))
		return;
	char *e1 = unique_name("keep-on"), *e2 = unique_name("keep-off");
	bool made = e1 != NULL && e2 != NULL &&
		make_config(&b, e1, NULL, false, &off) == 0 &&
		make_config(&b, e2, NULL, true, &on) == 0;
	if (!CHECK(made))
		goto out;
	CHECK(stop(&b) == 0);
	if (!CHECK(broker_launch(&b) == 0))
		goto out;
	check_state(&b, off.client_id, "disabled");
	check_state(&b, on.client_id, "enabled");
	check_bootstrap(&b, &on);
out:
	boot_cfg_free(&on);
	boot_cfg_free(&off);
	free(e1);
	free(e2);
	broker_cleanup(&b);
}

static void test_configs_survive_restart(void)
{
	survives(broker_stop);
}

static void test_configs_survive_sigkill_right_after_admin_reply(void)
{
	survives(broker_kill9);
}

static void test_restart_keeps_the_key_file(void)
{
	broker_t b;
	char path[IT_PATH_MAX];
	if (!CHECK(broker_start(&b, NULL) == 0))
		return;
	char *before = NULL, *after = NULL;
	if (broker_path(&b, "bootstrap.key", path, sizeof path) == 0)
		before = read_file_text(path, NULL);
	CHECK(before != NULL);
	CHECK(broker_restart(&b) == 0);
	after = read_file_text(path, NULL);
	CHECK(before != NULL && after != NULL && strcmp(before, after) == 0);
	free(before);
	free(after);
	broker_cleanup(&b);
}

static const cu_test_t store_tests[] = {
	{ "configs_survive_restart", test_configs_survive_restart },
	{ "configs_survive_sigkill_right_after_admin_reply",
		test_configs_survive_sigkill_right_after_admin_reply },
	{ "restart_keeps_the_key_file", test_restart_keeps_the_key_file },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("store", NULL, NULL, store_tests);
	return cu_run("test_store");
}
