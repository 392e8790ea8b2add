/* The JSON reader: it accepts and refuses what Jansson does, and builds
 * the same trees. */
#include "cu_main.h"
#include "jsonr.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the reader and Jansson agree on text; prints it when not. */
static int agrees(const char *text, size_t len)
{
	json_t *ours = jr_parse(text, len);
	json_t *theirs = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	int same = (ours == NULL) == (theirs == NULL)
		&& (ours == NULL || json_equal(ours, theirs));

	if (!same)
		printf("\n    disagree on %.*s: ours %s, Jansson %s\n", (int)len, text,
				ours ? "read it" : "refused it", theirs ? "read it" : "refused it");
	json_decref(ours);
	json_decref(theirs);
	return same;
}

static void check_all(const char *const *texts, size_t n, int want_read)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = jr_parse(texts[i], strlen(texts[i]));
		CU_ASSERT(agrees(texts[i], strlen(texts[i])));
		if ((v != NULL) != want_read)
			printf("\n    %s: expected %s\n", texts[i], want_read ? "read" : "refused");
		CU_ASSERT((v != NULL) == want_read);
		json_decref(v);
	}
}

static void test_well_formed_texts_read_as_jansson_reads_them(void)
{
	static const char *const texts[] = {
		"{}", "[]", " { \"a\" : [ 1 , -2 , 3.5e-2 , true , false , null ] } ",
		"\"x\"", "0", "-0", "-0.0", "1E5", "1e+5", "1.25e-400", "9223372036854775807",
		"-9223372036854775808", "\"\\u00e9\\uD83D\\uDE00\\n\\t\\b\\f\\r\\/\\\\\\\"\"",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "{\"\":1, \"a\\u0041\":{\"b\":[[]]}}",
		"{\"commands\":[{\"command\":\"createConfig\",\"external_id\":\"e\"}]}",
	};
	check_all(texts, sizeof(texts) / sizeof(texts[0]), 1);
}

static void test_malformed_texts_are_refused_as_jansson_refuses_them(void)
{
	static const char *const texts[] = {
		"", " ", "{", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",
		"[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]", "[1 2]", "[truex]", "nul",
		"9223372036854775808", "-9223372036854775809", "1e400", "-1e400",
		"{\"a\":1,\"a\":2}", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"",
		"\"\\ud800\\u0041\"", "\"\\x\"", "\"\\u12g4\"", "\"a", "\"\t\"",
		"\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"",
		"\"\x80\"", "{} []", "[] x", "\"\xff\"",
	};
	check_all(texts, sizeof(texts) / sizeof(texts[0]), 0);
}

/* A NUL byte is refused in a string and between tokens alike. */
static void test_nul_bytes_are_refused(void)
{
	json_t *v;

	CU_ASSERT(agrees("\"a\0b\"", 5));
	CU_ASSERT_PTR_NULL(jr_parse("\"a\0b\"", 5));
	CU_ASSERT(agrees("[1,\0 2]", 7));
	CU_ASSERT_PTR_NULL(jr_parse("[1,\0 2]", 7));
	/* Jansson skips a NUL that follows a number or a literal; the reader
	 * refuses it like any other. */
	v = json_loadb("[1\0]", 4, JSON_DECODE_ANY, NULL);
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(v);
	CU_ASSERT_PTR_NULL(jr_parse("[1\0]", 4));
	CU_ASSERT_PTR_NULL(jr_parse("true\0", 5));
	/* The length bounds the text: what follows is not read. */
	v = jr_parse("[1]xyz", 3);
	CU_ASSERT(json_is_array(v));
	json_decref(v);
}

static char *nested(int depth)
{
	char *text = malloc(2 * (size_t)depth + 1);

	memset(text, '[', (size_t)depth);
	memset(text + depth, ']', (size_t)depth);
	text[2 * depth] = '\0';
	return text;
}

/* Jansson's own depth limit, JSON_PARSER_MAX_DEPTH, holds. */
static void test_nesting_is_bounded_as_in_jansson(void)
{
	char *ok = nested(JSON_PARSER_MAX_DEPTH), *deep = nested(JSON_PARSER_MAX_DEPTH + 1);
	json_t *v = jr_parse(ok, strlen(ok));

	CU_ASSERT(json_is_array(v));
	CU_ASSERT(agrees(ok, strlen(ok)));
	CU_ASSERT_PTR_NULL(jr_parse(deep, strlen(deep)));
	CU_ASSERT(agrees(deep, strlen(deep)));
	json_decref(v);
	free(ok);
	free(deep);
}

/* Members keep their order, as Jansson's do. */
static void test_member_order_is_kept(void)
{
	json_t *v = jr_parse("{\"z\":1,\"a\":2,\"m\":3}", 19);
	char *text = json_dumps(v, JSON_COMPACT);

	CU_ASSERT_STRING_EQUAL(text, "{\"z\":1,\"a\":2,\"m\":3}");
	free(text);
	json_decref(v);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "well-formed texts read as Jansson reads them",
			test_well_formed_texts_read_as_jansson_reads_them },
		{ "malformed texts are refused as Jansson refuses them",
			test_malformed_texts_are_refused_as_jansson_refuses_them },
		{ "NUL bytes are refused", test_nul_bytes_are_refused },
		{ "nesting is bounded as in Jansson", test_nesting_is_bounded_as_in_jansson },
		{ "member order is kept", test_member_order_is_kept },
		{ NULL, NULL },
	};

	cu_add_suite("jsonr", NULL, NULL, tests);
	return cu_run("jsonr");
}
