/* The device request parser: valid JSON in, the known members out. */
#include "cu_main.h"
#include "error.h"
#include "request.h"

#include <stdio.h>
#include <string.h>

/* Parses text (its strlen) and returns the result; r is freed by the caller. */
static int parse_text(const char *text, bs_request_t *r)
{
	const char *why;

	return bs_request_parse(text, strlen(text), r, &why);
}

static void check_invalid(const char *text)
{
	bs_request_t r;
	int rc = parse_text(text, &r);

	if (rc != BS_ERR_INVALID)
		printf("\n    accepted: %s\n", text);
	CU_ASSERT_EQUAL(rc, BS_ERR_INVALID);
	bs_request_free(&r);
}

static void check_string(const char *text, const char *want, size_t wantlen)
{
	bs_request_t r;

	CU_ASSERT_EQUAL_FATAL(parse_text(text, &r), BS_OK);
	CU_ASSERT_EQUAL(r.external_id.kind, BS_JSON_STRING);
	CU_ASSERT_EQUAL(r.external_id.len, wantlen);
	CU_ASSERT(memcmp(r.external_id.str, want, wantlen) == 0);
	CU_ASSERT_EQUAL(r.external_id.str[wantlen], '\0');
	bs_request_free(&r);
}

static void test_known_members_are_read(void)
{
	bs_request_t r;

	CU_ASSERT_EQUAL_FATAL(parse_text(" {\"external_id\" : \"dev-1\",\n"
			"\t\"external_key\":\"k-123456\", \"id\":\"r1\", \"encrypt\": false,"
			" \"other\": [1, {\"a\": null}, -2.5e+3], \"x\": true}\r\n", &r), BS_OK);
	CU_ASSERT_STRING_EQUAL(r.external_id.str, "dev-1");
	CU_ASSERT_STRING_EQUAL(r.external_key.str, "k-123456");
	CU_ASSERT_STRING_EQUAL(r.id.str, "r1");
	CU_ASSERT_EQUAL(r.encrypt.kind, BS_JSON_FALSE);
	CU_ASSERT_EQUAL(r.op.kind, BS_JSON_ABSENT);
	bs_request_free(&r);
}

static void test_kinds_of_known_members_are_reported(void)
{
	bs_request_t r;

	CU_ASSERT_EQUAL_FATAL(parse_text("{\"external_id\": 12, \"external_key\": null,"
			" \"id\": {}, \"encrypt\": true, \"op\": [], \"proof\": \"p\"}", &r), BS_OK);
	CU_ASSERT_EQUAL(r.external_id.kind, BS_JSON_NUMBER);
	CU_ASSERT_EQUAL(r.external_key.kind, BS_JSON_NULL);
	CU_ASSERT_EQUAL(r.id.kind, BS_JSON_OBJECT);
	CU_ASSERT_EQUAL(r.encrypt.kind, BS_JSON_TRUE);
	CU_ASSERT_EQUAL(r.op.kind, BS_JSON_ARRAY);
	CU_ASSERT_EQUAL(r.proof.kind, BS_JSON_STRING);
	bs_request_free(&r);
}

static void test_escapes_are_decoded(void)
{
	check_string("{\"external_id\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"}",
			"a\"b\\c/d\b\f\n\r\te", 13);
	check_string("{\"external_id\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"}",
			"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
	check_string("{\"external_id\":\"\"}", "", 0);
	check_string("{\"external_id\":\"raw caf\xc3\xa9\"}", "raw caf\xc3\xa9", 9);
}

static void test_bad_strings_are_refused(void)
{
	check_invalid("{\"external_id\":\"\\u0000\"}");
	check_invalid("{\"external_id\":\"\\ud83d\"}");
	check_invalid("{\"external_id\":\"\\ude00\"}");
	check_invalid("{\"external_id\":\"\\ud83d\\u0041\"}");
	check_invalid("{\"external_id\":\"\\u12g4\"}");
	check_invalid("{\"external_id\":\"\\x41\"}");
	check_invalid("{\"external_id\":\"tab\there\"}");
	check_invalid("{\"external_id\":\"\xc0\x80\"}");
	check_invalid("{\"external_id\":\"\xed\xa0\x80\"}");
	check_invalid("{\"external_id\":\"\xf4\x90\x80\x80\"}");
	check_invalid("{\"external_id\":\"\xe2\x82\"}");
	check_invalid("{\"external_id\":\"\xff\"}");
	check_invalid("{\"external_id\":\"open");
	check_invalid("{\"external_id\":\"ends in escape\\");
}

static void test_numbers_follow_the_grammar(void)
{
	static const char *const good[] = { "0", "-0", "12", "-1.5", "1e9", "2E-3", "0.25e+1" };
	static const char *const bad[] = { "01", "-", "1.", ".5", "1e", "+1", "0x1", "1.e2", "--1" };
	char text[64];
	bs_request_t r;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "{\"n\": %s}", good[i]);
		CU_ASSERT_EQUAL(parse_text(text, &r), BS_OK);
		bs_request_free(&r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"n\": %s}", bad[i]);
		check_invalid(text);
	}
}

static void test_structure_errors_are_refused(void)
{
	check_invalid("");
	check_invalid("   ");
	check_invalid("{");
	check_invalid("{\"a\"}");
	check_invalid("{\"a\":}");
	check_invalid("{\"a\":1,}");
	check_invalid("{,\"a\":1}");
	check_invalid("{\"a\":1 \"b\":2}");
	check_invalid("{a:1}");
	check_invalid("{\"a\":[1,]}");
	check_invalid("{\"a\":tru}");
	check_invalid("{\"a\":nul}");
	check_invalid("{} {}");
	check_invalid("{}x");
	check_invalid("{\"a\":1}]");
	check_invalid("{\"a\":{\"b\":1}");
}

static void test_not_an_object_is_told_apart(void)
{
	static const char *const texts[] = { "[]", "\"s\"", "12", "null", "true" };
	const char *why;
	bs_request_t r;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		CU_ASSERT_EQUAL(bs_request_parse(texts[i], strlen(texts[i]), &r, &why),
				BS_ERR_INVALID);
		CU_ASSERT_STRING_EQUAL(why, "not an object");
		bs_request_free(&r);
	}
	CU_ASSERT_EQUAL(bs_request_parse("[1,", 3, &r, &why), BS_ERR_INVALID);
	CU_ASSERT_STRING_EQUAL(why, "not JSON");
	bs_request_free(&r);
}

static void test_nul_byte_in_payload_is_refused(void)
{
	static const char text[] = "{\"external_id\":\"a\0b\"}";
	const char *why;
	bs_request_t r;

	CU_ASSERT_EQUAL(bs_request_parse(text, sizeof(text) - 1, &r, &why), BS_ERR_INVALID);
	bs_request_free(&r);
	CU_ASSERT_EQUAL(bs_request_parse("{}\0", 3, &r, &why), BS_ERR_INVALID);
	bs_request_free(&r);
}

static void test_repeated_known_member_is_refused(void)
{
	bs_request_t r;

	check_invalid("{\"external_id\":\"a\",\"external_id\":\"b\"}");
	check_invalid("{\"id\":\"1\",\"x\":0,\"id\":\"2\"}");
	CU_ASSERT_EQUAL(parse_text("{\"x\":1,\"x\":2,\"external_id\":\"a\"}", &r), BS_OK);
	bs_request_free(&r);
}

static void test_nesting_is_bounded(void)
{
	char text[512];
	size_t n = 0;
	bs_request_t r;

	n += (size_t)snprintf(text, sizeof(text), "{\"a\":");
	for (int i = 0; i < 62; i++)
		text[n++] = '[';
	for (int i = 0; i < 62; i++)
		text[n++] = ']';
	snprintf(text + n, sizeof(text) - n, "}");
	CU_ASSERT_EQUAL(parse_text(text, &r), BS_OK);
	bs_request_free(&r);
	n = (size_t)snprintf(text, sizeof(text), "{\"a\":");
	for (int i = 0; i < 200; i++)
		text[n++] = '[';
	for (int i = 0; i < 200; i++)
		text[n++] = ']';
	snprintf(text + n, sizeof(text) - n, "}");
	check_invalid(text);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "known members are read", test_known_members_are_read },
		{ "kinds of known members are reported", test_kinds_of_known_members_are_reported },
		{ "escapes are decoded", test_escapes_are_decoded },
		{ "bad strings are refused", test_bad_strings_are_refused },
		{ "numbers follow the grammar", test_numbers_follow_the_grammar },
		{ "structure errors are refused", test_structure_errors_are_refused },
		{ "not an object is told apart", test_not_an_object_is_told_apart },
		{ "NUL byte in payload is refused", test_nul_byte_in_payload_is_refused },
		{ "repeated known member is refused", test_repeated_known_member_is_refused },
		{ "nesting is bounded", test_nesting_is_bounded },
		{ NULL, NULL },
	};

	cu_add_suite("request", NULL, NULL, tests);
	return cu_run("request");
}
