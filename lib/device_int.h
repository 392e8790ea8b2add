/*
 * Private to the device protocol (device.c, device_parse.c,
 * device_lookup.c): a request as parsed, and the job that carries it from
 * the broker thread to the store lookup and back (device.h).
 */
#ifndef BS_DEVICE_INT_H
#define BS_DEVICE_INT_H

#include "challenge.h"
#include "crypto.h"
#include "device.h"
#include "fleet.h"
#include "issue.h"
#include "logins.h"
#include "model.h"
#include "request.h"
#include "vault.h"

/* The four kinds of request (protocol 3, 3.1, 3.2). */
enum { MODE_PLAIN, MODE_ENCRYPT, MODE_CHALLENGE, MODE_PROOF };

/* What a parsed request holds; the strings point into its parsed copy. */
typedef struct {
	const char *id;            /* NULL when absent or unusable */
	const char *external_id;   /* NULL until validated */
	const char *external_key;  /* MODE_PLAIN and MODE_ENCRYPT */
	int mode;
	uint8_t nonce[BS_NONCE_LEN];    /* MODE_PROOF */
	uint8_t proof[BS_SHA256_LEN];
	const char *csr;           /* a PEM CSR (3.3), or NULL */
	const char *group;         /* an enrollment group id (7.2), or NULL */
	size_t csr_len;
	long retry_after;          /* seconds, with rate_limited */
	char message[160];
	/* The config's client_secret and client_key as stored, opened only
	 * once the device has proved its key. */
	bs_config_blobs_t held;
} request_t;

/*
 * cfg and decoy are one allocation of their own, made with the job: each
 * of the two is small enough for malloc's per-thread cache (at most 1,032
 * bytes), where the job with both inside (1,640 bytes) took malloc's slow
 * path, about 900 instructions a bootstrap with its free (callgrind).
 */
struct bs_device_job {
	bs_request_t parsed;
	request_t req;
	/* The request's context, copied, and the lookup's input: the decoy's
	 * external_id (or NULL), all in copies. */
	char *copies;
	char *client_id, *address, *response_topic, *decoy_id;
	bs_request_ctx_t ctx;
	int usable;                 /* the Response Topic can be answered on */
	int rc;                     /* the answer so far: BS_OK while it goes on */
	int lookup;                 /* 1 while the lookup is still to run */
	/* A proof's signed nonce, good until then, to be used up by the
	 * lookup (0: none, or used up already; challenge.h). */
	time_t nonce_expires;
	/* What it found: the config (BS_OK), none (BS_ERR_NOT_FOUND), a nonce
	 * used before (BS_ERR_UNAUTHORIZED) or a failure (BS_ERR_INTERNAL,
	 * with the store's words in why). */
	int found;
	bs_config_t *cfg;
	/* For an unknown external_id: a stored config's, to be compared as the
	 * key of a known one is (decoy_found), else the decoy sealed at start. */
	bs_config_t *decoy;
	int decoy_found;
	/* An unknown external_id that proved its group's key (enrolled: its
	 * config made now, in cfg), and what went wrong (enroll_failed, with
	 * why): the group not read (it stays unknown), or the config not made. */
	int enrolled;
	enum { BS_ENROLL_OK, BS_ENROLL_NO_GROUP, BS_ENROLL_NOT_MADE } enroll_failed;
	/* What cfg's reply needs beyond the row, read with it: its rendered
	 * content and its channels; a failure counts only once the device has
	 * proved its key. */
	int prepared;               /* BS_OK, or the failure */
	/* Set at begin, for the lookup: the name this broker's announcements
	 * go in (lib/changes.h; NULL on SQLite), and the issuing CA. */
	const char *announce_as;
	const bs_issuer_t *issuer;
	/* A certificate for the CSR (3.3), made and written with its config by
	 * the lookup once the device proved its key: BS_OK, BS_ERR_INVALID
	 * (the reply's message said), BS_ERR_INTERNAL (why). */
	int issued;
	/* On PostgreSQL: the login view of the config that the lookup made or
	 * gave a certificate, read after its commit for the login replica
	 * (NULL when not read), and the replica's mark at begin. */
	int want_login;
	bs_logins_mark_t login_mark;
	/* The unknown device's rows that the enrollment deleted. */
	long forgotten;
	bs_config_t *login;
	char why[256];
};

/* Sets the reply's message and returns code; invalid is BS_ERR_INVALID. */
int bs_device_say(request_t *req, int code, const char *msg);
int bs_device_invalid(request_t *req, const char *msg);

/* Parses the request bytes into r and req (device_parse.c). */
int bs_device_parse(const bs_core_t *core, const void *payload, size_t len,
		bs_request_t *r, request_t *req);

/* 1 when req holds key: the key itself, or the proof of it over the nonce. */
int bs_device_proves(const request_t *req, const char *key);

#endif
