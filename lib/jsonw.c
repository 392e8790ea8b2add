#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw_t *w)
{
	memset(w, 0, sizeof(*w));
	w->first = 1;
}

/* Room for n more bytes and the NUL; 0 when memory ran out. */
static int reserve(jw_t *w, size_t n)
{
	size_t cap;
	char *grown;

	if (w->failed)
		return 0;
	if (w->len + n + 1 <= w->cap)
		return 1;
	cap = w->cap ? w->cap : 256;
	while (cap < w->len + n + 1)
		cap *= 2;
	if ((grown = realloc(w->buf, cap)) == NULL) {
		w->failed = 1;
		return 0;
	}
	w->buf = grown;
	w->cap = cap;
	return 1;
}

static void put(jw_t *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jw_punct(jw_t *w, const char *text)
{
	put(w, text, strlen(text));
}

void jw_object_begin(jw_t *w)
{
	put(w, "{", 1);
	w->first = 1;
}

void jw_object_end(jw_t *w)
{
	put(w, "}", 1);
	w->first = 0;
}

/* Keys are the protocol's field names: plain ASCII, written unescaped. */
void jw_key(jw_t *w, const char *key)
{
	size_t n = strlen(key);
	char *p;

	if (!reserve(w, n + 4))
		return;
	p = w->buf + w->len;
	if (!w->first)
		*p++ = ',';
	w->first = 0;
	*p++ = '"';
	memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	*p = '\0';
	w->len = (size_t)(p - w->buf);
}

static void escape(jw_t *w, unsigned char c)
{
	char esc[8];

	switch (c) {
	case '"': put(w, "\\\"", 2); break;
	case '\\': put(w, "\\\\", 2); break;
	case '\n': put(w, "\\n", 2); break;
	case '\r': put(w, "\\r", 2); break;
	case '\t': put(w, "\\t", 2); break;
	default:
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		put(w, esc, 6);
	}
}

/* jsonw.h: 3 for plain ASCII, 1 for the bytes of multibyte UTF-8. */
#define A16 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3
#define U16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define U64 U16, U16, U16, U16
const unsigned char jw_bytes[256] = {
	[0x20] = 3, 3, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	[0x30] = A16, A16,
	[0x50] = 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 3, 3, 3,
	[0x60] = A16, A16, U64, U64,
};
#undef U64
#undef U16
#undef A16

/* The bytes of s before the first one JSON requires escaped: the quote,
 * the backslash, a control character, or the end. */
static size_t span(const char *s)
{
	size_t n = 0;

	while (jw_bytes[(unsigned char)s[n]] & JW_AS_IS)
		n++;
	return n;
}

/* Escapes what JSON requires: the quote, the backslash and control
 * characters; everything else (valid UTF-8 from the store) is copied in
 * spans. A string with nothing to escape, the usual one, is one write. */
void jw_string(jw_t *w, const char *s)
{
	size_t n = span(s);
	char *p;

	if (s[n] == '\0') {
		if (!reserve(w, n + 2))
			return;
		p = w->buf + w->len;
		p[0] = '"';
		memcpy(p + 1, s, n);
		p[n + 1] = '"';
		p[n + 2] = '\0';
		w->len += n + 2;
		return;
	}
	put(w, "\"", 1);
	for (;;) {
		put(w, s, n);
		if (s[n] == '\0')
			break;
		escape(w, (unsigned char)s[n]);
		s += n + 1;
		n = span(s);
	}
	put(w, "\"", 1);
}

void jw_raw(jw_t *w, const char *json)
{
	put(w, json, strlen(json));
}

/* Strings from Jansson may hold any key or value an admin sent, NUL
 * included only with JSON_ALLOW_NUL, which the admin parser never sets. */
static void write_object(jw_t *w, const json_t *v)
{
	const char *key;
	json_t *member;
	int first = 1;

	put(w, "{", 1);
	json_object_foreach((json_t *)v, key, member) {
		if (!first)
			put(w, ",", 1);
		first = 0;
		jw_string(w, key);
		put(w, ":", 1);
		jw_value(w, member);
	}
	put(w, "}", 1);
}

static void write_array(jw_t *w, const json_t *v)
{
	size_t i;
	json_t *item;

	put(w, "[", 1);
	json_array_foreach(v, i, item) {
		if (i > 0)
			put(w, ",", 1);
		jw_value(w, item);
	}
	put(w, "]", 1);
}

/* A real, in Jansson's own notation (rare: a correlationData). */
static void write_real(jw_t *w, const json_t *v)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	if (text == NULL) {
		w->failed = 1;
		return;
	}
	jw_raw(w, text);
	free(text);
}

void jw_value(jw_t *w, const json_t *v)
{
	char num[32];

	switch (json_typeof(v)) {
	case JSON_OBJECT: write_object(w, v); break;
	case JSON_ARRAY: write_array(w, v); break;
	case JSON_STRING: jw_string(w, json_string_value(v)); break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		jw_raw(w, num);
		break;
	case JSON_REAL: write_real(w, v); break;
	case JSON_TRUE: put(w, "true", 4); break;
	case JSON_FALSE: put(w, "false", 5); break;
	case JSON_NULL: put(w, "null", 4); break;
	}
	w->first = 0;
}

void jw_member(jw_t *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_string(w, value);
}

char *jw_finish(jw_t *w, size_t *len)
{
	if (w->failed || w->buf == NULL) {
		free(w->buf);
		jw_init(w);
		return NULL;
	}
	*len = w->len;
	return w->buf;
}
