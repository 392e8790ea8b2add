/*
 * What the fuzz targets of the core share: one real core on a throwaway
 * directory (removed at exit), opened as the plugin would open it but
 * with lockout off, so that a fuzzer's many wrong keys do not turn every
 * later request into rate_limited; and the seed material they store.
 */
#ifndef BS_FUZZ_CORE_H
#define BS_FUZZ_CORE_H

#include "core.h"

#include <jansson.h>

#include <stddef.h>
#include <time.h>

/* A fixed clock: 2026-01-02T03:04:05Z. */
#define FUZZ_NOW ((time_t)1767323045)

/* A self-signed EC P-256 certificate, its private key, and another
 * certificate for ca_cert; made with openssl for these targets only. */
extern const char fuzz_cert_pem[];
extern const char fuzz_key_pem[];
extern const char fuzz_ca_pem[];

/* The core on a fresh directory (the same one on every call: its files
 * are deleted first); aborts when it does not open. */
bs_core_t *fuzz_core_open(void);

/* Runs {"commands": commands} (stolen) as user "admin"; aborts unless
 * every command of it succeeds. */
void fuzz_admin_ok(bs_core_t *core, json_t *commands);

#endif
