/*
 * A small intrusive hash map from strings to nodes that the caller embeds
 * in its own structs (first member, or with offsetof), chained so that a
 * node can be removed without tombstones. The map never owns a node nor
 * its key: the key must stay valid while the node is in the map.
 */
#ifndef BS_HMAP_H
#define BS_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct bs_hnode {
	struct bs_hnode *next;
	uint64_t hash;
	const char *key;
} bs_hnode_t;

typedef struct bs_hmap {
	bs_hnode_t **buckets;
	size_t cap;             /* a power of two, or 0 before the first put */
	size_t n;
} bs_hmap_t;

/* FNV-1a of a NUL-terminated string. */
uint64_t bs_hash_str(const char *s);

bs_hnode_t *bs_hmap_get(const bs_hmap_t *m, const char *key);
/* Adds node under key (not already present); BS_ERR_INTERNAL when the
 * table cannot grow. */
int bs_hmap_put(bs_hmap_t *m, bs_hnode_t *node, const char *key);
/* Removes a node that is in the map. */
void bs_hmap_del(bs_hmap_t *m, bs_hnode_t *node);
/* Frees the table only; the nodes are the caller's. */
void bs_hmap_free(bs_hmap_t *m);
/* Frees the table and every node, each one allocation that begins with
 * its bs_hnode_t. */
void bs_hmap_free_all(bs_hmap_t *m);

#endif
