#include "enroll.h"

#include "changes.h"
#include "error.h"
#include "jsonw.h"
#include "store.h"
#include "store_unknown.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bs_enroll_key(const char *group_key, const char *external_id,
		char out[BS_SECRET_LEN + 1])
{
	uint8_t mac[BS_SHA256_LEN];
	int rc = bs_crypto_hmac(group_key, strlen(group_key), external_id,
			strlen(external_id), mac);

	if (rc == BS_OK)
		rc = bs_crypto_b64url32(mac, out);
	explicit_bzero(mac, sizeof(mac));
	return rc;
}

/* The group's channels, else its profile's. */
static int default_channels(bs_store_t *st, const bs_group_t *g, bs_config_t *c)
{
	bs_profile_t p;
	int rc = BS_OK;

	if (g->channel_ids != NULL && g->channel_ids[0] != '\0') {
		c->channel_ids = strdup(g->channel_ids);
	} else if (g->profile != NULL) {
		if ((rc = bs_store_profile_get(st, g->profile, &p)) == BS_OK) {
			c->channel_ids = p.channel_ids;
			p.channel_ids = NULL;
		}
		bs_profile_clear(&p);
	}
	if (rc == BS_OK && c->channel_ids != NULL)
		rc = bs_store_config_channels(st, c);
	return rc;
}

static int fill(bs_store_t *st, const bs_group_t *g, const char *external_id,
		const char *derived, time_t now, bs_config_t *c)
{
	char id[BS_UUID_LEN + 1], secret[BS_SECRET_LEN + 1];
	int rc;

	if (bs_crypto_uuid4(id) != BS_OK || bs_crypto_secret(secret) != BS_OK)
		return BS_ERR_INTERNAL;
	c->client_id = strdup(id);
	c->client_secret = strdup(secret);
	explicit_bzero(secret, sizeof(secret));
	c->name = strdup(external_id);
	c->external_id = strdup(external_id);
	c->external_key = strdup(derived);
	c->content = strdup("");
	c->group = strdup(g->id);
	c->profile = g->profile ? strdup(g->profile) : NULL;
	c->enabled = g->enable;
	bs_time_format(now, c->created_at);
	memcpy(c->updated_at, c->created_at, sizeof(c->updated_at));
	if (!c->client_id || !c->client_secret || !c->name || !c->external_id
			|| !c->external_key || !c->content || !c->group || (g->profile && !c->profile))
		return BS_ERR_INTERNAL;
	if ((rc = default_channels(st, g, c)) != BS_OK)
		return rc;
	return BS_OK;
}

/* In one transaction: the config, its unknown device's row gone, and the
 * other brokers told. */
static int insert(bs_store_t *st, const bs_config_t *c, const char *as, long *forgotten)
{
	bs_effect_t fx = { .kind = BS_FX_LOGIN, .target = c->client_id };
	int rc = bs_store_begin(st);

	if (rc != BS_OK)
		return rc;
	if ((rc = bs_store_config_insert(st, c)) != BS_OK
			|| (rc = bs_store_unknown_delete(st, c->external_id, forgotten)) != BS_OK) {
		bs_store_rollback(st);
		return rc;
	}
	return bs_changes_commit(st, as, &fx, 1);
}

int bs_enroll_create(bs_store_t *st, const bs_group_t *g, const char *external_id,
		const char *derived, time_t now, const char *as, long *forgotten)
{
	bs_config_t c = { 0 };
	int rc = fill(st, g, external_id, derived, now, &c);

	*forgotten = 0;
	if (rc == BS_OK)
		rc = insert(st, &c, as, forgotten);
	bs_config_clear(&c);
	return rc;
}

char *bs_enroll_event(bs_core_t *core, const char *group_id, const char *client,
		const char *client_id, time_t now)
{
	char user[BS_ID_MAX + 8], safe_user[300], safe_client[128], at[BS_TIME_LEN];
	size_t len;
	jw_t w;

	snprintf(user, sizeof(user), "group:%s", group_id);
	bs_core_log(core, BS_LOG_NOTICE,
			"audit: user=%s client=%s command=createConfig target=%s result=ok",
			bs_log_safe(user, safe_user, sizeof(safe_user)),
			bs_log_safe(client ? client : "-", safe_client, sizeof(safe_client)), client_id);
	bs_time_format(now, at);
	jw_init(&w);
	jw_object_begin(&w);
	jw_member(&w, "event", "createConfig");
	jw_member(&w, "user", user);
	jw_member(&w, "target", client_id);
	jw_member(&w, "result", "ok");
	jw_member(&w, "at", at);
	jw_object_end(&w);
	return jw_finish(&w, &len);
}
