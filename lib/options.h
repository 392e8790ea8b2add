/*
 * The plugin's options (plugin_opt_* lines of mosquitto.conf), parsed and
 * checked without the broker. A bad value is refused with a message naming
 * the option, so the plugin can refuse to start with one clear log line.
 */
#ifndef BS_OPTIONS_H
#define BS_OPTIONS_H

#include <stddef.h>

typedef enum { BS_ACL_DEFAULT_DEFER, BS_ACL_DEFAULT_ALLOW } bs_acl_default_t;
typedef enum { BS_LOG_BOOT_NONE, BS_LOG_BOOT_FAILURES, BS_LOG_BOOT_ALL } bs_log_boot_t;

typedef struct bs_options {
	char *db_path;              /* or db_url: exactly one is set */
	char *db_url;               /* postgresql:// or postgres:// (libpq's URI) */
	char *key_file;
	char *rekey_from;           /* the old key file, for a key rotation */
	char **admin_users;         /* NULL when admin_users is unset */
	size_t n_admin_users;
	char *topic_prefix;         /* "bootstrap" */
	int client_auth;            /* parsed; section 5 is not built yet */
	char *channel_topic;
	bs_acl_default_t acl_default;
	int max_failures;           /* 0: no lockout (section 6) */
	int lockout_seconds;
	size_t max_request_bytes;
	bs_log_boot_t log_bootstraps;  /* device log lines (section 8) */
	int stats_interval;         /* seconds between $SYS statistics; 0: none */
	char *ca_cert, *ca_key;     /* the issuing CA (section 3.3), or NULL */
	int cert_days;              /* validity of an issued certificate */
	size_t max_unknown;         /* unknown devices remembered (section 7.3); 0: none */
	/* Derived from topic_prefix by bs_options_finish. */
	char *req_topic;            /* <prefix>/req */
	char *res_topic;            /* <prefix>/res */
	char *consumed_topic;       /* $<prefix>/consumed: where a consumed request goes */
} bs_options_t;

/* Fills the defaults. */
int bs_options_init(bs_options_t *o);

/* Applies one option (name without "plugin_opt_"). BS_ERR_INVALID with a
 * message naming it for an unknown name or a bad value. */
int bs_options_set(bs_options_t *o, const char *name, const char *value,
		char *err, size_t errlen);

/* Checks that required options are there and derives the topics. */
int bs_options_finish(bs_options_t *o, char *err, size_t errlen);

void bs_options_free(bs_options_t *o);

/* 1 when username is one of admin_users. */
int bs_options_is_admin(const bs_options_t *o, const char *username);

#endif
