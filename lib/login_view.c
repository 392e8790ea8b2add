/* A client_id's login view, from memory or from the store
 * (lib/login_view.h). */
#include "login_view.h"

#include "certs.h"
#include "core.h"
#include "error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int bs_login_view_store(bs_core_t *core, const char *client_id, unsigned flags,
		bs_config_t *cfg)
{
	int rc = bs_core_enter(core);

	memset(cfg, 0, sizeof(*cfg));
	if (rc == BS_OK) {
		rc = bs_store_config_get(core->store, client_id, NULL,
				BS_LOGIN_VIEW | flags, cfg);
		if (rc == BS_ERR_NOT_FOUND && (rc = bs_store_client_deleted(core->store,
				client_id)) >= 0)
			rc = rc == 1 ? BS_ERR_DISABLED : BS_ERR_NOT_FOUND;
		bs_core_leave(core);
	}
	if (rc != BS_OK && rc != BS_ERR_NOT_FOUND && rc != BS_ERR_DISABLED) {
		char line[300];

		snprintf(line, sizeof(line), "client lookup failed: %s",
				bs_store_errmsg(core->store));
		bs_devlog_error(core, line, time(NULL));
	}
	return rc;
}

int bs_login_view_get(bs_core_t *core, const char *client_id, unsigned flags,
		bs_login_view_t *v)
{
	memset(v, 0, sizeof(*v));
	if (core->logins != NULL)
		bs_logins_check(core->logins);
	/* Before the copy's first load (a start that did not wait it out),
	 * the store answers (one bounded round trip), so that a password_file
	 * user is not refused. */
	if (core->logins == NULL || !bs_logins_answers(core->logins))
		return bs_login_view_store(core, client_id, flags, &v->cfg);
	v->logins = core->logins;
	return bs_logins_find(core->logins, client_id, &v->mem);
}

/* Configs read at once after one change of this broker's; the rest are
 * read by the replica's thread, their logins refused for milliseconds. */
#define READ_NOW_MAX 64

void bs_login_view_changed(bs_core_t *core, const bs_effect_t *fx, size_t n)
{
	bs_logins_source_t src;

	if (core->logins == NULL || n == 0 || bs_core_enter(core) != BS_OK)
		return;
	bs_logins_source_store(core->store, &src);
	for (size_t i = 0; i < n && i < READ_NOW_MAX; i++) {
		if (fx[i].kind != BS_FX_CHANNEL_GONE)
			bs_logins_read_now(core->logins, &src, fx[i].target);
	}
	bs_core_leave(core);
}

int bs_login_view_secret_ok(const bs_login_view_t *v, const char *password)
{
	const char *pw = password ? password : "";

	if (v->mem != NULL)
		return bs_login_secret_ok(v->logins, v->mem, pw);
	return v->cfg.client_secret != NULL && bs_crypto_equal(pw, strlen(pw),
			v->cfg.client_secret, strlen(v->cfg.client_secret));
}

int bs_login_view_cert_ok(const bs_login_view_t *v, const void *x)
{
	if (v->mem != NULL)
		return bs_login_cert_ok(v->mem, x);
	return v->cfg.client_cert != NULL
		&& bs_certs_same(v->cfg.client_cert, strlen(v->cfg.client_cert), x);
}

int bs_login_view_enabled(const bs_login_view_t *v)
{
	return v->mem != NULL ? bs_login_enabled(v->mem) : v->cfg.enabled;
}

const char *bs_login_view_channels(const bs_login_view_t *v)
{
	if (v->mem != NULL)
		return bs_login_channels(v->mem);
	return v->cfg.channel_ids ? v->cfg.channel_ids : "";
}

void bs_login_view_clear(bs_login_view_t *v)
{
	bs_config_clear(&v->cfg);
	v->mem = NULL;
}
