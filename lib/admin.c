#include "admin.h"

#include "admin_int.h"

#include "changes.h"
#include "error.h"
#include "jsonr.h"
#include "jsonw.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *name;
	bs_handler_fn fn;
	int writes;       /* changes the store: audited */
	/* The fields it defines, besides command and correlationData, space
	 * separated with one at each end; any other is refused, so that a
	 * misspelt field is never silently ignored. Fields a handler refuses
	 * with a reason of its own (state, a fixed field) are listed too. */
	const char *fields;
} command_t;

#define CONFIG_FIELDS " client_id client_secret name external_id external_key" \
	" content channels client_cert client_key ca_cert state profile vars "
#define PROFILE_FIELDS " id name content channels vars "
#define GROUP_FIELDS " id name profile channels enable "

static const command_t commands[] = {
	{ "createChannel", bs_cmd_create_channel, 1, " id name metadata " },
	{ "getChannel", bs_cmd_get_channel, 0, " id " },
	{ "listChannels", bs_cmd_list_channels, 0, " offset limit " },
	{ "modifyChannel", bs_cmd_modify_channel, 1, " id name metadata " },
	{ "deleteChannel", bs_cmd_delete_channel, 1, " id " },
	{ "createConfig", bs_cmd_create_config, 1, CONFIG_FIELDS },
	{ "getConfig", bs_cmd_get_config, 0, " client_id external_id " },
	{ "listConfigs", bs_cmd_list_configs, 0,
		" offset limit state name external_id cert_expires_before " },
	{ "modifyConfig", bs_cmd_modify_config, 1, CONFIG_FIELDS "rotate_secret " },
	{ "enableConfig", bs_cmd_enable_config, 1, " client_id " },
	{ "disableConfig", bs_cmd_disable_config, 1, " client_id " },
	{ "deleteConfig", bs_cmd_delete_config, 1, " client_id " },
	{ "getStats", bs_cmd_get_stats, 0, " " },
	{ "createProfile", bs_cmd_create_profile, 1, PROFILE_FIELDS },
	{ "getProfile", bs_cmd_get_profile, 0, " id " },
	{ "listProfiles", bs_cmd_list_profiles, 0, " offset limit " },
	{ "modifyProfile", bs_cmd_modify_profile, 1, PROFILE_FIELDS },
	{ "deleteProfile", bs_cmd_delete_profile, 1, " id " },
	{ "createGroup", bs_cmd_create_group, 1, GROUP_FIELDS },
	{ "getGroup", bs_cmd_get_group, 0, " id " },
	{ "listGroups", bs_cmd_list_groups, 0, " offset limit " },
	{ "modifyGroup", bs_cmd_modify_group, 1, GROUP_FIELDS "rotate_key " },
	{ "deleteGroup", bs_cmd_delete_group, 1, " id " },
	{ "listUnknown", bs_cmd_list_unknown, 0, " offset limit " },
	{ "clearUnknown", bs_cmd_clear_unknown, 1, " external_id " },
};

/* One audited change, logged after the batch committed. */
typedef struct {
	const char *command;
	char target[BS_ID_MAX + 1];
	int rc;
	size_t response;  /* its index in the responses */
} audit_t;

/* One command's response, written out once the batch is done. */
typedef struct {
	const char *command;
	const json_t *correlation;  /* borrowed from the message's tree */
	int rc;
	json_t *data;               /* owned; one of these two is set */
	char *data_text;            /* when rc is BS_OK, or neither */
	char *message;              /* owned; set when it is not */
} response_t;

typedef struct {
	bs_core_t *core;
	const bs_admin_ctx_t *ctx;
	response_t *responses;
	size_t nresponses, capresponses;
	audit_t *audit;
	size_t naudit;
	bs_admin_result_t *out;
	/* The store rolled the whole transaction back under a command (a full
	 * disk does): nothing of the batch is stored, and no later command may
	 * run, since its savepoint would begin a transaction of its own. */
	int lost;
} batch_t;

/* Replaces with '?' each byte of s that starts no well-formed UTF-8
 * character: a message quotes at most 64 bytes of a name ("%.64s"), which
 * may cut a character in two, and Jansson refuses text that is not UTF-8,
 * which would leave the response without its message. */
static void repair_utf8(char *s)
{
	size_t len = strlen(s), n;
	uint32_t cp;

	for (size_t i = 0; i < len; i += n) {
		n = bs_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (n == 0) {
			s[i] = '?';
			n = 1;
		}
	}
}

int bs_call_fail(bs_call_t *call, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	repair_utf8(call->message);
	return code;
}

int bs_call_string(bs_call_t *call, const char *field, const char **out)
{
	json_t *v = json_object_get(call->cmd, field);

	*out = NULL;
	if (v == NULL)
		return BS_OK;
	if (!json_is_string(v))
		return bs_call_fail(call, BS_ERR_INVALID, "%s: must be a string", field);
	*out = json_string_value(v);
	return BS_OK;
}

int bs_call_required(bs_call_t *call, const char *field, const char **out)
{
	int rc = bs_call_string(call, field, out);

	if (rc == BS_OK && *out == NULL)
		return bs_call_fail(call, BS_ERR_INVALID, "%s: is required", field);
	return rc;
}

int bs_call_store_failed(bs_call_t *call)
{
	bs_core_log(call->core, BS_LOG_ERR, "admin command failed in the store: %s",
			bs_store_errmsg(call->core->store));
	return bs_call_fail(call, BS_ERR_INTERNAL, "the store failed; nothing was changed");
}

static const command_t *find_command(const char *name)
{
	for (size_t i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static void drop_data(response_t *r)
{
	json_decref(r->data);
	free(r->data_text);
	r->data = NULL;
	r->data_text = NULL;
}

/* Takes the call's data (a success's; call may be NULL) whatever the
 * outcome; message is a failure's. */
static int append_response(batch_t *b, const char *name, const json_t *cmd, int rc,
		bs_call_t *call, const char *message)
{
	response_t *r, taken = { .command = name ? name : "", .rc = rc };

	if (call != NULL) {
		taken.data = call->data;
		taken.data_text = call->data_text;
	}
	if (rc != BS_OK)
		drop_data(&taken);
	if (b->nresponses == b->capresponses) {
		size_t cap = b->capresponses ? 2 * b->capresponses : 16;
		response_t *grown = realloc(b->responses, cap * sizeof(*grown));
		if (grown == NULL) {
			drop_data(&taken);
			return BS_ERR_INTERNAL;
		}
		b->responses = grown;
		b->capresponses = cap;
	}
	r = &b->responses[b->nresponses++];
	*r = taken;
	r->correlation = json_is_object(cmd) ? json_object_get(cmd, "correlationData") : NULL;
	if (rc != BS_OK && (r->message = strdup(message)) == NULL)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

static void free_responses(batch_t *b)
{
	for (size_t i = 0; i < b->nresponses; i++) {
		drop_data(&b->responses[i]);
		free(b->responses[i].message);
	}
	free(b->responses);
}

static int remember(batch_t *b, const command_t *c, const bs_call_t *call, int rc)
{
	audit_t *grown = realloc(b->audit, (b->naudit + 1) * sizeof(*grown));

	if (grown == NULL)
		return BS_ERR_INTERNAL;
	b->audit = grown;
	grown[b->naudit].command = c->name;
	memcpy(grown[b->naudit].target, call->target, sizeof(call->target));
	grown[b->naudit].rc = rc;
	grown[b->naudit].response = b->nresponses;
	b->naudit++;
	return BS_OK;
}

/* One effect of each kind in mask, on target. */
static int add_effects(batch_t *b, unsigned mask, const char *target)
{
	for (unsigned kind = 1; kind <= mask; kind <<= 1) {
		bs_effect_t *grown;
		if (!(mask & kind))
			continue;
		grown = realloc(b->out->effects, (b->out->neffects + 1) * sizeof(*grown));
		if (grown == NULL)
			return BS_ERR_INTERNAL;
		b->out->effects = grown;
		if ((grown[b->out->neffects].target = strdup(target)) == NULL)
			return BS_ERR_INTERNAL;
		grown[b->out->neffects++].kind = kind;
	}
	return BS_OK;
}

static void free_effects(bs_admin_result_t *r)
{
	for (size_t i = 0; i < r->neffects; i++)
		free(r->effects[i].target);
	free(r->effects);
	r->effects = NULL;
	r->neffects = 0;
}

/* invalid_request naming the first field of cmd that c does not define. */
static int check_fields(bs_call_t *call, const command_t *c)
{
	const char *key;
	json_t *v;

	json_object_foreach(call->cmd, key, v) {
		char word[BS_ID_MAX + 3];
		(void)v;
		if (strcmp(key, "command") == 0 || strcmp(key, "correlationData") == 0)
			continue;
		snprintf(word, sizeof(word), " %s ", key);
		if (strlen(key) > BS_ID_MAX || strstr(c->fields, word) == NULL)
			break;
	}
	if (key == NULL)
		return BS_OK;
	/* The audit line still names what the command was aimed at. */
	v = json_object_get(call->cmd, "client_id");
	if (!json_is_string(v))
		v = json_object_get(call->cmd, "id");
	snprintf(call->target, sizeof(call->target), "%s",
			json_is_string(v) ? json_string_value(v) : "");
	return bs_call_fail(call, BS_ERR_INVALID, "%.64s: %s has no such field",
			key, c->name);
}

/* The command's handler, its savepoint released on success and rolled
 * back on failure, unless the store lost the whole transaction. */
static int run_in_savepoint(batch_t *b, const command_t *c, bs_call_t *call)
{
	bs_store_t *st = b->core->store;
	int rc = c->fn(call);

	if (rc == BS_OK && bs_store_release(st) != BS_OK)
		rc = bs_call_store_failed(call);
	if (!bs_store_in_transaction(st)) {
		bs_core_log(b->core, BS_LOG_ERR, "the store rolled the whole batch back "
				"(%s); the rest of the batch is refused", bs_store_errmsg(st));
		b->lost = 1;
		bs_store_rollback(st);      /* no SQL left to undo: drops the cache */
		if (rc == BS_OK)
			rc = bs_call_store_failed(call);
	} else if (rc != BS_OK) {
		bs_store_rollback_savepoint(st);
	}
	return rc;
}

/* Runs one command inside its own savepoint. */
static int run_one(batch_t *b, json_t *cmd)
{
	bs_call_t call = { .core = b->core, .ctx = b->ctx, .cmd = cmd };
	json_t *name_json = json_object_get(cmd, "command");
	const char *name = json_string_value(name_json);
	const command_t *c = find_command(name);
	int rc;

	if (!json_is_object(cmd))
		rc = bs_call_fail(&call, BS_ERR_INVALID, "a command must be a JSON object");
	else if (name == NULL)
		rc = bs_call_fail(&call, BS_ERR_INVALID, "command: a string is required");
	else if (c == NULL)
		rc = bs_call_fail(&call, BS_ERR_INVALID, "unknown command '%.64s'", name);
	else if (b->ctx->username == NULL)
		rc = bs_call_fail(&call, BS_ERR_FORBIDDEN,
				"admin commands need an authenticated username, for the audit log");
	else if (check_fields(&call, c) != BS_OK)
		rc = BS_ERR_INVALID;
	else if (b->lost)
		rc = bs_call_fail(&call, BS_ERR_INTERNAL,
				"the store failed earlier in this batch; nothing was changed");
	else if (bs_store_savepoint(b->core->store) != BS_OK)
		rc = bs_call_store_failed(&call);
	else
		rc = run_in_savepoint(b, c, &call);
	if ((c != NULL && c->writes && remember(b, c, &call, rc) != BS_OK)
			|| (rc == BS_OK && add_effects(b, call.effects, call.target) != BS_OK)) {
		json_decref(call.data);
		free(call.data_text);
		return BS_ERR_INTERNAL;
	}
	return append_response(b, c ? c->name : name, cmd, rc, &call, call.message);
}

/* The commit failed: nothing of the batch is stored, so every change that
 * answered success answers internal_error instead. */
static void undo_successes(batch_t *b)
{
	for (size_t i = 0; i < b->naudit; i++) {
		response_t *r = &b->responses[b->audit[i].response];
		if (b->audit[i].rc != BS_OK)
			continue;
		b->audit[i].rc = r->rc = BS_ERR_INTERNAL;
		drop_data(r);
		r->message = strdup("the store failed; nothing was changed");
	}
	free_effects(b->out);
}

/* {"event", "user", "target", "result", "at"}: an audit line as JSON;
 * user is left out for a sender without a username (its commands were
 * forbidden), target when the command named none. */
static char *event_json(const batch_t *b, const audit_t *a, const char *at)
{
	jw_t w;
	size_t len;

	jw_init(&w);
	jw_object_begin(&w);
	jw_member(&w, "event", a->command);
	if (b->ctx->username != NULL)
		jw_member(&w, "user", b->ctx->username);
	if (a->target[0])
		jw_member(&w, "target", a->target);
	jw_member(&w, "result", a->rc == BS_OK ? "ok" : bs_error_code(a->rc));
	jw_member(&w, "at", at);
	jw_object_end(&w);
	return jw_finish(&w, &len);
}

/* The events of the batch's changes into the result; one lost to memory
 * is logged, the batch stands. */
static void make_events(batch_t *b)
{
	char at[BS_TIME_LEN];

	if (b->naudit == 0 || (b->out->events = calloc(b->naudit, sizeof(char *))) == NULL)
		return;
	bs_time_format(b->ctx->now, at);
	for (size_t i = 0; i < b->naudit; i++) {
		char *e = event_json(b, &b->audit[i], at);
		if (e != NULL)
			b->out->events[b->out->nevents++] = e;
		else
			bs_core_log(b->core, BS_LOG_WARNING, "out of memory: an event is lost");
	}
}

static void write_audit(const batch_t *b)
{
	char user[128], client[128], target[BS_ID_MAX + 1];

	bs_log_safe(b->ctx->username, user, sizeof(user));
	bs_log_safe(b->ctx->client_id, client, sizeof(client));
	for (size_t i = 0; i < b->naudit; i++) {
		bs_core_log(b->core, BS_LOG_NOTICE,
				"audit: user=%s client=%s command=%s target=%s result=%s",
				user, client, b->audit[i].command,
				bs_log_safe(b->audit[i].target[0] ? b->audit[i].target : "-",
					target, sizeof(target)),
				b->audit[i].rc == BS_OK ? "ok" : bs_error_code(b->audit[i].rc));
	}
}

/* Every command answers internal_error: the store could not be had. */
static int refuse_all(batch_t *b, json_t *list, const char *why)
{
	size_t i;
	json_t *cmd;

	bs_core_log(b->core, BS_LOG_ERR, "admin batch refused: %s", why);
	json_array_foreach(list, i, cmd) {
		json_t *n = json_is_object(cmd) ? json_object_get(cmd, "command") : NULL;
		if (append_response(b, json_string_value(n), cmd, BS_ERR_INTERNAL,
				NULL, "the store is busy; nothing was changed") != BS_OK)
			return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

static int run_locked(batch_t *b, json_t *list)
{
	size_t i;
	json_t *cmd;

	/* Reads must see the bootstraps recorded so far. */
	bs_core_flush(b->core);
	if (bs_store_begin(b->core->store) != BS_OK)
		return refuse_all(b, list, bs_store_errmsg(b->core->store));
	json_array_foreach(list, i, cmd) {
		if (run_one(b, cmd) != BS_OK) {
			bs_store_rollback(b->core->store);
			return BS_ERR_INTERNAL;
		}
	}
	if (b->lost) {
		undo_successes(b);
	} else if (bs_changes_announce(b->core, b->out->effects, b->out->neffects) != BS_OK
			|| bs_store_commit(b->core->store) != BS_OK) {
		bs_core_log(b->core, BS_LOG_ERR, "cannot commit: %s",
				bs_store_errmsg(b->core->store));
		bs_store_rollback(b->core->store);
		undo_successes(b);
	}
	write_audit(b);
	make_events(b);
	return BS_OK;
}

/* The batch, with the store shared with the write-behind thread held. */
static int run_batch(batch_t *b, json_t *list)
{
	int rc;

	if (bs_core_enter(b->core) != BS_OK)
		return refuse_all(b, list, "the store is held by the write-behind "
				"thread, stuck on the disk");
	rc = run_locked(b, list);
	bs_core_leave(b->core);
	return rc;
}

static void write_response(jw_t *w, const response_t *r)
{
	jw_object_begin(w);
	jw_member(w, "command", r->command);
	if (r->correlation != NULL) {
		jw_key(w, "correlationData");
		jw_value(w, r->correlation);
	}
	if (r->rc == BS_OK) {
		jw_key(w, "data");
		if (r->data_text != NULL)
			jw_raw(w, r->data_text);
		else if (r->data != NULL)
			jw_value(w, r->data);
		else
			jw_punct(w, "{}");
	} else {
		jw_member(w, "error", bs_error_code(r->rc));
		jw_member(w, "message", r->message ? r->message : "out of memory");
	}
	jw_object_end(w);
}

/* {"responses": [...]}, compact. */
static int finish(batch_t *b)
{
	jw_t w;

	jw_init(&w);
	jw_punct(&w, "{\"responses\":[");
	for (size_t i = 0; i < b->nresponses; i++) {
		if (i > 0)
			jw_punct(&w, ",");
		write_response(&w, &b->responses[i]);
	}
	jw_punct(&w, "]}");
	b->out->payload = jw_finish(&w, &b->out->payloadlen);
	return b->out->payload ? BS_OK : BS_ERR_INTERNAL;
}

/* Whether the payload holds more than BS_ADMIN_MAX_VALUES JSON values,
 * by a scan that builds nothing (see admin.h). */
static int too_many_values(const char *p, size_t len)
{
	size_t n = 1;
	int in_string = 0;

	for (size_t i = 0; i < len && n <= BS_ADMIN_MAX_VALUES; i++) {
		if (in_string) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_string = 0;
		} else if (p[i] == '"') {
			in_string = 1;
		} else if (p[i] == ',' || p[i] == '[' || p[i] == '{') {
			n++;
		}
	}
	return n > BS_ADMIN_MAX_VALUES;
}

/* A message refused whole: one response, for no command. */
static int refuse(batch_t *b, const char *why)
{
	return append_response(b, "", NULL, BS_ERR_INVALID, NULL, why);
}

/* The message's responses; *root gets the parsed message, for the caller
 * to free. */
static int dispatch(batch_t *b, const void *payload, size_t len, json_t **root)
{
	json_t *list;

	if (len > BS_ADMIN_MAX_BYTES)
		return refuse(b, "payload is larger than 32 MiB");
	if (too_many_values(payload, len))
		return refuse(b, "payload has more than 500000 JSON values");
	*root = jr_parse(payload, len);
	list = json_is_object(*root) ? json_object_get(*root, "commands") : NULL;
	if (!json_is_array(list))
		return refuse(b, "payload must be a JSON object with a \"commands\" array");
	if (json_array_size(list) > BS_ADMIN_MAX_COMMANDS)
		return refuse(b, "too many commands in one message (at most 10000)");
	return run_batch(b, list);
}

int bs_admin_handle(bs_core_t *core, const bs_admin_ctx_t *ctx,
		const void *payload, size_t len, bs_admin_result_t *out)
{
	batch_t b = { .core = core, .ctx = ctx, .out = out };
	json_t *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = dispatch(&b, payload, len, &root);
	if (rc == BS_OK)
		rc = finish(&b);
	free_responses(&b);
	json_decref(root);
	free(b.audit);
	if (rc != BS_OK)
		bs_admin_result_free(out);
	return rc;
}

void bs_admin_result_free(bs_admin_result_t *r)
{
	free(r->payload);
	free_effects(r);
	for (size_t i = 0; i < r->nevents; i++)
		free(r->events[i]);
	free(r->events);
	memset(r, 0, sizeof(*r));
}
