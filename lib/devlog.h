/*
 * Device log lines (protocol section 8): with log_bootstraps failures (the
 * default) one notice line per failed device request, with all one per
 * request:
 *   device external_id=<id> client=<client id> address=<address> result=<code>
 * Values from clients have control characters, spaces and backslashes
 * escaped (\xNN), so a line cannot be forged; never a key or a secret. At
 * most BS_DEVLOG_PER_SECOND lines are written each second; the rest are
 * counted and reported in one line, "device: <n> lines suppressed", when
 * the second is over. A store error met by a device request or a login
 * is one of those lines too (at error level, whatever the option): under
 * a fleet's retries a store that is down would otherwise write a line per
 * request.
 */
#ifndef BS_DEVLOG_H
#define BS_DEVLOG_H

#include <time.h>

#define BS_DEVLOG_PER_SECOND 100

struct bs_core;

typedef struct bs_devlog {
	time_t second;            /* the second being counted */
	unsigned written;         /* lines written in it */
	unsigned suppressed;      /* lines not written in it */
} bs_devlog_t;

/* Logs one device request's outcome (BS_OK or a bs_err_t), as the option
 * says; external_id, client_id and address may be NULL. */
void bs_devlog_request(struct bs_core *core, const char *external_id,
		const char *client_id, const char *address, int result, time_t now);

/* Logs text, a store error that a device request or a login met, at
 * error level, if the second now has room for one more line. */
void bs_devlog_error(struct bs_core *core, const char *text, time_t now);

/* Reports the lines suppressed in a second that is over; the plugin calls
 * it on its tick. */
void bs_devlog_tick(struct bs_core *core, time_t now);

#endif
