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

static bs_acl_t control(const bs_options_t *o, const char *username)
{
	if (o->admin_users == NULL)
		return BS_ACL_DEFER;
	return bs_options_is_admin(o, username) ? BS_ACL_ALLOW : BS_ACL_DENY;
}

static bs_acl_t owned(const bs_options_t *o, const char *topic, int access)
{
	if (strcmp(topic, o->req_topic) == 0)
		return access == BS_ACCESS_WRITE || access == BS_ACCESS_UNSUBSCRIBE
			? BS_ACL_ALLOW : BS_ACL_DENY;
	return access == BS_ACCESS_WRITE ? BS_ACL_DENY : BS_ACL_ALLOW;
}

/* The answer for the plugin's own topics, or BS_ACL_DEFER for the rest. */
static bs_acl_t own_topics(const bs_options_t *o, const char *username,
		const char *topic, int access)
{
	if (under(topic, "$CONTROL/bootstrap"))
		return control(o, username);
	if (topic[0] == '$' && under(topic + 1, o->topic_prefix))
		return access == BS_ACCESS_UNSUBSCRIBE ? BS_ACL_ALLOW : BS_ACL_DENY;
	if (under(topic, o->topic_prefix))
		return owned(o, topic, access);
	return BS_ACL_DEFER;
}

bs_acl_t bs_acl_check(const bs_options_t *o, const char *username,
		const char *topic, int access)
{
	bs_acl_t a;

	if (topic == NULL)
		return BS_ACL_DENY;
	if ((a = own_topics(o, username, topic, access)) != BS_ACL_DEFER
			|| under(topic, "$CONTROL/bootstrap"))
		return a;
	return o->acl_default == BS_ACL_DEFAULT_ALLOW ? BS_ACL_ALLOW : BS_ACL_DEFER;
}

bs_acl_t bs_acl_check_device(const bs_options_t *o, const char *username,
		const char *const *topics, size_t ntopics, const char *topic, int access)
{
	bs_acl_t a;

	if (topic == NULL)
		return BS_ACL_DENY;
	if ((a = own_topics(o, username, topic, access)) != BS_ACL_DEFER
			|| under(topic, "$CONTROL/bootstrap"))
		return a;
	if (access == BS_ACCESS_UNSUBSCRIBE)
		return BS_ACL_ALLOW;
	for (size_t i = 0; i < ntopics; i++) {
		if (bs_topic_covers(topics[i], topic))
			return BS_ACL_ALLOW;
	}
	return BS_ACL_DENY;
}
