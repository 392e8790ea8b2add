/*
 * Waking the broker thread when a worker has finished something, so that
 * the answer is published at once rather than at the next tick.
 *
 * Mosquitto 2.0.11's loop (src/loop.c) sleeps in epoll_wait for up to
 * 100 ms (src/mux_epoll.c) and calls MOSQ_EVT_TICK once per iteration,
 * after it; a plugin cannot add a file descriptor of its own to that
 * epoll. What it can do: around epoll_wait the broker sets its signal mask
 * to block exactly SIGINT, SIGTERM, SIGUSR1, SIGUSR2 and SIGHUP, so a
 * real-time signal sent to the broker thread interrupts epoll_wait
 * (EINTR, which the loop ignores), the loop goes on to the tick, and the
 * plugin's tick callback drains the finished work.
 *
 * The handler does nothing and is installed with SA_RESTART, so every
 * other call the broker thread is in when the signal comes (a read, a
 * write, a lock wait) restarts; epoll_wait is one of the calls that never
 * restart (signal(7)), which is the point.
 *
 * One race is left: a signal that lands after the tick has drained and
 * before epoll_wait is entered runs the handler there, and epoll_wait
 * then sleeps its 100 ms. So a wake is acknowledged: bs_wake counts, the
 * tick acknowledges what it has seen (bs_wake_ack), and a kicker thread
 * sends the signal again every BS_WAKE_REKICK_US while a wake waits
 * unacknowledged and the tick has not run since the last look, at most
 * BS_WAKE_REKICK_MAX times in a row.
 *
 * Order on the broker thread: bs_wake_init at plugin init, before any
 * worker starts; in the tick callback bs_wake_ack, then the drain;
 * bs_wake_cleanup at plugin cleanup, after the workers have stopped.
 * Threads that call bs_wake are started with bs_worker_thread (worker.h),
 * so that they block the signal and only the broker thread takes it.
 */
#ifndef BS_WAKE_H
#define BS_WAKE_H

#define BS_WAKE_REKICK_US 1000
#define BS_WAKE_REKICK_MAX 200

/*
 * The first real-time signal tried. glibc keeps the two below SIGRTMIN
 * for itself; SIGRTMIN and the few above it are what programs and
 * libraries pick first for timers (timer_create's examples use SIGRTMIN);
 * valgrind keeps the highest for itself. Any signal from here to
 * SIGRTMAX - 1 that still has the default disposition is taken.
 */
#define BS_WAKE_FIRST_OFFSET 7

typedef struct {
	unsigned long wakes;        /* bs_wake calls */
	unsigned long signals;      /* signals sent at once by bs_wake */
	unsigned long rekicks;      /* signals sent again by the kicker */
	unsigned long acks;         /* bs_wake_ack calls that found new wakes */
} bs_wake_stats_t;

/*
 * On the broker thread: records it, takes a free real-time signal,
 * installs the no-op handler, unblocks the signal in this thread and
 * starts the kicker. BS_OK; BS_ERR_INVALID when already initialised;
 * BS_ERR_INTERNAL when no signal is free or the kicker cannot start
 * (nothing is left installed; the plugin then works on ticks alone).
 */
int bs_wake_init(void);

/* The signal taken, or 0 when not initialised. */
int bs_wake_signo(void);

/*
 * From any thread: work for the broker thread is ready. Never blocks for
 * long (one uncontended lock and at most one signal); a no-op when not
 * initialised. Publish the work (under the worker's lock) before calling.
 */
void bs_wake(void);

/*
 * On the broker thread, in the tick callback, before draining: every
 * bs_wake so far is answered by the drain that follows. (After the drain
 * would acknowledge a wake whose work came between the two and stop the
 * kicker for it.)
 */
void bs_wake_ack(void);

void bs_wake_stats(bs_wake_stats_t *out);

/*
 * On the broker thread: stops the kicker, discards a signal still pending
 * and puts the old disposition back (unless another handler has replaced
 * ours since). Safe when not initialised.
 */
void bs_wake_cleanup(void);

#endif
