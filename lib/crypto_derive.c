/*
 * The primitives of the encrypted reply and challenge mode (protocol 3.1,
 * 3.2): HKDF-SHA256, HMAC-SHA256 and standard base64, on OpenSSL's EVP.
 */
#include "crypto.h"

#include "error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

int bs_crypto_hkdf(const void *ikm, size_t ikmlen, const void *salt,
		size_t saltlen, const void *info, size_t infolen,
		uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen),
		OSSL_PARAM_construct_end(),
	};
	int rc = ctx != NULL && EVP_KDF_derive(ctx, out, outlen, params) == 1
		? BS_OK : BS_ERR_INTERNAL;

	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	if (rc != BS_OK)
		ERR_clear_error();
	return rc;
}

int bs_crypto_hmac(const void *key, size_t keylen, const void *msg,
		size_t msglen, uint8_t out[BS_SHA256_LEN])
{
	unsigned int len = 0;

	if (keylen > INT_MAX || HMAC(EVP_sha256(), key, (int)keylen, msg, msglen,
			out, &len) == NULL || len != BS_SHA256_LEN) {
		ERR_clear_error();
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

char *bs_b64_encode(const void *in, size_t len)
{
	size_t outlen = (len + 2) / 3 * 4;
	char *out = len <= INT_MAX / 2 ? malloc(outlen + 1) : NULL;

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static int b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		|| (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int bs_b64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
		size_t *outlen)
{
	size_t pad = 0, n;
	uint8_t *buf;

	if (len == 0 || len % 4 != 0 || len > INT_MAX)
		return len == 0 ? (*outlen = 0, BS_OK) : BS_ERR_INVALID;
	while (pad < 2 && text[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		if (!b64_char(text[i]))
			return BS_ERR_INVALID;
	}
	n = len / 4 * 3 - pad;
	if (n > cap || (buf = malloc(len / 4 * 3)) == NULL)
		return n > cap ? BS_ERR_INVALID : BS_ERR_INTERNAL;
	/* EVP_DecodeBlock keeps the bytes the padding stands for: drop them. */
	if (EVP_DecodeBlock(buf, (const unsigned char *)text, (int)len) < 0) {
		free(buf);
		return BS_ERR_INVALID;
	}
	memcpy(out, buf, n);
	OPENSSL_cleanse(buf, len / 4 * 3);
	free(buf);
	*outlen = n;
	return BS_OK;
}
