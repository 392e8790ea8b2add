/*
 * What a load generator's process needs before it starts a broker: the
 * signals that stop it cleanly, enough file descriptors for its clients,
 * and absolute plugin paths. Shared by bench and soak (soak/).
 */
#include "bench.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Descriptors beyond the connections: ours, libraries', the broker's own
 * (log, database, listener), which inherits our limit. */
#define SPARE_FDS 64
/* A libmosquitto client holds a socket pair besides its socket. */
#define FDS_PER_CLIENT 3

volatile sig_atomic_t bench_stop;

static void on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

int bench_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: poll() and waits must return and see bench_stop. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	/* A broker that dies mid-write must show up as an error, not kill us. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int bench_raise_nofile(int clients)
{
	rlim_t need = (rlim_t)clients * FDS_PER_CLIENT + SPARE_FDS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		fprintf(stderr, "bench: getrlimit: %s\n", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "bench: %d connections need %llu open files; the hard limit "
				"is %llu (ulimit -Hn)\n", clients, (unsigned long long)need,
				(unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		fprintf(stderr, "bench: setrlimit: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int bench_resolve(char *path, size_t len, const char *what)
{
	char abs[PATH_MAX];

	if (realpath(path, abs) == NULL) {
		fprintf(stderr, "bench: %s: %s (run from the repository root after make)\n",
				path, strerror(errno));
		return -1;
	}
	if (strlen(abs) >= len) {
		fprintf(stderr, "bench: %s: too long\n", what);
		return -1;
	}
	strcpy(path, abs);
	return 0;
}
