/*
 * The login view of a client_id, for a login and a first ACL check
 * (lib/sessions.c): from memory on PostgreSQL (lib/logins.h, when the
 * plugin started the replica: core->logins), from the store with SQLite,
 * whose read is a local file's cached pages. Either way the answers are
 * the same: the view knows whether a password is the config's
 * client_secret and a certificate its client_cert, never keeping either.
 */
#ifndef BS_LOGIN_VIEW_H
#define BS_LOGIN_VIEW_H

#include "logins.h"
#include "model.h"

struct bs_core;

typedef struct bs_login_view {
	bs_config_t cfg;                /* from the store */
	const bs_login_entry_t *mem;    /* from memory (then cfg is empty) */
	const bs_logins_t *logins;
} bs_login_view_t;

/*
 * The view of client_id: BS_OK, BS_ERR_NOT_FOUND when no config has it,
 * BS_ERR_DISABLED when none has it but a deleted config had (its clients
 * are refused, not left to the broker's other sources), another code when
 * it cannot be known now (clear it after BS_OK only). flags (lib/store.h:
 * BS_LOAD_SECRET for a login) are for the store's read.
 */
int bs_login_view_get(struct bs_core *core, const char *client_id,
		unsigned flags, bs_login_view_t *v);
int bs_login_view_secret_ok(const bs_login_view_t *v, const char *password);
/* x: the presented certificate (an X509 *), not NULL. */
int bs_login_view_cert_ok(const bs_login_view_t *v, const void *x);
int bs_login_view_enabled(const bs_login_view_t *v);
const char *bs_login_view_channels(const bs_login_view_t *v);
void bs_login_view_clear(bs_login_view_t *v);

/* After effects this broker's own change had (fx[0..n), once applied):
 * the login views they touch read again at once from core->store, up to
 * a bound (the rest by the replica's thread); nothing with SQLite. The
 * caller does not hold the store. */
void bs_login_view_changed(struct bs_core *core, const bs_effect_t *fx, size_t n);

/* The store's read of a config's login view, with flags beside
 * BS_LOGIN_VIEW (lib/store.h), on the broker's thread: for the cache's
 * reload of a config's channels, and for the view with SQLite. */
int bs_login_view_store(struct bs_core *core, const char *client_id, unsigned flags,
		bs_config_t *cfg);

#endif
