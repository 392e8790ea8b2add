/* Private to the admin module: one command being run, and its handlers. */
#ifndef BS_ADMIN_INT_H
#define BS_ADMIN_INT_H

#include "admin.h"
#include "model.h"

#include <jansson.h>

typedef struct bs_call {
	bs_core_t *core;
	const bs_admin_ctx_t *ctx;
	json_t *cmd;                    /* the command object (borrowed) */
	/* The response data, set on success: a tree, or JSON text written
	 * straight (a config, a list of them) when building the tree would
	 * cost more than the command. */
	json_t *data;
	char *data_text;                /* malloc()ed */
	char target[BS_ID_MAX + 1];     /* client_id or channel id, for audit */
	char message[256];              /* the error message */
	unsigned effects;               /* BS_FX_* on the target, once committed */
} bs_call_t;

typedef int (*bs_handler_fn)(bs_call_t *call);

/* Sets call->message and returns code. */
int bs_call_fail(bs_call_t *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reads an optional string field into *out (borrowed; NULL when absent).
 * A present field of another type is BS_ERR_INVALID. */
int bs_call_string(bs_call_t *call, const char *field, const char **out);
/* The same for a required field. */
int bs_call_required(bs_call_t *call, const char *field, const char **out);

/* The store failed: log why, answer internal_error. */
int bs_call_store_failed(bs_call_t *call);

/*
 * Field readers (admin_fields.c). Each leaves *slot alone when the field is
 * absent and answers invalid_request for a bad value; a replaced value is
 * wiped before it is freed.
 */
/* A string of at most max bytes. */
int bs_field_text(bs_call_t *call, const char *field, size_t max, char **slot);
/* A certificate or key checked by check; null or "" clears the slot. */
int bs_field_pem(bs_call_t *call, const char *field,
		int (*check)(const char *, size_t, char *, size_t), char **slot);
/* client_cert, client_key, ca_cert, then the match of the resulting pair. */
int bs_field_certs(bs_call_t *call, bs_config_t *cfg);
/* An id checked by bs_valid_id; a fresh UUID v4 when absent. */
int bs_field_id(bs_call_t *call, const char *field, char **slot);
/* A secret checked by valid; 256 random bits when absent and generate. */
int bs_field_secret(bs_call_t *call, const char *field,
		int (*valid)(const char *, char *, size_t), int generate, char **slot);
/* channels: replaces cfg's channels when present (*present set). */
int bs_field_channels(bs_call_t *call, bs_config_t *cfg, int *present);
/* channels as newline-joined ids of existing channels (profiles, groups). */
int bs_field_channel_ids(bs_call_t *call, char **slot, int *present);
/* vars: an object of strings with template keys, as compact JSON; null
 * clears it. */
int bs_field_vars(bs_call_t *call, char **slot, int *present);

/* offset (default 0) and limit (default 10, 1 to 1000) of a list command. */
int bs_call_page(bs_call_t *call, long *offset, long *limit);
/* Closes a page written as text in w ({"<items>":[...] so far) with its
 * totals into call->data_text; with rc not BS_OK drops it and returns rc. */
struct jw;
int bs_call_page_text(bs_call_t *call, struct jw *w, int rc, long total, long offset,
		long limit);

/* A list command over items of size bytes that the store counts and reads
 * a page of: {"<key>": [...], "total", "offset", "limit"}. */
typedef struct bs_listing {
	const char *key;
	size_t size;
	int (*count)(bs_store_t *st, long *total);
	int (*page)(bs_store_t *st, long offset, long limit, void **items, size_t *n);
	void (*write)(struct jw *w, const void *item);
	void (*clear)(void *item);
} bs_listing_t;
int bs_call_list(bs_call_t *call, const bs_listing_t *l);

int bs_cmd_create_profile(bs_call_t *call);
int bs_cmd_get_profile(bs_call_t *call);
int bs_cmd_list_profiles(bs_call_t *call);
int bs_cmd_modify_profile(bs_call_t *call);
int bs_cmd_delete_profile(bs_call_t *call);
int bs_cmd_create_group(bs_call_t *call);
int bs_cmd_get_group(bs_call_t *call);
int bs_cmd_list_groups(bs_call_t *call);
int bs_cmd_modify_group(bs_call_t *call);
int bs_cmd_delete_group(bs_call_t *call);

/* listUnknown and clearUnknown (admin_unknown.c, section 7.3). */
int bs_cmd_list_unknown(bs_call_t *call);
int bs_cmd_clear_unknown(bs_call_t *call);

int bs_cmd_create_channel(bs_call_t *call);
int bs_cmd_get_channel(bs_call_t *call);
int bs_cmd_list_channels(bs_call_t *call);
int bs_cmd_modify_channel(bs_call_t *call);
int bs_cmd_delete_channel(bs_call_t *call);
int bs_cmd_create_config(bs_call_t *call);
int bs_cmd_get_config(bs_call_t *call);
int bs_cmd_list_configs(bs_call_t *call);
int bs_cmd_modify_config(bs_call_t *call);
int bs_cmd_enable_config(bs_call_t *call);
int bs_cmd_disable_config(bs_call_t *call);
int bs_cmd_delete_config(bs_call_t *call);
int bs_cmd_get_stats(bs_call_t *call);

#endif
