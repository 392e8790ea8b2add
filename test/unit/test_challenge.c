/* lib/challenge.c (the nonce ring) and the base64 of lib/crypto_derive.c. */
#include "challenge.h"
#include "crypto.h"
#include "cu_main.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW ((time_t)1767323045)

static void test_a_nonce_is_good_once_for_its_id(void)
{
	bs_nonces_t t = { 0 };
	uint8_t a[BS_NONCE_LEN], b[BS_NONCE_LEN];

	CU_ASSERT_EQUAL_FATAL(bs_nonces_issue(&t, "dev-1", NOW, a), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_nonces_issue(&t, "dev-1", NOW, b), BS_OK);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, BS_NONCE_LEN), 0);
	CU_ASSERT_EQUAL(bs_nonces_count(&t), 2);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, a, "dev-2", NOW), BS_ERR_UNAUTHORIZED);
	/* Tried with the wrong id, it is used up all the same. */
	CU_ASSERT_EQUAL(bs_nonces_take(&t, a, "dev-1", NOW), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, b, "dev-1", NOW + BS_NONCE_SECONDS - 1), BS_OK);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, b, "dev-1", NOW), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(bs_nonces_count(&t), 0);
	CU_ASSERT_EQUAL_FATAL(bs_nonces_issue(&t, "dev-1", NOW, a), BS_OK);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, a, "dev-1", NOW + BS_NONCE_SECONDS),
			BS_ERR_UNAUTHORIZED);
	bs_nonces_free(&t);
}

/* A flood of challenges: the oldest outstanding nonce is dropped, and the
 * table holds BS_NONCES_MAX at most. */
static void test_a_flood_drops_the_oldest_and_stays_bounded(void)
{
	bs_nonces_t t = { 0 };
	uint8_t first[BS_NONCE_LEN], second[BS_NONCE_LEN], n[BS_NONCE_LEN];
	char id[32];

	CU_ASSERT_EQUAL_FATAL(bs_nonces_issue(&t, "first", NOW, first), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_nonces_issue(&t, "second", NOW, second), BS_OK);
	for (size_t i = 2; i < BS_NONCES_MAX + 1; i++) {
		snprintf(id, sizeof id, "flood-%08zu", i);
		CU_ASSERT_EQUAL_FATAL(bs_nonces_issue(&t, id, NOW, n), BS_OK);
	}
	CU_ASSERT_EQUAL(bs_nonces_count(&t), BS_NONCES_MAX);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, first, "first", NOW), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, second, "second", NOW), BS_OK);
	CU_ASSERT_EQUAL(bs_nonces_take(&t, n, id, NOW), BS_OK);
	printf("\n    %d outstanding nonces with 14-byte ids hold %zu bytes\n",
			BS_NONCES_MAX - 2, bs_nonces_bytes(&t));
	CU_ASSERT(bs_nonces_bytes(&t) < 16u * 1024 * 1024);
	bs_nonces_free(&t);
}

/* Signed nonces (a shared store): good for the id they were signed for,
 * under the fleet's key, until they expire; a changed byte anywhere, or
 * another key, and they are refused. */
static void test_a_signed_nonce_holds_only_for_its_id_key_and_time(void)
{
	uint8_t master[32] = { 7 }, key[32], other[32], a[BS_NONCE_LEN], b[BS_NONCE_LEN];
	time_t expires = 0;

	CU_ASSERT_EQUAL_FATAL(bs_nonce_key(master, key), BS_OK);
	master[0] = 8;
	CU_ASSERT_EQUAL_FATAL(bs_nonce_key(master, other), BS_OK);
	CU_ASSERT_NOT_EQUAL(memcmp(key, other, 32), 0);
	CU_ASSERT_EQUAL_FATAL(bs_nonce_sign(key, "dev-1", NOW, a), BS_OK);
	CU_ASSERT_EQUAL_FATAL(bs_nonce_sign(key, "dev-1", NOW, b), BS_OK);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, BS_NONCE_LEN), 0);
	CU_ASSERT_EQUAL(bs_nonce_verify(key, a, "dev-1", NOW + BS_NONCE_SECONDS - 1,
			&expires), BS_OK);
	CU_ASSERT_EQUAL(expires, NOW + BS_NONCE_SECONDS);
	/* Still good where a clock runs behind the issuer's. */
	CU_ASSERT_EQUAL(bs_nonce_verify(key, a, "dev-1", NOW - 30, &expires), BS_OK);
	CU_ASSERT_EQUAL(bs_nonce_verify(key, a, "dev-1", NOW + BS_NONCE_SECONDS, &expires),
			BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(bs_nonce_verify(key, a, "dev-2", NOW, &expires), BS_ERR_UNAUTHORIZED);
	CU_ASSERT_EQUAL(bs_nonce_verify(other, a, "dev-1", NOW, &expires), BS_ERR_UNAUTHORIZED);
	for (int i = 0; i < BS_NONCE_LEN; i++) {
		memcpy(b, a, BS_NONCE_LEN);
		b[i] ^= 0x01;
		CU_ASSERT_EQUAL(bs_nonce_verify(key, b, "dev-1", NOW, &expires),
				BS_ERR_UNAUTHORIZED);
	}
}

static void test_base64_is_standard_and_strict(void)
{
	static const struct { const char *text; int ok; size_t len; } cases[] = {
		{ "", 1, 0 }, { "Zg==", 1, 1 }, { "Zm8=", 1, 2 }, { "Zm9v", 1, 3 },
		{ "+/8=", 1, 2 }, { "Zg=", 0, 0 }, { "Zg", 0, 0 }, { "Z g=", 0, 0 },
		{ "-_8=", 0, 0 }, { "Zg==Zg==", 0, 0 }, { "====", 0, 0 },
	};
	uint8_t out[8];
	size_t len;
	char *enc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = bs_b64_decode(cases[i].text, strlen(cases[i].text), out,
				sizeof(out), &len);
		if ((rc == BS_OK) != cases[i].ok)
			fprintf(stderr, "\n    decode(%s): %d\n", cases[i].text, rc);
		CU_ASSERT_EQUAL(rc == BS_OK, cases[i].ok);
		if (rc == BS_OK)
			CU_ASSERT_EQUAL(len, cases[i].len);
	}
	CU_ASSERT_EQUAL(bs_b64_decode("Zm9vYmFy", 8, out, 5, &len), BS_ERR_INVALID);
	enc = bs_b64_encode("\xfb\xff", 2);
	CU_ASSERT_STRING_EQUAL(enc, "+/8=");
	free(enc);
}

static const cu_test_t tests[] = {
	{ "a_nonce_is_good_once_for_its_id", test_a_nonce_is_good_once_for_its_id },
	{ "a_flood_drops_the_oldest_and_stays_bounded",
		test_a_flood_drops_the_oldest_and_stays_bounded },
	{ "a_signed_nonce_holds_only_for_its_id_key_and_time",
		test_a_signed_nonce_holds_only_for_its_id_key_and_time },
	{ "base64_is_standard_and_strict", test_base64_is_standard_and_strict },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("challenge", NULL, NULL, tests);
	return cu_run("test_challenge");
}
