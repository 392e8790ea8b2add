/*
 * Certificate issuance (protocol 3.3): the plugin's issuing CA, loaded and
 * checked at start, signs a certificate for the public key of a device's
 * CSR. The device's private key never reaches the plugin.
 */
#ifndef BS_ISSUE_H
#define BS_ISSUE_H

#include "certs.h"

#include <stddef.h>
#include <time.h>

#define BS_CERT_DAYS_MAX 825
/* Issued certificates start this long before now, for devices whose clock
 * is a little behind. */
#define BS_CERT_BACKDATE 300

typedef struct bs_issuer bs_issuer_t;

/* What bs_issue made. */
typedef struct bs_issued {
	char *pem;                              /* the certificate, malloc()ed */
	char serial[BS_SERIAL_HEX_MAX + 1];     /* lowercase hex */
	time_t not_after;
} bs_issued_t;

/*
 * Loads the CA certificate and its key. Refused (BS_ERR_INVALID, a reason
 * naming the option in err) when a file does not read, the certificate is
 * not a CA (basicConstraints CA:TRUE, keyCertSign when keyUsage is there)
 * or has expired, the key is encrypted, does not match it, or its file is
 * open to group or others.
 */
int bs_issuer_open(const char *cert_path, const char *key_path, int days,
		bs_issuer_t **out, char *err, size_t errlen);
void bs_issuer_close(bs_issuer_t *is);

/* The CA certificate as PEM, for replies whose config has no ca_cert. */
const char *bs_issuer_ca_pem(const bs_issuer_t *is);

/*
 * A certificate for the public key of csr (one PEM PKCS#10 request, len
 * bytes) with subject CN=client_id, as section 3.3 says. BS_ERR_INVALID,
 * with a reason fit for the device in err, when the CSR does not parse,
 * its signature does not verify, or its key is not EC P-256 or P-384,
 * Ed25519, or RSA of 2048 to 8192 bits; BS_ERR_INTERNAL when signing
 * failed.
 */
int bs_issue(const bs_issuer_t *is, const char *csr, size_t len,
		const char *client_id, time_t now, bs_issued_t *out, char *err, size_t errlen);

void bs_issued_free(bs_issued_t *c);

#endif
