#include "render.h"

#include "error.h"
#include "fleet.h"
#include "jsonr.h"
#include "template.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse_vars(const char *text)
{
	return text != NULL ? jr_parse(text, strlen(text)) : NULL;
}

int bs_render_config(bs_store_t *st, bs_config_t *cfg, int strict, char *err,
		size_t errlen)
{
	const char *tpl;
	const json_t *defaults;
	json_t *vars;
	char *out = NULL;
	size_t len;
	int rc;

	if (cfg->profile == NULL)
		return BS_OK;
	if ((rc = bs_store_profile_peek(st, cfg->profile, &tpl, &defaults)) != BS_OK) {
		bs_set_err(err, errlen, "no profile with id '%.64s'", cfg->profile);
		return rc;
	}
	vars = parse_vars(cfg->vars);
	bs_template_vals_t v = { .external_id = cfg->external_id ? cfg->external_id : "",
		.client_id = cfg->client_id, .name = cfg->name ? cfg->name : "",
		.vars = vars, .defaults = defaults };
	rc = bs_template_render(tpl, &v, strict, BS_CONTENT_MAX, &out, &len, err, errlen);
	if (rc == BS_OK) {
		free(cfg->content);
		cfg->content = out;
	}
	json_decref(vars);
	return rc;
}
