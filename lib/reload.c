#include "reload.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void note(char *restart, size_t len, const char *name)
{
	size_t used = strlen(restart);

	snprintf(restart + used, len - used, "%s%s", used > 0 ? ", " : "", name);
}

/* The options that only a restart applies, when they differ. */
static void restart_only(const bs_options_t *now, const bs_options_t *fresh,
		char *restart, size_t len)
{
	restart[0] = '\0';
	if (!same(now->db_path, fresh->db_path))
		note(restart, len, "db_path");
	if (!same(now->db_url, fresh->db_url))
		note(restart, len, "db_url");
	if (!same(now->key_file, fresh->key_file))
		note(restart, len, "key_file");
	if (!same(now->rekey_from, fresh->rekey_from))
		note(restart, len, "rekey_from");
	if (!same(now->topic_prefix, fresh->topic_prefix))
		note(restart, len, "topic_prefix");
	if (!same(now->channel_topic, fresh->channel_topic))
		note(restart, len, "channel_topic");
	if (now->client_auth != fresh->client_auth)
		note(restart, len, "client_auth");
	if (!same(now->ca_cert, fresh->ca_cert))
		note(restart, len, "ca_cert");
	if (!same(now->ca_key, fresh->ca_key))
		note(restart, len, "ca_key");
	if (now->cert_days != fresh->cert_days)
		note(restart, len, "cert_days");
	/* The table's buckets are made for it, and the write-behind thread
	 * prunes to it. */
	if (now->max_unknown != fresh->max_unknown)
		note(restart, len, "max_unknown");
}

/* Moves the options that may change from fresh into core's (the old ones
 * go to fresh, to be freed with it). */
static void take(bs_core_t *core, bs_options_t *fresh)
{
	bs_options_t *o = &core->opts;
	char **users = o->admin_users;
	size_t nusers = o->n_admin_users;

	o->admin_users = fresh->admin_users;
	o->n_admin_users = fresh->n_admin_users;
	fresh->admin_users = users;
	fresh->n_admin_users = nusers;
	o->acl_default = fresh->acl_default;
	o->log_bootstraps = fresh->log_bootstraps;
	o->stats_interval = fresh->stats_interval;
	o->max_request_bytes = fresh->max_request_bytes;
	o->max_failures = fresh->max_failures;
	o->lockout_seconds = fresh->lockout_seconds;
	core->lockout.max_failures = o->max_failures;
	core->lockout.seconds = o->lockout_seconds;
}

int bs_core_reload(bs_core_t *core, const bs_conf_opts_t *opts,
		char *restart, size_t restartlen, char *err, size_t errlen)
{
	bs_options_t fresh;
	int rc = bs_options_init(&fresh);

	for (size_t i = 0; rc == BS_OK && i < opts->n; i++)
		rc = bs_options_set(&fresh, opts->v[i].name, opts->v[i].value, err, errlen);
	if (rc == BS_OK)
		rc = bs_options_finish(&fresh, err, errlen);
	if (rc == BS_OK) {
		restart_only(&core->opts, &fresh, restart, restartlen);
		take(core, &fresh);
	}
	bs_options_free(&fresh);
	return rc;
}
