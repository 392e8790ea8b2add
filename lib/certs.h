/*
 * Checks of the certificate material a config carries. Input is text as the
 * admin sent it: PEM, or one base64 DER blob (whitespace allowed). Nothing is
 * rewritten: a value that passes is stored and served exactly as given.
 *
 * Every function returns 0 or BS_ERR_INVALID, with a one-line reason in err
 * that never contains key material.
 */
#ifndef BS_CERTS_H
#define BS_CERTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A serial as lowercase hex, at most 64 bytes of it (RFC 5280 says 20). */
#define BS_SERIAL_HEX_MAX 128

/* Exactly one X.509 certificate. */
int bs_certs_check_cert(const char *text, size_t len, char *err, size_t errlen);

/* One or more X.509 certificates (a PEM bundle), or one base64 DER cert. */
int bs_certs_check_ca(const char *text, size_t len, char *err, size_t errlen);

/* One private key (PKCS#8, traditional RSA/EC PEM, or base64 DER). */
int bs_certs_check_key(const char *text, size_t len, char *err, size_t errlen);

/* 0 when the private key matches the certificate's public key. */
int bs_certs_check_pair(const char *cert, size_t certlen,
		const char *key, size_t keylen, char *err, size_t errlen);

/* 1 when the certificate in text (as stored) is the one presented (an
 * X509 *, borrowed), compared by their DER encodings; 0 otherwise. */
int bs_certs_same(const char *text, size_t len, const void *presented);

/* The SHA-256 of the DER encoding of the certificate in text (as stored),
 * or of a presented one (an X509 *, borrowed): two certificates are the
 * same for bs_certs_same when their digests are. BS_OK, or BS_ERR_INVALID
 * for text that holds no certificate. */
int bs_certs_digest(const char *text, size_t len, uint8_t out[32]);
int bs_certs_digest_x509(const void *x, uint8_t out[32]);

/* The serial of the one certificate in text, as lowercase hex, and the end
 * of its validity. */
int bs_certs_info(const char *text, size_t len, char serial[BS_SERIAL_HEX_MAX + 1],
		time_t *not_after);

/* The serial of x (an X509 *) as lowercase hex; BS_ERR_INVALID when it is
 * longer than BS_SERIAL_HEX_MAX. */
int bs_certs_serial_hex(const void *x, char serial[BS_SERIAL_HEX_MAX + 1]);

#endif
