#include "encrypt.h"

#include "crypto.h"
#include "error.h"
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

/* AES-256-GCM of plain under key with aad: iv || ciphertext || tag. */
static int seal(const char *external_key, const char *external_id,
		const uint8_t *nonce, size_t noncelen, const char *plain,
		size_t plainlen, uint8_t **out, size_t *outlen)
{
	size_t idlen = strlen(external_id);
	uint8_t key[BS_KEY_LEN], *aad = malloc(idlen + noncelen + 1);
	int rc = BS_ERR_INTERNAL;

	if (aad == NULL)
		return rc;
	memcpy(aad, external_id, idlen);
	if (noncelen > 0)
		memcpy(aad + idlen, nonce, noncelen);
	if (bs_crypto_hkdf(external_key, strlen(external_key), external_id, idlen,
			BS_REPLY_INFO, sizeof(BS_REPLY_INFO) - 1, key, sizeof(key)) == BS_OK)
		rc = bs_crypto_seal(key, aad, idlen + noncelen, plain, plainlen, out, outlen);
	explicit_bzero(key, sizeof(key));
	free(aad);
	return rc;
}

char *bs_encrypt_reply(const char *id, const char *plain, size_t plainlen,
		const char *external_key, const char *external_id,
		const uint8_t *nonce, size_t noncelen, size_t *len)
{
	uint8_t *sealed = NULL;
	size_t sealedlen = 0;
	char *iv = NULL, *data = NULL, *out = NULL;
	jw_t w;

	if (seal(external_key, external_id, nonce, noncelen, plain, plainlen,
			&sealed, &sealedlen) != BS_OK)
		return NULL;
	iv = bs_b64_encode(sealed, BS_GCM_IV_LEN);
	data = bs_b64_encode(sealed + BS_GCM_IV_LEN, sealedlen - BS_GCM_IV_LEN);
	if (iv != NULL && data != NULL) {
		jw_init(&w);
		jw_object_begin(&w);
		if (id != NULL)
			jw_member(&w, "id", id);
		jw_key(&w, "encrypted");
		jw_object_begin(&w);
		jw_member(&w, "alg", "A256GCM");
		jw_member(&w, "iv", iv);
		jw_member(&w, "data", data);
		jw_object_end(&w);
		jw_object_end(&w);
		out = jw_finish(&w, len);
	}
	free(iv);
	free(data);
	free(sealed);
	return out;
}
