/*
 * Profile content templates (protocol 7.1): {{external_id}}, {{client_id}},
 * {{name}} and {{vars.KEY}} (KEY: letters, digits, '_', '-') are replaced
 * verbatim; any other "{{" is refused when a template is written.
 */
#ifndef BS_TEMPLATE_H
#define BS_TEMPLATE_H

#include <jansson.h>
#include <stddef.h>

/* What the placeholders take. vars are the config's own and then the
 * profile's (either may be NULL), objects of strings. */
typedef struct bs_template_vals {
	const char *external_id, *client_id, *name;
	const json_t *vars, *defaults;
} bs_template_vals_t;

/* 0, or BS_ERR_INVALID naming the first placeholder that is not one. */
int bs_template_check(const char *tpl, char *err, size_t errlen);

/* 1 when KEY (len bytes) is a well-formed vars key. */
int bs_template_key_ok(const char *key, size_t len);

/*
 * The rendered text (malloc()ed, *len set), allocated once at its exact
 * size. With strict, a placeholder without a value is BS_ERR_INVALID
 * naming it; without, it renders as empty. More than max bytes is
 * BS_ERR_INVALID (strict) or BS_ERR_INTERNAL.
 */
int bs_template_render(const char *tpl, const bs_template_vals_t *v, int strict,
		size_t max, char **out, size_t *len, char *err, size_t errlen);

#endif
