#include "leakscan.h"

#include <dirent.h>
#include <jansson.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Shorter values are test inputs such as "k", never generated secrets;
 * eight bytes is also the shortest external key the contract allows. */
#define MIN_SECRET 8
#define SPY_WAIT_MS 2000
/* Where the ACL lets the spy read "#" but not write, no marker comes. */
#define SYNC_WAIT_MS 300

/* ---- the secrets: a set keyed by their first MIN_SECRET bytes, so that a
 * haystack is scanned once, whatever the number of secrets ---------------- */

typedef struct secret {
	char *text;
	size_t len;
	struct secret *next;        /* same bucket */
} secret_t;

#define NBUCKETS 65536u
static secret_t *buckets[NBUCKETS];
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static int failures;

static unsigned bucket_of(const char *p)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < MIN_SECRET; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return (unsigned)(h % NBUCKETS);
}

static void learn_text(const char *s, size_t len)
{
	if (len < MIN_SECRET)
		return;
	unsigned b = bucket_of(s);
	pthread_mutex_lock(&secrets_lock);
	secret_t *e = buckets[b];
	while (e != NULL && !(e->len == len && memcmp(e->text, s, len) == 0))
		e = e->next;
	if (e == NULL && (e = calloc(1, sizeof *e)) != NULL) {
		e->text = strndup(s, len);
		e->len = len;
		e->next = buckets[b];
		if (e->text != NULL)
			buckets[b] = e;
		else
			free(e);
	}
	pthread_mutex_unlock(&secrets_lock);
}

/* A private key is learnt line by line as well: a log line or a page
 * holding part of it leaks it too. */
static void learn_pem_lines(const char *pem)
{
	for (const char *p = pem; *p != '\0';) {
		const char *end = strchr(p, '\n');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (strncmp(p, "-----", 5) != 0)
			learn_text(p, n);
		p += n + (end != NULL);
	}
}

static bool secret_field(const char *key)
{
	return strcmp(key, "external_key") == 0 || strcmp(key, "client_secret") == 0
		|| strcmp(key, "client_key") == 0;
}

static void learn_json(const json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			learn_json(m);
		return;
	}
	json_object_foreach((json_t *)v, key, m) {
		if (json_is_string(m) && secret_field(key)) {
			learn_text(json_string_value(m), json_string_length(m));
			if (strcmp(key, "client_key") == 0)
				learn_pem_lines(json_string_value(m));
		} else if (json_is_object(m) || json_is_array(m)) {
			learn_json(m);
		}
	}
}

void leak_learn(const char *payload, int len)
{
	json_t *root = len > 0 ? json_loadb(payload, (size_t)len, 0, NULL) : NULL;
	if (root != NULL)
		learn_json(root);
	json_decref(root);
}

/* The first secret found in hay, or NULL. */
static const secret_t *find_secret(const char *hay, size_t len)
{
	const secret_t *found = NULL;
	pthread_mutex_lock(&secrets_lock);
	for (size_t i = 0; found == NULL && i + MIN_SECRET <= len; i++) {
		for (const secret_t *e = buckets[bucket_of(hay + i)]; e != NULL; e = e->next) {
			if (e->len <= len - i && memcmp(hay + i, e->text, e->len) == 0) {
				found = e;
				break;
			}
		}
	}
	pthread_mutex_unlock(&secrets_lock);
	return found;
}

/* 1 (and a line on stderr) when hay holds a secret, else 0. */
static int report(const broker_t *b, const char *where, const char *hay, size_t len)
{
	const secret_t *s = find_secret(hay, len);
	if (s == NULL)
		return 0;
	fprintf(stderr, "LEAK: a secret (%zu bytes, \"%.6s...\") is in %s of the broker in %s\n",
			s->len, s->text, where, b->dir);
	return 1;
}

int leak_failures(void)
{
	return failures;
}

/* ---- the spy ------------------------------------------------------------ */

typedef struct spied {
	char *topic;
	char *payload;
	size_t len;
	struct spied *next;
} spied_t;

struct leak_spy {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pending;                /* SUBACKs and CONNACK still awaited */
	int all_mid;                /* the SUBSCRIBE to "#" */
	bool sees_all;              /* "#" was granted */
	bool synced;                /* the sync marker came back */
	spied_t *msgs;
};

/* What the spy publishes to itself before it stops: once it is back,
 * everything the broker sent the spy before it has been read. */
static const char sync_topic[] = "leakscan/sync";

static void spy_connected(struct mosquitto *mosq, void *obj, int rc)
{
	struct leak_spy *s = obj;
	if (rc == 0) {
		mosquitto_subscribe(mosq, &s->all_mid, "#", 0);
		mosquitto_subscribe(mosq, NULL, "$CONTROL/#", 0);
	}
	pthread_mutex_lock(&s->lock);
	s->pending = rc == 0 ? 2 : 0;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void spy_subscribed(struct mosquitto *mosq, void *obj, int mid,
		int count, const int *granted)
{
	struct leak_spy *s = obj;
	(void)mosq;
	pthread_mutex_lock(&s->lock);
	if (mid == s->all_mid && count > 0 && granted[0] < 0x80)
		s->sees_all = true;
	if (s->pending > 0)
		s->pending--;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void spy_message(struct mosquitto *mosq, void *obj,
		const struct mosquitto_message *msg)
{
	struct leak_spy *s = obj;
	spied_t *m;
	(void)mosq;
	if (strcmp(msg->topic, sync_topic) == 0) {
		pthread_mutex_lock(&s->lock);
		s->synced = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if ((m = calloc(1, sizeof *m)) == NULL)
		return;
	m->topic = strdup(msg->topic);
	m->payload = malloc((size_t)msg->payloadlen + 1);
	if (m->topic == NULL || m->payload == NULL) {
		free(m->topic);
		free(m->payload);
		free(m);
		return;
	}
	memcpy(m->payload, msg->payload, (size_t)msg->payloadlen);
	m->len = (size_t)msg->payloadlen;
	pthread_mutex_lock(&s->lock);
	m->next = s->msgs;
	s->msgs = m;
	pthread_mutex_unlock(&s->lock);
}

static struct leak_spy *spy_record(broker_t *b)
{
	if (b->spy == NULL && (b->spy = calloc(1, sizeof *b->spy)) != NULL) {
		pthread_mutex_init(&b->spy->lock, NULL);
		pthread_cond_init(&b->spy->cond, NULL);
	}
	return b->spy;
}

/* Waits until the spy is subscribed (or was refused, pending 0), at most
 * SPY_WAIT_MS, or when sync is set until the sync marker is back, at most
 * SYNC_WAIT_MS. */
static void spy_wait(struct leak_spy *s, bool sync)
{
	struct timespec end;
	long long ns;
	clock_gettime(CLOCK_REALTIME, &end);
	ns = end.tv_nsec + (sync ? SYNC_WAIT_MS : SPY_WAIT_MS) * 1000000LL;
	end.tv_sec += (time_t)(ns / 1000000000LL);
	end.tv_nsec = (long)(ns % 1000000000LL);
	pthread_mutex_lock(&s->lock);
	while ((sync ? !s->synced : s->pending > 0) &&
			pthread_cond_timedwait(&s->cond, &s->lock, &end) == 0)
		;
	pthread_mutex_unlock(&s->lock);
}

void leak_spy_start(broker_t *b)
{
	struct leak_spy *s = spy_record(b);
	if (s == NULL || s->mosq != NULL)
		return;
	s->mosq = mosquitto_new(NULL, true, s);
	if (s->mosq == NULL)
		return;
	/* Anonymous, as any other client: admins may read one another's
	 * responses on $CONTROL/bootstrap/v1/response (protocol section 4),
	 * no one else. Where anonymous clients are refused the spy is absent. */
	mosquitto_connect_callback_set(s->mosq, spy_connected);
	mosquitto_subscribe_callback_set(s->mosq, spy_subscribed);
	mosquitto_message_callback_set(s->mosq, spy_message);
	s->pending = 1;
	s->sees_all = false;
	if (mosquitto_connect(s->mosq, "127.0.0.1", b->port, 30) != MOSQ_ERR_SUCCESS
			|| mosquitto_loop_start(s->mosq) != MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(s->mosq);
		s->mosq = NULL;
		return;
	}
	spy_wait(s, false);
}

void leak_spy_stop(broker_t *b)
{
	struct leak_spy *s = b->spy;
	if (s == NULL || s->mosq == NULL)
		return;
	s->synced = false;
	if (s->sees_all && mosquitto_publish(s->mosq, NULL, sync_topic, 1, "s", 0,
				false) == MOSQ_ERR_SUCCESS)
		spy_wait(s, true);
	mosquitto_disconnect(s->mosq);
	mosquitto_loop_stop(s->mosq, true);
	mosquitto_destroy(s->mosq);
	s->mosq = NULL;
}

/* ---- the check ---------------------------------------------------------- */

static bool scanned_file(const char *name)
{
	static const char *const ends[] = { ".log", ".db", ".db-wal", ".db-shm",
		".db-journal" };
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		size_t e = strlen(ends[i]);
		if (n > e && strcmp(name + n - e, ends[i]) == 0)
			return true;
	}
	return false;
}

static int check_files(const broker_t *b)
{
	int found = 0;
	DIR *d = opendir(b->dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[IT_PATH_MAX];
		size_t len;
		if (!scanned_file(e->d_name) || broker_path(b, e->d_name, path, sizeof path) != 0)
			continue;
		char *text = read_file_text(path, &len);
		if (text != NULL)
			found += report(b, e->d_name, text, len);
		free(text);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static int check_spied(broker_t *b)
{
	int found = 0;
	struct leak_spy *s = b->spy;
	if (s == NULL)
		return 0;
	while (s->msgs != NULL) {
		spied_t *m = s->msgs;
		char where[300];
		s->msgs = m->next;
		snprintf(where, sizeof where, "a message on %.200s seen by a '#' subscriber",
				m->topic);
		found += report(b, where, m->payload, m->len)
			+ report(b, "the topic of a message seen by a '#' subscriber",
					m->topic, strlen(m->topic));
		free(m->topic);
		free(m->payload);
		free(m);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
	b->spy = NULL;
	return found;
}

int leak_scan(broker_t *b)
{
	int found = 0;
	leak_spy_stop(b);
	if (b->dir[0] != '\0')
		found += check_files(b);
	return found + check_spied(b);
}

void leak_check(broker_t *b)
{
	failures += leak_scan(b);
}
