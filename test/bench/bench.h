/*
 * Load generator for the broker with the plugin: shared declarations.
 *
 * One process, one thread. The broker (ours or an existing one) is driven
 * through libmosquitto clients multiplexed with poll() in loop.c; the phases
 * (admin import in admin.c, ping, bootstrap and publish in load.c, the
 * connect storm in storm.c, idle memory in idle.c, the lockout attack in
 * attack.c) only react to messages and to the clock. The soak (soak/) runs
 * on the same engine, broker and import. Functions returning int give 0 on
 * success and -1 on failure, after writing a short reason to stderr.
 */
#ifndef BENCH_H
#define BENCH_H

#include <mosquitto.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL
#define BENCH_WARMUP_NS NS_PER_S    /* before a phase's measured time */
#define BENCH_PATH_MAX 512

/* Set by SIGINT/SIGTERM; every loop checks it and unwinds. */
extern volatile sig_atomic_t bench_stop;

/* proc.c: SIGINT and SIGTERM set bench_stop, SIGPIPE is ignored. */
int bench_install_signals(void);
/* Room for `clients` libmosquitto clients, here and in a broker we start. */
int bench_raise_nofile(int clients);
/* path made absolute in place (it must fit len). */
int bench_resolve(char *path, size_t len, const char *what);

uint64_t bench_now_ns(void);
/* xorshift64*: deterministic, so two runs ask for the same devices. */
uint64_t bench_rand(uint64_t *state);

/* ---- options ---------------------------------------------------------- */

typedef struct {
	bool own_broker;            /* false with --host */
	char host[256];
	int port;
	char admin_user[128];
	char admin_password[128];
	char plugin[BENCH_PATH_MAX];
	char floor_plugin[BENCH_PATH_MAX]; /* "": no floor phase */
	size_t *configs;            /* the N values, in the order given */
	size_t nconfigs;
	int connections;
	int inflight;
	int idle;                   /* connections held for idle memory; 0: none */
	double seconds;             /* measured part of each load phase */
	const char *json_path;      /* NULL: no JSON */
	char *cmdline;              /* argv joined, for the report */
} bench_opts_t;

/* ---- broker.c: our own broker process --------------------------------- */

typedef struct {
	char dir[BENCH_PATH_MAX];   /* "" until created */
	char conf[BENCH_PATH_MAX];
	char log[BENCH_PATH_MAX];
	char plugin[BENCH_PATH_MAX];
	char floor_plugin[BENCH_PATH_MAX]; /* "": none */
	char db_url[256];           /* "": SQLite in dir; else the plugin's db_url */
	int max_failures;           /* the plugin's lockout, from the next start; 0: off */
	int lockout_seconds;
	int port;
	pid_t pid;                  /* 0 when not running */
	long log_offset;            /* log size when the broker was last started */
} bench_broker_t;

/* floor_plugin: "" for none. */
int broker_setup(bench_broker_t *b, const char *plugin, const char *floor_plugin,
		const char *user, const char *password);
int broker_start(bench_broker_t *b);
int broker_stop(bench_broker_t *b);
/* Removes the plugin's database so the next start begins empty. */
int broker_reset_db(bench_broker_t *b);
/* VmRSS in KiB, or -1. */
long broker_rss_kib(const bench_broker_t *b);
/* RssAnon in KiB (the heap, without mapped files), or -1. */
long broker_rss_anon_kib(const bench_broker_t *b);
/* VmHWM, the peak VmRSS, in KiB, or -1; broker_reset_hwm sets it back to
 * the current VmRSS. */
long broker_hwm_kib(const bench_broker_t *b);
int broker_reset_hwm(const bench_broker_t *b);
/* The plugin's "started in X ms" from the last start; -1 when absent. */
double broker_start_ms(const bench_broker_t *b);
void broker_cleanup(bench_broker_t *b);

/* ---- stats.c: latency samples ----------------------------------------- */

/*
 * A bounded reservoir: the first cap samples are kept, later ones replace
 * a random kept one, so percentiles stay unbiased however long the phase.
 */
typedef struct {
	uint64_t *ns;
	size_t cap;
	size_t len;
	uint64_t seen;
	uint64_t max;
	uint64_t rng;
	bool sorted;
} bench_lat_t;

int lat_init(bench_lat_t *l, size_t cap);
void lat_reset(bench_lat_t *l);
void lat_add(bench_lat_t *l, uint64_t ns);
/* p in [0, 1]; 0 when empty. */
uint64_t lat_percentile(bench_lat_t *l, double p);
void lat_free(bench_lat_t *l);

/* ---- reply.c: reading a device reply --------------------------------- */

typedef struct {
	const char *p;              /* a string's content, or the raw value */
	size_t len;
	char kind;                  /* 0 absent, '"' string, '[' array, '{' object,
	                               'l' true, false, null or a number */
} bench_span_t;

/* Scans a flat JSON object; vals[i] gets the member named keys[i]. -1 when
 * it is not an object, is malformed or names one member twice. */
int reply_scan(const void *json, size_t len, const char *const *keys,
		bench_span_t *vals, size_t n);
/* Whether v is a string equal to want, compared raw. */
bool span_is(const bench_span_t *v, const char *want);

/* ---- loop.c: the connection engine ------------------------------------ */

typedef struct bench_conn bench_conn_t;
typedef struct bench_engine bench_engine_t;

typedef void (*bench_msg_fn)(void *ctx, bench_conn_t *c,
		const struct mosquitto_message *msg, const mosquitto_property *props);

struct bench_conn {
	struct mosquitto *mosq;
	bench_engine_t *eng;
	int index;
	char topic[64];             /* its own topic, to publish and subscribe */
	bool connected;
	bool subscribed;
	bool closing;
	bool failed;
};

struct bench_engine {
	bench_conn_t *conns;
	int n;
	struct pollfd *pfds;
	bench_msg_fn on_msg;        /* the running phase's handler */
	void *ctx;
	bool subscribe;             /* subscribe each connection to its topic */
	uint64_t last_misc;
	bench_engine_t *side;       /* stepped with this one (engine_attach); NULL: none */
};

/* One client's username and password. */
typedef struct {
	char user[64];
	char password[64];
} bench_login_t;

typedef void (*bench_login_fn)(void *arg, int index, bench_login_t *out);

typedef struct {
	const char *host;
	int port;
	const char *user;           /* NULL: anonymous */
	const char *password;
	bench_login_fn login;       /* when set, each connection's own login */
	void *login_arg;
	const char *id_prefix;      /* client ids are <prefix><index> */
	const char *topic_prefix;   /* topics are <prefix><index>; NULL: bench/ping/ */
	const char *bind;           /* local address to connect from; NULL: any */
	bool subscribe;             /* to its topic */
} bench_engine_cfg_t;

int engine_open(bench_engine_t *e, int n, const bench_engine_cfg_t *cfg);
/* One poll() round of at most timeout_ms, over e's connections and those of
 * the engine attached to it; -1 when a connection failed. */
int engine_step(bench_engine_t *e, int timeout_ms);
/* Until engine_detach, engine_step(e) steps side too, each connection
 * calling its own engine's on_msg: a second set of clients beside the one
 * a phase drives, on the same thread. side must not be closed before. */
int engine_attach(bench_engine_t *e, bench_engine_t *side);
void engine_detach(bench_engine_t *e);
void engine_close(bench_engine_t *e);

/* ---- results ---------------------------------------------------------- */

/* floor: the same requests answered by the yardstick plugin
 * (floor/floor_plugin.c), which does no work of its own: the broker's cost
 * of a request answered by a plugin. Only with our own broker. */
/* publish-*: ping on a fresh set of connections, anonymous on bench/pub/<i>
 * or logged in as bootstrapped clients on their channel; connect-*: a
 * connect storm (storm.c), its requests being successful CONNACKs. */
/* lockout-alone, lockout-attack: bootstrap with right keys on a broker with
 * the lockout on, alone and beside an attacker (attack.c). */
/* unknown-alone, unknown-flood: the same, lockout off, alone and beside a
 * flood of external IDs that no config has (flood.c). */
enum {
	PHASE_PING, PHASE_FLOOR, PHASE_BOOT, PHASE_BOOT_BAD,
	PHASE_PUB_ANON, PHASE_PUB_BOOT, PHASE_CONN_ANON, PHASE_CONN_BOOT,
	PHASE_LOCK_ALONE, PHASE_LOCK_ATTACK,
	PHASE_UNK_ALONE, PHASE_UNK_FLOOD,
	PHASE_COUNT
};

typedef struct {
	bool ran;
	uint64_t requests;          /* replies received in the measured window */
	double seconds;
	double rps;
	double p50_us, p99_us, max_us;
	uint64_t sent;              /* requests sent, warm-up and drain included */
	uint64_t ok;                /* correct success replies */
	uint64_t refused;           /* correct "unauthorized" replies (bad keys) */
	uint64_t bad;               /* wrong, unparseable or unexpected replies */
	uint64_t lost;              /* no reply within the timeout */
	uint64_t late;              /* a reply after its request was given up */
} bench_phase_t;

/* The attacker of the lockout phase, and what it could not do. */
typedef struct {
	bool ran;
	int connections;
	int max_failures;           /* the broker's, for that phase */
	uint64_t sent;
	uint64_t replies;           /* while attacking */
	double seconds;             /* attacking */
	double rps;
	uint64_t rate_limited;      /* replies by error code */
	uint64_t unauthorized;
	uint64_t other;             /* any other reply: a bug */
	uint64_t lost;              /* no reply after the attack stopped */
	bool probe_during;          /* the attacked ID bootstrapped from 127.0.0.1 */
	bool probe_after;
} bench_lockout_t;

/* The flooder of the unknown-ID phases. */
typedef struct {
	bool ran;
	int connections;
	uint64_t sent;
	uint64_t replies;           /* while flooding */
	double seconds;
	double rps;
	uint64_t unauthorized;
	uint64_t other;             /* any other reply: a bug */
	uint64_t lost;
	long rss_full_kib;          /* the broker's VmRSS once the table was full */
	long rss_after_kib;         /* and after the pair */
} bench_flood_t;

/* The plugin's default max_unknown, which the bench's broker keeps. */
#define BENCH_MAX_UNKNOWN 10000

typedef struct {
	size_t n;
	/* The broker's resident memory (VmRSS) with an empty database and
	 * after the bootstrap phases, and its private part (RssAnon: without
	 * the database's pages mapped from the page cache); -1: unknown. */
	long rss_before_kib;
	long rss_after_kib;
	long anon_before_kib;
	long anon_after_kib;
	double start_ms;            /* -1: unknown */
	double import_rate;         /* configs/s; 0 when not run */
	double import_seconds;
	size_t import_batches;
	uint64_t import_errors;
	uint64_t import_existing;   /* conflicts tolerated on an existing broker */
	bench_phase_t phase[PHASE_COUNT];
	int idle;                   /* idle connections measured; 0: not run */
	long idle_base_kib;         /* RssAnon before them */
	long idle_anon_kib;         /* with `idle` anonymous ones */
	long idle_boot_kib;         /* with as many bootstrapped ones instead */
	bench_lockout_t lockout;
	bench_flood_t flood;
} bench_result_t;

/* ---- admin.c, load.c, storm.c, idle.c: the phases ---------------------- */

/* A phase's measured time may come in slices that alternate with another
 * phase's (bench.c): slice 0 resets the figures, later ones add to them. */
typedef struct {
	int index;
	uint64_t warmup_ns;
	double seconds;
} bench_slice_t;

/* Books a slice's measured seconds: the rate and the percentiles so far. */
void phase_add_time(bench_phase_t *p, bench_lat_t *lat, double seconds);

/* Runs slice s of phase kind, the pair's phase `which` (0 or 1). */
typedef int (*bench_slice_fn)(const bench_opts_t *o, size_t n, void *arg, int which,
		int kind, const bench_slice_t *s, bench_lat_t *lat, bench_phase_t *out);
/* Phases first and first + 1, o->seconds each, in alternating slices
 * (bench.c); lat[which] holds each one's latencies. */
int bench_pair(const bench_opts_t *o, size_t n, int first, bench_slice_fn fn,
		void *arg, bench_lat_t lat[2], bench_result_t *r);

/* The channel every seeded config is on, and its message topics. */
#define BENCH_CHANNEL "bench"
#define BENCH_CHANNEL_TOPIC "channels/" BENCH_CHANNEL "/messages/"

int admin_import(const bench_opts_t *o, size_t n, bench_result_t *r);
/* The login of seeded config `device`: its client_id and client_secret. */
void admin_login(size_t device, bench_login_t *out);

/* For bench_engine_cfg_t.login, with a bench_spread_t as its arg: client
 * first + i of count logs in as one of the n seeded configs, spread evenly. */
typedef struct {
	size_t count;
	size_t n;
	size_t first;
} bench_spread_t;

void admin_spread_login(void *arg, int index, bench_login_t *out);
int load_phase(bench_engine_t *e, const bench_opts_t *o, int kind, size_t n,
		bench_lat_t *lat, bench_phase_t *out);
int load_slice(bench_engine_t *e, const bench_opts_t *o, int kind, size_t n,
		const bench_slice_t *s, bench_lat_t *lat, bench_phase_t *out);
int storm_slice(const bench_opts_t *o, int kind, size_t n, const bench_slice_t *s,
		bench_lat_t *lat, bench_phase_t *out);
/* Idle connections, anonymous then bootstrapped: fills r->idle*. Restarts
 * our broker first. */
int idle_memory(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_result_t *r);
/* The lockout phases and r->lockout; restarts our broker with the lockout
 * on, and leaves it on for this start only. */
int attack_phases(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_lat_t lat[2], bench_result_t *r);
/* The unknown-ID phases and r->flood: first BENCH_MAX_UNKNOWN new IDs
 * fill the table, then the pair runs. */
int flood_phases(const bench_opts_t *o, bench_broker_t *b, size_t n,
		bench_lat_t lat[2], bench_result_t *r);
/* Whether every flood request was answered unauthorized. */
bool flood_contained(const bench_flood_t *f);
/* Whether the attacker was locked out after max_failures wrong keys, and
 * the attacked ID only from the attacker's address. */
bool attack_contained(const bench_lockout_t *l);

/* ---- report.c --------------------------------------------------------- */

const char *phase_name(int kind);
void report_header(const bench_opts_t *o);
void report_table(const bench_opts_t *o, const bench_result_t *r, size_t nr);
int report_json(const bench_opts_t *o, const bench_result_t *r, size_t nr);

#endif
