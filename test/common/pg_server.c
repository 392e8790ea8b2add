#define _GNU_SOURCE

#include "pg_server.h"

#include "tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUPERUSER "bs"
#define START_TRIES 5
#define MAX_SERVERS 4

/* The servers still running, stopped at exit. */
static bs_pg_server_t *servers[MAX_SERVERS];

static void stop_all(void)
{
	for (int i = 0; i < MAX_SERVERS; i++)
		if (servers[i] != NULL)
			bs_pg_server_stop(servers[i]);
}

static void track(bs_pg_server_t *s, int on)
{
	static int registered;

	if (!registered && atexit(stop_all) == 0)
		registered = 1;
	for (int i = 0; i < MAX_SERVERS; i++) {
		if (on && servers[i] == NULL) {
			servers[i] = s;
			return;
		}
		if (!on && servers[i] == s)
			servers[i] = NULL;
	}
}

/* The newest /usr/lib/postgresql/<version>/bin holding initdb. */
static int find_bindir(bs_pg_server_t *s)
{
	const char *env = getenv("BS_PG_BINDIR");
	glob_t g;
	int best = -1, best_version = -1;

	if (env != NULL && env[0] != '\0') {
		snprintf(s->bindir, sizeof(s->bindir), "%s", env);
		return 0;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0) {
		fprintf(stderr, "pg_server: no /usr/lib/postgresql/*/bin/initdb "
				"(apt-get install postgresql)\n");
		return -1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int v = atoi(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
		if (v > best_version) {
			best_version = v;
			best = (int)i;
		}
	}
	snprintf(s->bindir, sizeof(s->bindir), "%.*s", (int)(strlen(g.gl_pathv[best])
			- strlen("/initdb")), g.gl_pathv[best]);
	globfree(&g);
	return 0;
}

/* PostgreSQL refuses root: as root, the server is nobody's. */
static int pick_user(bs_pg_server_t *s)
{
	struct passwd *pw;

	s->uid = getuid();
	s->gid = getgid();
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam("nobody")) == NULL) {
		fprintf(stderr, "pg_server: running as root and there is no user nobody\n");
		return -1;
	}
	s->uid = pw->pw_uid;
	s->gid = pw->pw_gid;
	if (chown(s->dir, s->uid, s->gid) != 0) {
		fprintf(stderr, "pg_server: chown %s: %s\n", s->dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Runs bindir/prog with args as the server's user, its output into
 * dir/tools.log; its exit status, or -1. */
static int run_as(const bs_pg_server_t *s, const char *prog, char *args[])
{
	char path[192], log[96];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/%s", s->bindir, prog);
	snprintf(log, sizeof(log), "%s/tools.log", s->dir);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(s->gid) != 0
				|| setuid(s->uid) != 0))
			_exit(126);
		args[0] = path;
		execv(path, args);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int pg_ctl(const bs_pg_server_t *s, const char *action, const char *mode)
{
	char data[96], log[96], opts[160];

	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	snprintf(opts, sizeof(opts), "-p %d", s->port);
	if (strcmp(action, "start") == 0) {
		char *args[] = { NULL, "-D", data, "-l", log, "-w", "-t", "30", "-s",
			"-o", opts, "start", NULL };
		return run_as(s, "pg_ctl", args);
	}
	char *args[] = { NULL, "-D", data, "-w", "-t", "30", "-s", "-m", (char *)mode,
		(char *)action, NULL };
	return run_as(s, "pg_ctl", args);
}

static int append_file(const char *path, const char *text, int truncate)
{
	FILE *f = fopen(path, truncate ? "w" : "a");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0;
	return fclose(f) != 0 || rc ? -1 : 0;
}

/* Loopback only, a socket in the directory, nothing kept on disk. */
static int configure(const bs_pg_server_t *s)
{
	char path[96], conf[512];

	snprintf(conf, sizeof(conf),
			"listen_addresses = '127.0.0.1'\n"
			"unix_socket_directories = '%s'\n"
			"fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
			"shared_preload_libraries = 'pg_stat_statements'\n"
			"max_connections = 40\nshared_buffers = 32MB\n"
			"log_min_messages = warning\nlog_min_error_statement = panic\n",
			s->dir);
	snprintf(path, sizeof(path), "%s/data/postgresql.conf", s->dir);
	if (append_file(path, conf, 0) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/data/pg_hba.conf", s->dir);
	return append_file(path, "local all all trust\n"
			"host all " BS_PG_PASSWORD_ROLE " 127.0.0.1/32 scram-sha-256\n"
			"host all all 127.0.0.1/32 trust\n", 1);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0
			&& getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/*
 * The watchdog waits on a pipe that only the test process holds open:
 * when it closes, however the process ended, the server is stopped at
 * once and the directory removed (nothing to do after a clean stop).
 */
static void watch(bs_pg_server_t *s, int rfd)
{
	char data[96], pid_file[112], c;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (int fd = 3; fd < 1024; fd++)
		if (fd != rfd)
			close(fd);
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(pid_file, sizeof(pid_file), "%s/postmaster.pid", data);
	if (access(pid_file, F_OK) == 0)
		pg_ctl(s, "stop", "immediate");
	tmpdir_remove(s->dir);
	_exit(0);
}

static int start_watchdog(bs_pg_server_t *s)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1;
	if ((s->watchdog = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (s->watchdog == 0)
		watch(s, fds[0]);
	close(fds[0]);
	s->watch_fd = fds[1];
	return 0;
}

static int init_cluster(bs_pg_server_t *s)
{
	char data[96];
	char *args[] = { NULL, "-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
		"--no-locale", "--no-sync", "--no-instructions", NULL };

	snprintf(data, sizeof(data), "%s/data", s->dir);
	if (run_as(s, "initdb", args) != 0) {
		fprintf(stderr, "pg_server: initdb failed, see %s/tools.log\n", s->dir);
		return -1;
	}
	return configure(s);
}

/* A free port can be taken by another process before the server binds
 * it: then another. */
static int start_on_free_port(bs_pg_server_t *s)
{
	for (int i = 0; i < START_TRIES; i++) {
		if ((s->port = free_port()) < 0)
			return -1;
		if (pg_ctl(s, "start", NULL) == 0)
			return 0;
	}
	fprintf(stderr, "pg_server: the server did not start, see %s/server.log\n", s->dir);
	return -1;
}

int bs_pg_server_start(bs_pg_server_t *s)
{
	memset(s, 0, sizeof(*s));
	s->watch_fd = -1;
	snprintf(s->user, sizeof(s->user), "%s", SUPERUSER);
	if (find_bindir(s) != 0 || tmpdir_make(s->dir, sizeof(s->dir), "/tmp/bs-pg-XXXXXX") != 0)
		return -1;
	/* The watchdog gets a copy of s: the user first. */
	if (pick_user(s) != 0 || start_watchdog(s) != 0) {
		tmpdir_remove(s->dir);
		return -1;
	}
	s->running = 1;
	track(s, 1);
	if (init_cluster(s) != 0 || start_on_free_port(s) != 0) {
		bs_pg_server_stop(s);
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "postgresql://%s@127.0.0.1:%d/postgres",
			s->user, s->port);
	return 0;
}

void bs_pg_server_stop(bs_pg_server_t *s)
{
	char pid_file[112];

	if (!s->running)
		return;
	snprintf(pid_file, sizeof(pid_file), "%s/data/postmaster.pid", s->dir);
	if (access(pid_file, F_OK) == 0)
		pg_ctl(s, "stop", "fast");
	tmpdir_remove(s->dir);
	close(s->watch_fd);
	while (waitpid(s->watchdog, NULL, 0) < 0 && errno == EINTR)
		;
	s->running = 0;
	track(s, 0);
}

int bs_pg_server_pause(bs_pg_server_t *s)
{
	return s->running && pg_ctl(s, "stop", "fast") == 0 ? 0 : -1;
}

int bs_pg_server_resume(bs_pg_server_t *s)
{
	if (!s->running || pg_ctl(s, "start", NULL) != 0) {
		fprintf(stderr, "pg_server: no start again on port %d, see %s/server.log\n",
				s->port, s->dir);
		return -1;
	}
	return 0;
}

int bs_pg_server_restart(bs_pg_server_t *s)
{
	return bs_pg_server_pause(s) == 0 ? bs_pg_server_resume(s) : -1;
}

/* The postmaster's pid, from the first line of its pid file; -1. */
static pid_t postmaster(const bs_pg_server_t *s)
{
	char path[128];
	FILE *f;
	long pid = -1;

	snprintf(path, sizeof(path), "%s/data/postmaster.pid", s->dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return (pid_t)pid;
}

/* Sends sig to every process whose parent is master. */
static void signal_children(pid_t master, int sig)
{
	glob_t g;

	if (glob("/proc/[0-9]*/stat", 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		char buf[512], *p;
		int pid = 0, ppid = 0;

		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL
				&& sscanf(buf, "%d", &pid) == 1 && sscanf(p + 2, "%*c %d", &ppid) == 1
				&& ppid == master)
			kill(pid, sig);
		fclose(f);
	}
	globfree(&g);
}

int bs_pg_server_freeze(bs_pg_server_t *s, int frozen)
{
	pid_t master = s->running ? postmaster(s) : -1;

	if (master <= 1)
		return -1;
	if (frozen) {
		signal_children(master, SIGSTOP);
		return kill(master, SIGSTOP);
	}
	kill(master, SIGCONT);
	signal_children(master, SIGCONT);
	return 0;
}

static PGconn *connect_to(const bs_pg_server_t *s, const char *db)
{
	char port[16];
	const char *keys[] = { "host", "port", "user", "dbname", NULL };
	const char *values[] = { s->dir, port, s->user, db ? db : "postgres", NULL };
	PGconn *c;

	snprintf(port, sizeof(port), "%d", s->port);
	c = PQconnectdbParams(keys, values, 0);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pg_server: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

int bs_pg_server_exec(bs_pg_server_t *s, const char *db, const char *sql)
{
	PGconn *c = connect_to(s, db);
	PGresult *r;
	int rc;

	if (c == NULL)
		return -1;
	r = PQexec(c, sql);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
		? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "pg_server: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

int bs_pg_server_createdb(bs_pg_server_t *s, const char *name,
		const char *icu_locale, char *url, size_t urllen)
{
	PGconn *c = connect_to(s, NULL);
	char sql[256], *ident, *locale = NULL;
	int rc = -1;

	if (c == NULL)
		return -1;
	ident = PQescapeIdentifier(c, name, strlen(name));
	if (icu_locale != NULL)
		locale = PQescapeLiteral(c, icu_locale, strlen(icu_locale));
	if (ident != NULL && (icu_locale == NULL || locale != NULL)) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0%s%s", ident,
				locale ? " LOCALE_PROVIDER icu ICU_LOCALE " : "", locale ? locale : "");
		PQfinish(c);
		c = NULL;
		rc = bs_pg_server_exec(s, NULL, sql);
	}
	PQfreemem(ident);
	PQfreemem(locale);
	PQfinish(c);
	if (rc == 0)
		snprintf(url, urllen, "postgresql://%s@127.0.0.1:%d/%s", s->user, s->port, name);
	return rc;
}
