/*
 * Our own broker: a throwaway directory under /tmp, a free loopback port,
 * an admin password file and a configuration, and the mosquitto process
 * itself, started, restarted on the same directory and port, and stopped.
 */
#include "bench.h"
#include "tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_WAIT_NS (60 * NS_PER_S)   /* a big database may take a while */
#define STOP_WAIT_NS (20 * NS_PER_S)
#define PROBE_EVERY_NS (50 * NS_PER_MS)

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NS_PER_S),
		.tv_nsec = (long)(ns % NS_PER_S) };

	/* An early wake-up (a signal) only shortens one probe interval. */
	(void)nanosleep(&ts, NULL);
}

static int path_in(const bench_broker_t *b, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", b->dir, name);

	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "bench: path too long: %s/%s\n", b->dir, name);
		return -1;
	}
	return 0;
}

/* The kernel picks a free port; it stays free for the moment we need. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0) {
		fprintf(stderr, "bench: socket: %s\n", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0
			&& getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	else
		fprintf(stderr, "bench: finding a free port: %s\n", strerror(errno));
	close(fd);
	return port;
}

/* Runs argv (found in PATH) with its output in the broker's stderr file. */
static int run_tool(const bench_broker_t *b, char *const argv[])
{
	char errpath[BENCH_PATH_MAX];
	int status;
	pid_t pid;

	if (path_in(b, "stderr", errpath, sizeof(errpath)) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0 && (dup2(fd, 1) < 0 || dup2(fd, 2) < 0))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench: waitpid: %s\n", strerror(errno));
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench: %s failed (see %s)\n", argv[0], errpath);
		return -1;
	}
	return 0;
}

/* The floor plugin comes last: plugin_opt_ lines belong to the plugin line
 * above them. client_auth lets the seeded configs' clients log in (the
 * publish-boot, connect-boot and idle phases); acl_default allow lets the
 * anonymous clients use bench/#. Every benchmark client but the lockout
 * phase's attacker comes from 127.0.0.1, so with the lockout on,
 * bootstrap-bad's wrong keys would lock its devices out for the good
 * requests that follow: max_failures 0 unless b->max_failures is set.
 * The store is SQLite in the directory, or b->db_url (PostgreSQL).
 * Written at each start, so that a phase may change it. */
static int write_conf(const bench_broker_t *b)
{
	FILE *f = fopen(b->conf, "w");
	bool sql = b->db_url[0] == '\0';
	int rc;

	if (f == NULL) {
		fprintf(stderr, "bench: %s: %s\n", b->conf, strerror(errno));
		return -1;
	}
	rc = fprintf(f,
			"per_listener_settings false\n"
			"user root\n"
			"persistence false\n"
			"log_dest file %s\n"
			"log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
			"listener %d 127.0.0.1\n"
			"max_queued_messages 100000\n"
			"allow_anonymous true\n"
			"password_file %s/passwd\n"
			"plugin %s\n"
			"plugin_opt_%s %s%s\n"
			"plugin_opt_key_file %s/bootstrap.key\n"
			"plugin_opt_admin_users admin\n"
			"plugin_opt_client_auth true\n"
			"plugin_opt_acl_default allow\n"
			"plugin_opt_max_failures %d\n"
			"plugin_opt_lockout_seconds %d\n"
			"%s%s%s",
			b->log, b->port, b->dir, b->plugin, sql ? "db_path" : "db_url",
			sql ? b->dir : b->db_url, sql ? "/bootstrap.db" : "", b->dir, b->max_failures,
			b->lockout_seconds,
			b->floor_plugin[0] ? "plugin " : "", b->floor_plugin,
			b->floor_plugin[0] ? "\n" : "");
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "bench: writing %s failed\n", b->conf);
		return -1;
	}
	return 0;
}

int broker_setup(bench_broker_t *b, const char *plugin, const char *floor_plugin,
		const char *user, const char *password)
{
	char passwd[BENCH_PATH_MAX];

	memset(b, 0, sizeof(*b));
	strcpy(b->dir, "/tmp/bs-bench-XXXXXX");
	if (mkdtemp(b->dir) == NULL) {
		fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
		b->dir[0] = '\0';
		return -1;
	}
	if (path_in(b, "mosquitto.conf", b->conf, sizeof(b->conf)) != 0
			|| path_in(b, "mosquitto.log", b->log, sizeof(b->log)) != 0
			|| path_in(b, "passwd", passwd, sizeof(passwd)) != 0)
		return -1;
	b->port = free_port();
	if (b->port < 0)
		return -1;
	char *argv[] = { "mosquitto_passwd", "-b", "-c", passwd,
		(char *)user, (char *)password, NULL };
	if (run_tool(b, argv) != 0)
		return -1;
	/* Checked by bench_resolve(): both fit. */
	snprintf(b->plugin, sizeof(b->plugin), "%s", plugin);
	snprintf(b->floor_plugin, sizeof(b->floor_plugin), "%s", floor_plugin);
	b->lockout_seconds = 60;
	return 0;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void exec_broker(const bench_broker_t *b)
{
	char errpath[BENCH_PATH_MAX];
	int fd;

	/* Dies with us whatever happens to us, and stays out of our terminal's
	 * process group so that ^C reaches only us: we stop it ourselves. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || setpgid(0, 0) != 0)
		_exit(126);
	if (path_in(b, "stderr", errpath, sizeof(errpath)) != 0)
		_exit(126);
	fd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	execlp("mosquitto", "mosquitto", "-c", b->conf, (char *)NULL);
	_exit(127);
}

/* Reaps the broker if it has exited; true when it is gone. */
static bool reaped(bench_broker_t *b, int *status)
{
	pid_t r = waitpid(b->pid, status, WNOHANG);

	if (r == b->pid || (r < 0 && errno == ECHILD)) {
		b->pid = 0;
		return true;
	}
	return false;
}

int broker_start(bench_broker_t *b)
{
	uint64_t deadline = bench_now_ns() + START_WAIT_NS;
	int status = 0;

	if (write_conf(b) != 0)
		return -1;
	b->log_offset = file_size(b->log);
	b->pid = fork();
	if (b->pid < 0) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		b->pid = 0;
		return -1;
	}
	if (b->pid == 0)
		exec_broker(b);
	while (!port_open(b->port)) {
		if (reaped(b, &status)) {
			fprintf(stderr, "bench: the broker exited at start (status %d); see %s\n",
					status, b->dir);
			return -1;
		}
		if (bench_stop || bench_now_ns() > deadline) {
			fprintf(stderr, "bench: the broker did not open port %d\n", b->port);
			broker_stop(b);
			return -1;
		}
		sleep_ns(PROBE_EVERY_NS);
	}
	return 0;
}

int broker_stop(bench_broker_t *b)
{
	uint64_t deadline = bench_now_ns() + STOP_WAIT_NS;
	int status = 0;

	if (b->pid <= 0)
		return 0;
	if (kill(b->pid, SIGTERM) != 0 && errno != ESRCH)
		fprintf(stderr, "bench: kill: %s\n", strerror(errno));
	while (!reaped(b, &status)) {
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "bench: the broker ignored SIGTERM; killing it\n");
			(void)kill(b->pid, SIGKILL);
			(void)waitpid(b->pid, &status, 0);
			b->pid = 0;
			return -1;
		}
		sleep_ns(PROBE_EVERY_NS / 5);
	}
	return 0;
}

int broker_reset_db(bench_broker_t *b)
{
	static const char *const names[] = {
		"bootstrap.db", "bootstrap.db-wal", "bootstrap.db-shm", "bootstrap.db-journal",
	};
	char path[BENCH_PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (path_in(b, names[i], path, sizeof(path)) != 0)
			return -1;
		if (unlink(path) != 0 && errno != ENOENT) {
			fprintf(stderr, "bench: unlink %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* A "<field>: <n> kB" line of the broker's /proc status, or -1. */
static long status_kib(const bench_broker_t *b, const char *field)
{
	char path[64], line[256];
	size_t len = strlen(field);
	long kib = -1;
	FILE *f;

	if (b->pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)b->pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, field, len) == 0 && line[len] == ':'
				&& sscanf(line + len + 1, "%ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

long broker_rss_kib(const bench_broker_t *b)
{
	return status_kib(b, "VmRSS");
}

long broker_rss_anon_kib(const bench_broker_t *b)
{
	return status_kib(b, "RssAnon");
}

long broker_hwm_kib(const bench_broker_t *b)
{
	return status_kib(b, "VmHWM");
}

int broker_reset_hwm(const bench_broker_t *b)
{
	char path[64];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)b->pid);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* "5" resets the peak resident set size (proc(5)). */
	rc = fputs("5", f);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "bench: cannot reset the broker's VmHWM\n");
		return -1;
	}
	return 0;
}

/* The last "started in X ms" written since the last start. */
static double scan_start_ms(FILE *f)
{
	char line[1024];
	double ms = -1, v;

	while (fgets(line, sizeof(line), f) != NULL) {
		const char *p = strstr(line, "started in ");

		if (p != NULL && sscanf(p, "started in %lf ms", &v) == 1)
			ms = v;
	}
	return ms;
}

double broker_start_ms(const bench_broker_t *b)
{
	FILE *f = fopen(b->log, "r");
	double ms = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, b->log_offset, SEEK_SET) == 0)
		ms = scan_start_ms(f);
	fclose(f);
	return ms;
}

void broker_cleanup(bench_broker_t *b)
{
	(void)broker_stop(b);
	if (b->dir[0] != '\0')
		tmpdir_remove(b->dir);
	b->dir[0] = '\0';
}
