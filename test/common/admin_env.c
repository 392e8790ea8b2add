#include "admin_env.h"

#include "device.h"

#include "core_open.h"

#include "error.h"
#include "store_sqlite.h"
#include "tmpdir.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

admin_env_t env;

void check_case(int ok, const char *name, const char *cond, const char *file,
		unsigned line)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "[%s] %s", name, cond);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "",
			CU_FALSE);
}

void record_line(void *userdata, bs_log_level_t level, const char *line)
{
	admin_env_t *e = userdata;

	(void)level;
	if (e->nlines < ADMIN_ENV_MAX_LINES)
		e->lines[e->nlines++] = strdup(line);
	else
		e->dropped_lines++;
}

void clear_lines(void)
{
	for (size_t i = 0; i < env.nlines; i++)
		free(env.lines[i]);
	env.nlines = 0;
	env.dropped_lines = 0;
}

void *keep(void *p)
{
	if (p != NULL && env.nkeep < ADMIN_ENV_MAX_KEEP)
		env.keep[env.nkeep++] = p;
	else if (p != NULL)
		CU_FAIL("keep: too many buffers");
	return p;
}

void env_path(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", env.dir, name);
}

void env_close(void)
{
	bs_admin_result_free(&env.last);
	bs_core_close(env.core);
	clear_lines();
	for (size_t i = 0; i < env.nkeep; i++)
		free(env.keep[i]);
	for (size_t i = 0; i < env.nroots; i++)
		json_decref(env.roots[i]);
	tmpdir_remove(env.dir);
	memset(&env, 0, sizeof(env));
}

int open_core_with(const char *const *extra)
{
	char keypath[128];

	env_path(keypath, sizeof(keypath), "master.key");
	return test_core_open_with(env.db, keypath, extra, record_line, &env, &env.core,
			env.err, sizeof(env.err));
}

int open_core(void)
{
	return open_core_with(NULL);
}

void env_open(void)
{
	env_close();
	if (tmpdir_make(env.dir, sizeof(env.dir), "/tmp/bs-admin-XXXXXX") != 0)
		CU_FAIL_FATAL("mkdtemp");
	env_path(env.db, sizeof(env.db), "bootstrap.db");
	env.ctx.username = "admin";
	env.ctx.client_id = "admin-cli";
	env.ctx.now = T0;
	CU_ASSERT_EQUAL_FATAL(open_core(), BS_OK);
}

int suite_clean(void)
{
	env_close();
	return 0;
}

/* Kept until env_close. */
static json_t *hold(json_t *root)
{
	if (env.nroots >= ADMIN_ENV_MAX_KEEP) {
		json_decref(root);
		CU_FAIL_FATAL("too many replies in one test");
	}
	env.roots[env.nroots++] = root;
	return root;
}

json_t *run_raw(const void *payload, size_t len)
{
	json_error_t jerr;
	json_t *root;

	bs_admin_result_free(&env.last);
	CU_ASSERT_EQUAL_FATAL(bs_admin_handle(env.core, &env.ctx, payload, len,
			&env.last), BS_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env.last.payload);
	CU_ASSERT_EQUAL(strlen(env.last.payload), env.last.payloadlen);
	root = json_loadb(env.last.payload, env.last.payloadlen, 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	hold(root);
	CU_ASSERT_TRUE_FATAL(json_is_array(json_object_get(root, "responses")));
	return json_object_get(root, "responses");
}

json_t *run_device(const char *payload)
{
	bs_request_ctx_t ctx = { .client_id = "dev", .address = "192.0.2.1",
		.now = env.ctx.now };
	bs_reply_t r;
	json_t *reply;

	CU_ASSERT_EQUAL_FATAL(bs_device_handle(env.core, &ctx, payload, strlen(payload), &r),
			BS_OK);
	reply = json_loadb(r.payload, r.payloadlen, 0, NULL);
	bs_reply_free(&r);
	CU_ASSERT_FATAL(json_is_object(reply));
	return hold(reply);
}

json_t *run_text(const char *payload)
{
	return run_raw(payload, strlen(payload));
}

json_t *run_batch(json_t *cmds)
{
	json_t *root = json_pack("{s:o}", "commands", cmds);
	char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;

	json_decref(root);
	CU_ASSERT_PTR_NOT_NULL_FATAL(keep(text));
	return run_text(text);
}

json_t *run1(json_t *cmd)
{
	json_t *list = run_batch(json_pack("[o]", cmd));

	CU_ASSERT_EQUAL_FATAL(json_array_size(list), 1);
	return json_array_get(list, 0);
}

const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int str_is(json_t *obj, const char *key, const char *want)
{
	const char *got = str(obj, key);

	return got != NULL && strcmp(got, want) == 0;
}

json_t *ok_data(json_t *resp)
{
	json_t *data = json_object_get(resp, "data");

	CU_ASSERT_PTR_NULL(json_object_get(resp, "error"));
	if (json_object_get(resp, "error") != NULL)
		fprintf(stderr, "\n  unexpected error: %s: %s\n", str(resp, "error"),
				str(resp, "message"));
	CU_ASSERT_TRUE_FATAL(json_is_object(data));
	return data;
}

void expect_error(json_t *resp, const char *code, const char *name)
{
	CHECK_CASE(str_is(resp, "error", code), name);
	CHECK_CASE(json_object_get(resp, "data") == NULL, name);
	CHECK_CASE(json_is_string(json_object_get(resp, "message")), name);
	if (!str_is(resp, "error", code))
		fprintf(stderr, "\n  [%s] want %s, got %s\n", name, code,
				str(resp, "error") ? str(resp, "error") : "success");
}

json_t *create_channel(const char *id, const char *name)
{
	return run1(json_pack("{s:s, s:s, s:s}", "command", "createChannel",
			"id", id, "name", name));
}

sqlite3 *raw_conn(void)
{
	sqlite3 *db = NULL;

	if (env.core != NULL)
		return lite(bs_store_backend(env.core->store))->db;
	if (sqlite3_open_v2(env.db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

void raw_release(sqlite3 *db)
{
	if (env.core == NULL || db != lite(bs_store_backend(env.core->store))->db)
		sqlite3_close(db);
}

int is_audit(const char *line)
{
	return strncmp(line, "audit:", 6) == 0;
}

size_t count_audit(void)
{
	size_t n = 0;

	for (size_t i = 0; i < env.nlines; i++)
		n += is_audit(env.lines[i]) ? 1 : 0;
	return n;
}

const char *audit_line(size_t want)
{
	for (size_t i = 0, n = 0; i < env.nlines; i++) {
		if (is_audit(env.lines[i]) && n++ == want)
			return env.lines[i];
	}
	return "";
}

int log_free_of(const char *text)
{
	for (size_t i = 0; i < env.nlines; i++) {
		if (strstr(env.lines[i], text) != NULL)
			return 0;
	}
	return 1;
}

char *repeat(char c, size_t n)
{
	char *s = keep(malloc(n + 1));

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

void assert_audit_lines(const audit_want_t *want, size_t n)
{
	char expect[300];

	CU_ASSERT_EQUAL(count_audit(), n);
	for (size_t i = 0; i < n; i++) {
		const char *line = audit_line(i);
		CHECK_CASE(strstr(line, "user=admin ") != NULL, want[i].command);
		CHECK_CASE(strstr(line, "client=admin-cli ") != NULL, want[i].command);
		snprintf(expect, sizeof(expect), "command=%s ", want[i].command);
		CHECK_CASE(strstr(line, expect) != NULL, want[i].command);
		snprintf(expect, sizeof(expect), "target=%s ", want[i].target);
		CHECK_CASE(strstr(line, expect) != NULL, want[i].command);
		snprintf(expect, sizeof(expect), "result=%s", want[i].result);
		CHECK_CASE(strstr(line, expect) != NULL, want[i].command);
	}
}
