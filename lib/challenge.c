#include "challenge.h"

#include "crypto.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

static void to_hex(const uint8_t *in, char *out)
{
	bs_hex_encode(in, BS_NONCE_LEN, out);
	out[2 * BS_NONCE_LEN] = '\0';
}

static void release(bs_nonces_t *t, bs_nonce_slot_t *s)
{
	if (s->external_id == NULL)
		return;
	bs_hmap_del(&t->live, &s->node);
	free(s->external_id);
	s->external_id = NULL;
}

int bs_nonces_issue(bs_nonces_t *t, const char *external_id, time_t now,
		uint8_t out[BS_NONCE_LEN])
{
	bs_nonce_slot_t *s;

	if (t->ring == NULL && (t->ring = calloc(BS_NONCES_MAX, sizeof(*t->ring))) == NULL)
		return BS_ERR_INTERNAL;
	s = &t->ring[t->next];
	/* The oldest slot: a nonce still outstanding there is dropped. */
	release(t, s);
	if (bs_crypto_random(out, BS_NONCE_LEN) != BS_OK
			|| (s->external_id = strdup(external_id)) == NULL)
		return BS_ERR_INTERNAL;
	to_hex(out, s->key);
	if (bs_hmap_put(&t->live, &s->node, s->key) != BS_OK) {
		free(s->external_id);
		s->external_id = NULL;
		return BS_ERR_INTERNAL;
	}
	s->expires = now + BS_NONCE_SECONDS;
	t->next = (t->next + 1) % BS_NONCES_MAX;
	return BS_OK;
}

int bs_nonces_take(bs_nonces_t *t, const uint8_t nonce[BS_NONCE_LEN],
		const char *external_id, time_t now)
{
	char key[2 * BS_NONCE_LEN + 1];
	bs_nonce_slot_t *s;
	int ok;

	to_hex(nonce, key);
	if ((s = (bs_nonce_slot_t *)bs_hmap_get(&t->live, key)) == NULL)
		return BS_ERR_UNAUTHORIZED;
	ok = now < s->expires && strcmp(s->external_id, external_id) == 0;
	release(t, s);
	return ok ? BS_OK : BS_ERR_UNAUTHORIZED;
}

size_t bs_nonces_count(const bs_nonces_t *t)
{
	return t->live.n;
}

size_t bs_nonces_bytes(const bs_nonces_t *t)
{
	size_t bytes = t->live.cap * sizeof(bs_hnode_t *);

	if (t->ring == NULL)
		return bytes;
	bytes += BS_NONCES_MAX * sizeof(*t->ring);
	for (size_t i = 0; i < BS_NONCES_MAX; i++) {
		if (t->ring[i].external_id != NULL)
			bytes += strlen(t->ring[i].external_id) + 1;
	}
	return bytes;
}

void bs_nonces_free(bs_nonces_t *t)
{
	for (size_t i = 0; t->ring != NULL && i < BS_NONCES_MAX; i++)
		free(t->ring[i].external_id);
	free(t->ring);
	bs_hmap_free(&t->live);
	memset(t, 0, sizeof(*t));
}
