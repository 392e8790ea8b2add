/*
 * A slow network to PostgreSQL, for tests: a TCP proxy running as threads
 * inside the test process. It listens on 127.0.0.1 on a free port and
 * joins each connection it accepts to a new one to the upstream host and
 * port (the test server, test/common/pg_server.h), forwarding bytes both
 * ways. Each chunk read from the client is held for the delay in force
 * when it was read before it goes upstream (in order, never overtaking
 * the chunk before it); the server's bytes go back at once. So every
 * round trip through the proxy costs at least the delay.
 *
 * One thread accepts; each connection has a thread of its own. The delay
 * may be changed at any time from any thread.
 */
#ifndef PG_DELAY_H
#define PG_DELAY_H

typedef struct bs_pg_delay bs_pg_delay_t;

/* Starts a proxy to host:port (host a dotted IPv4 address) with no delay.
 * 0 with *out set, or -1 with the reason on stderr. */
int bs_pg_delay_start(const char *host, int port, bs_pg_delay_t **out);

/* The loopback port the proxy listens on. */
int bs_pg_delay_port(const bs_pg_delay_t *p);

/* The delay for the chunks read from now on, in milliseconds (0: none). */
void bs_pg_delay_set(bs_pg_delay_t *p, int ms);

/* Closes the listener and every connection, joins every thread, frees p.
 * NULL is fine. */
void bs_pg_delay_stop(bs_pg_delay_t *p);

#endif
