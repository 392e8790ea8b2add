/*
 * libFuzzer target for certificate issuance (lib/issue.h): the whole input
 * as a device's CSR, signed by an issuing CA made with openssl at start.
 * Checked: no crash, no leak, BS_ERR_INVALID with a reason or a
 * certificate, and nothing left on OpenSSL's error queue.
 */
#include "error.h"
#include "issue.h"
#include "pki.h"
#include "tmpdir.h"

#include <openssl/err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bs_issuer_t *issuer;
static char dir[64];

static void cleanup(void)
{
	bs_issuer_close(issuer);
	tmpdir_remove(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char cert[128], key[128], err[256];

	(void)argc;
	(void)argv;
	if (tmpdir_make(dir, sizeof(dir), "/tmp/bs-fuzz-csr-XXXXXX") != 0
			|| pki_ca(dir, "ca", "ec") != 0)
		abort();
	snprintf(cert, sizeof(cert), "%s/ca.pem", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	chmod(key, 0600);
	if (bs_issuer_open(cert, key, 30, &issuer, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bs_issued_t out;
	char err[128] = "";
	int rc = bs_issue(issuer, (const char *)data, size, "cid-1", 1767323045, &out,
			err, sizeof(err));

	if (rc == BS_OK && (out.pem == NULL || strlen(out.serial) < 16))
		abort();
	if (rc != BS_OK && (rc != BS_ERR_INVALID || err[0] == '\0' || out.pem != NULL))
		abort();
	if (ERR_peek_error() != 0)
		abort();
	bs_issued_free(&out);
	return 0;
}
