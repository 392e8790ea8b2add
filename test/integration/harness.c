#include "harness.h"
#include "cu_main.h"
#include "leakscan.h"
#include "store_db.h"
#include "tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_WAIT_MS 5000     /* IT_START_MS overrides it (valgrind) */
#define STOP_WAIT_MS 5000
#define POLL_MS 20
#define LOOP_SLICE_MS 20

static const char plugin_rel[] = "plugin/mosquitto_bootstrap.so";
/* Sanitizer or valgrind reports found in brokers' output so far. */
static int reports;

int it_wait_ms(void)
{
	static int ms;
	if (ms == 0) {
		const char *v = getenv("IT_WAIT_MS");
		ms = v != NULL && atoi(v) > 0 ? atoi(v) : 3000;
	}
	return ms;
}

static int start_wait_ms(void)
{
	const char *v = getenv("IT_START_MS");
	int ms = v != NULL ? atoi(v) : 0;
	return ms > 0 ? ms : START_WAIT_MS;
}

int silent_listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 4) != 0 ||
			getsockname(s, (struct sockaddr *)&a, &len) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return s;
}

const char *device_bin(void)
{
	const char *v = getenv("IT_DEVICE");
	return v != NULL ? v : "build/default/tools/mosquitto_bootstrap_device";
}

int broker_plugin(char *out, size_t outlen)
{
	const char *rel = getenv("IT_PLUGIN") != NULL ? getenv("IT_PLUGIN") : plugin_rel;
	char cwd[IT_PATH_MAX];
	int n;

	if (rel[0] == '/')
		n = snprintf(out, outlen, "%s", rel);
	else if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	else
		n = snprintf(out, outlen, "%s/%s", cwd, rel);
	if (n < 0 || (size_t)n >= outlen || access(out, R_OK) != 0) {
		fprintf(stderr, "harness: %s is missing (build the plugin first)\n", rel);
		return -1;
	}
	return 0;
}

__attribute__((format(printf, 1, 2)))
static void warnf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("harness: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static long long now_ms(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- files ------------------------------------------------------------ */

int broker_path(const broker_t *b, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", b->dir, name);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

char *read_file_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		size_t n = fread(buf + used, 1, cap - used - 1, f);
		used += n;
		if (n == 0)
			break;
		if (used + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int err = ferror(f);
	fclose(f);
	if (buf == NULL || err) {
		free(buf);
		return NULL;
	}
	buf[used] = '\0';
	if (len != NULL)
		*len = used;
	return buf;
}

int write_file_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	size_t len = strlen(text);
	int rc = fwrite(text, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* ---- processes -------------------------------------------------------- */

static int exec_redirected(char *const argv[], const char *out_path)
{
	int fd = out_path != NULL
		? open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600)
		: open("/dev/null", O_WRONLY);
	int in = open("/dev/null", O_RDONLY);
	if (fd < 0 || in < 0)
		return -1;
	if (dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		return -1;
	close(in);
	close(fd);
	execvp(argv[0], argv);
	return -1;
}

int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		exec_redirected(argv, NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Waits up to ms for pid; returns its wait status, or -1 if still running. */
static int wait_exit(pid_t pid, int ms)
{
	long long end = now_ms() + ms;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			return -1;
		sleep_ms(POLL_MS);
	}
}

static bool port_open(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return false;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
	close(s);
	return ok;
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	int port = -1;
	if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
			getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(s);
	return port;
}

/*
 * The broker's command line: "mosquitto -c conf", after the words of
 * IT_BROKER_WRAP when set (such as "valgrind --log-file=@DIR@/valgrind.log",
 * @DIR@ standing for the broker's directory). Words go into buf.
 */
static void broker_argv(const broker_t *b, char *buf, size_t buflen, char **argv, int max)
{
	const char *wrap = getenv("IT_BROKER_WRAP");
	int n = 0;
	size_t used = 0;

	for (const char *w = wrap; w != NULL && *w != '\0' && n < max - 4;) {
		char word[512];
		size_t len = strcspn(w, " \t");
		snprintf(word, sizeof word, "%.*s", (int)len, w);
		char *at = strstr(word, "@DIR@");
		int k = at == NULL ? snprintf(buf + used, buflen - used, "%s", word)
			: snprintf(buf + used, buflen - used, "%.*s%s%s", (int)(at - word), word,
					b->dir, at + 5);
		if (len > 0 && k >= 0 && (size_t)k < buflen - used) {
			argv[n++] = buf + used;
			used += (size_t)k + 1;
		}
		w += len;
		w += strspn(w, " \t");
	}
	argv[n++] = "mosquitto";
	argv[n++] = "-c";
	argv[n++] = (char *)b->conf;
	argv[n] = NULL;
}

static pid_t spawn_broker(const broker_t *b)
{
	char out[IT_PATH_MAX];
	if (broker_path(b, "stderr.log", out, sizeof out) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char buf[2048], *argv[32];
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* An ASan-built plugin needs the runtime loaded first. */
		if (getenv("IT_BROKER_PRELOAD") != NULL)
			setenv("LD_PRELOAD", getenv("IT_BROKER_PRELOAD"), 1);
		broker_argv(b, buf, sizeof buf, argv, 32);
		exec_redirected(argv, out);
		_exit(127);
	}
	return pid;
}

/* ---- configuration ---------------------------------------------------- */

static int make_passwd(const broker_t *b)
{
	char path[IT_PATH_MAX];
	if (broker_path(b, "passwd", path, sizeof path) != 0)
		return -1;
	char *first[] = { "mosquitto_passwd", "-b", "-c", path, "admin", "adminpw", NULL };
	char *second[] = { "mosquitto_passwd", "-b", path, "alice", "alicepw", NULL };
	if (run_quiet(first) != 0 || run_quiet(second) != 0) {
		warnf("cannot create the password file");
		return -1;
	}
	return 0;
}

/* The line naming b's store: its database when it has one, else its file. */
static int store_line(const broker_t *b, char *out, size_t outlen)
{
	int n = b->db_url[0] != '\0'
		? snprintf(out, outlen, "plugin_opt_db_url %s", b->db_url)
		: snprintf(out, outlen, "plugin_opt_db_path %s/bootstrap.db", b->dir);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Writes s to f, replacing each @DIR@ with b's directory and each @STORE@
 * with the line naming its store. */
static int put(FILE *f, const char *s, const broker_t *b)
{
	char store[IT_PATH_MAX];

	if (store_line(b, store, sizeof store) != 0)
		return -1;
	for (;;) {
		const char *dir = strstr(s, "@DIR@"), *st = strstr(s, "@STORE@");
		const char *at = dir == NULL || (st != NULL && st < dir) ? st : dir;
		size_t n = at != NULL ? (size_t)(at - s) : strlen(s);
		if (fwrite(s, 1, n, f) != n)
			return -1;
		if (at == NULL)
			return 0;
		if (fputs(at == dir ? b->dir : store, f) < 0)
			return -1;
		s = at + (at == dir ? 5 : 7);
	}
}

/* True when text has a line starting with "plugin_opt_<name>". */
static bool overrides(const char *text, const char *name)
{
	if (text == NULL)
		return false;
	char key[96];
	int n = snprintf(key, sizeof key, "plugin_opt_%s", name);
	if (n < 0 || (size_t)n >= sizeof key)
		return false;
	for (const char *p = text; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t kl = strlen(key);
		if (strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '\t'))
			return true;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return false;
}

/* True when extra names a store of its own. */
static bool own_store(const char *extra)
{
	return overrides(extra, "db_path") || overrides(extra, "db_url");
}

static int put_default_opts(FILE *f, const broker_t *b, const char *extra)
{
	static const char *const opts[][2] = {
		{ "key_file", "@DIR@/bootstrap.key" },
		{ "admin_users", "admin" },
	};
	if (!own_store(extra) && (put(f, "@STORE@", b) != 0 || fputc('\n', f) == EOF))
		return -1;
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		if (overrides(extra, opts[i][0]))
			continue;
		if (fprintf(f, "plugin_opt_%s ", opts[i][0]) < 0 ||
				put(f, opts[i][1], b) != 0 || fputc('\n', f) == EOF)
			return -1;
	}
	return 0;
}

/* True when the configuration written for extra and flags names the
 * broker's own store. */
static bool wants_store(const char *extra, unsigned flags)
{
	if (flags & BROKER_NO_CONF)
		return false;
	if (extra != NULL && strstr(extra, "@STORE@") != NULL)
		return true;
	return !(flags & BROKER_NO_PLUGIN_OPTS) && !own_store(extra);
}

/* On PostgreSQL, b's database, made once. */
static int make_store(broker_t *b)
{
	if (!it_on_pg() || b->db_url[0] != '\0')
		return 0;
	if (test_store_db(b->dir, b->db_url, sizeof b->db_url) != 0) {
		b->db_url[0] = '\0';
		warnf("no PostgreSQL database for the broker in %s", b->dir);
		return -1;
	}
	return 0;
}

int broker_store_conf(broker_t *b, char *out, size_t outlen)
{
	return make_store(b) == 0 ? store_line(b, out, outlen) : -1;
}

bool it_on_pg(void)
{
	return test_on_pg() != 0;
}

bool it_sqlite_only(const char *why)
{
	if (!it_on_pg())
		return false;
	cu_skip(why);
	return true;
}

/* Last in the file, so that the lines of extra_conf stay with the plain
 * listener and the plugin. */
static int put_tls_listener(FILE *f, const broker_t *b)
{
	return fprintf(f,
			"listener %d 127.0.0.1\n"
			"cafile %s/ca.pem\n"
			"certfile %s/server.pem\n"
			"keyfile %s/server.key\n"
			"require_certificate true\n"
			"use_identity_as_username true\n",
			b->tls_port, b->dir, b->dir, b->dir) < 0 ? -1 : 0;
}

int broker_conf_base(FILE *f, const broker_t *b)
{
	return fprintf(f,
			"per_listener_settings false\n"
			"user root\n"
			"persistence false\n"
			"log_dest file %s/mosquitto.log\n"
			"log_type all\n"
			"listener %d 127.0.0.1\n"
			"allow_anonymous true\n",
			b->dir, b->port) < 0 ? -1 : 0;
}

static int write_conf(const broker_t *b, const char *extra, unsigned flags)
{
	char plugin[IT_PATH_MAX];
	if (broker_plugin(plugin, sizeof plugin) != 0)
		return -1;
	FILE *f = fopen(b->conf, "w");
	if (f == NULL)
		return -1;
	int rc = broker_conf_base(f, b) == 0 && fprintf(f,
			"password_file %s/passwd\n"
			"plugin %s\n", b->dir, plugin) >= 0 ? 0 : -1;
	if (rc == 0 && !(flags & BROKER_NO_PLUGIN_OPTS))
		rc = put_default_opts(f, b, extra);
	if (rc == 0 && extra != NULL)
		rc = put(f, extra, b) == 0 && fputc('\n', f) != EOF ? 0 : -1;
	if (rc == 0 && b->tls_port > 0)
		rc = put_tls_listener(f, b);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* ---- broker lifecycle ------------------------------------------------- */

static bool file_contains(const broker_t *b, const char *name, const char *text);
static int harness_failures(void);

/* The TLS listener's port (not the plain one's), CA and certificate. */
static int prepare_tls(broker_t *b)
{
	for (int i = 0; i < 5 && (b->tls_port <= 0 || b->tls_port == b->port); i++)
		b->tls_port = free_port();
	if (b->tls_port <= 0 || b->tls_port == b->port)
		return -1;
	if (make_ca(b->dir, "ca") != 0 ||
			make_signed_cert(b->dir, "ca", "server", "127.0.0.1", NULL, NULL) != 0)
		return -1;
	return 0;
}

/* True when every listener of b accepts connections. */
static bool listening(const broker_t *b)
{
	return port_open(b->port) && (b->tls_port <= 0 || port_open(b->tls_port));
}

int broker_prepare(broker_t *b, const char *extra_conf, unsigned flags)
{
	memset(b, 0, sizeof *b);
	cu_set_final_check(harness_failures);
	snprintf(b->dir, sizeof b->dir, "/tmp/bs-it-XXXXXX");
	if (mkdtemp(b->dir) == NULL) {
		b->dir[0] = '\0';
		warnf("mkdtemp: %s", strerror(errno));
		return -1;
	}
	b->port = free_port();
	if (b->port <= 0 ||
			((flags & BROKER_TLS) && prepare_tls(b) != 0) ||
			broker_path(b, "mosquitto.conf", b->conf, sizeof b->conf) != 0 ||
			(wants_store(extra_conf, flags) && make_store(b) != 0) ||
			(!(flags & BROKER_NO_CONF) && (make_passwd(b) != 0 ||
				write_conf(b, extra_conf, flags) != 0))) {
		warnf("cannot prepare the broker in %s", b->dir);
		broker_cleanup(b);
		return -1;
	}
	return 0;
}

int broker_launch(broker_t *b)
{
	b->pid = spawn_broker(b);
	if (b->pid <= 0) {
		b->pid = 0;
		return -1;
	}
	long long end = now_ms() + start_wait_ms();
	while (now_ms() < end) {
		if (listening(b)) {
			leak_spy_start(b);
			return 0;
		}
		if (wait_exit(b->pid, 0) != -1) {
			b->pid = 0;
			warnf("the broker exited during start (see %s)", b->dir);
			return -1;
		}
		sleep_ms(POLL_MS);
	}
	warnf("the broker did not listen within %d ms", start_wait_ms());
	broker_kill9(b);
	return -1;
}

int broker_prepare_peer(broker_t *b, const char *extra_conf, const broker_t *peer)
{
	char from[IT_PATH_MAX + 32], to[IT_PATH_MAX + 32];
	char *key = NULL;
	int rc;

	if (broker_prepare(b, extra_conf, 0) != 0)
		return -1;
	snprintf(from, sizeof from, "%s/bootstrap.key", peer->dir);
	snprintf(to, sizeof to, "%s/bootstrap.key", b->dir);
	rc = (key = read_file_text(from, NULL)) != NULL && write_file_text(to, key) == 0
		&& chmod(to, 0600) == 0 ? 0 : -1;
	free(key);
	return rc;
}

int broker_start_acl(broker_t *b, const char *extra_conf, unsigned flags,
		const char *acl)
{
	char path[IT_PATH_MAX];

	if (broker_prepare(b, extra_conf, flags) != 0)
		return -1;
	if (broker_path(b, "acl", path, sizeof path) != 0
			|| write_file_text(path, acl) != 0 || broker_launch(b) != 0) {
		broker_cleanup(b);
		return -1;
	}
	return 0;
}

int broker_start_flags(broker_t *b, const char *extra_conf, unsigned flags)
{
	if (broker_prepare(b, extra_conf, flags) != 0)
		return -1;
	if (broker_launch(b) != 0) {
		broker_cleanup(b);
		return -1;
	}
	return 0;
}

int broker_start(broker_t *b, const char *extra_conf)
{
	return broker_start_flags(b, extra_conf, 0);
}

int broker_launch_fail(broker_t *b)
{
	b->pid = spawn_broker(b);
	if (b->pid <= 0) {
		b->pid = 0;
		return -1;
	}
	int st = wait_exit(b->pid, start_wait_ms());
	if (st == -1) {
		warnf("the broker is still running, expected it to refuse to start");
		broker_kill9(b);
		return -1;
	}
	b->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 0) {
		warnf("the broker ended with status 0x%x, expected a non-zero exit", st);
		return -1;
	}
	return 0;
}

int broker_start_fail(broker_t *b, const char *extra_conf, unsigned flags)
{
	if (broker_prepare(b, extra_conf, flags) != 0)
		return -1;
	return broker_launch_fail(b);
}

static int signal_and_wait(broker_t *b, int sig, int ms)
{
	leak_spy_stop(b);
	if (b->pid <= 0)
		return 0;
	if (kill(b->pid, sig) != 0 && errno != ESRCH)
		return -1;
	int st = wait_exit(b->pid, ms);
	if (st == -1) {
		kill(b->pid, SIGKILL);
		st = wait_exit(b->pid, STOP_WAIT_MS);
	}
	b->pid = 0;
	return st == -1 ? -1 : 0;
}

int broker_stop(broker_t *b)
{
	return signal_and_wait(b, SIGTERM, STOP_WAIT_MS);
}

int broker_kill9(broker_t *b)
{
	return signal_and_wait(b, SIGKILL, STOP_WAIT_MS);
}

int broker_restart(broker_t *b)
{
	if (broker_stop(b) != 0)
		return -1;
	return broker_launch(b);
}

bool broker_alive(broker_t *b)
{
	if (b->pid <= 0)
		return false;
	if (wait_exit(b->pid, 0) != -1) {
		b->pid = 0;
		return false;
	}
	return port_open(b->port);
}

/*
 * A sanitizer's report in the broker's output, or errors in valgrind's
 * log (IT_BROKER_WRAP), is a failure of the run.
 */
static void check_reports(const broker_t *b)
{
	char path[IT_PATH_MAX];
	char *vg = broker_path(b, "valgrind.log", path, sizeof path) == 0
		? read_file_text(path, NULL) : NULL;

	if (file_contains(b, "stderr.log", "Sanitizer")
			|| file_contains(b, "stderr.log", "runtime error:")) {
		fprintf(stderr, "harness: a sanitizer report in %s/stderr.log\n", b->dir);
		char *text = broker_path(b, "stderr.log", path, sizeof path) == 0
			? read_file_text(path, NULL) : NULL;
		if (text != NULL)
			fprintf(stderr, "%s\n", text);
		free(text);
		reports++;
	}
	if (vg != NULL && strstr(vg, "ERROR SUMMARY: 0 errors") == NULL) {
		fprintf(stderr, "harness: valgrind found errors, see %s\n", path);
		reports++;
	}
	free(vg);
}

/* What cu_run adds to the failures: leaks, sanitizer and valgrind reports. */
static int harness_failures(void)
{
	return leak_failures() + reports;
}

void broker_cleanup(broker_t *b)
{
	broker_stop(b);
	leak_check(b);
	check_reports(b);
	if (b->dir[0] != '\0' && getenv("IT_KEEP") == NULL)
		tmpdir_remove(b->dir);
	b->dir[0] = '\0';
}

static bool file_contains(const broker_t *b, const char *name, const char *text)
{
	char path[IT_PATH_MAX];
	if (broker_path(b, name, path, sizeof path) != 0)
		return false;
	char *s = read_file_text(path, NULL);
	bool found = s != NULL && strstr(s, text) != NULL;
	free(s);
	return found;
}

bool broker_log_contains(const broker_t *b, const char *text)
{
	return file_contains(b, "mosquitto.log", text) ||
		file_contains(b, "stderr.log", text);
}

/* ---- clients ---------------------------------------------------------- */

struct client {
	struct mosquitto *mosq;
	int version;
	int connack;                /* -1 until CONNACK */
	bool gone;                  /* disconnected */
	int sub_mid, sub_result;    /* sub_result -1 until SUBACK */
	int done_mid, done_reason;  /* the last PUBLISH sent (QoS 0) or acked */
	it_msg_t *head, *tail;
};

void msg_free(it_msg_t *m)
{
	if (m == NULL)
		return;
	free(m->topic);
	free(m->payload);
	free(m->corr);
	free(m->resp_topic);
	free(m);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	((client_t *)obj)->connack = rc;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	((client_t *)obj)->gone = true;
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid,
		int count, const int *granted, const mosquitto_property *props)
{
	client_t *c = obj;
	(void)mosq;
	(void)props;
	if (mid == c->sub_mid && count > 0)
		c->sub_result = granted[0];
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
		const mosquitto_property *props)
{
	client_t *c = obj;
	(void)mosq;
	(void)props;
	c->done_mid = mid;
	c->done_reason = reason;
}

static void copy_props(it_msg_t *m, const mosquitto_property *props)
{
	void *corr = NULL;
	uint16_t clen = 0;
	if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
				&corr, &clen, false) != NULL) {
		m->corr = corr;
		m->corr_len = clen;
	}
	char *rt = NULL;
	if (mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC,
				&rt, false) != NULL)
		m->resp_topic = rt;
}

static void on_message(struct mosquitto *mosq, void *obj,
		const struct mosquitto_message *msg, const mosquitto_property *props)
{
	client_t *c = obj;
	(void)mosq;
	it_msg_t *m = calloc(1, sizeof *m);
	if (m == NULL)
		return;
	m->topic = strdup(msg->topic);
	m->payload = malloc((size_t)msg->payloadlen + 1);
	if (m->topic == NULL || m->payload == NULL) {
		msg_free(m);
		return;
	}
	if (msg->payloadlen > 0)
		memcpy(m->payload, msg->payload, (size_t)msg->payloadlen);
	m->payload[msg->payloadlen] = '\0';
	m->len = msg->payloadlen;
	m->qos = msg->qos;
	m->retain = msg->retain;
	copy_props(m, props);
	leak_learn(m->payload, m->len);
	if (c->tail != NULL)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
}

static void lib_cleanup(void)
{
	mosquitto_lib_cleanup();
}

static void lib_init_once(void)
{
	static bool done;
	if (!done && mosquitto_lib_init() == MOSQ_ERR_SUCCESS) {
		if (atexit(lib_cleanup) != 0)
			warnf("atexit failed");
		done = true;
	}
}

/* Runs the network loop until *flag >= 0 or ms pass; 0 when it was set. */
static int loop_until(client_t *c, const int *flag, int ms)
{
	long long end = now_ms() + ms;
	while (*flag < 0 && !c->gone && now_ms() < end) {
		if (mosquitto_loop(c->mosq, LOOP_SLICE_MS, 1) != MOSQ_ERR_SUCCESS)
			c->gone = true;
	}
	return *flag >= 0 ? 0 : -1;
}

static void set_callbacks(client_t *c)
{
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
}

static client_t *client_new(int version, const char *id)
{
	lib_init_once();
	client_t *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->version = version;
	c->connack = -1;
	c->sub_result = -1;
	c->mosq = mosquitto_new(id, true, c);
	if (c->mosq == NULL) {
		free(c);
		return NULL;
	}
	set_callbacks(c);
	int pv = version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
	if (mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, pv) != 0) {
		client_close(c);
		return NULL;
	}
	return c;
}

/* Connects c to port from bind (NULL: any) and waits for the CONNACK
 * (c->connack, -1 when none came). */
static void client_start(client_t *c, int port, const char *bind)
{
	if (mosquitto_connect_bind_v5(c->mosq, "127.0.0.1", port, 30, bind,
				NULL) == MOSQ_ERR_SUCCESS)
		(void)loop_until(c, &c->connack, IT_WAIT_MS);
}

/* A client after its CONNACK (c->connack) or after the wait; NULL only
 * when it could not be made. */
static client_t *client_try(const broker_t *b, int version, const char *id,
		const char *user, const char *pass)
{
	client_t *c = client_new(version, id);
	if (c != NULL && (user == NULL ||
				mosquitto_username_pw_set(c->mosq, user, pass) == 0))
		client_start(c, b->port, NULL);
	return c;
}

client_t *client_connect(const broker_t *b, int version, const char *id,
		const char *user, const char *pass)
{
	client_t *c = client_try(b, version, id, user, pass);
	if (c != NULL && c->connack != 0) {
		warnf("connect (v%d, user %s) failed, connack %d", version,
				user != NULL ? user : "-", c->connack);
		client_close(c);
		return NULL;
	}
	return c;
}

client_t *client_connect_from(const broker_t *b, int version, const char *bind)
{
	client_t *c = client_new(version, NULL);

	if (c != NULL)
		client_start(c, b->port, bind);
	if (c != NULL && c->connack != 0) {
		warnf("connect (v%d) from %s failed, connack %d", version, bind, c->connack);
		client_close(c);
		return NULL;
	}
	return c;
}

int client_connack(const broker_t *b, int version, const char *user,
		const char *pass)
{
	client_t *c = client_try(b, version, NULL, user, pass);
	int rc = c != NULL ? c->connack : -1;
	client_close(c);
	return rc;
}

double client_connack_within(const broker_t *b, int version, const char *user,
		const char *pass, bool let_in, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = client_connack(b, version, user, pass);
		double took;
		clock_gettime(CLOCK_MONOTONIC, &t);
		took = (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
		if (let_in ? rc == 0 : rc > 0)
			return took;
		if (took > ms)
			return -1;
		usleep(20 * 1000);
	}
}

client_t *client_connect_tls(const broker_t *b, int version, const char *id,
		const char *certfile, const char *keyfile, int *connack)
{
	char ca[IT_PATH_MAX];
	client_t *c = client_new(version, id);

	if (c != NULL && broker_path(b, "ca.pem", ca, sizeof ca) == 0 &&
			mosquitto_tls_set(c->mosq, ca, NULL, certfile, keyfile,
				NULL) == MOSQ_ERR_SUCCESS)
		client_start(c, b->tls_port, NULL);
	int got = c != NULL ? c->connack : -1;
	if (connack != NULL)
		*connack = got;
	if (c != NULL && got != 0) {
		client_close(c);
		c = NULL;
	}
	return c;
}

void client_close(client_t *c)
{
	if (c == NULL)
		return;
	if (!c->gone && c->connack == 0 &&
			mosquitto_disconnect(c->mosq) == MOSQ_ERR_SUCCESS) {
		for (int i = 0; i < 10 && mosquitto_want_write(c->mosq); i++) {
			if (mosquitto_loop_write(c->mosq, 1) != MOSQ_ERR_SUCCESS)
				break;
		}
	}
	while (c->head != NULL) {
		it_msg_t *m = c->head;
		c->head = m->next;
		msg_free(m);
	}
	mosquitto_destroy(c->mosq);
	free(c);
}

int client_subscribe(client_t *c, const char *filter, int qos)
{
	int mid = 0;
	c->sub_result = -1;
	if (mosquitto_subscribe_v5(c->mosq, &mid, filter, qos, 0, NULL) != 0)
		return -1;
	c->sub_mid = mid;
	if (loop_until(c, &c->sub_result, IT_WAIT_MS) != 0)
		return -1;
	return c->sub_result;
}

static mosquitto_property *pub_props(const pub_opts_t *o)
{
	mosquitto_property *props = NULL;
	if (o->resp_topic != NULL &&
			mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC,
				o->resp_topic) != MOSQ_ERR_SUCCESS)
		goto fail;
	if (o->corr != NULL &&
			mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA,
				o->corr, (uint16_t)o->corr_len) != MOSQ_ERR_SUCCESS)
		goto fail;
	return props;
fail:
	mosquitto_property_free_all(&props);
	return NULL;
}

int client_publish(client_t *c, const char *topic, const void *payload,
		int len, const pub_opts_t *o)
{
	static const pub_opts_t none = { 0 };
	if (o == NULL)
		o = &none;
	mosquitto_property *props = NULL;
	if (c->version == 5 && (o->resp_topic != NULL || o->corr != NULL)) {
		props = pub_props(o);
		if (props == NULL)
			return -1;
	}
	/* A QoS 0 publish may be reported before mosquitto_publish_v5 returns. */
	int mid = 0;
	c->done_mid = -1;
	int rc = mosquitto_publish_v5(c->mosq, &mid, topic, len, payload,
			o->qos, o->retain, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		warnf("publish to %s: %s", topic, mosquitto_strerror(rc));
		return -1;
	}
	int sent = c->done_mid == mid ? 0 : -1;
	long long end = now_ms() + IT_WAIT_MS;
	while (sent < 0 && !c->gone && now_ms() < end) {
		if (mosquitto_loop(c->mosq, LOOP_SLICE_MS, 1) != MOSQ_ERR_SUCCESS)
			c->gone = true;
		if (c->done_mid == mid)
			sent = 0;
	}
	if (sent < 0) {
		warnf("publish to %s was not acknowledged", topic);
		return -1;
	}
	return c->done_reason;
}

static it_msg_t *pop(client_t *c)
{
	it_msg_t *m = c->head;
	if (m != NULL) {
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		m->next = NULL;
	}
	return m;
}

it_msg_t *client_wait(client_t *c, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (c->head == NULL && !c->gone) {
		long long left = end - now_ms();
		if (left <= 0)
			break;
		int slice = left < LOOP_SLICE_MS ? (int)left : LOOP_SLICE_MS;
		if (mosquitto_loop(c->mosq, slice, 1) != MOSQ_ERR_SUCCESS)
			c->gone = true;
	}
	return pop(c);
}

int client_echo(client_t *c, const char *filter, const char *topic)
{
	static const char body[] = "echo";
	static const pub_opts_t o = { .qos = 1 };
	int granted = client_subscribe(c, filter, 1);
	if (granted < 0 || granted >= 0x80) {
		warnf("subscription to %s refused (%d)", filter, granted);
		return -1;
	}
	int reason = client_publish(c, topic, body, (int)strlen(body), &o);
	if (reason < 0 || reason >= 0x80) {
		warnf("publish to %s refused (%d)", topic, reason);
		return -1;
	}
	it_msg_t *m = client_wait(c, IT_WAIT_MS);
	int rc = m != NULL && strcmp(m->topic, topic) == 0 ? 0 : -1;
	if (rc != 0)
		warnf("the message to %s did not come back", topic);
	msg_free(m);
	return rc;
}

bool client_expect_none(client_t *c, int ms)
{
	long long end = now_ms() + ms;
	while (c->head == NULL && !c->gone && now_ms() < end) {
		if (mosquitto_loop(c->mosq, LOOP_SLICE_MS, 1) != MOSQ_ERR_SUCCESS)
			c->gone = true;
	}
	if (c->head != NULL)
		warnf("unexpected message on %s: %.200s", c->head->topic,
				c->head->payload);
	return c->head == NULL;
}

bool client_wait_gone(client_t *c, int ms)
{
	long long end = now_ms() + ms;
	while (!c->gone && now_ms() < end) {
		if (mosquitto_loop(c->mosq, LOOP_SLICE_MS, 1) != MOSQ_ERR_SUCCESS)
			c->gone = true;
	}
	return c->gone;
}

json_t *msg_json(const it_msg_t *m)
{
	if (m == NULL)
		return NULL;
	return json_loadb(m->payload, (size_t)m->len, 0, NULL);
}

/* ---- round trips ------------------------------------------------------ */

it_msg_t *device_rr(const broker_t *b, int version, const char *sub,
		const char *payload, int len, const pub_opts_t *o)
{
	client_t *c = client_connect(b, version, NULL, NULL, NULL);
	if (c == NULL)
		return NULL;
	it_msg_t *m = NULL;
	if (sub != NULL) {
		int granted = client_subscribe(c, sub, 1);
		if (granted < 0 || granted >= 0x80)
			warnf("subscription to %s refused (%d)", sub, granted);
	}
	if (client_publish(c, "bootstrap/req", payload, len, o) >= 0)
		m = client_wait(c, IT_WAIT_MS);
	client_close(c);
	return m;
}

static const char admin_topic[] = "$CONTROL/bootstrap/v1";
static const char admin_resp[] = "$CONTROL/bootstrap/v1/response";

/* admin_rr_as, waiting up to wait_ms for the reply. */
static json_t *admin_rr_wait(const broker_t *b, const char *id, const char *user,
		const char *pass, const char *payload, int wait_ms)
{
	client_t *c = client_connect(b, 4, id, user, pass);
	json_t *reply = NULL;
	int granted = c != NULL ? client_subscribe(c, admin_resp, 1) : -1;

	if (granted >= 0 && granted < 0x80
			&& client_publish(c, admin_topic, payload, (int)strlen(payload), NULL) >= 0) {
		it_msg_t *m = client_wait(c, wait_ms);
		reply = msg_json(m);
		msg_free(m);
	}
	client_close(c);
	return reply;
}

json_t *admin_rr_as(const broker_t *b, const char *id, const char *user,
		const char *pass, const char *payload)
{
	return admin_rr_wait(b, id, user, pass, payload, IT_WAIT_MS);
}

/* As admin: the parsed reply to payload within wait_ms, or NULL. */
static json_t *admin_rr_raw_within(const broker_t *b, const char *payload, int wait_ms)
{
	json_t *reply = admin_rr_wait(b, NULL, "admin", "adminpw", payload, wait_ms);

	if (reply == NULL)
		warnf("no admin reply to %.200s", payload);
	return reply;
}

json_t *admin_rr_raw(const broker_t *b, const char *payload)
{
	return admin_rr_raw_within(b, payload, IT_WAIT_MS);
}

json_t *admin_rr_json_within(const broker_t *b, json_t *commands, int wait_ms)
{
	json_t *root = json_pack("{sO}", "commands", commands);
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL)
		return NULL;
	json_t *reply = admin_rr_raw_within(b, text, wait_ms);
	free(text);
	return reply;
}

json_t *admin_rr_json(const broker_t *b, json_t *commands)
{
	return admin_rr_json_within(b, commands, IT_WAIT_MS);
}

json_t *admin_rr(const broker_t *b, const char *commands_text)
{
	size_t n = strlen(commands_text) + 32;
	char *text = malloc(n);
	if (text == NULL)
		return NULL;
	snprintf(text, n, "{\"commands\":[%s]}", commands_text);
	json_t *reply = admin_rr_raw(b, text);
	free(text);
	return reply;
}

it_msg_t *admin_rr_v5(const broker_t *b, const char *payload,
		const char *resp_topic, const void *corr, int corr_len)
{
	client_t *c = client_connect(b, 5, NULL, "admin", "adminpw");
	if (c == NULL)
		return NULL;
	pub_opts_t o = { .qos = 1, .resp_topic = resp_topic, .corr = corr,
		.corr_len = corr_len };
	it_msg_t *m = NULL;
	if (client_publish(c, admin_topic, payload, (int)strlen(payload), &o) >= 0)
		m = client_wait(c, IT_WAIT_MS);
	client_close(c);
	return m;
}

json_t *admin_cmd(const broker_t *b, json_t *cmd)
{
	json_t *arr = json_array();
	if (arr == NULL || json_array_append(arr, cmd) != 0) {
		json_decref(arr);
		return NULL;
	}
	json_t *reply = admin_rr_json(b, arr);
	json_decref(arr);
	json_t *list = json_object_get(reply, "responses");
	json_t *one = NULL;
	if (json_is_array(list) && json_array_size(list) == 1)
		one = json_incref(json_array_get(list, 0));
	else
		warnf("admin reply is not one response");
	json_decref(reply);
	return one;
}

json_t *admin_ok(const broker_t *b, json_t *cmd)
{
	json_t *one = admin_cmd(b, cmd);
	json_t *data = json_object_get(one, "data");
	if (json_object_get(one, "error") != NULL || !json_is_object(data)) {
		char *text = one != NULL ? json_dumps(one, JSON_COMPACT) : NULL;
		warnf("admin command failed: %s", text != NULL ? text : "(no reply)");
		free(text);
		json_decref(one);
		return NULL;
	}
	json_incref(data);
	json_decref(one);
	return data;
}

char *admin_err(const broker_t *b, json_t *cmd)
{
	json_t *one = admin_cmd(b, cmd);
	const char *e = jstr(one, "error");
	char *copy = e != NULL ? strdup(e) : NULL;
	json_decref(one);
	return copy;
}

json_t *admin_cmd_by(const char *command, const char *field, const char *value)
{
	return json_pack("{ss ss}", "command", command, field, value);
}

json_t *admin_ok_take(const broker_t *b, json_t *cmd)
{
	json_t *data = cmd != NULL ? admin_ok(b, cmd) : NULL;
	json_decref(cmd);
	return data;
}

char *admin_err_take(const broker_t *b, json_t *cmd)
{
	char *e = cmd != NULL ? admin_err(b, cmd) : NULL;
	json_decref(cmd);
	return e;
}

json_t *admin_get_config(const broker_t *b, const char *field, const char *value)
{
	return admin_ok_take(b, admin_cmd_by("getConfig", field, value));
}

/* ---- configs ---------------------------------------------------------- */

char *channel_topic(const char *channel_id, const char *rest)
{
	size_t n = strlen(channel_id) + strlen(rest) + 32;
	char *t = malloc(n);
	if (t != NULL)
		snprintf(t, n, "channels/%s/messages/%s", channel_id, rest);
	return t;
}

const char *jstr(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static char *dup_member(const json_t *obj, const char *key)
{
	const char *s = jstr(obj, key);
	return s != NULL ? strdup(s) : NULL;
}

void boot_cfg_free(boot_cfg_t *cfg)
{
	free(cfg->channel_id);
	free(cfg->client_id);
	free(cfg->client_secret);
	free(cfg->external_id);
	free(cfg->external_key);
	memset(cfg, 0, sizeof *cfg);
}

static json_t *make_channel(const broker_t *b, const char *external_id)
{
	char name[IT_PATH_MAX];
	snprintf(name, sizeof name, "chan-%.400s", external_id);
	json_t *cmd = json_pack("{ss ss s{ss}}", "command", "createChannel",
			"name", name, "metadata", "site", "lab");
	json_t *ch = cmd != NULL ? admin_ok(b, cmd) : NULL;
	json_decref(cmd);
	if (jstr(ch, "id") == NULL) {
		json_decref(ch);
		return NULL;
	}
	return ch;
}

json_t *admin_create_config(const broker_t *b, const char *external_id, json_t *extra)
{
	json_t *cmd = json_pack("{ss ss}", "command", "createConfig",
			"external_id", external_id);

	if (cmd != NULL && extra != NULL && json_object_update(cmd, extra) != 0) {
		json_decref(cmd);
		return NULL;
	}
	return admin_ok_take(b, cmd);
}

static json_t *create_config(const broker_t *b, const char *external_id,
		json_t *channel, json_t *extra)
{
	json_t *fields = json_pack("{s[O]}", "channels", channel);
	json_t *data = NULL;

	if (fields != NULL && (extra == NULL || json_object_update(fields, extra) == 0))
		data = admin_create_config(b, external_id, fields);
	json_decref(fields);
	return data;
}

static int enable_config(const broker_t *b, const char *client_id)
{
	json_t *cmd = json_pack("{ss ss}", "command", "enableConfig",
			"client_id", client_id);
	json_t *data = cmd != NULL ? admin_ok(b, cmd) : NULL;
	json_decref(cmd);
	int rc = data != NULL ? 0 : -1;
	json_decref(data);
	return rc;
}

int make_config(const broker_t *b, const char *external_id, json_t *extra,
		bool enable, boot_cfg_t *out)
{
	memset(out, 0, sizeof *out);
	json_t *ch = make_channel(b, external_id);
	json_t *cfg = ch != NULL ? create_config(b, external_id, ch, extra) : NULL;
	int rc = -1;
	if (cfg == NULL)
		goto out;
	out->channel_id = dup_member(ch, "id");
	out->client_id = dup_member(cfg, "client_id");
	out->client_secret = dup_member(cfg, "client_secret");
	out->external_id = strdup(external_id);
	out->external_key = dup_member(cfg, "external_key");
	if (out->channel_id == NULL || out->client_id == NULL ||
			out->client_secret == NULL || out->external_id == NULL ||
			out->external_key == NULL) {
		warnf("createConfig reply lacks a field");
		goto out;
	}
	rc = enable ? enable_config(b, out->client_id) : 0;
out:
	if (rc != 0)
		boot_cfg_free(out);
	json_decref(ch);
	json_decref(cfg);
	return rc;
}

char *boot_request(const char *external_id, const char *external_key,
		const char *req_id)
{
	json_t *o = json_pack("{ss ss}", "external_id", external_id,
			"external_key", external_key);
	if (o != NULL && req_id != NULL &&
			json_object_set_new(o, "id", json_string(req_id)) != 0) {
		json_decref(o);
		return NULL;
	}
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

char *boot_channel_name(const broker_t *b, const boot_cfg_t *cfg)
{
	char *req = boot_request(cfg->external_id, cfg->external_key, "ch");
	it_msg_t *m = req != NULL ? device_rr(b, 5, NULL, req, (int)strlen(req), NULL) : NULL;
	json_t *r = msg_json(m);
	json_t *ch = json_array_get(json_object_get(r, "channels"), 0);
	const char *name = json_string_value(json_object_get(ch, "name"));
	char *copy = name != NULL ? strdup(name) : NULL;

	json_decref(r);
	msg_free(m);
	free(req);
	return copy;
}

int make_cert(const char *dir, const char *name, char **cert, char **key)
{
	char cpath[IT_PATH_MAX], kpath[IT_PATH_MAX], subj[128];
	*cert = *key = NULL;
	if (snprintf(cpath, sizeof cpath, "%s/%s.pem", dir, name) >= (int)sizeof cpath ||
			snprintf(kpath, sizeof kpath, "%s/%s.key", dir, name) >= (int)sizeof kpath)
		return -1;
	snprintf(subj, sizeof subj, "/CN=%s", name);
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", kpath, "-out", cpath, "-days", "2", "-subj", subj, NULL };
	if (run_quiet(argv) != 0) {
		warnf("cannot make a certificate");
		return -1;
	}
	*cert = read_file_text(cpath, NULL);
	*key = read_file_text(kpath, NULL);
	if (*cert == NULL || *key == NULL) {
		free(*cert);
		free(*key);
		*cert = *key = NULL;
		return -1;
	}
	return 0;
}

/* Reads the files cpath and kpath into those of cert and key not NULL. */
static int read_pair(const char *cpath, const char *kpath, char **cert, char **key)
{
	if (cert != NULL && (*cert = read_file_text(cpath, NULL)) == NULL)
		return -1;
	if (key != NULL && (*key = read_file_text(kpath, NULL)) == NULL) {
		if (cert != NULL) {
			free(*cert);
			*cert = NULL;
		}
		return -1;
	}
	return 0;
}

/*
 * openssl req for a new EC P-256 key and a certificate with subject CN=cn,
 * as <dir>/<name>.pem and .key; self-signed as a CA when ca is NULL, else
 * signed by <dir>/<ca>.pem and .key (req -CA: OpenSSL 3). "-config
 * /dev/null" keeps the system's openssl.cnf out, so that the extensions are
 * exactly those given here.
 */
static int openssl_req(const char *dir, const char *name, const char *cn,
		const char *ca, char **cert, char **key)
{
	char cpath[IT_PATH_MAX], kpath[IT_PATH_MAX], capem[IT_PATH_MAX],
		cakey[IT_PATH_MAX], subj[300];
	if (cert != NULL)
		*cert = NULL;
	if (key != NULL)
		*key = NULL;
	if (snprintf(cpath, sizeof cpath, "%s/%s.pem", dir, name) >= (int)sizeof cpath ||
			snprintf(kpath, sizeof kpath, "%s/%s.key", dir, name) >= (int)sizeof kpath ||
			snprintf(capem, sizeof capem, "%s/%s.pem", dir, ca ? ca : "") >= (int)sizeof capem ||
			snprintf(cakey, sizeof cakey, "%s/%s.key", dir, ca ? ca : "") >= (int)sizeof cakey ||
			snprintf(subj, sizeof subj, "/CN=%s", cn) >= (int)sizeof subj)
		return -1;
	/* A leaf also names 127.0.0.1, for the broker's own certificate. */
	char *constraints = ca == NULL ? "basicConstraints=critical,CA:TRUE"
		: "basicConstraints=critical,CA:FALSE";
	char *more = ca == NULL ? "keyUsage=critical,keyCertSign,cRLSign"
		: "subjectAltName=IP:127.0.0.1";
	char *argv[] = { "openssl", "req", "-config", "/dev/null", "-x509",
		"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", kpath, "-out", cpath, "-days", "2", "-subj", subj,
		"-addext", constraints, "-addext", more,
		ca != NULL ? "-CA" : NULL, capem, "-CAkey", cakey, NULL };
	if (run_quiet(argv) != 0) {
		warnf("openssl could not make the certificate %s", name);
		return -1;
	}
	return read_pair(cpath, kpath, cert, key);
}

int make_ca(const char *dir, const char *name)
{
	return openssl_req(dir, name, name, NULL, NULL, NULL);
}

int make_signed_cert(const char *dir, const char *ca, const char *name,
		const char *cn, char **cert, char **key)
{
	if (ca == NULL)
		return -1;
	return openssl_req(dir, name, cn, ca, cert, key);
}

char *unique_name(const char *prefix)
{
	static unsigned counter;
	size_t n = strlen(prefix) + 32;
	char *s = malloc(n);
	if (s != NULL)
		snprintf(s, n, "%s-%ld-%u", prefix, (long)getpid(), ++counter);
	return s;
}

/* ---- programs and ports ------------------------------------------------ */

int it_free_port(void)
{
	return free_port();
}

/* A new, already unlinked temporary file holding text: its descriptor. */
static int temp_fd(const char *text)
{
	char path[] = "/tmp/bs-it-io-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	size_t len = text != NULL ? strlen(text) : 0;
	if ((len > 0 && write(fd, text, len) != (ssize_t)len) ||
			lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Everything in fd from its start (malloc()ed), or NULL. */
static char *fd_text(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
	if (text == NULL || lseek(fd, 0, SEEK_SET) != 0 ||
			read(fd, text, (size_t)size) != (ssize_t)size) {
		free(text);
		return NULL;
	}
	text[size] = '\0';
	return text;
}

int run_capture(char *const argv[], const char *in, char **out, char **err)
{
	int fds[3] = { temp_fd(in), temp_fd(NULL), temp_fd(NULL) }, st = -1;
	pid_t pid = fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0 ? fork() : -1;

	if (pid == 0) {
		if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (out != NULL)
		*out = fds[1] >= 0 ? fd_text(fds[1]) : NULL;
	if (err != NULL)
		*err = fds[2] >= 0 ? fd_text(fds[2]) : NULL;
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	return pid > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *http_get(int port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int waited = 0; s < 0 && waited < 2000; waited += POLL_MS) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
			close(s);
			s = -1;
			sleep_ms(POLL_MS);
		}
	}
	if (s < 0)
		return NULL;
	char req[IT_PATH_MAX + 64];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	size_t cap = 4 << 20, used = 0;
	char *buf = n > 0 && (size_t)n < sizeof req ? malloc(cap + 1) : NULL;
	struct timeval tv = { .tv_sec = IT_WAIT_MS / 1000 + 1 };
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (buf != NULL && write(s, req, (size_t)n) == n) {
		ssize_t got;
		while (used < cap && (got = read(s, buf + used, cap - used)) > 0)
			used += (size_t)got;
	}
	close(s);
	if (buf != NULL)
		buf[used] = '\0';
	return buf;
}

const char *ctrl_bin(void)
{
	const char *v = getenv("IT_CTRL");
	return v != NULL ? v : "build/default/tools/mosquitto_bootstrap_ctrl";
}

#define CLIENT_CERT_LINES "require_certificate true\nuse_identity_as_username true\n"

int broker_add_cert_listener(broker_t *b, const char *cafile, int *port)
{
	char *conf = read_file_text(b->conf, NULL), *at;
	FILE *f;
	int rc = -1;

	if (conf == NULL || (at = strstr(conf, CLIENT_CERT_LINES)) == NULL
			|| (*port = it_free_port()) <= 0 || *port == b->tls_port) {
		free(conf);
		return -1;
	}
	*at = '\0';
	if ((f = fopen(b->conf, "w")) != NULL) {
		rc = fprintf(f, "%s\nlistener %d 127.0.0.1\ncafile %s\n"
				"certfile %s/server.pem\nkeyfile %s/server.key\n" CLIENT_CERT_LINES,
				conf, *port, cafile, b->dir, b->dir) < 0 ? -1 : 0;
		if (fclose(f) != 0)
			rc = -1;
	}
	free(conf);
	return rc;
}
