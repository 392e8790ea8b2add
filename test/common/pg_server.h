/*
 * A throwaway PostgreSQL server for tests and benchmarks: initdb into a
 * fresh temporary directory, listening on 127.0.0.1 on a free port and on
 * a Unix socket in that directory, with pg_stat_statements loaded and
 * fsync off. PostgreSQL refuses to run as root, so as root the server runs
 * as the user nobody, the directory given to it.
 *
 * Stopping always cleans up: bs_pg_server_stop removes the directory, and
 * a watchdog process does the same (the server stopped at once) when the
 * test process exits without stopping it, by a crash or a signal too.
 *
 * The programs come from Debian's postgresql package
 * (/usr/lib/postgresql/<version>/bin, the newest found), or from
 * BS_PG_BINDIR when it is set.
 */
#ifndef PG_SERVER_H
#define PG_SERVER_H

#include <sys/types.h>

/* The role that logs in with a password (scram-sha-256) over TCP: every
 * other role is trusted. It does not exist until a test creates it. */
#define BS_PG_PASSWORD_ROLE "bs_pw"

typedef struct {
	char dir[64];           /* the temporary directory */
	char bindir[128];
	char user[32];          /* the superuser: "bs" */
	int port;
	/* postgresql://bs@127.0.0.1:PORT/postgres */
	char url[128];
	uid_t uid;              /* whom the server runs as */
	gid_t gid;
	int running;
	pid_t watchdog;
	int watch_fd;           /* its pipe: closed, the watchdog cleans up */
} bs_pg_server_t;

/* 0, or -1 with the reason on stderr (and nothing left behind). */
int bs_pg_server_start(bs_pg_server_t *s);
/* Stops the server and removes its directory; harmless twice. */
void bs_pg_server_stop(bs_pg_server_t *s);
/* Stops the server and starts it again on the same data and port: every
 * connection to it is cut. 0 or -1. */
int bs_pg_server_restart(bs_pg_server_t *s);
/* The server frozen (frozen 1: every one of its processes stopped, so
 * that it takes connections and never answers, as a server cut off
 * without a reset looks) or thawed (0). 0 or -1. */
int bs_pg_server_freeze(bs_pg_server_t *s, int frozen);
/* The two halves of a restart: the server stopped (its data and port
 * kept), and started again. 0 or -1. */
int bs_pg_server_pause(bs_pg_server_t *s);
int bs_pg_server_resume(bs_pg_server_t *s);

/*
 * Creates database name (fresh, from template0) and writes its URL into
 * url. icu_locale, when not NULL, makes it a database whose default
 * collation is that ICU locale ("en-US"), so that a test can show that
 * what the store orders does not follow the database's collation. 0 or -1.
 */
int bs_pg_server_createdb(bs_pg_server_t *s, const char *name,
		const char *icu_locale, char *url, size_t urllen);

/* Runs one SQL command as the superuser on database db ("postgres" when
 * NULL); 0 or -1 with libpq's message on stderr. */
int bs_pg_server_exec(bs_pg_server_t *s, const char *db, const char *sql);

#endif
