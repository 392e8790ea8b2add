/*
 * Channels and configs: the structs every module shares, the validation
 * rules of the protocol (section 2), and their JSON views.
 *
 * Ownership: every char * in these structs is malloc()ed and owned by the
 * struct; bs_channel_clear / bs_config_clear free them (secrets are zeroed
 * first). A cleared struct is all zeros and can be reused.
 */
#ifndef BS_MODEL_H
#define BS_MODEL_H

#include "certs.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BS_TIME_LEN 21          /* "2026-01-02T03:04:05Z" + NUL */
#define BS_ID_MAX 256           /* ids, names, external ids: bytes */
#define BS_KEY_MIN 8            /* external_key bytes */
#define BS_KEY_MAX 256
#define BS_CONTENT_MAX 65536
#define BS_CERT_MAX 65536       /* any one certificate or key field */
#define BS_REQ_ID_MAX 64

typedef struct bs_channel {
	char *id;
	char *name;
	char *metadata;         /* a JSON object, compact text */
} bs_channel_t;

typedef struct bs_config {
	int64_t id;             /* the store's number for it; 0 until stored */
	char *client_id;
	char *client_secret;    /* clear text, in memory only */
	char *name;
	char *external_id;
	char *external_key;     /* clear text, in memory only; NULL when not loaded */
	char *content;
	char *client_cert;      /* NULL when unset */
	char *client_key;       /* clear text, in memory only; NULL when unset */
	char *ca_cert;          /* NULL when unset */
	int has_client_key;     /* set by the store even when client_key is not loaded */
	int enabled;
	char created_at[BS_TIME_LEN];
	char updated_at[BS_TIME_LEN];
	char last_bootstrap_at[BS_TIME_LEN]; /* "" until the first bootstrap */
	/* Of its client_cert, "" when it has none (protocol 3.3). */
	char cert_serial[BS_SERIAL_HEX_MAX + 1];  /* lowercase hex */
	char cert_expires_at[BS_TIME_LEN];
	bs_channel_t *channels;
	size_t nchannels;
	/* Its channel ids as the store keeps them with the row, for
	 * bs_store_config_channels. */
	char *channel_ids;
	/* Fleets (protocol 7): its profile and its own vars (a compact JSON
	 * object of strings), and the group that made it; NULL for none. */
	char *profile, *vars, *group;
} bs_config_t;

void bs_channel_clear(bs_channel_t *ch);
void bs_config_clear(bs_config_t *cfg);

/* The ids of cfg->channels joined by newlines, as the stores keep them
 * with the config; malloc()ed, NULL when out of memory. */
char *bs_config_join_channels(const bs_config_t *cfg);

/* now as RFC 3339 UTC with second precision. */
void bs_time_format(time_t now, char out[BS_TIME_LEN]);
/* An RFC 3339 date-time (2026-12-02T06:00:00Z, with fractions of a second
 * or an offset such as +02:00), or BS_ERR_INVALID; a fraction is dropped,
 * or with round_up counts as a whole second more. */
int bs_time_parse(const char *s, int round_up, time_t *out);

/*
 * Validation. Each returns 0 or BS_ERR_INVALID with a reason in err that
 * names the field. Lengths are in bytes; text must be valid UTF-8 without
 * NUL (Jansson guarantees both for strings it parsed unless told otherwise).
 */
int bs_valid_id(const char *field, const char *s, char *err, size_t errlen);
int bs_valid_external_id(const char *s, char *err, size_t errlen);
int bs_valid_external_key(const char *s, char *err, size_t errlen);
int bs_valid_client_secret(const char *s, char *err, size_t errlen);
int bs_valid_text(const char *field, const char *s, size_t max,
		char *err, size_t errlen);

/*
 * Decodes the UTF-8 sequence at p (at most avail bytes) into *cp and
 * returns its length, or 0 when it is malformed: overlong, a surrogate,
 * truncated, beyond U+10FFFF.
 */
size_t bs_utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp);

/* True when s is usable as an MQTT topic name (not a filter). */
int bs_valid_topic_name(const char *s);

/* A channel as the admin sees it, a new reference. */
json_t *bs_channel_json(const bs_channel_t *ch);

/*
 * A config as the admin sees it: never its client_key (has_client_key
 * says whether there is one), and its external_key only when given (just
 * set, shown once). Written as text, not as a Jansson tree, which cost
 * more than the command (admin-import). The text is malloc()ed with *len
 * set, or NULL when memory ran out.
 */
struct jw;
void bs_config_admin_write(struct jw *w, const bs_config_t *cfg, const char *external_key);
char *bs_config_admin_text(const bs_config_t *cfg, const char *external_key, size_t *len);

/* The bootstrap success reply as JSON text (malloc()ed, *len set), with
 * id first when it is not NULL; NULL when memory ran out. */
char *bs_config_device_reply(const bs_config_t *cfg, const char *id, size_t *len);

#endif
