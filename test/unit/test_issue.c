/*
 * Certificate issuance (protocol 3.3, lib/issue.c): the issuing CA's checks
 * at start, the certificates it signs for CSRs made by the openssl command
 * (each checked by openssl verify and by its fields), the CSRs it refuses,
 * and the whole path through bs_device_handle: stored, shown in reads,
 * renewed, found by listConfigs' cert_expires_before.
 */
#include "admin_env.h"
#include "cu_main.h"
#include "device.h"
#include "error.h"
#include "issue.h"
#include "pki.h"
#include "sealed.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T(fn) {#fn, fn}
#define KEY "the-device-key-1"
#define DAYS 30

static char ca_pem[600], ca_key[600];

static const char *in_env(const char *name)
{
	static char path[4][600];
	static int next;
	char *p = path[next++ % 4];

	env_path(p, 600, name);
	return p;
}

/* A fresh environment with an issuing CA of type and a core using it. */
static void open_issuing(const char *type)
{
	char days[8];

	env_open();
	bs_core_close(env.core);
	env.core = NULL;
	CU_ASSERT_EQUAL_FATAL(pki_ca(env.dir, "ca", type), 0);
	snprintf(ca_pem, sizeof(ca_pem), "%s", in_env("ca.pem"));
	snprintf(ca_key, sizeof(ca_key), "%s", in_env("ca.key"));
	chmod(ca_key, 0600);
	snprintf(days, sizeof(days), "%d", DAYS);
	const char *extra[] = { "ca_cert", ca_pem, "ca_key", ca_key, "cert_days", days, NULL };
	CU_ASSERT_EQUAL_FATAL(open_core_with(extra), BS_OK);
}

/* ---- the issuing CA at start ---------------------------------------------- */

static void expect_refused(const char *cert, const char *key, const char *want)
{
	bs_issuer_t *is = NULL;
	char err[256] = "";

	CU_ASSERT_EQUAL(bs_issuer_open(cert, key, DAYS, &is, err, sizeof(err)), BS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(is);
	if (strstr(err, want) == NULL)
		printf("\n    want \"%s\" in \"%s\"\n", want, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_bad_issuing_ca_is_refused_naming_the_option(void)
{
	char leaf_key[600], leaf_pem[600], enc_key[600];
	bs_issuer_t *is = NULL;
	char err[256];

	open_issuing("ec");
	snprintf(leaf_key, sizeof(leaf_key), "%s", in_env("leaf.key"));
	snprintf(leaf_pem, sizeof(leaf_pem), "%s", in_env("leaf.pem"));
	snprintf(enc_key, sizeof(enc_key), "%s", in_env("enc.key"));
	char *leaf[] = { "openssl", "req", "-x509", "-new", "-key", leaf_key,
		"-subj", "/CN=leaf", "-days", "5", "-addext", "basicConstraints=CA:FALSE",
		"-out", leaf_pem, NULL };
	char *enc[] = { "openssl", "pkey", "-in", ca_key, "-aes256",
		"-passout", "pass:secret", "-out", enc_key, NULL };
	CU_ASSERT_EQUAL_FATAL(pki_key(env.dir, "leaf", "ec"), 0);
	CU_ASSERT_EQUAL_FATAL(pki_run(env.dir, leaf), 0);
	CU_ASSERT_EQUAL_FATAL(pki_ca(env.dir, "other", "ec"), 0);
	CU_ASSERT_EQUAL_FATAL(pki_run(env.dir, enc), 0);
	chmod(in_env("leaf.key"), 0600);
	chmod(in_env("other.key"), 0600);
	chmod(in_env("enc.key"), 0600);
	expect_refused(in_env("missing.pem"), ca_key, "ca_cert");
	expect_refused(in_env("leaf.pem"), in_env("leaf.key"), "is not a CA certificate");
	expect_refused(ca_pem, in_env("other.key"), "ca_key");
	expect_refused(ca_pem, in_env("other.key"), "does not match ca_cert");
	expect_refused(ca_pem, in_env("enc.key"), "unencrypted");
	chmod(ca_key, 0640);
	expect_refused(ca_pem, ca_key, "open to group or others");
	chmod(ca_key, 0600);
	CU_ASSERT_EQUAL(bs_issuer_open(ca_pem, ca_key, DAYS, &is, err, sizeof(err)), BS_OK);
	bs_issuer_close(is);
	env_close();
}

/* ---- what is issued ------------------------------------------------------- */

static X509 *parse_pem(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return x;
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	return ASN1_TIME_to_tm(t, &tm) == 1 ? timegm(&tm) : 0;
}

/* Every field of section 3.3, read back by OpenSSL. */
static void check_fields(const char *pem, const char *client_id, time_t now)
{
	X509 *x = parse_pem(pem);
	char cn[300] = "";
	const ASN1_INTEGER *serial;
	BIGNUM *bn;

	CU_ASSERT_FATAL(x != NULL);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	CU_ASSERT_STRING_EQUAL(cn, client_id);
	CU_ASSERT_EQUAL(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	CU_ASSERT_EQUAL(X509_get_version(x), X509_VERSION_3);
	serial = X509_get0_serialNumber(x);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	CU_ASSERT(BN_num_bits(bn) >= 64 && !BN_is_negative(bn));
	BN_free(bn);
	CU_ASSERT_EQUAL(asn1_time(X509_get0_notBefore(x)), now - BS_CERT_BACKDATE);
	CU_ASSERT_EQUAL(asn1_time(X509_get0_notAfter(x)), now + DAYS * 86400);
	CU_ASSERT_EQUAL(X509_check_ca(x), 0);
	CU_ASSERT(X509_get_extension_flags(x) & EXFLAG_BCONS);
	CU_ASSERT_EQUAL(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	CU_ASSERT_EQUAL(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	CU_ASSERT_PTR_NOT_NULL(X509_get0_subject_key_id(x));
	CU_ASSERT_PTR_NOT_NULL(X509_get0_authority_key_id(x));
	for (int nid = NID_basic_constraints; nid; nid = nid == NID_basic_constraints
			? NID_key_usage : 0) {
		int at = X509_get_ext_by_NID(x, nid, -1);
		CU_ASSERT(at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, at)) == 1);
	}
	X509_free(x);
}

/* openssl verify -CAfile ca.pem accepts it as a TLS client certificate. */
static void check_verifies(const char *pem)
{
	FILE *f = fopen(in_env("issued.pem"), "w");
	char *argv[] = { "openssl", "verify", "-CAfile", ca_pem, "-purpose", "sslclient",
		(char *)in_env("issued.pem"), NULL };

	CU_ASSERT_FATAL(f != NULL);
	fputs(pem, f);
	fclose(f);
	CU_ASSERT_EQUAL(pki_run(env.dir, argv), 0);
}

static bs_issuer_t *issuer(void)
{
	return env.core->issuer;
}

static void test_each_key_type_gets_a_certificate_that_verifies(void)
{
	static const char *const types[] = { "ec", "p384", "ed25519", "rsa" };
	static const char *const cas[] = { "ec", "rsa", "ed25519" };

	for (size_t c = 0; c < 3; c++) {
		open_issuing(cas[c]);
		for (size_t i = 0; i < 4; i++) {
			char *csr = pki_csr(env.dir, "dev", types[i], "what-the-device-asked");
			bs_issued_t out;
			char err[128];

			CU_ASSERT_FATAL(csr != NULL);
			CU_ASSERT_EQUAL(bs_issue(issuer(), csr, strlen(csr), "cid-1", T0, &out,
					err, sizeof(err)), BS_OK);
			if (out.pem == NULL)
				printf("\n    CA %s, device %s: %s\n", cas[c], types[i], err);
			CU_ASSERT_FATAL(out.pem != NULL);
			check_fields(out.pem, "cid-1", T0);
			CU_ASSERT_EQUAL(out.not_after, T0 + DAYS * 86400);
			CU_ASSERT(strlen(out.serial) >= 16);
			/* Verified now, not at T0: issue again for the present. */
			bs_issued_free(&out);
			CU_ASSERT_EQUAL(bs_issue(issuer(), csr, strlen(csr), "cid-1", time(NULL),
					&out, err, sizeof(err)), BS_OK);
			check_verifies(out.pem);
			bs_issued_free(&out);
			free(csr);
		}
		env_close();
	}
}

static void expect_invalid(const char *csr, size_t len, const char *want)
{
	bs_issued_t out;
	char err[128] = "";

	CU_ASSERT_EQUAL(bs_issue(issuer(), csr, len, "cid-1", T0, &out, err, sizeof(err)),
			BS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(out.pem);
	if (strstr(err, want) == NULL)
		printf("\n    want \"%s\" in \"%s\"\n", want, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

/* The signature of a CSR is its last bytes: one flipped there. */
static char *bad_signature(const char *csr)
{
	BIO *bio = BIO_new_mem_buf(csr, -1), *out = BIO_new(BIO_s_mem());
	X509_REQ *req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	unsigned char *der = NULL, *p;
	int n = i2d_X509_REQ(req, &der);
	char *pem, *data;
	long len;

	der[n - 3] ^= 0x01;
	p = der;
	X509_REQ_free(req);
	req = d2i_X509_REQ(NULL, (const unsigned char **)&p, n);
	PEM_write_bio_X509_REQ(out, req);
	len = BIO_get_mem_data(out, &data);
	pem = strndup(data, (size_t)len);
	X509_REQ_free(req);
	OPENSSL_free(der);
	BIO_free(bio);
	BIO_free(out);
	return pem;
}

static void test_weak_broken_or_garbage_csrs_are_refused(void)
{
	char *rsa1024, *k1, *good, *flipped, *junk;
	char big[12000];

	open_issuing("ec");
	rsa1024 = pki_csr(env.dir, "weak", "rsa1024", "x");
	k1 = pki_csr(env.dir, "k1", "secp256k1", "x");
	good = pki_csr(env.dir, "good", "ec", "x");
	CU_ASSERT_FATAL(rsa1024 && k1 && good);
	flipped = bad_signature(good);
	expect_invalid(rsa1024, strlen(rsa1024), "at least 2048 bits");
	expect_invalid(k1, strlen(k1), "P-256 or P-384");
	expect_invalid(flipped, strlen(flipped), "signature does not verify");
	expect_invalid("not a csr", 9, "one PEM certificate signing request");
	expect_invalid("", 0, "one PEM certificate signing request");
	memset(big, 'A', sizeof(big));
	memcpy(big, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
	expect_invalid(big, sizeof(big), "one PEM certificate signing request");
	junk = malloc(strlen(good) + 16);
	sprintf(junk, "%sjunk\n", good);
	expect_invalid(junk, strlen(junk), "one PEM certificate signing request");
	/* A certificate is not a request. */
	{
		char *cert = pki_read(ca_pem);
		expect_invalid(cert, strlen(cert), "one PEM certificate signing request");
		free(cert);
	}
	free(rsa1024);
	free(k1);
	free(good);
	free(flipped);
	free(junk);
	env_close();
}

/* ---- through the device protocol ------------------------------------------ */

static json_t *reply;

/* A device request; its reply in reply. */
static void device(const char *payload)
{
	reply = run_device(payload);
}

/* {"external_id", "external_key", "csr", ...more} as text. */
static char *request_with(const char *csr, const char *more)
{
	json_t *o = json_pack("{ss ss ss}", "external_id", "ext-1", "external_key", KEY,
			"csr", csr);
	char *text;

	if (more != NULL) {
		json_t *m = json_loads(more, 0, NULL);
		json_object_update(o, m);
		json_decref(m);
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* A config with an admin's certificate and key, to be replaced. */
static void make_config(void)
{
	char *cert, *key;

	CU_ASSERT_EQUAL_FATAL(pki_ca(env.dir, "given", "ec"), 0);
	cert = keep(pki_read(in_env("given.pem")));
	key = keep(pki_read(in_env("given.key")));
	ok_data(run1(json_pack("{ss ss ss ss ss ss}", "command", "createConfig",
			"client_id", "cid-1", "external_id", "ext-1", "external_key", KEY,
			"client_cert", cert, "client_key", key)));
	ok_data(run1(json_pack("{ss ss}", "command", "enableConfig", "client_id", "cid-1")));
}

static json_t *get_config(void)
{
	return ok_data(run1(json_pack("{ss ss}", "command", "getConfig", "client_id", "cid-1")));
}

static void test_bootstrap_with_a_csr_issues_stores_and_renews(void)
{
	char *csr, *req, *ca, first_serial[200];
	json_t *cfg;

	open_issuing("ec");
	make_config();
	csr = pki_csr(env.dir, "dev", "ec", "ignored");
	req = request_with(csr, NULL);
	device(req);
	CU_ASSERT_PTR_NULL(json_object_get(reply, "error"));
	CU_ASSERT_PTR_NULL(json_object_get(reply, "client_key"));
	check_fields(str(reply, "client_cert"), "cid-1", T0);
	ca = pki_read(ca_pem);
	CU_ASSERT_STRING_EQUAL(str(reply, "ca_cert"), ca);
	cfg = get_config();
	CU_ASSERT_STRING_EQUAL(str(cfg, "client_cert"), str(reply, "client_cert"));
	CU_ASSERT(json_is_false(json_object_get(cfg, "has_client_key")));
	/* The CA is not stored as the config's: a later CA change applies. */
	CU_ASSERT(json_is_null(json_object_get(cfg, "ca_cert")));
	CU_ASSERT_STRING_EQUAL(str(cfg, "cert_expires_at"), "2023-12-14T22:13:20Z");
	{
		X509 *x = parse_pem(str(reply, "client_cert"));
		char hex[BS_SERIAL_HEX_MAX + 1];
		CU_ASSERT_EQUAL(bs_certs_serial_hex(x, hex), BS_OK);
		CU_ASSERT_STRING_EQUAL(str(cfg, "cert_serial"), hex);
		X509_free(x);
	}
	snprintf(first_serial, sizeof(first_serial), "%s", str(cfg, "cert_serial"));
	/* Renewal: a new key, a new certificate, the old one replaced. */
	free(csr);
	free(req);
	csr = pki_csr(env.dir, "dev2", "rsa", "ignored");
	req = request_with(csr, NULL);
	device(req);
	cfg = get_config();
	CU_ASSERT_STRING_NOT_EQUAL(str(cfg, "cert_serial"), first_serial);
	CU_ASSERT_STRING_EQUAL(str(cfg, "client_cert"), str(reply, "client_cert"));
	CU_ASSERT_EQUAL(env.core->stats.certificates_issued, 2);
	free(ca);
	free(csr);
	free(req);
	reply = NULL;
	env_close();
}

/* Sealed (3.1): the certificate is inside, opened as a device would. */
static void test_encrypted_reply_carries_the_certificate(void)
{
	uint8_t key[32];
	char *csr, *req;
	json_t *plain;

	open_issuing("ec");
	make_config();
	csr = pki_csr(env.dir, "dev", "ed25519", "x");
	req = request_with(csr, "{\"encrypt\": true}");
	device(req);
	CU_ASSERT_EQUAL_FATAL(sealed_key(KEY, "ext-1", key), 0);
	plain = sealed_open(reply, key, "ext-1", 5);
	CU_ASSERT_FATAL(plain != NULL);
	check_fields(str(plain, "client_cert"), "cid-1", T0);
	CU_ASSERT_PTR_NULL(json_object_get(plain, "client_key"));
	json_decref(plain);
	free(csr);
	free(req);
	reply = NULL;
	env_close();
}

/* Challenge (3.2): the CSR rides with the proof. */
static void test_challenge_answer_carries_the_csr(void)
{
	uint8_t nonce[48], key[32], aad[37];   /* base64 decoding writes the padding's byte */
	char proof[64], *csr, *req;
	json_t *plain;

	open_issuing("ec");
	make_config();
	device("{\"external_id\":\"ext-1\",\"op\":\"challenge\"}");
	CU_ASSERT_EQUAL_FATAL(sealed_unb64(str(reply, "nonce"), nonce), 32);
	CU_ASSERT_EQUAL_FATAL(sealed_proof(env.dir, KEY, nonce, "ext-1", proof), 0);
	csr = pki_csr(env.dir, "dev", "ec", "x");
	req = keep(malloc(strlen(csr) * 2 + 256));
	{
		json_t *o = json_pack("{ss ss ss ss}", "external_id", "ext-1",
				"nonce", str(reply, "nonce"), "proof", proof, "csr", csr);
		char *t = json_dumps(o, JSON_COMPACT);
		strcpy(req, t);
		free(t);
		json_decref(o);
	}
	device(req);
	CU_ASSERT_EQUAL_FATAL(sealed_key(KEY, "ext-1", key), 0);
	memcpy(aad, "ext-1", 5);
	memcpy(aad + 5, nonce, 32);
	plain = sealed_open(reply, key, aad, sizeof(aad));
	CU_ASSERT_FATAL(plain != NULL);
	check_fields(str(plain, "client_cert"), "cid-1", T0);
	json_decref(plain);
	/* A CSR with the request for a nonce is refused. */
	device(keep(request_with(csr, "{\"op\":\"challenge\"}")));
	CU_ASSERT(str_is(reply, "error", "invalid_request"));
	free(csr);
	reply = NULL;
	env_close();
}

static void test_csr_without_a_ca_or_not_a_string_is_invalid(void)
{
	char *before;

	env_open();
	make_config();
	before = keep(strdup(str(get_config(), "client_cert")));
	device("{\"external_id\":\"ext-1\",\"external_key\":\"" KEY "\",\"csr\":\"x\"}");
	CU_ASSERT(str_is(reply, "error", "invalid_request"));
	CU_ASSERT(strstr(str(reply, "message"), "issues no certificates") != NULL);
	CU_ASSERT_STRING_EQUAL(str(get_config(), "client_cert"), before);
	env_close();
	open_issuing("ec");
	make_config();
	device("{\"external_id\":\"ext-1\",\"external_key\":\"" KEY "\",\"csr\":7}");
	CU_ASSERT(str_is(reply, "error", "invalid_request"));
	device("{\"external_id\":\"ext-1\",\"external_key\":\"" KEY "\",\"csr\":\"garbage\"}");
	CU_ASSERT(str_is(reply, "error", "invalid_request"));
	CU_ASSERT_EQUAL(env.core->stats.certificates_issued, 0);
	/* A wrong key is unauthorized before the CSR is looked at. */
	device("{\"external_id\":\"ext-1\",\"external_key\":\"wrong-key-1\",\"csr\":\"garbage\"}");
	CU_ASSERT(str_is(reply, "error", "unauthorized"));
	reply = NULL;
	env_close();
}

static long list_total(const char *before)
{
	json_t *d = ok_data(run1(json_pack("{ss ss}", "command", "listConfigs",
			"cert_expires_before", before)));
	return (long)json_integer_value(json_object_get(d, "total"));
}

static void test_list_configs_by_certificate_expiry(void)
{
	char *csr;

	open_issuing("ec");
	make_config();
	/* The admin's certificate (pki_ca: 30 days from now) counts too. */
	CU_ASSERT_EQUAL(list_total("2000-01-01T00:00:00Z"), 0);
	CU_ASSERT_EQUAL(list_total("2999-01-01T00:00:00Z"), 1);
	csr = pki_csr(env.dir, "dev", "ec", "x");
	device(keep(request_with(csr, NULL)));
	/* Issued at T0 for 30 days: 2023-12-14T22:13:20Z. */
	CU_ASSERT_EQUAL(list_total("2023-12-14T22:13:20Z"), 0);
	CU_ASSERT_EQUAL(list_total("2023-12-14T22:13:21Z"), 1);
	CU_ASSERT_EQUAL(list_total("2023-12-15T00:13:21+02:00"), 1);
	CU_ASSERT_EQUAL(list_total("2023-12-14T22:13:20.5Z"), 1);
	expect_error(run1(json_pack("{ss ss}", "command", "listConfigs",
			"cert_expires_before", "next week")), "invalid_request", "not a time");
	expect_error(run1(json_pack("{ss ss}", "command", "listConfigs",
			"cert_expires_before", "2023-02-30T00:00:00Z")), "invalid_request", "no such day");
	free(csr);
	reply = NULL;
	env_close();
}

int main(void)
{
	static const cu_test_t tests[] = {
		T(test_bad_issuing_ca_is_refused_naming_the_option),
		T(test_each_key_type_gets_a_certificate_that_verifies),
		T(test_weak_broken_or_garbage_csrs_are_refused),
		T(test_bootstrap_with_a_csr_issues_stores_and_renews),
		T(test_encrypted_reply_carries_the_certificate),
		T(test_challenge_answer_carries_the_csr),
		T(test_csr_without_a_ca_or_not_a_string_is_invalid),
		T(test_list_configs_by_certificate_expiry),
		{ NULL, NULL },
	};

	cu_add_suite("issue", NULL, suite_clean, tests);
	return cu_run("issue");
}
