/*
 * The login replica's entries and table (lib/logins.h): made, found,
 * checked, and what effects do to them. The thread that fills them is
 * logins_sync.c.
 */
#include "logins_int.h"

#include "certs.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

long long bs_logins_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bs_login_entry_t *bs_login_new(const uint8_t key[BS_SHA256_LEN], const char *client_id,
		const bs_config_t *cfg)
{
	const char *ids = cfg != NULL && cfg->channel_ids != NULL ? cfg->channel_ids : "";
	size_t idlen = strlen(client_id), chlen = strlen(ids);
	bs_login_entry_t *e;

	if (idlen + chlen + 2 > UINT32_MAX
			|| (e = calloc(1, sizeof(*e) + idlen + chlen + 2)) == NULL)
		return NULL;
	memcpy(e->name, client_id, idlen + 1);
	e->channels = (uint32_t)(idlen + 1);
	memcpy(e->name + e->channels, ids, chlen + 1);
	if (cfg == NULL) {
		e->flags = E_DELETED;
		return e;
	}
	if (cfg->enabled)
		e->flags |= E_ENABLED;
	if (cfg->client_secret != NULL) {
		if (bs_crypto_hmac(key, BS_SHA256_LEN, cfg->client_secret,
				strlen(cfg->client_secret), e->mac) != BS_OK) {
			free(e);
			return NULL;
		}
		e->flags |= E_SECRET;
	}
	/* A stored certificate that does not parse matches nothing, as in
	 * bs_certs_same. */
	if (cfg->client_cert != NULL && cfg->client_cert[0] != '\0'
			&& bs_certs_digest(cfg->client_cert, strlen(cfg->client_cert),
				e->cert) == BS_OK)
		e->flags |= E_CERT;
	return e;
}

size_t bs_login_bytes(const bs_login_entry_t *e)
{
	return sizeof(*e) + e->channels + strlen(e->name + e->channels) + 1;
}

static void count(login_table_t *t, const bs_login_entry_t *e, int sign)
{
	size_t *n = (e->flags & E_DELETED) ? &t->deleted : &t->configs;

	if (sign > 0) {
		(*n)++;
		t->bytes += bs_login_bytes(e);
	} else {
		(*n)--;
		t->bytes -= bs_login_bytes(e);
	}
}

void bs_login_table_remove(login_table_t *t, const char *client_id)
{
	bs_login_entry_t *old = (bs_login_entry_t *)bs_hmap_get(&t->map, client_id);

	if (old == NULL)
		return;
	bs_hmap_del(&t->map, &old->node);
	count(t, old, -1);
	free(old);
}

int bs_login_table_put(login_table_t *t, bs_login_entry_t *e)
{
	bs_login_table_remove(t, e->name);
	if (bs_hmap_put(&t->map, &e->node, e->name) != BS_OK) {
		free(e);
		return BS_ERR_INTERNAL;
	}
	count(t, e, 1);
	return BS_OK;
}

void bs_login_table_free(login_table_t *t)
{
	bs_hmap_free_all(&t->map);
	memset(t, 0, sizeof(*t));
}

int bs_logins_new(bs_logins_t **out)
{
	bs_logins_t *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (l == NULL)
		return BS_ERR_INTERNAL;
	if (bs_crypto_random(l->key, sizeof(l->key)) != BS_OK) {
		free(l);
		return BS_ERR_INTERNAL;
	}
	l->losses = bs_store_losses();
	*out = l;
	return BS_OK;
}

void bs_logins_queue(bs_logins_t *l, stale_t *s)
{
	if (!s->queued) {
		s->queued = 1;
		l->queued++;
	}
}

void bs_logins_stale_clear(bs_logins_t *l)
{
	bs_hmap_free_all(&l->stale);
	l->queued = 0;
}

void bs_logins_free(bs_logins_t *l)
{
	if (l == NULL)
		return;
	bs_worker_stop(l->worker);
	bs_login_table_free(&l->live);
	bs_login_table_free(&l->before);
	bs_logins_stale_clear(l);
	explicit_bzero(l->key, sizeof(l->key));
	free(l);
}

int bs_logins_find(const bs_logins_t *l, const char *client_id,
		const bs_login_entry_t **out)
{
	const bs_login_entry_t *e;

	*out = NULL;
	if (bs_hmap_get(&l->stale, client_id) != NULL)
		return BS_ERR_INTERNAL;
	/* Read again after a drop: a client id that was a config's is refused
	 * meanwhile, the others are left to the broker. */
	if (!l->loaded)
		return l->has_before && bs_hmap_get(&l->before.map, client_id) == NULL
			? BS_ERR_NOT_FOUND : BS_ERR_INTERNAL;
	if ((e = (const bs_login_entry_t *)bs_hmap_get(&l->live.map, client_id)) == NULL)
		return BS_ERR_NOT_FOUND;
	if (e->flags & E_DELETED)
		return BS_ERR_DISABLED;
	*out = e;
	return BS_OK;
}

int bs_login_secret_ok(const bs_logins_t *l, const bs_login_entry_t *e,
		const char *password)
{
	uint8_t mac[BS_SHA256_LEN];
	int same;

	if (!(e->flags & E_SECRET) || password == NULL
			|| bs_crypto_hmac(l->key, sizeof(l->key), password, strlen(password),
				mac) != BS_OK)
		return 0;
	same = bs_crypto_equal(mac, sizeof(mac), e->mac, sizeof(e->mac));
	explicit_bzero(mac, sizeof(mac));
	return same;
}

int bs_login_cert_ok(const bs_login_entry_t *e, const void *x)
{
	uint8_t d[BS_SHA256_LEN];

	return (e->flags & E_CERT) && x != NULL && bs_certs_digest_x509(x, d) == BS_OK
		&& memcmp(d, e->cert, sizeof(d)) == 0;
}

int bs_login_enabled(const bs_login_entry_t *e)
{
	return (e->flags & E_ENABLED) != 0;
}

const char *bs_login_channels(const bs_login_entry_t *e)
{
	return e->name + e->channels;
}

int bs_logins_loaded(const bs_logins_t *l)
{
	return l->loaded;
}

int bs_logins_answers(const bs_logins_t *l)
{
	return l->loaded || l->has_before;
}

/* Takes the channel id out of the newline-separated list s, in place;
 * the bytes it took. */
static size_t drop_id(char *s, const char *id)
{
	size_t idlen = strlen(id), before = strlen(s);
	char *w = s;

	for (const char *p = s; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		if (len != idlen || memcmp(p, id, len) != 0) {
			if (w != s)
				*w++ = '\n';
			memmove(w, p, len);
			w += len;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	*w = '\0';
	return before - (size_t)(w - s);
}

static void channel_gone(bs_logins_t *l, const char *id)
{
	login_table_t *t = &l->live;

	for (size_t i = 0; i < t->map.cap; i++) {
		for (bs_hnode_t *n = t->map.buckets[i]; n != NULL; n = n->next) {
			bs_login_entry_t *e = (bs_login_entry_t *)n;
			if (strstr(e->name + e->channels, id) != NULL)
				t->bytes -= drop_id(e->name + e->channels, id);
		}
	}
}

static void mark_stale(bs_logins_t *l, const char *client_id)
{
	stale_t *s = (stale_t *)bs_hmap_get(&l->stale, client_id);
	size_t len = strlen(client_id);

	/* Out of memory, the entry could answer wrong: the whole goes. */
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s) + len + 1)) == NULL) {
			bs_logins_drop(l);
			return;
		}
		memcpy(s->id, client_id, len + 1);
		if (bs_hmap_put(&l->stale, &s->node, s->id) != BS_OK) {
			free(s);
			bs_logins_drop(l);
			return;
		}
	}
	s->seq = ++l->seq;
	s->retry_ms = 0;
	bs_logins_queue(l, s);
}

void bs_logins_effect(bs_logins_t *l, const bs_effect_t *fx)
{
	if (fx->target == NULL || fx->target[0] == '\0')
		return;
	if (fx->kind == BS_FX_CHANNEL_GONE)
		channel_gone(l, fx->target);
	else
		mark_stale(l, fx->target);
}

void bs_logins_mark(const bs_logins_t *l, bs_logins_mark_t *m)
{
	m->gen = l->gen;
	m->seq = l->seq;
	m->loaded = l->loaded;
}

void bs_logins_take(bs_logins_t *l, const bs_logins_mark_t *m, const char *client_id,
		const bs_config_t *cfg)
{
	stale_t *s = (stale_t *)bs_hmap_get(&l->stale, client_id);
	bs_login_entry_t *e;

	if (!l->loaded || !m->loaded || m->gen != l->gen || (s != NULL && s->seq > m->seq)
			|| cfg == NULL || (e = bs_login_new(l->key, client_id, cfg)) == NULL) {
		mark_stale(l, client_id);
		return;
	}
	if (bs_login_table_put(&l->live, e) != BS_OK) {
		bs_logins_drop(l);
		return;
	}
	/* Stale from before m: what was read is newer. */
	if (s != NULL) {
		if (s->queued)
			l->queued--;
		bs_hmap_del(&l->stale, &s->node);
		free(s);
	}
}

void bs_logins_stats(const bs_logins_t *l, bs_logins_stats_t *out)
{
	out->configs = l->live.configs;
	out->deleted = l->live.deleted;
	out->bytes = l->live.bytes + l->live.map.cap * sizeof(bs_hnode_t *);
	out->stale = l->stale.n;
	out->load_ms = l->load_ms;
}
