/* What the benchmarks of the core without a broker share. */
#ifndef BS_BENCH_CORE_H
#define BS_BENCH_CORE_H

#include "core.h"

/* Seconds on the monotonic clock. */
double bench_now(void);

/* The core on db and key with admin_users unset and the options of extra
 * (name, value, ..., NULL; may be NULL), logging nothing; NULL (the reason
 * on stderr) when it does not open. */
bs_core_t *bench_core_open(const char *db, const char *key, const char *const *extra);

/* n device requests of req, the tick run as the broker would; the seconds
 * they took, or -1 when one was not answered with success. */
double bench_requests(bs_core_t *core, const char *req, long n);

#endif
