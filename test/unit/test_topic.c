/* lib/topic.c: which filters a channel topic covers, and channel topics. */
#include "cu_main.h"
#include "topic.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
	const char *pattern, *sub;
	int covered;
} covers_case_t;

static void check_cases(const covers_case_t *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int got = bs_topic_covers(c[i].pattern, c[i].sub);
		if (got != c[i].covered)
			fprintf(stderr, "covers(%s, %s) = %d, want %d\n",
					c[i].pattern, c[i].sub, got, c[i].covered);
		CU_ASSERT_EQUAL(got, c[i].covered);
	}
}

static void test_names_match_as_in_mqtt(void)
{
	static const covers_case_t c[] = {
		{ "channels/c1/messages/#", "channels/c1/messages/t", 1 },
		{ "channels/c1/messages/#", "channels/c1/messages/a/b/c", 1 },
		{ "channels/c1/messages/#", "channels/c1/messages", 1 },
		{ "channels/c1/messages/#", "channels/c1/messages/", 1 },
		{ "channels/c1/messages/#", "channels/c1", 0 },
		{ "channels/c1/messages/#", "channels/c2/messages/t", 0 },
		{ "channels/c1/messages/#", "channels/c10/messages/t", 0 },
		{ "channels/c1/messages/#", "channels/c/messages/t", 0 },
		{ "channels/c1/messages/#", "other", 0 },
		{ "channels/c1/+", "channels/c1/x", 1 },
		{ "channels/c1/+", "channels/c1", 0 },
		{ "channels/c1/+", "channels/c1/x/y", 0 },
		{ "channels/c1", "channels/c1", 1 },
		{ "channels/c1", "channels/c1/x", 0 },
		{ "a//b", "a//b", 1 },
		{ "#", "anything/at/all", 1 },
		{ "#", "$SYS/broker", 0 },
		{ "+/x", "$SYS/x", 0 },
	};
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_a_filter_is_covered_only_when_every_match_is(void)
{
	static const covers_case_t c[] = {
		{ "channels/c1/messages/#", "channels/c1/messages/#", 1 },
		{ "channels/c1/messages/#", "channels/c1/messages/+", 1 },
		{ "channels/c1/messages/#", "channels/c1/messages/+/x/#", 1 },
		{ "channels/c1/messages/#", "#", 0 },
		{ "channels/c1/messages/#", "channels/#", 0 },
		{ "channels/c1/messages/#", "channels/+/messages/#", 0 },
		{ "channels/c1/messages/#", "channels/c1/#", 0 },
		{ "channels/c1/messages/#", "+/c1/messages/t", 0 },
		{ "channels/c1/+", "channels/c1/+", 1 },
		{ "channels/c1/+", "channels/c1/#", 0 },
		{ "channels/c1/+/t", "channels/c1/+/t", 1 },
		{ "channels/c1/x/t", "channels/c1/+/t", 0 },
		{ "#", "#", 1 },
	};
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_channel_topic_replaces_every_mark(void)
{
	char *t = bs_topic_channel("channels/{channel_id}/messages/#", "c-1");
	char *two = bs_topic_channel("{channel_id}/x/{channel_id}", "ab");
	char *none = bs_topic_channel("fixed/topic", "ab");

	CU_ASSERT_STRING_EQUAL(t, "channels/c-1/messages/#");
	CU_ASSERT_STRING_EQUAL(two, "ab/x/ab");
	CU_ASSERT_STRING_EQUAL(none, "fixed/topic");
	free(t);
	free(two);
	free(none);
}

static const cu_test_t tests[] = {
	{ "names_match_as_in_mqtt", test_names_match_as_in_mqtt },
	{ "a_filter_is_covered_only_when_every_match_is",
		test_a_filter_is_covered_only_when_every_match_is },
	{ "channel_topic_replaces_every_mark", test_channel_topic_replaces_every_mark },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("topic", NULL, NULL, tests);
	return cu_run("test_topic");
}
