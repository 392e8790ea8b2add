#include "topic.h"

#include <stdlib.h>
#include <string.h>

/* The length of the level at s (up to '/' or the end). */
static size_t level_len(const char *s)
{
	return strcspn(s, "/");
}

static int is_level(const char *s, size_t len, char c)
{
	return len == 1 && s[0] == c;
}

int bs_topic_covers(const char *pattern, const char *sub)
{
	const char *p = pattern, *s = sub;

	if (sub[0] == '$' && (pattern[0] == '+' || pattern[0] == '#'))
		return 0;
	for (;;) {
		size_t pl = level_len(p), sl = level_len(s);
		if (is_level(p, pl, '#'))
			return 1;
		/* sub's '#' matches any depth: only a pattern '#' covers it. */
		if (is_level(s, sl, '#'))
			return 0;
		if (!is_level(p, pl, '+') && (is_level(s, sl, '+') || pl != sl
				|| memcmp(p, s, pl) != 0))
			return 0;
		p += pl;
		s += sl;
		if (*s == '\0')
			/* sub ended: covered when the pattern ends too, or goes on
			 * with only "/#", which covers its parent. */
			return *p == '\0' || strcmp(p, "/#") == 0;
		if (*p == '\0')
			return 0;
		p++;
		s++;
	}
}

char *bs_topic_channel(const char *tmpl, const char *id)
{
	static const char mark[] = "{channel_id}";
	size_t idlen = strlen(id), marklen = sizeof(mark) - 1, len = 0, n = 0;
	const char *at;
	char *out, *w;

	for (at = tmpl; (at = strstr(at, mark)) != NULL; at += marklen)
		n++;
	len = strlen(tmpl) - n * marklen + n * idlen;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	w = out;
	for (const char *r = tmpl; *r != '\0';) {
		if (strncmp(r, mark, marklen) == 0) {
			memcpy(w, id, idlen);
			w += idlen;
			r += marklen;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return out;
}
