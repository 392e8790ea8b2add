#include "sessions.h"

#include "certs.h"
#include "core.h"
#include "devlog.h"
#include "error.h"
#include "login_view.h"
#include "logins.h"
#include "model.h"
#include "store.h"
#include "topic.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind {
	K_NONE,       /* not a bootstrapped client: the plugin defers */
	K_PASSWORD,   /* logged in with its client_secret */
	K_CERT,       /* presented its config's client_cert */
	K_TRUSTED,    /* found without a login nor a certificate (offline) */
	K_DENIED,     /* a config's client that may do nothing */
};

/* A config with sessions: the channel topics it may use. */
typedef struct record {
	bs_hnode_t node;          /* first: by client_id */
	char *client_id;
	char **channels;
	char **topics;            /* channel_topic for each of channels */
	size_t n;
	struct session *head;
} record_t;

typedef struct session {
	bs_hnode_t node;          /* first: by MQTT client id */
	char *client_id;
	char *username;
	const void *handle;
	record_t *rec;            /* NULL unless K_PASSWORD, K_CERT, K_TRUSTED */
	int kind;
	int unbound;
	int gone;                 /* disconnected; forgotten at the next tick */
	struct session *prev, *next;  /* in rec's list */
} session_t;

/* ---- kicks ------------------------------------------------------------ */

static void kick(bs_kicks_t *k, int by_username, const char *name)
{
	bs_kick_t *grown = realloc(k->v, (k->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return;
	k->v = grown;
	if ((grown[k->n].name = strdup(name)) == NULL)
		return;
	grown[k->n++].by_username = by_username;
}

void bs_kicks_free(bs_kicks_t *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].name);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

/* ---- records ---------------------------------------------------------- */

static void free_channels(record_t *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->channels[i]);
		free(r->topics[i]);
	}
	free(r->channels);
	free(r->topics);
	r->channels = r->topics = NULL;
	r->n = 0;
}

/* Replaces r's channels by ids, newline-separated as the store keeps them. */
static int set_channels(const bs_options_t *o, record_t *r, const char *ids)
{
	size_t n = 0, cap = 0;
	int rc = BS_OK;

	free_channels(r);
	for (const char *p = ids ? ids : ""; *p != '\0' && rc == BS_OK;) {
		size_t len = strcspn(p, "\n");
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			char **c = realloc(r->channels, cap * sizeof(*c));
			char **t = c ? realloc(r->topics, cap * sizeof(*t)) : NULL;
			if (c != NULL)
				r->channels = c;
			if (t == NULL) {
				rc = BS_ERR_INTERNAL;
				break;
			}
			r->topics = t;
		}
		r->channels[n] = strndup(p, len);
		r->topics[n] = r->channels[n] ? bs_topic_channel(o->channel_topic, r->channels[n]) : NULL;
		if (r->channels[n] == NULL || r->topics[n] == NULL) {
			free(r->channels[n]);
			rc = BS_ERR_INTERNAL;
			break;
		}
		r->n = ++n;
		p += len + (p[len] == '\n');
	}
	return rc;
}

static void record_free(bs_sessions_t *ss, record_t *r)
{
	bs_hmap_del(&ss->records, &r->node);
	free_channels(r);
	free(r->client_id);
	free(r);
}

/* The record of the config client_id, made with its channel ids when it
 * has none. */
static record_t *record_get(bs_core_t *core, const char *client_id, const char *ids)
{
	bs_sessions_t *ss = &core->sessions;
	record_t *r = (record_t *)bs_hmap_get(&ss->records, client_id);

	if (r != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->client_id = strdup(client_id)) == NULL
			|| set_channels(&core->opts, r, ids) != BS_OK
			|| bs_hmap_put(&ss->records, &r->node, r->client_id) != BS_OK) {
		free_channels(r);
		free(r->client_id);
		free(r);
		return NULL;
	}
	return r;
}

/* ---- sessions --------------------------------------------------------- */

static void session_drop(bs_sessions_t *ss, session_t *s)
{
	record_t *r = s->rec;

	if (r != NULL) {
		if (s->prev != NULL)
			s->prev->next = s->next;
		else
			r->head = s->next;
		if (s->next != NULL)
			s->next->prev = s->prev;
		if (r->head == NULL)
			record_free(ss, r);
	}
	bs_hmap_del(&ss->clients, &s->node);
	ss->unbound -= (size_t)s->unbound;
	free(s->client_id);
	free(s->username);
	free(s);
}

/* Past the bound, every session that may outlive its client goes. */
static void forget_unbound(bs_sessions_t *ss)
{
	for (size_t i = 0; i < ss->clients.cap && ss->unbound > 0; i++) {
		for (bs_hnode_t *n = ss->clients.buckets[i], *next; n != NULL; n = next) {
			next = n->next;
			if (((session_t *)n)->unbound)
				session_drop(ss, (session_t *)n);
		}
	}
}

/* A new session for c, replacing any other of its client id. */
static session_t *session_new(bs_core_t *core, const bs_client_t *c, int kind,
		const bs_login_view_t *v, int unbound)
{
	bs_sessions_t *ss = &core->sessions;
	session_t *old = (session_t *)bs_hmap_get(&ss->clients, c->client_id);
	session_t *s;
	record_t *r = NULL;

	if (old != NULL)
		session_drop(ss, old);
	if (unbound && ss->unbound >= BS_SESSIONS_UNBOUND_MAX)
		forget_unbound(ss);
	if (v != NULL && (r = record_get(core, c->username,
			bs_login_view_channels(v))) == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->client_id = strdup(c->client_id);
	s->username = strdup(c->username);
	if (s->client_id == NULL || s->username == NULL
			|| bs_hmap_put(&ss->clients, &s->node, s->client_id) != BS_OK)
		goto fail;
	s->handle = c->handle;
	s->kind = kind;
	s->unbound = unbound;
	ss->unbound += (size_t)unbound;
	if ((s->rec = r) != NULL) {
		s->next = r->head;
		if (r->head != NULL)
			r->head->prev = s;
		r->head = s;
	}
	return s;
fail:
	if (s != NULL) {
		free(s->client_id);
		free(s->username);
		free(s);
	}
	if (r != NULL && r->head == NULL)
		record_free(ss, r);
	return NULL;
}

/* The session of client_id made for handle, or NULL. */
static session_t *find_ref(bs_sessions_t *ss, const char *client_id, const void *handle)
{
	session_t *s = (session_t *)bs_hmap_get(&ss->clients, client_id);

	return s != NULL && s->handle == handle ? s : NULL;
}

/* c's session, when it is still the one made for this connection. */
static session_t *find(bs_sessions_t *ss, const bs_client_t *c)
{
	session_t *s = find_ref(ss, c->client_id, c->handle);

	if (s == NULL || strcmp(s->username, c->username) != 0)
		return NULL;
	return s;
}

/* BS_OK, or BS_ERR_INTERNAL when memory ran out (nothing pushed). */
static int refs_push(bs_refs_t *r, const char *client_id, const void *handle)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct bs_ref *grown = realloc(r->v, cap * sizeof(*grown));
		if (grown == NULL)
			return BS_ERR_INTERNAL;
		r->v = grown;
		r->cap = cap;
	}
	if ((r->v[r->n].client_id = strdup(client_id)) == NULL)
		return BS_ERR_INTERNAL;
	r->v[r->n++].handle = handle;
	return BS_OK;
}

static void refs_clear(bs_refs_t *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].client_id);
	r->n = 0;
}

/* ---- login and ACL ---------------------------------------------------- */

bs_login_t bs_login(bs_core_t *core, const bs_client_t *c, const char *password)
{
	bs_login_view_t v;
	int rc, ok;

	if (c->username == NULL || c->client_id == NULL)
		return BS_LOGIN_DEFER;
	rc = bs_login_view_get(core, c->username, BS_LOAD_SECRET, &v);
	if (rc == BS_ERR_NOT_FOUND) {
		/* Remembered, so that its ACL checks need no lookup. */
		session_new(core, c, K_NONE, NULL, 0);
		return BS_LOGIN_DEFER;
	}
	if (rc != BS_OK)
		return BS_LOGIN_REFUSED;
	ok = bs_login_view_secret_ok(&v, password) && bs_login_view_enabled(&v)
		&& session_new(core, c, K_PASSWORD, &v, 0) != NULL;
	bs_login_view_clear(&v);
	return ok ? BS_LOGIN_OK : BS_LOGIN_REFUSED;
}

/* The kind of session a config's client gets without logging in here. */
static int kind_of(const bs_login_view_t *v, int rc, X509 *x)
{
	if (rc == BS_ERR_DISABLED || !bs_login_view_enabled(v))
		return K_DENIED;
	if (x == NULL)
		return K_TRUSTED;
	return bs_login_view_cert_ok(v, x) ? K_CERT : K_DENIED;
}

static void refused(bs_core_t *core, const bs_client_t *c, int connected)
{
	char id[128], user[BS_ID_MAX + 1];

	/* With no certificate this may be an offline session: it can do
	 * nothing, and only a connected client is kicked. */
	if (connected)
		refs_push(&core->sessions.refused, c->client_id, c->handle);
	bs_core_log(core, BS_LOG_NOTICE, "client %s of config %s refused: the "
			"config is disabled or deleted, or the certificate is not its "
			"client_cert", bs_log_safe(c->client_id, id, sizeof(id)),
			bs_log_safe(c->username, user, sizeof(user)));
}

/*
 * A client with a username and no session of this connection: one lookup.
 * With a certificate (a TLS identity), it must be its config's client_cert.
 */
static session_t *resolve(bs_core_t *core, const bs_client_t *c)
{
	bs_login_view_t v;
	int rc = bs_login_view_get(core, c->username, 0, &v), kind;
	X509 *x;
	session_t *s;

	if (rc == BS_ERR_NOT_FOUND)
		return session_new(core, c, K_NONE, NULL, 1);
	if (rc != BS_OK && rc != BS_ERR_DISABLED)
		return NULL;
	x = c->cert(c->handle);
	kind = kind_of(&v, rc, x);
	s = session_new(core, c, kind, kind == K_DENIED ? NULL : &v, x == NULL);
	if (s != NULL && kind == K_DENIED)
		refused(core, c, x != NULL);
	X509_free(x);
	bs_login_view_clear(&v);
	return s;
}

/*
 * True when a newer connection logged in under c's client id as a config's
 * client and is still connected: c is the one it replaces (Mosquitto
 * checks the old one's will then), answered with a refusal that is not
 * cached. A session made without a login or certificate (unbound) may be
 * a freed offline one's, and is replaced instead; so is another user's,
 * which the plugin leaves to the broker's other sources anyway.
 */
static int replaced(bs_sessions_t *ss, const bs_client_t *c)
{
	session_t *other = (session_t *)bs_hmap_get(&ss->clients, c->client_id);

	return other != NULL && other->handle != c->handle && !other->unbound
		&& !other->gone && other->kind != K_NONE;
}

bs_acl_t bs_client_acl(bs_core_t *core, const bs_client_t *c,
		const char *topic, int access)
{
	session_t *s;

	if (c->username == NULL || c->client_id == NULL)
		return bs_acl_check(&core->opts, c->username, topic, access);
	s = find(&core->sessions, c);
	if (s != NULL && s->kind == K_TRUSTED) {
		/* Made on an offline client: a connection that presents a
		 * certificate must be checked anew. */
		X509 *x = c->cert(c->handle);
		if (x != NULL)
			s = NULL;
		X509_free(x);
	}
	if (s == NULL && replaced(&core->sessions, c))
		return BS_ACL_DENY;
	if (s == NULL && (s = resolve(core, c)) == NULL)
		return BS_ACL_DENY;
	if (s->kind == K_NONE)
		return bs_acl_check(&core->opts, c->username, topic, access);
	if (s->kind == K_DENIED)
		return BS_ACL_DENY;
	return bs_acl_check_device(&core->opts, c->username,
			(const char *const *)s->rec->topics, s->rec->n, topic, access);
}

void bs_client_gone(bs_core_t *core, const bs_client_t *c)
{
	session_t *s = c->client_id ? find_ref(&core->sessions, c->client_id, c->handle) : NULL;

	if (s != NULL) {
		s->gone = 1;
		refs_push(&core->sessions.gone, c->client_id, c->handle);
	}
}

void bs_sessions_tick(bs_core_t *core, bs_kicks_t *out)
{
	bs_sessions_t *ss = &core->sessions;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ss->refused.n; i++) {
		session_t *s = find_ref(ss, ss->refused.v[i].client_id, ss->refused.v[i].handle);
		if (s != NULL && !s->gone)
			kick(out, 0, s->client_id);
	}
	for (size_t i = 0; i < ss->gone.n; i++) {
		session_t *s = find_ref(ss, ss->gone.v[i].client_id, ss->gone.v[i].handle);
		if (s != NULL)
			session_drop(ss, s);
	}
	refs_clear(&ss->refused);
	refs_clear(&ss->gone);
	bs_sessions_reload_pending(core, out);
}

/* ---- effects ---------------------------------------------------------- */

/* Ends the sessions of r whose kind is in mask (1 << kind); dropping the
 * last one frees r. The clients to disconnect go to out, when given. */
static void end_sessions(bs_sessions_t *ss, record_t *r, unsigned mask, bs_kicks_t *out)
{
	for (session_t *s = r->head, *next; s != NULL; s = next) {
		next = s->next;
		if (!(mask & (1u << s->kind)))
			continue;
		if (out != NULL && !s->gone)
			kick(out, 0, s->client_id);
		session_drop(ss, s);
	}
}

/* r's channels are ids; else (rc not BS_OK: not known any more, or out of
 * memory) its connected clients end, and its sessions are made again
 * (refused) at their next check. */
static void reloaded(bs_core_t *core, record_t *r, int rc, const char *ids,
		bs_kicks_t *out)
{
	if (rc == BS_OK && set_channels(&core->opts, r, ids) == BS_OK)
		return;
	kick(out, 1, r->client_id);
	end_sessions(&core->sessions, r, ~0u, NULL);
}

/*
 * Its channels read again. On PostgreSQL from the login replica, whose
 * entry the effect made stale: the record keeps its channels until the
 * replica's thread has read the entry again, and is reloaded then
 * (bs_sessions_reload_pending), never waiting on the store here. With
 * SQLite from the store at once.
 */
static void reload(bs_core_t *core, record_t *r, bs_kicks_t *out)
{
	bs_config_t cfg;
	int rc;

	if (core->logins != NULL) {
		if (refs_push(&core->sessions.reloads, r->client_id, NULL) != BS_OK)
			reloaded(core, r, BS_ERR_INTERNAL, NULL, out);
		return;
	}
	rc = bs_login_view_store(core, r->client_id, 0, &cfg);
	reloaded(core, r, rc, cfg.channel_ids, out);
	if (rc == BS_OK)
		bs_config_clear(&cfg);
}

void bs_sessions_reload_pending(bs_core_t *core, bs_kicks_t *out)
{
	bs_refs_t *pending = &core->sessions.reloads;
	size_t kept = 0;

	if (core->logins == NULL)
		return;         /* nothing waits with SQLite */
	for (size_t i = 0; i < pending->n; i++) {
		struct bs_ref *ref = &pending->v[i];
		record_t *r = (record_t *)bs_hmap_get(&core->sessions.records, ref->client_id);
		const bs_login_entry_t *e = NULL;
		int rc = BS_ERR_INTERNAL;

		/* Not read again yet (and, while the whole is, wait for it). */
		if (r != NULL && (!bs_logins_loaded(core->logins)
				|| (rc = bs_logins_find(core->logins, ref->client_id, &e))
					== BS_ERR_INTERNAL)) {
			pending->v[kept++] = *ref;
			continue;
		}
		if (r != NULL)
			reloaded(core, r, rc, e ? bs_login_channels(e) : NULL, out);
		free(ref->client_id);
	}
	pending->n = kept;
}

static void channel_gone(bs_sessions_t *ss, const char *id)
{
	for (size_t i = 0; i < ss->records.cap; i++) {
		for (bs_hnode_t *n = ss->records.buckets[i]; n != NULL; n = n->next) {
			record_t *r = (record_t *)n;
			size_t k = 0;
			for (size_t j = 0; j < r->n; j++) {
				if (strcmp(r->channels[j], id) == 0) {
					free(r->channels[j]);
					free(r->topics[j]);
					continue;
				}
				r->channels[k] = r->channels[j];
				r->topics[k++] = r->topics[j];
			}
			r->n = k;
		}
	}
}

static void apply_one(bs_core_t *core, const bs_effect_t *fx, bs_kicks_t *out)
{
	bs_sessions_t *ss = &core->sessions;
	record_t *r = (record_t *)bs_hmap_get(&ss->records, fx->target);

	switch (fx->kind) {
	case BS_FX_END_ALL:
		kick(out, 1, fx->target);
		if (r != NULL)
			end_sessions(ss, r, ~0u, NULL);
		break;
	case BS_FX_END_PASSWORD:
		if (r != NULL)
			end_sessions(ss, r, 1u << K_PASSWORD, out);
		break;
	case BS_FX_END_CERT:
		if (r != NULL)
			end_sessions(ss, r, 1u << K_CERT, out);
		break;
	case BS_FX_RELOAD:
		if (r != NULL)
			reload(core, r, out);
		break;
	case BS_FX_CHANNEL_GONE:
		channel_gone(ss, fx->target);
		break;
	}
}

void bs_sessions_apply(bs_core_t *core, const bs_effect_t *fx, size_t n,
		bs_kicks_t *out)
{
	for (size_t i = 0; i < n; i++) {
		if (core->logins != NULL)
			bs_logins_effect(core->logins, &fx[i]);
		apply_one(core, &fx[i], out);
	}
}

void bs_sessions_apply_live(bs_core_t *core, const bs_effect_t *fx, size_t n,
		bs_kicks_t *out)
{
	for (size_t i = 0; i < n; i++)
		apply_one(core, &fx[i], out);
}

size_t bs_sessions_bytes(const bs_sessions_t *ss)
{
	size_t bytes = (ss->clients.cap + ss->records.cap) * sizeof(bs_hnode_t *);

	for (size_t i = 0; i < ss->clients.cap; i++) {
		for (bs_hnode_t *n = ss->clients.buckets[i]; n != NULL; n = n->next) {
			const session_t *s = (const session_t *)n;
			bytes += sizeof(*s) + strlen(s->client_id) + strlen(s->username) + 2;
		}
	}
	for (size_t i = 0; i < ss->records.cap; i++) {
		for (bs_hnode_t *n = ss->records.buckets[i]; n != NULL; n = n->next) {
			const record_t *r = (const record_t *)n;
			bytes += sizeof(*r) + strlen(r->client_id) + 1 + r->n * 2 * sizeof(char *);
			for (size_t j = 0; j < r->n; j++)
				bytes += strlen(r->channels[j]) + strlen(r->topics[j]) + 2;
		}
	}
	return bytes;
}

void bs_sessions_free(bs_sessions_t *ss)
{
	for (size_t i = 0; i < ss->clients.cap; i++) {
		for (bs_hnode_t *n = ss->clients.buckets[i], *next; n != NULL; n = next) {
			next = n->next;
			session_drop(ss, (session_t *)n);
		}
	}
	bs_hmap_free(&ss->clients);
	bs_hmap_free(&ss->records);
	refs_clear(&ss->refused);
	refs_clear(&ss->gone);
	refs_clear(&ss->reloads);
	free(ss->refused.v);
	free(ss->gone.v);
	free(ss->reloads.v);
	memset(ss, 0, sizeof(*ss));
}

size_t bs_sessions_connected(const bs_sessions_t *ss)
{
	size_t n = 0;

	for (size_t i = 0; i < ss->clients.cap; i++) {
		for (const bs_hnode_t *h = ss->clients.buckets[i]; h != NULL; h = h->next) {
			const session_t *s = (const session_t *)h;
			n += s->rec != NULL && !s->gone;
		}
	}
	return n;
}
