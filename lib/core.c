#include "core.h"

#include "error.h"
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int make_decoy(bs_core_t *core)
{
	char key[BS_SECRET_LEN + 1];
	int rc;

	if ((rc = bs_crypto_secret(key)) != BS_OK)
		return rc;
	rc = bs_crypto_seal(core->key, "decoy", 5, key, strlen(key),
			&core->decoy, &core->decoy_len);
	explicit_bzero(key, sizeof(key));
	return rc;
}

int bs_core_open(bs_options_t *opts, bs_log_fn log, void *userdata,
		bs_core_t **out, char *err, size_t errlen)
{
	bs_core_t *core = calloc(1, sizeof(*core));
	int rc;

	*out = NULL;
	if (core == NULL) {
		snprintf(err, errlen, "out of memory");
		return BS_ERR_INTERNAL;
	}
	core->opts = *opts;
	memset(opts, 0, sizeof(*opts));
	core->log = log;
	core->log_userdata = userdata;
	if ((rc = bs_crypto_key_load(core->opts.key_file, core->key, err, errlen)) != BS_OK)
		goto fail;
	if ((rc = bs_store_open(core->opts.db_path, core->key, &core->store, err, errlen)) != BS_OK)
		goto fail;
	if ((rc = make_decoy(core)) != BS_OK) {
		snprintf(err, errlen, "cannot prepare the crypto state");
		goto fail;
	}
	*out = core;
	return BS_OK;
fail:
	bs_core_close(core);
	return rc;
}

#define TOUCHES_MAX 4096

void bs_core_flush(bs_core_t *core)
{
	int rc;

	if (core->ntouches == 0)
		return;
	rc = bs_store_begin(core->store);
	for (size_t i = 0; rc == BS_OK && i < core->ntouches; i++)
		rc = bs_store_config_touch_bootstrap(core->store,
				core->touches[i].config_id, core->touches[i].when);
	if (rc == BS_OK)
		rc = bs_store_commit(core->store);
	if (rc != BS_OK) {
		bs_core_log(core, BS_LOG_WARNING, "last_bootstrap_at of %zu configs "
				"not written: %s", core->ntouches, bs_store_errmsg(core->store));
		bs_store_rollback(core->store);
	}
	core->ntouches = 0;
}

void bs_core_note_bootstrap(bs_core_t *core, int64_t config_id, time_t when)
{
	if (core->ntouches == core->touches_cap) {
		size_t cap = core->touches_cap ? core->touches_cap * 2 : 64;
		bs_touch_t *grown = realloc(core->touches, cap * sizeof(*grown));
		if (grown == NULL)
			return;
		core->touches = grown;
		core->touches_cap = cap;
	}
	core->touches[core->ntouches].config_id = config_id;
	core->touches[core->ntouches].when = when;
	if (++core->ntouches >= TOUCHES_MAX)
		bs_core_flush(core);
}

void bs_core_close(bs_core_t *core)
{
	if (core == NULL)
		return;
	if (core->store != NULL)
		bs_core_flush(core);
	free(core->touches);
	bs_store_close(core->store);
	bs_options_free(&core->opts);
	free(core->decoy);
	explicit_bzero(core->key, sizeof(core->key));
	free(core);
	bs_crypto_release();
}

void bs_core_log(const bs_core_t *core, bs_log_level_t level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (core->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	core->log(core->log_userdata, level, line);
}

const char *bs_log_safe(const char *s, char *out, size_t outlen)
{
	size_t i = 0;

	if (outlen == 0)
		return "";
	if (s == NULL)
		s = "-";
	for (; s[i] != '\0' && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}
