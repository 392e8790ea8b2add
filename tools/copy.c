/*
 * mosquitto_bootstrap_copy: moves a fleet from one store to another, a
 * SQLite file to a PostgreSQL database or back (lib/store_copy.h): every
 * config with its sealed secrets as they are, under the same master key,
 * in one transaction of the target. Unlike the two MQTT tools it is built
 * on the plugin's own library, whose two backends it drives.
 *
 * Nothing secret is printed: no key, no stored value, no password of a
 * URL (the stores are named as the plugin names them in its log).
 */
#include "crypto.h"
#include "error.h"
#include "store.h"
#include "store_copy.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAME "mosquitto_bootstrap_copy"

static const char USAGE[] =
"Usage: " NAME " --from STORE --to STORE --key-file FILE\n"
"\n"
"Copies every channel, profile, enrollment group, config (its sealed\n"
"secrets byte for byte, its id, times and state), deleted client ID,\n"
"unknown device and the key check from one mosquitto-bootstrap store to\n"
"another, in one transaction of the target: all of it or nothing.\n"
"\n"
"STORE is a SQLite file (as plugin_opt_db_path takes it) or a\n"
"postgresql:// URL (as plugin_opt_db_url takes it).\n"
"\n"
"  --from STORE      the store copied; a SQLite file must exist\n"
"  --to STORE        the store written: empty, or new (a SQLite file or\n"
"                    a PostgreSQL database without the schema is made)\n"
"  --key-file FILE   the master key (plugin_opt_key_file) of --from,\n"
"                    which stays the key of --to\n"
"  -q, --quiet       print nothing on success\n"
"  -h, --help        this text\n"
"\n"
"Stop the brokers on --from first. Exit status: 0 copied, 1 refused or\n"
"failed (nothing written), 2 bad usage or key file.\n";

static int usage_error(const char *what)
{
	fprintf(stderr, NAME ": %s\n(" NAME " --help for usage)\n", what);
	return 2;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What was copied, one figure per table, as the tables are named. */
static void report(const char *from, const char *to, const bs_copy_counts_t *c,
		double seconds)
{
	char a[300], b[300];

	bs_store_name(from, a, sizeof(a));
	bs_store_name(to, b, sizeof(b));
	printf("copied %s to %s in %.1f s:", a, b, seconds);
	for (size_t i = 0; i < bs_rows_ntables; i++)
		printf("%s %ld %s", i ? "," : "", c->rows[i], bs_rows_tables[i]->name);
	printf(", and the key check\n");
}

static int load_key(const char *path, uint8_t key[BS_KEY_LEN])
{
	char err[300];

	/* bs_crypto_key_load makes a key when the file is missing. */
	if (access(path, F_OK) != 0) {
		fprintf(stderr, NAME ": key file %s: no such file\n", path);
		return 2;
	}
	if (bs_crypto_key_load(path, key, err, sizeof(err)) != BS_OK) {
		fprintf(stderr, NAME ": %s\n", err);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL, *key_file = NULL;
	uint8_t key[BS_KEY_LEN];
	bs_copy_counts_t counts;
	char err[600];
	int opt, quiet = 0, rc;
	double t0;

	while ((opt = getopt_long(argc, argv, "qh", longs, NULL)) != -1) {
		switch (opt) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'k': key_file = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: return usage_error("unknown option");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument");
	if (from == NULL || to == NULL || key_file == NULL)
		return usage_error("--from, --to and --key-file are required");
	if (from[0] == '\0' || to[0] == '\0')
		return usage_error("a store is an empty string");
	if ((rc = load_key(key_file, key)) != 0)
		return rc;
	t0 = now_s();
	rc = bs_store_copy(from, to, key, &counts, err, sizeof(err));
	explicit_bzero(key, sizeof(key));
	bs_crypto_release();
	if (rc != BS_OK) {
		fprintf(stderr, NAME ": %s\n", err);
		return 1;
	}
	if (!quiet)
		report(from, to, &counts, now_s() - t0);
	return 0;
}
