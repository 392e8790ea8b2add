/*
 * MQTT topic rules for the channel ACL (protocol section 5), without the
 * broker: whether one filter covers another, and the channel topic of a
 * channel.
 */
#ifndef BS_TOPIC_H
#define BS_TOPIC_H

/*
 * 1 when every topic name that sub matches is matched by pattern, else 0.
 * sub is a topic name (a publish) or a filter (a subscription); pattern is
 * a filter. A pattern ending in "/#" also matches its parent ("a/#" covers
 * "a"), as in MQTT. A sub starting with '$' is never covered by a pattern
 * whose first level is a wildcard.
 */
int bs_topic_covers(const char *pattern, const char *sub);

/* tmpl with every "{channel_id}" replaced by id (malloc()ed), or NULL. */
char *bs_topic_channel(const char *tmpl, const char *id);

#endif
