#include "bench_core.h"

#include "device.h"
#include "error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void quiet(void *userdata, bs_log_level_t level, const char *line)
{
	(void)userdata;
	(void)level;
	(void)line;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bs_core_t *bench_core_open(const char *db, const char *key, const char *const *extra)
{
	char err[256] = "";
	bs_options_t o;
	bs_core_t *core = NULL;
	int rc = bs_options_init(&o);

	if (rc == BS_OK)
		rc = bs_options_set(&o, "db_path", db, err, sizeof(err));
	if (rc == BS_OK)
		rc = bs_options_set(&o, "key_file", key, err, sizeof(err));
	for (size_t i = 0; rc == BS_OK && extra != NULL && extra[i] != NULL; i += 2)
		rc = bs_options_set(&o, extra[i], extra[i + 1], err, sizeof(err));
	if (rc == BS_OK)
		rc = bs_options_finish(&o, err, sizeof(err));
	if (rc == BS_OK)
		rc = bs_core_open(&o, quiet, NULL, &core, err, sizeof(err));
	if (rc != BS_OK)
		fprintf(stderr, "cannot open the core: %s\n", err);
	bs_options_free(&o);
	return core;
}

double bench_requests(bs_core_t *core, const char *req, long n)
{
	bs_request_ctx_t ctx = { .client_id = "dev", .address = "192.0.2.1" };
	double t0 = bench_now();

	for (long i = 0; i < n; i++) {
		bs_reply_t r;
		ctx.now = time(NULL);
		if (bs_device_handle(core, &ctx, req, strlen(req), &r) != BS_OK || r.err != BS_OK) {
			bs_reply_free(&r);
			return -1;
		}
		bs_reply_free(&r);
		if (i % 1000 == 0)
			bs_core_tick(core, (long long)(bench_now() * 1000));
	}
	return bench_now() - t0;
}
