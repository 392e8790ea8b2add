/*
 * Cryptography for the core, on OpenSSL EVP only.
 *
 * Sealed format (what the store keeps for each secret column):
 *     iv (12 bytes) || ciphertext || tag (16 bytes)
 * AES-256-GCM under the 32-byte master key; the additional data binds the
 * ciphertext to its row and column, so a sealed value copied to another row
 * or column fails to open.
 *
 * Every function returns 0 (BS_OK) or a negative bs_err_t; buffers the
 * function allocates are malloc()ed and belong to the caller.
 */
#ifndef BS_CRYPTO_H
#define BS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define BS_KEY_LEN 32
#define BS_GCM_IV_LEN 12
#define BS_GCM_TAG_LEN 16
#define BS_SEAL_OVERHEAD (BS_GCM_IV_LEN + BS_GCM_TAG_LEN)
#define BS_UUID_LEN 36     /* without the NUL */
#define BS_SECRET_LEN 43   /* 32 random bytes, base64url without padding */

/*
 * Loads the master key from path: the file holds exactly 64 hex digits,
 * optionally followed by one newline. When the file does not exist it is
 * created with mode 0600 holding a fresh random key. Anything else (wrong
 * length, non-hex, unreadable) is refused with a one-line reason in err.
 */
int bs_crypto_key_load(const char *path, uint8_t key[BS_KEY_LEN],
		char *err, size_t errlen);

/* in as 2 * len lower-case hex digits into out (no NUL added). */
void bs_hex_encode(const uint8_t *in, size_t len, char *out);

/* len bytes from the OpenSSL CSPRNG. */
int bs_crypto_random(void *buf, size_t len);

/* A random UUID v4, lower-case, NUL-terminated, in out[BS_UUID_LEN + 1]. */
int bs_crypto_uuid4(char out[BS_UUID_LEN + 1]);

/* 256 random bits as URL-safe base64 text, NUL-terminated. */
int bs_crypto_secret(char out[BS_SECRET_LEN + 1]);
/* 32 bytes as URL-safe base64 without padding, NUL-terminated. */
int bs_crypto_b64url32(const uint8_t raw[32], char out[BS_SECRET_LEN + 1]);

/* Seals pt into *out (malloc()ed, *outlen = ptlen + BS_SEAL_OVERHEAD). */
int bs_crypto_seal(const uint8_t key[BS_KEY_LEN],
		const void *aad, size_t aadlen,
		const void *pt, size_t ptlen,
		uint8_t **out, size_t *outlen);

/*
 * Opens a sealed value. *pt is malloc()ed with one extra NUL byte after
 * *ptlen bytes, so text secrets can be used as C strings. A wrong key, a
 * wrong aad, a truncated or altered input gives BS_ERR_INTERNAL.
 */
int bs_crypto_open(const uint8_t key[BS_KEY_LEN],
		const void *aad, size_t aadlen,
		const uint8_t *in, size_t inlen,
		uint8_t **pt, size_t *ptlen);

/*
 * 1 when a and b hold the same bytes, 0 otherwise. Time depends on blen
 * only, never on where the inputs differ, nor on alen (pass the stored
 * secret as b).
 */
int bs_crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/* ---- the device modes' primitives (crypto_derive.c) ------------------ */

#define BS_SHA256_LEN 32

/* HKDF-SHA256 (RFC 5869) of ikm with salt and info into out[outlen]. */
int bs_crypto_hkdf(const void *ikm, size_t ikmlen, const void *salt,
		size_t saltlen, const void *info, size_t infolen,
		uint8_t *out, size_t outlen);

/* HMAC-SHA256 of msg under key into out. */
int bs_crypto_hmac(const void *key, size_t keylen, const void *msg,
		size_t msglen, uint8_t out[BS_SHA256_LEN]);

/* Standard base64 with padding (RFC 4648 section 4), malloc()ed and
 * NUL-terminated; NULL when out of memory. */
char *bs_b64_encode(const void *in, size_t len);

/*
 * Decodes standard base64 with padding into out (at most cap bytes);
 * BS_ERR_INVALID for any other text (whitespace, a bad length, bad
 * characters or padding, more than cap bytes).
 */
int bs_b64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
		size_t *outlen);

/* Frees the calling thread's cached cipher contexts (they hold a key
 * schedule); the next seal or open makes them again. */
void bs_crypto_release(void);

/* Zeroes len bytes at p and frees it; NULL is fine. */
void bs_crypto_free_secret(void *p, size_t len);

#endif
