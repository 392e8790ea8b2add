/*
 * mosquitto_bootstrap_ctrl: the admin tool of the bootstrap plugin
 * (PROTOCOL.md section 9). Like the device client it stands alone, on
 * libmosquitto, libcrypto and Jansson: it speaks the admin protocol of
 * section 4 over MQTT v5 and knows nothing of the plugin's store.
 *
 *   ctrl.c         options (and -o files), the password prompt, main
 *   ctrl_cmds.c    the command table: each admin command and its flags
 *   ctrl_out.c     what a command's data looks like as text or JSON
 *   ctrl_mqtt.c    one connection; batches out, responses back by their
 *                  Correlation Data, several in flight
 *   ctrl_import.c  import from CSV, export as JSON lines
 */
#ifndef CTRL_H
#define CTRL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CTRL_NAME "mosquitto_bootstrap_ctrl"
#define CTRL_TOPIC "$CONTROL/bootstrap/v1"

/* Exit statuses (section 9). */
enum {
	CTRL_OK = 0,
	CTRL_ECMD = 1,      /* a command answered an error (or import: any line) */
	CTRL_EUSAGE = 2,    /* bad usage, or a file named on the command line */
	CTRL_ECONN = 3,     /* no connection, refused login, or no answer in -W */
};

typedef struct {
	const char *host;
	int port;
	const char *username;
	char *password;             /* malloc()ed; cleansed before it is freed */
	const char *client_id;
	const char *cafile, *capath, *certfile, *keyfile;
	bool insecure;
	int timeout;                /* -W: seconds for the connection, and for
	                               each answer */
	bool json;
} ctrl_opts_t;

/* "CTRL_NAME: what[: arg]" and the --help hint on stderr: CTRL_EUSAGE. */
int ctrl_usage_error(const char *what, const char *arg);

/* ---- ctrl_mqtt.c ------------------------------------------------------ */

typedef struct ctrl_conn ctrl_conn_t;

/* Most batches in flight at once (import). */
#define CTRL_WINDOW 4

/*
 * Connects as o says, within o->timeout seconds: CTRL_OK with *out set, or
 * CTRL_ECONN (CTRL_EUSAGE for TLS files that cannot be used), the reason on
 * stderr.
 */
int ctrl_mqtt_open(const ctrl_opts_t *o, ctrl_conn_t **out);

/*
 * Publishes payload to CTRL_TOPIC at QoS 1 with this run's Response Topic
 * and Correlation Data naming tag; at most CTRL_WINDOW unanswered at once.
 * CTRL_OK or CTRL_ECONN.
 */
int ctrl_mqtt_send(ctrl_conn_t *c, const char *payload, size_t len, unsigned tag);

/*
 * Waits at most -W seconds for the answer to any batch in flight: CTRL_OK
 * with *tag and *responses (its "responses" array, new reference) set, or
 * CTRL_ECONN (timeout, refused publish, lost connection, or an answer that
 * is not the protocol's), the reason on stderr.
 */
int ctrl_mqtt_wait(ctrl_conn_t *c, unsigned *tag, json_t **responses);

/* One batch of commands (borrowed), sent and answered. */
int ctrl_mqtt_ask(ctrl_conn_t *c, const json_t *commands, json_t **responses);

/* How many batches are unanswered. */
size_t ctrl_mqtt_in_flight(const ctrl_conn_t *c);

void ctrl_mqtt_close(ctrl_conn_t *c);

/* ---- ctrl_cmds.c ------------------------------------------------------ */

/* Runs argv[0] (a command name) with its arguments: an exit status. */
int ctrl_cmd_run(const ctrl_opts_t *o, int argc, char **argv);

/* The synopsis of every command, for --help. */
void ctrl_cmd_usage(FILE *f);

/*
 * The error of one response: CTRL_OK when it has none, else CTRL_ECMD with
 * "CTRL_NAME: <command>: <code>: <message>" on stderr.
 */
int ctrl_cmd_error(const json_t *response);

/* A UUID v4 into out (37 bytes): 0, or -1 without randomness. */
int ctrl_uuid(char out[37]);

/* The whole of a file named on the command line (malloc()ed, NUL-
 * terminated, at most max bytes, no NUL inside); NULL with the reason on
 * stderr. */
char *ctrl_read_file(const char *path, size_t max, size_t *len);

/* Creates path for writing, 0600, refusing one that exists: a FILE, or
 * NULL with the reason on stderr. */
FILE *ctrl_create_file(const char *path);

/* ---- ctrl_out.c ------------------------------------------------------- */

typedef enum {
	SHOW_FIELDS,        /* one object as "key: value" lines */
	SHOW_NOTHING,       /* {}: success says nothing */
	SHOW_CHANNELS,      /* {"channels": [...], "total", ...} as a table */
	SHOW_CONFIGS,       /* {"configs": [...], ...} as a table */
	SHOW_PROFILES,      /* {"profiles": [...], ...} as a table */
	SHOW_GROUPS,        /* {"groups": [...], ...} as a table */
	SHOW_UNKNOWN,       /* {"unknown": [...], ...} as a table */
} ctrl_show_t;

/* data as show says, or as indented JSON with json: CTRL_OK, or
 * CTRL_ECMD when stdout cannot be written. */
int ctrl_out_show(const json_t *data, ctrl_show_t show, bool json);

/* s with control characters (but newlines when keep_nl) replaced by '?'
 * (malloc()ed), for text from the broker that goes to a terminal. */
char *ctrl_printable(const char *s, bool keep_nl);

/* ---- ctrl_import.c ---------------------------------------------------- */

int ctrl_import(const ctrl_opts_t *o, int argc, char **argv);
int ctrl_export(const ctrl_opts_t *o, int argc, char **argv);

#endif
