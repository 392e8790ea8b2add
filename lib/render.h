/*
 * A config's content from its profile's template (protocol 7.1), at each
 * bootstrap and in every read, and checked when a config is written.
 */
#ifndef BS_RENDER_H
#define BS_RENDER_H

#include "model.h"
#include "store.h"

#include <stddef.h>

/*
 * Replaces cfg->content with its profile's template rendered for cfg (the
 * config's vars over the profile's); nothing for a config without a
 * profile. strict (a write): a placeholder without a value, or a text over
 * 64 KiB, is BS_ERR_INVALID with the reason in err; otherwise the first
 * renders empty and the second is BS_ERR_INTERNAL. A profile gone is
 * BS_ERR_NOT_FOUND.
 */
int bs_render_config(bs_store_t *st, bs_config_t *cfg, int strict, char *err,
		size_t errlen);

#endif
