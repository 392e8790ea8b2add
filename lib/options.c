#include "options.h"

#include "error.h"
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bs_options_init(bs_options_t *o)
{
	memset(o, 0, sizeof(*o));
	o->topic_prefix = strdup("bootstrap");
	o->channel_topic = strdup("channels/{channel_id}/messages/#");
	o->acl_default = BS_ACL_DEFAULT_DEFER;
	o->max_failures = 5;
	o->lockout_seconds = 60;
	o->max_request_bytes = 16384;
	o->log_bootstraps = BS_LOG_BOOT_FAILURES;
	o->stats_interval = 10;
	o->cert_days = 90;
	o->max_unknown = 10000;
	if (o->topic_prefix == NULL || o->channel_topic == NULL) {
		bs_options_free(o);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

static int bad(char *err, size_t errlen, const char *name, const char *why)
{
	snprintf(err, errlen, "plugin_opt_%s: %s", name, why);
	return BS_ERR_INVALID;
}

static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return BS_ERR_INTERNAL;
	free(*slot);
	*slot = copy;
	return BS_OK;
}

static int parse_long(const char *value, long min, long max, long *out)
{
	char *end = NULL;

	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return BS_ERR_INVALID;
	*out = v;
	return BS_OK;
}

static int parse_bool(const char *value, int *out)
{
	if (strcmp(value, "true") == 0)
		*out = 1;
	else if (strcmp(value, "false") == 0)
		*out = 0;
	else
		return BS_ERR_INVALID;
	return BS_OK;
}

static void free_users(bs_options_t *o)
{
	for (size_t i = 0; i < o->n_admin_users; i++)
		free(o->admin_users[i]);
	free(o->admin_users);
	o->admin_users = NULL;
	o->n_admin_users = 0;
}

/* Strips blanks around s in place. */
static char *trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
	return s;
}

static int add_user(bs_options_t *o, const char *name)
{
	char **grown = realloc(o->admin_users, (o->n_admin_users + 1) * sizeof(*grown));

	if (grown == NULL)
		return BS_ERR_INTERNAL;
	o->admin_users = grown;
	if ((grown[o->n_admin_users] = strdup(name)) == NULL)
		return BS_ERR_INTERNAL;
	o->n_admin_users++;
	return BS_OK;
}

/* "admin, ops" -> {"admin", "ops"}; an empty item anywhere is refused. */
static int set_users(bs_options_t *o, const char *value, char *err, size_t errlen)
{
	char *copy = strdup(value), *rest = copy, *item;
	int rc = BS_OK;

	if (copy == NULL)
		return BS_ERR_INTERNAL;
	free_users(o);
	while (rc == BS_OK && (item = strsep(&rest, ",")) != NULL) {
		item = trim(item);
		if (*item == '\0')
			rc = bad(err, errlen, "admin_users", "empty user name in the list");
		else
			rc = add_user(o, item);
	}
	free(copy);
	if (rc != BS_OK)
		free_users(o);
	return rc;
}

static int check_prefix(const char *value)
{
	size_t len = strlen(value);

	return len > 0 && len <= 128 && value[0] != '$' && value[0] != '/'
		&& value[len - 1] != '/' && bs_valid_topic_name(value);
}

static int set_numeric(bs_options_t *o, const char *name, const char *value,
		char *err, size_t errlen)
{
	long v;

	if (strcmp(name, "max_failures") == 0) {
		if (parse_long(value, 0, 1000000, &v) != BS_OK)
			return bad(err, errlen, name, "must be an integer from 0 to 1000000");
		o->max_failures = (int)v;
	} else if (strcmp(name, "lockout_seconds") == 0) {
		if (parse_long(value, 1, 3600, &v) != BS_OK)
			return bad(err, errlen, name, "must be an integer from 1 to 3600");
		o->lockout_seconds = (int)v;
	} else if (strcmp(name, "cert_days") == 0) {
		if (parse_long(value, 1, 825, &v) != BS_OK)
			return bad(err, errlen, name, "must be an integer from 1 to 825");
		o->cert_days = (int)v;
	} else if (strcmp(name, "max_unknown") == 0) {
		if (parse_long(value, 0, 1000000, &v) != BS_OK)
			return bad(err, errlen, name, "must be an integer from 0 (none) to 1000000");
		o->max_unknown = (size_t)v;
	} else if (strcmp(name, "stats_interval") == 0) {
		if (parse_long(value, 0, 86400, &v) != BS_OK)
			return bad(err, errlen, name, "must be an integer from 0 (off) to 86400");
		o->stats_interval = (int)v;
	} else {
		if (parse_long(value, 64, 268435455, &v) != BS_OK)
			return bad(err, errlen, name, "must be an integer from 64 to 268435455");
		o->max_request_bytes = (size_t)v;
	}
	return BS_OK;
}

int bs_options_set(bs_options_t *o, const char *name, const char *value,
		char *err, size_t errlen)
{
	if (value == NULL)
		value = "";
	if (strcmp(name, "db_path") == 0 || strcmp(name, "key_file") == 0
			|| strcmp(name, "rekey_from") == 0) {
		if (value[0] == '\0')
			return bad(err, errlen, name, "must not be empty");
		return set_string(name[0] == 'd' ? &o->db_path : name[0] == 'k'
				? &o->key_file : &o->rekey_from, value);
	}
	if (strcmp(name, "db_url") == 0) {
		if (strncmp(value, "postgresql://", 13) != 0 && strncmp(value, "postgres://", 11) != 0)
			return bad(err, errlen, name, "must be a postgresql:// or postgres:// URL");
		return set_string(&o->db_url, value);
	}
	if (strcmp(name, "ca_cert") == 0 || strcmp(name, "ca_key") == 0) {
		if (value[0] == '\0')
			return bad(err, errlen, name, "must not be empty");
		return set_string(name[3] == 'c' ? &o->ca_cert : &o->ca_key, value);
	}
	if (strcmp(name, "admin_users") == 0)
		return set_users(o, value, err, errlen);
	if (strcmp(name, "topic_prefix") == 0) {
		if (!check_prefix(value))
			return bad(err, errlen, name, "must be a topic name without "
					"wildcards, not starting with '$' or '/', not ending with '/'");
		return set_string(&o->topic_prefix, value);
	}
	if (strcmp(name, "client_auth") == 0) {
		if (parse_bool(value, &o->client_auth) != BS_OK)
			return bad(err, errlen, name, "must be true or false");
		return BS_OK;
	}
	if (strcmp(name, "channel_topic") == 0) {
		if (strstr(value, "{channel_id}") == NULL || value[0] == '$')
			return bad(err, errlen, name, "must contain {channel_id} and not start with '$'");
		return set_string(&o->channel_topic, value);
	}
	if (strcmp(name, "acl_default") == 0) {
		if (strcmp(value, "defer") == 0)
			o->acl_default = BS_ACL_DEFAULT_DEFER;
		else if (strcmp(value, "allow") == 0)
			o->acl_default = BS_ACL_DEFAULT_ALLOW;
		else
			return bad(err, errlen, name, "must be defer or allow");
		return BS_OK;
	}
	if (strcmp(name, "log_bootstraps") == 0) {
		static const char *const names[] = { "none", "failures", "all" };
		for (int i = 0; i < 3; i++) {
			if (strcmp(value, names[i]) == 0) {
				o->log_bootstraps = (bs_log_boot_t)i;
				return BS_OK;
			}
		}
		return bad(err, errlen, name, "must be none, failures or all");
	}
	if (strcmp(name, "max_failures") == 0 || strcmp(name, "lockout_seconds") == 0
			|| strcmp(name, "max_request_bytes") == 0
			|| strcmp(name, "stats_interval") == 0 || strcmp(name, "cert_days") == 0
			|| strcmp(name, "max_unknown") == 0)
		return set_numeric(o, name, value, err, errlen);
	return bad(err, errlen, name, "unknown option");
}

static char *join(const char *a, const char *b, const char *c)
{
	size_t len = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(len);

	if (s != NULL)
		snprintf(s, len, "%s%s%s", a, b, c);
	return s;
}

int bs_options_finish(bs_options_t *o, char *err, size_t errlen)
{
	if (o->db_path == NULL && o->db_url == NULL)
		return bad(err, errlen, "db_path", "is required (or db_url, for PostgreSQL)");
	if (o->db_path != NULL && o->db_url != NULL)
		return bad(err, errlen, "db_url", "goes instead of db_path: give one of the two");
	if (o->key_file == NULL)
		return bad(err, errlen, "key_file", "is required");
	if ((o->ca_cert == NULL) != (o->ca_key == NULL))
		return bad(err, errlen, o->ca_cert ? "ca_key" : "ca_cert",
				"is required with the other (ca_cert and ca_key go together)");
	free(o->req_topic);
	free(o->res_topic);
	free(o->consumed_topic);
	o->req_topic = join(o->topic_prefix, "/req", "");
	o->res_topic = join(o->topic_prefix, "/res", "");
	o->consumed_topic = join("$", o->topic_prefix, "/consumed");
	if (!o->req_topic || !o->res_topic || !o->consumed_topic)
		return BS_ERR_INTERNAL;
	return BS_OK;
}

void bs_options_free(bs_options_t *o)
{
	free(o->db_path);
	free(o->db_url);
	free(o->key_file);
	free(o->rekey_from);
	free(o->ca_cert);
	free(o->ca_key);
	free_users(o);
	free(o->topic_prefix);
	free(o->channel_topic);
	free(o->req_topic);
	free(o->res_topic);
	free(o->consumed_topic);
	memset(o, 0, sizeof(*o));
}

int bs_options_is_admin(const bs_options_t *o, const char *username)
{
	if (username == NULL)
		return 0;
	for (size_t i = 0; i < o->n_admin_users; i++) {
		if (strcmp(o->admin_users[i], username) == 0)
			return 1;
	}
	return 0;
}
