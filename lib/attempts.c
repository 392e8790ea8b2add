#include "attempts.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bs_attempts_init(bs_attempts_t *a, int on)
{
	memset(a, 0, sizeof(*a));
	if (on && (a->ring = calloc(BS_ATTEMPTS_RING, sizeof(*a->ring))) == NULL)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

void bs_attempts_note(bs_attempts_t *a, const char *external_id, const char *address,
		time_t now, int unknown)
{
	bs_attempt_t *s;

	if (a->ring == NULL)
		return;
	if (a->n == BS_ATTEMPTS_RING) {
		a->head = (a->head + 1) % BS_ATTEMPTS_RING;
		a->n--;
		a->dropped++;
	}
	s = &a->ring[(a->head + a->n++) % BS_ATTEMPTS_RING];
	snprintf(s->external_id, sizeof(s->external_id), "%s", external_id);
	snprintf(s->address, sizeof(s->address), "%s", address ? address : "");
	s->at = now;
	s->unknown = unknown;
}

size_t bs_attempts_drain(bs_attempts_t *a, bs_unknown_t *u)
{
	size_t n = a->n;

	for (; a->n > 0; a->n--) {
		bs_attempt_t *s = &a->ring[a->head];
		if (s->unknown)
			bs_unknown_seen(u, s->external_id, s->address, s->at);
		a->head = (a->head + 1) % BS_ATTEMPTS_RING;
	}
	a->head = 0;
	return n;
}

void bs_attempts_free(bs_attempts_t *a)
{
	free(a->ring);
	memset(a, 0, sizeof(*a));
}
