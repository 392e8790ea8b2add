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
	{ "base64_is_standard_and_strict", test_base64_is_standard_and_strict },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("challenge", NULL, NULL, tests);
	return cu_run("test_challenge");
}
