#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(jw_t *w)
{
	memset(w, 0, sizeof(*w));
	w->first = 1;
}

static void put(jw_t *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n + 1)
			cap *= 2;
		char *grown = realloc(w->buf, cap);
		if (grown == NULL) {
			w->failed = 1;
			return;
		}
		w->buf = grown;
		w->cap = cap;
	}
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

void jw_key(jw_t *w, const char *key)
{
	if (!w->first)
		put(w, ",", 1);
	w->first = 0;
	jw_string(w, key);
	put(w, ":", 1);
}

/* Escapes what JSON requires: the quote, the backslash and control
 * characters; everything else (valid UTF-8 from the store) goes as is. */
void jw_string(jw_t *w, const char *s)
{
	const char *run = s;
	char esc[8];

	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(s - run));
		run = s + 1;
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
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

void jw_raw(jw_t *w, const char *json)
{
	put(w, json, strlen(json));
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
