/*
 * Unit tests of lib/crypto.c: the master key file, sealing, identifiers,
 * secrets and the constant-time comparison.
 */
#include "crypto.h"
#include "cu_main.h"
#include "error.h"

#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANY 5000
#define LONG_SECRET "a secret long enough to matter"
/* A test table entry named after its function. */
#define T(fn) {#fn, fn}

static char tmpdir[] = "/tmp/bs-crypto-XXXXXX";
static char err[512];

/* ---- helpers ------------------------------------------------------------ */

static const char *tmp_path(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static void write_file(const char *path, const void *data, size_t len,
		mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
	CU_ASSERT_FATAL(close(fd) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
}

static size_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	ssize_t n = read(fd, buf, size);
	CU_ASSERT_FATAL(n >= 0);
	close(fd);
	return (size_t)n;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static const char good_hex[] =
	"00112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978";

/* Writes content to a fresh file and expects the loader to refuse it. */
static void assert_key_refused(const char *name, const char *content,
		size_t len)
{
	uint8_t key[BS_KEY_LEN];
	const char *path = tmp_path(name);
	write_file(path, content, len, 0600);
	err[0] = '\0';
	CU_ASSERT_NOT_EQUAL(bs_crypto_key_load(path, key, err, sizeof err),
			BS_OK);
	/* One line, naming the file. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	/* The refused file is left alone, not replaced by a new key. */
	char back[256];
	CU_ASSERT_EQUAL(read_file(path, back, sizeof back), len);
	CU_ASSERT_EQUAL(memcmp(back, content, len), 0);
}

static int suite_init(void)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int suite_clean(void)
{
	char cmd[300];
	/* Mode 000 leftovers would stop a non-root rm; open them first. */
	snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' && rm -rf '%s'",
			tmpdir, tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- key file ----------------------------------------------------------- */

static void test_key_load_creates_missing_file_0600_with_64_hex_digits(void)
{
	uint8_t key[BS_KEY_LEN];
	const char *path = tmp_path("created.key");
	struct stat st;
	char buf[128];

	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(path, key, err, sizeof err),
			BS_OK);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	size_t n = read_file(path, buf, sizeof buf);
	CU_ASSERT_EQUAL_FATAL(n, 65);
	CU_ASSERT_EQUAL(buf[64], '\n');
	for (size_t i = 0; i < 64; i++)
		CU_ASSERT_TRUE(is_lower_hex(buf[i]));
	/* The file holds the key that was returned. */
	for (size_t i = 0; i < BS_KEY_LEN; i++) {
		unsigned v;
		CU_ASSERT_EQUAL(sscanf(buf + 2 * i, "%2x", &v), 1);
		CU_ASSERT_EQUAL(v, key[i]);
	}
}

static void test_key_load_reloads_created_key_identically(void)
{
	uint8_t first[BS_KEY_LEN], second[BS_KEY_LEN];
	const char *path = tmp_path("reload.key");

	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(path, first, err, sizeof err),
			BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(path, second, err, sizeof err),
			BS_OK);
	CU_ASSERT_EQUAL(memcmp(first, second, BS_KEY_LEN), 0);
}

static void test_key_load_creates_different_keys_for_different_files(void)
{
	uint8_t a[BS_KEY_LEN], b[BS_KEY_LEN];
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(tmp_path("a.key"), a, err,
				sizeof err), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(tmp_path("b.key"), b, err,
				sizeof err), BS_OK);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, BS_KEY_LEN), 0);
}

static void test_key_load_reads_given_hex_with_and_without_newline(void)
{
	uint8_t key[BS_KEY_LEN];
	char line[80];

	write_file(tmp_path("bare.key"), good_hex, 64, 0600);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(tmp_path("bare.key"), key,
				err, sizeof err), BS_OK);
	CU_ASSERT_EQUAL(key[0], 0x00);
	CU_ASSERT_EQUAL(key[5], 0x55);
	CU_ASSERT_EQUAL(key[15], 0xff);
	CU_ASSERT_EQUAL(key[31], 0x78);

	snprintf(line, sizeof line, "%s\n", good_hex);
	write_file(tmp_path("line.key"), line, 65, 0600);
	uint8_t again[BS_KEY_LEN];
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(tmp_path("line.key"), again,
				err, sizeof err), BS_OK);
	CU_ASSERT_EQUAL(memcmp(key, again, BS_KEY_LEN), 0);
}

static void test_key_load_accepts_upper_case_hex(void)
{
	uint8_t lower[BS_KEY_LEN], upper[BS_KEY_LEN];
	char up[65];
	for (size_t i = 0; i < 64; i++)
		up[i] = (char)(good_hex[i] >= 'a' ? good_hex[i] - 32 : good_hex[i]);
	up[64] = '\n';
	write_file(tmp_path("lower.key"), good_hex, 64, 0600);
	write_file(tmp_path("upper.key"), up, 65, 0600);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(tmp_path("lower.key"), lower,
				err, sizeof err), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_key_load(tmp_path("upper.key"), upper,
				err, sizeof err), BS_OK);
	CU_ASSERT_EQUAL(memcmp(lower, upper, BS_KEY_LEN), 0);
}

/* Anyone who can read the key can open every secret: 0600 or refused. */
static void test_key_load_refuses_a_file_group_or_others_may_use(void)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0610 };
	uint8_t key[BS_KEY_LEN];
	char name[32];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(name, sizeof name, "open-%o.key", (unsigned)modes[i]);
		write_file(tmp_path(name), good_hex, 64, modes[i]);
		CU_ASSERT_EQUAL(bs_crypto_key_load(tmp_path(name), key, err, sizeof err),
				BS_ERR_INVALID);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, name));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "0600"));
		CU_ASSERT_PTR_NULL(strstr(err, good_hex));
	}
	write_file(tmp_path("owner.key"), good_hex, 64, 0400);
	CU_ASSERT_EQUAL(bs_crypto_key_load(tmp_path("owner.key"), key, err, sizeof err), BS_OK);
}

static void test_key_load_refuses_63_digits(void)
{
	assert_key_refused("63.key", good_hex, 63);
}

static void test_key_load_refuses_65_digits(void)
{
	char buf[66];
	memcpy(buf, good_hex, 64);
	buf[64] = '0';
	buf[65] = '\n';
	assert_key_refused("65.key", buf, 65);
	assert_key_refused("65nl.key", buf, 66);
}

static void test_key_load_refuses_non_hex_digit(void)
{
	char buf[65];
	memcpy(buf, good_hex, 64);
	buf[64] = '\n';
	buf[40] = 'g';
	assert_key_refused("nonhex.key", buf, 65);
}

static void test_key_load_refuses_whitespace_other_than_one_newline(void)
{
	char buf[70];
	memcpy(buf, good_hex, 64);
	memcpy(buf + 64, "\n\n", 2);
	assert_key_refused("2nl.key", buf, 66);
	memcpy(buf + 64, "\r\n", 2);
	assert_key_refused("crlf.key", buf, 66);
	memcpy(buf + 64, " ", 1);
	assert_key_refused("space.key", buf, 65);
	buf[0] = ' ';
	memcpy(buf + 1, good_hex, 64);
	assert_key_refused("lead.key", buf, 65);
}

static void test_key_load_refuses_binary_garbage(void)
{
	uint8_t junk[65];
	CU_ASSERT_EQUAL_FATAL(bs_crypto_random(junk, sizeof junk), BS_OK);
	junk[10] = 0xff; /* certainly not a hex digit */
	junk[11] = 0x00;
	assert_key_refused("junk.key", (const char *)junk, sizeof junk);
	/* Valid digits after a NUL do not make it valid either. */
	char nul[65];
	memcpy(nul, good_hex, 64);
	nul[64] = '\n';
	nul[20] = '\0';
	assert_key_refused("nul.key", nul, sizeof nul);
}

static void test_key_load_refuses_empty_file(void)
{
	assert_key_refused("empty.key", "", 0);
	assert_key_refused("newline.key", "\n", 1);
}

static void test_key_load_refuses_directory(void)
{
	uint8_t key[BS_KEY_LEN];
	const char *path = tmp_path("dir.key");
	CU_ASSERT_EQUAL_FATAL(mkdir(path, 0700), 0);
	CU_ASSERT_NOT_EQUAL(bs_crypto_key_load(path, key, err, sizeof err),
			BS_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
}

static void test_key_load_refuses_unreadable_path(void)
{
	uint8_t key[BS_KEY_LEN];
	char path[256];

	/* A regular file in the way of a directory: neither read nor create. */
	write_file(tmp_path("plain"), "x", 1, 0600);
	snprintf(path, sizeof path, "%s/plain/key", tmpdir);
	CU_ASSERT_NOT_EQUAL(bs_crypto_key_load(path, key, err, sizeof err),
			BS_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));

	/* Without read permission; root reads anyway, so only as a user. */
	if (geteuid() != 0) {
		const char *locked = tmp_path("locked.key");
		write_file(locked, good_hex, 64, 0200);
		CU_ASSERT_NOT_EQUAL(bs_crypto_key_load(locked, key, err,
					sizeof err), BS_OK);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, locked));
	}
}

static void test_key_load_refuses_path_in_missing_directory(void)
{
	uint8_t key[BS_KEY_LEN];
	const char *path = tmp_path("no/such/dir/master.key");
	CU_ASSERT_NOT_EQUAL(bs_crypto_key_load(path, key, err, sizeof err),
			BS_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

static void test_key_load_error_never_shows_file_content(void)
{
	uint8_t key[BS_KEY_LEN];
	char buf[66];
	memcpy(buf, good_hex, 64);
	memcpy(buf + 64, "ab", 2);
	const char *path = tmp_path("leak.key");
	write_file(path, buf, sizeof buf, 0600);
	CU_ASSERT_NOT_EQUAL(bs_crypto_key_load(path, key, err, sizeof err),
			BS_OK);
	CU_ASSERT_PTR_NULL(strstr(err, "00112233"));
	CU_ASSERT_PTR_NULL(strstr(err, "6978"));
}

/* ---- seal / open -------------------------------------------------------- */

static uint8_t key1[BS_KEY_LEN], key2[BS_KEY_LEN];
static const char aad[] = "devices:42:secret";

static int seal_init(void)
{
	if (bs_crypto_random(key1, sizeof key1) != BS_OK ||
			bs_crypto_random(key2, sizeof key2) != BS_OK)
		return -1;
	return 0;
}

static void seal_text(const char *text, uint8_t **out, size_t *outlen)
{
	CU_ASSERT_EQUAL_FATAL(bs_crypto_seal(key1, aad, strlen(aad), text,
				strlen(text), out, outlen), BS_OK);
}

/* Expects in to be refused, with nothing allocated. */
static void assert_open_fails(const uint8_t *key, const void *a, size_t alen,
		const uint8_t *in, size_t inlen)
{
	uint8_t *pt = (uint8_t *)"sentinel";
	size_t ptlen = 99;
	CU_ASSERT_EQUAL(bs_crypto_open(key, a, alen, in, inlen, &pt, &ptlen),
			BS_ERR_INTERNAL);
	CU_ASSERT_PTR_NULL(pt);
	CU_ASSERT_EQUAL(ptlen, 0);
}

static void test_open_returns_sealed_plaintext(void)
{
	uint8_t *sealed, *pt;
	size_t sealedlen, ptlen;
	const char *text = "device password: correct horse battery staple";

	seal_text(text, &sealed, &sealedlen);
	CU_ASSERT_EQUAL(sealedlen, strlen(text) + BS_SEAL_OVERHEAD);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_open(key1, aad, strlen(aad), sealed,
				sealedlen, &pt, &ptlen), BS_OK);
	CU_ASSERT_EQUAL(ptlen, strlen(text));
	CU_ASSERT_STRING_EQUAL((char *)pt, text);
	bs_crypto_free_secret(pt, ptlen + 1);
	free(sealed);
}

static void test_open_returns_empty_string_for_empty_plaintext(void)
{
	uint8_t *sealed, *pt = NULL;
	size_t sealedlen, ptlen = 1;

	CU_ASSERT_EQUAL_FATAL(bs_crypto_seal(key1, aad, strlen(aad), NULL, 0,
				&sealed, &sealedlen), BS_OK);
	CU_ASSERT_EQUAL(sealedlen, BS_SEAL_OVERHEAD);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_open(key1, aad, strlen(aad), sealed,
				sealedlen, &pt, &ptlen), BS_OK);
	CU_ASSERT_EQUAL(ptlen, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pt);
	CU_ASSERT_STRING_EQUAL((char *)pt, "");
	bs_crypto_free_secret(pt, 1);
	free(sealed);
}

static void test_open_returns_binary_plaintext_with_nul_terminator(void)
{
	uint8_t data[1000], *sealed, *pt;
	size_t sealedlen, ptlen;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	data[0] = 0; /* embedded NULs survive */
	CU_ASSERT_EQUAL_FATAL(bs_crypto_seal(key1, NULL, 0, data, sizeof data,
				&sealed, &sealedlen), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_crypto_open(key1, NULL, 0, sealed, sealedlen,
				&pt, &ptlen), BS_OK);
	CU_ASSERT_EQUAL_FATAL(ptlen, sizeof data);
	CU_ASSERT_EQUAL(memcmp(pt, data, sizeof data), 0);
	CU_ASSERT_EQUAL(pt[ptlen], 0);
	bs_crypto_free_secret(pt, ptlen + 1);
	free(sealed);
}

static void test_open_fails_when_aad_differs(void)
{
	uint8_t *sealed;
	size_t len;
	seal_text("secret", &sealed, &len);
	assert_open_fails(key1, "devices:43:secret", strlen(aad), sealed, len);
	assert_open_fails(key1, aad, strlen(aad) - 1, sealed, len);
	assert_open_fails(key1, NULL, 0, sealed, len);
	free(sealed);
}

static void test_open_fails_with_other_key(void)
{
	uint8_t *sealed;
	size_t len;
	seal_text("secret", &sealed, &len);
	assert_open_fails(key2, aad, strlen(aad), sealed, len);
	free(sealed);
}

/* Flips every bit of sealed[from, to) in turn; each must be refused. */
static void assert_bit_flips_refused(size_t from, size_t to)
{
	uint8_t *sealed;
	size_t len;
	seal_text(LONG_SECRET, &sealed, &len);
	if (to > len)
		to = len;
	for (size_t i = from; i < to; i++) {
		for (int bit = 0; bit < 8; bit++) {
			sealed[i] ^= (uint8_t)(1u << bit);
			assert_open_fails(key1, aad, strlen(aad), sealed, len);
			sealed[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(sealed);
}

static void test_open_fails_when_iv_bit_flipped(void)
{
	assert_bit_flips_refused(0, BS_GCM_IV_LEN);
}

static void test_open_fails_when_ciphertext_bit_flipped(void)
{
	assert_bit_flips_refused(BS_GCM_IV_LEN,
			BS_GCM_IV_LEN + strlen(LONG_SECRET));
}

static void test_open_fails_when_tag_bit_flipped(void)
{
	size_t ct = strlen(LONG_SECRET);
	assert_bit_flips_refused(BS_GCM_IV_LEN + ct,
			BS_GCM_IV_LEN + ct + BS_GCM_TAG_LEN);
}

static void test_open_fails_on_truncated_input(void)
{
	uint8_t *sealed;
	size_t len;
	seal_text("secret", &sealed, &len);
	for (size_t n = 0; n < len; n++)
		assert_open_fails(key1, aad, strlen(aad), sealed, n);
	assert_open_fails(key1, aad, strlen(aad), NULL, 0);
	free(sealed);
}

static void test_open_fails_on_appended_byte(void)
{
	uint8_t *sealed;
	size_t len;
	seal_text("secret", &sealed, &len);
	uint8_t *longer = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(longer);
	memcpy(longer, sealed, len);
	longer[len] = 0;
	assert_open_fails(key1, aad, strlen(aad), longer, len + 1);
	free(longer);
	free(sealed);
}

static void test_two_seals_of_same_plaintext_differ(void)
{
	uint8_t *a, *b;
	size_t alen, blen;
	seal_text("same", &a, &alen);
	seal_text("same", &b, &blen);
	CU_ASSERT_EQUAL_FATAL(alen, blen);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, BS_GCM_IV_LEN), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, alen), 0);
	free(a);
	free(b);
}

static void test_sealed_value_does_not_contain_plaintext(void)
{
	uint8_t *sealed;
	size_t len;
	const char *text = "plaintext-marker-plaintext-marker";
	seal_text(text, &sealed, &len);
	for (size_t i = 0; i + 16 <= len; i++)
		CU_ASSERT_NOT_EQUAL(memcmp(sealed + i, text, 16), 0);
	free(sealed);
}

/* ---- identifiers and secrets -------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Sorts n fixed-width strings and reports whether two are equal. */
static bool has_duplicates(char *items, size_t n, size_t width)
{
	qsort(items, n, width, cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(items + (i - 1) * width, items + i * width) == 0)
			return true;
	return false;
}

static void test_uuid4_has_rfc4122_version_4_format(void)
{
	for (int round = 0; round < 500; round++) {
		char u[BS_UUID_LEN + 1];
		memset(u, 'x', sizeof u);
		CU_ASSERT_EQUAL_FATAL(bs_crypto_uuid4(u), BS_OK);
		CU_ASSERT_EQUAL(strlen(u), 36);
		for (int i = 0; i < 36; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;
			CU_ASSERT_TRUE(dash ? u[i] == '-' : is_lower_hex(u[i]));
		}
		CU_ASSERT_EQUAL(u[14], '4');
		CU_ASSERT_PTR_NOT_NULL(strchr("89ab", u[19]));
	}
}

static void test_uuid4_is_unique_over_many(void)
{
	char *all = malloc((size_t)MANY * (BS_UUID_LEN + 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	for (size_t i = 0; i < MANY; i++)
		CU_ASSERT_EQUAL(bs_crypto_uuid4(all + i * (BS_UUID_LEN + 1)),
				BS_OK);
	CU_ASSERT_FALSE(has_duplicates(all, MANY, BS_UUID_LEN + 1));
	free(all);
}

static bool is_base64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void test_secret_is_43_url_safe_characters(void)
{
	for (int round = 0; round < 500; round++) {
		char s[BS_SECRET_LEN + 1];
		memset(s, '=', sizeof s);
		CU_ASSERT_EQUAL_FATAL(bs_crypto_secret(s), BS_OK);
		CU_ASSERT_EQUAL(strlen(s), 43);
		for (int i = 0; i < 43; i++)
			CU_ASSERT_TRUE(is_base64url(s[i]));
		/* 43 characters carry 258 bits; the last 2 are zero for 256. */
		CU_ASSERT_PTR_NOT_NULL(strchr("AEIMQUYcgkosw048", s[42]));
	}
}

static void test_secret_is_unique_over_many(void)
{
	char *all = malloc((size_t)MANY * (BS_SECRET_LEN + 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	for (size_t i = 0; i < MANY; i++)
		CU_ASSERT_EQUAL(bs_crypto_secret(all + i * (BS_SECRET_LEN + 1)),
				BS_OK);
	CU_ASSERT_FALSE(has_duplicates(all, MANY, BS_SECRET_LEN + 1));
	free(all);
}

static void test_random_fills_buffer_and_accepts_zero_length(void)
{
	uint8_t buf[64] = {0}, zero[64] = {0};
	CU_ASSERT_EQUAL(bs_crypto_random(buf, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_crypto_random(NULL, 0), BS_OK);
	CU_ASSERT_EQUAL(bs_crypto_random(buf, sizeof buf), BS_OK);
	CU_ASSERT_NOT_EQUAL(memcmp(buf, zero, sizeof buf), 0);
}

/* ---- equal / free_secret ------------------------------------------------ */

static void test_equal_true_for_same_bytes(void)
{
	const char *s = "s3cr3t-token";
	char copy[32];
	strcpy(copy, s);
	CU_ASSERT_EQUAL(bs_crypto_equal(copy, strlen(copy), s, strlen(s)), 1);
	CU_ASSERT_EQUAL(bs_crypto_equal("\0a", 2, "\0a", 2), 1);
}

static void test_equal_false_when_any_byte_differs(void)
{
	char a[] = "0123456789abcdef", b[] = "0123456789abcdef";
	for (size_t i = 0; i < 16; i++) {
		b[i] ^= 1;
		CU_ASSERT_EQUAL(bs_crypto_equal(a, 16, b, 16), 0);
		b[i] ^= 1;
	}
	CU_ASSERT_EQUAL(bs_crypto_equal(a, 16, b, 16), 1);
}

static void test_equal_false_for_different_lengths(void)
{
	CU_ASSERT_EQUAL(bs_crypto_equal("abcdef", 6, "abcdefg", 7), 0);
	CU_ASSERT_EQUAL(bs_crypto_equal("abcdefg", 7, "abcdef", 6), 0);
	CU_ASSERT_EQUAL(bs_crypto_equal("xyz", 3, "abcdefgh", 8), 0);
}

static void test_equal_false_for_prefix(void)
{
	CU_ASSERT_EQUAL(bs_crypto_equal("secr", 4, "secret", 6), 0);
	CU_ASSERT_EQUAL(bs_crypto_equal("secret", 6, "secr", 4), 0);
}

static void test_equal_false_when_shorter_input_matches_zero_padding(void)
{
	/* A short guess must not match a stored value ending in NULs. */
	CU_ASSERT_EQUAL(bs_crypto_equal("abc", 3, "abc\0\0", 5), 0);
	CU_ASSERT_EQUAL(bs_crypto_equal("", 0, "\0", 1), 0);
}

static void test_equal_handles_empty_inputs(void)
{
	CU_ASSERT_EQUAL(bs_crypto_equal("", 0, "", 0), 1);
	CU_ASSERT_EQUAL(bs_crypto_equal(NULL, 0, NULL, 0), 1);
	CU_ASSERT_EQUAL(bs_crypto_equal("a", 1, "", 0), 0);
	CU_ASSERT_EQUAL(bs_crypto_equal("", 0, "a", 1), 0);
	CU_ASSERT_EQUAL(bs_crypto_equal(NULL, 0, "a", 1), 0);
}

static void test_free_secret_accepts_null_and_heap_buffer(void)
{
	bs_crypto_free_secret(NULL, 10);
	char *p = malloc(16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, "0123456789abcdef", 16);
	bs_crypto_free_secret(p, 16);
}

int main(void)
{
	static const cu_test_t key_tests[] = {
		T(test_key_load_creates_missing_file_0600_with_64_hex_digits),
		T(test_key_load_reloads_created_key_identically),
		T(test_key_load_creates_different_keys_for_different_files),
		T(test_key_load_reads_given_hex_with_and_without_newline),
		T(test_key_load_accepts_upper_case_hex),
		T(test_key_load_refuses_a_file_group_or_others_may_use),
		T(test_key_load_refuses_63_digits),
		T(test_key_load_refuses_65_digits),
		T(test_key_load_refuses_non_hex_digit),
		T(test_key_load_refuses_whitespace_other_than_one_newline),
		T(test_key_load_refuses_binary_garbage),
		T(test_key_load_refuses_empty_file),
		T(test_key_load_refuses_directory),
		T(test_key_load_refuses_unreadable_path),
		T(test_key_load_refuses_path_in_missing_directory),
		T(test_key_load_error_never_shows_file_content),
		{NULL, NULL},
	};
	static const cu_test_t seal_tests[] = {
		T(test_open_returns_sealed_plaintext),
		T(test_open_returns_empty_string_for_empty_plaintext),
		T(test_open_returns_binary_plaintext_with_nul_terminator),
		T(test_open_fails_when_aad_differs),
		T(test_open_fails_with_other_key),
		T(test_open_fails_when_iv_bit_flipped),
		T(test_open_fails_when_ciphertext_bit_flipped),
		T(test_open_fails_when_tag_bit_flipped),
		T(test_open_fails_on_truncated_input),
		T(test_open_fails_on_appended_byte),
		T(test_two_seals_of_same_plaintext_differ),
		T(test_sealed_value_does_not_contain_plaintext),
		{NULL, NULL},
	};
	static const cu_test_t id_tests[] = {
		T(test_uuid4_has_rfc4122_version_4_format),
		T(test_uuid4_is_unique_over_many),
		T(test_secret_is_43_url_safe_characters),
		T(test_secret_is_unique_over_many),
		T(test_random_fills_buffer_and_accepts_zero_length),
		{NULL, NULL},
	};
	static const cu_test_t equal_tests[] = {
		T(test_equal_true_for_same_bytes),
		T(test_equal_false_when_any_byte_differs),
		T(test_equal_false_for_different_lengths),
		T(test_equal_false_for_prefix),
		T(test_equal_false_when_shorter_input_matches_zero_padding),
		T(test_equal_handles_empty_inputs),
		T(test_free_secret_accepts_null_and_heap_buffer),
		{NULL, NULL},
	};

	cu_add_suite("key file", suite_init, suite_clean, key_tests);
	cu_add_suite("seal", seal_init, NULL, seal_tests);
	cu_add_suite("identifiers", NULL, NULL, id_tests);
	cu_add_suite("equal", NULL, NULL, equal_tests);
	return cu_run("crypto");
}
