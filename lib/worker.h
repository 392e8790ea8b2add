/*
 * A worker thread with a bounded FIFO of jobs, so that the broker's only
 * thread never waits on a slow call (a PostgreSQL round trip): the owning
 * thread submits a job, the worker runs it, and the owning thread later
 * drains the finished ones and acts on their results (publishes) itself.
 *
 * A job is three things: run(arg) runs on the worker thread; done(arg,
 * cancelled) runs on the thread that drains or stops, exactly once per
 * accepted job, in submission order; arg is the job's own state, which
 * done frees. cancelled is true when run never ran (bs_worker_stop came
 * first), so done may answer "internal_error" or nothing, and free.
 *
 * The owning thread is the one that calls submit, drain and stop (the
 * broker thread); only run and the wake callback run on the worker. The
 * worker knows nothing of the broker: after each job it calls wake(arg),
 * which the plugin turns into a nudge of the broker thread (plugin/wake.h).
 *
 * The worker thread blocks every asynchronous signal, so that a signal
 * sent to the process (SIGTERM, SIGHUP from an operator) is taken by the
 * owning thread, as it would be without the worker.
 */
#ifndef BS_WORKER_H
#define BS_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The queue's default bound: at 1 ms a job, a second of backlog. */
#define BS_WORKER_QUEUE 1024

typedef struct bs_worker bs_worker_t;

typedef struct {
	void (*run)(void *arg);
	void (*done)(void *arg, bool cancelled);
	void *arg;
} bs_job_t;

/*
 * Starts the thread. capacity bounds the jobs accepted and not yet done
 * (queued, running, or finished and not yet drained), 1 or more. wake (may
 * be NULL: the owner polls) is called on the worker thread after each job
 * with wake_arg; it must not block. BS_OK, or BS_ERR_INVALID (capacity 0)
 * or BS_ERR_INTERNAL (memory, thread), *out then NULL.
 */
int bs_worker_start(size_t capacity, void (*wake)(void *), void *wake_arg,
		bs_worker_t **out);

/*
 * The same, for work that is cheaper done for several jobs together (one
 * statement for many lookups): run_many(ctx, jobs, n) runs on the worker
 * thread with every job queued when it wakes, up to BS_WORKER_BATCH of
 * them, oldest first, and must do the work of all n; their run is not
 * called (it may be NULL). It never waits for a batch to fill: a job
 * queued alone is run alone at once. done and drain are as above.
 */
#define BS_WORKER_BATCH 64
typedef void (*bs_worker_many_fn)(void *ctx, const bs_job_t *jobs, size_t n);
int bs_worker_start_many(size_t capacity, bs_worker_many_fn run_many, void *ctx,
		void (*wake)(void *), void *wake_arg, bs_worker_t **out);

/*
 * Queues *job (copied) behind the others. BS_OK; BS_ERR_INTERNAL when
 * capacity jobs are in flight or the worker is stopping; BS_ERR_INVALID
 * when done is NULL, or run is and the worker was not started with
 * bs_worker_start_many. On an error nothing is queued and neither
 * callback will ever run: job->arg is still the caller's, who answers
 * internal_error at once.
 */
int bs_worker_submit(bs_worker_t *w, const bs_job_t *job);

/*
 * Runs done(arg, false) for every job finished so far, oldest first, and
 * returns how many. The worker's lock is not held meanwhile, so a done may
 * submit again. Never blocks on a running job.
 */
size_t bs_worker_drain(bs_worker_t *w);

/* Jobs accepted and not yet drained (for statistics and tests). */
size_t bs_worker_pending(bs_worker_t *w);

/*
 * Stops: the job running now finishes (run is not interrupted), the jobs
 * that never started are cancelled; the thread is joined; then every
 * job's done runs once, in order, finished ones with cancelled false,
 * the others with true; then w is freed. NULL is ignored.
 */
void bs_worker_stop(bs_worker_t *w);

/*
 * pthread_create(t, NULL, fn, arg) with every asynchronous signal blocked
 * in the new thread (faults are not): for any helper thread a plugin
 * starts, the worker's own among them. BS_OK or BS_ERR_INTERNAL.
 */
int bs_worker_thread(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
