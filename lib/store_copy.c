/*
 * Moving a fleet between stores (lib/store_copy.h): the source opened as
 * the plugin opens it, its key checked; the target's backend opened
 * bare, so that nothing is written to it before the copy's transaction.
 */
#include "store_copy.h"

#include "error.h"
#include "store.h"
#include "store_backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 300

typedef struct copy {
	bs_backend_t *to;
	const bs_rows_table_t *open;    /* being written */
	bs_copy_counts_t *counts;
	int target_failed;
} copy_t;

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* The same URL (without its password and parameters), or the same file. */
static int same_store(const char *a, const char *b)
{
	char na[NAME_MAX_LEN], nb[NAME_MAX_LEN];
	struct stat sa, sb;

	if (bs_store_is_url(a) != bs_store_is_url(b))
		return 0;
	if (bs_store_is_url(a)) {
		bs_store_name(a, na, sizeof(na));
		bs_store_name(b, nb, sizeof(nb));
		return strcmp(na, nb) == 0;
	}
	return strcmp(a, b) == 0 || (stat(a, &sa) == 0 && stat(b, &sb) == 0
			&& sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

static size_t table_index(const bs_rows_table_t *t)
{
	for (size_t i = 0; i < bs_rows_ntables; i++)
		if (bs_rows_tables[i] == t)
			return i;
	return 0;
}

static int copy_row(void *arg, const bs_rows_table_t *t, const bs_rows_value_t *v)
{
	copy_t *c = arg;
	const bs_backend_ops_t *ops = c->to->ops;
	int rc = BS_OK;

	if (t != c->open && c->open != NULL) {
		c->open = NULL;
		rc = ops->rows_close(c->to, 0);
	}
	if (rc == BS_OK && c->open == NULL && (rc = ops->rows_open(c->to, t)) == BS_OK)
		c->open = t;
	if (rc == BS_OK && (rc = ops->rows_put(c->to, v)) == BS_OK)
		c->counts->rows[table_index(t)]++;
	c->target_failed = rc != BS_OK;
	return rc;
}

/* Stops at the first row, naming its table. */
static int found(void *arg, const bs_rows_table_t *t, const bs_rows_value_t *v)
{
	(void)v;
	*(const bs_rows_table_t **)arg = t;
	return 1;
}

static int copy_rows(bs_backend_t *from, copy_t *c)
{
	int rc = from->ops->rows_read(from, bs_rows_tables, bs_rows_ntables, copy_row, c);

	if (c->open != NULL) {
		int closed = c->to->ops->rows_close(c->to, rc != BS_OK);
		if (rc == BS_OK) {
			rc = closed;
			c->target_failed = closed != BS_OK;
		}
		c->open = NULL;
	}
	return rc;
}

static int copy_check(bs_backend_t *from, bs_backend_t *to, int *target_failed)
{
	bs_blob_t check = { 0 };
	int rc = from->ops->key_check_get(from, &check);

	*target_failed = 0;
	if (rc == BS_OK && (rc = to->ops->key_check_put(to, &check)) != BS_OK)
		*target_failed = 1;
	bs_blob_clear(&check);
	return rc;
}

/* Into to's one transaction, after checking that it holds no fleet. */
static int copy_all(bs_backend_t *from, bs_backend_t *to, const char *from_name,
		const char *to_name, bs_copy_counts_t *counts, char *err, size_t errlen)
{
	const bs_rows_table_t *held = NULL;
	copy_t c = { .to = to, .counts = counts };
	int rc = to->ops->begin(to);

	if (rc == BS_OK) {
		rc = to->ops->rows_read(to, bs_rows_tables, bs_rows_ntables, found, &held);
		if (rc == 1) {
			to->ops->rollback(to);
			return fail(err, errlen, BS_ERR_CONFLICT, "%s holds a fleet already "
					"(rows in %s): copy only into an empty store", to_name, held->name);
		}
	}
	c.target_failed = 1;
	if (rc == BS_OK && (rc = copy_rows(from, &c)) == BS_OK
			&& (rc = copy_check(from, to, &c.target_failed)) == BS_OK) {
		c.target_failed = 1;
		if ((rc = to->ops->rows_settle(to)) == BS_OK)
			rc = to->ops->commit(to);
	}
	if (rc == BS_OK)
		return BS_OK;
	fail(err, errlen, rc, "%s: %s; nothing was written", c.target_failed ? to_name
			: from_name, c.target_failed ? to->errmsg : from->errmsg);
	to->ops->rollback(to);
	return rc < 0 ? rc : BS_ERR_INTERNAL;
}

static int open_target(const char *to, const char *name, bs_backend_t **b, char *err,
		size_t errlen)
{
	char why[300];
	int rc;

	if (bs_store_is_url(to))
		return bs_pg_open(to, b, err, errlen);
	if ((rc = bs_sqlite_open(to, b, why, sizeof(why))) != BS_OK)
		fail(err, errlen, rc, "%s: %s", name, why);
	return rc;
}

/* A SQLite target made by this copy, and its journal files. */
static void remove_made(const char *path)
{
	char side[4096];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}

int bs_store_copy(const char *from, const char *to, const uint8_t key[BS_KEY_LEN],
		bs_copy_counts_t *counts, char *err, size_t errlen)
{
	char from_name[NAME_MAX_LEN], to_name[NAME_MAX_LEN];
	bs_store_t *src = NULL;
	bs_backend_t *dst = NULL;
	int made, rc;

	memset(counts, 0, sizeof(*counts));
	bs_store_name(from, from_name, sizeof(from_name));
	bs_store_name(to, to_name, sizeof(to_name));
	if (same_store(from, to))
		return fail(err, errlen, BS_ERR_CONFLICT, "--from and --to are the same "
				"store (%s)", from_name);
	if (!bs_store_is_url(from) && access(from, F_OK) != 0)
		return fail(err, errlen, BS_ERR_INVALID, "%s: no such file", from_name);
	made = !bs_store_is_url(to) && access(to, F_OK) != 0;
	if ((rc = bs_store_open(from, key, &src, err, errlen)) != BS_OK)
		return rc;
	if ((rc = open_target(to, to_name, &dst, err, errlen)) == BS_OK) {
		rc = copy_all(bs_store_backend(src), dst, from_name, to_name, counts, err,
				errlen);
		dst->ops->close(dst);
	}
	bs_store_close(src);
	if (rc != BS_OK && made)
		remove_made(to);
	return rc;
}
