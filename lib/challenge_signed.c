/*
 * Challenge mode's nonces on a store several brokers share (challenge.h):
 * signed at issue, checked at answer, remembered by nobody in between.
 */
#include "challenge.h"

#include "crypto.h"
#include "error.h"
#include "model.h"

#include <string.h>

enum { EXPIRY_LEN = 8, RANDOM_LEN = 8, SIGNED_LEN = EXPIRY_LEN + RANDOM_LEN,
	MAC_LEN = BS_NONCE_LEN - SIGNED_LEN };

int bs_nonce_key(const uint8_t master[32], uint8_t out[32])
{
	static const char salt[] = "mosquitto-bootstrap", info[] = "challenge nonces";

	return bs_crypto_hkdf(master, 32, salt, sizeof(salt) - 1, info, sizeof(info) - 1,
			out, 32);
}

/* The MAC of the nonce's first SIGNED_LEN bytes and external_id. */
static int mac(const uint8_t key[32], const uint8_t *nonce, const char *external_id,
		uint8_t out[BS_SHA256_LEN])
{
	uint8_t msg[SIGNED_LEN + BS_ID_MAX];
	size_t idlen = strlen(external_id);

	if (idlen > BS_ID_MAX)
		return BS_ERR_INVALID;
	memcpy(msg, nonce, SIGNED_LEN);
	memcpy(msg + SIGNED_LEN, external_id, idlen);
	return bs_crypto_hmac(key, 32, msg, SIGNED_LEN + idlen, out);
}

int bs_nonce_sign(const uint8_t key[32], const char *external_id, time_t now,
		uint8_t out[BS_NONCE_LEN])
{
	uint64_t expires = (uint64_t)now + BS_NONCE_SECONDS;
	uint8_t tag[BS_SHA256_LEN];

	for (int i = 0; i < EXPIRY_LEN; i++)
		out[i] = (uint8_t)(expires >> (8 * (EXPIRY_LEN - 1 - i)));
	if (bs_crypto_random(out + EXPIRY_LEN, RANDOM_LEN) != BS_OK
			|| mac(key, out, external_id, tag) != BS_OK)
		return BS_ERR_INTERNAL;
	memcpy(out + SIGNED_LEN, tag, MAC_LEN);
	return BS_OK;
}

int bs_nonce_verify(const uint8_t key[32], const uint8_t nonce[BS_NONCE_LEN],
		const char *external_id, time_t now, time_t *expires)
{
	uint8_t tag[BS_SHA256_LEN];
	uint64_t at = 0;

	*expires = 0;
	if (mac(key, nonce, external_id, tag) != BS_OK
			|| !bs_crypto_equal(tag, MAC_LEN, nonce + SIGNED_LEN, MAC_LEN))
		return BS_ERR_UNAUTHORIZED;
	for (int i = 0; i < EXPIRY_LEN; i++)
		at = at << 8 | nonce[i];
	/* No bound above: only a broker of the fleet signs, and one whose
	 * clock runs ahead of this one's still issued it for 60 seconds. */
	if (at <= (uint64_t)now)
		return BS_ERR_UNAUTHORIZED;
	*expires = (time_t)at;
	return BS_OK;
}
