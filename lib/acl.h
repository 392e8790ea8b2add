/*
 * ACL answers for the topics the plugin owns, without the broker:
 *   <prefix>/req       anyone may publish; nobody may read or subscribe
 *   <prefix>/res[/...] nobody may publish (replies are the plugin's alone);
 *                      subscribing is allowed: replies are directed publishes
 *   <prefix>/...       anything else: nobody publishes, subscribing allowed
 *   $<prefix>/...      where consumed requests go: nobody reads or writes
 *   $CONTROL/bootstrap/... admin_users only; deferred when admin_users is unset
 * Every other topic gets acl_default (defer or allow).
 */
#ifndef BS_ACL_H
#define BS_ACL_H

#include "options.h"

#include <stddef.h>

/* The same values as MOSQ_ACL_READ/WRITE/SUBSCRIBE/UNSUBSCRIBE. */
enum { BS_ACCESS_READ = 1, BS_ACCESS_WRITE = 2, BS_ACCESS_SUBSCRIBE = 4,
	BS_ACCESS_UNSUBSCRIBE = 8 };

typedef enum { BS_ACL_DEFER, BS_ACL_ALLOW, BS_ACL_DENY } bs_acl_t;

#define BS_CONTROL_TOPIC "$CONTROL/bootstrap/v1"
#define BS_CONTROL_RESPONSE_TOPIC "$CONTROL/bootstrap/v1/response"

bs_acl_t bs_acl_check(const bs_options_t *o, const char *username,
		const char *topic, int access);

/*
 * The same for a bootstrapped client (protocol section 5), whose channels
 * give the topics (filters) it may use: the plugin's own topics as above,
 * then the channel topics; everything else is denied, not deferred. A
 * subscription is allowed only when a channel topic covers every topic it
 * can match.
 */
bs_acl_t bs_acl_check_device(const bs_options_t *o, const char *username,
		const char *const *topics, size_t ntopics, const char *topic, int access);

#endif
