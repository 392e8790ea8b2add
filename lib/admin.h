/*
 * The admin protocol (section 4): a batch of commands in, one response per
 * command out, in order. The batch runs in one transaction with a savepoint
 * per command: a failed command is rolled back alone and the rest go on.
 * Every change is logged in one audit line once the batch is committed.
 * A sender without a username gets forbidden for every command: the audit
 * log must say who changed what.
 */
#ifndef BS_ADMIN_H
#define BS_ADMIN_H

#include "core.h"

#include <stddef.h>
#include <time.h>

/* Limits of one message: more is one invalid_request, nothing applied. A
 * batch runs on the broker's only thread, so these bound how long one
 * message can hold every other client up. */
#define BS_ADMIN_MAX_COMMANDS 10000
#define BS_ADMIN_MAX_BYTES (32u * 1024 * 1024)
/* JSON values (commas and opening brackets outside strings, plus one),
 * counted before parsing: Jansson's tree costs up to about 220 bytes per
 * value (an empty object), so 10 MiB of "{}," took the broker 755 MB to
 * parse only to be refused (make soak). 50 per command of a full batch;
 * a batch of 5,000 createConfig + enableConfig pairs has 55,000. */
#define BS_ADMIN_MAX_VALUES 500000u

#define BS_CONTROL_EVENTS_TOPIC "$CONTROL/bootstrap/v1/events"

typedef struct bs_admin_ctx {
	const char *username;     /* of the admin's connection, or NULL */
	const char *client_id;    /* its MQTT client id */
	time_t now;
} bs_admin_ctx_t;

typedef struct bs_admin_result {
	char *payload;            /* {"responses": [...]}, malloc()ed */
	size_t payloadlen;
	/* What the committed changes do to the live sessions, for
	 * bs_sessions_apply; none when nothing was committed. */
	bs_effect_t *effects;
	size_t neffects;
	/* The audit lines as JSON (section 8, events), one payload each, for
	 * $CONTROL/bootstrap/v1/events; malloc()ed. */
	char **events;
	size_t nevents;
} bs_admin_result_t;

/* BS_OK with *out filled, or BS_ERR_INTERNAL when no reply could be built. */
int bs_admin_handle(bs_core_t *core, const bs_admin_ctx_t *ctx,
		const void *payload, size_t len, bs_admin_result_t *out);

void bs_admin_result_free(bs_admin_result_t *r);

#endif
