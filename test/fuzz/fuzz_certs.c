/*
 * libFuzzer target for the certificate and key checks (lib/certs.h): the
 * whole input as a certificate, a CA bundle and a key; then split at its
 * first NUL byte (or in the middle) as a certificate and the key that must
 * match it. Checked: no crash, no leak, 0 or BS_ERR_INVALID with a reason,
 * and nothing left on OpenSSL's error queue, which would grow on the
 * broker's thread with every admin command.
 */
#include "certs.h"
#include "error.h"

#include <openssl/err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void verdict(int rc, const char *err)
{
	if (rc != 0 && (rc != BS_ERR_INVALID || err[0] == '\0'))
		abort();
	if (ERR_peek_error() != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t cut = nul ? (size_t)(nul - data) : size / 2;
	size_t keyat = nul ? cut + 1 : cut;
	char err[256];

	ERR_clear_error();
	err[0] = '\0';
	verdict(bs_certs_check_cert(text, size, err, sizeof err), err);
	err[0] = '\0';
	verdict(bs_certs_check_ca(text, size, err, sizeof err), err);
	err[0] = '\0';
	verdict(bs_certs_check_key(text, size, err, sizeof err), err);
	err[0] = '\0';
	verdict(bs_certs_check_pair(text, cut, text + keyat, size - keyat,
			err, sizeof err), err);
	return 0;
}
