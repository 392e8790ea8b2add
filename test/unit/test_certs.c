/*
 * Unit tests of lib/certs.c on real material: the suite setup makes RSA
 * and EC keys and self-signed certificates with the openssl command line
 * in a fresh temporary directory, removed again in the cleanup.
 */
#include "certs.h"
#include "cu_main.h"
#include "tmpdir.h"
#include "error.h"

#include <CUnit/CUnit.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A test table entry named after its function. */
#define T(fn) {#fn, fn}

#define PASSWORD "bs-test-pass"

static char tmpdir[] = "/tmp/bs-certs-XXXXXX";
static char err[256];

/*
 * Every file the tests use. Keys are made with genpkey (PKCS#8 PEM), then
 * turned into the other encodings; DER goes through openssl base64, with
 * (-A) and without line breaks.
 */
static const char gen_script[] =
	"set -e\n"
	"umask 077\n"
	"exec 2>gen.log\n"
	"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
	" -out rsa.key\n"
	"openssl req -x509 -new -key rsa.key -subj /CN=bs-test-rsa -days 30"
	" -out rsa.crt\n"
	"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
	" -out ec.key\n"
	"openssl req -x509 -new -key ec.key -subj /CN=bs-test-ec -days 30"
	" -out ec.crt\n"
	"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
	" -out other.key\n"
	"openssl pkey -in rsa.key -traditional -out rsa_trad.key\n"
	"openssl pkey -in ec.key -traditional -out ec_trad.key\n"
	"openssl pkey -in ec.key -pubout -out ec.pub\n"
	"cat rsa.crt ec.crt > bundle.pem\n"
	"openssl x509 -in rsa.crt -outform DER | openssl base64 -A > rsa_crt.b64\n"
	"openssl x509 -in ec.crt -outform DER | openssl base64 > ec_crt.b64\n"
	"openssl pkey -in rsa.key -outform DER | openssl base64 > rsa_key.b64\n"
	"openssl pkey -in ec.key -outform DER | openssl base64 -A > ec_key.b64\n"
	"openssl ec -in ec.key -outform DER | openssl base64 > ec_sec1.b64\n"
	"openssl pkcs8 -topk8 -in rsa.key -v2 aes-256-cbc"
	" -passout pass:" PASSWORD " -out rsa_enc.key\n"
	"openssl pkey -in rsa.key -traditional -aes256"
	" -passout pass:" PASSWORD " -out rsa_enc_trad.key\n"
	"openssl pkcs8 -topk8 -in rsa.key -v2 aes-256-cbc -outform DER"
	" -passout pass:" PASSWORD " | openssl base64 > rsa_enc_key.b64\n";

/* Input text of exactly n bytes, with no NUL after it. */
typedef struct {
	char *p;
	size_t n;
} text_t;

/* ---- helpers ------------------------------------------------------------ */

static int suite_init(void)
{
	char cmd[sizeof gen_script + 128];
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "cd '%s' && %s", tmpdir, gen_script);
	int rc = system(cmd);
	if (rc != 0 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
		fprintf(stderr, "making test certificates failed; see %s/gen.log\n",
				tmpdir);
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	return tmpdir_remove(tmpdir);
}

/* Reads a generated file into a buffer of its exact size. */
static text_t load(const char *name)
{
	char path[128];
	text_t t = {NULL, 0};
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	CU_ASSERT_FATAL(size > 0);
	rewind(f);
	t.n = (size_t)size;
	t.p = malloc(t.n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
	CU_ASSERT_EQUAL_FATAL(fread(t.p, 1, t.n, f), t.n);
	fclose(f);
	return t;
}

/* a then b, in a buffer of the exact size. */
static text_t cat(const char *a, size_t alen, const char *b, size_t blen)
{
	text_t t = {malloc(alen + blen), alen + blen};
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.p);
	memcpy(t.p, a, alen);
	memcpy(t.p + alen, b, blen);
	return t;
}

static text_t cat_files(const char *a, const char *b)
{
	text_t ta = load(a), tb = load(b);
	text_t t = cat(ta.p, ta.n, tb.p, tb.n);
	free(ta.p);
	free(tb.p);
	return t;
}

static text_t lit(const char *s)
{
	return cat(s, strlen(s), "", 0);
}

static void drop(text_t t)
{
	free(t.p);
}

/* The text starts with the PEM line given: the material is what we think. */
static bool starts_with(text_t t, const char *line)
{
	return t.n >= strlen(line) && memcmp(t.p, line, strlen(line)) == 0;
}

/* Offset of needle in t, or t.n: the text has no NUL for strstr. */
static size_t find(text_t t, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= t.n; i++)
		if (memcmp(t.p + i, needle, n) == 0)
			return i;
	return t.n;
}

static int cert_ok(text_t t)
{
	err[0] = '\0';
	return bs_certs_check_cert(t.p, t.n, err, sizeof err);
}

static int ca_ok(text_t t)
{
	err[0] = '\0';
	return bs_certs_check_ca(t.p, t.n, err, sizeof err);
}

static int key_ok(text_t t)
{
	err[0] = '\0';
	return bs_certs_check_key(t.p, t.n, err, sizeof err);
}

static int pair_ok(const char *certfile, const char *keyfile)
{
	text_t c = load(certfile), k = load(keyfile);
	err[0] = '\0';
	int rc = bs_certs_check_pair(c.p, c.n, k.p, k.n, err, sizeof err);
	drop(c);
	drop(k);
	return rc;
}

/* Refused with a reason: one short line. */
#define ASSERT_REFUSED(call) do { \
	CU_ASSERT_EQUAL((call), BS_ERR_INVALID); \
	CU_ASSERT_TRUE(err[0] != '\0' && strchr(err, '\n') == NULL); \
} while (0)

/* ---- certificates ------------------------------------------------------- */

static void test_check_cert_accepts_pem_rsa_and_ec(void)
{
	text_t rsa = load("rsa.crt"), ec = load("ec.crt");
	CU_ASSERT_TRUE(starts_with(rsa, "-----BEGIN CERTIFICATE-----"));
	CU_ASSERT_EQUAL(cert_ok(rsa), BS_OK);
	CU_ASSERT_EQUAL(cert_ok(ec), BS_OK);
	drop(rsa);
	drop(ec);
}

static void test_check_cert_accepts_base64_der_on_one_line(void)
{
	text_t t = load("rsa_crt.b64");
	CU_ASSERT_PTR_NULL(memchr(t.p, '\n', t.n));
	CU_ASSERT_EQUAL(cert_ok(t), BS_OK);
	drop(t);
}

static void test_check_cert_accepts_base64_der_with_line_breaks(void)
{
	text_t t = load("ec_crt.b64");
	CU_ASSERT_PTR_NOT_NULL(memchr(t.p, '\n', t.n));
	CU_ASSERT_EQUAL(cert_ok(t), BS_OK);
	drop(t);
}

static void test_check_cert_accepts_crlf_and_surrounding_whitespace(void)
{
	text_t pem = load("rsa.crt");
	char *crlf = malloc(pem.n * 2 + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crlf);
	size_t n = 0;
	n += (size_t)sprintf(crlf, " \r\n\t\n");
	for (size_t i = 0; i < pem.n; i++) {
		if (pem.p[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = pem.p[i];
	}
	memcpy(crlf + n, "\r\n \n", 4);
	n += 4;
	text_t t = cat(crlf, n, "", 0);
	CU_ASSERT_EQUAL(cert_ok(t), BS_OK);
	CU_ASSERT_EQUAL(ca_ok(t), BS_OK);
	drop(t);
	free(crlf);
	drop(pem);
}

static void test_check_cert_refuses_two_certificates(void)
{
	text_t t = load("bundle.pem");
	ASSERT_REFUSED(cert_ok(t));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "one certificate"));
	drop(t);
}

static void test_check_ca_accepts_bundle_of_two(void)
{
	text_t t = load("bundle.pem");
	CU_ASSERT_EQUAL(ca_ok(t), BS_OK);
	drop(t);
}

static void test_check_ca_accepts_single_pem_and_base64_der(void)
{
	text_t pem = load("ec.crt"), der = load("rsa_crt.b64");
	CU_ASSERT_EQUAL(ca_ok(pem), BS_OK);
	CU_ASSERT_EQUAL(ca_ok(der), BS_OK);
	drop(pem);
	drop(der);
}

static void test_check_cert_and_ca_refuse_garbage(void)
{
	static const char *const junk[] = {
		"hello world",
		"not base64 at all!",
		"aGVsbG8gd29ybGQ=", /* good base64, but not DER */
		"MIIB", /* the start of a DER certificate only */
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
		"   \n\t ",
		"",
	};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		text_t t = lit(junk[i]);
		ASSERT_REFUSED(cert_ok(t));
		ASSERT_REFUSED(ca_ok(t));
		drop(t);
	}
	CU_ASSERT_EQUAL(bs_certs_check_cert(NULL, 0, err, sizeof err),
			BS_ERR_INVALID);
}

static void test_check_cert_refuses_truncated_pem(void)
{
	text_t pem = load("rsa.crt");
	size_t cuts[] = {pem.n / 2, find(pem, "-----END"), pem.n - 8};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		text_t t = cat(pem.p, cuts[i], "", 0);
		ASSERT_REFUSED(cert_ok(t));
		ASSERT_REFUSED(ca_ok(t));
		drop(t);
	}
	drop(pem);
}

static void test_check_cert_refuses_truncated_base64_der(void)
{
	text_t der = load("rsa_crt.b64");
	text_t t = cat(der.p, der.n - 8, "", 0);
	ASSERT_REFUSED(cert_ok(t));
	drop(t);
	drop(der);
}

static void test_check_cert_refuses_nul_byte_inside(void)
{
	const char *files[] = {"rsa.crt", "rsa_crt.b64"};
	for (size_t i = 0; i < 2; i++) {
		text_t t = load(files[i]);
		t.p[t.n / 2] = '\0';
		ASSERT_REFUSED(cert_ok(t));
		ASSERT_REFUSED(ca_ok(t));
		drop(t);
	}
	/* Valid text, then a NUL counted in the length. */
	text_t pem = load("rsa.crt");
	text_t t = cat(pem.p, pem.n, "\0", 1);
	ASSERT_REFUSED(cert_ok(t));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL"));
	drop(t);
	drop(pem);
}

static void test_check_cert_reads_only_the_given_length(void)
{
	text_t pem = load("rsa.crt");
	text_t t = cat(pem.p, pem.n, "garbage after the length", 24);
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_certs_check_cert(t.p, pem.n, err, sizeof err),
			BS_OK);
	drop(t);
	drop(pem);
}

static void test_check_cert_refuses_text_around_pem(void)
{
	text_t pem = load("rsa.crt");
	text_t after = cat(pem.p, pem.n, "junk\n", 5);
	text_t before = cat("subject=CN = x\n", 15, pem.p, pem.n);
	ASSERT_REFUSED(cert_ok(after));
	ASSERT_REFUSED(ca_ok(after));
	ASSERT_REFUSED(cert_ok(before));
	ASSERT_REFUSED(ca_ok(before));
	drop(after);
	drop(before);
	drop(pem);
}

static void test_check_ca_refuses_text_between_certificates(void)
{
	text_t a = load("rsa.crt"), b = load("ec.crt");
	text_t ab = cat(a.p, a.n, "# second\n", 9);
	text_t t = cat(ab.p, ab.n, b.p, b.n);
	ASSERT_REFUSED(ca_ok(t));
	drop(t);
	drop(ab);
	drop(a);
	drop(b);
}

static void test_check_cert_refuses_private_key(void)
{
	const char *files[] = {"rsa.key", "rsa_trad.key", "ec_trad.key",
		"rsa_key.b64"};
	for (size_t i = 0; i < 4; i++) {
		text_t t = load(files[i]);
		ASSERT_REFUSED(cert_ok(t));
		ASSERT_REFUSED(ca_ok(t));
		drop(t);
	}
}

static void test_check_cert_and_ca_refuse_certificate_with_key_attached(void)
{
	/* Else a key pasted along with the cert would be served to devices. */
	text_t after = cat_files("rsa.crt", "rsa.key");
	text_t before = cat_files("rsa.key", "rsa.crt");
	ASSERT_REFUSED(cert_ok(after));
	ASSERT_REFUSED(ca_ok(after));
	ASSERT_REFUSED(cert_ok(before));
	ASSERT_REFUSED(ca_ok(before));
	drop(after);
	drop(before);
}

/* ---- keys --------------------------------------------------------------- */

static void test_check_key_accepts_pkcs8_rsa_and_ec(void)
{
	text_t rsa = load("rsa.key"), ec = load("ec.key");
	CU_ASSERT_TRUE(starts_with(rsa, "-----BEGIN PRIVATE KEY-----"));
	CU_ASSERT_TRUE(starts_with(ec, "-----BEGIN PRIVATE KEY-----"));
	CU_ASSERT_EQUAL(key_ok(rsa), BS_OK);
	CU_ASSERT_EQUAL(key_ok(ec), BS_OK);
	drop(rsa);
	drop(ec);
}

static void test_check_key_accepts_traditional_rsa(void)
{
	text_t t = load("rsa_trad.key");
	CU_ASSERT_TRUE(starts_with(t, "-----BEGIN RSA PRIVATE KEY-----"));
	CU_ASSERT_EQUAL(key_ok(t), BS_OK);
	drop(t);
}

static void test_check_key_accepts_traditional_ec(void)
{
	text_t t = load("ec_trad.key");
	CU_ASSERT_TRUE(starts_with(t, "-----BEGIN EC PRIVATE KEY-----"));
	CU_ASSERT_EQUAL(key_ok(t), BS_OK);
	drop(t);
}

static void test_check_key_accepts_base64_der(void)
{
	const char *files[] = {"rsa_key.b64", "ec_key.b64", "ec_sec1.b64"};
	for (size_t i = 0; i < 3; i++) {
		text_t t = load(files[i]);
		CU_ASSERT_EQUAL(key_ok(t), BS_OK);
		drop(t);
	}
}

static void test_check_key_refuses_certificate(void)
{
	const char *files[] = {"rsa.crt", "rsa_crt.b64", "bundle.pem"};
	for (size_t i = 0; i < 3; i++) {
		text_t t = load(files[i]);
		ASSERT_REFUSED(key_ok(t));
		drop(t);
	}
}

static void test_check_key_refuses_public_key(void)
{
	text_t t = load("ec.pub");
	ASSERT_REFUSED(key_ok(t));
	drop(t);
}

static void test_check_key_refuses_two_keys_or_key_with_certificate(void)
{
	text_t two = cat_files("rsa.key", "ec.key");
	text_t cert_first = cat_files("rsa.crt", "rsa.key");
	text_t key_first = cat_files("rsa.key", "rsa.crt");
	ASSERT_REFUSED(key_ok(two));
	ASSERT_REFUSED(key_ok(cert_first));
	ASSERT_REFUSED(key_ok(key_first));
	drop(two);
	drop(cert_first);
	drop(key_first);
}

static void test_check_key_refuses_truncated_or_garbled_key(void)
{
	text_t pem = load("rsa.key"), der = load("rsa_key.b64");
	text_t half = cat(pem.p, pem.n / 2, "", 0);
	text_t short_der = cat(der.p, der.n - 9, "", 0);
	text_t junk = lit("-----BEGIN PRIVATE KEY-----\nAAAA\n"
			"-----END PRIVATE KEY-----\n");
	ASSERT_REFUSED(key_ok(half));
	ASSERT_REFUSED(key_ok(short_der));
	ASSERT_REFUSED(key_ok(junk));
	pem.p[pem.n / 3] = '\0';
	ASSERT_REFUSED(key_ok(pem));
	drop(half);
	drop(short_der);
	drop(junk);
	drop(pem);
	drop(der);
}

/*
 * Checks the key in a child with no controlling terminal whose stdin holds
 * the right password: were OpenSSL to prompt, it would read it from there
 * and the key would pass. Returns the child's result, its err in err.
 */
static int check_key_without_tty(const char *file)
{
	text_t t = load(file);
	int pw[2], out[2];
	CU_ASSERT_FATAL(pipe(pw) == 0 && pipe(out) == 0);
	CU_ASSERT_FATAL(write(pw[1], PASSWORD "\n", sizeof PASSWORD) ==
			(ssize_t)sizeof PASSWORD);
	close(pw[1]);
	fflush(NULL);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char e[sizeof err] = "";
		alarm(30); /* a prompt that does block fails the test */
		if (setsid() < 0 || dup2(pw[0], STDIN_FILENO) < 0)
			_exit(100);
		int rc = bs_certs_check_key(t.p, t.n, e, sizeof e);
		ssize_t w = write(out[1], e, sizeof e);
		_exit(w == (ssize_t)sizeof e ? -rc : 101);
	}
	close(pw[0]);
	close(out[1]);
	int status;
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT_EQUAL(read(out[0], err, sizeof err), (ssize_t)sizeof err);
	close(out[0]);
	drop(t);
	CU_ASSERT_FATAL(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

static void test_check_key_refuses_encrypted_pkcs8_without_prompting(void)
{
	CU_ASSERT_EQUAL(check_key_without_tty("rsa_enc.key"), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "encrypted"));
}

static void test_check_key_refuses_encrypted_traditional_without_prompting(void)
{
	text_t t = load("rsa_enc_trad.key");
	CU_ASSERT_TRUE(find(t, "Proc-Type: 4,ENCRYPTED") < t.n);
	drop(t);
	CU_ASSERT_EQUAL(check_key_without_tty("rsa_enc_trad.key"),
			BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "encrypted"));
}

static void test_check_key_refuses_encrypted_base64_der_without_prompting(void)
{
	CU_ASSERT_EQUAL(check_key_without_tty("rsa_enc_key.b64"),
			BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "encrypted"));
}

/* ---- pairs -------------------------------------------------------------- */

static void test_check_pair_accepts_matching_rsa(void)
{
	CU_ASSERT_EQUAL(pair_ok("rsa.crt", "rsa.key"), BS_OK);
	CU_ASSERT_EQUAL(pair_ok("rsa.crt", "rsa_trad.key"), BS_OK);
}

static void test_check_pair_accepts_matching_ec(void)
{
	CU_ASSERT_EQUAL(pair_ok("ec.crt", "ec.key"), BS_OK);
	CU_ASSERT_EQUAL(pair_ok("ec.crt", "ec_trad.key"), BS_OK);
}

static void test_check_pair_accepts_base64_der_forms(void)
{
	CU_ASSERT_EQUAL(pair_ok("rsa_crt.b64", "rsa_key.b64"), BS_OK);
	CU_ASSERT_EQUAL(pair_ok("ec_crt.b64", "ec_sec1.b64"), BS_OK);
	CU_ASSERT_EQUAL(pair_ok("ec.crt", "ec_key.b64"), BS_OK);
}

static void test_check_pair_refuses_unrelated_key(void)
{
	ASSERT_REFUSED(pair_ok("rsa.crt", "other.key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not match"));
}

static void test_check_pair_refuses_key_of_other_type(void)
{
	ASSERT_REFUSED(pair_ok("rsa.crt", "ec.key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not match"));
	ASSERT_REFUSED(pair_ok("ec.crt", "rsa.key"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not match"));
}

static void test_check_pair_says_which_part_is_invalid(void)
{
	text_t c = load("rsa.crt"), k = load("rsa.key");
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_certs_check_pair("junk", 4, k.p, k.n, err,
				sizeof err), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "certificate"));
	err[0] = '\0';
	CU_ASSERT_EQUAL(bs_certs_check_pair(c.p, c.n, "junk", 4, err,
				sizeof err), BS_ERR_INVALID);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "private key"));
	/* Key and certificate swapped. */
	CU_ASSERT_EQUAL(bs_certs_check_pair(k.p, k.n, c.p, c.n, err,
				sizeof err), BS_ERR_INVALID);
	drop(c);
	drop(k);
}

static void test_check_pair_refuses_two_certificates(void)
{
	ASSERT_REFUSED(pair_ok("bundle.pem", "rsa.key"));
}

/* ---- error reporting ---------------------------------------------------- */

/* No 16-character run of the key's body lines appears in err. */
static void assert_err_has_no_key_text(text_t key)
{
	CU_ASSERT_PTR_NULL(strstr(err, "PRIVATE KEY"));
	CU_ASSERT_PTR_NULL(strstr(err, "-----"));
	for (size_t i = 0; i + 16 <= key.n; i++) {
		if (memchr(key.p + i, '\n', 16) != NULL ||
				memchr(key.p + i, '-', 16) != NULL)
			continue;
		char run[17];
		memcpy(run, key.p + i, 16);
		run[16] = '\0';
		CU_ASSERT_PTR_NULL(strstr(err, run));
	}
}

static void test_errors_never_contain_private_key_text(void)
{
	text_t key = load("rsa.key"), cert = load("rsa.crt");
	text_t both = cat(cert.p, cert.n, key.p, key.n);
	text_t half = cat(key.p, key.n / 2, "", 0);
	text_t tail = cat(key.p, key.n, "trailing", 8);

	ASSERT_REFUSED(cert_ok(key));
	assert_err_has_no_key_text(key);
	ASSERT_REFUSED(cert_ok(both));
	assert_err_has_no_key_text(key);
	ASSERT_REFUSED(ca_ok(both));
	assert_err_has_no_key_text(key);
	ASSERT_REFUSED(key_ok(half));
	assert_err_has_no_key_text(key);
	ASSERT_REFUSED(key_ok(tail));
	assert_err_has_no_key_text(key);
	ASSERT_REFUSED(pair_ok("ec.crt", "rsa.key"));
	assert_err_has_no_key_text(key);
	key.p[key.n / 2] = '\0';
	ASSERT_REFUSED(key_ok(key));
	drop(key);
	drop(cert);
	drop(both);
	drop(half);
	drop(tail);
}

static void test_failures_leave_no_openssl_errors_queued(void)
{
	static const char *const files[] = {"rsa.crt", "rsa.key", "ec_sec1.b64",
		"rsa_key.b64", "bundle.pem", "rsa_enc.key", "rsa_enc_key.b64"};
	ERR_clear_error();
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		text_t t = load(files[i]);
		(void)cert_ok(t);
		CU_ASSERT_EQUAL(ERR_peek_error(), 0);
		(void)ca_ok(t);
		CU_ASSERT_EQUAL(ERR_peek_error(), 0);
		(void)key_ok(t);
		CU_ASSERT_EQUAL(ERR_peek_error(), 0);
		drop(t);
	}
	(void)pair_ok("rsa.crt", "other.key");
	CU_ASSERT_EQUAL(ERR_peek_error(), 0);
	(void)pair_ok("rsa.crt", "ec.key");
	CU_ASSERT_EQUAL(ERR_peek_error(), 0);
}

static void test_short_or_missing_err_buffer_is_safe(void)
{
	text_t t = lit("junk");
	char small[8];
	memset(small, 'x', sizeof small);
	CU_ASSERT_EQUAL(bs_certs_check_cert(t.p, t.n, small, sizeof small),
			BS_ERR_INVALID);
	CU_ASSERT_EQUAL(strlen(small), sizeof small - 1);
	CU_ASSERT_EQUAL(bs_certs_check_key(t.p, t.n, NULL, 0), BS_ERR_INVALID);
	drop(t);
}

int main(void)
{
	static const cu_test_t cert_tests[] = {
		T(test_check_cert_accepts_pem_rsa_and_ec),
		T(test_check_cert_accepts_base64_der_on_one_line),
		T(test_check_cert_accepts_base64_der_with_line_breaks),
		T(test_check_cert_accepts_crlf_and_surrounding_whitespace),
		T(test_check_cert_refuses_two_certificates),
		T(test_check_ca_accepts_bundle_of_two),
		T(test_check_ca_accepts_single_pem_and_base64_der),
		T(test_check_cert_and_ca_refuse_garbage),
		T(test_check_cert_refuses_truncated_pem),
		T(test_check_cert_refuses_truncated_base64_der),
		T(test_check_cert_refuses_nul_byte_inside),
		T(test_check_cert_reads_only_the_given_length),
		T(test_check_cert_refuses_text_around_pem),
		T(test_check_ca_refuses_text_between_certificates),
		T(test_check_cert_refuses_private_key),
		T(test_check_cert_and_ca_refuse_certificate_with_key_attached),
		{NULL, NULL},
	};
	static const cu_test_t key_tests[] = {
		T(test_check_key_accepts_pkcs8_rsa_and_ec),
		T(test_check_key_accepts_traditional_rsa),
		T(test_check_key_accepts_traditional_ec),
		T(test_check_key_accepts_base64_der),
		T(test_check_key_refuses_certificate),
		T(test_check_key_refuses_public_key),
		T(test_check_key_refuses_two_keys_or_key_with_certificate),
		T(test_check_key_refuses_truncated_or_garbled_key),
		T(test_check_key_refuses_encrypted_pkcs8_without_prompting),
		T(test_check_key_refuses_encrypted_traditional_without_prompting),
		T(test_check_key_refuses_encrypted_base64_der_without_prompting),
		{NULL, NULL},
	};
	static const cu_test_t pair_tests[] = {
		T(test_check_pair_accepts_matching_rsa),
		T(test_check_pair_accepts_matching_ec),
		T(test_check_pair_accepts_base64_der_forms),
		T(test_check_pair_refuses_unrelated_key),
		T(test_check_pair_refuses_key_of_other_type),
		T(test_check_pair_says_which_part_is_invalid),
		T(test_check_pair_refuses_two_certificates),
		{NULL, NULL},
	};
	static const cu_test_t error_tests[] = {
		T(test_errors_never_contain_private_key_text),
		T(test_failures_leave_no_openssl_errors_queued),
		T(test_short_or_missing_err_buffer_is_safe),
		{NULL, NULL},
	};

	/* One directory of material for all suites: made once, removed last. */
	cu_add_suite("certificates", suite_init, NULL, cert_tests);
	cu_add_suite("keys", NULL, NULL, key_tests);
	cu_add_suite("pairs", NULL, NULL, pair_tests);
	cu_add_suite("errors", NULL, suite_clean, error_tests);
	return cu_run("certs");
}
