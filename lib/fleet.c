#include "fleet.h"

#include "crypto.h"
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bs_profile_clear(bs_profile_t *p)
{
	free(p->id);
	free(p->name);
	free(p->content);
	free(p->channel_ids);
	free(p->vars);
	memset(p, 0, sizeof(*p));
}

void bs_group_clear(bs_group_t *g)
{
	free(g->id);
	free(g->name);
	free(g->profile);
	free(g->channel_ids);
	if (g->group_key != NULL)
		bs_crypto_free_secret(g->group_key, strlen(g->group_key));
	memset(g, 0, sizeof(*g));
}

void bs_ids_write(jw_t *w, const char *key, const char *ids)
{
	const char *p = ids ? ids : "";
	char id[BS_ID_MAX + 1];

	jw_key(w, key);
	jw_punct(w, "[");
	for (int first = 1; *p != '\0'; first = 0) {
		size_t n = strcspn(p, "\n");
		if (!first)
			jw_punct(w, ",");
		snprintf(id, sizeof(id), "%.*s", (int)(n > BS_ID_MAX ? BS_ID_MAX : n), p);
		jw_string(w, id);
		p += n + (p[n] == '\n');
	}
	jw_punct(w, "]");
}

static void write_times(jw_t *w, const char *created, const char *updated)
{
	jw_member(w, "created_at", created);
	jw_member(w, "updated_at", updated);
}

void bs_profile_write(jw_t *w, const bs_profile_t *p)
{
	jw_object_begin(w);
	jw_member(w, "id", p->id);
	jw_member(w, "name", p->name);
	jw_member(w, "content", p->content ? p->content : "");
	bs_ids_write(w, "channels", p->channel_ids);
	jw_key(w, "vars");
	jw_raw(w, p->vars ? p->vars : "{}");
	write_times(w, p->created_at, p->updated_at);
	jw_object_end(w);
}

void bs_group_write(jw_t *w, const bs_group_t *g, const char *group_key)
{
	jw_object_begin(w);
	jw_member(w, "id", g->id);
	jw_member(w, "name", g->name);
	jw_key(w, "profile");
	if (g->profile != NULL)
		jw_string(w, g->profile);
	else
		jw_raw(w, "null");
	bs_ids_write(w, "channels", g->channel_ids);
	jw_key(w, "enable");
	jw_raw(w, g->enable ? "true" : "false");
	write_times(w, g->created_at, g->updated_at);
	if (group_key != NULL)
		jw_member(w, "group_key", group_key);
	jw_object_end(w);
}
