#include "lockout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "address\n external_id" into buf: the hash key of a pair (an external
 * ID holds no control characters, so the newline cannot be forged). */
static const char *pair_key(char *buf, size_t len, const char *external_id,
		const char *address)
{
	snprintf(buf, len, "%s\n%s", address ? address : "", external_id);
	return buf;
}

#define KEY_MAX 512

static bs_lock_slot_t *find(const bs_lockout_t *l, const char *external_id,
		const char *address)
{
	char key[KEY_MAX];

	return (bs_lock_slot_t *)bs_hmap_get(&l->pairs,
			pair_key(key, sizeof(key), external_id, address));
}

long bs_lockout_wait(const bs_lockout_t *l, const char *external_id,
		const char *address, time_t now)
{
	const bs_lock_slot_t *s = l->max_failures > 0 && l->pairs.n > 0
		? find(l, external_id, address) : NULL;

	return s != NULL && s->locked_until > now ? (long)(s->locked_until - now) : 0;
}

static void release(bs_lockout_t *l, bs_lock_slot_t *s)
{
	if (s->key == NULL)
		return;
	bs_hmap_del(&l->pairs, &s->node);
	free(s->key);
	memset(s, 0, sizeof(*s));
}

/* A slot for a new pair: the oldest among the next few that is free or
 * not locked out, else the oldest; locked ones skipped are met again once
 * the ring comes round. */
static bs_lock_slot_t *take_slot(bs_lockout_t *l, time_t now)
{
	size_t at = l->next;

	for (size_t i = 0; i < BS_LOCKOUT_PROBE; i++) {
		size_t j = (l->next + i) % BS_LOCKOUT_MAX;
		if (l->ring[j].key == NULL || l->ring[j].locked_until <= now) {
			at = j;
			break;
		}
	}
	release(l, &l->ring[at]);
	l->next = (at + 1) % BS_LOCKOUT_MAX;
	return &l->ring[at];
}

static bs_lock_slot_t *add(bs_lockout_t *l, const char *key, time_t now)
{
	bs_lock_slot_t *s;

	if (l->ring == NULL && (l->ring = calloc(BS_LOCKOUT_MAX, sizeof(*l->ring))) == NULL)
		return NULL;
	s = take_slot(l, now);
	if ((s->key = strdup(key)) == NULL)
		return NULL;
	if (bs_hmap_put(&l->pairs, &s->node, s->key) != 0) {
		free(s->key);
		s->key = NULL;
		return NULL;
	}
	s->window_start = now;
	return s;
}

/* lockout_seconds doubled per earlier lockout, capped at an hour. */
static time_t lock_length(const bs_lockout_t *l, unsigned strikes)
{
	time_t t = l->seconds;

	for (unsigned i = 0; i < strikes && t < BS_LOCKOUT_CAP; i++)
		t *= 2;
	return t < BS_LOCKOUT_CAP ? t : BS_LOCKOUT_CAP;
}

void bs_lockout_failed(bs_lockout_t *l, const char *external_id,
		const char *address, time_t now)
{
	char key[KEY_MAX];
	bs_lock_slot_t *s;

	if (l->max_failures <= 0)
		return;
	pair_key(key, sizeof(key), external_id, address);
	s = (bs_lock_slot_t *)bs_hmap_get(&l->pairs, key);
	if (s == NULL && (s = add(l, key, now)) == NULL)
		return;
	if (now - s->window_start >= l->seconds) {
		s->window_start = now;
		s->failures = 0;
	}
	if (++s->failures < (unsigned)l->max_failures)
		return;
	s->locked_until = now + lock_length(l, s->strikes);
	s->strikes++;
	s->failures = 0;
	s->window_start = s->locked_until;
}

void bs_lockout_passed(bs_lockout_t *l, const char *external_id,
		const char *address)
{
	bs_lock_slot_t *s = l->pairs.n > 0 ? find(l, external_id, address) : NULL;

	if (s != NULL)
		release(l, s);
}

size_t bs_lockout_active(const bs_lockout_t *l, time_t now)
{
	size_t n = 0;

	for (size_t i = 0; l->ring != NULL && i < BS_LOCKOUT_MAX; i++)
		n += l->ring[i].key != NULL && l->ring[i].locked_until > now;
	return n;
}

size_t bs_lockout_bytes(const bs_lockout_t *l)
{
	size_t bytes = l->pairs.cap * sizeof(bs_hnode_t *);

	for (size_t i = 0; l->ring != NULL && i < BS_LOCKOUT_MAX; i++)
		bytes += sizeof(bs_lock_slot_t) + (l->ring[i].key ? strlen(l->ring[i].key) + 1 : 0);
	return bytes;
}

void bs_lockout_free(bs_lockout_t *l)
{
	for (size_t i = 0; l->ring != NULL && i < BS_LOCKOUT_MAX; i++)
		free(l->ring[i].key);
	free(l->ring);
	bs_hmap_free(&l->pairs);
	l->ring = NULL;
	l->next = 0;
}
