/*
 * Announcements between brokers on one PostgreSQL database
 * (lib/changes.h), and what a broker does when it was not listening.
 *
 * NOTIFY alone is lost to a broker whose listening connection is down
 * when it is sent (PostgreSQL restarted, the listener made again step by
 * step at the tick). So every announcement is also a row of the table
 * changes (schema/pg/003), written with its NOTIFY in the same statement
 * of the writer's transaction: both commit or neither. Its seq comes
 * first in the notification's payload, and seq is the order of the
 * commits (the writer holds an advisory lock from drawing it to its
 * commit, lib/store_pg_sql.c). Each broker keeps the last seq it took
 * (at start: the highest in the table, read after LISTEN); one heard
 * that is not above it was read from the table already and is skipped.
 * Once its listener is connected again (LISTEN done, so that whatever
 * commits after is heard), the broker reads the rows above its last in
 * order and applies them exactly as heard ones, its own skipped, before
 * it reads its notifications again: nothing committed meanwhile is
 * missed, nothing is applied twice. That read (a statement a page of
 * rows) is a task on the plugin's lookup thread (lib/core.h), its rows
 * applied at the next poll; without an offload it is made on the
 * broker's thread, bounded by the statement timeout. It is retried once
 * a second while it fails. Rows
 * live an hour: a broker cut off for longer only empties its caches for
 * what went before.
 */
#include "changes.h"

#include "core.h"
#include "crypto.h"
#include "error.h"
#include "logins.h"
#include "store.h"
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A notification's payload is at most 8000 bytes: longer lists go in
 * several. */
#define PAYLOAD_MAX 7000
#define KIND_CACHES 0

int bs_changes_open(bs_core_t *core, char *err, size_t errlen)
{
	uint8_t id[8];
	char why[256];

	if (!bs_store_is_url(bs_core_db(core)))
		return BS_OK;
	if (bs_crypto_random(id, sizeof(id)) != BS_OK)
		return BS_ERR_INTERNAL;
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(core->changes_id + 2 * i, 3, "%02x", id[i]);
	if (bs_pg_open(bs_core_db(core), &core->listener, why, sizeof(why)) != BS_OK
			|| bs_pg_listen(core->listener, BS_CHANGES_CHANNEL) != BS_OK
			|| bs_pg_changes_last(core->listener, &core->changes_seq) != BS_OK) {
		char name[BS_ID_MAX + 64];
		bs_store_name(bs_core_db(core), name, sizeof(name));
		snprintf(err, errlen, "%s: cannot listen for other brokers' changes: %s",
				name, core->listener ? core->listener->errmsg : why);
		bs_changes_close(core);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

static void missed_free(struct bs_missed *m);

void bs_changes_close(bs_core_t *core)
{
	if (core->missed != NULL)
		missed_free(core->missed);
	core->missed = NULL;
	if (core->listener != NULL)
		core->listener->ops->close(core->listener);
	core->listener = NULL;
}

static int send(bs_store_t *st, const char *payload)
{
	return bs_pg_announce(bs_store_backend(st), BS_CHANGES_CHANNEL, payload, NULL);
}

int bs_changes_send(bs_store_t *st, const char *as, const bs_effect_t *fx, size_t n)
{
	char buf[PAYLOAD_MAX + BS_ID_MAX + 32];
	size_t at, head;
	int rc = BS_OK;

	head = at = (size_t)snprintf(buf, sizeof(buf), "%s\n%d -\n", as, KIND_CACHES);
	for (size_t i = 0; i < n && rc == BS_OK; i++) {
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%u %.*s\n",
				fx[i].kind, BS_ID_MAX, fx[i].target);
		if (at > PAYLOAD_MAX) {
			rc = send(st, buf);
			at = head;
		}
	}
	if (rc == BS_OK && (at > head || n == 0))
		rc = send(st, buf);
	return rc;
}

int bs_changes_commit(bs_store_t *st, const char *as, const bs_effect_t *fx, size_t n)
{
	int rc = as != NULL ? bs_changes_send(st, as, fx, n) : BS_OK;

	if (rc == BS_OK)
		rc = bs_store_commit(st);
	if (rc != BS_OK)
		bs_store_rollback(st);
	return rc;
}

const char *bs_changes_as(const bs_core_t *core)
{
	return core->listener != NULL ? core->changes_id : NULL;
}

int bs_changes_announce(bs_core_t *core, const bs_effect_t *fx, size_t n)
{
	if (core->listener == NULL || (n == 0 && !bs_store_cache_dirty(core->store)))
		return BS_OK;
	return bs_changes_send(core->store, core->changes_id, fx, n);
}

typedef struct {
	bs_core_t *core;
	bs_kicks_t *kicks;
} heard_t;

/* One line "kind target" of another broker's announcement, applied. */
static void apply_line(heard_t *h, const char *line, size_t len)
{
	char target[BS_ID_MAX + 1];
	const char *space = memchr(line, ' ', len);
	bs_effect_t fx = { .target = target };
	size_t tlen;

	if (space == NULL || (tlen = len - (size_t)(space + 1 - line)) > BS_ID_MAX)
		return;
	fx.kind = (unsigned)strtoul(line, NULL, 10);
	memcpy(target, space + 1, tlen);
	target[tlen] = '\0';
	if (fx.kind != KIND_CACHES)
		bs_sessions_apply(h->core, &fx, 1, h->kicks);
}

/* An announcement "id\nkind target\n...", applied unless it is this
 * broker's own. */
static void apply(heard_t *h, const char *payload)
{
	size_t idlen = strlen(h->core->changes_id);

	if (strncmp(payload, h->core->changes_id, idlen) == 0 && payload[idlen] == '\n')
		return;
	bs_store_forget(h->core->store);
	for (const char *p = strchr(payload, '\n'); p != NULL && p[1] != '\0';) {
		const char *line = p + 1, *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		apply_line(h, line, len);
		p = end;
	}
}

/* A notification, "#seq\n" and the announcement; one without the seq is
 * an older broker's, which keeps no row (applied as it comes). An older
 * broker reads the seq's line as a line of no effect. */
static void heard(void *arg, const char *channel, const char *payload, int own)
{
	heard_t *h = arg;
	char *end;
	long long seq;

	(void)channel;
	(void)own;
	if (payload[0] != '#') {
		apply(h, payload);
		return;
	}
	seq = strtoll(payload + 1, &end, 10);
	if (end == payload + 1 || *end != '\n' || seq <= h->core->changes_seq)
		return;
	h->core->changes_seq = seq;
	apply(h, end + 1);
}

/* A row read back, as if heard. */
static void missed(void *arg, long long seq, const char *payload)
{
	heard_t *h = arg;

	if (seq <= h->core->changes_seq)
		return;
	h->core->changes_seq = seq;
	apply(h, payload);
}

/* What a task read of the announcements missed, for the next poll. */
struct bs_missed {
	bs_core_t *core;
	long long after;
	struct missed_row {
		long long seq;
		char *payload;
	} *v;
	size_t n, cap;
	int rc;
};

static void missed_free(struct bs_missed *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].payload);
	free(m->v);
	free(m);
}

/* A row read, kept (on the task's thread). */
static void keep(void *arg, long long seq, const char *payload)
{
	struct bs_missed *m = arg;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct missed_row *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL) {
			m->rc = BS_ERR_INTERNAL;
			return;
		}
		m->v = v;
		m->cap = cap;
	}
	if ((m->v[m->n].payload = strdup(payload)) == NULL) {
		m->rc = BS_ERR_INTERNAL;
		return;
	}
	m->v[m->n++].seq = seq;
}

static void read_run(bs_store_t *st, void *arg)
{
	struct bs_missed *m = arg;
	int rc = bs_pg_changes_since(bs_store_backend(st), m->after, keep, m);

	if (m->rc == BS_OK)
		m->rc = rc;
}

static void read_done(void *arg, int cancelled)
{
	struct bs_missed *m = arg;

	m->core->changes_reading = 0;
	if (cancelled) {
		missed_free(m);
		return;
	}
	m->core->missed = m;
}

/* The rows a task read, applied in order as if heard; caught up when
 * every one was read. */
static void take_missed(heard_t *h)
{
	struct bs_missed *m = h->core->missed;

	h->core->missed = NULL;
	for (size_t i = 0; i < m->n; i++)
		missed(h, m->v[i].seq, m->v[i].payload);
	if (m->rc == BS_OK)
		h->core->changes_behind = 0;
	missed_free(m);
}

/* What was announced while it did not listen, before what it hears now:
 * read by a task on the plugin's thread, or here (one statement on this
 * thread, see the top of this file) when there is none. */
static void catch_up(heard_t *h)
{
	bs_core_t *core = h->core;
	struct bs_missed *m;

	if (core->offload == NULL) {
		if (bs_pg_changes_since(core->listener, core->changes_seq, missed, h) == BS_OK)
			core->changes_behind = 0;
		return;
	}
	/* Not handed over (memory, a full queue): again in a second. */
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->core = core;
	m->after = core->changes_seq;
	if (bs_core_offload(core, &(bs_task_t){ read_run, read_done, m }) == BS_OK)
		core->changes_reading = 1;
	else
		free(m);
}

void bs_changes_poll(bs_core_t *core, long long now_ms, bs_kicks_t *kicks)
{
	heard_t h = { core, kicks };

	if (core->listener == NULL)
		return;
	if (core->missed != NULL)
		take_missed(&h);
	if (!core->changes_behind && bs_pg_poll_notify(core->listener, heard, &h) >= 0)
		return;
	if (core->changes_reading)
		return;
	if (!bs_pg_reconnecting(core->listener) && now_ms - core->changes_retry_ms < 1000)
		return;
	core->changes_retry_ms = now_ms;
	if (!core->changes_behind || !bs_pg_connected(core->listener)) {
		/* What was not heard may have changed any login view. */
		if (!core->changes_behind && core->logins != NULL)
			bs_logins_drop(core->logins);
		if (bs_pg_reconnect_step(core->listener) != BS_OK)
			return;
		bs_store_forget(core->store);
		core->changes_behind = 1;
	}
	catch_up(&h);
}
