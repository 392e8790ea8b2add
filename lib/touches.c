#include "touches.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* The index of the page starting at first, or where it would go. */
static size_t find(const bs_touch_map_t *m, int64_t first)
{
	size_t lo = 0, hi = m->n;

	if (m->last < m->n && m->pages[m->last]->first == first)
		return m->last;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->pages[mid]->first < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bs_touch_page_t *page_for(bs_touch_map_t *m, int64_t first)
{
	size_t at = find(m, first);
	bs_touch_page_t *p;

	if (at < m->n && m->pages[at]->first == first) {
		m->last = at;
		return m->pages[at];
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		bs_touch_page_t **grown = realloc(m->pages, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		m->pages = grown;
		m->cap = cap;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->first = first;
	memmove(m->pages + at + 1, m->pages + at, (m->n - at) * sizeof(*m->pages));
	m->pages[at] = p;
	m->n++;
	m->last = at;
	return p;
}

int bs_touches_add(bs_touches_t *t, int64_t config_id, time_t when)
{
	bs_touch_map_t *m = &t->pending;
	bs_touch_page_t *p;
	size_t i;

	if (config_id < 0)
		return BS_ERR_INVALID;
	p = page_for(m, config_id - config_id % BS_TOUCH_PAGE);
	if (p == NULL)
		return BS_ERR_INTERNAL;
	i = (size_t)(config_id % BS_TOUCH_PAGE);
	if (!(p->waiting[i / 64] & 1ULL << (i % 64))) {
		p->waiting[i / 64] |= 1ULL << (i % 64);
		p->count++;
		m->count++;
	}
	/* Unsigned 32-bit seconds last until 2106. */
	p->when[i] = when < 0 ? 0 : when > (time_t)UINT32_MAX ? UINT32_MAX : (uint32_t)when;
	return BS_OK;
}

size_t bs_touches_waiting(const bs_touches_t *t)
{
	return t->pending.count + t->writing.count;
}

/* Frees the pages, keeps the array for the next batch. */
static void map_clear(bs_touch_map_t *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->pages[i]);
	m->n = m->count = m->last = 0;
}

/* The pending map becomes the batch to write; the empty one takes its place. */
static void rotate(bs_touches_t *t)
{
	bs_touch_map_t done = t->writing;

	map_clear(&done);
	t->writing = t->pending;
	t->pending = done;
	t->page = t->bit = 0;
	t->batch = t->writing.count;
}

/* Takes the next waiting id of the batch, in id order; frees pages done. */
static void next(bs_touches_t *t, int64_t *id, time_t *when)
{
	bs_touch_page_t *p = t->writing.pages[t->page];
	uint64_t word;

	while ((word = p->waiting[t->bit / 64] >> (t->bit % 64)) == 0)
		t->bit = (t->bit / 64 + 1) * 64;
	t->bit += (size_t)__builtin_ctzll(word);
	*id = p->first + (int64_t)t->bit;
	*when = (time_t)p->when[t->bit];
	p->waiting[t->bit / 64] &= ~(1ULL << (t->bit % 64));
	t->writing.count--;
	if (--p->count == 0) {
		free(p);
		t->writing.pages[t->page++] = NULL;
		t->bit = 0;
	}
}

int bs_touches_write(bs_touches_t *t, bs_store_t *st, size_t max, int rotate_now,
		size_t *failed)
{
	int rotated = 0, rc;
	size_t n = 0;

	*failed = 0;
	if (t->writing.count == 0) {
		if (!rotate_now || t->pending.count == 0)
			return 0;
		rotate(t);
		rotated = 1;
	}
	size_t want = t->writing.count < max ? t->writing.count : max;
	int64_t *ids = malloc(want * sizeof(*ids));
	time_t *whens = malloc(want * sizeof(*whens));

	if (ids == NULL || whens == NULL) {
		free(ids);
		free(whens);
		return rotated;         /* all still waiting: tried again next time */
	}
	/* Taken out of the map whether or not they are written: what fails
	 * is counted, not tried again. */
	while (n < want) {
		next(t, &ids[n], &whens[n]);
		n++;
	}
	rc = bs_store_begin(st);
	if (rc == BS_OK)
		rc = bs_store_config_touch_many(st, ids, whens, n);
	if (rc == BS_OK)
		rc = bs_store_commit(st);
	if (rc != BS_OK) {
		bs_store_rollback(st);
		*failed = n;
	}
	free(ids);
	free(whens);
	return rotated;
}

void bs_touches_free(bs_touches_t *t)
{
	map_clear(&t->pending);
	map_clear(&t->writing);
	free(t->pending.pages);
	free(t->writing.pages);
	memset(t, 0, sizeof(*t));
}
