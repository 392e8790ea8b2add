/*
 * libFuzzer target for the admin batch handler (protocol section 4): each
 * input is one payload, run as user "admin" on a real store where the
 * state of earlier inputs accumulates (a fresh store every few thousand
 * inputs keeps it small), seeded with a channel and a config with
 * certificate material so that reads and edits find something.
 *
 * Checked for every input: a {"responses": [...]} object; one response per
 * command, in order, naming it and echoing its correlationData, with data
 * or an error and a message; one invalid_request for anything that is not a
 * batch; no internal_error (the store never fails here); no client_key in
 * any reply, and an external_key only from the commands that set one.
 */
#include "admin.h"
#include "error.h"
#include "jsonr.h"
#include "fuzz_core.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FRESH_EVERY 4096

static bs_core_t *core;
static unsigned long inputs;

static void open_seeded(void)
{
	json_t *cmds = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s}]",
			"command", "createChannel", "id", "c1", "name", "telemetry",
			"command", "createConfig", "client_id", "cid-1", "external_id", "dev-1",
			"external_key", "key-of-dev-1", "channels", "c1",
			"client_cert", fuzz_cert_pem, "client_key", fuzz_key_pem,
			"ca_cert", fuzz_ca_pem);

	core = fuzz_core_open();
	fuzz_admin_ok(core, cmds);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	open_seeded();
	return 0;
}

/* 1 when a config in data (the config, or each of a listConfigs page)
 * shows key; a channel's metadata may hold any name, so only the configs'
 * own members count. */
static int shows(json_t *data, const char *key)
{
	json_t *configs = json_object_get(data, "configs"), *c;
	size_t i;

	json_array_foreach(configs, i, c) {
		if (json_object_get(c, key) != NULL)
			return 1;
	}
	return configs == NULL && json_object_get(data, key) != NULL;
}

/* The commands whose data may show an external_key: those that set it. */
static int sets_key(const char *command)
{
	return strcmp(command, "createConfig") == 0 || strcmp(command, "modifyConfig") == 0;
}

/* One response to cmd (NULL: to a payload that is no batch). */
static void check_response(json_t *r, json_t *cmd)
{
	const char *name = json_string_value(json_object_get(r, "command"));
	const char *want = json_string_value(json_object_get(cmd, "command"));
	json_t *data = json_object_get(r, "data"), *err = json_object_get(r, "error");
	json_t *corr = json_object_get(cmd, "correlationData");

	if (name == NULL || strcmp(name, want ? want : "") != 0)
		abort();
	if (!json_equal(corr, json_object_get(r, "correlationData"))
			&& (corr != NULL || json_object_get(r, "correlationData") != NULL))
		abort();
	if ((data != NULL) == (err != NULL))
		abort();
	if (err != NULL && (!json_is_string(err)
			|| !json_is_string(json_object_get(r, "message"))
			|| strcmp(json_string_value(err), "internal_error") == 0))
		abort();
	if (cmd == NULL && (err == NULL || strcmp(json_string_value(err), "invalid_request") != 0))
		abort();
	if (data != NULL && (shows(data, "client_key")
			|| (!sets_key(name) && shows(data, "external_key"))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bs_admin_ctx_t ctx = { .username = "admin", .client_id = "fuzz-admin",
		.now = FUZZ_NOW + (time_t)inputs };
	/* The batch as the plugin reads it (fuzz_jsonr holds its reader to
	 * Jansson's, but for a NUL byte after a number, which Jansson skips). */
	json_t *in = jr_parse((const char *)data, size);
	json_t *list = json_is_object(in) ? json_object_get(in, "commands") : NULL;
	json_t *out, *responses, *r;
	bs_admin_result_t res;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) > BS_ADMIN_MAX_COMMANDS)
		list = NULL;
	if (bs_admin_handle(core, &ctx, data, size, &res) != BS_OK || res.payload == NULL)
		abort();
	out = json_loadb(res.payload, res.payloadlen, 0, NULL);
	responses = json_object_get(out, "responses");
	if (!json_is_array(responses) || json_object_size(out) != 1
			|| json_array_size(responses) != (list ? json_array_size(list) : 1))
		abort();
	json_array_foreach(responses, i, r)
		check_response(r, list ? json_array_get(list, i) : NULL);
	json_decref(out);
	json_decref(in);
	bs_admin_result_free(&res);
	if (++inputs % FRESH_EVERY == 0)
		open_seeded();
	return 0;
}
