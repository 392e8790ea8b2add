/*
 * The write-behind thread: writes recorded bootstraps (last_bootstrap_at)
 * off the broker's thread, so that a stalled disk stalls this thread, not
 * every client of the broker.
 *
 * The store's one connection is shared: whoever uses it holds the
 * flusher's store lock. The broker thread takes it for each device
 * request, login and admin batch (bs_flusher_enter); the thread takes it
 * for one slice of writes at a time. A healthy slice holds it for well
 * under a millisecond; a slice stuck on the disk holds it as long as the
 * disk is stuck, and then the broker thread waits at most
 * BS_FLUSHER_STUCK_MS once and after that not at all: store requests fail
 * (internal_error) until the disk moves again, other traffic goes on.
 *
 * The bootstraps the thread writes (its batch) are touched only under the
 * store lock, so a holder of the lock may write them itself (an admin
 * batch does, so that its reads are never stale).
 */
#ifndef BS_FLUSHER_H
#define BS_FLUSHER_H

#include "store.h"
#include "touches.h"

#include <stddef.h>

#define BS_FLUSHER_STUCK_MS 500
#define BS_FLUSHER_SLICE 512

typedef struct bs_flusher bs_flusher_t;

/* Starts the thread on st (borrowed; it must outlive the flusher). */
int bs_flusher_start(bs_store_t *st, bs_flusher_t **out);

/* Stops and joins the thread, after its current slice. Its batch stays,
 * for the caller to write (no lock needed any more); then free it. */
void bs_flusher_stop(bs_flusher_t *f);
void bs_flusher_free(bs_flusher_t *f);

/* Takes the store lock: BS_OK, or BS_ERR_INTERNAL when the thread has held
 * it, stuck, for BS_FLUSHER_STUCK_MS (waited once; then not at all until
 * the lock is free again). For the broker thread only. */
int bs_flusher_enter(bs_flusher_t *f);
/* The same without waiting: BS_ERR_INTERNAL when the lock is taken. */
int bs_flusher_try(bs_flusher_t *f);
void bs_flusher_leave(bs_flusher_t *f);

/*
 * With the store lock held: when the thread has nothing left, the pending
 * bootstraps of t become its batch (t's pending map is left empty) and
 * the thread is woken. 1 when handed over, 0 when the thread still works.
 */
int bs_flusher_hand(bs_flusher_t *f, bs_touches_t *t);

/* With the store lock held: the thread's batch, to write or look into. */
bs_touches_t *bs_flusher_batch(bs_flusher_t *f);

/*
 * A second kind of work for the thread (the unknown devices, unknown.h):
 * with the store lock held, waiting(arg) says how much is handed over and
 * write(arg, st, max) writes a slice of it, returning how many it failed
 * to write. Set once, with the store lock held, before any hand-over;
 * bs_flusher_wake tells the thread that some was handed over.
 */
typedef struct {
	size_t (*waiting)(void *arg);
	size_t (*write)(void *arg, bs_store_t *st, size_t max);
	void *arg;
} bs_flusher_job_t;
void bs_flusher_set_job(bs_flusher_t *f, const bs_flusher_job_t *job);
void bs_flusher_wake(bs_flusher_t *f);

/* With the store lock held: how many bootstraps the thread failed to
 * write since the last call, and the store's message for the last failure
 * (copied into msg). */
size_t bs_flusher_failed(bs_flusher_t *f, char *msg, size_t msglen);

#endif
