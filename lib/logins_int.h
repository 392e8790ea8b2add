/*
 * Private to the login replica (logins.c: the entries and the table;
 * logins_sync.c: the thread that reads them): what both see.
 */
#ifndef BS_LOGINS_INT_H
#define BS_LOGINS_INT_H

#include "hmap.h"
#include "logins.h"
#include "worker.h"

enum { E_ENABLED = 1, E_CERT = 2, E_DELETED = 4, E_SECRET = 8 };

/* One allocation: the node, the digests, and "client_id\0channel_ids\0". */
struct bs_login_entry {
	bs_hnode_t node;              /* first: by client_id */
	uint8_t mac[BS_SHA256_LEN];   /* HMAC of client_secret under the key */
	uint8_t cert[BS_SHA256_LEN];  /* SHA-256 of client_cert's DER */
	uint32_t channels;            /* offset of the channel ids in name */
	uint8_t flags;
	char name[];
};

typedef struct login_table {
	bs_hmap_t map;
	size_t configs, deleted, bytes;
} login_table_t;

/* A client_id whose entry is stale: seq counts its effects, so that a
 * read begun before the last one is not taken. */
typedef struct stale {
	bs_hnode_t node;
	unsigned long seq;
	int queued;                   /* to be handed to the thread */
	long long retry_ms;           /* not before (after a failed read) */
	char id[];
} stale_t;

struct bs_logins {
	uint8_t key[BS_SHA256_LEN];
	login_table_t live;
	/* After a drop, the copy as it was, until the next load: it answers
	 * only which client ids were configs' (lib/logins.h). */
	login_table_t before;
	int has_before;
	int loaded;
	unsigned gen;                 /* a drop makes every job's work void */
	bs_hmap_t stale;
	size_t queued;
	unsigned long seq;
	bs_worker_t *worker;
	bs_logins_source_t src;
	bs_logins_log_fn log;
	void *log_arg;
	int loading, reading;         /* a job of each kind in flight */
	int want_load;
	int dropped;                  /* and not loaded since */
	int failing;                  /* a failure logged, no success since */
	unsigned long losses;         /* bs_store_losses when last looked at */
	long long load_retry_ms, load_ms;
};

/* An entry for cfg (client_secret in clear), or a deleted client_id's
 * (cfg NULL); NULL when memory runs out. Any thread. */
bs_login_entry_t *bs_login_new(const uint8_t key[BS_SHA256_LEN], const char *client_id,
		const bs_config_t *cfg);
size_t bs_login_bytes(const bs_login_entry_t *e);

/* e goes into t (one of its client_id there is replaced and freed), or
 * out of it (e NULL: client_id's is removed). */
int bs_login_table_put(login_table_t *t, bs_login_entry_t *e);
void bs_login_table_remove(login_table_t *t, const char *client_id);
void bs_login_table_free(login_table_t *t);

/* s to be handed to the thread at the next tick (once). */
void bs_logins_queue(bs_logins_t *l, stale_t *s);
void bs_logins_stale_clear(bs_logins_t *l);
long long bs_logins_now_ms(void);

#endif
