/* A TCP proxy that delays what the client sends (pg_delay.h). */
#define _GNU_SOURCE             /* accept4, pipe2: no descriptor leaks into
                                   the brokers the test process starts */
#include "pg_delay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 16384

/* Bytes read from the client, due upstream at due_ms. */
typedef struct chunk {
	long long due_ms;
	size_t len;
	struct chunk *next;
	char data[];
} chunk_t;

typedef struct link {
	bs_pg_delay_t *proxy;
	int client, upstream;
	bool client_done;           /* the client closed: send what is held, end */
	chunk_t *head, *tail;
	pthread_t thread;
	struct link *next;
} link_t;

struct bs_pg_delay {
	int listen_fd, port;
	int stop[2];                /* a pipe: readable once stopping */
	struct sockaddr_in upstream;
	atomic_int delay_ms;
	pthread_t acceptor;
	link_t *links;              /* the acceptor's, then stop's once joined */
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void no_delay(int fd)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* ---- one connection --------------------------------------------------- */

/* Reads a chunk from the client and queues it, due after the delay and
 * never before the chunk ahead of it. -1 when the client is gone. */
static int hold(link_t *l)
{
	char buf[CHUNK];
	ssize_t n = recv(l->client, buf, sizeof buf, 0);
	chunk_t *c;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0 || (c = malloc(sizeof *c + (size_t)n)) == NULL)
		return -1;
	memcpy(c->data, buf, (size_t)n);
	c->len = (size_t)n;
	c->next = NULL;
	c->due_ms = now_ms() + atomic_load(&l->proxy->delay_ms);
	if (l->tail != NULL && c->due_ms < l->tail->due_ms)
		c->due_ms = l->tail->due_ms;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	return 0;
}

/* Sends upstream every chunk that is due. -1 when upstream is gone. */
static int release(link_t *l)
{
	long long now = now_ms();

	while (l->head != NULL && l->head->due_ms <= now) {
		chunk_t *c = l->head;
		int rc = send_all(l->upstream, c->data, c->len);
		l->head = c->next;
		if (l->head == NULL)
			l->tail = NULL;
		free(c);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Passes what the server sent straight to the client. */
static int pass_back(link_t *l)
{
	char buf[CHUNK];
	ssize_t n = recv(l->upstream, buf, sizeof buf, 0);

	if (n < 0 && errno == EINTR)
		return 0;
	return n > 0 ? send_all(l->client, buf, (size_t)n) : -1;
}

static int wait_ms(const link_t *l)
{
	long long left;

	if (l->head == NULL)
		return -1;
	left = l->head->due_ms - now_ms();
	return left < 0 ? 0 : (int)left;
}

static void *link_run(void *arg)
{
	link_t *l = arg;
	int rc = 0;

	while (rc == 0 && !(l->client_done && l->head == NULL)) {
		struct pollfd fds[3] = {
			{ .fd = l->proxy->stop[0], .events = POLLIN },
			{ .fd = l->upstream, .events = POLLIN },
			{ .fd = l->client_done ? -1 : l->client, .events = POLLIN },
		};
		if (poll(fds, 3, wait_ms(l)) < 0 && errno != EINTR)
			break;
		if (fds[0].revents != 0)
			break;
		if (fds[1].revents != 0)
			rc = pass_back(l);
		if (rc == 0 && fds[2].revents != 0 && hold(l) != 0)
			l->client_done = true;
		if (rc == 0)
			rc = release(l);
	}
	close(l->client);
	close(l->upstream);
	while (l->head != NULL) {
		chunk_t *c = l->head;
		l->head = c->next;
		free(c);
	}
	return NULL;
}

/* ---- the listener ----------------------------------------------------- */

static int connect_upstream(const bs_pg_delay_t *p)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)&p->upstream,
				sizeof p->upstream) == 0) {
		no_delay(fd);
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Joins client to a new upstream connection on a thread of its own. */
static void add_link(bs_pg_delay_t *p, int client)
{
	link_t *l = calloc(1, sizeof *l);

	if (l == NULL || (l->upstream = connect_upstream(p)) < 0) {
		fprintf(stderr, "pg_delay: no upstream connection: %s\n", strerror(errno));
		free(l);
		close(client);
		return;
	}
	no_delay(client);
	l->proxy = p;
	l->client = client;
	if (pthread_create(&l->thread, NULL, link_run, l) != 0) {
		close(l->upstream);
		close(client);
		free(l);
		return;
	}
	l->next = p->links;
	p->links = l;
}

static void *accept_run(void *arg)
{
	bs_pg_delay_t *p = arg;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = p->stop[0], .events = POLLIN },
			{ .fd = p->listen_fd, .events = POLLIN },
		};
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if (fds[0].revents != 0)
			return NULL;
		if (fds[1].revents != 0) {
			int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				add_link(p, fd);
		}
	}
}

static int listen_loopback(bs_pg_delay_t *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) != 0
			|| listen(p->listen_fd, 64) != 0
			|| getsockname(p->listen_fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	p->port = ntohs(a.sin_port);
	return 0;
}

int bs_pg_delay_start(const char *host, int port, bs_pg_delay_t **out)
{
	bs_pg_delay_t *p = calloc(1, sizeof *p);

	*out = NULL;
	if (p == NULL)
		return -1;
	p->listen_fd = p->stop[0] = p->stop[1] = -1;
	atomic_init(&p->delay_ms, 0);
	p->upstream.sin_family = AF_INET;
	p->upstream.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &p->upstream.sin_addr) != 1 || pipe2(p->stop, O_CLOEXEC) != 0
			|| listen_loopback(p) != 0
			|| pthread_create(&p->acceptor, NULL, accept_run, p) != 0) {
		fprintf(stderr, "pg_delay: cannot start a proxy to %s:%d: %s\n", host, port,
				strerror(errno));
		if (p->listen_fd >= 0)
			close(p->listen_fd);
		if (p->stop[0] >= 0) {
			close(p->stop[0]);
			close(p->stop[1]);
		}
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

int bs_pg_delay_port(const bs_pg_delay_t *p)
{
	return p->port;
}

void bs_pg_delay_set(bs_pg_delay_t *p, int ms)
{
	atomic_store(&p->delay_ms, ms < 0 ? 0 : ms);
}

void bs_pg_delay_stop(bs_pg_delay_t *p)
{
	if (p == NULL)
		return;
	/* Never read: every thread's poll sees it from now on. */
	while (write(p->stop[1], "x", 1) < 0 && errno == EINTR)
		;
	pthread_join(p->acceptor, NULL);
	while (p->links != NULL) {
		link_t *l = p->links;
		p->links = l->next;
		pthread_join(l->thread, NULL);
		free(l);
	}
	close(p->listen_fd);
	close(p->stop[0]);
	close(p->stop[1]);
	free(p);
}
