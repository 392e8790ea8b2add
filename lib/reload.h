/*
 * A reload (SIGHUP): the options read again from the configuration
 * (conffile.h) replace those that can change while the broker runs, all
 * of them or none.
 */
#ifndef BS_RELOAD_H
#define BS_RELOAD_H

#include "conffile.h"
#include "core.h"

#include <stddef.h>

/*
 * Checks every option of opts as a start would (a bad value, an unknown
 * name or a missing required option: BS_ERR_INVALID with err naming it,
 * and nothing changes), then takes admin_users, acl_default,
 * log_bootstraps, stats_interval, max_request_bytes, max_failures and
 * lockout_seconds. restart gets the names, comma separated, of the options
 * that changed but need a restart to take effect ("" when none).
 */
int bs_core_reload(bs_core_t *core, const bs_conf_opts_t *opts,
		char *restart, size_t restartlen, char *err, size_t errlen);

#endif
