/*
 * connect-anon and connect-boot: a connect storm. For the measured time,
 * connections are opened as fast as the broker takes them, `connections`
 * of them in progress at once: each sends CONNECT (MQTT v5, clean start),
 * waits for its CONNACK, sends DISCONNECT and waits for the broker to
 * close the socket; its slot then at once opens the next one. connect-anon
 * connects without a username, connect-boot as a random seeded config
 * (its client_id and client_secret). A CONNACK that is not success is an
 * error, and so is a connection that ends before its CONNACK.
 *
 * Raw sockets, not libmosquitto: a client object made and freed for each
 * connection, and a name lookup for each connect, would cost this side
 * about as much as the broker's work being measured. The packets are a few
 * bytes each. The broker closes first, so the TIME_WAIT sockets are on its
 * side, and this side's ports are free again at once.
 *
 * Time line as in load.c: warm-up, measured window (CONNACKs counted, and
 * the time from connect() to CONNACK as latency), then a drain.
 */
#include "bench.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_NS (5 * NS_PER_S)
#define SCAN_EVERY_NS (100 * NS_PER_MS)
#define KEEPALIVE_S 60
#define PACKET_MAX 256

enum { ST_FREE, ST_CONNECTING, ST_CONNACK, ST_CLOSING };

typedef struct {
	int fd;
	int state;
	uint64_t started_ns;        /* connect() called */
	uint64_t deadline_ns;       /* of the current state */
	unsigned char buf[PACKET_MAX];
	size_t len;
} conn_slot_t;

typedef struct {
	int kind;
	size_t ndevices;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	conn_slot_t *slots;
	struct pollfd *pfds;
	int *owner;                 /* pfds[i] belongs to slots[owner[i]] */
	int nslots;
	int active;
	uint64_t rng;
	uint64_t measure_start, measure_end;
	bool issuing;
	bool told;                  /* one error explained on stderr is enough */
	bool failed;
	bench_lat_t *lat;
	bench_phase_t *out;
} storm_t;

/* Client ids grow across phases and runs of the storm: never a takeover. */
static unsigned long long next_client;

static int resolve(storm_t *st, const char *host, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char service[16];
	int rc;

	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(st->addr)) {
		fprintf(stderr, "bench: %s: %s\n", host, rc != 0 ? gai_strerror(rc) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(&st->addr, res->ai_addr, res->ai_addrlen);
	st->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void tell(storm_t *st, const char *what)
{
	if (st->told)
		return;
	st->told = true;
	fprintf(stderr, "bench: %s: %s (further errors only counted)\n",
			phase_name(st->kind), what);
}

static size_t put_string(unsigned char *p, const char *s)
{
	size_t len = strlen(s);

	p[0] = (unsigned char)(len >> 8);
	p[1] = (unsigned char)(len & 0xff);
	memcpy(p + 2, s, len);
	return len + 2;
}

/* CONNECT, v5, clean start, no properties; with the login of a random
 * seeded config for connect-boot. Fits: the id and login are short. */
static size_t build_connect(storm_t *st, unsigned char *out)
{
	static const unsigned char head[] = { 0, 4, 'M', 'Q', 'T', 'T', 5 };
	bool login = st->kind == PHASE_CONN_BOOT;
	unsigned char body[PACKET_MAX - 4];
	char id[48];
	size_t n = sizeof(head), h = 1, rem;
	bench_login_t who;

	memcpy(body, head, sizeof(head));
	body[n++] = 0x02 | (login ? 0xC0 : 0);  /* clean start; username, password */
	body[n++] = 0;
	body[n++] = KEEPALIVE_S;
	body[n++] = 0;                          /* properties: none */
	snprintf(id, sizeof(id), "bench-storm-%llu", ++next_client);
	n += put_string(body + n, id);
	if (login) {
		admin_login((size_t)(bench_rand(&st->rng) % st->ndevices), &who);
		n += put_string(body + n, who.user);
		n += put_string(body + n, who.password);
	}
	out[0] = 0x10;
	for (rem = n; rem >= 128; rem /= 128)
		out[h++] = (unsigned char)(rem % 128) | 0x80;
	out[h++] = (unsigned char)rem;
	memcpy(out + h, body, n);
	return h + n;
}

static void slot_close(storm_t *st, conn_slot_t *sl)
{
	close(sl->fd);
	sl->fd = -1;
	sl->state = ST_FREE;
	st->active--;
}

/* The TCP connection is up: CONNECT goes out whole into an empty buffer. */
static void send_connect(storm_t *st, conn_slot_t *sl)
{
	unsigned char pkt[PACKET_MAX];
	size_t len = build_connect(st, pkt);
	ssize_t w = send(sl->fd, pkt, len, MSG_NOSIGNAL);

	if (w != (ssize_t)len) {
		tell(st, w < 0 ? strerror(errno) : "CONNECT written in part");
		st->out->bad++;
		slot_close(st, sl);
		return;
	}
	sl->state = ST_CONNACK;
}

/* A connect() that fails means no broker to storm: the phase fails. */
static void slot_open(storm_t *st, conn_slot_t *sl)
{
	int one = 1;

	sl->fd = socket(st->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sl->fd < 0) {
		fprintf(stderr, "bench: socket: %s\n", strerror(errno));
		st->failed = true;
		return;
	}
	/* One small packet each way: Nagle would only add its delay. */
	(void)setsockopt(sl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sl->started_ns = bench_now_ns();
	sl->deadline_ns = sl->started_ns + TIMEOUT_NS;
	sl->len = 0;
	sl->state = ST_CONNECTING;
	st->active++;
	st->out->sent++;
	if (connect(sl->fd, (struct sockaddr *)&st->addr, st->addrlen) == 0) {
		send_connect(st, sl);
	} else if (errno != EINPROGRESS) {
		fprintf(stderr, "bench: %s: connect: %s\n", phase_name(st->kind), strerror(errno));
		st->failed = true;
		slot_close(st, sl);
	}
}

static void on_writable(storm_t *st, conn_slot_t *sl)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(sl->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		fprintf(stderr, "bench: %s: connect: %s\n", phase_name(st->kind), strerror(err));
		st->failed = true;
		slot_close(st, sl);
		return;
	}
	send_connect(st, sl);
}

/* 1 with *reason when the buffer holds a whole CONNACK, 0 when it needs
 * more bytes, -1 when it is not a CONNACK. */
static int parse_connack(const conn_slot_t *sl, int *reason)
{
	size_t rem = 0, i = 1;
	unsigned shift = 0;

	if (sl->len >= 1 && sl->buf[0] != 0x20)
		return -1;
	for (;;) {
		if (i >= sl->len)
			return 0;
		rem |= (size_t)(sl->buf[i] & 0x7f) << shift;
		if ((sl->buf[i++] & 0x80) == 0)
			break;
		shift += 7;
		if (shift > 21)
			return -1;
	}
	/* Flags and reason code, then properties we need not read. */
	if (rem < 2 || i + rem > sizeof(sl->buf))
		return -1;
	if (sl->len < i + rem)
		return 0;
	*reason = sl->buf[i + 1];
	return 1;
}

static void book_connack(storm_t *st, conn_slot_t *sl, int reason)
{
	static const unsigned char disconnect[] = { 0xE0, 0x00 };
	uint64_t now = bench_now_ns();
	char what[64];

	sl->state = ST_CLOSING;
	sl->deadline_ns = now + TIMEOUT_NS;
	if (reason != 0) {
		/* The broker closes a refused connection itself. */
		snprintf(what, sizeof(what), "CONNACK reason 0x%02x", reason);
		tell(st, what);
		st->out->bad++;
		return;
	}
	st->out->ok++;
	if (now >= st->measure_start && now < st->measure_end) {
		st->out->requests++;
		lat_add(st->lat, now - sl->started_ns);
	}
	if (send(sl->fd, disconnect, sizeof(disconnect), MSG_NOSIGNAL) != sizeof(disconnect)) {
		tell(st, "DISCONNECT not sent");
		st->out->bad++;
		slot_close(st, sl);
	}
}

static void on_readable(storm_t *st, conn_slot_t *sl)
{
	ssize_t r;
	int reason = 0, rc;

	if (sl->state == ST_CLOSING) {
		/* Only the end of the stream is awaited; anything else is dropped. */
		r = recv(sl->fd, sl->buf, sizeof(sl->buf), 0);
		if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR)))
			slot_close(st, sl);
		return;
	}
	r = recv(sl->fd, sl->buf + sl->len, sizeof(sl->buf) - sl->len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		tell(st, r == 0 ? "closed before CONNACK" : strerror(errno));
		st->out->bad++;
		slot_close(st, sl);
		return;
	}
	sl->len += (size_t)r;
	rc = parse_connack(sl, &reason);
	if (rc < 0) {
		tell(st, "not a CONNACK");
		st->out->bad++;
		slot_close(st, sl);
	} else if (rc > 0) {
		book_connack(st, sl, reason);
	}
}

static void refill(storm_t *st)
{
	if (!st->issuing)
		return;
	for (int i = 0; i < st->nslots && !st->failed; i++)
		if (st->slots[i].state == ST_FREE)
			slot_open(st, &st->slots[i]);
}

/* Gives up connections past their state's deadline: lost when no CONNACK
 * came, an error when the broker kept one open after DISCONNECT. */
static void expire(storm_t *st, uint64_t now)
{
	for (int i = 0; i < st->nslots; i++) {
		conn_slot_t *sl = &st->slots[i];

		if (sl->state == ST_FREE || now < sl->deadline_ns)
			continue;
		if (sl->state == ST_CLOSING) {
			tell(st, "not closed after DISCONNECT");
			st->out->bad++;
		} else {
			st->out->lost++;
		}
		slot_close(st, sl);
	}
}

static int step(storm_t *st, int timeout_ms)
{
	int n = 0, rc;

	for (int i = 0; i < st->nslots; i++) {
		conn_slot_t *sl = &st->slots[i];

		if (sl->state == ST_FREE)
			continue;
		st->pfds[n] = (struct pollfd){ .fd = sl->fd,
			.events = sl->state == ST_CONNECTING ? POLLOUT : POLLIN };
		st->owner[n++] = i;
	}
	rc = poll(st->pfds, (nfds_t)n, timeout_ms);
	if (rc < 0) {
		if (errno == EINTR)
			return 0;
		fprintf(stderr, "bench: poll: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n && rc > 0; i++) {
		conn_slot_t *sl = &st->slots[st->owner[i]];
		short ev = st->pfds[i].revents;

		if (ev == 0 || st->failed)
			continue;
		if (sl->state == ST_CONNECTING)
			on_writable(st, sl);
		else
			on_readable(st, sl);
	}
	return 0;
}

static int drive(storm_t *st, uint64_t warmup_ns, double seconds)
{
	uint64_t start = bench_now_ns(), last_scan = start;

	st->measure_start = start + warmup_ns;
	st->measure_end = st->measure_start + (uint64_t)(seconds * (double)NS_PER_S);
	st->issuing = true;
	while (!st->failed && !bench_stop) {
		uint64_t now = bench_now_ns();

		if (now >= st->measure_end)
			st->issuing = false;
		if (now - last_scan >= SCAN_EVERY_NS) {
			last_scan = now;
			expire(st, now);
		}
		refill(st);
		if (!st->issuing && st->active == 0)
			break;
		if (step(st, 5) != 0)
			st->failed = true;
	}
	return st->failed || bench_stop ? -1 : 0;
}

static void close_all(storm_t *st)
{
	for (int i = 0; i < st->nslots; i++)
		if (st->slots[i].state != ST_FREE)
			slot_close(st, &st->slots[i]);
}

int storm_slice(const bench_opts_t *o, int kind, size_t n, const bench_slice_t *sl,
		bench_lat_t *lat, bench_phase_t *out)
{
	storm_t st = { .kind = kind, .ndevices = n, .nslots = o->connections,
		.rng = 0x9E3779B97F4A7C15ULL + (uint64_t)kind + ((uint64_t)sl->index << 8),
		.lat = lat, .out = out };
	int rc = -1;

	if (sl->index == 0) {
		memset(out, 0, sizeof(*out));
		lat_reset(lat);
	}
	if (kind == PHASE_CONN_BOOT && n == 0) {
		fprintf(stderr, "bench: no configs to log in as\n");
		return -1;
	}
	if (resolve(&st, o->host, o->port) != 0)
		return -1;
	st.slots = calloc((size_t)st.nslots, sizeof(*st.slots));
	st.pfds = calloc((size_t)st.nslots, sizeof(*st.pfds));
	st.owner = calloc((size_t)st.nslots, sizeof(*st.owner));
	if (st.slots != NULL && st.pfds != NULL && st.owner != NULL) {
		for (int i = 0; i < st.nslots; i++)
			st.slots[i].fd = -1;
		rc = drive(&st, sl->warmup_ns, sl->seconds);
		close_all(&st);
	} else {
		fprintf(stderr, "bench: out of memory for connection slots\n");
	}
	if (rc == 0)
		phase_add_time(out, lat, sl->seconds);
	else
		out->ran = false;
	free(st.slots);
	free(st.pfds);
	free(st.owner);
	return rc;
}
