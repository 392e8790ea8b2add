#include "hmap.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

uint64_t bs_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

bs_hnode_t *bs_hmap_get(const bs_hmap_t *m, const char *key)
{
	uint64_t h;

	if (m->n == 0)
		return NULL;
	h = bs_hash_str(key);
	for (bs_hnode_t *n = m->buckets[h & (m->cap - 1)]; n != NULL; n = n->next) {
		if (n->hash == h && strcmp(n->key, key) == 0)
			return n;
	}
	return NULL;
}

/* Doubles the table: it is kept at most one node per bucket on average. */
static int grow(bs_hmap_t *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	bs_hnode_t **b = calloc(cap, sizeof(*b));

	if (b == NULL)
		return BS_ERR_INTERNAL;
	for (size_t i = 0; i < m->cap; i++) {
		for (bs_hnode_t *n = m->buckets[i], *next; n != NULL; n = next) {
			next = n->next;
			n->next = b[n->hash & (cap - 1)];
			b[n->hash & (cap - 1)] = n;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->cap = cap;
	return BS_OK;
}

int bs_hmap_put(bs_hmap_t *m, bs_hnode_t *node, const char *key)
{
	size_t i;

	if (m->n + 1 > m->cap && grow(m) != BS_OK)
		return BS_ERR_INTERNAL;
	node->key = key;
	node->hash = bs_hash_str(key);
	i = node->hash & (m->cap - 1);
	node->next = m->buckets[i];
	m->buckets[i] = node;
	m->n++;
	return BS_OK;
}

void bs_hmap_del(bs_hmap_t *m, bs_hnode_t *node)
{
	bs_hnode_t **at = &m->buckets[node->hash & (m->cap - 1)];

	while (*at != NULL && *at != node)
		at = &(*at)->next;
	if (*at == NULL)
		return;
	*at = node->next;
	node->next = NULL;
	m->n--;
}

void bs_hmap_free(bs_hmap_t *m)
{
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

void bs_hmap_free_all(bs_hmap_t *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		for (bs_hnode_t *n = m->buckets[i], *next; n != NULL; n = next) {
			next = n->next;
			free(n);
		}
	}
	bs_hmap_free(m);
}
