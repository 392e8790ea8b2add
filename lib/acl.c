#include "acl.h"

#include "topic.h"

#include <string.h>

/* 1 when topic is root itself or lies under root/ */
static int under(const char *topic, const char *root)
{
	size_t len = strlen(root);

	return strncmp(topic, root, len) == 0
		&& (topic[len] == '\0' || topic[len] == '/');
}

/* Without admin_users the broker's other ACL sources decide, except that an
 * anonymous client never reads here: it can never be an admin (its
 * commands are answered forbidden), and responses show secrets once. */
static bs_acl_t control(const bs_options_t *o, const char *username, int access)
{
	if (o->admin_users == NULL)
		return username == NULL && (access == BS_ACCESS_READ
				|| access == BS_ACCESS_SUBSCRIBE) ? BS_ACL_DENY : BS_ACL_DEFER;
	return bs_options_is_admin(o, username) ? BS_ACL_ALLOW : BS_ACL_DENY;
}

static bs_acl_t owned(const bs_options_t *o, const char *topic, int access)
{
	if (strcmp(topic, o->req_topic) == 0)
		return access == BS_ACCESS_WRITE || access == BS_ACCESS_UNSUBSCRIBE
			? BS_ACL_ALLOW : BS_ACL_DENY;
	return access == BS_ACCESS_WRITE ? BS_ACL_DENY : BS_ACL_ALLOW;
}

/* 1 with *out set when topic is one of the plugin's own (or NULL); then
 * *out is the answer, which for $CONTROL/bootstrap may be BS_ACL_DEFER. */
static int own_topics(const bs_options_t *o, const char *username,
		const char *topic, int access, bs_acl_t *out)
{
	if (topic == NULL)
		*out = BS_ACL_DENY;
	else if (under(topic, "$CONTROL/bootstrap"))
		*out = control(o, username, access);
	else if (topic[0] == '$' && under(topic + 1, o->topic_prefix))
		*out = access == BS_ACCESS_UNSUBSCRIBE ? BS_ACL_ALLOW : BS_ACL_DENY;
	else if (under(topic, o->topic_prefix))
		*out = owned(o, topic, access);
	else
		return 0;
	return 1;
}

bs_acl_t bs_acl_check(const bs_options_t *o, const char *username,
		const char *topic, int access)
{
	bs_acl_t a;

	if (own_topics(o, username, topic, access, &a))
		return a;
	return o->acl_default == BS_ACL_DEFAULT_ALLOW ? BS_ACL_ALLOW : BS_ACL_DEFER;
}

bs_acl_t bs_acl_check_device(const bs_options_t *o, const char *username,
		const char *const *topics, size_t ntopics, const char *topic, int access)
{
	bs_acl_t a;

	if (own_topics(o, username, topic, access, &a))
		return a;
	if (access == BS_ACCESS_UNSUBSCRIBE)
		return BS_ACL_ALLOW;
	for (size_t i = 0; i < ntopics; i++) {
		if (bs_topic_covers(topics[i], topic))
			return BS_ACL_ALLOW;
	}
	return BS_ACL_DENY;
}
