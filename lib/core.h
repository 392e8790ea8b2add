/*
 * The core as the plugin sees it: options, the store, the master key and a
 * log callback, opened once at plugin start. Broker-free: the plugin passes
 * request bytes and a small context in, and publishes what comes out.
 */
#ifndef BS_CORE_H
#define BS_CORE_H

#include "challenge.h"
#include "crypto.h"
#include "devlog.h"
#include "lockout.h"
#include "options.h"
#include "sessions.h"
#include "stats.h"
#include "store.h"
#include "touches.h"
#include "attempts.h"
#include "unknown.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum { BS_LOG_ERR, BS_LOG_WARNING, BS_LOG_NOTICE, BS_LOG_INFO } bs_log_level_t;

/* Receives one finished log line (no prefix, no newline). */
typedef void (*bs_log_fn)(void *userdata, bs_log_level_t level, const char *line);

/*
 * Work off the broker's thread on a store of its own (the plugin's lookup
 * thread, on PostgreSQL): run(st, arg) runs there, then done(arg,
 * cancelled) on the broker's thread, exactly once (cancelled: run never
 * ran, the plugin stopping first).
 */
typedef struct bs_task {
	void (*run)(bs_store_t *st, void *arg);
	void (*done)(void *arg, int cancelled);
	void *arg;
} bs_task_t;
typedef int (*bs_offload_fn)(void *ctx, const bs_task_t *task);

typedef struct bs_core {
	bs_options_t opts;          /* owned */
	bs_store_t *store;
	bs_log_fn log;
	void *log_userdata;
	/* A sealed external_key of no config: opened when an external_id is
	 * unknown, so that an unknown ID costs what a wrong key costs. */
	uint8_t *decoy;
	size_t decoy_len;
	/* A stored config whose row an unknown external_id reads instead, so
	 * that it costs what a known one does (NULL: none known yet). */
	char *decoy_external_id;
	int decoy_used;             /* since the last tick: move it on then */
	int decoy_moving;           /* moved on by a task (offload) */
	/* Set by the plugin when it has a thread for tasks (db_url), else
	 * NULL: the tick's store work then runs on the broker's thread. */
	bs_offload_fn offload;
	void *offload_ctx;
	uint8_t key[BS_KEY_LEN];
	bs_touches_t touches;       /* last_bootstrap_at not handed over yet */
	struct bs_flusher *flusher; /* writes them on a thread of its own */
	/* With db_url: the other brokers' announcements (lib/changes.h). */
	bs_backend_t *listener;
	char changes_id[17];        /* this broker's name in its own */
	long long changes_retry_ms;
	long long changes_seq;      /* the last announcement applied or skipped */
	int changes_behind;         /* listening again, what was missed not read */
	int changes_reading;        /* that read is a task under way */
	struct bs_missed *missed;   /* what the task read, for the next poll */
	bs_sessions_t sessions;     /* bootstrapped clients on this broker */
	/* With db_url, once the plugin started it: the login views in memory
	 * (lib/logins.h), which answer logins instead of the store. */
	struct bs_logins *logins;
	bs_nonces_t nonces;         /* challenge mode's outstanding nonces */
	/* On a store several brokers share, nonces are signed instead, with a
	 * key every broker of the fleet derives from the master key. */
	int signed_nonces;
	uint8_t nonce_key[BS_SHA256_LEN];
	bs_lockout_t lockout;       /* failed attempts per (external ID, address) */
	bs_devlog_t devlog;         /* device log lines written this second */
	bs_stats_t stats;           /* counters for section 8 */
	bs_unknown_t unknown;       /* unknown devices (section 7.3) */
	bs_attempts_t attempts;     /* failed attempts, for unknown at the tick */
	struct bs_issuer *issuer;   /* the issuing CA (section 3.3), or NULL */
	long long last_rotate_ms;
	long long last_revive_ms;   /* when the store's connection was last looked at */
	int reviving;               /* its new connection under way */
} bs_core_t;

/*
 * Takes ownership of *opts (left zeroed), loads the key file, opens the
 * store. On failure returns a negative code with one line in err naming the
 * option or file.
 */
int bs_core_open(bs_options_t *opts, bs_log_fn log, void *userdata,
		bs_core_t **out, char *err, size_t errlen);
void bs_core_close(bs_core_t *core);

/* Records a successful bootstrap, for bs_core_tick or bs_core_flush. */
void bs_core_note_bootstrap(bs_core_t *core, int64_t config_id, time_t when);

/* A failed attempt: unknown (an external_id that no config has, section
 * 7.3, remembered at the next tick) or a wrong key (counted the same way,
 * so that the two cost the same; see attempts.h). */
void bs_core_note_failed(bs_core_t *core, const char *external_id,
		const char *address, time_t now, int unknown);

/*
 * The store is shared with the write-behind thread (flusher.h): every use
 * of core->store on the broker thread is between bs_core_enter, which may
 * fail (BS_ERR_INTERNAL) when that thread is stuck on the disk, and
 * bs_core_leave. Never nested.
 */
int bs_core_enter(bs_core_t *core);
/* The same without waiting at all. */
int bs_core_try(bs_core_t *core);
void bs_core_leave(bs_core_t *core);

/*
 * The plugin calls it every BS_TICK_MS with a monotonic clock in
 * milliseconds. Every BS_FLUSH_SECONDS the bootstraps recorded so far
 * become one batch, handed to the write-behind thread (when it is done
 * with the last one): the longer the wait, the more bootstraps share each
 * page written. It never waits for the store.
 */
#define BS_TICK_MS 10
#define BS_FLUSH_SECONDS 5
void bs_core_tick(bs_core_t *core, long long now_ms);

/* Moves decoy_external_id on to the next stored config (bs_core_tick
 * does, after a tick in which it was used: by a task when there is an
 * offload); BS_ERR_NOT_FOUND when none is stored. */
int bs_core_next_decoy(bs_core_t *core);

/* task handed to core->offload: BS_OK, or BS_ERR_INTERNAL when there is
 * none or it is full (then neither callback runs). */
int bs_core_offload(bs_core_t *core, const bs_task_t *task);

/* Writes every recorded bootstrap and unknown device now, on the caller's thread, which holds
 * the store (bs_core_enter): before an admin batch runs, so that reads are
 * never stale, and at close. */
void bs_core_flush(bs_core_t *core);

/* The store's location: db_path, or db_url. */
const char *bs_core_db(const bs_core_t *core);

void bs_core_log(const bs_core_t *core, bs_log_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies s into out (size outlen) with control characters replaced by '?',
 * so that names from clients cannot forge log lines. */
const char *bs_log_safe(const char *s, char *out, size_t outlen);

#endif
