/*
 * A JSON reader into Jansson trees, for the admin batches (and the admin
 * tool's answers to them), where json_loadb's lexer, a function call and
 * a check per byte, cost more than the commands it read. It accepts and
 * refuses exactly what json_loadb with JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY does (the fuzz target fuzz_jsonr holds the two to it),
 * and builds the same tree.
 */
#ifndef BS_JSONR_H
#define BS_JSONR_H

#include <jansson.h>
#include <stddef.h>

/* The tree of text (len bytes, no NUL needed), a new reference; NULL when
 * it is not one well-formed JSON value or memory ran out. */
json_t *jr_parse(const char *text, size_t len);

#endif
