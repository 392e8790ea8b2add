/*
 * libFuzzer target for the device request parser: any bytes in, no crash,
 * no leak, no read past the payload; and what it accepts Jansson accepts
 * too, with the same known members.
 */
#include "error.h"
#include "request.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void agree(const bs_member_t *m, json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);

	if (m->kind == BS_JSON_STRING
			&& (!json_is_string(v) || json_string_length(v) != m->len
			|| memcmp(json_string_value(v), m->str, m->len) != 0))
		abort();
	if (m->kind == BS_JSON_ABSENT && v != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bs_request_t r;
	json_error_t jerr;
	const char *why;
	json_t *root;

	if (bs_request_parse(data, size, &r, &why) == BS_OK) {
		root = json_loadb((const char *)data, size, JSON_DECODE_INT_AS_REAL, &jerr);
		/* Jansson refuses numbers that overflow a double; JSON does not. */
		if (root == NULL && strstr(jerr.text, "overflow") != NULL) {
			bs_request_free(&r);
			return 0;
		}
		if (!json_is_object(root))
			abort();
		agree(&r.external_id, root, "external_id");
		agree(&r.external_key, root, "external_key");
		agree(&r.id, root, "id");
		json_decref(root);
	}
	bs_request_free(&r);
	return 0;
}
