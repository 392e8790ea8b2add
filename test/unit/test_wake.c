/*
 * The wake of the broker thread, against a loop that sleeps as Mosquitto
 * 2.0.11's does (src/mux_epoll.c: the mask set to block SIGINT, SIGTERM,
 * SIGUSR1, SIGUSR2 and SIGHUP, epoll_wait, the mask put back; then the
 * tick). Its epoll_wait waits 10 s instead of 100 ms, so that a missed
 * wake shows as a timeout rather than as a little latency.
 */
#include "cu_main.h"
#include "error.h"
#include "wake.h"
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_SLEEP_MS 10000
#define JOBS 50

typedef struct {
	int busy_us;                /* spun between the tick and epoll_wait */
	int run_us;                 /* each job's run */
	int jobs;                   /* run one after the other */
	/* results */
	int init_rc;
	int done;
	int cancelled;
	int timeouts;               /* epoll_wait slept its whole time */
	int interrupted;            /* epoll_wait returned EINTR */
	bs_wake_stats_t stats;
} loop_t;

static atomic_int quit;
static atomic_int started;
static atomic_int all_done;
static bs_worker_t *worker;
static loop_t *cur;

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Busy without a system call, as the broker is between tick and sleep. */
static void spin_us(int us)
{
	long long end = now_us() + us;
	while (now_us() < end)
		;
}

static void wake_fn(void *arg)
{
	(void)arg;
	bs_wake();
}

static void job_run(void *arg)
{
	(void)arg;
	sleep_us(cur->run_us);
}

static void submit_next(void);

static void job_done(void *arg, bool cancelled)
{
	(void)arg;
	if (cancelled) {
		cur->cancelled++;
		return;
	}
	if (++cur->done < cur->jobs)
		submit_next();
	else
		atomic_store(&all_done, 1);
}

static void submit_next(void)
{
	bs_job_t job = { job_run, job_done, NULL };
	CU_ASSERT_EQUAL(bs_worker_submit(worker, &job), BS_OK);
}

/* One pass of Mosquitto's loop: the sleep, then the tick. */
static void iteration(int epfd, const sigset_t *block)
{
	struct epoll_event ev;
	sigset_t orig;
	int n;

	if (cur->busy_us > 0)
		spin_us(cur->busy_us);
	sigprocmask(SIG_SETMASK, block, &orig);
	n = epoll_wait(epfd, &ev, 1, LOOP_SLEEP_MS);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (n < 0 && errno == EINTR)
		cur->interrupted++;
	else if (n == 0)
		cur->timeouts++;
	bs_wake_ack();
	bs_worker_drain(worker);
}

static void *fake_broker(void *arg)
{
	sigset_t block;
	int epfd = epoll_create1(0);

	cur = arg;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGHUP);
	cur->init_rc = bs_wake_init();
	if (cur->init_rc != BS_OK || epfd < 0
			|| bs_worker_start(BS_WORKER_QUEUE, wake_fn, NULL, &worker) != BS_OK) {
		atomic_store(&started, -1);
		return NULL;
	}
	atomic_store(&started, 1);
	submit_next();
	while (!atomic_load(&quit))
		iteration(epfd, &block);
	bs_worker_stop(worker);
	bs_wake_stats(&cur->stats);
	bs_wake_cleanup();
	close(epfd);
	return NULL;
}

/* Runs the fake broker until its jobs are done (or 60 s pass). */
static void run_loop(loop_t *l)
{
	pthread_t t;

	atomic_store(&quit, 0);
	atomic_store(&started, 0);
	atomic_store(&all_done, 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, fake_broker, l), 0);
	while (atomic_load(&started) == 0)
		sleep_us(1000);
	for (long long end = now_us() + 60000000; now_us() < end && !atomic_load(&all_done);)
		sleep_us(10000);
	atomic_store(&quit, 1);
	bs_wake();                  /* from another thread: it may */
	pthread_join(t, NULL);
}

static void test_a_finished_job_ends_the_sleep(void)
{
	loop_t l = { .run_us = 1000, .jobs = JOBS };

	run_loop(&l);
	CU_ASSERT_EQUAL(l.init_rc, BS_OK);
	CU_ASSERT_EQUAL(l.done, JOBS);
	CU_ASSERT_EQUAL(l.timeouts, 0);
	CU_ASSERT_TRUE(l.interrupted >= JOBS);
	CU_ASSERT_EQUAL(l.stats.wakes, JOBS + 1);
}

/*
 * Each job ends while the loop is busy between its tick and its sleep:
 * the first signal is spent there, and only the kicker's repeat ends the
 * 10 s sleep.
 */
static void test_a_signal_spent_before_the_sleep_is_sent_again(void)
{
	loop_t l = { .busy_us = 3000, .run_us = 200, .jobs = 20 };

	run_loop(&l);
	CU_ASSERT_EQUAL(l.init_rc, BS_OK);
	CU_ASSERT_EQUAL(l.done, 20);
	CU_ASSERT_EQUAL(l.timeouts, 0);
	CU_ASSERT_TRUE(l.stats.rekicks >= 20);
}

static void other_handler(int sig)
{
	(void)sig;
}

static void *init_and_report(void *arg)
{
	struct sigaction *seen = arg;
	int sig;

	if (bs_wake_init() != BS_OK)
		return NULL;
	CU_ASSERT_EQUAL(bs_wake_init(), BS_ERR_INVALID);
	sig = bs_wake_signo();
	sigaction(sig, NULL, seen);
	bs_wake_cleanup();
	return (void *)(long)sig;
}

/* A real-time signal that has a handler already is someone else's. */
static void test_takes_a_free_signal_and_gives_it_back(void)
{
	struct sigaction theirs, ours, after;
	pthread_t t;
	void *sig = NULL;
	int first = SIGRTMIN + BS_WAKE_FIRST_OFFSET;

	memset(&theirs, 0, sizeof(theirs));
	theirs.sa_handler = other_handler;
	sigemptyset(&theirs.sa_mask);
	CU_ASSERT_EQUAL_FATAL(sigaction(first, &theirs, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, init_and_report, &ours), 0);
	pthread_join(t, &sig);
	CU_ASSERT_EQUAL((long)sig, first + 1);
	CU_ASSERT_TRUE(ours.sa_flags & SA_RESTART);
	CU_ASSERT_TRUE(ours.sa_handler != SIG_DFL && ours.sa_handler != SIG_IGN);
	/* Theirs untouched, ours back to the default. */
	sigaction(first, NULL, &after);
	CU_ASSERT_TRUE(after.sa_handler == other_handler);
	sigaction(first + 1, NULL, &after);
	CU_ASSERT_TRUE(after.sa_handler == SIG_DFL);
	CU_ASSERT_EQUAL(bs_wake_signo(), 0);
	signal(first, SIG_DFL);
}

static int pipe_fds[2];
static atomic_int reading;

/* The broker thread in a blocking read when the signal comes. */
static void *read_through_signal(void *arg)
{
	char c;
	ssize_t *got = arg;

	if (bs_wake_init() != BS_OK)
		return NULL;
	atomic_store(&reading, 1);
	*got = read(pipe_fds[0], &c, 1);
	bs_wake_cleanup();
	return NULL;
}

/* SA_RESTART: any call but the sleep goes on as if nothing came. */
static void test_other_calls_restart(void)
{
	pthread_t t;
	ssize_t got = 0;
	bs_wake_stats_t st;

	CU_ASSERT_EQUAL_FATAL(pipe(pipe_fds), 0);
	atomic_store(&reading, 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, read_through_signal, &got), 0);
	while (!atomic_load(&reading))
		sleep_us(1000);
	sleep_us(20000);
	bs_wake();
	sleep_us(20000);
	bs_wake_stats(&st);
	CU_ASSERT_TRUE(st.signals + st.rekicks >= 1);
	CU_ASSERT_EQUAL(write(pipe_fds[1], "x", 1), 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(got, 1);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}

static void test_wake_before_init_does_nothing(void)
{
	bs_wake_stats_t st;

	CU_ASSERT_EQUAL(bs_wake_signo(), 0);
	bs_wake();
	bs_wake_ack();
	bs_wake_cleanup();
	bs_wake_stats(&st);
	CU_ASSERT_EQUAL(st.signals, 0);
}

/* A signal still pending at cleanup must not meet the default action
 * (the end of the process) once the handler is gone. */
static void *cleanup_with_pending(void *arg)
{
	sigset_t one, pending;
	int sig;

	(void)arg;
	if (bs_wake_init() != BS_OK)
		return NULL;
	sig = bs_wake_signo();
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_BLOCK, &one, NULL);
	bs_wake();
	sigpending(&pending);
	CU_ASSERT_TRUE(sigismember(&pending, sig));
	bs_wake_cleanup();
	sigpending(&pending);
	CU_ASSERT_FALSE(sigismember(&pending, sig));
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	return (void *)(long)sig;
}

static void test_cleanup_discards_a_pending_signal(void)
{
	pthread_t t;
	void *sig = NULL;

	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, cleanup_with_pending, NULL), 0);
	pthread_join(t, &sig);
	CU_ASSERT_TRUE((long)sig >= SIGRTMIN);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "wake before init does nothing", test_wake_before_init_does_nothing },
		{ "takes a free signal and gives it back",
			test_takes_a_free_signal_and_gives_it_back },
		{ "other calls restart", test_other_calls_restart },
		{ "cleanup discards a pending signal", test_cleanup_discards_a_pending_signal },
		{ "a finished job ends the sleep", test_a_finished_job_ends_the_sleep },
		{ "a signal spent before the sleep is sent again",
			test_a_signal_spent_before_the_sleep_is_sent_again },
		{ NULL, NULL },
	};

	cu_add_suite("wake", NULL, NULL, tests);
	return cu_run("test_wake");
}
