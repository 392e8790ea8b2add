/*
 * Reading a device reply without a JSON library: a reply is one flat
 * object, and building a Jansson tree for each one made the load
 * generator, not the broker, the bottleneck of the faster phases. The
 * scanner walks the members, checks the structure (strings closed,
 * brackets balanced, members separated), and hands back the raw spans of
 * the members asked for. Values are compared raw: a reply that escapes
 * a character in them does not match, and counts as wrong.
 */
#include "bench.h"

#include <string.h>

typedef struct {
	const char *p, *end;
} scan_t;

static void blanks(scan_t *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n'
			|| *s->p == '\r'))
		s->p++;
}

/* A string from its opening quote; its content is [*start, s->p - 1). */
static int string(scan_t *s, const char **start)
{
	if (s->p >= s->end || *s->p != '"')
		return -1;
	*start = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		if ((unsigned char)*s->p < 0x20)
			return -1;
		s->p += *s->p == '\\' ? 2 : 1;
	}
	if (s->p >= s->end)
		return -1;
	s->p++;
	return 0;
}

/* An array or object, skipped whole: brackets balanced outside strings. */
static int nested(scan_t *s)
{
	char stack[32];
	size_t depth = 0;
	const char *ignored;

	do {
		char c = *s->p;

		if (c == '"') {
			if (string(s, &ignored) != 0)
				return -1;
			continue;
		}
		if (c == '[' || c == '{') {
			if (depth == sizeof(stack))
				return -1;
			stack[depth++] = c == '[' ? ']' : '}';
		} else if (c == ']' || c == '}') {
			if (depth == 0 || stack[--depth] != c)
				return -1;
		}
		s->p++;
	} while (depth > 0 && s->p < s->end);
	return depth == 0 ? 0 : -1;
}

/* true, false, null or a number (its characters, not its grammar). */
static int literal(scan_t *s)
{
	static const char *const words[] = { "true", "false", "null" };
	const char *start = s->p;
	size_t len;

	while (s->p < s->end && strchr(",} \t\r\n", *s->p) == NULL)
		s->p++;
	len = (size_t)(s->p - start);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (len == strlen(words[i]) && memcmp(start, words[i], len) == 0)
			return 0;
	return len > 0 && strspn(start, "-+.eE0123456789") >= len ? 0 : -1;
}

static int value(scan_t *s, bench_span_t *out)
{
	const char *start = s->p;

	if (s->p >= s->end)
		return -1;
	if (*s->p == '"') {
		if (string(s, &out->p) != 0)
			return -1;
		out->len = (size_t)(s->p - 1 - out->p);
		out->kind = '"';
		return 0;
	}
	if ((*s->p == '[' || *s->p == '{') ? nested(s) != 0 : literal(s) != 0)
		return -1;
	out->p = start;
	out->len = (size_t)(s->p - start);
	out->kind = *start == '[' || *start == '{' ? *start : 'l';
	return 0;
}

static int member(scan_t *s, const char *const *keys, bench_span_t *vals, size_t n)
{
	const char *key;
	bench_span_t v;
	size_t klen;

	if (string(s, &key) != 0)
		return -1;
	klen = (size_t)(s->p - 1 - key);
	blanks(s);
	if (s->p >= s->end || *s->p++ != ':')
		return -1;
	blanks(s);
	if (value(s, &v) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strlen(keys[i]) == klen && memcmp(keys[i], key, klen) == 0) {
			if (vals[i].kind != 0)
				return -1;      /* a member twice */
			vals[i] = v;
		}
	}
	return 0;
}

int reply_scan(const void *json, size_t len, const char *const *keys,
		bench_span_t *vals, size_t n)
{
	scan_t s = { json, (const char *)json + len };

	memset(vals, 0, n * sizeof(*vals));
	blanks(&s);
	if (s.p >= s.end || *s.p++ != '{')
		return -1;
	blanks(&s);
	if (s.p < s.end && *s.p == '}') {
		s.p++;
	} else {
		for (;;) {
			if (member(&s, keys, vals, n) != 0)
				return -1;
			blanks(&s);
			if (s.p >= s.end)
				return -1;
			if (*s.p == '}') {
				s.p++;
				break;
			}
			if (*s.p++ != ',')
				return -1;
			blanks(&s);
		}
	}
	blanks(&s);
	return s.p == s.end ? 0 : -1;
}

bool span_is(const bench_span_t *v, const char *want)
{
	return v->kind == '"' && v->len == strlen(want) && memcmp(v->p, want, v->len) == 0;
}
