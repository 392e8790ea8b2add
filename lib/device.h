/*
 * The device protocol (section 3): request bytes in, reply bytes and reply
 * topic out. Never fails without a reply: every outcome, internal errors
 * included, is a reply the plugin publishes.
 */
#ifndef BS_DEVICE_H
#define BS_DEVICE_H

#include "core.h"

#include <stddef.h>
#include <time.h>

typedef struct bs_request_ctx {
	const char *client_id;       /* the MQTT client id of the sender */
	const char *address;         /* its address, for lockout (section 6) */
	const char *response_topic;  /* MQTT v5 Response Topic, or NULL */
	time_t now;
} bs_request_ctx_t;

typedef struct bs_reply {
	char *topic;                 /* malloc()ed */
	char *payload;               /* malloc()ed JSON text, not NUL-counted */
	size_t payloadlen;
	int on_response_topic;       /* 1 when topic is the v5 Response Topic */
	int err;                     /* BS_OK, or the code the reply carries */
	/* Sessions to end once the reply is queued: those of a certificate
	 * that a renewal replaced (section 3.3), but the requester's own. */
	bs_kicks_t kicks;
	/* A config made by enrollment (7.2): its event, for
	 * $CONTROL/bootstrap/v1/events (malloc()ed), or NULL. */
	char *event;
} bs_reply_t;

/* Returns BS_OK with *out filled, or BS_ERR_INTERNAL when not even an error
 * reply could be built (out of memory). */
int bs_device_handle(bs_core_t *core, const bs_request_ctx_t *ctx,
		const void *payload, size_t len, bs_reply_t *out);

void bs_reply_free(bs_reply_t *r);

#endif
