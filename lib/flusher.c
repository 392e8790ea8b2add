#include "flusher.h"

#include "error.h"
#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Between two slices the thread lets go of the lock this long, so that
 * the broker thread, woken to take it, gets it (mutexes are not fair). */
#define PAUSE_NS 1000000L

struct bs_flusher {
	bs_store_t *st;
	pthread_t thread;
	pthread_mutex_t store_lock;
	pthread_cond_t wake;            /* work handed over, or stop */
	/* The fields below, but held_since, are guarded by store_lock. */
	bs_touches_t batch;
	bs_flusher_job_t job;           /* its waiting is NULL when unset */
	int stop;
	size_t failed;
	char errmsg[256];
	/* When the thread took the lock for a slice (ms, monotonic), or 0. */
	_Atomic long long held_since;
	int stuck;                      /* the broker thread's own view */
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One slice of the batch, with the lock held. */
static void write_slice(bs_flusher_t *f)
{
	size_t failed = 0;

	atomic_store(&f->held_since, mono_ms());
	if (bs_touches_waiting(&f->batch) > 0)
		bs_touches_write(&f->batch, f->st, BS_FLUSHER_SLICE, 1, &failed);
	else if (f->job.waiting != NULL && f->job.waiting(f->job.arg) > 0)
		failed = f->job.write(f->job.arg, f->st, BS_FLUSHER_SLICE);
	if (failed > 0) {
		f->failed += failed;
		snprintf(f->errmsg, sizeof(f->errmsg), "%s", bs_store_errmsg(f->st));
	}
	atomic_store(&f->held_since, 0);
}

static void *run(void *arg)
{
	bs_flusher_t *f = arg;
	const struct timespec pause = { 0, PAUSE_NS };

	pthread_mutex_lock(&f->store_lock);
	for (;;) {
		while (!f->stop && bs_touches_waiting(&f->batch) == 0
				&& (f->job.waiting == NULL || f->job.waiting(f->job.arg) == 0))
			pthread_cond_wait(&f->wake, &f->store_lock);
		if (f->stop)
			break;
		write_slice(f);
		pthread_mutex_unlock(&f->store_lock);
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&f->store_lock);
	}
	pthread_mutex_unlock(&f->store_lock);
	return NULL;
}

int bs_flusher_start(bs_store_t *st, bs_flusher_t **out)
{
	bs_flusher_t *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return BS_ERR_INTERNAL;
	f->st = st;
	if (pthread_mutex_init(&f->store_lock, NULL) != 0) {
		free(f);
		return BS_ERR_INTERNAL;
	}
	if (pthread_cond_init(&f->wake, NULL) != 0) {
		pthread_mutex_destroy(&f->store_lock);
		free(f);
		return BS_ERR_INTERNAL;
	}
	/* Signals block in it: SIGHUP and SIGTERM stay the broker thread's. */
	if (bs_worker_thread(&f->thread, run, f) != BS_OK) {
		pthread_cond_destroy(&f->wake);
		pthread_mutex_destroy(&f->store_lock);
		free(f);
		return BS_ERR_INTERNAL;
	}
	*out = f;
	return BS_OK;
}

void bs_flusher_stop(bs_flusher_t *f)
{
	pthread_mutex_lock(&f->store_lock);
	f->stop = 1;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->store_lock);
	pthread_join(f->thread, NULL);
}

void bs_flusher_free(bs_flusher_t *f)
{
	if (f == NULL)
		return;
	bs_touches_free(&f->batch);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->store_lock);
	free(f);
}

int bs_flusher_try(bs_flusher_t *f)
{
	if (pthread_mutex_trylock(&f->store_lock) != 0)
		return BS_ERR_INTERNAL;
	f->stuck = 0;
	return BS_OK;
}

int bs_flusher_enter(bs_flusher_t *f)
{
	struct timespec until;
	long long since, wait_ms;

	if (bs_flusher_try(f) == BS_OK)
		return BS_OK;
	if (f->stuck)
		return BS_ERR_INTERNAL;
	/* Up to BS_FLUSHER_STUCK_MS after the slice began: a healthy one ends
	 * long before, a stuck one is given up on then. */
	since = atomic_load(&f->held_since);
	wait_ms = since != 0 ? since + BS_FLUSHER_STUCK_MS - mono_ms() : BS_FLUSHER_STUCK_MS;
	if (wait_ms < 1)
		wait_ms = 1;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(wait_ms / 1000);
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_timedlock(&f->store_lock, &until) == 0)
		return BS_OK;
	f->stuck = 1;
	return BS_ERR_INTERNAL;
}

void bs_flusher_leave(bs_flusher_t *f)
{
	pthread_mutex_unlock(&f->store_lock);
}

int bs_flusher_hand(bs_flusher_t *f, bs_touches_t *t)
{
	bs_touch_map_t empty;

	if (bs_touches_waiting(&f->batch) > 0 || t->pending.count == 0)
		return 0;
	empty = f->batch.pending;
	f->batch.pending = t->pending;
	t->pending = empty;
	pthread_cond_signal(&f->wake);
	return 1;
}

void bs_flusher_set_job(bs_flusher_t *f, const bs_flusher_job_t *job)
{
	f->job = *job;
}

void bs_flusher_wake(bs_flusher_t *f)
{
	pthread_cond_signal(&f->wake);
}

bs_touches_t *bs_flusher_batch(bs_flusher_t *f)
{
	return &f->batch;
}

size_t bs_flusher_failed(bs_flusher_t *f, char *msg, size_t msglen)
{
	size_t n = f->failed;

	snprintf(msg, msglen, "%s", f->errmsg);
	f->failed = 0;
	return n;
}
