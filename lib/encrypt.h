/*
 * Sealed success replies (protocol 3.1 and 3.2), so that a device behind a
 * listener without TLS still gets its secrets confidentially, and
 * authenticated: key = HKDF-SHA256(IKM = external_key, salt = external_id,
 * info = BS_REPLY_INFO), AES-256-GCM with a fresh random 12-byte IV, AAD =
 * external_id (3.1) or external_id || nonce (3.2).
 */
#ifndef BS_ENCRYPT_H
#define BS_ENCRYPT_H

#include <stddef.h>
#include <stdint.h>

#define BS_REPLY_INFO "mqtt-bootstrap v1 reply"

/*
 * {"id": id, "encrypted": {"alg": "A256GCM", "iv": ..., "data": ...}}
 * (malloc()ed, *len set; no id when id is NULL) sealing plain, the reply
 * without its id; nonce is NULL for 3.1. NULL on failure.
 */
char *bs_encrypt_reply(const char *id, const char *plain, size_t plainlen,
		const char *external_key, const char *external_id,
		const uint8_t *nonce, size_t noncelen, size_t *len);

#endif
