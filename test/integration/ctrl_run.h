/* Running mosquitto_bootstrap_ctrl from the integration tests. */
#ifndef CTRL_RUN_H
#define CTRL_RUN_H

#include "harness.h"

#include <jansson.h>
#include <stdbool.h>

/* The exit statuses of PROTOCOL.md section 9. */
enum { ST_OK = 0, ST_CMD = 1, ST_USAGE = 2, ST_CONN = 3 };

typedef struct {
	int status;
	char *out, *err;
} run_t;

void run_free(run_t *r);

/* The tool with the arguments given (NULL-terminated) and nothing else. */
run_t ctrl_bare(const char *first, ...);

/* The tool as the harness's admin against b, -W 5, then the arguments; a
 * failure is shown on stderr with the tool's own. */
run_t ctrl_admin(const broker_t *b, const char *first, ...);

/* stdout of a --json run, parsed (new reference), or NULL. */
json_t *run_json(const run_t *r);

bool contains(const char *text, const char *part);

#endif
