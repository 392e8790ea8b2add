/* The worker thread: jobs run off the owning thread in order, every done
 * runs exactly once on the owning thread in submission order, a full
 * queue refuses, stop cancels what never started, and the thread takes no
 * asynchronous signal. */
#include "cu_main.h"
#include "error.h"
#include "worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_MS 10000
#define STRESS_JOBS 200000
#define STRESS_CAPACITY 64

typedef struct {
	int index;
	int ran;                    /* times run ran */
	int done;                   /* times done ran */
	int cancelled;
	pthread_t run_thread;
	pthread_t done_thread;
} probe_t;

/* Order in which done saw the probes, shared by one test at a time. */
static int seen[64];
static int nseen;
static atomic_int wakes;

/* A gate a job's run waits on, so that a test controls when it ends. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;
static atomic_int gate_waiting;

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static void gate_set(int open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_pass(void)
{
	pthread_mutex_lock(&gate_lock);
	atomic_fetch_add(&gate_waiting, 1);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	atomic_fetch_sub(&gate_waiting, 1);
	pthread_mutex_unlock(&gate_lock);
}

static void run_probe(void *arg)
{
	probe_t *p = arg;
	p->ran++;
	p->run_thread = pthread_self();
}

static void run_gated(void *arg)
{
	gate_pass();
	run_probe(arg);
}

static void done_probe(void *arg, bool cancelled)
{
	probe_t *p = arg;
	p->done++;
	p->cancelled = cancelled;
	p->done_thread = pthread_self();
	if (nseen < (int)(sizeof(seen) / sizeof(seen[0])))
		seen[nseen++] = p->index;
}

static void count_wake(void *arg)
{
	(void)arg;
	atomic_fetch_add(&wakes, 1);
}

/* Waits (bounded) until n jobs have ended: wake follows each job. */
static void wait_wakes(int n)
{
	for (int i = 0; i < WAIT_MS && atomic_load(&wakes) < n; i++)
		sleep_us(1000);
	CU_ASSERT_EQUAL(atomic_load(&wakes), n);
}

/* Drains w until total jobs are done or WAIT_MS pass; the number done. */
static size_t drain_until(bs_worker_t *w, size_t total)
{
	size_t got = 0;

	for (int i = 0; i < WAIT_MS * 10 && got < total; i++) {
		got += bs_worker_drain(w);
		if (got < total)
			sleep_us(100);
	}
	return got;
}

static void probes_init(probe_t *p, int n)
{
	memset(p, 0, sizeof(*p) * (size_t)n);
	for (int i = 0; i < n; i++)
		p[i].index = i;
	nseen = 0;
}

static void test_jobs_run_off_thread_and_done_on_drainer(void)
{
	probe_t p[10];
	bs_worker_t *w;
	pthread_t self = pthread_self();

	probes_init(p, 10);
	atomic_store(&wakes, 0);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(16, count_wake, NULL, &w), BS_OK);
	for (int i = 0; i < 10; i++) {
		bs_job_t job = { run_probe, done_probe, &p[i] };
		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	}
	CU_ASSERT_EQUAL(drain_until(w, 10), 10);
	for (int i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(p[i].ran, 1);
		CU_ASSERT_EQUAL(p[i].done, 1);
		CU_ASSERT_FALSE(p[i].cancelled);
		CU_ASSERT_FALSE(pthread_equal(p[i].run_thread, self));
		CU_ASSERT_TRUE(pthread_equal(p[i].done_thread, self));
		CU_ASSERT_EQUAL(seen[i], i);
	}
	/* wake follows each job's end, so every one was called by now. */
	CU_ASSERT_EQUAL(atomic_load(&wakes), 10);
	CU_ASSERT_EQUAL(bs_worker_pending(w), 0);
	CU_ASSERT_EQUAL(bs_worker_drain(w), 0);
	bs_worker_stop(w);
}

static void test_bad_arguments_are_refused(void)
{
	probe_t p;
	bs_worker_t *w = (bs_worker_t *)&p;
	bs_job_t no_run = { NULL, done_probe, &p };
	bs_job_t no_done = { run_probe, NULL, &p };

	CU_ASSERT_EQUAL(bs_worker_start(0, NULL, NULL, &w), BS_ERR_INVALID);
	CU_ASSERT_PTR_NULL(w);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(1, NULL, NULL, &w), BS_OK);
	CU_ASSERT_EQUAL(bs_worker_submit(w, NULL), BS_ERR_INVALID);
	CU_ASSERT_EQUAL(bs_worker_submit(w, &no_run), BS_ERR_INVALID);
	CU_ASSERT_EQUAL(bs_worker_submit(w, &no_done), BS_ERR_INVALID);
	CU_ASSERT_EQUAL(bs_worker_pending(w), 0);
	bs_worker_stop(w);
	bs_worker_stop(NULL);
}

/* capacity counts every job not yet drained: queued, running, finished. */
static void test_full_queue_refuses_until_drained(void)
{
	probe_t p[6];
	bs_worker_t *w;

	probes_init(p, 6);
	gate_set(0);
	atomic_store(&wakes, 0);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(4, count_wake, NULL, &w), BS_OK);
	for (int i = 0; i < 4; i++) {
		bs_job_t job = { run_gated, done_probe, &p[i] };
		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	}
	bs_job_t extra = { run_probe, done_probe, &p[4] };
	CU_ASSERT_EQUAL(bs_worker_submit(w, &extra), BS_ERR_INTERNAL);
	gate_set(1);
	/* Finished but not drained still hold their slots. */
	wait_wakes(4);
	CU_ASSERT_EQUAL(bs_worker_submit(w, &extra), BS_ERR_INTERNAL);
	CU_ASSERT_EQUAL(bs_worker_pending(w), 4);
	CU_ASSERT_EQUAL(drain_until(w, 4), 4);
	CU_ASSERT_EQUAL(bs_worker_submit(w, &extra), BS_OK);
	CU_ASSERT_EQUAL(drain_until(w, 1), 1);
	/* The refused submissions ran nothing. */
	CU_ASSERT_EQUAL(p[4].ran, 1);
	CU_ASSERT_EQUAL(p[4].done, 1);
	CU_ASSERT_EQUAL(p[5].ran + p[5].done, 0);
	bs_worker_stop(w);
}

static void *open_gate_later(void *arg)
{
	(void)arg;
	sleep_us(50000);
	gate_set(1);
	return NULL;
}

/*
 * The job that runs when stop comes finishes; the queued ones are
 * cancelled; each done runs once, in order. When the gate opens stop has
 * long been called, so only job 0 can have run.
 */
static void test_stop_finishes_running_and_cancels_queued(void)
{
	probe_t p[5];
	bs_worker_t *w;
	pthread_t opener;

	probes_init(p, 5);
	gate_set(0);
	atomic_store(&gate_waiting, 0);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(8, NULL, NULL, &w), BS_OK);
	for (int i = 0; i < 5; i++) {
		bs_job_t job = { run_gated, done_probe, &p[i] };
		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	}
	for (int i = 0; i < WAIT_MS && atomic_load(&gate_waiting) == 0; i++)
		sleep_us(1000);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
	bs_worker_stop(w);
	pthread_join(opener, NULL);
	CU_ASSERT_EQUAL(nseen, 5);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(seen[i], i);
		CU_ASSERT_EQUAL(p[i].done, 1);
		CU_ASSERT_EQUAL(p[i].ran, i == 0 ? 1 : 0);
		CU_ASSERT_EQUAL(p[i].cancelled, i == 0 ? 0 : 1);
	}
}

static void test_stop_hands_over_finished_jobs(void)
{
	probe_t p[3];
	bs_worker_t *w;

	probes_init(p, 3);
	atomic_store(&wakes, 0);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(8, count_wake, NULL, &w), BS_OK);
	for (int i = 0; i < 3; i++) {
		bs_job_t job = { run_probe, done_probe, &p[i] };
		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	}
	wait_wakes(3);
	bs_worker_stop(w);
	CU_ASSERT_EQUAL(nseen, 3);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(p[i].done, 1);
		CU_ASSERT_FALSE(p[i].cancelled);
	}
}

/* A done that submits the next job: a chain, as a retry would be. */
static bs_worker_t *chain_worker;
static int chain_left;

static void chain_done(void *arg, bool cancelled)
{
	probe_t *p = arg;

	done_probe(arg, cancelled);
	if (!cancelled && --chain_left > 0) {
		bs_job_t job = { run_probe, chain_done, p };
		CU_ASSERT_EQUAL(bs_worker_submit(chain_worker, &job), BS_OK);
	}
}

static void test_done_may_submit_again(void)
{
	probe_t p;
	bs_job_t job = { run_probe, chain_done, &p };

	probes_init(&p, 1);
	chain_left = 20;
	/* Capacity 1: the done's own slot must be free when it submits. */
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(1, NULL, NULL, &chain_worker), BS_OK);
	CU_ASSERT_EQUAL(bs_worker_submit(chain_worker, &job), BS_OK);
	CU_ASSERT_EQUAL(drain_until(chain_worker, 20), 20);
	CU_ASSERT_EQUAL(p.ran, 20);
	CU_ASSERT_EQUAL(p.done, 20);
	bs_worker_stop(chain_worker);
}

/* What run sees of its own thread's signal mask. */
static sigset_t run_mask;

static void run_read_mask(void *arg)
{
	(void)arg;
	pthread_sigmask(SIG_BLOCK, NULL, &run_mask);
}

static void done_nothing(void *arg, bool cancelled)
{
	(void)arg;
	(void)cancelled;
}

static void test_worker_thread_blocks_async_signals(void)
{
	bs_worker_t *w;
	bs_job_t job = { run_read_mask, done_nothing, NULL };
	sigset_t mine;

	sigemptyset(&run_mask);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(1, NULL, NULL, &w), BS_OK);
	CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	CU_ASSERT_EQUAL(drain_until(w, 1), 1);
	bs_worker_stop(w);
	CU_ASSERT_TRUE(sigismember(&run_mask, SIGTERM));
	CU_ASSERT_TRUE(sigismember(&run_mask, SIGHUP));
	CU_ASSERT_TRUE(sigismember(&run_mask, SIGINT));
	CU_ASSERT_TRUE(sigismember(&run_mask, SIGUSR1));
	CU_ASSERT_TRUE(sigismember(&run_mask, SIGRTMIN + 7));
	CU_ASSERT_FALSE(sigismember(&run_mask, SIGSEGV));
	CU_ASSERT_FALSE(sigismember(&run_mask, SIGBUS));
	/* The creating thread's own mask is left as it was. */
	pthread_sigmask(SIG_BLOCK, NULL, &mine);
	CU_ASSERT_FALSE(sigismember(&mine, SIGTERM));
}

/* ---- stress: many jobs through a small ring, with wakes ----------------- */

typedef struct {
	atomic_int ran;
	int done;
	int run_order;              /* position among runs */
} stress_job_t;

static stress_job_t *stress;
static atomic_int runs_so_far;
static int dones_so_far;
static int done_out_of_order;

static void stress_run(void *arg)
{
	stress_job_t *j = arg;
	atomic_fetch_add(&j->ran, 1);
	j->run_order = atomic_fetch_add(&runs_so_far, 1);
}

static void stress_done(void *arg, bool cancelled)
{
	stress_job_t *j = arg;
	if (cancelled || j - stress != dones_so_far || j->run_order != dones_so_far)
		done_out_of_order++;
	j->done++;
	dones_so_far++;
}

/*
 * STRESS_JOBS through a ring of STRESS_CAPACITY: the owner submits until
 * refused, drains, and goes on, while the worker runs and wakes; every
 * job runs once and is done once, runs and dones in submission order.
 * Worth running under -fsanitize=thread too.
 */
static void test_stress_many_jobs_exactly_once_in_order(void)
{
	bs_worker_t *w;
	int next = 0, refused = 0;

	stress = calloc(STRESS_JOBS, sizeof(*stress));
	CU_ASSERT_PTR_NOT_NULL_FATAL(stress);
	atomic_store(&runs_so_far, 0);
	atomic_store(&wakes, 0);
	dones_so_far = 0;
	done_out_of_order = 0;
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(STRESS_CAPACITY, count_wake, NULL, &w), BS_OK);
	while (dones_so_far < STRESS_JOBS) {
		while (next < STRESS_JOBS) {
			bs_job_t job = { stress_run, stress_done, &stress[next] };
			if (bs_worker_submit(w, &job) != BS_OK) {
				refused++;
				break;
			}
			next++;
		}
		CU_ASSERT_TRUE(bs_worker_pending(w) <= STRESS_CAPACITY);
		if (bs_worker_drain(w) == 0)
			sched_yield();
	}
	bs_worker_stop(w);
	CU_ASSERT_EQUAL(done_out_of_order, 0);
	CU_ASSERT_EQUAL(atomic_load(&runs_so_far), STRESS_JOBS);
	CU_ASSERT_EQUAL(atomic_load(&wakes), STRESS_JOBS);
	CU_ASSERT_TRUE(refused > 0);
	for (int i = 0; i < STRESS_JOBS; i++) {
		if (atomic_load(&stress[i].ran) != 1 || stress[i].done != 1) {
			CU_FAIL("a job ran or was done other than once");
			break;
		}
	}
	free(stress);
}

/* Stop in the middle of a stream: every accepted job is done once. */
static void test_stress_stop_midway_leaks_nothing(void)
{
	bs_worker_t *w;
	int accepted = 0;

	stress = calloc(STRESS_CAPACITY, sizeof(*stress));
	CU_ASSERT_PTR_NOT_NULL_FATAL(stress);
	atomic_store(&runs_so_far, 0);
	dones_so_far = 0;
	done_out_of_order = 0;
	CU_ASSERT_EQUAL_FATAL(bs_worker_start(STRESS_CAPACITY, NULL, NULL, &w), BS_OK);
	for (int i = 0; i < STRESS_CAPACITY; i++) {
		bs_job_t job = { stress_run, done_nothing, &stress[i] };
		if (bs_worker_submit(w, &job) == BS_OK)
			accepted++;
	}
	CU_ASSERT_EQUAL(accepted, STRESS_CAPACITY);
	bs_worker_stop(w);
	/* Some ran, the rest were cancelled; none ran twice. */
	CU_ASSERT_TRUE(atomic_load(&runs_so_far) <= STRESS_CAPACITY);
	for (int i = 0; i < STRESS_CAPACITY; i++)
		CU_ASSERT_TRUE(atomic_load(&stress[i].ran) <= 1);
	free(stress);
}

/* ---- bs_worker_start_many ------------------------------------------------ */

#define MANY_JOBS 100

/* The sizes of the batches run_many was given, and its thread. */
static size_t batch_sizes[MANY_JOBS];
static size_t nbatches;
static pthread_t many_thread;
static int next_done;
static int done_out_of_turn;

/* Each batch: its first job's gate (when ctx says so), then every job. */
static void run_batch(void *ctx, const bs_job_t *jobs, size_t n)
{
	if (ctx != NULL && nbatches == 0)
		gate_pass();
	if (nbatches < MANY_JOBS)
		batch_sizes[nbatches++] = n;
	many_thread = pthread_self();
	for (size_t i = 0; i < n; i++)
		run_probe(jobs[i].arg);
}

static void done_in_turn(void *arg, bool cancelled)
{
	probe_t *p = arg;

	done_out_of_turn += p->index != next_done++;
	p->done++;
	p->cancelled = cancelled;
}

static void many_init(probe_t *p, int n)
{
	probes_init(p, n);
	nbatches = 0;
	next_done = 0;
	done_out_of_turn = 0;
	gate_set(0);
	atomic_store(&gate_waiting, 0);
}

static void wait_gate(void)
{
	for (int i = 0; i < WAIT_MS && atomic_load(&gate_waiting) == 0; i++)
		sleep_us(1000);
	CU_ASSERT_EQUAL_FATAL(atomic_load(&gate_waiting), 1);
}

/* While the first job holds the thread, 99 queue up: they come in
 * batches of BS_WORKER_BATCH at most, every one run and done once, in
 * order. */
static void test_many_takes_every_queued_job_up_to_its_batch(void)
{
	static probe_t p[MANY_JOBS];
	bs_job_t job = { NULL, done_in_turn, NULL };
	bs_worker_t *w;

	many_init(p, MANY_JOBS);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start_many(MANY_JOBS, run_batch, &p, NULL, NULL,
			&w), BS_OK);
	job.arg = &p[0];
	CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	wait_gate();
	for (int i = 1; i < MANY_JOBS; i++) {
		job.arg = &p[i];
		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
	}
	gate_set(1);
	CU_ASSERT_EQUAL(drain_until(w, MANY_JOBS), MANY_JOBS);
	CU_ASSERT_EQUAL_FATAL(nbatches, 3);
	CU_ASSERT_EQUAL(batch_sizes[0], 1);
	CU_ASSERT_EQUAL(batch_sizes[1], BS_WORKER_BATCH);
	CU_ASSERT_EQUAL(batch_sizes[2], MANY_JOBS - 1 - BS_WORKER_BATCH);
	CU_ASSERT_FALSE(pthread_equal(many_thread, pthread_self()));
	for (int i = 0; i < MANY_JOBS; i++) {
		CU_ASSERT_EQUAL(p[i].ran, 1);
		CU_ASSERT_EQUAL(p[i].done, 1);
		CU_ASSERT_FALSE(p[i].cancelled);
	}
	CU_ASSERT_EQUAL(done_out_of_turn, 0);
	bs_worker_stop(w);
}

/* One request at a time: each job runs alone, at once, without waiting
 * for others to fill a batch. */
static void test_many_runs_a_job_alone_at_once(void)
{
	probe_t p[5];
	bs_worker_t *w;

	many_init(p, 5);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start_many(8, run_batch, NULL, NULL, NULL, &w),
			BS_OK);
	for (int i = 0; i < 5; i++) {
		bs_job_t job = { NULL, done_in_turn, &p[i] };

		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
		CU_ASSERT_EQUAL(drain_until(w, 1), 1);
		CU_ASSERT_EQUAL(p[i].ran, 1);
	}
	CU_ASSERT_EQUAL(nbatches, 5);
	for (size_t i = 0; i < nbatches; i++)
		CU_ASSERT_EQUAL(batch_sizes[i], 1);
	CU_ASSERT_EQUAL(done_out_of_turn, 0);
	bs_worker_stop(w);
}

/* Stop while a batch runs: it finishes, the queued jobs are cancelled. */
static void test_many_stop_cancels_what_is_queued(void)
{
	probe_t p[6];
	bs_worker_t *w;
	pthread_t opener;

	many_init(p, 6);
	CU_ASSERT_EQUAL_FATAL(bs_worker_start_many(8, run_batch, p, NULL, NULL, &w),
			BS_OK);
	for (int i = 0; i < 6; i++) {
		bs_job_t job = { NULL, done_in_turn, &p[i] };

		CU_ASSERT_EQUAL(bs_worker_submit(w, &job), BS_OK);
		if (i == 0)
			wait_gate();
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&opener, NULL, open_gate_later, NULL), 0);
	bs_worker_stop(w);
	pthread_join(opener, NULL);
	CU_ASSERT_EQUAL(next_done, 6);
	CU_ASSERT_EQUAL(done_out_of_turn, 0);
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(p[i].done, 1);
		CU_ASSERT_EQUAL(p[i].ran, i == 0 ? 1 : 0);
		CU_ASSERT_EQUAL(p[i].cancelled, i == 0 ? 0 : 1);
	}
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "jobs run off thread, done on the drainer, in order",
			test_jobs_run_off_thread_and_done_on_drainer },
		{ "bad arguments are refused", test_bad_arguments_are_refused },
		{ "a full queue refuses until drained", test_full_queue_refuses_until_drained },
		{ "stop finishes the running job and cancels the queued",
			test_stop_finishes_running_and_cancels_queued },
		{ "stop hands over finished jobs", test_stop_hands_over_finished_jobs },
		{ "a done may submit again", test_done_may_submit_again },
		{ "the worker thread blocks asynchronous signals",
			test_worker_thread_blocks_async_signals },
		{ "stress: many jobs, exactly once, in order",
			test_stress_many_jobs_exactly_once_in_order },
		{ "stress: stop midway leaks nothing", test_stress_stop_midway_leaks_nothing },
		{ "many: every queued job, up to its batch",
			test_many_takes_every_queued_job_up_to_its_batch },
		{ "many: a job alone runs alone at once", test_many_runs_a_job_alone_at_once },
		{ "many: stop cancels what is queued", test_many_stop_cancels_what_is_queued },
		{ NULL, NULL },
	};

	cu_add_suite("worker", NULL, NULL, tests);
	return cu_run("test_worker");
}
