/* Running the project's tools from the integration tests. */
#ifndef TOOL_RUN_H
#define TOOL_RUN_H

#include "harness.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>

/* The most arguments a run takes, the program's name included. */
#define TOOL_MAX_ARGS 48

typedef struct {
	int status;
	char *out, *err;
} run_t;

void run_free(run_t *r);

/* argv's first n entries, then the arguments from first up to NULL, run
 * with in (may be NULL) on stdin; argv has room for TOOL_MAX_ARGS. */
run_t run_tool(char **argv, size_t n, const char *in, const char *first, va_list ap);

/* The tool with the arguments given (NULL-terminated) and nothing else. */
run_t ctrl_bare(const char *first, ...);

/* The tool as the harness's admin against b, -W 5, then the arguments; a
 * failure is shown on stderr with the tool's own. */
run_t ctrl_admin(const broker_t *b, const char *first, ...);

/* stdout of a --json run, parsed (new reference), or NULL. */
json_t *run_json(const run_t *r);

bool contains(const char *text, const char *part);

/* A device's key derived from its group's key by the contract's factory
 * recipe, run in the shell with openssl (malloc()ed), or NULL. */
char *factory_key(const char *group_key, const char *external_id);

#endif
