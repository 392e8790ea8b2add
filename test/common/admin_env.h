/*
 * The fixture of the admin unit tests (test_admin.c, test_admin_edit.c): a
 * core in a throwaway directory, admin batches run through it with their
 * replies kept until the test ends, and the log lines it wrote.
 */
#ifndef ADMIN_ENV_H
#define ADMIN_ENV_H

#include "admin.h"
#include "core.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>

#define ADMIN_ENV_MAX_LINES 1024
#define ADMIN_ENV_MAX_KEEP 256

/* The admin context starts as user "admin", client "admin-cli", at this time. */
#define T0 ((time_t)1700000000)

typedef struct {
	char dir[64];
	char db[128];
	char err[512];
	bs_core_t *core;
	bs_admin_ctx_t ctx;
	bs_admin_result_t last;
	char *lines[ADMIN_ENV_MAX_LINES];
	size_t nlines;
	size_t dropped_lines;
	void *keep[ADMIN_ENV_MAX_KEEP];    /* freed by env_close */
	size_t nkeep;
	json_t *roots[ADMIN_ENV_MAX_KEEP]; /* parsed replies, released by env_close */
	size_t nroots;
} admin_env_t;

extern admin_env_t env;

/* A CUnit assertion that names the case it checks. */
#define CHECK_CASE(cond, name) check_case((cond) != 0, (name), #cond, __FILE__, __LINE__)
void check_case(int ok, const char *name, const char *cond, const char *file,
		unsigned line);

void record_line(void *userdata, bs_log_level_t level, const char *line);
void clear_lines(void);
/* Frees p when the environment closes; returns p. */
void *keep(void *p);
void env_path(char *out, size_t outlen, const char *name);
void env_close(void);
/* Opens the core on env.db with master.key beside it, admin_users "admin". */
int open_core(void);
/* The same with more options: name, value, ..., NULL. */
int open_core_with(const char *const *extra);
/* A fresh directory and core. */
void env_open(void);
int suite_clean(void);

/* Runs a batch; returns its "responses" array (kept until env_close). */
json_t *run_raw(const void *payload, size_t len);
json_t *run_text(const char *payload);
/* {"commands": cmds} (stolen). */
json_t *run_batch(json_t *cmds);
/* A device request through bs_device_handle, from client "dev" at
 * 192.0.2.1: its reply, parsed (kept until env_close). */
json_t *run_device(const char *payload);
/* One command (stolen); returns its response. */
json_t *run1(json_t *cmd);
const char *str(json_t *obj, const char *key);
int str_is(json_t *obj, const char *key, const char *want);
/* The data of a success response. */
json_t *ok_data(json_t *resp);
void expect_error(json_t *resp, const char *code, const char *name);
json_t *create_channel(const char *id, const char *name);

/* The database through the core's own connection while it is open (the
 * plugin holds it exclusively), the file otherwise. */
sqlite3 *raw_conn(void);
void raw_release(sqlite3 *db);

int is_audit(const char *line);
size_t count_audit(void);
/* The want-th audit line, or "". */
const char *audit_line(size_t want);

typedef struct {
	const char *command;
	const char *target;
	const char *result;
} audit_want_t;

/* Exactly n audit lines, the i-th by admin from admin-cli with want[i]. */
void assert_audit_lines(const audit_want_t *want, size_t n);
/* 1 when no log line holds text. */
int log_free_of(const char *text);
/* n copies of c (kept). */
char *repeat(char c, size_t n);

#endif
