/*
 * Brokers that share one PostgreSQL database (protocol section 11) tell
 * each other what an admin command changed, with PostgreSQL's
 * LISTEN/NOTIFY: the effects a committed batch has on live sessions
 * (lib/sessions.h), and that the channels and profiles cached may be
 * stale. The announcement goes out with the transaction that made the
 * change, so a broker hears only of what was committed; each broker
 * listens on a connection of its own and reads what came at every tick,
 * without waiting, then empties its caches and applies the effects to its
 * own sessions; every announcement is kept in the database too, for a
 * broker that was not listening when it went out. With SQLite there is one broker and all of this is a
 * no-op.
 */
#ifndef BS_CHANGES_H
#define BS_CHANGES_H

#include "sessions.h"
#include "store.h"

#include <stddef.h>

#define BS_CHANGES_CHANNEL "bootstrap_changes"

struct bs_core;

/* At start, with db_url: the listening connection, and this broker's
 * name in its announcements. BS_OK, or the reason in err. */
int bs_changes_open(struct bs_core *core, char *err, size_t errlen);
void bs_changes_close(struct bs_core *core);

/* In the open transaction of core->store: the effects fx, and whether
 * the caches were written, announced to the other brokers at its commit
 * (outside a transaction: at once). */
int bs_changes_announce(struct bs_core *core, const bs_effect_t *fx, size_t n);

/* The same on st (any thread's store, in its open transaction or at
 * once), in the name as (bs_changes_as): for a change made off the
 * broker's thread. */
int bs_changes_send(bs_store_t *st, const char *as, const bs_effect_t *fx, size_t n);
/* The open transaction of st committed, fx announced with it in the name
 * as (none when as is NULL); rolled back when either fails. */
int bs_changes_commit(bs_store_t *st, const char *as, const bs_effect_t *fx, size_t n);
/* This broker's name in its announcements, or NULL when it makes none
 * (SQLite); stable from bs_changes_open to bs_changes_close. */
const char *bs_changes_as(const struct bs_core *core);

/* Each tick: what the other brokers announced, applied here; the sessions
 * it ends go to *kicks. A listening connection that was lost is made
 * again (once a second at most), the caches are emptied, and what was
 * announced meanwhile is read from the database and applied as if it had
 * been heard (lib/changes.c). */
void bs_changes_poll(struct bs_core *core, long long now_ms, bs_kicks_t *kicks);

#endif
