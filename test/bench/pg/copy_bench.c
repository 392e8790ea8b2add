/*
 * What moving a fleet costs (mosquitto_bootstrap_copy, make bench-copy):
 * a SQLite store of --configs configs made through the store (secrets
 * sealed, a channel link and a last bootstrap each), copied by the tool
 * into a database of a throwaway PostgreSQL server, then back into a new
 * SQLite file. Each copy is timed as the tool runs, start to exit; the
 * copy back is then opened with the key and checked: as many configs,
 * and a config's secrets open to what was stored.
 */
#include "crypto.h"
#include "error.h"
#include "pg_server.h"
#include "store.h"
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 5000

static long nconfigs = 100000;
static const char *tool = "build/default/tools/mosquitto_bootstrap_copy";

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void secret_of(long i, char out[64])
{
	snprintf(out, 64, "secret-%08ld-0123456789abcdefghijklmnopqrstu", i);
}

static int fill(bs_store_t *st)
{
	bs_channel_t ch = { .id = "telemetry", .name = "Telemetry", .metadata = "{}" };
	int rc = bs_store_channel_insert(st, &ch, "2026-01-01T00:00:00Z");

	for (long i = 0; rc == BS_OK && i < nconfigs; i += BATCH) {
		rc = bs_store_begin(st);
		for (long j = i; rc == BS_OK && j < i + BATCH && j < nconfigs; j++) {
			bs_channel_t link = { .id = "telemetry" };
			bs_config_t c = { .channels = &link, .nchannels = 1, .enabled = j % 10 != 0 };
			char ext[32], client[32], secret[64], key[32];

			snprintf(ext, sizeof(ext), "00:1A:%08lX", j);
			snprintf(client, sizeof(client), "device-%08ld", j);
			snprintf(key, sizeof(key), "factory-key-%08ld", j);
			secret_of(j, secret);
			c.client_id = client;
			c.external_id = ext;
			c.name = ext;
			c.client_secret = secret;
			c.external_key = key;
			c.content = "{\"interval\": 30, \"site\": \"plant-1\"}";
			snprintf(c.created_at, BS_TIME_LEN, "2026-01-01T00:00:00Z");
			snprintf(c.updated_at, BS_TIME_LEN, "2026-01-01T00:00:00Z");
			if ((rc = bs_store_config_insert(st, &c)) == BS_OK)
				rc = bs_store_config_touch_bootstrap(st, j + 1, 1767225600 + j);
		}
		rc = rc == BS_OK ? bs_store_commit(st) : rc;
	}
	if (rc != BS_OK)
		fprintf(stderr, "fill: %s\n", bs_store_errmsg(st));
	return rc == BS_OK ? 0 : -1;
}

static int make_source(const char *db, const uint8_t key[BS_KEY_LEN])
{
	bs_store_t *st = NULL;
	char err[300];
	double t0 = now_s();
	int rc;

	if (bs_store_open(db, key, &st, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	rc = fill(st);
	bs_store_close(st);
	if (rc == 0)
		printf("made a SQLite store of %ld configs in %.1f s\n", nconfigs, now_s() - t0);
	return rc;
}

/* The tool, from one store to the other: its time, or -1. */
static double run_copy(const char *from, const char *to, const char *key_file)
{
	double t0 = now_s();
	int status;
	pid_t pid = (fflush(stdout), fork());

	if (pid == 0) {
		execl(tool, tool, "--from", from, "--to", to, "--key-file", key_file,
				(char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
			|| WEXITSTATUS(status) != 0)
		return -1;
	return now_s() - t0;
}

static int check_back(const char *db, const uint8_t key[BS_KEY_LEN])
{
	bs_store_t *st = NULL;
	bs_config_t c = { 0 };
	bs_config_filter_t all = { .enabled = -1 };
	char err[300], secret[64], ext[32];
	long n = 0, last = nconfigs - 1;
	int ok;

	if (bs_store_open(db, key, &st, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	snprintf(ext, sizeof(ext), "00:1A:%08lX", last);
	secret_of(last, secret);
	ok = bs_store_config_count(st, &all, &n) == BS_OK && n == nconfigs
		&& bs_store_config_get(st, NULL, ext, BS_LOAD_SECRET, &c) == BS_OK
		&& c.client_secret != NULL && strcmp(c.client_secret, secret) == 0
		&& c.last_bootstrap_at[0] != '\0';
	bs_config_clear(&c);
	bs_store_close(st);
	if (!ok)
		fprintf(stderr, "the copy back is not the fleet (%ld configs)\n", n);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	bs_pg_server_t server = { 0 };
	char dir[128], db[200], back[200], key_file[200], url[256], err[300];
	uint8_t key[BS_KEY_LEN];
	double there, home;
	int rc = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--configs") == 0)
			nconfigs = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--tool") == 0)
			tool = argv[i + 1];
	}
	if (nconfigs < 1 || tmpdir_make(dir, sizeof(dir), "/tmp/bs-copy-XXXXXX") != 0)
		return 2;
	snprintf(db, sizeof(db), "%s/fleet.db", dir);
	snprintf(back, sizeof(back), "%s/back.db", dir);
	snprintf(key_file, sizeof(key_file), "%s/bootstrap.key", dir);
	if (bs_crypto_key_load(key_file, key, err, sizeof(err)) != BS_OK
			|| make_source(db, key) != 0 || bs_pg_server_start(&server) != 0
			|| bs_pg_server_createdb(&server, "fleet", NULL, url, sizeof(url)) != 0)
		goto out;
	if ((there = run_copy(db, url, key_file)) < 0 || (home = run_copy(url, back, key_file)) < 0
			|| check_back(back, key) != 0)
		goto out;
	printf("mosquitto_bootstrap_copy, %ld configs: SQLite to PostgreSQL %.1f s "
			"(%.0f configs/s), PostgreSQL to SQLite %.1f s (%.0f configs/s)\n", nconfigs,
			there, (double)nconfigs / there, home, (double)nconfigs / home);
	rc = 0;
out:
	bs_pg_server_stop(&server);
	tmpdir_remove(dir);
	return rc;
}
