#include "template.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int bs_template_key_ok(const char *key, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
				|| c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* The placeholder at p ("{{"): its length with the braces, its name (the
 * text between them) in *name and *namelen; 0 when it is not one. */
static size_t placeholder(const char *p, const char **name, size_t *namelen)
{
	static const char *const fixed[] = { "external_id", "client_id", "name" };
	const char *end = strstr(p + 2, "}}");
	size_t n;

	if (end == NULL)
		return 0;
	*name = p + 2;
	*namelen = n = (size_t)(end - p - 2);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (n == strlen(fixed[i]) && memcmp(*name, fixed[i], n) == 0)
			return n + 4;
	}
	if (n > 5 && memcmp(*name, "vars.", 5) == 0 && bs_template_key_ok(*name + 5, n - 5))
		return n + 4;
	return 0;
}

int bs_template_check(const char *tpl, char *err, size_t errlen)
{
	for (const char *p = strstr(tpl, "{{"); p != NULL; ) {
		const char *name;
		size_t namelen, n = placeholder(p, &name, &namelen);
		if (n == 0) {
			bs_set_err(err, errlen, "content: %.40s is not a placeholder "
					"({{external_id}}, {{client_id}}, {{name}} or {{vars.KEY}})", p);
			return BS_ERR_INVALID;
		}
		p = strstr(p + n, "{{");
	}
	return BS_OK;
}

/* The string value of key (len bytes) in vars, then in defaults; NULL. */
static const char *var(const bs_template_vals_t *v, const char *key, size_t len)
{
	const json_t *objs[2] = { v->vars, v->defaults };

	for (int i = 0; i < 2; i++) {
		json_t *s = objs[i] ? json_object_getn(objs[i], key, len) : NULL;
		if (json_is_string(s))
			return json_string_value(s);
	}
	return NULL;
}

static const char *value_of(const bs_template_vals_t *v, const char *name, size_t n)
{
	if (n == 11 && memcmp(name, "external_id", 11) == 0)
		return v->external_id;
	if (n == 9 && memcmp(name, "client_id", 9) == 0)
		return v->client_id;
	if (n == 4 && memcmp(name, "name", 4) == 0)
		return v->name;
	return var(v, name + 5, n - 5);
}

/* One pass: with out NULL it only counts. */
static int walk(const char *tpl, const bs_template_vals_t *v, int strict, char *out,
		size_t *len, char *err, size_t errlen)
{
	const char *p = tpl;
	size_t total = 0;

	for (const char *at = strstr(p, "{{"); at != NULL; at = strstr(p, "{{")) {
		const char *name, *val;
		size_t namelen, n = placeholder(at, &name, &namelen);
		size_t lit = (size_t)(at - p) + (n == 0 ? 2 : 0);

		if (out != NULL)
			memcpy(out + total, p, lit);
		total += lit;
		p += lit;
		if (n == 0)
			continue;
		if ((val = value_of(v, name, namelen)) == NULL && strict) {
			bs_set_err(err, errlen, "{{%.*s}} has no value", (int)(namelen > 64
					? 64 : namelen), name);
			return BS_ERR_INVALID;
		}
		if (val != NULL) {
			size_t vl = strlen(val);
			if (out != NULL)
				memcpy(out + total, val, vl);
			total += vl;
		}
		p = at + n;
	}
	if (out != NULL)
		memcpy(out + total, p, strlen(p) + 1);
	*len = total + strlen(p);
	return BS_OK;
}

int bs_template_render(const char *tpl, const bs_template_vals_t *v, int strict,
		size_t max, char **out, size_t *len, char *err, size_t errlen)
{
	int rc = walk(tpl, v, strict, NULL, len, err, errlen);

	*out = NULL;
	if (rc != BS_OK)
		return rc;
	if (*len > max) {
		bs_set_err(err, errlen, "content: the rendered text is over %zu bytes", max);
		return strict ? BS_ERR_INVALID : BS_ERR_INTERNAL;
	}
	if ((*out = malloc(*len + 1)) == NULL)
		return BS_ERR_INTERNAL;
	return walk(tpl, v, strict, *out, len, err, errlen);
}
