/*
 * The PostgreSQL backend (store_pg*.c): the function table of
 * lib/store_backend.h on libpq, opened by bs_pg_open, and what only this
 * backend has: its connection's state, reconnecting, and LISTEN/NOTIFY.
 *
 * One backend is one connection, to be used by one thread at a time (libpq
 * connections are not shared between threads); a second connection, for
 * a second thread or for listening, is a second bs_pg_open.
 *
 * db_url is a libpq connection string or URI
 * (postgresql://user:password@host:port/dbname?sslmode=verify-full...).
 * The backend adds fallback_application_name=mosquitto-bootstrap and a
 * connect_timeout, which the URL may override, and sets statement_timeout
 * on the session. Messages (err, b->errmsg) never hold the password, the
 * URL with it, nor a stored value.
 *
 * Its writes never notify: bs_pg_notify is there for the caller to say
 * what changed, inside the transaction that changed it.
 *
 * Where PostgreSQL makes it answer otherwise than SQLite:
 *   - a statement that fails (a timeout, a lost connection, a constraint
 *     the answers below do not cover) leaves the transaction aborted, not
 *     open as SQLite does: in_transaction stays 1, every statement after
 *     fails until rollback_savepoint (which repairs it) or rollback, and
 *     commit rolls back and fails. BS_ERR_CONFLICT and BS_ERR_NOT_FOUND
 *     are answered without such a failure, so that the caller can go on;
 *   - a write of several statements, and every write that changes the
 *     counts of config_states, runs in a transaction of its own when the
 *     caller has none open (SQLite runs each statement on its own);
 *   - a config's and a group's profile is a foreign key: naming a missing
 *     profile is BS_ERR_NOT_FOUND (and aborts the transaction);
 *   - config_touch keeps the latest time given, since brokers flush
 *     theirs in any order, and none for a config deleted meanwhile;
 *   - a savepoint outside a transaction begins one, as in SQLite.
 */
#ifndef BS_STORE_PG_H
#define BS_STORE_PG_H

#include "store_backend.h"

/* What a statement may take before the server cancels it: the broker has
 * one thread, and a lookup that waits on a lock must fail, not hang. */
#define BS_PG_STATEMENT_TIMEOUT_MS 5000
#define BS_PG_CONNECT_TIMEOUT_S 5
/* How long past the statement timeout the client waits for an answer
 * before it takes the server for gone and drops the connection. */
#define BS_PG_ANSWER_GRACE_MS 2000

typedef struct bs_pg_options {
	int statement_timeout_ms;   /* 0: none */
	int connect_timeout_s;      /* 0: libpq's (none); the URL's wins */
} bs_pg_options_t;

/* The defaults above. */
void bs_pg_options_init(bs_pg_options_t *opt);

/* bs_pg_open (lib/store_backend.h) with these options; opt NULL gives
 * the defaults. */
int bs_pg_open_with(const char *url, const bs_pg_options_t *opt,
		bs_backend_t **out, char *err, size_t errlen);

/* 1 while the connection is up. Reads what the server sent meanwhile
 * (without waiting), so that a connection the server closed shows as
 * down before the next statement fails on it. */
int bs_pg_connected(bs_backend_t *b);

/*
 * Connects again with the same parameters, then sets the session up and
 * prepares every statement again, and listens again on every channel
 * bs_pg_listen named. An open transaction is lost (in_transaction is 0
 * after). 0 or BS_ERR_INTERNAL.
 */
int bs_pg_reconnect(bs_backend_t *b);

/*
 * The same without waiting for the server, for the broker's thread: each
 * call takes the new connection as far as the server's answers so far
 * allow and returns at once. 1 while under way, BS_OK once connected
 * again, BS_ERR_INTERNAL when it failed or the server did not answer
 * within the connect timeout (the next call starts again). The name in
 * the URL is resolved when it starts, which may wait for DNS.
 */
int bs_pg_reconnect_step(bs_backend_t *b);
/* 1 while a bs_pg_reconnect_step is under way. */
int bs_pg_reconnecting(bs_backend_t *b);

/* The connection's socket, for poll() with POLLIN: readable when a
 * notification may have come. -1 when there is no connection. */
int bs_pg_socket(bs_backend_t *b);

/* LISTEN on channel (an identifier of up to 63 bytes, quoted here); kept
 * over bs_pg_reconnect. At most BS_PG_LISTEN_MAX channels. Outside a
 * transaction: inside one it would take effect at its commit only. */
#define BS_PG_LISTEN_MAX 8
int bs_pg_listen(bs_backend_t *b, const char *channel);

/* pg_notify(channel, payload): sent when the current transaction
 * commits, at once outside one. payload at most 7999 bytes. */
int bs_pg_notify(bs_backend_t *b, const char *channel, const char *payload);

/* Calls fn for each notification received, without waiting: own is 1 for
 * those this connection sent itself. The strings live for the call only.
 * Returns how many, or BS_ERR_INTERNAL when the connection is lost or
 * is being made again (bs_pg_reconnect_step), whose input is not read. */
typedef void (*bs_pg_notify_fn)(void *arg, const char *channel,
		const char *payload, int own);
int bs_pg_poll_notify(bs_backend_t *b, bs_pg_notify_fn fn, void *arg);

/*
 * The announcements kept in the database (schema/pg/003_changes.sql), for
 * a broker whose listening connection was down when they were sent.
 *
 * bs_pg_announce: payload kept as a row and sent as pg_notify(channel,
 * "#<seq>\n" payload), both at the current transaction's commit (at once
 * outside one); its seq into *seq (may be NULL). seq grows in the order
 * the announcements commit: the writer holds a lock from drawing it to
 * its commit, which a second writer waits for (bounded by the statement
 * timeout). payload at most 7978 bytes. Rows older than an hour go.
 */
int bs_pg_announce(bs_backend_t *b, const char *channel, const char *payload,
		long long *seq);
/* The highest seq kept, 0 for none. */
int bs_pg_changes_last(bs_backend_t *b, long long *seq);

/* How many times, in this process, the server closed a connection under a
 * statement (stopped, restarted): not a connection the client shut down
 * itself because the server did not answer in time (frozen). */
unsigned long bs_pg_losses(void);
/* fn for every row kept with a seq above after, in order of seq (a
 * statement a page of rows; the strings live for the call only). */
typedef void (*bs_pg_change_fn)(void *arg, long long seq, const char *payload);
int bs_pg_changes_since(bs_backend_t *b, long long after, bs_pg_change_fn fn, void *arg);

#endif
