/*
 * The leak scan that runs under every integration test (protocol section
 * 2: nothing secret is stored or logged in clear, no reply reaches another
 * client). The harness feeds it every message its clients receive; from
 * them it learns each secret the run made (external keys, client secrets,
 * private keys, as the replies that own them show them once). Beside each
 * broker an anonymous spy client subscribed to "#" and "$CONTROL/#",
 * where the ACL lets it, records everything the broker publishes to subscribers. When a
 * broker is cleaned up, no secret learnt so far may appear in the broker's
 * logs, in the bytes of its database files (database, WAL, shared memory,
 * journal) or in anything the spy received; each finding is printed and
 * counted, and the test binary fails (cu_run adds leak_failures()).
 */
#ifndef IT_LEAKSCAN_H
#define IT_LEAKSCAN_H

#include "harness.h"

/* Learns the secrets in a received payload (JSON or not: ignored). */
void leak_learn(const char *payload, int len);

/* Starts the spy on b (silently none when the broker refuses it). */
void leak_spy_start(broker_t *b);

/* Stops b's spy, keeping what it received for leak_check. */
void leak_spy_stop(broker_t *b);

/* Scans b's logs, database files and spy messages, and frees the spy's
 * record: the number of places holding a secret (each named on stderr). */
int leak_scan(broker_t *b);

/* leak_scan, its findings added to leak_failures(). */
void leak_check(broker_t *b);

/* The number of leaks found so far in this process. */
int leak_failures(void);

#endif
