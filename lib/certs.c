/*
 * Checks of certificate and key text before a config stores it. The text
 * is later served to devices byte for byte, so the checks are strict about
 * what surrounds the material too: a value given as a certificate must not
 * smuggle anything else (a private key above all) in a second PEM block or
 * in text OpenSSL's readers would silently skip.
 */
#include "certs.h"

#include "error.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

/* What pem_next() found. */
enum {
	PEM_BROKEN = -2, /* a block that does not parse (truncated, bad base64) */
	PEM_JUNK = -1,   /* text other than whitespace outside the blocks */
	PEM_END = 0,     /* only whitespace left */
	PEM_BLOCK = 1,   /* one block read */
};

typedef struct {
	char *name;          /* the label after BEGIN */
	char *header;        /* RFC 1421 headers, "" when none */
	unsigned char *data; /* the decoded DER */
	long len;
} pem_block_t;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

static size_t skip_space(const char *p, size_t len)
{
	size_t i = 0;
	while (i < len && is_space(p[i]))
		i++;
	return i;
}

static bool is_b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Refuses what no certificate or key text can be. */
static int check_text(const char *text, size_t len, const char *what,
		char *err, size_t errlen)
{
	if (text == NULL || skip_space(text, len) == len) {
		bs_set_err(err, errlen, "%s is empty", what);
		return BS_ERR_INVALID;
	}
	/* OpenSSL's PEM reader stops at a NUL; what follows would be unseen. */
	if (memchr(text, '\0', len) != NULL) {
		bs_set_err(err, errlen, "%s contains a NUL byte", what);
		return BS_ERR_INVALID;
	}
	if (len > INT_MAX) {
		bs_set_err(err, errlen, "%s is too large", what);
		return BS_ERR_INVALID;
	}
	return BS_OK;
}

/* PEM when the first non-space text opens a block; base64 DER otherwise. */
static bool is_pem(const char *text, size_t len)
{
	size_t i = skip_space(text, len);
	return len - i >= 5 && memcmp(text + i, "-----", 5) == 0;
}

static void pem_block_clear(pem_block_t *b)
{
	OPENSSL_free(b->name);
	OPENSSL_free(b->header);
	/* The data may be a private key. */
	OPENSSL_clear_free(b->data, b->len > 0 ? (size_t)b->len : 0);
	memset(b, 0, sizeof *b);
}

/*
 * Reads the next block of a memory BIO into b (cleared first). Checks that
 * only whitespace comes before it, since PEM_read_bio() itself skips any
 * line that does not open a block.
 */
static int pem_next(BIO *bio, pem_block_t *b)
{
	static const char begin[] = "-----BEGIN ";
	char *rest = NULL;

	pem_block_clear(b);
	long left = BIO_get_mem_data(bio, &rest);
	if (left <= 0)
		return PEM_END;
	size_t n = (size_t)left, i = skip_space(rest, n);
	if (i == n)
		return PEM_END;
	if (n - i < sizeof begin - 1 ||
			memcmp(rest + i, begin, sizeof begin - 1) != 0)
		return PEM_JUNK;
	if (!PEM_read_bio(bio, &b->name, &b->header, &b->data, &b->len))
		return PEM_BROKEN;
	return PEM_BLOCK;
}

/*
 * One base64 blob, whitespace allowed anywhere, into OPENSSL_malloc()ed
 * DER; NULL when it is not strict base64. Scratch copies are cleansed as
 * they may hold a key.
 */
static unsigned char *b64_decode(const char *text, size_t len, size_t *derlen)
{
	unsigned char *clean = OPENSSL_malloc(len + 1), *der = NULL;
	size_t n = 0, pad = 0;

	if (clean == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!is_space(text[i]))
			clean[n++] = (unsigned char)text[i];
	while (pad < 2 && pad < n && clean[n - 1 - pad] == '=')
		pad++;
	if (n == 0 || n % 4 != 0)
		goto out;
	for (size_t i = 0; i < n - pad; i++)
		if (!is_b64_char(clean[i]))
			goto out;
	der = OPENSSL_malloc(n / 4 * 3);
	if (der == NULL)
		goto out;
	/* EVP_DecodeBlock counts the padding as zero bytes: take it off. */
	int got = EVP_DecodeBlock(der, clean, (int)n);
	if (got < 0 || (size_t)got < pad) {
		OPENSSL_clear_free(der, n / 4 * 3);
		der = NULL;
		goto out;
	}
	*derlen = (size_t)got - pad;
out:
	OPENSSL_clear_free(clean, len + 1);
	return der;
}

/* DER holding one certificate and nothing after it. */
static X509 *der_to_cert(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int load_b64_cert(const char *text, size_t len, X509 **out,
		char *err, size_t errlen)
{
	size_t derlen = 0;
	unsigned char *der = b64_decode(text, len, &derlen);
	X509 *x = der != NULL ? der_to_cert(der, derlen) : NULL;

	OPENSSL_free(der);
	if (x == NULL) {
		bs_set_err(err, errlen, "not a PEM or base64 DER certificate");
		return BS_ERR_INVALID;
	}
	*out = x;
	return BS_OK;
}

/* PEM CERTIFICATE blocks only; with one, exactly one. */
static int load_pem_certs(const char *text, size_t len, bool one, X509 **out,
		char *err, size_t errlen)
{
	pem_block_t b = {0};
	X509 *head = NULL;
	int count = 0, got, rc = BS_ERR_INVALID;
	BIO *bio = BIO_new_mem_buf(text, (int)len);

	if (bio == NULL) {
		bs_set_err(err, errlen, "out of memory");
		return BS_ERR_INTERNAL;
	}
	while ((got = pem_next(bio, &b)) == PEM_BLOCK) {
		if (strcmp(b.name, PEM_STRING_X509) != 0) {
			bs_set_err(err, errlen,
					"found a PEM block that is not a certificate");
			goto out;
		}
		if (one && count > 0) {
			bs_set_err(err, errlen, "expected one certificate, found more");
			goto out;
		}
		X509 *x = der_to_cert(b.data, (size_t)b.len);
		if (x == NULL) {
			bs_set_err(err, errlen, "certificate cannot be parsed");
			goto out;
		}
		if (head == NULL)
			head = x;
		else
			X509_free(x);
		count++;
	}
	if (got == PEM_JUNK) {
		bs_set_err(err, errlen, "unexpected text around the PEM certificate");
		goto out;
	}
	if (got == PEM_BROKEN || head == NULL) {
		bs_set_err(err, errlen, "not a PEM or base64 DER certificate");
		goto out;
	}
	*out = head;
	head = NULL;
	rc = BS_OK;
out:
	X509_free(head);
	pem_block_clear(&b);
	BIO_free(bio);
	return rc;
}

/* *out gets the first certificate of text, owned by the caller. */
static int load_certs(const char *text, size_t len, bool one, X509 **out,
		char *err, size_t errlen)
{
	int rc = check_text(text, len, "certificate", err, errlen);
	if (rc != BS_OK)
		return rc;
	if (is_pem(text, len))
		return load_pem_certs(text, len, one, out, err, errlen);
	return load_b64_cert(text, len, out, err, errlen);
}

/*
 * The PEM reader's password callback. Being called means the key is
 * encrypted: note it and fail, rather than let OpenSSL prompt on a tty.
 */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)u = true;
	return -1;
}

static bool is_key_label(const char *name)
{
	return strcmp(name, PEM_STRING_PKCS8INF) == 0 ||
		strcmp(name, PEM_STRING_RSA) == 0 ||
		strcmp(name, PEM_STRING_ECPRIVATEKEY) == 0;
}

/* PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key with Proc-Type. */
static bool is_encrypted_block(const pem_block_t *b)
{
	return strcmp(b->name, PEM_STRING_PKCS8) == 0 ||
		(b->header != NULL && strstr(b->header, "ENCRYPTED") != NULL);
}

/* Checks text is exactly one unencrypted private key block. */
static int check_key_blocks(BIO *bio, char *err, size_t errlen)
{
	pem_block_t b = {0};
	int rc = BS_ERR_INVALID;
	int got = pem_next(bio, &b);

	if (got == PEM_BLOCK && is_encrypted_block(&b))
		bs_set_err(err, errlen, "encrypted private keys are not accepted");
	else if (got == PEM_BLOCK && !is_key_label(b.name))
		bs_set_err(err, errlen, "found a PEM block that is not a "
				"PKCS#8, RSA or EC private key");
	else if (got == PEM_BLOCK && (got = pem_next(bio, &b)) == PEM_BLOCK)
		bs_set_err(err, errlen, "expected one private key, found more");
	else if (got == PEM_JUNK)
		bs_set_err(err, errlen, "unexpected text around the PEM private key");
	else if (got != PEM_END)
		bs_set_err(err, errlen, "not a PEM or base64 DER private key");
	else
		rc = BS_OK;
	pem_block_clear(&b);
	return rc;
}

static int load_pem_key(const char *text, size_t len, EVP_PKEY **out,
		char *err, size_t errlen)
{
	bool asked = false;
	int rc = BS_ERR_INVALID;
	BIO *bio = BIO_new_mem_buf(text, (int)len);

	if (bio == NULL) {
		bs_set_err(err, errlen, "out of memory");
		return BS_ERR_INTERNAL;
	}
	/* PEM_read_bio_PrivateKey alone would skip a certificate before it. */
	rc = check_key_blocks(bio, err, errlen);
	if (rc != BS_OK)
		goto out;
	rc = BS_ERR_INVALID;
	if (BIO_reset(bio) <= 0) {
		bs_set_err(err, errlen, "private key cannot be read again");
		goto out;
	}
	/* Parsed again so the label picks the decoder (PKCS#8, RSA, EC). */
	*out = PEM_read_bio_PrivateKey(bio, NULL, no_password, &asked);
	if (*out == NULL) {
		bs_set_err(err, errlen, asked ?
				"encrypted private keys are not accepted" :
				"private key cannot be parsed");
		goto out;
	}
	rc = BS_OK;
out:
	BIO_free(bio);
	return rc;
}

/* EncryptedPrivateKeyInfo is an X509_SIG in OpenSSL's ASN.1 tables. */
static bool is_encrypted_der(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	/* A plain key fails this probe: drop only the errors it queues. */
	ERR_set_mark();
	X509_SIG *sig = d2i_X509_SIG(NULL, &p, (long)len);
	bool yes = sig != NULL && p == der + len;
	X509_SIG_free(sig);
	ERR_pop_to_mark();
	return yes;
}

static int load_b64_key(const char *text, size_t len, EVP_PKEY **out,
		char *err, size_t errlen)
{
	size_t derlen = 0;
	unsigned char *der = b64_decode(text, len, &derlen);
	const unsigned char *p = der;
	int rc = BS_ERR_INVALID;

	if (der == NULL) {
		bs_set_err(err, errlen, "not a PEM or base64 DER private key");
		return rc;
	}
	/* Checked first, so no decoder ever looks for a password. */
	if (is_encrypted_der(der, derlen)) {
		bs_set_err(err, errlen, "encrypted private keys are not accepted");
		goto out;
	}
	*out = d2i_AutoPrivateKey(NULL, &p, (long)derlen);
	if (*out != NULL && p != der + derlen) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	if (*out == NULL) {
		bs_set_err(err, errlen, "not a PEM or base64 DER private key");
		goto out;
	}
	rc = BS_OK;
out:
	OPENSSL_clear_free(der, derlen);
	return rc;
}

static int load_key(const char *text, size_t len, EVP_PKEY **out,
		char *err, size_t errlen)
{
	int rc = check_text(text, len, "private key", err, errlen);
	if (rc != BS_OK)
		return rc;
	if (is_pem(text, len))
		return load_pem_key(text, len, out, err, errlen);
	return load_b64_key(text, len, out, err, errlen);
}

/* Failed parses leave errors queued; later OpenSSL users must not see them. */
static int finish(int rc)
{
	if (rc != BS_OK)
		ERR_clear_error();
	return rc;
}

int bs_certs_check_cert(const char *text, size_t len, char *err, size_t errlen)
{
	X509 *x = NULL;
	int rc = load_certs(text, len, true, &x, err, errlen);
	X509_free(x);
	return finish(rc);
}

int bs_certs_check_ca(const char *text, size_t len, char *err, size_t errlen)
{
	X509 *x = NULL;
	int rc = load_certs(text, len, false, &x, err, errlen);
	X509_free(x);
	return finish(rc);
}

int bs_certs_check_key(const char *text, size_t len, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	int rc = load_key(text, len, &pkey, err, errlen);
	EVP_PKEY_free(pkey);
	return finish(rc);
}

int bs_certs_check_pair(const char *cert, size_t certlen,
		const char *key, size_t keylen, char *err, size_t errlen)
{
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = load_certs(cert, certlen, true, &x, err, errlen);
	if (rc == BS_OK)
		rc = load_key(key, keylen, &pkey, err, errlen);
	if (rc == BS_OK) {
		/* Compares public parts; -1 when the key types differ. */
		EVP_PKEY *pub = X509_get0_pubkey(x);
		if (pub == NULL || EVP_PKEY_eq(pub, pkey) != 1) {
			bs_set_err(err, errlen,
					"private key does not match the certificate");
			rc = BS_ERR_INVALID;
		}
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return finish(rc);
}

int bs_certs_same(const char *text, size_t len, const void *presented)
{
	X509 *x = NULL;
	int same = load_certs(text, len, true, &x, NULL, 0) == BS_OK
		&& presented != NULL && X509_cmp(x, presented) == 0;

	X509_free(x);
	ERR_clear_error();
	return same;
}

int bs_certs_digest_x509(const void *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	int len = x != NULL ? i2d_X509((X509 *)x, &der) : -1;
	int ok = len > 0 && SHA256(der, (size_t)len, out) != NULL;

	OPENSSL_free(der);
	return ok ? BS_OK : BS_ERR_INVALID;
}

int bs_certs_digest(const char *text, size_t len, uint8_t out[32])
{
	X509 *x = NULL;
	int rc = load_certs(text, len, true, &x, NULL, 0);

	if (rc == BS_OK)
		rc = bs_certs_digest_x509(x, out);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

int bs_certs_serial_hex(const void *x, char serial[BS_SERIAL_HEX_MAX + 1])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	int rc = BS_ERR_INVALID;

	if (hex != NULL && strlen(hex) <= BS_SERIAL_HEX_MAX) {
		for (size_t i = 0; hex[i] != '\0'; i++)
			serial[i] = (char)tolower((unsigned char)hex[i]);
		serial[strlen(hex)] = '\0';
		rc = BS_OK;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return rc;
}

int bs_certs_info(const char *text, size_t len, char serial[BS_SERIAL_HEX_MAX + 1],
		time_t *not_after)
{
	X509 *x = NULL;
	struct tm tm;
	int rc = load_certs(text, len, true, &x, NULL, 0);

	if (rc == BS_OK)
		rc = bs_certs_serial_hex(x, serial);
	if (rc == BS_OK && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		rc = BS_ERR_INVALID;
	if (rc == BS_OK)
		*not_after = timegm(&tm);
	X509_free(x);
	return finish(rc);
}
