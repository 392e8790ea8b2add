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
 * reply could be built (out of memory). On the broker thread, the store
 * read on it: bs_device_begin, bs_device_lookup on core->store (under
 * bs_core_enter), bs_device_finish. */
int bs_device_handle(bs_core_t *core, const bs_request_ctx_t *ctx,
		const void *payload, size_t len, bs_reply_t *out);

/*
 * The same in three steps, so that the store's part may run elsewhere (a
 * worker thread with a store of its own, when a round trip to the store
 * must not hold up the broker thread):
 *
 * bs_device_begin, on the broker thread, parses the request and answers
 * what needs no store (a bad request, a lockout, a challenge, a proof with
 * a used nonce); ctx is copied. BS_ERR_INTERNAL (out of memory, *job NULL)
 * or BS_OK with *job set.
 * bs_device_lookup, when bs_device_needs_lookup says so, on any thread:
 * the store's reads (and an enrollment's write) on st, touching nothing
 * but st and the job.
 * bs_device_finish, on the broker thread: the answer, as bs_device_handle
 * gives it; the job is freed. Without the lookup it answers
 * internal_error. bs_device_cancel frees a job that is not finished.
 */
typedef struct bs_device_job bs_device_job_t;
int bs_device_begin(bs_core_t *core, const bs_request_ctx_t *ctx,
		const void *payload, size_t len, bs_device_job_t **job);
int bs_device_needs_lookup(const bs_device_job_t *job);
void bs_device_lookup(bs_store_t *st, bs_device_job_t *job);
/* bs_device_lookup for n jobs at once, as few round trips to the store
 * as it can (one read of the configs for up to BS_DEVICES_MAX). */
void bs_device_lookup_many(bs_store_t *st, bs_device_job_t *const *jobs, size_t n);
int bs_device_finish(bs_core_t *core, bs_device_job_t *job, bs_reply_t *out);
void bs_device_cancel(bs_device_job_t *job);

void bs_reply_free(bs_reply_t *r);

#endif
