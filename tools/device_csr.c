/*
 * Certificate issuance on the device side (protocol 3.3): the device makes
 * its own key pair, sends a PKCS#10 certificate signing request (CSR) for
 * it, and gets back a certificate signed by the plugin's issuing CA. The
 * private key never leaves the device: it is written to a file of its own
 * (0600) once a certificate for it has come back, and only then.
 *
 * All through OpenSSL's EVP interface, so that the same code makes an EC
 * or an RSA key.
 */
#include "device.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

EVP_PKEY *dev_key_new(dev_key_type_t type)
{
	/* P-256 and RSA 2048: the smallest keys the plugin takes, and the
	 * ones every TLS stack a device might use knows. */
	EVP_PKEY *key = type == KEY_RSA
		? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
		: EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (key == NULL)
		fprintf(stderr, DEV_NAME ": cannot make a key pair\n");
	return key;
}

/* What bio holds, as a NUL-terminated string (malloc()ed), or NULL. */
static char *bio_text(BIO *bio)
{
	char *data = NULL, *text;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0 || (text = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(text, data, (size_t)n);
	text[n] = '\0';
	return text;
}

char *dev_csr_new(EVP_PKEY *key, const char *cn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;

	/* The plugin names the certificate after the config's client_id
	 * whatever the CSR asks for; the external ID is the natural name for
	 * a device to ask for. A common name holds at most 64 characters: a
	 * longer ID leaves the subject empty, which PKCS#10 allows. */
	if (req == NULL || name == NULL || bio == NULL)
		goto out;
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
			(const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(name);
		name = X509_NAME_new();
	}
	if (name != NULL &&
			X509_REQ_set_version(req, 0) == 1 &&   /* v1, the only one */
			X509_REQ_set_subject_name(req, name) == 1 &&
			X509_REQ_set_pubkey(req, key) == 1 &&
			/* The signature proves the requester holds the private key. */
			X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
			PEM_write_bio_X509_REQ(bio, req) == 1)
		pem = bio_text(bio);
out:
	if (pem == NULL)
		fprintf(stderr, DEV_NAME ": cannot make the certificate signing request\n");
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return pem;
}

char *dev_key_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;

	/* PKCS#8, unencrypted: what mosquitto's keyfile and most TLS stacks
	 * read. The file it goes to is 0600. */
	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
			NULL) == 1)
		pem = bio_text(bio);
	BIO_free_all(bio);
	return pem;
}

EVP_PKEY *dev_csr_pubkey(const char *csr)
{
	BIO *bio = BIO_new_mem_buf(csr, -1);
	X509_REQ *req = bio != NULL ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	EVP_PKEY *key = req != NULL ? X509_REQ_get_pubkey(req) : NULL;

	X509_REQ_free(req);
	BIO_free(bio);
	return key;
}

int dev_cert_for_key(const char *cert_pem, const EVP_PKEY *key)
{
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	const EVP_PKEY *got = cert != NULL ? X509_get0_pubkey(cert) : NULL;
	int rc = got != NULL && EVP_PKEY_eq(got, key) == 1 ? 0 : -1;

	X509_free(cert);
	BIO_free(bio);
	return rc;
}
