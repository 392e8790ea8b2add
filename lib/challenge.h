/*
 * Challenge mode (protocol 3.2): the nonces handed out and not yet used.
 *
 * A nonce is 32 random bytes, good for one answer within
 * BS_NONCE_SECONDS, and only for the external_id it was issued to. The
 * table is a ring of BS_NONCES_MAX slots in the order of issue: under a
 * flood of challenge requests the oldest outstanding nonce is dropped to
 * make room (its answer then gets unauthorized), so memory never grows
 * past the ring.
 */
#ifndef BS_CHALLENGE_H
#define BS_CHALLENGE_H

#include "hmap.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BS_NONCE_LEN 32
#define BS_NONCE_SECONDS 60
#define BS_NONCES_MAX 65536

typedef struct bs_nonce_slot {
	bs_hnode_t node;                  /* first: by key */
	char key[2 * BS_NONCE_LEN + 1];   /* the nonce in hex */
	char *external_id;                /* NULL: the slot is free */
	time_t expires;
} bs_nonce_slot_t;

typedef struct bs_nonces {
	bs_nonce_slot_t *ring;            /* BS_NONCES_MAX slots, made at first use */
	size_t next;                      /* the slot the next nonce takes */
	bs_hmap_t live;
} bs_nonces_t;

/* A new nonce for external_id into out. */
int bs_nonces_issue(bs_nonces_t *t, const char *external_id, time_t now,
		uint8_t out[BS_NONCE_LEN]);

/* Uses up nonce: BS_OK when it was issued to external_id and has not
 * expired, BS_ERR_UNAUTHORIZED otherwise. Either way it is gone. */
int bs_nonces_take(bs_nonces_t *t, const uint8_t nonce[BS_NONCE_LEN],
		const char *external_id, time_t now);

/* Nonces outstanding, and the bytes the table holds. */
size_t bs_nonces_count(const bs_nonces_t *t);
size_t bs_nonces_bytes(const bs_nonces_t *t);

void bs_nonces_free(bs_nonces_t *t);

/*
 * Nonces any broker of a shared store can check (protocol 11: a challenge
 * issued by one broker may be answered through another), in
 * challenge_signed.c. Nothing is remembered at issue: the nonce carries
 * its expiry and a random part, and a MAC under a key that every broker
 * of the fleet derives from the master key (bs_nonce_key) binds both to
 * the external_id. That it is used only once is the store's to say
 * (bs_store_nonce_use), when it is answered.
 *
 *   expiry (8 bytes, big-endian Unix seconds) || random (8) || MAC (16)
 */
int bs_nonce_key(const uint8_t master[32], uint8_t out[32]);
int bs_nonce_sign(const uint8_t key[32], const char *external_id, time_t now,
		uint8_t out[BS_NONCE_LEN]);
/* BS_OK with its expiry in *expires when key made nonce for external_id
 * and it has not expired; BS_ERR_UNAUTHORIZED otherwise. */
int bs_nonce_verify(const uint8_t key[32], const uint8_t nonce[BS_NONCE_LEN],
		const char *external_id, time_t now, time_t *expires);

#endif
