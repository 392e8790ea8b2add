/*
 * The broker connection that both tools open, driven from the calling
 * thread with mosquitto_loop so that every wait ends at a deadline. A
 * tool's connection struct starts with a tool_link_t: libmosquitto's
 * callback object is then both, and the tool adds its own publish and
 * message callbacks.
 */
#ifndef TOOL_LINK_H
#define TOOL_LINK_H

#include <mosquitto.h>
#include <stdbool.h>

/* The tools' common exit codes. */
enum { TOOL_OK = 0, TOOL_EUSAGE = 2, TOOL_ECONN = 3 };

typedef struct tool_broker {
	const char *name;           /* the program, for messages */
	const char *host;
	int port;
	int version;                /* 4 (MQTT 3.1.1) or 5 */
	const char *username, *password, *client_id;
	const char *cafile, *capath, *certfile, *keyfile;
	bool insecure;
	int timeout;                /* seconds: -W, for messages */
} tool_broker_t;

typedef struct tool_link {
	struct mosquitto *mosq;
	tool_broker_t b;
	int connack;                /* -1 until the CONNACK */
	bool gone;                  /* the connection ended */
	char log_err[256];          /* libmosquitto's last error line */
} tool_link_t;

long long tool_now_ms(void);

/* strtol of all of s into *out when it lies in lo..hi: 0, else -1. */
int tool_parse_int(const char *s, long lo, long hi, int *out);

/*
 * Makes l's client for b, with obj (whose first member is l) as its
 * callback object, and connects within deadline (tool_now_ms time):
 * TOOL_OK, TOOL_ECONN, or TOOL_EUSAGE for TLS files that cannot be used;
 * the reason on stderr.
 */
int tool_link_open(tool_link_t *l, const tool_broker_t *b, void *obj,
		long long deadline);

/* Runs the network until done(obj) holds: 0, or -1 when deadline passed
 * (*timed_out set) or the connection failed (the reason on stderr). */
int tool_link_pump(tool_link_t *l, long long deadline,
		bool (*done)(const void *obj), const void *obj, bool *timed_out);

/* Disconnects cleanly (the DISCONNECT goes out, so that the broker logs a
 * clean end) and frees the client; l itself is the caller's. */
void tool_link_close(tool_link_t *l);

/* Why libmosquitto failed with rc: its own log line says more (which TLS
 * check failed, say) than its error code. */
const char *tool_link_why(const tool_link_t *l, int rc);

#endif
