/*
 * Bootstrapped clients on this broker (protocol section 5): their login,
 * their ACL answers from memory, and what admin changes do to them.
 *
 * The cache holds one session per MQTT client id that has a username:
 * built at login (or, for a client that logged in some other way, such as
 * a TLS certificate identity, at its first ACL check), from the login view
 * of its config (lib/login_view.h: a read of the store with SQLite, memory
 * on PostgreSQL, lib/logins.h, so that the broker's thread never waits on
 * a round trip for either), and one record per config with sessions,
 * holding the channel topics that config may use. An ACL check is a hash
 * lookup, two pointer and string comparisons, and a match against each
 * channel topic. Admin commands return effects (bs_effect_t), applied
 * here after their batch committed (and handed to the login replica,
 * which reads the configs they name again), so that the cache stays
 * exact.
 *
 * A session is tied to the broker's client handle it was made for: a new
 * connection with the same client id has a new handle. The broker says
 * when a client disconnects, not when an offline session is freed, so a
 * session found on an offline client (made without a certificate) may
 * outlive it; at most BS_SESSIONS_UNBOUND_MAX such sessions are kept, and
 * past that they are all forgotten (and made again, from the login view,
 * when checked).
 */
#ifndef BS_SESSIONS_H
#define BS_SESSIONS_H

#include "acl.h"
#include "hmap.h"

#include <stddef.h>

#define BS_SESSIONS_UNBOUND_MAX 65536

struct bs_core;

/* What the plugin says about the client an event is for. */
typedef struct bs_client {
	const void *handle;      /* the broker's client, compared only */
	const char *client_id;
	const char *username;    /* NULL: anonymous */
	/* The certificate the client presented (an X509 *, a reference the
	 * caller frees with X509_free), or NULL; called only when needed. */
	void *(*cert)(const void *handle);
} bs_client_t;

typedef enum { BS_LOGIN_DEFER, BS_LOGIN_OK, BS_LOGIN_REFUSED } bs_login_t;

/* What an admin change does to the cache and the live sessions. */
enum {
	BS_FX_END_ALL = 1,       /* config target disabled or deleted */
	BS_FX_END_PASSWORD = 2,  /* its client_secret changed */
	BS_FX_END_CERT = 4,      /* its client_cert changed */
	BS_FX_RELOAD = 8,        /* its channels changed */
	BS_FX_CHANNEL_GONE = 16, /* channel target deleted */
	/* Config target's login view changed otherwise (created, enabled):
	 * nothing for its sessions, its entry in the login replica is read
	 * again (lib/logins.h). */
	BS_FX_LOGIN = 32,
};

typedef struct bs_effect {
	unsigned kind;           /* one BS_FX_* */
	char *target;            /* a client_id or a channel id */
} bs_effect_t;

/* Sessions the plugin must end: by MQTT client id, or every session of a
 * username. */
typedef struct bs_kick {
	int by_username;
	char *name;
} bs_kick_t;

typedef struct bs_kicks {
	bs_kick_t *v;
	size_t n;
} bs_kicks_t;

/* Sessions named by client id and handle, for the next tick. */
typedef struct bs_refs {
	struct bs_ref {
		char *client_id;
		const void *handle;
	} *v;
	size_t n, cap;
} bs_refs_t;

typedef struct bs_sessions {
	bs_hmap_t clients;       /* bs_session by MQTT client id */
	bs_hmap_t records;       /* bs_record by config client_id */
	size_t unbound;          /* sessions that may outlive their client */
	bs_refs_t refused;       /* refused by an ACL check: ended at the next tick */
	bs_refs_t gone;          /* disconnected: forgotten at the next tick */
	bs_refs_t reloads;       /* records whose channels wait for the replica */
} bs_sessions_t;

/*
 * MOSQ_EVT_BASIC_AUTH: a username that is a config's client_id, with its
 * client_secret, logs in while the config is enabled; with anything else it
 * is refused. Other usernames (and anonymous clients) are deferred.
 */
bs_login_t bs_login(struct bs_core *core, const bs_client_t *c, const char *password);

/* MOSQ_EVT_ACL_CHECK for any client. */
bs_acl_t bs_client_acl(struct bs_core *core, const bs_client_t *c,
		const char *topic, int access);

/* How many bootstrapped clients (a config's, logged in, by certificate or
 * trusted) are connected now; a walk over the sessions. */
size_t bs_sessions_connected(const bs_sessions_t *ss);

/* MOSQ_EVT_DISCONNECT. Its session still answers (for the client's will)
 * until the next bs_sessions_tick. */
void bs_client_gone(struct bs_core *core, const bs_client_t *c);

/* After a batch committed: applies its effects; the sessions to end go to
 * *out. */
void bs_sessions_apply(struct bs_core *core, const bs_effect_t *fx, size_t n,
		bs_kicks_t *out);
/* On PostgreSQL: the records whose channels changed, reloaded from the
 * login replica once it has read their entries again (at every tick, and
 * after this broker's own change); the sessions it ends go to *out. */
void bs_sessions_reload_pending(struct bs_core *core, bs_kicks_t *out);
/* The same to the live sessions alone, the login replica left as it is:
 * for a change whose login view was read with it (bs_logins_take). */
void bs_sessions_apply_live(struct bs_core *core, const bs_effect_t *fx, size_t n,
		bs_kicks_t *out);

/* Each tick: the sessions refused by ACL checks since the last tick that
 * are still connected go to *out, and disconnected sessions are forgotten.
 * A client is only ever kicked while connected: Mosquitto 2.0.11's kick
 * would tear down an offline session a second time. */
void bs_sessions_tick(struct bs_core *core, bs_kicks_t *out);

/* Bytes the cache holds now (sessions, records, tables), for statistics. */
size_t bs_sessions_bytes(const bs_sessions_t *s);

void bs_sessions_free(bs_sessions_t *s);
void bs_kicks_free(bs_kicks_t *k);

#endif
