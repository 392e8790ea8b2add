#include "issue.h"

#include "crypto.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SERIAL_BYTES 16
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

struct bs_issuer {
	X509 *ca;
	EVP_PKEY *key;
	char *ca_pem;
	int days;
};

/* Encrypted keys would need a passphrase at every start: refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* "plugin_opt_<option> <path>: why". */
static int fail(char *err, size_t errlen, const char *option, const char *path,
		const char *why)
{
	bs_set_err(err, errlen, "plugin_opt_%s %s: %s", option, path, why);
	ERR_clear_error();
	return BS_ERR_INVALID;
}

static char *pem_of(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem = NULL;
	long n;

	if (bio != NULL && PEM_write_bio_X509(bio, x) == 1
			&& (n = BIO_get_mem_data(bio, &data)) > 0 && (pem = malloc((size_t)n + 1))) {
		memcpy(pem, data, (size_t)n);
		pem[n] = '\0';
	}
	BIO_free(bio);
	return pem;
}

/* The CA certificate: readable, a CA, not expired. */
static int load_ca(bs_issuer_t *is, const char *path, char *err, size_t errlen)
{
	BIO *bio = BIO_new_file(path, "r");
	uint32_t flags;

	is->ca = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (is->ca == NULL)
		return fail(err, errlen, "ca_cert", path, "cannot read a PEM certificate");
	flags = X509_get_extension_flags(is->ca);
	if (X509_check_ca(is->ca) != 1)
		return fail(err, errlen, "ca_cert", path,
				"is not a CA certificate (basicConstraints CA:TRUE)");
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(is->ca) & KU_KEY_CERT_SIGN))
		return fail(err, errlen, "ca_cert", path,
				"its keyUsage does not allow signing certificates");
	if (X509_cmp_current_time(X509_get0_notAfter(is->ca)) <= 0)
		return fail(err, errlen, "ca_cert", path, "has expired");
	if ((is->ca_pem = pem_of(is->ca)) == NULL)
		return fail(err, errlen, "ca_cert", path, "out of memory");
	return BS_OK;
}

/* The CA key: a private file, not encrypted, matching the certificate. */
static int load_key(bs_issuer_t *is, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	BIO *bio;

	if (stat(path, &sb) != 0)
		return fail(err, errlen, "ca_key", path, "cannot be read");
	if (sb.st_mode & (S_IRWXG | S_IRWXO))
		return fail(err, errlen, "ca_key", path,
				"is open to group or others (chmod 600 it)");
	bio = BIO_new_file(path, "r");
	is->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (is->key == NULL)
		return fail(err, errlen, "ca_key", path,
				"cannot read an unencrypted PEM private key");
	if (X509_check_private_key(is->ca, is->key) != 1)
		return fail(err, errlen, "ca_key", path, "does not match ca_cert");
	return BS_OK;
}

int bs_issuer_open(const char *cert_path, const char *key_path, int days,
		bs_issuer_t **out, char *err, size_t errlen)
{
	bs_issuer_t *is = calloc(1, sizeof(*is));
	int rc;

	*out = NULL;
	if (is == NULL)
		return BS_ERR_INTERNAL;
	is->days = days;
	if ((rc = load_ca(is, cert_path, err, errlen)) != BS_OK
			|| (rc = load_key(is, key_path, err, errlen)) != BS_OK) {
		bs_issuer_close(is);
		return rc;
	}
	*out = is;
	return BS_OK;
}

void bs_issuer_close(bs_issuer_t *is)
{
	if (is == NULL)
		return;
	X509_free(is->ca);
	EVP_PKEY_free(is->key);
	free(is->ca_pem);
	free(is);
}

const char *bs_issuer_ca_pem(const bs_issuer_t *is)
{
	return is->ca_pem;
}

/* Only whitespace from p on. */
static int blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	}
	return 1;
}

/* One PEM CSR and nothing else but whitespace. */
static X509_REQ *read_csr(const char *csr, size_t len)
{
	BIO *bio = BIO_new_mem_buf(csr, (int)len);
	X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, no_passphrase, NULL) : NULL;
	char *rest;
	long left = bio ? BIO_get_mem_data(bio, &rest) : 0;

	if (req != NULL && left > 0 && !blank(rest, (size_t)left)) {
		X509_REQ_free(req);
		req = NULL;
	}
	BIO_free(bio);
	return req;
}

/* The key types of section 3.3. */
static const char *refuse_key(EVP_PKEY *key)
{
	char group[64];

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return NULL;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(key) < RSA_MIN_BITS)
			return "csr: an RSA key must have at least 2048 bits";
		return EVP_PKEY_get_bits(key) > RSA_MAX_BITS
			? "csr: an RSA key may have at most 8192 bits" : NULL;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) == 1
				&& (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0))
			return NULL;
		return "csr: an EC key must be on P-256 or P-384";
	default:
		return "csr: the key must be EC P-256 or P-384, Ed25519, or RSA";
	}
}

static int set_serial(X509 *x)
{
	unsigned char b[SERIAL_BYTES];
	BIGNUM *bn;
	ASN1_INTEGER *serial;
	int ok;

	if (bs_crypto_random(b, sizeof(b)) != BS_OK)
		return 0;
	/* Positive, and with a first byte that is not zero: 121 bits at least. */
	b[0] = (unsigned char)((b[0] & 0x7F) | 0x01);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = serial != NULL && X509_set_serialNumber(x, serial) == 1;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;

	X509_EXTENSION_free(ext);
	return ok;
}

/* Subject CN=client_id, the issuer, validity, key, extensions. */
static int fill(const bs_issuer_t *is, X509 *x, EVP_PKEY *pub, const char *client_id,
		time_t now)
{
	X509_NAME *subject = X509_NAME_new();
	X509V3_CTX ctx;
	int ok = subject != NULL && X509_set_version(x, X509_VERSION_3) == 1 && set_serial(x)
		&& X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
			(const unsigned char *)client_id, -1, -1, 0) == 1
		&& X509_set_subject_name(x, subject) == 1
		&& X509_set_issuer_name(x, X509_get_subject_name(is->ca)) == 1
		&& ASN1_TIME_set(X509_getm_notBefore(x), now - BS_CERT_BACKDATE) != NULL
		&& ASN1_TIME_set(X509_getm_notAfter(x), now + (time_t)is->days * 86400) != NULL
		&& X509_set_pubkey(x, pub) == 1;

	X509_NAME_free(subject);
	if (!ok)
		return 0;
	X509V3_set_ctx(&ctx, is->ca, x, NULL, NULL, 0);
	return add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")
		&& add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature")
		&& add_ext(x, &ctx, NID_ext_key_usage, "clientAuth")
		&& add_ext(x, &ctx, NID_subject_key_identifier, "hash")
		&& add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
}

/* SHA-256, or none for keys that hash as they sign (Ed25519, Ed448). */
static const EVP_MD *digest_for(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448 ? NULL : EVP_sha256();
}

static int sign(const bs_issuer_t *is, EVP_PKEY *pub, const char *client_id,
		time_t now, bs_issued_t *out)
{
	X509 *x = X509_new();
	int rc = BS_ERR_INTERNAL;

	if (x != NULL && fill(is, x, pub, client_id, now)
			&& X509_sign(x, is->key, digest_for(is->key)) > 0
			&& bs_certs_serial_hex(x, out->serial) == BS_OK
			&& (out->pem = pem_of(x)) != NULL) {
		out->not_after = now + (time_t)is->days * 86400;
		rc = BS_OK;
	}
	X509_free(x);
	return rc;
}

int bs_issue(const bs_issuer_t *is, const char *csr, size_t len,
		const char *client_id, time_t now, bs_issued_t *out, char *err, size_t errlen)
{
	X509_REQ *req = read_csr(csr, len);
	EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
	const char *why = NULL;
	int rc = BS_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	if (req == NULL || pub == NULL)
		why = "csr: must be one PEM certificate signing request";
	else if ((why = refuse_key(pub)) == NULL && X509_REQ_verify(req, pub) != 1)
		why = "csr: its signature does not verify";
	if (why == NULL)
		rc = sign(is, pub, client_id, now, out);
	if (why != NULL)
		bs_set_err(err, errlen, "%s", why);
	else if (rc != BS_OK)
		bs_set_err(err, errlen, "the certificate could not be signed");
	X509_REQ_free(req);
	ERR_clear_error();
	return rc;
}

void bs_issued_free(bs_issued_t *c)
{
	free(c->pem);
	memset(c, 0, sizeof(*c));
}
