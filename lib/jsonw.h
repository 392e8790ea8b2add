/*
 * A small JSON writer for the replies on the request path, where building
 * a Jansson tree only to serialise it cost more than the rest of a
 * bootstrap. It appends to a growable buffer; an allocation failure is
 * remembered and reported once, by jw_finish.
 */
#ifndef BS_JSONW_H
#define BS_JSONW_H

#include <jansson.h>
#include <stddef.h>

typedef struct jw {
	char *buf;
	size_t len, cap;
	int failed;
	int first;        /* no member written yet in the current object */
} jw_t;

/* What a byte is in a JSON string, a bit each: JW_AS_IS, carried as it
 * is (not a control character, the NUL included, the quote 0x22 or the
 * backslash 0x5c); JW_ASCII, that and ASCII. A table, because strings are
 * scanned a byte at a time (here, and by the request parser,
 * lib/request.c). */
enum { JW_AS_IS = 1, JW_ASCII = 2 };
extern const unsigned char jw_bytes[256];

void jw_init(jw_t *w);
void jw_object_begin(jw_t *w);
void jw_object_end(jw_t *w);
/* "key": followed by the value the next call writes. */
void jw_key(jw_t *w, const char *key);
/* A string value, escaped. */
void jw_string(jw_t *w, const char *s);
/* Text that is JSON already (a stored metadata object), written as is. */
void jw_raw(jw_t *w, const char *json);
/* "key": "value" */
void jw_member(jw_t *w, const char *key, const char *value);
/* A Jansson value of any type, as Jansson would write it compactly; for
 * a batch of admin responses this is several times cheaper than
 * json_dumps, which checks each container for loops through a hash table
 * keyed by its printed address. */
void jw_value(jw_t *w, const json_t *v);
/* Writes raw text with no separator handling ("[", "]", ","). */
void jw_punct(jw_t *w, const char *text);
/* The NUL-terminated text (malloc()ed, caller frees) and its length, or
 * NULL when memory ran out. */
char *jw_finish(jw_t *w, size_t *len);

#endif
