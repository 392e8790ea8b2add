#include "sealed.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* What cmd prints, read into out (at most cap bytes); the count, or -1. */
static long capture(const char *cmd, uint8_t *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	if (p == NULL)
		return -1;
	n = fread(out, 1, cap, p);
	return pclose(p) == 0 ? (long)n : -1;
}

int sealed_key(const char *external_key, const char *external_id, uint8_t out[32])
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "openssl kdf -keylen 32 -kdfopt digest:SHA256 "
			"-kdfopt 'key:%s' -kdfopt 'salt:%s' "
			"-kdfopt 'info:mqtt-bootstrap v1 reply' -binary HKDF",
			external_key, external_id);
	return capture(cmd, out, 32) == 32 ? 0 : -1;
}

int sealed_proof(const char *dir, const char *external_key,
		const uint8_t nonce[32], const char *external_id, char out[64])
{
	char path[512], cmd[1024];
	uint8_t mac[32];
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "%s/proof-msg", dir);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(nonce, 1, 32, f) == 32
		&& fwrite(external_id, 1, strlen(external_id), f) == strlen(external_id);
	if (fclose(f) != 0 || !ok)
		return -1;
	snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -hmac '%s' -binary '%s'",
			external_key, path);
	if (capture(cmd, mac, sizeof mac) != 32)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, mac, 32);
	return 0;
}

long sealed_unb64(const char *text, uint8_t *out)
{
	size_t len = strlen(text);
	int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);

	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	return n - (len > 0 && text[len - 1] == '=') - (len > 1 && text[len - 2] == '=');
}

json_t *sealed_open(const json_t *reply, const uint8_t key[32],
		const void *aad, size_t aadlen)
{
	json_t *enc = json_object_get(reply, "encrypted");
	const char *alg = json_string_value(json_object_get(enc, "alg"));
	const char *iv64 = json_string_value(json_object_get(enc, "iv"));
	const char *data64 = json_string_value(json_object_get(enc, "data"));
	uint8_t iv[24], data[12288], pt[12288];
	long ivlen, datalen;
	int n = 0, fin = 0, ok;
	EVP_CIPHER_CTX *ctx;

	if (alg == NULL || strcmp(alg, "A256GCM") != 0 || iv64 == NULL || data64 == NULL
			|| strlen(iv64) > 16 || strlen(data64) > sizeof(data) * 4 / 3 - 4)
		return NULL;
	ivlen = sealed_unb64(iv64, iv);
	datalen = sealed_unb64(data64, data);
	if (ivlen != 12 || datalen <= 16 || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) == 1
		&& EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1
		&& EVP_DecryptUpdate(ctx, pt, &n, data, (int)datalen - 16) == 1
		&& EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
			data + datalen - 16) == 1
		&& EVP_DecryptFinal_ex(ctx, pt + n, &fin) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? json_loadb((char *)pt, (size_t)(n + fin), 0, NULL) : NULL;
}
