#include "jsonr.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const unsigned char *p, *end;
	int depth;
	int failed;
} reader_t;

static json_t *read_value(reader_t *r);

static json_t *fail(reader_t *r)
{
	r->failed = 1;
	return NULL;
}

static void skip_space(reader_t *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n'
			|| *r->p == '\r'))
		r->p++;
}

/* The length of the well-formed UTF-8 character at p (no overlong form,
 * no surrogate, at most U+10FFFF), or 0. */
static size_t utf8_char(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	uint32_t v;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xC2 || p[0] > 0xF4)
		return 0;
	n = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
	if ((size_t)(end - p) < n)
		return 0;
	v = p[0] & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF
			|| (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
	uint32_t v = 0;

	if (end - p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

static size_t utf8_put(uint32_t v, char *out)
{
	if (v < 0x80) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		out[0] = (char)(0xC0 | (v >> 6));
		out[1] = (char)(0x80 | (v & 0x3F));
		return 2;
	}
	if (v < 0x10000) {
		out[0] = (char)(0xE0 | (v >> 12));
		out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
		out[2] = (char)(0x80 | (v & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (v >> 18));
	out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
	out[3] = (char)(0x80 | (v & 0x3F));
	return 4;
}

/* A \u escape with its four hex digits (r->p after the u), a surrogate
 * pair whole; never U+0000, which
 * Jansson refuses without JSON_ALLOW_NUL. */
static int read_unicode(reader_t *r, char *out, size_t *n)
{
	uint32_t v, low;

	if (!hex4(r->p, r->end, &v))
		return 0;
	r->p += 4;
	if (v >= 0xDC00 && v <= 0xDFFF)
		return 0;
	if (v >= 0xD800 && v <= 0xDBFF) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u'
				|| !hex4(r->p + 2, r->end, &low) || low < 0xDC00 || low > 0xDFFF)
			return 0;
		r->p += 6;
		v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
	}
	if (v == 0)
		return 0;
	*n = utf8_put(v, out);
	return 1;
}

/* One escape (r->p after the backslash) into out; its length, or 0. */
static size_t read_escape(reader_t *r, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	size_t n;

	if (r->p >= r->end)
		return 0;
	if (*r->p == 'u') {
		r->p++;
		return read_unicode(r, out, &n) ? n : 0;
	}
	if ((hit = memchr(from, *r->p, sizeof(from) - 1)) == NULL)
		return 0;
	r->p++;
	out[0] = to[hit - from];
	return 1;
}

/* The end of the string that starts at r->p (after its quote) when it has
 * no escape, checking it; NULL when it has one, or is not well formed
 * (then r->failed). */
static const unsigned char *plain_end(reader_t *r)
{
	const unsigned char *p = r->p;

	while (p < r->end) {
		size_t n;
		if (*p == '"')
			return p;
		if (*p == '\\')
			return NULL;
		if (*p < 0x20 || (n = utf8_char(p, r->end)) == 0)
			break;
		p += n;
	}
	r->failed = 1;
	return NULL;
}

/* A string with escapes, decoded into a buffer of its own (never longer
 * than its text); *len set. */
static char *read_escaped(reader_t *r, size_t *len)
{
	char *buf = malloc((size_t)(r->end - r->p) + 1), *q = buf;

	if (buf == NULL)
		return NULL;
	while (r->p < r->end && *r->p != '"') {
		size_t n;
		if (*r->p == '\\') {
			r->p++;
			n = read_escape(r, q);
		} else if (*r->p < 0x20 || (n = utf8_char(r->p, r->end)) == 0) {
			n = 0;
		} else {
			memcpy(q, r->p, n);
			r->p += n;
		}
		if (n == 0) {
			free(buf);
			return NULL;
		}
		q += n;
	}
	if (r->p >= r->end) {
		free(buf);
		return NULL;
	}
	r->p++;
	*len = (size_t)(q - buf);
	return buf;
}

/* The string at r->p (its opening quote): *text points at its bytes, in
 * the input or in *owned (to free); NULL-free on failure. */
static int read_string(reader_t *r, const char **text, size_t *len, char **owned)
{
	const unsigned char *end;

	*owned = NULL;
	r->p++;
	if ((end = plain_end(r)) != NULL) {
		*text = (const char *)r->p;
		*len = (size_t)(end - r->p);
		r->p = end + 1;
		return 1;
	}
	if (r->failed || (*owned = read_escaped(r, len)) == NULL)
		return 0;
	*text = *owned;
	return 1;
}

static json_t *string_value(reader_t *r)
{
	const char *text;
	size_t len;
	char *owned;
	json_t *v;

	if (!read_string(r, &text, &len, &owned))
		return fail(r);
	v = json_stringn_nocheck(text, len);
	free(owned);
	return v != NULL ? v : fail(r);
}

static const unsigned char *digits(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* The number's text, NUL-terminated for strtoll and strtod. */
static json_t *number_of(reader_t *r, const unsigned char *start, size_t n, int real)
{
	char small[64], *text = n < sizeof(small) ? small : malloc(n + 1);
	json_t *v = NULL;

	if (text == NULL)
		return fail(r);
	memcpy(text, start, n);
	text[n] = '\0';
	errno = 0;
	if (!real) {
		long long i = strtoll(text, NULL, 10);
		if (errno != ERANGE)
			v = json_integer((json_int_t)i);
	} else {
		double d = strtod(text, NULL);
		if (!((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE))
			v = json_real(d);
	}
	if (text != small)
		free(text);
	return v != NULL ? v : fail(r);
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static json_t *number_value(reader_t *r)
{
	const unsigned char *start = r->p, *p = r->p, *q;
	int real = 0;

	if (p < r->end && *p == '-')
		p++;
	if (p < r->end && *p == '0')
		q = p + 1;
	else if ((q = digits(p, r->end)) == p)
		return fail(r);
	p = q;
	if (p < r->end && *p == '.') {
		real = 1;
		if ((q = digits(p + 1, r->end)) == p + 1)
			return fail(r);
		p = q;
	}
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(p, r->end)) == p)
			return fail(r);
		p = q;
	}
	r->p = p;
	return number_of(r, start, (size_t)(p - start), real);
}

static json_t *literal(reader_t *r, const char *word, size_t n, json_t *v)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r);
	r->p += n;
	return v;
}

/* Reads "key": value into obj; 0 on failure. */
static int read_member(reader_t *r, json_t *obj)
{
	const char *key;
	size_t len;
	char *owned;
	json_t *v;
	int ok = 0;

	if (r->p >= r->end || *r->p != '"' || !read_string(r, &key, &len, &owned))
		return 0;
	skip_space(r);
	if (r->p < r->end && *r->p == ':' && json_object_getn(obj, key, len) == NULL) {
		r->p++;
		if ((v = read_value(r)) != NULL)
			ok = json_object_setn_new_nocheck(obj, key, len, v) == 0;
	}
	free(owned);
	return ok;
}

/* After an item of a container: 1 at its end, 0 at a comma, -1 else. */
static int next_item(reader_t *r, unsigned char close)
{
	skip_space(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 1;
	}
	if (r->p < r->end && *r->p == ',') {
		r->p++;
		skip_space(r);
		return 0;
	}
	return -1;
}

static json_t *container(reader_t *r, int is_object)
{
	json_t *c = is_object ? json_object() : json_array();
	unsigned char close = is_object ? '}' : ']';
	int end;

	if (c == NULL || ++r->depth > JSON_PARSER_MAX_DEPTH)
		goto bad;
	r->p++;
	skip_space(r);
	end = r->p < r->end && *r->p == close;
	if (end)
		r->p++;
	while (!end) {
		json_t *v;
		if (is_object ? !read_member(r, c)
				: (v = read_value(r)) == NULL || json_array_append_new(c, v) != 0)
			goto bad;
		if ((end = next_item(r, close)) < 0)
			goto bad;
	}
	r->depth--;
	return c;
bad:
	json_decref(c);
	return fail(r);
}

static json_t *read_value(reader_t *r)
{
	skip_space(r);
	if (r->p >= r->end)
		return fail(r);
	switch (*r->p) {
	case '{': return container(r, 1);
	case '[': return container(r, 0);
	case '"': return string_value(r);
	case 't': return literal(r, "true", 4, json_true());
	case 'f': return literal(r, "false", 5, json_false());
	case 'n': return literal(r, "null", 4, json_null());
	default: return number_value(r);
	}
}

json_t *jr_parse(const char *text, size_t len)
{
	reader_t r = { .p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len };
	json_t *v = read_value(&r);

	skip_space(&r);
	if (v != NULL && (r.failed || r.p != r.end)) {
		json_decref(v);
		return NULL;
	}
	return v;
}
