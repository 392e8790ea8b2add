#include "worker.h"

#include "error.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

/*
 * One ring of capacity slots and three counters that only grow: slots
 * [drained, finished) hold finished jobs waiting for their done,
 * [finished, submitted) jobs not yet run (the first of them may be
 * running). The worker only reads slots; the owner writes slot
 * submitted % capacity, which is free because submitted - drained never
 * reaches capacity. The counters are guarded by lock.
 */
struct bs_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;            /* a job was queued, or stop */
	bs_job_t *ring;
	size_t capacity;
	size_t submitted, finished, drained;
	int stop;
	void (*wake)(void *);
	void *wake_arg;
	bs_worker_many_fn run_many;     /* NULL: one job at a time */
	void *many_ctx;
};

static bs_job_t *slot(bs_worker_t *w, size_t n)
{
	return &w->ring[n % w->capacity];
}

/*
 * Every asynchronous signal is blocked in the new thread (it inherits the
 * mask at creation, so there is no window): Mosquitto blocks SIGTERM,
 * SIGHUP, SIGINT and SIGUSR1/2 while it sleeps in epoll_wait, and the
 * kernel would then hand such a signal to a thread that does not block
 * it, running the broker's handler here. Faults stay unblocked, so that a
 * crash in a job still reaches the sanitizers' handlers.
 */
int bs_worker_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS };
	sigset_t quiet, old;
	int rc;

	sigfillset(&quiet);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&quiet, faults[i]);
	pthread_sigmask(SIG_BLOCK, &quiet, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? BS_OK : BS_ERR_INTERNAL;
}

/*
 * The next jobs to run, copied under the lock into jobs[0..max): every
 * one queued, up to max; 0 when told to stop. Their slots stay as they
 * are until finished moves past them.
 */
static size_t next_jobs(bs_worker_t *w, bs_job_t *jobs, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&w->lock);
	while (!w->stop && w->finished == w->submitted)
		pthread_cond_wait(&w->more, &w->lock);
	while (!w->stop && n < max && w->finished + n < w->submitted) {
		jobs[n] = *slot(w, w->finished + n);
		n++;
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}

static void *loop(void *arg)
{
	bs_worker_t *w = arg;
	bs_job_t jobs[BS_WORKER_BATCH];
	size_t n;

	while ((n = next_jobs(w, jobs, w->run_many ? BS_WORKER_BATCH : 1)) > 0) {
		if (w->run_many != NULL)
			w->run_many(w->many_ctx, jobs, n);
		else
			jobs[0].run(jobs[0].arg);
		pthread_mutex_lock(&w->lock);
		w->finished += n;
		pthread_mutex_unlock(&w->lock);
		/* Outside the lock: the wake may take locks of its own. */
		if (w->wake != NULL)
			w->wake(w->wake_arg);
	}
	return NULL;
}

static void destroy(bs_worker_t *w)
{
	pthread_cond_destroy(&w->more);
	pthread_mutex_destroy(&w->lock);
	free(w->ring);
	free(w);
}

int bs_worker_start(size_t capacity, void (*wake)(void *), void *wake_arg,
		bs_worker_t **out)
{
	return bs_worker_start_many(capacity, NULL, NULL, wake, wake_arg, out);
}

int bs_worker_start_many(size_t capacity, bs_worker_many_fn run_many, void *ctx,
		void (*wake)(void *), void *wake_arg, bs_worker_t **out)
{
	bs_worker_t *w;

	*out = NULL;
	if (capacity == 0)
		return BS_ERR_INVALID;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return BS_ERR_INTERNAL;
	w->ring = calloc(capacity, sizeof(*w->ring));
	if (w->ring == NULL || pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w->ring);
		free(w);
		return BS_ERR_INTERNAL;
	}
	if (pthread_cond_init(&w->more, NULL) != 0) {
		pthread_mutex_destroy(&w->lock);
		free(w->ring);
		free(w);
		return BS_ERR_INTERNAL;
	}
	w->capacity = capacity;
	w->wake = wake;
	w->wake_arg = wake_arg;
	w->run_many = run_many;
	w->many_ctx = ctx;
	if (bs_worker_thread(&w->thread, loop, w) != BS_OK) {
		destroy(w);
		return BS_ERR_INTERNAL;
	}
	*out = w;
	return BS_OK;
}

int bs_worker_submit(bs_worker_t *w, const bs_job_t *job)
{
	int rc = BS_OK;

	if (job == NULL || job->done == NULL || (job->run == NULL && w->run_many == NULL))
		return BS_ERR_INVALID;
	pthread_mutex_lock(&w->lock);
	if (w->stop || w->submitted - w->drained >= w->capacity) {
		rc = BS_ERR_INTERNAL;
	} else {
		*slot(w, w->submitted) = *job;
		w->submitted++;
		pthread_cond_signal(&w->more);
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

/*
 * Runs done for jobs [drained, end) with the lock not held. Each job is
 * copied out and its slot freed before its done runs, so that a done that
 * submits again finds room even in a ring of one.
 */
static size_t finish(bs_worker_t *w, size_t end, bool cancelled)
{
	size_t n = 0;

	for (;;) {
		bs_job_t job;

		pthread_mutex_lock(&w->lock);
		if (w->drained == end) {
			pthread_mutex_unlock(&w->lock);
			return n;
		}
		job = *slot(w, w->drained);
		w->drained++;
		pthread_mutex_unlock(&w->lock);
		job.done(job.arg, cancelled);
		n++;
	}
}

size_t bs_worker_drain(bs_worker_t *w)
{
	size_t end;

	pthread_mutex_lock(&w->lock);
	end = w->finished;
	pthread_mutex_unlock(&w->lock);
	return finish(w, end, false);
}

size_t bs_worker_pending(bs_worker_t *w)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->submitted - w->drained;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void bs_worker_stop(bs_worker_t *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/* Alone now; a done that submits is refused (stop is set). */
	finish(w, w->finished, false);
	finish(w, w->submitted, true);
	destroy(w);
}
