/* Running the backend's statements: parameters, results, errors. */
#include "store_pg_int.h"

#include "error.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

void bs_pg_params_init(bs_pg_params_t *p)
{
	p->n = 0;
}

static void add(bs_pg_params_t *p, const char *v, int len, int format)
{
	if (p->n >= BS_PG_MAX_PARAMS)
		abort();        /* a statement table out of step with its caller */
	p->values[p->n] = v;
	p->lengths[p->n] = len;
	p->formats[p->n] = format;
	p->n++;
}

void bs_pg_param_text(bs_pg_params_t *p, const char *v)
{
	add(p, v, 0, 0);
}

void bs_pg_param_int(bs_pg_params_t *p, long long v)
{
	char *slot = p->ints[p->n < BS_PG_MAX_PARAMS ? p->n : 0];

	snprintf(slot, sizeof(p->ints[0]), "%lld", v);
	add(p, slot, 0, 0);
}

void bs_pg_param_bool(bs_pg_params_t *p, int v)
{
	add(p, v ? "t" : "f", 0, 0);
}

void bs_pg_param_blob(bs_pg_params_t *p, const bs_blob_t *v)
{
	if (v == NULL || v->data == NULL)
		add(p, NULL, 0, 1);
	else
		add(p, (const char *)v->data, (int)v->len, 1);
}

void bs_pg_param_limit(bs_pg_params_t *p, long v)
{
	if (v < 0)
		bs_pg_param_text(p, NULL);
	else
		bs_pg_param_int(p, v);
}

/* msg with every occurrence of h as "***", cut to size. */
static void redact_one(char *msg, size_t size, const char *h)
{
	size_t hlen = strlen(h), at = 0;
	char out[512];
	const char *from = msg, *hit;

	while ((hit = strstr(from, h)) != NULL && at < sizeof(out)) {
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%.*s***",
				(int)(hit - from), from);
		from = hit + hlen;
	}
	if (from == msg)
		return;
	if (at < sizeof(out))
		snprintf(out + at, sizeof(out) - at, "%s", from);
	snprintf(msg, size, "%s", out);
}

void bs_pg_redact(const bs_pg_t *pg, char *msg, size_t size)
{
	for (int i = 0; i < 3; i++)
		if (pg->hide[i] != NULL && pg->hide[i][0] != '\0')
			redact_one(msg, size, pg->hide[i]);
}

/* One line: libpq's messages end with a newline and may hold several. */
static void one_line(char *s)
{
	for (char *c = s; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	for (size_t n = strlen(s); n > 0 && s[n - 1] == ' '; n--)
		s[n - 1] = '\0';
}

int bs_pg_fail(bs_pg_t *pg, const char *what, const char *reason)
{
	char *m = pg->base.errmsg;

	if (reason == NULL)
		reason = pg->conn ? PQerrorMessage(pg->conn) : "no connection";
	snprintf(m, sizeof(pg->base.errmsg), "%s: %s", what, reason);
	one_line(m);
	bs_pg_redact(pg, m, sizeof(pg->base.errmsg));
	return BS_ERR_INTERNAL;
}

/*
 * The server's primary message and SQLSTATE only: its DETAIL names the
 * values of a violated key, and a message keeps no stored value.
 */
static int result_fail(bs_pg_t *pg, const PGresult *r, const char *what)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	char reason[200];

	if (state != NULL && strcmp(state, "23505") == 0)
		return BS_ERR_CONFLICT;
	if (state != NULL && strcmp(state, "23503") == 0)
		return BS_ERR_NOT_FOUND;
	if (primary == NULL)
		return bs_pg_fail(pg, what, NULL);
	snprintf(reason, sizeof(reason), "%s (%s)", primary, state ? state : "no SQLSTATE");
	return bs_pg_fail(pg, what, reason);
}

void bs_pg_stmt_name(enum pg_stmt id, char out[8])
{
	snprintf(out, 8, "s%d", (int)id);
}

long long bs_pg_mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* 1 once the connection's socket is readable, 0 at the deadline (none
 * when the connection has no statement timeout), -1 on a poll failure. */
static int readable(bs_pg_t *pg, long long deadline)
{
	struct pollfd fd = { .fd = PQsocket(pg->conn), .events = POLLIN };
	int n;

	do {
		long long left = deadline - bs_pg_mono_ms();
		if (pg->opt.statement_timeout_ms <= 0)
			left = -1;
		else if (left < 0)
			left = 0;
		n = poll(&fd, 1, left > INT_MAX ? INT_MAX : (int)left);
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * The result of the statement just sent. The server's statement timeout
 * bounds what it works on, not a server that stops answering (frozen, or
 * cut off with no reset), which would hold the caller, the broker's thread
 * among them, until TCP gives up minutes later. So the client waits the
 * server's timeout and BS_PG_ANSWER_GRACE_MS more, then shuts the
 * connection down: the statement fails now, and the next revive connects
 * again. 1 in *late when that happened.
 */
static PGresult *result_within(bs_pg_t *pg, int *late)
{
	long long deadline = bs_pg_mono_ms() + pg->opt.statement_timeout_ms + BS_PG_ANSWER_GRACE_MS;
	PGresult *r, *last = NULL;

	*late = 0;
	while (PQisBusy(pg->conn)) {
		if (readable(pg, deadline) == 0) {
			*late = 1;
			shutdown(PQsocket(pg->conn), SHUT_RDWR);
		}
		if (!PQconsumeInput(pg->conn))
			break;
	}
	while ((r = PQgetResult(pg->conn)) != NULL) {
		PQclear(last);
		last = r;
	}
	return last;
}

static int send_stmt(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p)
{
	char name[8];

	if (bs_pg_sql[id].unprepared)
		return PQsendQueryParams(pg->conn, bs_pg_sql[id].sql, p->n, NULL, p->values,
				p->lengths, p->formats, 1);
	bs_pg_stmt_name(id, name);
	return PQsendQueryPrepared(pg->conn, name, p->n, p->values, p->lengths,
			p->formats, 1);
}

/* Connections the server closed under a statement, in this process. */
static atomic_ulong losses;

int bs_pg_run(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p,
		PGresult **res, const char *what)
{
	static const bs_pg_params_t none = { .n = 0 };
	PGresult *r = NULL;
	int rc, late = 0;

	*res = NULL;
	if (p == NULL)
		p = &none;
	if (pg->conn == NULL)
		return bs_pg_fail(pg, what, "no connection");
	if (send_stmt(pg, id, p))
		r = result_within(pg, &late);
	if (late) {
		PQclear(r);
		return bs_pg_fail(pg, what, "no answer from the server in time; "
				"the connection is dropped");
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) {
		*res = r;
		return BS_OK;
	}
	rc = r != NULL ? result_fail(pg, r, what) : bs_pg_fail(pg, what, NULL);
	PQclear(r);
	/* The server closed it (stopped, restarted): not one that was slow,
	 * which the client shut down above. */
	if (PQstatus(pg->conn) == CONNECTION_BAD)
		atomic_fetch_add(&losses, 1);
	return rc;
}

int bs_pg_run_page(bs_pg_t *pg, enum pg_stmt id, const char *after, size_t max,
		PGresult **res, const char *what)
{
	bs_pg_params_t p;

	bs_pg_params_init(&p);
	bs_pg_param_text(&p, after ? after : "");
	bs_pg_param_int(&p, (long long)max);
	return bs_pg_run(pg, id, &p, res, what);
}

unsigned long bs_pg_losses(void)
{
	return atomic_load(&losses);
}

int bs_pg_do(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p, const char *what)
{
	PGresult *r;
	int rc = bs_pg_run(pg, id, p, &r, what);

	PQclear(r);
	return rc;
}

static long changed(const PGresult *r)
{
	const char *n = PQcmdTuples((PGresult *)r);

	return n[0] != '\0' ? atol(n) : PQntuples(r);
}

int bs_pg_changed(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p, long *n,
		const char *what)
{
	PGresult *r;
	int rc = bs_pg_run(pg, id, p, &r, what);

	*n = rc == BS_OK ? changed(r) : 0;
	PQclear(r);
	return rc;
}

int bs_pg_change_one(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p,
		const char *what)
{
	long n = 0;
	int rc = bs_pg_changed(pg, id, p, &n, what);

	return rc == BS_OK && n == 0 ? BS_ERR_NOT_FOUND : rc;
}

int bs_pg_count(bs_pg_t *pg, enum pg_stmt id, const bs_pg_params_t *p, long *n,
		const char *what)
{
	PGresult *r;
	int rc = bs_pg_run(pg, id, p, &r, what);

	*n = 0;
	if (rc == BS_OK && PQntuples(r) != 1)
		rc = bs_pg_fail(pg, what, "no count");
	if (rc == BS_OK)
		*n = (long)bs_pg_col_int(r, 0, 0);
	PQclear(r);
	return rc;
}

int bs_pg_col_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

char *bs_pg_col_text(const PGresult *r, int row, int col, int *oom)
{
	int len = PQgetlength(r, row, col);
	char *copy;

	if (PQgetisnull(r, row, col))
		return NULL;
	if ((copy = malloc((size_t)len + 1)) == NULL) {
		*oom = 1;
		return NULL;
	}
	memcpy(copy, PQgetvalue(r, row, col), (size_t)len);
	copy[len] = '\0';
	return copy;
}

void bs_pg_col_copy(const PGresult *r, int row, int col, char *out, size_t size)
{
	size_t len = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);

	if (len > size - 1)
		len = size - 1;
	memcpy(out, PQgetvalue(r, row, col), len);
	out[len] = '\0';
}

/* A binary integer or boolean of 1, 2, 4 or 8 bytes, big-endian. */
long long bs_pg_col_int(const PGresult *r, int row, int col)
{
	const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
	int len = PQgetlength(r, row, col);
	unsigned long long u = 0;

	if (PQgetisnull(r, row, col) || len < 1 || len > 8)
		return 0;
	for (int i = 0; i < len; i++)
		u = u << 8 | v[i];
	if (len < 8 && (v[0] & 0x80) && len > 1)
		u |= ~0ULL << (len * 8);        /* sign-extended */
	return (long long)u;
}

int bs_pg_col_blob(const PGresult *r, int row, int col, bs_blob_t *out)
{
	if (PQgetisnull(r, row, col)) {
		out->data = NULL;
		out->len = 0;
		return BS_OK;
	}
	return bs_blob_copy(out, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}
