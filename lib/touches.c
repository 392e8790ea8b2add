#include "touches.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_touches_add(bs_touches_t *t, int64_t config_id, time_t when)
{
	bs_touch_list_t *l = &t->pending;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		bs_touch_t *grown = realloc(l->v, cap * sizeof(*grown));
		if (grown == NULL)
			return BS_ERR_INTERNAL;
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n].config_id = config_id;
	l->v[l->n].when = when;
	l->n++;
	return BS_OK;
}

size_t bs_touches_waiting(const bs_touches_t *t)
{
	return t->pending.n + (t->writing.n - t->cursor);
}

/*
 * Sorts v by config_id with an LSD radix sort, 11 bits a pass, as many
 * passes as the largest id needs: a comparison sort of half a million
 * bootstraps held the broker up for tens of milliseconds. Stable, so the
 * bootstraps of one config stay in the order they happened. tmp holds n.
 */
static void radix_sort(bs_touch_t *v, bs_touch_t *tmp, size_t n)
{
	int64_t max = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].config_id > max)
			max = v[i].config_id;
	for (int shift = 0; shift < 63 && (max >> shift) > 0; shift += 11) {
		size_t count[2049] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((uint64_t)v[i].config_id >> shift & 2047) + 1]++;
		for (size_t d = 1; d < 2049; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[(uint64_t)v[i].config_id >> shift & 2047]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
}

/* The pending list becomes the batch to write: sorted by config, the
 * newest bootstrap of each kept (out of memory, it is written unsorted). */
static void rotate(bs_touches_t *t)
{
	bs_touch_list_t done = t->writing;
	bs_touch_list_t *w;
	bs_touch_t *tmp;
	size_t n = 0;

	t->writing = t->pending;
	t->pending = done;
	t->pending.n = 0;
	t->cursor = 0;
	w = &t->writing;
	if ((tmp = malloc(w->n * sizeof(*tmp) + 1)) == NULL)
		return;
	radix_sort(w->v, tmp, w->n);
	free(tmp);
	for (size_t i = 0; i < w->n; i++) {
		if (n > 0 && w->v[n - 1].config_id == w->v[i].config_id)
			n--;
		w->v[n++] = w->v[i];
	}
	w->n = n;
}

int bs_touches_write(bs_touches_t *t, bs_store_t *st, size_t max, int rotate_now,
		size_t *failed)
{
	int rotated = 0, rc;
	size_t n;

	*failed = 0;
	if (t->cursor == t->writing.n) {
		t->writing.n = t->cursor = 0;
		if (!rotate_now || t->pending.n == 0)
			return 0;
		rotate(t);
		rotated = 1;
	}
	n = t->writing.n - t->cursor < max ? t->writing.n - t->cursor : max;
	rc = bs_store_begin(st);
	for (size_t i = t->cursor; rc == BS_OK && i < t->cursor + n; i++)
		rc = bs_store_config_touch_bootstrap(st, t->writing.v[i].config_id,
				t->writing.v[i].when);
	if (rc == BS_OK)
		rc = bs_store_commit(st);
	if (rc != BS_OK) {
		bs_store_rollback(st);
		*failed = n;
	}
	t->cursor += n;
	return rotated;
}

void bs_touches_free(bs_touches_t *t)
{
	free(t->pending.v);
	free(t->writing.v);
	memset(t, 0, sizeof(*t));
}
