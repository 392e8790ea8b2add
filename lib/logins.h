/*
 * The login view of every config in memory, for a broker on PostgreSQL
 * (protocol section 11): Mosquitto 2.0.11 wants a login answered at once,
 * and the broker's only thread may not wait on a round trip, so a login
 * and the first ACL check of a TLS identity are answered from here.
 *
 * One entry per config client_id, one allocation each: a keyed verifier
 * of its client_secret (HMAC-SHA256 under a key drawn at random for this
 * process, compared in constant time; the secret itself is never kept),
 * enabled, the SHA-256 of its client_cert's DER (lib/certs.h), its channel
 * ids as the store keeps them; and one per deleted config's client_id.
 *
 * The whole of it is read on a thread of its own, with a store connection
 * of its own, in pages by client_id, and installed on the broker's thread
 * in one step when the thread is done (bs_logins_tick); until then it
 * answers nothing. After a lost connection (bs_logins_drop) it is read
 * again, and meanwhile the copy as it was answers only which client ids
 * were configs': those are refused, the others left to the broker. An effect on a
 * client_id (lib/sessions.h, from this broker's admin commands or another
 * broker's, lib/changes.h) makes its entry stale: it answers nothing
 * (its logins are refused) until the thread has read it again, the stale
 * ones of a tick in one job. BS_FX_CHANNEL_GONE takes the channel out of
 * every entry at once.
 *
 * Everything but the thread's own work runs on the broker's thread.
 */
#ifndef BS_LOGINS_H
#define BS_LOGINS_H

#include "crypto.h"
#include "model.h"
#include "sessions.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bs_logins bs_logins_t;
typedef struct bs_login_entry bs_login_entry_t;

/* Where the thread reads from: a store (bs_logins_source_store) or, in
 * tests, anything that answers the same. Each function runs on the
 * thread; ctx is the source's own. */
typedef struct bs_logins_source {
	/* As bs_store_login_page and bs_store_deleted_page. */
	int (*page)(void *ctx, const char *after, size_t max, bs_config_t *out,
			size_t *n);
	int (*deleted_page)(void *ctx, const char *after, size_t max, char **ids,
			size_t *n);
	/* As bs_store_config_get with BS_LOGIN_VIEW | BS_LOAD_SECRET, and
	 * bs_store_client_deleted. */
	int (*get)(void *ctx, const char *client_id, bs_config_t *out);
	int (*deleted)(void *ctx, const char *client_id);
	/* As bs_store_logins_get, for several at once (may be NULL: get and
	 * deleted for each). */
	int (*get_many)(void *ctx, const char *const *ids, size_t n, bs_config_t *out,
			int *found, int *deleted);
	/* Before each job: a lost connection made again (may be NULL). */
	void (*revive)(void *ctx);
	/* For the log when a job fails: never a secret. */
	const char *(*errmsg)(void *ctx);
	void *ctx;
} bs_logins_source_t;

/* A source over st (the thread's own store, not shared). */
void bs_logins_source_store(bs_store_t *st, bs_logins_source_t *out);

/* Receives one line for the broker's log; warning is 1 for a failure. */
typedef void (*bs_logins_log_fn)(void *arg, int warning, const char *line);

/* Empty and not loaded, with its key drawn. BS_OK or BS_ERR_INTERNAL. */
int bs_logins_new(bs_logins_t **out);
/* Stops the thread (its job finishes first) and frees everything. */
void bs_logins_free(bs_logins_t *l);

/*
 * Starts the thread and its first load. wake(wake_arg) is called on the
 * thread after each job (lib/worker.h), so that the broker ticks soon.
 * BS_OK or BS_ERR_INTERNAL.
 */
int bs_logins_start(bs_logins_t *l, const bs_logins_source_t *src,
		void (*wake)(void *), void *wake_arg, bs_logins_log_fn log, void *log_arg);

/* On the broker's thread, often: installs what the thread finished, and
 * hands it the next load or the stale entries to read again. */
void bs_logins_tick(bs_logins_t *l);

/* The connection to the store was lost: nothing is answered until the
 * whole is read again (which is asked for here). */
void bs_logins_drop(bs_logins_t *l);

/* Drops it when a connection of this process to the store was found
 * closed by the server since the last look (bs_store_losses): before a
 * login is answered, and at each tick. */
void bs_logins_check(bs_logins_t *l);

/* An effect of a committed change: its target goes stale (the channel
 * leaves every entry, for BS_FX_CHANNEL_GONE). */
void bs_logins_effect(bs_logins_t *l, const bs_effect_t *fx);

/*
 * The entry of client_id read at once from src on the caller's thread: for
 * a change this broker made itself (its admin batch, an enrollment, a
 * renewal), after the effect, so that a login right after it is answered
 * as the store would answer it. On a failure it stays stale, for the
 * thread to read again.
 */
void bs_logins_read_now(bs_logins_t *l, const bs_logins_source_t *src,
		const char *client_id);

/* Where the replica stood when a change off the broker's thread began
 * (bs_logins_mark), so that what it read then is taken only when nothing
 * came since (bs_logins_take). */
typedef struct bs_logins_mark {
	unsigned long seq;
	unsigned gen;
	int loaded;
} bs_logins_mark_t;
void bs_logins_mark(const bs_logins_t *l, bs_logins_mark_t *m);

/*
 * The login view of client_id that this broker read on another thread
 * right after its own change had committed (cfg as the source's get reads
 * it; NULL when that read failed), begun at mark m: installed at once,
 * so that a login right after the change is answered as the store would
 * answer it, unless the replica was not loaded, was dropped, or heard of
 * another change of client_id since m; then the entry is stale, for the
 * thread to read. For a change made off the broker's thread (an
 * enrollment, a certificate issued), in place of its effect.
 */
void bs_logins_take(bs_logins_t *l, const bs_logins_mark_t *m, const char *client_id,
		const bs_config_t *cfg);

/*
 * The entry of client_id: BS_OK (*out set, valid until the next call of
 * anything here but the readers below), BS_ERR_NOT_FOUND when no config
 * has it, BS_ERR_DISABLED when none has it but a deleted config had, and
 * BS_ERR_INTERNAL when the replica cannot answer now (the entry is stale,
 * or the replica not loaded). Read again after a drop, BS_ERR_NOT_FOUND
 * for a client id that was no config's before it.
 */
int bs_logins_find(const bs_logins_t *l, const char *client_id,
		const bs_login_entry_t **out);

/* 1 when password is the client_secret of e's config. */
int bs_login_secret_ok(const bs_logins_t *l, const bs_login_entry_t *e,
		const char *password);
/* 1 when x (an X509 *, borrowed) is the client_cert of e's config. */
int bs_login_cert_ok(const bs_login_entry_t *e, const void *x);
int bs_login_enabled(const bs_login_entry_t *e);
/* Its channel ids, newline-separated ("" for none). */
const char *bs_login_channels(const bs_login_entry_t *e);

/* 1 once loaded (and not dropped since). */
int bs_logins_loaded(const bs_logins_t *l);
/* 1 when it answers (bs_logins_find): loaded, or read again after a
 * drop; 0 before its first load. */
int bs_logins_answers(const bs_logins_t *l);

/* Ticks (on the broker's thread) until loaded or ms have passed: for the
 * plugin's start, before the broker listens, so that no login comes
 * before the copy. 1 when loaded. */
int bs_logins_wait(bs_logins_t *l, long long ms);

/* Figures: entries of configs and of deleted ones, the bytes they and the
 * table hold, the last load's milliseconds, stale entries now. */
typedef struct bs_logins_stats {
	size_t configs, deleted, bytes, stale;
	long long load_ms;
} bs_logins_stats_t;
void bs_logins_stats(const bs_logins_t *l, bs_logins_stats_t *out);

#endif
