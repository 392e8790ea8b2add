/*
 * Fleets (protocol 7.1, 7.2): profiles and enrollment groups as the store
 * and the admin see them. Every char * is malloc()ed and owned.
 */
#ifndef BS_FLEET_H
#define BS_FLEET_H

#include "model.h"

#include <stddef.h>

/* A group_key: 256 random bits as URL-safe base64 without padding. */
#define BS_GROUP_KEY_LEN 43

typedef struct bs_profile {
	char *id;
	char *name;
	char *content;          /* the template */
	char *channel_ids;      /* joined by newlines, "" for none */
	char *vars;             /* a compact JSON object of strings */
	char created_at[BS_TIME_LEN];
	char updated_at[BS_TIME_LEN];
} bs_profile_t;

typedef struct bs_group {
	char *id;
	char *name;
	char *profile;          /* NULL for none */
	char *channel_ids;
	int enable;             /* configs it makes start enabled */
	char *group_key;        /* clear text, in memory only; NULL when not loaded */
	char created_at[BS_TIME_LEN];
	char updated_at[BS_TIME_LEN];
} bs_group_t;

void bs_profile_clear(bs_profile_t *p);
void bs_group_clear(bs_group_t *g);

struct jw;
/* The admin views; a group's key only when given (just made, shown once). */
void bs_profile_write(struct jw *w, const bs_profile_t *p);
void bs_group_write(struct jw *w, const bs_group_t *g, const char *group_key);
/* Newline-joined ids as a JSON array of strings. */
void bs_ids_write(struct jw *w, const char *key, const char *ids);

#endif
