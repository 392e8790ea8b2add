#include "tool_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void run_free(run_t *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

run_t run_tool(char **argv, size_t n, const char *in, const char *first, va_list ap)
{
	run_t r = { .status = -1 };

	for (const char *a = first; a != NULL && n + 1 < TOOL_MAX_ARGS; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	argv[n] = NULL;
	r.status = run_capture(argv, in, &r.out, &r.err);
	return r;
}

run_t ctrl_bare(const char *first, ...)
{
	char *argv[TOOL_MAX_ARGS] = { (char *)ctrl_bin() };
	va_list ap;

	va_start(ap, first);
	run_t r = run_tool(argv, 1, NULL, first, ap);
	va_end(ap);
	return r;
}

run_t ctrl_admin(const broker_t *b, const char *first, ...)
{
	char port[16];
	char *argv[TOOL_MAX_ARGS] = { (char *)ctrl_bin(), "-h", "127.0.0.1", "-p", port, "-u",
		"admin", "-P", "adminpw", "-W", "5" };
	va_list ap;

	snprintf(port, sizeof(port), "%d", b->port);
	va_start(ap, first);
	run_t r = run_tool(argv, 11, NULL, first, ap);
	va_end(ap);
	if (r.status != 0 && r.err != NULL)
		fprintf(stderr, "[ctrl %s, exit %d] %s", first, r.status, r.err);
	return r;
}

json_t *run_json(const run_t *r)
{
	return r->out != NULL ? json_loads(r->out, 0, NULL) : NULL;
}

bool contains(const char *text, const char *part)
{
	return text != NULL && strstr(text, part) != NULL;
}

char *factory_key(const char *group_key, const char *external_id)
{
	char *argv[] = { "sh", "-c", "printf %s \"$1\" | openssl dgst -sha256 -hmac \"$2\" "
		"-binary | basenc --base64url | tr -d =", "sh", (char *)external_id,
		(char *)group_key, NULL };
	char *out = NULL;

	if (run_capture(argv, NULL, &out, NULL) != 0) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	return out;
}
