/* The login replica (lib/logins.h) over a source in memory: it answers
 * nothing until loaded, loads in pages, verifies secrets without keeping
 * them, matches certificates by digest, refuses a stale entry until it is
 * read again, takes a deleted channel out of every entry, refuses the
 * configs' client ids after a drop until it is loaded again, and takes
 * what this broker read after its own change unless something came
 * since. */
#include "cu_main.h"
#include "error.h"
#include "logins_int.h"
#include "model.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONFIGS 2600
#define WAIT_MS 10000

/* The source: configs by client_id order, guarded by lock (the thread
 * reads them). */
static struct {
	pthread_mutex_t lock;
	struct fake { char id[32], secret[48], *cert, channels[64]; int enabled; } v[MAX_CONFIGS];
	size_t n;
	char deleted[4][32];
	size_t ndeleted;
	int fail;                   /* reads fail while set */
	int reads;                  /* gets, for tests */
	/* A page read waits, its rows taken, while hold is set; in_page says
	 * it is waiting. */
	int hold, in_page;
	pthread_cond_t moved;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER, .moved = PTHREAD_COND_INITIALIZER };

static void fill(const struct fake *f, bs_config_t *out)
{
	memset(out, 0, sizeof(*out));
	out->client_id = strdup(f->id);
	out->client_secret = strdup(f->secret);
	out->client_cert = f->cert ? strdup(f->cert) : NULL;
	out->channel_ids = strdup(f->channels);
	out->enabled = f->enabled;
}

static int src_page(void *ctx, const char *after, size_t max, bs_config_t *out, size_t *n)
{
	(void)ctx;
	*n = 0;
	pthread_mutex_lock(&S.lock);
	if (S.fail) {
		pthread_mutex_unlock(&S.lock);
		return BS_ERR_INTERNAL;
	}
	for (size_t i = 0; i < S.n && *n < max; i++)
		if (strcmp(S.v[i].id, after) > 0)
			fill(&S.v[i], &out[(*n)++]);
	S.in_page = S.hold;
	pthread_cond_broadcast(&S.moved);
	while (S.hold)
		pthread_cond_wait(&S.moved, &S.lock);
	S.in_page = 0;
	pthread_mutex_unlock(&S.lock);
	return BS_OK;
}

static int src_deleted_page(void *ctx, const char *after, size_t max, char **ids, size_t *n)
{
	(void)ctx;
	*n = 0;
	pthread_mutex_lock(&S.lock);
	for (size_t i = 0; i < S.ndeleted && *n < max; i++)
		if (strcmp(S.deleted[i], after) > 0)
			ids[(*n)++] = strdup(S.deleted[i]);
	pthread_mutex_unlock(&S.lock);
	return BS_OK;
}

static int src_get(void *ctx, const char *id, bs_config_t *out)
{
	int rc = BS_ERR_NOT_FOUND;

	(void)ctx;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&S.lock);
	S.reads++;
	if (S.fail)
		rc = BS_ERR_INTERNAL;
	for (size_t i = 0; rc == BS_ERR_NOT_FOUND && i < S.n; i++) {
		if (strcmp(S.v[i].id, id) == 0) {
			fill(&S.v[i], out);
			rc = BS_OK;
		}
	}
	pthread_mutex_unlock(&S.lock);
	return rc;
}

static int src_deleted(void *ctx, const char *id)
{
	int gone = 0;

	(void)ctx;
	pthread_mutex_lock(&S.lock);
	for (size_t i = 0; i < S.ndeleted; i++)
		gone |= strcmp(S.deleted[i], id) == 0;
	pthread_mutex_unlock(&S.lock);
	return gone;
}

static const char *src_errmsg(void *ctx)
{
	(void)ctx;
	return "the test's source failed";
}

/* As a store on a server does it: several at once. */
static int src_get_many(void *ctx, const char *const *ids, size_t n, bs_config_t *out,
		int *found, int *deleted)
{
	for (size_t i = 0; i < n; i++) {
		int rc = src_get(ctx, ids[i], &out[i]);
		if (rc != BS_OK && rc != BS_ERR_NOT_FOUND) {
			for (size_t k = 0; k < i; k++)
				bs_config_clear(&out[k]);
			return rc;
		}
		found[i] = rc == BS_OK;
		deleted[i] = src_deleted(ctx, ids[i]);
	}
	return BS_OK;
}

static const bs_logins_source_t SRC_MANY = {
	.page = src_page, .deleted_page = src_deleted_page, .get = src_get,
	.deleted = src_deleted, .get_many = src_get_many, .errmsg = src_errmsg,
};

static const bs_logins_source_t SRC = {
	.page = src_page, .deleted_page = src_deleted_page, .get = src_get,
	.deleted = src_deleted, .errmsg = src_errmsg,
};

static void add(const char *id, const char *secret, int enabled, const char *channels)
{
	struct fake *f = &S.v[S.n++];

	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	snprintf(f->secret, sizeof(f->secret), "%s", secret);
	snprintf(f->channels, sizeof(f->channels), "%s", channels);
	f->enabled = enabled;
}

static void reset(void)
{
	for (size_t i = 0; i < S.n; i++)
		free(S.v[i].cert);
	S.n = S.ndeleted = 0;
	S.fail = S.reads = 0;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Ticks until client_id answers want (or WAIT_MS passed): 1 when it did. */
static int until(bs_logins_t *l, const char *client_id, int want)
{
	long long end = now_ms() + WAIT_MS;
	const bs_login_entry_t *e;

	while (now_ms() < end) {
		struct timespec ms = { 0, 1000000 };
		bs_logins_tick(l);
		if (bs_logins_find(l, client_id, &e) == want)
			return 1;
		nanosleep(&ms, NULL);
	}
	return 0;
}

static const bs_logins_source_t *source = &SRC;

static bs_logins_t *started(void)
{
	bs_logins_t *l = NULL;

	CU_ASSERT_FATAL(bs_logins_new(&l) == BS_OK);
	CU_ASSERT_FATAL(bs_logins_start(l, source, NULL, NULL, NULL, NULL) == BS_OK);
	return l;
}

static void test_nothing_is_answered_before_the_load(void)
{
	bs_logins_t *l = NULL;
	const bs_login_entry_t *e;

	reset();
	add("a", "secret-a-0123456789", 1, "");
	CU_ASSERT_FATAL(bs_logins_new(&l) == BS_OK);
	CU_ASSERT(bs_logins_find(l, "a", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(bs_logins_find(l, "nobody", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(!bs_logins_loaded(l));
	CU_ASSERT(!bs_logins_answers(l));
	bs_logins_free(l);
}

static void test_a_load_of_pages_finds_every_config(void)
{
	bs_logins_t *l;
	bs_logins_stats_t st;
	const bs_login_entry_t *e;
	char id[32];

	reset();
	for (int i = 0; i < 2500; i++) {
		snprintf(id, sizeof(id), "cfg-%05d", i);
		add(id, "secret-0123456789abcdef", i % 2, "ch1\nch2");
	}
	snprintf(S.deleted[S.ndeleted++], 32, "gone-1");
	l = started();
	CU_ASSERT_FATAL(until(l, "cfg-02499", BS_OK));
	bs_logins_stats(l, &st);
	CU_ASSERT_EQUAL(st.configs, 2500);
	CU_ASSERT_EQUAL(st.deleted, 1);
	printf("\n    %zu bytes for %zu configs: %zu a config\n", st.bytes, st.configs,
			st.bytes / st.configs);
	CU_ASSERT(st.bytes / st.configs < 256);
	CU_ASSERT(bs_logins_find(l, "cfg-00000", &e) == BS_OK && !bs_login_enabled(e));
	CU_ASSERT(bs_logins_find(l, "cfg-01001", &e) == BS_OK && bs_login_enabled(e));
	CU_ASSERT_STRING_EQUAL(bs_login_channels(e), "ch1\nch2");
	CU_ASSERT(bs_logins_find(l, "gone-1", &e) == BS_ERR_DISABLED);
	CU_ASSERT(bs_logins_find(l, "nobody", &e) == BS_ERR_NOT_FOUND);
	bs_logins_free(l);
}

static int holds(const void *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp((const char *)p + i, s, n) == 0)
			return 1;
	return 0;
}

static void test_the_secret_is_verified_not_kept(void)
{
	static const char secret[] = "the-secret-of-a-0123456789";
	bs_logins_t *l, *other;
	const bs_login_entry_t *e;

	reset();
	add("a", secret, 1, "");
	l = started();
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "a", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, secret));
	CU_ASSERT(!bs_login_secret_ok(l, e, "the-secret-of-a-012345678"));
	CU_ASSERT(!bs_login_secret_ok(l, e, "the-secret-of-a-01234567890"));
	CU_ASSERT(!bs_login_secret_ok(l, e, ""));
	CU_ASSERT(!bs_login_secret_ok(l, e, NULL));
	/* Not in the entry, and its verifier means nothing under another
	 * process's key. */
	CU_ASSERT(!holds(e, bs_login_bytes(e), secret));
	CU_ASSERT_FATAL(bs_logins_new(&other) == BS_OK);
	CU_ASSERT(!bs_login_secret_ok(other, e, secret));
	bs_logins_free(other);
	bs_logins_free(l);
}

/* A self-signed certificate, as PEM and as X509. */
static X509 *self_signed(char **pem)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), rand());
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	*pem = strndup(p, (size_t)n);
	BIO_free(b);
	EVP_PKEY_free(k);
	return x;
}

static void test_a_certificate_matches_by_its_digest(void)
{
	bs_logins_t *l;
	const bs_login_entry_t *e;
	char *pem, *other_pem;
	X509 *mine = self_signed(&pem), *other = self_signed(&other_pem);

	reset();
	add("tls", "secret-0123456789abcdef", 1, "");
	S.v[0].cert = pem;
	add("plain", "secret-0123456789abcdef", 1, "");
	l = started();
	CU_ASSERT_FATAL(until(l, "tls", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "tls", &e) == BS_OK);
	CU_ASSERT(bs_login_cert_ok(e, mine));
	CU_ASSERT(!bs_login_cert_ok(e, other));
	CU_ASSERT(!bs_login_cert_ok(e, NULL));
	CU_ASSERT_FATAL(bs_logins_find(l, "plain", &e) == BS_OK);
	CU_ASSERT(!bs_login_cert_ok(e, mine));
	bs_logins_free(l);
	free(other_pem);
	X509_free(mine);
	X509_free(other);
}

static void test_a_stale_entry_answers_nothing_until_read_again(void)
{
	bs_effect_t fx = { .kind = BS_FX_END_PASSWORD, .target = "a" };
	bs_logins_t *l;
	const bs_login_entry_t *e;

	reset();
	add("a", "old-secret-0123456789", 1, "");
	add("b", "b-secret-0123456789", 1, "");
	l = started();
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	pthread_mutex_lock(&S.lock);
	snprintf(S.v[0].secret, sizeof(S.v[0].secret), "new-secret-0123456789");
	pthread_mutex_unlock(&S.lock);
	bs_logins_effect(l, &fx);
	/* At once, before any tick: a stale entry is refused; others answer. */
	CU_ASSERT(bs_logins_find(l, "a", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(bs_logins_find(l, "b", &e) == BS_OK);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "a", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, "new-secret-0123456789"));
	CU_ASSERT(!bs_login_secret_ok(l, e, "old-secret-0123456789"));
	/* Deleted: refused for good. A new one, unknown before: found. */
	pthread_mutex_lock(&S.lock);
	S.n = 1;
	snprintf(S.deleted[S.ndeleted++], 32, "b");
	add("c", "c-secret-0123456789", 1, "x");
	pthread_mutex_unlock(&S.lock);
	fx.kind = BS_FX_END_ALL;
	fx.target = "b";
	bs_logins_effect(l, &fx);
	CU_ASSERT(until(l, "b", BS_ERR_DISABLED));
	CU_ASSERT(bs_logins_find(l, "c", &e) == BS_ERR_NOT_FOUND);
	fx.kind = BS_FX_LOGIN;
	fx.target = "c";
	bs_logins_effect(l, &fx);
	CU_ASSERT(until(l, "c", BS_OK));
	bs_logins_free(l);
}

static void test_a_failed_read_stays_stale_then_is_tried_again(void)
{
	bs_effect_t fx = { .kind = BS_FX_RELOAD, .target = "a" };
	bs_logins_t *l;
	const bs_login_entry_t *e;
	int reads;

	reset();
	add("a", "a-secret-0123456789", 1, "one");
	l = started();
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	pthread_mutex_lock(&S.lock);
	S.fail = 1;
	snprintf(S.v[0].channels, sizeof(S.v[0].channels), "two");
	pthread_mutex_unlock(&S.lock);
	bs_logins_effect(l, &fx);
	for (int i = 0; i < 100; i++) {
		struct timespec ms = { 0, 1000000 };
		bs_logins_tick(l);
		nanosleep(&ms, NULL);
	}
	pthread_mutex_lock(&S.lock);
	reads = S.reads;
	S.fail = 0;
	pthread_mutex_unlock(&S.lock);
	CU_ASSERT(reads >= 1);
	CU_ASSERT(bs_logins_find(l, "a", &e) == BS_ERR_INTERNAL);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "a", &e) == BS_OK);
	CU_ASSERT_STRING_EQUAL(bs_login_channels(e), "two");
	bs_logins_free(l);
}

static void test_a_deleted_channel_leaves_every_entry(void)
{
	bs_effect_t fx = { .kind = BS_FX_CHANNEL_GONE, .target = "b" };
	bs_logins_t *l;
	const bs_login_entry_t *e;

	reset();
	add("x", "x-secret-0123456789", 1, "a\nb\nbb\nc");
	add("y", "y-secret-0123456789", 1, "b");
	add("z", "z-secret-0123456789", 1, "b\nc");
	l = started();
	CU_ASSERT_FATAL(until(l, "z", BS_OK));
	bs_logins_effect(l, &fx);
	CU_ASSERT(bs_logins_find(l, "x", &e) == BS_OK
			&& strcmp(bs_login_channels(e), "a\nbb\nc") == 0);
	CU_ASSERT(bs_logins_find(l, "y", &e) == BS_OK && strcmp(bs_login_channels(e), "") == 0);
	CU_ASSERT(bs_logins_find(l, "z", &e) == BS_OK && strcmp(bs_login_channels(e), "c") == 0);
	fx.target = "c";
	bs_logins_effect(l, &fx);
	CU_ASSERT(bs_logins_find(l, "x", &e) == BS_OK
			&& strcmp(bs_login_channels(e), "a\nbb") == 0);
	bs_logins_free(l);
}

/* After a drop, until loaded again: a config's client id (or a deleted
 * one's) answers nothing, any other is no config's; a second drop keeps
 * what the first knew. */
static void test_a_drop_refuses_the_configs_until_loaded_again(void)
{
	bs_logins_t *l;
	const bs_login_entry_t *e;

	reset();
	add("a", "a-secret-0123456789", 1, "");
	snprintf(S.deleted[S.ndeleted++], 32, "gone");
	l = started();
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	pthread_mutex_lock(&S.lock);
	S.fail = 1;
	pthread_mutex_unlock(&S.lock);
	bs_logins_drop(l);
	CU_ASSERT(bs_logins_answers(l));
	CU_ASSERT(bs_logins_find(l, "a", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(bs_logins_find(l, "gone", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(bs_logins_find(l, "nobody", &e) == BS_ERR_NOT_FOUND);
	bs_logins_drop(l);
	CU_ASSERT(bs_logins_find(l, "a", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(bs_logins_find(l, "nobody", &e) == BS_ERR_NOT_FOUND);
	for (int i = 0; i < 50; i++) {
		struct timespec ms = { 0, 1000000 };
		bs_logins_tick(l);
		nanosleep(&ms, NULL);
	}
	CU_ASSERT(!bs_logins_loaded(l));
	pthread_mutex_lock(&S.lock);
	S.fail = 0;
	add("b", "b-secret-0123456789", 1, "");
	pthread_mutex_unlock(&S.lock);
	CU_ASSERT(until(l, "b", BS_OK));
	CU_ASSERT(bs_logins_find(l, "a", &e) == BS_OK);
	bs_logins_free(l);
}

/* A change this broker made while the whole was being read, its page read
 * before the change: read at once it would be lost under that page; the
 * thread reads it after the load instead. */
static void test_an_own_change_during_the_load_is_not_lost(void)
{
	bs_effect_t fx = { .kind = BS_FX_END_PASSWORD, .target = "a" };
	bs_logins_t *l;
	const bs_login_entry_t *e;

	reset();
	add("a", "old-secret-0123456789", 1, "");
	pthread_mutex_lock(&S.lock);
	S.hold = 1;
	pthread_mutex_unlock(&S.lock);
	l = started();
	pthread_mutex_lock(&S.lock);
	while (!S.in_page)
		pthread_cond_wait(&S.moved, &S.lock);
	snprintf(S.v[0].secret, sizeof(S.v[0].secret), "new-secret-0123456789");
	pthread_mutex_unlock(&S.lock);
	bs_logins_effect(l, &fx);
	bs_logins_read_now(l, &SRC, "a");
	pthread_mutex_lock(&S.lock);
	S.hold = 0;
	pthread_cond_broadcast(&S.moved);
	pthread_mutex_unlock(&S.lock);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "a", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, "new-secret-0123456789"));
	CU_ASSERT(!bs_login_secret_ok(l, e, "old-secret-0123456789"));
	bs_logins_free(l);
}

/* A view as another thread read it after this broker's change. */
static void view(bs_config_t *c, const char *id, const char *secret, const char *channels)
{
	memset(c, 0, sizeof(*c));
	c->client_id = (char *)id;
	c->client_secret = (char *)secret;
	c->channel_ids = (char *)channels;
	c->enabled = 1;
}

/* Taken at once when nothing came since the mark; stale (for the thread)
 * when a change of it was heard after the mark, or the read failed. */
static void test_an_own_read_is_taken_unless_a_change_came_since(void)
{
	bs_effect_t fx = { .kind = BS_FX_END_PASSWORD, .target = "n" };
	bs_logins_mark_t m;
	bs_config_t c;
	bs_logins_t *l;
	const bs_login_entry_t *e;

	reset();
	add("a", "secret-a-0123456789", 1, "");
	l = started();
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	/* Made off the thread: the source does not have it yet. */
	bs_logins_mark(l, &m);
	view(&c, "n", "secret-n-0123456789", "ch");
	bs_logins_take(l, &m, "n", &c);
	CU_ASSERT_FATAL(bs_logins_find(l, "n", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, "secret-n-0123456789"));
	CU_ASSERT_STRING_EQUAL(bs_login_channels(e), "ch");
	/* A change heard after the mark: what was read is not taken. */
	pthread_mutex_lock(&S.lock);
	add("n", "newer-n-0123456789", 1, "");
	pthread_mutex_unlock(&S.lock);
	bs_logins_mark(l, &m);
	bs_logins_effect(l, &fx);
	bs_logins_take(l, &m, "n", &c);
	CU_ASSERT(bs_logins_find(l, "n", &e) == BS_ERR_INTERNAL);
	CU_ASSERT_FATAL(until(l, "n", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "n", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, "newer-n-0123456789"));
	CU_ASSERT(!bs_login_secret_ok(l, e, "secret-n-0123456789"));
	/* A read that failed: the thread reads it. */
	bs_logins_mark(l, &m);
	bs_logins_take(l, &m, "n", NULL);
	CU_ASSERT(bs_logins_find(l, "n", &e) == BS_ERR_INTERNAL);
	CU_ASSERT(until(l, "n", BS_OK));
	bs_logins_free(l);
}

/* Marked before the load, or before a drop: the thread reads it. */
static void test_an_own_read_from_before_a_load_is_not_taken(void)
{
	bs_logins_mark_t m;
	bs_config_t c;
	bs_logins_t *l = NULL;
	const bs_login_entry_t *e;

	reset();
	add("a", "secret-a-0123456789", 1, "");
	CU_ASSERT_FATAL(bs_logins_new(&l) == BS_OK);
	bs_logins_mark(l, &m);
	CU_ASSERT_FATAL(bs_logins_start(l, source, NULL, NULL, NULL, NULL) == BS_OK);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	view(&c, "a", "stale-a-0123456789", "");
	bs_logins_take(l, &m, "a", &c);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "a", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, "secret-a-0123456789"));
	CU_ASSERT(!bs_login_secret_ok(l, e, "stale-a-0123456789"));
	bs_logins_mark(l, &m);
	bs_logins_drop(l);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	bs_logins_take(l, &m, "a", &c);
	CU_ASSERT_FATAL(until(l, "a", BS_OK));
	CU_ASSERT_FATAL(bs_logins_find(l, "a", &e) == BS_OK);
	CU_ASSERT(bs_login_secret_ok(l, e, "secret-a-0123456789"));
	bs_logins_free(l);
}

static const cu_test_t tests[] = {
	{ "nothing is answered before the load", test_nothing_is_answered_before_the_load },
	{ "a load of pages finds every config", test_a_load_of_pages_finds_every_config },
	{ "the secret is verified, not kept", test_the_secret_is_verified_not_kept },
	{ "a certificate matches by its digest", test_a_certificate_matches_by_its_digest },
	{ "a stale entry answers nothing until read again",
		test_a_stale_entry_answers_nothing_until_read_again },
	{ "a failed read stays stale, then is tried again",
		test_a_failed_read_stays_stale_then_is_tried_again },
	{ "a deleted channel leaves every entry", test_a_deleted_channel_leaves_every_entry },
	{ "an own change during the load is not lost",
		test_an_own_change_during_the_load_is_not_lost },
	{ "a drop refuses the configs until loaded again",
		test_a_drop_refuses_the_configs_until_loaded_again },
	{ "an own read is taken unless a change came since",
		test_an_own_read_is_taken_unless_a_change_came_since },
	{ "an own read from before a load is not taken",
		test_an_own_read_from_before_a_load_is_not_taken },
	{ NULL, NULL },
};

/* The second suite reads stale entries several at once. */
static int many_init(void)
{
	source = &SRC_MANY;
	return 0;
}

int main(void)
{
	cu_add_suite("logins", NULL, NULL, tests);
	cu_add_suite("logins_many", many_init, NULL, tests);
	int rc = cu_run("test_logins");
	reset();
	return rc;
}
