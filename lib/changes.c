#include "changes.h"

#include "core.h"
#include "crypto.h"
#include "error.h"
#include "store.h"
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A notification's payload is at most 8000 bytes: longer lists go in
 * several. */
#define PAYLOAD_MAX 7000
#define KIND_CACHES 0

int bs_changes_open(bs_core_t *core, char *err, size_t errlen)
{
	uint8_t id[8];
	char why[256];

	if (!bs_store_is_url(bs_core_db(core)))
		return BS_OK;
	if (bs_crypto_random(id, sizeof(id)) != BS_OK)
		return BS_ERR_INTERNAL;
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(core->changes_id + 2 * i, 3, "%02x", id[i]);
	if (bs_pg_open(bs_core_db(core), &core->listener, why, sizeof(why)) != BS_OK
			|| bs_pg_listen(core->listener, BS_CHANGES_CHANNEL) != BS_OK) {
		char name[BS_ID_MAX + 64];
		bs_store_name(bs_core_db(core), name, sizeof(name));
		snprintf(err, errlen, "%s: cannot listen for other brokers' changes: %s",
				name, core->listener ? core->listener->errmsg : why);
		bs_changes_close(core);
		return BS_ERR_INTERNAL;
	}
	return BS_OK;
}

void bs_changes_close(bs_core_t *core)
{
	if (core->listener != NULL)
		core->listener->ops->close(core->listener);
	core->listener = NULL;
}

static int send(bs_core_t *core, const char *payload)
{
	return bs_pg_notify(bs_store_backend(core->store), BS_CHANGES_CHANNEL, payload);
}

int bs_changes_announce(bs_core_t *core, const bs_effect_t *fx, size_t n)
{
	char buf[PAYLOAD_MAX + BS_ID_MAX + 32];
	size_t at, head;
	int rc = BS_OK;

	if (core->listener == NULL || (n == 0 && !bs_store_cache_dirty(core->store)))
		return BS_OK;
	head = at = (size_t)snprintf(buf, sizeof(buf), "%s\n%d -\n", core->changes_id,
			KIND_CACHES);
	for (size_t i = 0; i < n && rc == BS_OK; i++) {
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%u %.*s\n",
				fx[i].kind, BS_ID_MAX, fx[i].target);
		if (at > PAYLOAD_MAX) {
			rc = send(core, buf);
			at = head;
		}
	}
	if (rc == BS_OK && (at > head || n == 0))
		rc = send(core, buf);
	return rc;
}

typedef struct {
	bs_core_t *core;
	bs_kicks_t *kicks;
} heard_t;

/* One line "kind target" of another broker's announcement, applied. */
static void apply_line(heard_t *h, const char *line, size_t len)
{
	char target[BS_ID_MAX + 1];
	const char *space = memchr(line, ' ', len);
	bs_effect_t fx = { .target = target };
	size_t tlen;

	if (space == NULL || (tlen = len - (size_t)(space + 1 - line)) > BS_ID_MAX)
		return;
	fx.kind = (unsigned)strtoul(line, NULL, 10);
	memcpy(target, space + 1, tlen);
	target[tlen] = '\0';
	if (fx.kind != KIND_CACHES)
		bs_sessions_apply(h->core, &fx, 1, h->kicks);
}

static void heard(void *arg, const char *channel, const char *payload, int own)
{
	heard_t *h = arg;
	size_t idlen = strlen(h->core->changes_id);

	(void)channel;
	(void)own;
	if (strncmp(payload, h->core->changes_id, idlen) == 0 && payload[idlen] == '\n')
		return;
	bs_store_forget(h->core->store);
	for (const char *p = strchr(payload, '\n'); p != NULL && p[1] != '\0';) {
		const char *line = p + 1, *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		apply_line(h, line, len);
		p = end;
	}
}

void bs_changes_poll(bs_core_t *core, long long now_ms, bs_kicks_t *kicks)
{
	heard_t h = { core, kicks };

	if (core->listener == NULL)
		return;
	if (bs_pg_poll_notify(core->listener, heard, &h) >= 0)
		return;
	if (!bs_pg_reconnecting(core->listener) && now_ms - core->changes_retry_ms < 1000)
		return;
	core->changes_retry_ms = now_ms;
	if (bs_pg_reconnect_step(core->listener) == BS_OK)
		bs_store_forget(core->store);
}
