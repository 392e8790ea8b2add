/*
 * The device request parser. A request is one flat JSON object; Jansson
 * built a tree of it with a hash table and an allocation per member, a
 * fifth of a bootstrap's cost. This parser checks the whole payload is
 * valid JSON (RFC 8259: UTF-8, escapes, numbers, nesting), decodes the
 * members the protocol knows in place, and skips the others.
 */
#ifndef BS_REQUEST_H
#define BS_REQUEST_H

#include <stddef.h>

typedef enum {
	BS_JSON_ABSENT = 0, BS_JSON_STRING, BS_JSON_NUMBER, BS_JSON_TRUE,
	BS_JSON_FALSE, BS_JSON_NULL, BS_JSON_OBJECT, BS_JSON_ARRAY,
} bs_json_kind_t;

/* One known member: its kind, and for a string its decoded text. */
typedef struct {
	bs_json_kind_t kind;
	const char *str;     /* NUL-terminated, inside the request's buffer */
	size_t len;
} bs_member_t;

typedef struct bs_request {
	char *buf;           /* a copy of the payload, strings decoded in it */
	size_t buflen;
	bs_member_t id, external_id, external_key, encrypt, op, nonce, proof, csr, group;
} bs_request_t;

/*
 * Parses payload. BS_ERR_INVALID when it is not one valid JSON object
 * (with a reason in err), when a known member is repeated, or when a
 * string holds \u0000; BS_ERR_INTERNAL when out of memory. Free with
 * bs_request_free in every case.
 */
int bs_request_parse(const void *payload, size_t len, bs_request_t *out,
		const char **err);
void bs_request_free(bs_request_t *r);

#endif
