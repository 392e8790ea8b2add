/*
 * Integration test harness: a real mosquitto broker running the plugin in a
 * private temporary directory on a free loopback port, and small synchronous
 * MQTT clients (libmosquitto, driven from the calling thread) to talk to it.
 *
 * Conventions: functions returning int give 0 on success and -1 on failure
 * (a short reason goes to stderr); every wait is bounded; nothing listens or
 * connects anywhere but 127.0.0.1. Tests run from the repository root.
 *
 * The store: a SQLite file in the broker's directory, or, when the
 * environment says BS_TEST_BACKEND=postgresql, a fresh database for each
 * broker on one PostgreSQL the test process starts at its first broker and
 * stops at its exit (test/common/store_db.h); a restart of a broker keeps
 * its database as it keeps its file.
 */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define IT_PATH_MAX 512
/* The longest wait for any one reply: 3 s, or the environment's IT_WAIT_MS
 * (slower builds: the sanitizers, valgrind). */
int it_wait_ms(void);
#define IT_WAIT_MS it_wait_ms()
#define IT_QUIET_MS 700         /* how long "nothing arrives" is watched */

/* Flags for broker_start_flags / broker_start_fail. */
#define BROKER_NO_PLUGIN_OPTS 0x1   /* write no default plugin_opt_* lines */
#define BROKER_NO_CONF 0x2          /* broker_prepare: the directory and port
                                       only; the test writes b->conf (and any
                                       password file) before broker_launch */
/*
 * Also a TLS listener on tls_port (after extra_conf in the configuration)
 * that requires a client certificate signed by the test CA "ca" made in the
 * directory (ca.pem, ca.key) and takes its CN as the username
 * (use_identity_as_username); the broker's own certificate is "server".
 */
#define BROKER_TLS 0x4

typedef struct {
	char dir[IT_PATH_MAX];      /* the temporary directory */
	char conf[IT_PATH_MAX];     /* dir/mosquitto.conf */
	int port;                   /* the plain listener */
	int tls_port;               /* the TLS listener (BROKER_TLS), else 0 */
	pid_t pid;                  /* 0 when not running */
	struct leak_spy *spy;       /* leakscan.h */
	char db_url[256];           /* its database on PostgreSQL, else "" */
} broker_t;

/*
 * extra_conf is appended to the configuration; "@DIR@" in it stands for the
 * broker's temporary directory, "@STORE@" for the line naming its store
 * (plugin_opt_db_path @DIR@/bootstrap.db, or plugin_opt_db_url and its
 * database on PostgreSQL: for BROKER_NO_PLUGIN_OPTS). A plugin_opt_<name>
 * line in extra_conf replaces the default line for the same option; a
 * db_path or db_url line there replaces the store (SQLite or PostgreSQL
 * as the line says).
 */
int broker_start(broker_t *b, const char *extra_conf);
int broker_start_flags(broker_t *b, const char *extra_conf, unsigned flags);

/*
 * Prepares the directory, port, password file and configuration without
 * starting anything, so a test can place files first; broker_launch starts.
 */
int broker_prepare(broker_t *b, const char *extra_conf, unsigned flags);
int broker_launch(broker_t *b);

/* Prepares b with extra_conf and the master key of the broker peer (each
 * broker on one shared store has its own copy of one key file), without
 * starting it. */
int broker_prepare_peer(broker_t *b, const char *extra_conf, const broker_t *peer);

/* Prepares, writes acl as the file "acl" in the directory (for an
 * acl_file @DIR@/acl line in extra_conf), then launches. */
int broker_start_acl(broker_t *b, const char *extra_conf, unsigned flags,
		const char *acl);

/*
 * 0 when the broker exits non-zero within a few seconds (it is killed when
 * it keeps running). The directory stays for broker_log_contains.
 */
int broker_start_fail(broker_t *b, const char *extra_conf, unsigned flags);
int broker_launch_fail(broker_t *b);

int broker_stop(broker_t *b);           /* SIGTERM, then wait */
int broker_kill9(broker_t *b);          /* SIGKILL, then wait */
int broker_restart(broker_t *b);        /* stop if running, start again */
bool broker_alive(broker_t *b);
void broker_cleanup(broker_t *b);       /* stop, remove the directory */

/* True when the broker log or its stdout/stderr contains text. */
bool broker_log_contains(const broker_t *b, const char *text);

/* The plugin's absolute path into out: IT_PLUGIN (relative to the
 * repository root, or absolute) or plugin/mosquitto_bootstrap.so. */
int broker_plugin(char *out, size_t outlen);

/* A loopback port where something accepts connections and never answers:
 * the listening socket (close it when done), its port in *port; -1 on
 * failure. */
int silent_listener(int *port);

/* The reference device client to run: IT_DEVICE, or the default build's. */
const char *device_bin(void);

/* The line that names b's store ("@STORE@" above), for a test that writes
 * its own configuration; its database is made on first use. 0 or -1. */
int broker_store_conf(broker_t *b, char *out, size_t outlen);

/* True when the tests run on PostgreSQL (BS_TEST_BACKEND=postgresql). */
bool it_on_pg(void);

/* For a test of SQLite alone, called first: on PostgreSQL the test is
 * skipped (cu_skip, why printed) and true returned. */
bool it_sqlite_only(const char *why);

/* b->dir + "/" + name into out. */
int broker_path(const broker_t *b, const char *name, char *out, size_t outlen);

/*
 * In a prepared broker's configuration: the TLS listener (b->tls_port)
 * loses its client-certificate requirement, so that a device needs only
 * the CA, and a second TLS listener on a free port (*port) requires a
 * certificate signed by cafile and makes its CN the username. 0 or -1.
 */
int broker_add_cert_listener(broker_t *b, const char *cafile, int *port);

/* Writes the lines every test broker starts with (running as root, no
 * persistence, logging to dir/mosquitto.log, the plain listener, anonymous
 * clients allowed), for a test that writes its own configuration. */
int broker_conf_base(FILE *f, const broker_t *b);

/* Runs argv (searched in PATH) quietly; returns its exit status or -1. */
int run_quiet(char *const argv[]);

/* Reads a whole file, NUL-terminated; NULL on failure. */
char *read_file_text(const char *path, size_t *len);

/* Creates or truncates path and writes text into it. */
int write_file_text(const char *path, const char *text);

/* ---- clients ---------------------------------------------------------- */

typedef struct it_msg {
	char *topic;
	char *payload;              /* NUL-terminated copy */
	int len;
	void *corr;                 /* Correlation Data property, or NULL */
	int corr_len;
	char *resp_topic;           /* Response Topic property, or NULL */
	int qos;
	bool retain;
	struct it_msg *next;
} it_msg_t;

typedef struct client client_t;

/* Version is 4 (MQTT 3.1.1) or 5; id, user, pass may be NULL. */
client_t *client_connect(const broker_t *b, int version, const char *id,
		const char *user, const char *pass);

/*
 * The same over TLS to b->tls_port, presenting the certificate and key in
 * the files certfile and keyfile and checking the broker's against b's test
 * CA. NULL unless the CONNACK is success; *connack (may be NULL) gets its
 * code, -1 when none came (the TLS handshake failed, for one).
 */
client_t *client_connect_tls(const broker_t *b, int version, const char *id,
		const char *certfile, const char *keyfile, int *connack);
/* An anonymous client connecting from the loopback address bind (such as
 * 127.0.0.2), so that the broker sees another client address. */
client_t *client_connect_from(const broker_t *b, int version, const char *bind);
void client_close(client_t *c);

/* Connects and disconnects at once: the CONNACK reason code (0 when let
 * in; 5 or 0x86/0x87 when refused), -1 when none came. */
int client_connack(const broker_t *b, int version, const char *user,
		const char *pass);

/* client_connack, again every 20 ms for up to ms, until it lets the client
 * in (let_in true) or refuses it (false): the milliseconds that took, or
 * -1 when it never did. For a login on a broker that learns of a change
 * made through another one. */
double client_connack_within(const broker_t *b, int version, const char *user,
		const char *pass, bool let_in, int ms);

/* The granted QoS or the SUBACK failure code (>= 0x80); -1 on timeout. */
int client_subscribe(client_t *c, const char *filter, int qos);

typedef struct {
	int qos;
	bool retain;
	const char *resp_topic;     /* v5 only */
	const void *corr;           /* v5 only */
	int corr_len;
} pub_opts_t;

/*
 * Publishes and waits until it is sent (QoS 0) or acknowledged (QoS 1).
 * Returns the PUBACK reason code (0 for QoS 0 and for MQTT 3.1.1), -1 on
 * failure. o may be NULL (QoS 0, no properties).
 */
int client_publish(client_t *c, const char *topic, const void *payload,
		int len, const pub_opts_t *o);

/* The next message, waiting at most timeout_ms; NULL when none came. */
it_msg_t *client_wait(client_t *c, int timeout_ms);

/*
 * Subscribes to filter at QoS 1, publishes a QoS 1 message to topic and
 * waits for it to come back: 0 when it did; -1 when the subscription or the
 * publish was refused or nothing came (the reason goes to stderr).
 */
int client_echo(client_t *c, const char *filter, const char *topic);

/* True when no message arrives within ms. */
bool client_expect_none(client_t *c, int ms);

/* True when the broker ends the connection within ms. */
bool client_wait_gone(client_t *c, int ms);

void msg_free(it_msg_t *m);

/* The payload parsed as JSON (new reference), NULL when it is not. */
json_t *msg_json(const it_msg_t *m);

/* ---- device and admin round trips ------------------------------------- */

/*
 * One bootstrap request from a fresh anonymous client: publishes payload to
 * bootstrap/req with o, optionally after subscribing to sub, and returns the
 * first message that comes back (NULL when none came in time).
 */
it_msg_t *device_rr(const broker_t *b, int version, const char *sub,
		const char *payload, int len, const pub_opts_t *o);

/*
 * Sends {"commands": <commands>} as admin and returns the parsed reply
 * object ({"responses": [...]}), or NULL. commands is borrowed.
 */
json_t *admin_rr_json(const broker_t *b, json_t *commands);

/* admin_rr_json, waiting up to wait_ms for the reply (a long batch). */
json_t *admin_rr_json_within(const broker_t *b, json_t *commands, int wait_ms);

/* admin_rr_json with commands given as the JSON text of the array's
 * elements. */
json_t *admin_rr(const broker_t *b, const char *commands_text);

/* Sends payload as it is; returns the parsed reply object, or NULL. */
json_t *admin_rr_raw(const broker_t *b, const char *payload);

/* The same from client id (NULL: a generated one) as user (NULL:
 * anonymous), over MQTT 3.1.1; silent when no reply comes. */
json_t *admin_rr_as(const broker_t *b, const char *id, const char *user,
		const char *pass, const char *payload);

/*
 * MQTT v5: sends payload with Response Topic resp_topic and Correlation
 * Data corr, without subscribing to anything; returns the reply message.
 */
it_msg_t *admin_rr_v5(const broker_t *b, const char *payload,
		const char *resp_topic, const void *corr, int corr_len);

/*
 * One command (borrowed) in its own batch: returns the single response
 * object (new reference), or NULL when the reply was not one response.
 */
json_t *admin_cmd(const broker_t *b, json_t *cmd);

/* The "data" object of one successful command (new reference), or NULL. */
json_t *admin_ok(const broker_t *b, json_t *cmd);

/* The "error" code of a failed command (malloc()ed), or NULL. */
char *admin_err(const broker_t *b, json_t *cmd);

/* {"command": command, field: value} (new reference). */
json_t *admin_cmd_by(const char *command, const char *field, const char *value);

/* admin_ok and admin_err on a command they take (stolen; NULL gives NULL). */
json_t *admin_ok_take(const broker_t *b, json_t *cmd);
char *admin_err_take(const broker_t *b, json_t *cmd);

/* createConfig for external_id with the fields of extra (borrowed, may be
 * NULL) added: its data, or NULL. */
json_t *admin_create_config(const broker_t *b, const char *external_id, json_t *extra);

/* getConfig by field (client_id or external_id): its data, or NULL. */
json_t *admin_get_config(const broker_t *b, const char *field, const char *value);

/* ---- configs ---------------------------------------------------------- */

typedef struct {
	char *channel_id;
	char *client_id;
	char *client_secret;
	char *external_id;
	char *external_key;
} boot_cfg_t;

/*
 * Creates a channel and a config for external_id on it, with the fields of
 * extra (borrowed, may be NULL) added, then enables it when enable is set.
 */
int make_config(const broker_t *b, const char *external_id, json_t *extra,
		bool enable, boot_cfg_t *out);
void boot_cfg_free(boot_cfg_t *cfg);

/* A request payload for these credentials, with id req_id (may be NULL). */
char *boot_request(const char *external_id, const char *external_key,
		const char *req_id);
/* The name of the first channel in cfg's bootstrap reply through b
 * (malloc()ed), or NULL. */
char *boot_channel_name(const broker_t *b, const boot_cfg_t *cfg);

/* A self-signed EC certificate and its key, made in dir as <name>.pem. */
int make_cert(const char *dir, const char *name, char **cert, char **key);

/* A test CA made in dir: <name>.pem (self-signed, CA:TRUE) and <name>.key. */
int make_ca(const char *dir, const char *name);

/*
 * A certificate for cn signed by the CA <ca>.pem/<ca>.key in dir, made there
 * as <name>.pem and <name>.key with a new EC P-256 key on each call. It also
 * names IP 127.0.0.1, so that it can serve as a broker's certificate. cert
 * and key, when not NULL, get the PEM texts (malloc()ed).
 */
int make_signed_cert(const char *dir, const char *ca, const char *name,
		const char *cn, char **cert, char **key);

/* channels/<channel_id>/messages/<rest>, the default channel_topic
 * (malloc()ed). */
char *channel_topic(const char *channel_id, const char *rest);

/* String member or NULL. */
const char *jstr(const json_t *obj, const char *key);

/* A name unique within this process run: prefix-<pid>-<n>. */
char *unique_name(const char *prefix);

/* ---- programs and ports ------------------------------------------------ */

/* A loopback TCP port that nothing listens on now, or -1. */
int it_free_port(void);

/*
 * Runs argv (argv[0] a path, or a name searched in PATH) with in (may be
 * NULL: nothing) as its stdin, and gives what it wrote to stdout and stderr
 * in *out and *err (malloc()ed, NUL-terminated; either pointer may be NULL
 * to discard). Its exit status, or -1 when it could not run or did not exit.
 */
int run_capture(char *const argv[], const char *in, char **out, char **err);

/*
 * The whole answer, headers and body, to "GET path HTTP/1.0" on
 * 127.0.0.1:port (malloc()ed, NUL-terminated), or NULL. The listener is
 * given two seconds to open: a websockets listener may come up after the
 * port broker_launch waited for.
 */
char *http_get(int port, const char *path);

/* ---- the admin tool -------------------------------------------------- */

/* The admin tool to run: IT_CTRL, or the default build's. */
const char *ctrl_bin(void);

#endif
