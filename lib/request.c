#include "request.h"

#include "crypto.h"
#include "error.h"
#include "jsonw.h"
#include "model.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
	char *p;             /* the next byte to read */
	char *end;           /* one past the last byte */
	const char *err;
} parser_t;

static int fail(parser_t *ps, const char *why)
{
	if (ps->err == NULL)
		ps->err = why;
	return BS_ERR_INVALID;
}

static void skip_ws(parser_t *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'
			|| *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *p, uint32_t *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return -1;
		*out = *out << 4 | (uint32_t)v;
	}
	return 0;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \u escape (four hex digits), with a surrogate pair when the first is a
 * high surrogate. */
static int unicode_escape(parser_t *ps, uint32_t *cp)
{
	uint32_t lo;

	if (ps->end - ps->p < 4 || hex4(ps->p, cp) != 0)
		return fail(ps, "bad \\u escape");
	ps->p += 4;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(ps, "lone low surrogate");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return *cp == 0 ? fail(ps, "\\u0000 in a string") : BS_OK;
	if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u'
			|| hex4(ps->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
		return fail(ps, "lone high surrogate");
	ps->p += 6;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return BS_OK;
}

static int escape(parser_t *ps, char **out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint32_t cp;
	int rc;

	if (ps->p >= ps->end)
		return fail(ps, "unterminated string");
	if (*ps->p == 'u') {
		ps->p++;
		if ((rc = unicode_escape(ps, &cp)) != BS_OK)
			return rc;
		*out += utf8_encode(cp, *out);
		return BS_OK;
	}
	if (*ps->p == '\0' || (hit = strchr(from, *ps->p)) == NULL)
		return fail(ps, "bad escape");
	*(*out)++ = to[hit - from];
	ps->p++;
	return BS_OK;
}

/* 1 for a byte that stands for itself in a string: ASCII, neither a
 * control character nor the quote or the backslash. */
static int plain(unsigned char c)
{
	return jw_bytes[c] & JW_ASCII;
}

/*
 * Reads a string at ps->p (the opening quote) and decodes it in place:
 * the decoded text is never longer than its source, so it is written over
 * it and NUL-terminated before the closing quote is passed. The plain
 * bytes before the first escape or non-ASCII byte, often the whole
 * string, are passed over without being copied.
 */
static int string(parser_t *ps, bs_member_t *m)
{
	char *p = ps->p + 1, *end = ps->end, *start = p, *out;
	uint32_t cp;
	int rc;

	while (p < end && plain((unsigned char)*p))
		p++;
	out = p;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c < 0x80 && c != '\\') {
			*out++ = *p++;
			continue;
		}
		if (c == '\\') {
			ps->p = p + 1;
			if ((rc = escape(ps, &out)) != BS_OK)
				return rc;
			p = ps->p;
			continue;
		}
		size_t n = bs_utf8_decode((const unsigned char *)p, (size_t)(end - p), &cp);
		if (n == 0)
			return fail(ps, "invalid UTF-8");
		memmove(out, p, n);
		out += n;
		p += n;
	}
	if (p >= end)
		return fail(ps, "unterminated string");
	ps->p = p + 1;
	*out = '\0';
	m->kind = BS_JSON_STRING;
	m->str = start;
	m->len = (size_t)(out - start);
	return BS_OK;
}

static int digits(parser_t *ps)
{
	const char *start = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > start ? BS_OK : fail(ps, "bad number");
}

static int number(parser_t *ps)
{
	if (*ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (digits(ps) != BS_OK)
		return BS_ERR_INVALID;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (digits(ps) != BS_OK)
			return BS_ERR_INVALID;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (digits(ps) != BS_OK)
			return BS_ERR_INVALID;
	}
	return BS_OK;
}

static int literal(parser_t *ps, const char *word, bs_json_kind_t kind,
		bs_member_t *m)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "not JSON");
	ps->p += n;
	m->kind = kind;
	return BS_OK;
}

static int value(parser_t *ps, bs_member_t *m, int depth);

/* The members of an object or the items of an array after its opener. */
static int container(parser_t *ps, bs_member_t *m, int depth, char close)
{
	bs_member_t ignored;
	int first = 1;

	m->kind = close == '}' ? BS_JSON_OBJECT : BS_JSON_ARRAY;
	if (depth > MAX_DEPTH)
		return fail(ps, "nested too deep");
	ps->p++;
	for (;;) {
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close && first) {
			ps->p++;
			return BS_OK;
		}
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"' || string(ps, &ignored) != BS_OK)
				return fail(ps, "not JSON");
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				return fail(ps, "not JSON");
		}
		if (value(ps, &ignored, depth + 1) != BS_OK)
			return BS_ERR_INVALID;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return BS_OK;
		}
		if (ps->p >= ps->end || *ps->p++ != ',')
			return fail(ps, "not JSON");
		first = 0;
	}
}

static int value(parser_t *ps, bs_member_t *m, int depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "not JSON");
	switch (*ps->p) {
	case '"': return string(ps, m);
	case '{': return container(ps, m, depth, '}');
	case '[': return container(ps, m, depth, ']');
	case 't': return literal(ps, "true", BS_JSON_TRUE, m);
	case 'f': return literal(ps, "false", BS_JSON_FALSE, m);
	case 'n': return literal(ps, "null", BS_JSON_NULL, m);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
			m->kind = BS_JSON_NUMBER;
			return number(ps);
		}
		return fail(ps, "not JSON");
	}
}

/* The member the protocol knows by this key of len bytes (\u0000 is
 * refused, so it holds no NUL), or NULL. The lengths are compared first. */
static bs_member_t *known(bs_request_t *r, const char *key, size_t len)
{
#define KEY(k, m) { k, sizeof(k) - 1, offsetof(bs_request_t, m) }
	static const struct { const char *key; size_t len, off; } keys[] = {
		KEY("id", id), KEY("external_id", external_id),
		KEY("external_key", external_key), KEY("encrypt", encrypt),
		KEY("op", op), KEY("nonce", nonce), KEY("proof", proof),
		KEY("csr", csr), KEY("group", group),
	};
#undef KEY

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (keys[i].len == len && memcmp(keys[i].key, key, len) == 0)
			return (bs_member_t *)((char *)r + keys[i].off);
	}
	return NULL;
}

static int members(parser_t *ps, bs_request_t *r)
{
	bs_member_t key, val, *slot;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return BS_OK;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"' || string(ps, &key) != BS_OK)
			return fail(ps, "not JSON");
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p++ != ':')
			return fail(ps, "not JSON");
		memset(&val, 0, sizeof(val));
		if (value(ps, &val, 2) != BS_OK)
			return BS_ERR_INVALID;
		if ((slot = known(r, key.str, key.len)) != NULL) {
			if (slot->kind != BS_JSON_ABSENT)
				return fail(ps, "a member is repeated");
			*slot = val;
		}
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return BS_OK;
		}
		if (ps->p >= ps->end || *ps->p++ != ',')
			return fail(ps, "not JSON");
	}
}

int bs_request_parse(const void *payload, size_t len, bs_request_t *out,
		const char **err)
{
	parser_t ps = { 0 };

	memset(out, 0, sizeof(*out));
	*err = NULL;
	/* A private copy, NUL-terminated, that strings are decoded into. */
	if ((out->buf = malloc(len + 1)) == NULL)
		return BS_ERR_INTERNAL;
	out->buflen = len + 1;
	if (len > 0)
		memcpy(out->buf, payload, len);
	out->buf[len] = '\0';
	ps.p = out->buf;
	ps.end = out->buf + len;
	skip_ws(&ps);
	if (ps.p >= ps.end) {
		*err = "not JSON";
		return BS_ERR_INVALID;
	}
	if (*ps.p != '{') {
		bs_member_t v;
		*err = value(&ps, &v, 1) == BS_OK ? "not an object" : "not JSON";
		return BS_ERR_INVALID;
	}
	if (members(&ps, out) != BS_OK) {
		*err = ps.err;
		return BS_ERR_INVALID;
	}
	skip_ws(&ps);
	if (ps.p != ps.end) {
		*err = "not JSON";
		return BS_ERR_INVALID;
	}
	return BS_OK;
}

void bs_request_free(bs_request_t *r)
{
	/* The copy held the external_key in clear. */
	bs_crypto_free_secret(r->buf, r->buflen);
	memset(r, 0, sizeof(*r));
}
