/*
 * libFuzzer target for the JSON reader: any bytes in, no crash, no leak,
 * no read past the input; and it agrees with Jansson (json_loadb with
 * JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) on every input: both refuse
 * it, or both read it into equal trees. One exception: Jansson skips a NUL
 * byte that follows a number or a literal ("[1\0]"), which the reader
 * refuses like any other NUL outside a string.
 */
#include "jsonr.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *ours = jr_parse((const char *)data, size);
	json_t *theirs = json_loadb((const char *)data, size,
			JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);

	if (ours == NULL && theirs != NULL && memchr(data, '\0', size) != NULL) {
		json_decref(theirs);
		return 0;
	}
	if ((ours == NULL) != (theirs == NULL))
		abort();
	if (ours != NULL && !json_equal(ours, theirs))
		abort();
	json_decref(ours);
	json_decref(theirs);
	return 0;
}
