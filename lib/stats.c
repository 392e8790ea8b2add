#include "stats.h"

#include "core.h"
#include "error.h"

#include <stdio.h>

void bs_stats_request(bs_stats_t *s, int rc)
{
	/* In the order of the BS_STAT_* outcomes; anything else is an error. */
	static const int codes[BS_STAT_ERROR] = { BS_OK, BS_ERR_UNAUTHORIZED,
		BS_ERR_DISABLED, BS_ERR_INVALID, BS_ERR_RATE_LIMITED };
	int i = 0;

	while (i < BS_STAT_ERROR && codes[i] != rc)
		i++;
	s->requests[i]++;
}

void bs_stats_collect(bs_core_t *core, time_t now, int store_held,
		bs_stat_t out[BS_STATS_N])
{
	static const char *const names[BS_STATS_N] = {
		"requests/ok", "requests/unauthorized", "requests/disabled",
		"requests/invalid", "requests/rate_limited", "requests/error",
		"challenges", "enrolled", "certificates/issued",
		"configs/enabled", "configs/disabled", "clients/connected",
		"lockouts/active", "unknown",
	};
	const bs_stats_t *s = &core->stats;
	long enabled = -1, disabled = -1;

	if (store_held && bs_store_config_states(core->store, &enabled, &disabled) != BS_OK)
		enabled = disabled = -1;
	for (int i = 0; i < BS_STATS_N; i++)
		out[i].name = names[i];
	for (int i = 0; i < BS_STAT_OUTCOMES; i++)
		out[i].value = (long long)s->requests[i];
	out[6].value = (long long)s->challenges;
	out[7].value = (long long)s->enrolled;
	out[8].value = (long long)s->certificates_issued;
	out[9].value = enabled;
	out[10].value = disabled;
	out[11].value = (long long)bs_sessions_connected(&core->sessions);
	out[12].value = (long long)bs_lockout_active(&core->lockout, now);
	out[13].value = (long long)bs_unknown_count(&core->unknown);
}

const char *bs_stats_key(const char *name, char *out, size_t outlen)
{
	size_t i = 0;

	for (; name[i] != '\0' && i + 1 < outlen; i++)
		out[i] = name[i] == '/' ? '_' : name[i];
	out[i] = '\0';
	return out;
}
