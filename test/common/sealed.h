/*
 * Checking sealed replies (protocol 3.1, 3.2) the way a device written
 * elsewhere would: the key by the openssl command (openssl kdf), the proof
 * by openssl dgst -hmac, the decryption with OpenSSL's EVP directly, none
 * of it through the plugin's code. Functions return 0 or -1.
 */
#ifndef BS_TEST_SEALED_H
#define BS_TEST_SEALED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* HKDF-SHA256(external_key, salt external_id, "mqtt-bootstrap v1 reply"). */
int sealed_key(const char *external_key, const char *external_id, uint8_t out[32]);

/* base64(HMAC-SHA256(external_key, nonce || external_id)), with the
 * message written to a file in dir. */
int sealed_proof(const char *dir, const char *external_key,
		const uint8_t nonce[32], const char *external_id, char out[64]);

/* Standard base64 into out (room for strlen(text) * 3 / 4 bytes); the
 * byte count, or -1. */
long sealed_unb64(const char *text, uint8_t *out);

/* The plaintext of reply's "encrypted" object opened with key and aad,
 * parsed (new reference), or NULL when it does not open. */
json_t *sealed_open(const json_t *reply, const uint8_t key[32],
		const void *aad, size_t aadlen);

#endif
