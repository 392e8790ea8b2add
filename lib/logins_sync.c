/*
 * The login replica's thread (lib/logins.h): the whole read in pages into
 * a table of its own and put in place of the live one at once, and stale
 * entries read again, each job's work installed on the broker's thread
 * when it is drained. A drop makes the work of every job begun before it
 * void (gen); an entry read again is taken only when no effect came
 * since its read was asked for (seq).
 */
#include "logins_int.h"

#include "error.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 1000            /* configs a statement */
#define READ_MAX 256         /* stale entries a job */
#define RETRY_MS 1000        /* after a failed job */

typedef struct load_job {
	bs_logins_t *l;
	unsigned gen;
	login_table_t t;
	int rc;
	long long ms;
	char why[256];
} load_job_t;

typedef struct read_job {
	bs_logins_t *l;
	unsigned gen;
	size_t n;
	struct reread {
		char *id;
		unsigned long seq;
		bs_login_entry_t *e;       /* NULL: no config has it, nor had */
		int rc;
	} v[READ_MAX];
	char why[256];
} read_job_t;

static void note(bs_logins_t *l, int warning, const char *line)
{
	if (l->log != NULL)
		l->log(l->log_arg, warning, line);
}

static void why(const bs_logins_t *l, char *out, size_t len)
{
	snprintf(out, len, "%s", l->src.errmsg ? l->src.errmsg(l->src.ctx) : "failed");
}

/* ---- the whole --------------------------------------------------------- */

static int load_configs(load_job_t *j, char **after)
{
	bs_logins_t *l = j->l;
	bs_config_t *page = calloc(PAGE, sizeof(*page));
	size_t n = PAGE;
	int rc = page ? BS_OK : BS_ERR_INTERNAL;

	while (rc == BS_OK && n == PAGE) {
		rc = l->src.page(l->src.ctx, *after, PAGE, page, &n);
		for (size_t i = 0; i < n; i++) {
			bs_login_entry_t *e = rc == BS_OK
				? bs_login_new(l->key, page[i].client_id, &page[i]) : NULL;
			if (rc == BS_OK && (e == NULL || bs_login_table_put(&j->t, e) != BS_OK))
				rc = BS_ERR_INTERNAL;
			if (rc == BS_OK && i + 1 == n) {
				free(*after);
				if ((*after = strdup(page[i].client_id)) == NULL)
					rc = BS_ERR_INTERNAL;
			}
			bs_config_clear(&page[i]);
		}
	}
	free(page);
	return rc;
}

static int load_deleted(load_job_t *j, char **after)
{
	bs_logins_t *l = j->l;
	char *ids[PAGE];
	size_t n = PAGE;
	int rc = BS_OK;

	while (rc == BS_OK && n == PAGE) {
		rc = l->src.deleted_page(l->src.ctx, *after, PAGE, ids, &n);
		for (size_t i = 0; i < n; i++) {
			bs_login_entry_t *e = rc == BS_OK ? bs_login_new(l->key, ids[i], NULL) : NULL;
			if (rc == BS_OK && (e == NULL || bs_login_table_put(&j->t, e) != BS_OK))
				rc = BS_ERR_INTERNAL;
			if (rc == BS_OK && i + 1 == n) {
				free(*after);
				*after = ids[i];
				continue;
			}
			free(ids[i]);
		}
	}
	return rc;
}

static void run_load(void *arg)
{
	load_job_t *j = arg;
	long long start = bs_logins_now_ms();
	char *after = strdup("");

	if (j->l->src.revive != NULL)
		j->l->src.revive(j->l->src.ctx);
	j->rc = after ? load_configs(j, &after) : BS_ERR_INTERNAL;
	free(after);
	after = strdup("");
	if (j->rc == BS_OK)
		j->rc = after ? load_deleted(j, &after) : BS_ERR_INTERNAL;
	free(after);
	if (j->rc != BS_OK) {
		why(j->l, j->why, sizeof(j->why));
		bs_login_table_free(&j->t);
	}
	j->ms = bs_logins_now_ms() - start;
}

static void done_load(void *arg, bool cancelled)
{
	load_job_t *j = arg;
	bs_logins_t *l = j->l;
	char line[400];

	l->loading = 0;
	if (cancelled || j->gen != l->gen) {
		bs_login_table_free(&j->t);
		free(j);
		return;
	}
	if (j->rc != BS_OK) {
		l->want_load = 1;
		l->load_retry_ms = bs_logins_now_ms() + RETRY_MS;
		snprintf(line, sizeof(line), "logins: cannot read the configs' login "
				"views (logins read the store meanwhile): %s", j->why);
		if (!l->failing)
			note(l, 1, line);
		l->failing = 1;
		free(j);
		return;
	}
	bs_login_table_free(&l->live);
	bs_login_table_free(&l->before);
	l->has_before = 0;
	l->live = j->t;
	l->loaded = 1;
	l->dropped = 0;
	l->failing = 0;
	l->load_ms = j->ms;
	snprintf(line, sizeof(line), "logins: %zu configs and %zu deleted client ids "
			"in memory (%zu bytes), read in %lld ms", l->live.configs, l->live.deleted,
			l->live.bytes + l->live.map.cap * sizeof(bs_hnode_t *), j->ms);
	note(l, 0, line);
	free(j);
}

static void submit_load(bs_logins_t *l)
{
	load_job_t *j = calloc(1, sizeof(*j));
	bs_job_t job = { .run = run_load, .done = done_load, .arg = j };

	if (j == NULL)
		return;
	j->l = l;
	j->gen = l->gen;
	if (bs_worker_submit(l->worker, &job) != BS_OK) {
		free(j);
		return;
	}
	l->loading = 1;
	l->want_load = 0;
}

/* ---- stale entries ------------------------------------------------------- */

static void read_one(bs_logins_t *l, const bs_logins_source_t *src, struct reread *r)
{
	bs_config_t cfg;
	int gone;

	r->rc = src->get(src->ctx, r->id, &cfg);
	if (r->rc == BS_OK) {
		if ((r->e = bs_login_new(l->key, r->id, &cfg)) == NULL)
			r->rc = BS_ERR_INTERNAL;
		bs_config_clear(&cfg);
		return;
	}
	if (r->rc != BS_ERR_NOT_FOUND)
		return;
	if ((gone = src->deleted(src->ctx, r->id)) < 0) {
		r->rc = gone;
		return;
	}
	r->rc = BS_OK;
	if (gone == 1 && (r->e = bs_login_new(l->key, r->id, NULL)) == NULL)
		r->rc = BS_ERR_INTERNAL;
}

/* Every entry of j in one call of the source; 0 when it has none such. */
static int read_many(read_job_t *j)
{
	const bs_logins_source_t *src = &j->l->src;
	const char *ids[READ_MAX];
	bs_config_t *cfg;
	int found[READ_MAX], gone[READ_MAX], rc;

	if (src->get_many == NULL || (cfg = calloc(j->n, sizeof(*cfg))) == NULL)
		return 0;
	for (size_t i = 0; i < j->n; i++)
		ids[i] = j->v[i].id;
	rc = src->get_many(src->ctx, ids, j->n, cfg, found, gone);
	for (size_t i = 0; i < j->n; i++) {
		struct reread *r = &j->v[i];
		r->rc = rc;
		if (rc == BS_OK && (found[i] || gone[i])
				&& (r->e = bs_login_new(j->l->key, r->id,
					found[i] ? &cfg[i] : NULL)) == NULL)
			r->rc = BS_ERR_INTERNAL;
		bs_config_clear(&cfg[i]);
	}
	free(cfg);
	if (rc != BS_OK)
		why(j->l, j->why, sizeof(j->why));
	return 1;
}

static void run_read(void *arg)
{
	read_job_t *j = arg;

	if (j->l->src.revive != NULL)
		j->l->src.revive(j->l->src.ctx);
	if (read_many(j))
		return;
	for (size_t i = 0; i < j->n; i++) {
		read_one(j->l, &j->l->src, &j->v[i]);
		if (j->v[i].rc != BS_OK && j->why[0] == '\0')
			why(j->l, j->why, sizeof(j->why));
	}
}

/* One entry read again, taken when it is still the one asked for. */
static void take(bs_logins_t *l, struct reread *r, long long now)
{
	stale_t *s = (stale_t *)bs_hmap_get(&l->stale, r->id);

	if (s == NULL || s->seq != r->seq) {
		free(r->e);
		return;
	}
	if (r->rc != BS_OK) {
		bs_logins_queue(l, s);
		s->retry_ms = now + RETRY_MS;
		return;
	}
	if (r->e != NULL ? bs_login_table_put(&l->live, r->e) != BS_OK
			: (bs_login_table_remove(&l->live, r->id), 0)) {
		bs_logins_drop(l);
		return;
	}
	bs_hmap_del(&l->stale, &s->node);
	free(s);
}

static void done_read(void *arg, bool cancelled)
{
	read_job_t *j = arg;
	bs_logins_t *l = j->l;
	long long now = bs_logins_now_ms();

	l->reading = 0;
	for (size_t i = 0; i < j->n; i++) {
		if (cancelled || j->gen != l->gen)
			free(j->v[i].e);
		else
			take(l, &j->v[i], now);
		free(j->v[i].id);
	}
	/* One line a spell of failures, not one a second. */
	if (!cancelled && j->gen == l->gen && j->why[0] != '\0' && !l->failing) {
		char line[400];
		snprintf(line, sizeof(line), "logins: cannot read changed login views "
				"again (their logins are refused meanwhile): %s", j->why);
		note(l, 1, line);
		l->failing = 1;
	} else if (!cancelled && j->gen == l->gen && j->why[0] == '\0' && l->loaded) {
		l->failing = 0;
	}
	free(j);
}

/* The queued stale entries that may be read now, up to READ_MAX. */
static void submit_read(bs_logins_t *l, long long now)
{
	read_job_t *j = calloc(1, sizeof(*j));
	bs_job_t job = { .run = run_read, .done = done_read, .arg = j };

	if (j == NULL)
		return;
	j->l = l;
	j->gen = l->gen;
	for (size_t i = 0; i < l->stale.cap && j->n < READ_MAX; i++) {
		for (bs_hnode_t *n = l->stale.buckets[i]; n != NULL && j->n < READ_MAX;
				n = n->next) {
			stale_t *s = (stale_t *)n;
			if (!s->queued || s->retry_ms > now)
				continue;
			if ((j->v[j->n].id = strdup(s->id)) == NULL)
				break;
			j->v[j->n++].seq = s->seq;
			s->queued = 0;
			l->queued--;
		}
	}
	if (j->n > 0 && bs_worker_submit(l->worker, &job) == BS_OK) {
		l->reading = 1;
		return;
	}
	/* Nothing due yet, or the queue is full: asked again at a tick. */
	for (size_t i = 0; i < j->n; i++) {
		stale_t *s = (stale_t *)bs_hmap_get(&l->stale, j->v[i].id);
		if (s != NULL)
			bs_logins_queue(l, s);
		free(j->v[i].id);
	}
	free(j);
}

void bs_logins_read_now(bs_logins_t *l, const bs_logins_source_t *src,
		const char *client_id)
{
	stale_t *s = (stale_t *)bs_hmap_get(&l->stale, client_id);
	struct reread r = { .id = (char *)client_id };

	/* While the whole is read, the thread reads it after that read: read
	 * now, it would be lost under a page read before the change. */
	if (s == NULL || !l->loaded)
		return;
	read_one(l, src, &r);
	r.seq = s->seq;
	/* A failure leaves it queued, for the thread at once. */
	take(l, &r, 0);
}

/* ---- the broker's side ------------------------------------------------- */

int bs_logins_start(bs_logins_t *l, const bs_logins_source_t *src,
		void (*wake)(void *), void *wake_arg, bs_logins_log_fn log, void *log_arg)
{
	l->src = *src;
	l->log = log;
	l->log_arg = log_arg;
	if (bs_worker_start(16, wake, wake_arg, &l->worker) != BS_OK)
		return BS_ERR_INTERNAL;
	submit_load(l);
	return l->loading ? BS_OK : BS_ERR_INTERNAL;
}

void bs_logins_check(bs_logins_t *l)
{
	unsigned long n = bs_store_losses();

	if (n != l->losses) {
		l->losses = n;
		bs_logins_drop(l);
	}
}

void bs_logins_tick(bs_logins_t *l)
{
	long long now;

	if (l == NULL || l->worker == NULL)
		return;
	bs_worker_drain(l->worker);
	bs_logins_check(l);
	now = bs_logins_now_ms();
	if (l->want_load && !l->loading && now >= l->load_retry_ms)
		submit_load(l);
	if (!l->reading && l->queued > 0)
		submit_read(l, now);
}

int bs_logins_wait(bs_logins_t *l, long long ms)
{
	long long end = bs_logins_now_ms() + ms;
	struct timespec pause = { 0, 1000000 };

	while (!l->loaded && bs_logins_now_ms() < end) {
		bs_logins_tick(l);
		if (!l->loaded)
			nanosleep(&pause, NULL);
	}
	return l->loaded;
}

void bs_logins_drop(bs_logins_t *l)
{
	/* Once dropped, a load begun after it is good. */
	if (l == NULL || (!l->loaded && l->dropped))
		return;
	if (l->loaded) {
		bs_login_table_free(&l->before);
		l->before = l->live;
		l->has_before = 1;
		memset(&l->live, 0, sizeof(l->live));
	} else {
		bs_login_table_free(&l->live);
	}
	l->dropped = 1;
	l->gen++;
	l->loaded = 0;
	bs_logins_stale_clear(l);
	l->want_load = 1;
	l->load_retry_ms = 0;
	if (!l->failing)
		note(l, 1, "logins: the store's connection was lost: the configs' "
				"clients are refused until the login views are read again");
}

/* ---- a store as the source ------------------------------------------- */

static int st_page(void *ctx, const char *after, size_t max, bs_config_t *out, size_t *n)
{
	return bs_store_login_page(ctx, after, max, out, n);
}

static int st_deleted_page(void *ctx, const char *after, size_t max, char **ids,
		size_t *n)
{
	return bs_store_deleted_page(ctx, after, max, ids, n);
}

static int st_get(void *ctx, const char *client_id, bs_config_t *out)
{
	return bs_store_config_get(ctx, client_id, NULL, BS_LOGIN_VIEW | BS_LOAD_SECRET, out);
}

static int st_get_many(void *ctx, const char *const *ids, size_t n, bs_config_t *out,
		int *found, int *deleted)
{
	return bs_store_logins_get(ctx, ids, n, out, found, deleted);
}

static int st_deleted(void *ctx, const char *client_id)
{
	return bs_store_client_deleted(ctx, client_id);
}

static void st_revive(void *ctx)
{
	bs_store_revive(ctx);
}

static const char *st_errmsg(void *ctx)
{
	return bs_store_errmsg(ctx);
}

void bs_logins_source_store(bs_store_t *st, bs_logins_source_t *out)
{
	out->page = st_page;
	out->deleted_page = st_deleted_page;
	out->get = st_get;
	out->deleted = st_deleted;
	out->get_many = st_get_many;
	out->revive = st_revive;
	out->errmsg = st_errmsg;
	out->ctx = st;
}
