/*
 * The device's cryptography, all through OpenSSL's EVP interface: what a
 * device must compute for an encrypted reply (protocol 3.1) and for
 * challenge mode (3.2).
 */
#include "device.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define IV_LEN 12
#define TAG_LEN 16

char *dev_b64_encode(const uint8_t *data, size_t len)
{
	char *out = len <= INT32_MAX / 2 ? malloc((len + 2) / 3 * 4 + 1) : NULL;

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		|| (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* EVP_DecodeBlock skips surrounding blanks and does not say how many bytes
 * the padding stood for: check the shape first, then subtract it. */
uint8_t *dev_b64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	uint8_t *out;

	if (n % 4 != 0 || n > INT32_MAX)
		return NULL;
	while (pad < 2 && pad < n && text[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++) {
		if (!b64_char((unsigned char)text[i]))
			return NULL;
	}
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	int got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*len = (size_t)got - pad;
	return out;
}

int dev_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[32];

	if (nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
		return -1;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

int dev_reply_key(const char *external_key, const char *external_id,
		uint8_t out[32])
{
	static const char info[] = "mqtt-bootstrap v1 reply";
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t outlen = 32;
	int ok = ctx != NULL
		&& EVP_PKEY_derive_init(ctx) == 1
		&& EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1
		&& EVP_PKEY_CTX_set1_hkdf_salt(ctx, (const unsigned char *)external_id,
				(int)strlen(external_id)) == 1
		&& EVP_PKEY_CTX_set1_hkdf_key(ctx, (const unsigned char *)external_key,
				(int)strlen(external_key)) == 1
		&& EVP_PKEY_CTX_add1_hkdf_info(ctx, (const unsigned char *)info,
				(int)strlen(info)) == 1
		&& EVP_PKEY_derive(ctx, out, &outlen) == 1 && outlen == 32;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

char *dev_proof(const char *external_key, const uint8_t *nonce, size_t nlen,
		const char *external_id)
{
	size_t idlen = strlen(external_id);
	uint8_t *msg = malloc(nlen + idlen), mac[32];
	unsigned int maclen = 0;
	char *proof = NULL;

	if (msg == NULL)
		return NULL;
	memcpy(msg, nonce, nlen);
	memcpy(msg + nlen, external_id, idlen);
	if (HMAC(EVP_sha256(), external_key, (int)strlen(external_key), msg,
			nlen + idlen, mac, &maclen) != NULL && maclen == sizeof mac)
		proof = dev_b64_encode(mac, sizeof mac);
	free(msg);
	OPENSSL_cleanse(mac, sizeof mac);
	return proof;
}

/* AES-256-GCM: data is ciphertext || 16-byte tag. The plaintext (NUL
 * terminated, *ptlen bytes), or NULL when the tag does not verify. */
static char *gcm_open(const uint8_t key[32], const uint8_t iv[IV_LEN],
		const uint8_t *data, size_t len, const uint8_t *aad, size_t aadlen,
		size_t *ptlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t ctlen = len - TAG_LEN;
	char *pt = malloc(ctlen + 1);
	int n = 0, fin = 0;
	int ok = ctx != NULL && pt != NULL && len >= TAG_LEN && ctlen <= INT32_MAX
		&& EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) == 1
		&& EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1
		&& EVP_DecryptUpdate(ctx, (unsigned char *)pt, &n, data, (int)ctlen) == 1
		&& EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				(void *)(data + ctlen)) == 1
		&& EVP_DecryptFinal_ex(ctx, (unsigned char *)pt + n, &fin) == 1;

	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		if (pt != NULL)
			OPENSSL_cleanse(pt, ctlen + 1);
		free(pt);
		return NULL;
	}
	*ptlen = (size_t)(n + fin);
	pt[*ptlen] = '\0';
	return pt;
}

json_t *dev_open_sealed(const json_t *encrypted, const uint8_t key[32],
		const uint8_t *aad, size_t aadlen)
{
	const char *alg = json_string_value(json_object_get(encrypted, "alg"));
	const char *iv64 = json_string_value(json_object_get(encrypted, "iv"));
	const char *data64 = json_string_value(json_object_get(encrypted, "data"));
	size_t ivlen = 0, len = 0, ptlen = 0;
	uint8_t *iv = NULL, *data = NULL;
	char *pt = NULL;
	json_t *cfg = NULL;

	if (alg == NULL || strcmp(alg, "A256GCM") != 0 || iv64 == NULL || data64 == NULL)
		return NULL;
	iv = dev_b64_decode(iv64, &ivlen);
	data = dev_b64_decode(data64, &len);
	if (iv != NULL && ivlen == IV_LEN && data != NULL && len > TAG_LEN)
		pt = gcm_open(key, iv, data, len, aad, aadlen, &ptlen);
	if (pt != NULL) {
		cfg = json_loadb(pt, ptlen, 0, NULL);
		OPENSSL_cleanse(pt, ptlen + 1);
		free(pt);
	}
	free(iv);
	free(data);
	return cfg;
}
