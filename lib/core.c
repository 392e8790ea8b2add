#include "core.h"

#include "changes.h"

#include "error.h"
#include "flusher.h"
#include "issue.h"
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int make_decoy(bs_core_t *core)
{
	char key[BS_SECRET_LEN + 1];
	int rc;

	if ((rc = bs_crypto_secret(key)) != BS_OK)
		return rc;
	rc = bs_crypto_seal(core->key, "decoy", 5, key, strlen(key),
			&core->decoy, &core->decoy_len);
	explicit_bzero(key, sizeof(key));
	return rc;
}

const char *bs_core_db(const bs_core_t *core)
{
	return core->opts.db_path ? core->opts.db_path : core->opts.db_url;
}

/*
 * Master key rotation (plugin_opt_rekey_from OLD, key_file NEW): the store
 * is opened with the old key and every secret sealed again under the new
 * one in one transaction. A store the new key already opens needs nothing.
 * On failure nothing changed: the old key still opens the store.
 */
static int rekey(bs_core_t *core, char *err, size_t errlen)
{
	const char *old_file = core->opts.rekey_from;
	uint8_t old_key[BS_KEY_LEN];
	size_t n = 0;
	int rc;

	if (access(old_file, F_OK) != 0) {
		snprintf(err, errlen, "plugin_opt_rekey_from %s: no such key file", old_file);
		return BS_ERR_INVALID;
	}
	if ((rc = bs_crypto_key_load(old_file, old_key, err, errlen)) != BS_OK
			|| (rc = bs_crypto_key_load(core->opts.key_file, core->key, err, errlen)) != BS_OK)
		goto out;
	rc = bs_store_open(bs_core_db(core), old_key, &core->store, err, errlen);
	if (rc == BS_ERR_UNAUTHORIZED
			&& (rc = bs_store_open(bs_core_db(core), core->key, &core->store,
				err, errlen)) == BS_OK) {
		bs_core_log(core, BS_LOG_NOTICE, "plugin_opt_rekey_from: the secrets are "
				"already sealed under key_file %s; remove the option", core->opts.key_file);
		goto out;
	}
	if (rc == BS_OK && (rc = bs_store_rekey(core->store, core->key, &n)) != BS_OK)
		snprintf(err, errlen, "plugin_opt_rekey_from: cannot seal the secrets "
				"again, nothing changed: %s", bs_store_errmsg(core->store));
	else if (rc == BS_OK)
		bs_core_log(core, BS_LOG_NOTICE, "plugin_opt_rekey_from: the secrets of %zu "
				"configs are now sealed under key_file %s; remove the option, and "
				"keep %s until you have checked", n, core->opts.key_file, old_file);
	else if (rc == BS_ERR_UNAUTHORIZED) {
		char name[BS_ID_MAX + 64];
		bs_store_name(bs_core_db(core), name, sizeof(name));
		snprintf(err, errlen, "plugin_opt_rekey_from: neither %s nor key_file %s "
				"is the key of %s", old_file, core->opts.key_file, name);
	}
out:
	explicit_bzero(old_key, sizeof(old_key));
	return rc == BS_ERR_UNAUTHORIZED ? BS_ERR_INVALID : rc;
}

/*
 * Loads the key file (made when missing) and opens the store with it. A
 * key that is not the database's refuses to start, naming the key file;
 * one made just now is removed again, so that the next start does not
 * take it for the key.
 */
static int open_store(bs_core_t *core, char *err, size_t errlen)
{
	const char *key_file = core->opts.key_file, *db = bs_core_db(core);
	int existed = access(key_file, F_OK) == 0;
	char name[BS_ID_MAX + 64];
	int rc;

	if (core->opts.rekey_from != NULL)
		return rekey(core, err, errlen);
	rc = bs_crypto_key_load(key_file, core->key, err, errlen);

	if (rc == BS_OK)
		rc = bs_store_open(db, core->key, &core->store, err, errlen);
	if (rc != BS_ERR_UNAUTHORIZED)
		return rc;
	bs_store_name(db, name, sizeof(name));
	if (!existed) {
		unlink(key_file);
		snprintf(err, errlen, "key_file %s is missing, and %s holds "
				"secrets sealed under another key: restore the key file", key_file, name);
	} else {
		snprintf(err, errlen, "key_file %s is not the key of %s "
				"(it does not open the secrets stored there)", key_file, name);
	}
	return BS_ERR_INVALID;
}

/* The unknown devices remembered before, up to max_unknown of them. */
static int open_unknown(bs_core_t *core, char *err, size_t errlen)
{
	int rc = bs_unknown_init(&core->unknown, core->opts.max_unknown);

	if (rc == BS_OK)
		rc = bs_attempts_init(&core->attempts, core->opts.max_unknown > 0);
	if (rc == BS_OK && (rc = bs_unknown_load(&core->unknown, core->store)) != BS_OK) {
		char name[BS_ID_MAX + 64];
		bs_store_name(bs_core_db(core), name, sizeof(name));
		snprintf(err, errlen, "%s: cannot read the unknown devices: %s",
				name, bs_store_errmsg(core->store));
	}
	else if (rc != BS_OK)
		snprintf(err, errlen, "cannot prepare the crypto state");
	return rc;
}

/* The write-behind thread's side of the unknown devices. */
static size_t unknown_waiting(void *arg)
{
	return bs_unknown_waiting(arg);
}

static size_t unknown_write(void *arg, bs_store_t *st, size_t max)
{
	size_t failed;

	bs_unknown_write(arg, st, max, 0, &failed);
	return failed;
}

int bs_core_open(bs_options_t *opts, bs_log_fn log, void *userdata,
		bs_core_t **out, char *err, size_t errlen)
{
	bs_core_t *core = calloc(1, sizeof(*core));
	int rc;

	*out = NULL;
	if (core == NULL) {
		snprintf(err, errlen, "out of memory");
		return BS_ERR_INTERNAL;
	}
	core->opts = *opts;
	memset(opts, 0, sizeof(*opts));
	core->log = log;
	core->log_userdata = userdata;
	core->lockout.max_failures = core->opts.max_failures;
	core->lockout.seconds = core->opts.lockout_seconds;
	if (core->opts.ca_cert != NULL && (rc = bs_issuer_open(core->opts.ca_cert,
			core->opts.ca_key, core->opts.cert_days, &core->issuer, err, errlen)) != BS_OK)
		goto fail;
	if ((rc = open_store(core, err, errlen)) != BS_OK
			|| (rc = bs_changes_open(core, err, errlen)) != BS_OK)
		goto fail;
	core->signed_nonces = bs_store_shares_nonces(core->store);
	if ((rc = make_decoy(core)) != BS_OK
			|| (rc = bs_nonce_key(core->key, core->nonce_key)) != BS_OK) {
		snprintf(err, errlen, "cannot prepare the crypto state");
		goto fail;
	}
	if ((rc = open_unknown(core, err, errlen)) != BS_OK)
		goto fail;
	if ((rc = bs_flusher_start(core->store, &core->flusher)) != BS_OK) {
		snprintf(err, errlen, "cannot start the write-behind thread");
		goto fail;
	}
	bs_flusher_enter(core->flusher);
	bs_flusher_set_job(core->flusher, &(bs_flusher_job_t){ .waiting = unknown_waiting,
			.write = unknown_write, .arg = &core->unknown });
	bs_flusher_leave(core->flusher);
	*out = core;
	return BS_OK;
fail:
	bs_core_close(core);
	return rc;
}

/* Writes at most max of t's batch (rotating when asked), on the caller's
 * thread, which holds the store lock. */
static void write_touches(bs_core_t *core, bs_touches_t *t, size_t max, int rotate)
{
	size_t failed = 0;

	bs_touches_write(t, core->store, max, rotate, &failed);
	if (failed > 0)
		bs_core_log(core, BS_LOG_WARNING, "last_bootstrap_at of %zu configs "
				"not written: %s", failed, bs_store_errmsg(core->store));
}

/* Two rounds at most: the batch being written, then the pending one. */
static void write_all(bs_core_t *core, bs_touches_t *t)
{
	for (int i = 0; i < 3 && bs_touches_waiting(t) > 0; i++)
		write_touches(core, t, (size_t)-1, 1);
}

/* The decoy's next external_id after *from (NULL: the first), read on st. */
typedef struct {
	bs_core_t *core;
	char *from, *next;
	int rc;
} decoy_move_t;

static void take_decoy(bs_core_t *core, int rc, char *next)
{
	if (rc == BS_OK || rc == BS_ERR_NOT_FOUND) {
		free(core->decoy_external_id);
		core->decoy_external_id = next;
	} else {
		free(next);
	}
}

int bs_core_next_decoy(bs_core_t *core)
{
	char *next = NULL;
	int rc = bs_store_config_next_external_id(core->store,
			core->decoy_external_id, &next);

	take_decoy(core, rc, next);
	return rc;
}

static void decoy_run(bs_store_t *st, void *arg)
{
	decoy_move_t *m = arg;

	m->rc = bs_store_config_next_external_id(st, m->from, &m->next);
}

static void decoy_done(void *arg, int cancelled)
{
	decoy_move_t *m = arg;

	m->core->decoy_moving = 0;
	take_decoy(m->core, cancelled ? BS_ERR_INTERNAL : m->rc, m->next);
	free(m->from);
	free(m);
}

/* The decoy moved on by a task, one at a time, when there is an offload
 * (else the tick moves it on itself). */
static void move_decoy_off(bs_core_t *core)
{
	decoy_move_t *m;

	if (core->offload == NULL)
		return;
	core->decoy_used = 0;
	if (core->decoy_moving || (m = calloc(1, sizeof(*m))) == NULL)
		return;
	m->core = core;
	if ((core->decoy_external_id != NULL
				&& (m->from = strdup(core->decoy_external_id)) == NULL)
			|| bs_core_offload(core, &(bs_task_t){ decoy_run, decoy_done, m })
				!= BS_OK) {
		free(m->from);
		free(m);
		return;
	}
	core->decoy_moving = 1;
}

int bs_core_offload(bs_core_t *core, const bs_task_t *task)
{
	return core->offload != NULL ? core->offload(core->offload_ctx, task)
		: BS_ERR_INTERNAL;
}

int bs_core_enter(bs_core_t *core)
{
	return bs_flusher_enter(core->flusher);
}

int bs_core_try(bs_core_t *core)
{
	return bs_flusher_try(core->flusher);
}

void bs_core_leave(bs_core_t *core)
{
	bs_flusher_leave(core->flusher);
}

void bs_core_tick(bs_core_t *core, long long now_ms)
{
	int rotate = now_ms - core->last_rotate_ms >= BS_FLUSH_SECONDS * 1000LL;
	char msg[256];
	size_t failed;

	/* A connection to a server that was lost is made again: looked at once
	 * a second, and taken a step further at every tick while under way,
	 * never waiting for the server on the broker's thread. */
	if ((core->reviving || now_ms - core->last_revive_ms >= 1000)
			&& bs_flusher_try(core->flusher) == BS_OK) {
		core->last_revive_ms = now_ms;
		core->reviving = bs_store_revive_step(core->store) == 1;
		bs_flusher_leave(core->flusher);
	}
	if (core->decoy_used)
		move_decoy_off(core);
	/* No lock and no query on a tick with nothing to do. */
	if (!core->decoy_used && !rotate && core->attempts.n == 0)
		return;
	if (bs_flusher_try(core->flusher) != BS_OK)
		return;
	bs_attempts_drain(&core->attempts, &core->unknown);
	if (core->decoy_used) {
		core->decoy_used = 0;
		bs_core_next_decoy(core);
	}
	if (rotate && bs_unknown_hand(&core->unknown))
		bs_flusher_wake(core->flusher);
	if (rotate && (core->touches.pending.count == 0
				|| bs_flusher_hand(core->flusher, &core->touches)))
		core->last_rotate_ms = now_ms;
	failed = bs_flusher_failed(core->flusher, msg, sizeof(msg));
	bs_flusher_leave(core->flusher);
	if (failed > 0)
		bs_core_log(core, BS_LOG_WARNING, "last_bootstrap_at of %zu configs "
				"not written: %s", failed, msg);
}

/* The batch the thread has, then the pending ones; a failure waits. */
static void write_unknown(bs_core_t *core)
{
	bs_unknown_t *u = &core->unknown;
	size_t failed = 0;

	for (int i = 0; i < 3 && failed == 0
			&& bs_unknown_waiting(u) + bs_unknown_pending(u) > 0; i++)
		bs_unknown_write(u, core->store, (size_t)-1, 1, &failed);
	if (failed > 0)
		bs_core_log(core, BS_LOG_WARNING, "%zu unknown devices not written: %s",
				failed, bs_store_errmsg(core->store));
}

void bs_core_flush(bs_core_t *core)
{
	bs_attempts_drain(&core->attempts, &core->unknown);
	write_all(core, bs_flusher_batch(core->flusher));
	write_all(core, &core->touches);
	write_unknown(core);
}

void bs_core_note_failed(bs_core_t *core, const char *external_id,
		const char *address, time_t now, int unknown)
{
	bs_attempts_note(&core->attempts, external_id, address, now, unknown);
}

void bs_core_note_bootstrap(bs_core_t *core, int64_t config_id, time_t when)
{
	if (bs_touches_add(&core->touches, config_id, when) != BS_OK)
		bs_core_log(core, BS_LOG_WARNING, "out of memory: a last_bootstrap_at is lost");
}

void bs_core_close(bs_core_t *core)
{
	if (core == NULL)
		return;
	if (core->flusher != NULL) {
		bs_flusher_stop(core->flusher);
		bs_core_flush(core);
		bs_flusher_free(core->flusher);
	}
	bs_touches_free(&core->touches);
	bs_attempts_free(&core->attempts);
	bs_unknown_free(&core->unknown);
	bs_sessions_free(&core->sessions);
	bs_nonces_free(&core->nonces);
	bs_lockout_free(&core->lockout);
	bs_changes_close(core);
	bs_store_close(core->store);
	bs_issuer_close(core->issuer);
	bs_options_free(&core->opts);
	free(core->decoy);
	free(core->decoy_external_id);
	explicit_bzero(core->key, sizeof(core->key));
	explicit_bzero(core->nonce_key, sizeof(core->nonce_key));
	free(core);
	bs_crypto_release();
}

void bs_core_log(const bs_core_t *core, bs_log_level_t level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (core->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	core->log(core->log_userdata, level, line);
}

const char *bs_log_safe(const char *s, char *out, size_t outlen)
{
	size_t i = 0;

	if (outlen == 0)
		return "";
	if (s == NULL)
		s = "-";
	for (; s[i] != '\0' && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}
