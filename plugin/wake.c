#include "wake.h"

#include "error.h"
#include "worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/*
 * One per process: a signal and its handler are. posted counts bs_wake
 * calls, acked the value of posted that the last tick saw; a wake waits
 * while acked != posted. The kicker sleeps on cond until work is set.
 */
static struct {
	atomic_int signo;           /* 0 when not initialised */
	pthread_t broker;
	struct sigaction old;       /* the disposition before ours */
	int was_blocked;            /* in the broker thread, before init */
	atomic_ulong posted, acked;
	atomic_ulong signals, rekicks, acks;
	pthread_t kicker;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int work;                   /* guarded by lock */
	atomic_int stop;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* The whole point is that it returns: epoll_wait has been interrupted. */
static void nothing(int sig)
{
	(void)sig;
}

static void kick(int sig)
{
	pthread_kill(W.broker, sig);
}

static void sleep_interval(void)
{
	struct timespec ts = { 0, BS_WAKE_REKICK_US * 1000L };
	nanosleep(&ts, NULL);
}

/*
 * Re-sends the signal while a wake waits and the broker thread has not
 * ticked for a whole interval: either it is asleep in epoll_wait, having
 * taken the first signal just before, or it is busy with one long
 * iteration (then the signal costs it a handler call, nothing more).
 * When it has ticked meanwhile (acked moved) it is not asleep: nothing
 * is sent, and the next look decides.
 */
static void watch(void)
{
	unsigned long seen = atomic_load(&W.acked);

	for (int n = 0; n < BS_WAKE_REKICK_MAX && !atomic_load(&W.stop); n++) {
		unsigned long acked;

		sleep_interval();
		acked = atomic_load(&W.acked);
		if (acked == atomic_load(&W.posted))
			return;
		if (acked != seen) {
			seen = acked;
			continue;
		}
		kick(atomic_load(&W.signo));
		atomic_fetch_add(&W.rekicks, 1);
	}
}

static void *kicker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&W.lock);
	for (;;) {
		while (!W.work && !atomic_load(&W.stop))
			pthread_cond_wait(&W.cond, &W.lock);
		if (atomic_load(&W.stop))
			break;
		W.work = 0;
		pthread_mutex_unlock(&W.lock);
		watch();
		pthread_mutex_lock(&W.lock);
	}
	pthread_mutex_unlock(&W.lock);
	return NULL;
}

/*
 * Installs the handler on the first real-time signal, from SIGRTMIN +
 * BS_WAKE_FIRST_OFFSET, that nobody has claimed: one whose disposition is
 * the default. Looked at before it is set, so that someone else's handler
 * is never replaced, not even for a moment. The old disposition goes into
 * W.old. The signal, or 0.
 */
static int claim_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nothing;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (int sig = SIGRTMIN + BS_WAKE_FIRST_OFFSET; sig < SIGRTMAX; sig++) {
		if (sigaction(sig, NULL, &W.old) != 0 || (W.old.sa_flags & SA_SIGINFO)
				|| W.old.sa_handler != SIG_DFL)
			continue;
		if (sigaction(sig, &sa, NULL) == 0)
			return sig;
	}
	return 0;
}

static void reset_counters(void)
{
	atomic_store(&W.posted, 0);
	atomic_store(&W.acked, 0);
	atomic_store(&W.signals, 0);
	atomic_store(&W.rekicks, 0);
	atomic_store(&W.acks, 0);
	atomic_store(&W.stop, 0);
	W.work = 0;
}

int bs_wake_init(void)
{
	sigset_t one, mask;
	int sig;

	if (atomic_load(&W.signo) != 0)
		return BS_ERR_INVALID;
	sig = claim_signal();
	if (sig == 0)
		return BS_ERR_INTERNAL;
	W.broker = pthread_self();
	reset_counters();
	atomic_store(&W.signo, sig);
	if (bs_worker_thread(&W.kicker, kicker, NULL) != BS_OK) {
		atomic_store(&W.signo, 0);
		sigaction(sig, &W.old, NULL);
		return BS_ERR_INTERNAL;
	}
	/*
	 * A mask is inherited across exec: had the broker been started with
	 * the signal blocked, a signal sent while it works would wait for the
	 * mask of epoll_wait and land just before the sleep, every time.
	 */
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_UNBLOCK, &one, &mask);
	W.was_blocked = sigismember(&mask, sig);
	return BS_OK;
}

int bs_wake_signo(void)
{
	return atomic_load(&W.signo);
}

void bs_wake(void)
{
	int sig = atomic_load(&W.signo);
	unsigned long prev;

	if (sig == 0)
		return;
	prev = atomic_fetch_add(&W.posted, 1);
	/* The first wake since the last tick signals; the ones after it find
	 * that signal on its way, and the kicker behind it. */
	if (prev == atomic_load(&W.acked)) {
		kick(sig);
		atomic_fetch_add(&W.signals, 1);
	}
	pthread_mutex_lock(&W.lock);
	W.work = 1;
	pthread_cond_signal(&W.cond);
	pthread_mutex_unlock(&W.lock);
}

void bs_wake_ack(void)
{
	unsigned long posted = atomic_load(&W.posted);

	if (posted != atomic_load(&W.acked)) {
		atomic_store(&W.acked, posted);
		atomic_fetch_add(&W.acks, 1);
	}
}

void bs_wake_stats(bs_wake_stats_t *out)
{
	out->wakes = atomic_load(&W.posted);
	out->signals = atomic_load(&W.signals);
	out->rekicks = atomic_load(&W.rekicks);
	out->acks = atomic_load(&W.acks);
}

/*
 * Takes any instance of sig still pending (the caller blocks it first),
 * so that the old disposition (for a real-time signal, by default, the
 * end of the process) never meets one of ours.
 */
static void discard_pending(int sig)
{
	const struct timespec zero = { 0, 0 };
	sigset_t one;

	sigemptyset(&one);
	sigaddset(&one, sig);
	while (sigtimedwait(&one, NULL, &zero) == sig)
		;
}

void bs_wake_cleanup(void)
{
	int sig = atomic_load(&W.signo);
	struct sigaction cur;
	sigset_t one, prev;

	if (sig == 0)
		return;
	pthread_mutex_lock(&W.lock);
	atomic_store(&W.stop, 1);
	pthread_cond_signal(&W.cond);
	pthread_mutex_unlock(&W.lock);
	pthread_join(W.kicker, NULL);
	atomic_store(&W.signo, 0);
	/* Blocked while the disposition changes, so that none lands between. */
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_BLOCK, &one, &prev);
	discard_pending(sig);
	/* Another handler put over ours since init stays. */
	if (sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO)
			&& cur.sa_handler == nothing)
		sigaction(sig, &W.old, NULL);
	if (!W.was_blocked)
		pthread_sigmask(SIG_SETMASK, &prev, NULL);
}
