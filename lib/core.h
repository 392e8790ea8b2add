/*
 * The core as the plugin sees it: options, the store, the master key and a
 * log callback, opened once at plugin start. Broker-free: the plugin passes
 * request bytes and a small context in, and publishes what comes out.
 */
#ifndef BS_CORE_H
#define BS_CORE_H

#include "crypto.h"
#include "options.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum { BS_LOG_ERR, BS_LOG_WARNING, BS_LOG_NOTICE, BS_LOG_INFO } bs_log_level_t;

/* Receives one finished log line (no prefix, no newline). */
typedef void (*bs_log_fn)(void *userdata, bs_log_level_t level, const char *line);

/* A bootstrap whose last_bootstrap_at is not written yet. */
typedef struct bs_touch {
	int64_t config_id;      /* bs_config_t.id */
	time_t when;
} bs_touch_t;

typedef struct bs_core {
	bs_options_t opts;          /* owned */
	bs_store_t *store;
	bs_log_fn log;
	void *log_userdata;
	/* A sealed external_key of no config: opened when an external_id is
	 * unknown, so that an unknown ID costs what a wrong key costs. */
	uint8_t *decoy;
	size_t decoy_len;
	uint8_t key[BS_KEY_LEN];
	/* last_bootstrap_at updates, written together by bs_core_flush: one
	 * write transaction per request would cost more than the request. */
	bs_touch_t *touches;
	size_t ntouches, touches_cap;
} bs_core_t;

/*
 * Takes ownership of *opts (left zeroed), loads the key file, opens the
 * store. On failure returns a negative code with one line in err naming the
 * option or file.
 */
int bs_core_open(bs_options_t *opts, bs_log_fn log, void *userdata,
		bs_core_t **out, char *err, size_t errlen);
void bs_core_close(bs_core_t *core);

/* Records a successful bootstrap; written by the next bs_core_flush, or at
 * once when many are waiting. */
void bs_core_note_bootstrap(bs_core_t *core, int64_t config_id, time_t when);

/* Writes the recorded bootstraps in one transaction. Called by the plugin
 * about once a second, before every admin batch, and at close. */
void bs_core_flush(bs_core_t *core);

void bs_core_log(const bs_core_t *core, bs_log_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies s into out (size outlen) with control characters replaced by '?',
 * so that names from clients cannot forge log lines. */
const char *bs_log_safe(const char *s, char *out, size_t outlen);

#endif
