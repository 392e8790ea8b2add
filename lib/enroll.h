/*
 * Zero-touch enrollment (protocol 7.2): a device of an enrollment group
 * proves the key derived from the group's key, and its config is made at
 * its first bootstrap.
 */
#ifndef BS_ENROLL_H
#define BS_ENROLL_H

#include "core.h"
#include "crypto.h"
#include "fleet.h"
#include "store.h"
#include "vault.h"

#include <time.h>

/* base64url-without-padding(HMAC-SHA256(key = group_key, msg = external_id)). */
int bs_enroll_key(const char *group_key, const char *external_id,
		char out[BS_SECRET_LEN + 1]);

/*
 * Makes the config of external_id in group g: a generated client_id and
 * client_secret, name = external_id, the derived key, the group's
 * channels (else its profile's) and profile, enabled when the group
 * enables. In the same transaction the unknown device's row goes (the
 * rows deleted in *forgotten) and, when as is not NULL, the other
 * brokers are told of its login (lib/changes.h). Any thread's store.
 */
int bs_enroll_create(bs_store_t *st, const bs_group_t *g, const char *external_id,
		const char *derived, time_t now, const char *as, long *forgotten);

/* The audit line of an enrollment and its event (section 8), malloc()ed. */
char *bs_enroll_event(bs_core_t *core, const char *group_id, const char *client,
		const char *client_id, time_t now);

#endif
