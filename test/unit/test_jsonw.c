/* The reply writer: what it writes must parse back to what went in. */
#include "cu_main.h"
#include "jsonw.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Writes {"k": s} and returns the string Jansson reads back (caller frees). */
static char *round_trip(const char *s)
{
	jw_t w;
	size_t len = 0;
	char *text, *back = NULL;
	json_t *j;

	jw_init(&w);
	jw_object_begin(&w);
	jw_member(&w, "k", s);
	jw_object_end(&w);
	text = jw_finish(&w, &len);
	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_EQUAL(strlen(text), len);
	j = json_loadb(text, len, 0, NULL);
	CU_ASSERT_FATAL(json_is_object(j));
	back = strdup(json_string_value(json_object_get(j, "k")));
	json_decref(j);
	free(text);
	return back;
}

static void check_round_trip(const char *s)
{
	char *back = round_trip(s);

	CU_ASSERT_STRING_EQUAL(back, s);
	free(back);
}

static void test_plain_text_round_trips(void)
{
	check_round_trip("");
	check_round_trip("sensor-1");
}

static void test_quotes_and_backslashes_are_escaped(void)
{
	check_round_trip("say \"hi\" \\ bye \\\"");
}

static void test_control_characters_are_escaped(void)
{
	check_round_trip("-----BEGIN CERTIFICATE-----\nMII\r\n\tx\x01\x1f-----END");
}

static void test_utf8_goes_through(void)
{
	check_round_trip("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_members_are_separated_and_raw_kept(void)
{
	jw_t w;
	size_t len;
	char *text;

	jw_init(&w);
	jw_object_begin(&w);
	jw_member(&w, "a", "1");
	jw_key(&w, "m");
	jw_raw(&w, "{\"x\":[1,2]}");
	jw_key(&w, "l");
	jw_punct(&w, "[");
	jw_object_begin(&w);
	jw_member(&w, "id", "c");
	jw_object_end(&w);
	jw_punct(&w, "]");
	jw_object_end(&w);
	text = jw_finish(&w, &len);
	CU_ASSERT_STRING_EQUAL(text, "{\"a\":\"1\",\"m\":{\"x\":[1,2]},\"l\":[{\"id\":\"c\"}]}");
	free(text);
}

static void test_long_text_grows_the_buffer(void)
{
	char *big = malloc(100001);

	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'a', 100000);
	big[100000] = '\0';
	big[50000] = '\n';
	check_round_trip(big);
	free(big);
}

/* Any Jansson tree an admin may send (a correlationData) reads back
 * equal: keys needing escapes, reals, nesting, every scalar. */
static void test_jansson_values_round_trip(void)
{
	static const char *const texts[] = {
		"{\"k\\\"ey\\n\":[1.5,-2,true,false,null,\"\u00e9\\t\"],\"e\":{},\"a\":[]}",
		"[[[{\"x\":1e300}]],0.1,9007199254740993]",
		"\"plain\"",
		"-0.0",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *in = json_loads(texts[i], JSON_DECODE_ANY, NULL), *back;
		jw_t w;
		size_t len;
		char *text;

		CU_ASSERT_FATAL(in != NULL);
		jw_init(&w);
		jw_value(&w, in);
		text = jw_finish(&w, &len);
		CU_ASSERT_FATAL(text != NULL);
		CU_ASSERT_EQUAL(strlen(text), len);
		back = json_loads(text, JSON_DECODE_ANY, NULL);
		CU_ASSERT(json_equal(in, back));
		json_decref(in);
		json_decref(back);
		free(text);
	}
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "plain text round trips", test_plain_text_round_trips },
		{ "quotes and backslashes are escaped", test_quotes_and_backslashes_are_escaped },
		{ "control characters are escaped", test_control_characters_are_escaped },
		{ "UTF-8 goes through", test_utf8_goes_through },
		{ "members are separated, raw JSON kept", test_members_are_separated_and_raw_kept },
		{ "long text grows the buffer", test_long_text_grows_the_buffer },
		{ "Jansson values round trip", test_jansson_values_round_trip },
		{ NULL, NULL },
	};

	cu_add_suite("jsonw", NULL, NULL, tests);
	return cu_run("jsonw");
}
