#include "fuzz_core.h"

#include "admin.h"
#include "error.h"
#include "options.h"
#include "tmpdir.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char fuzz_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBfDCCASGgAwIBAgIUDVMdpb5nsW1eY8dffGOkh0Vr0gEwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHYnMtZnV6ejAgFw0yNjEyMDIwNTM4MTdaGA8yMTI2MTEwODA1\n"
	"MzgxN1owEjEQMA4GA1UEAwwHYnMtZnV6ejBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
	"A0IABIZs8SC+tGqkloForafkTUOO0R+zZ9wGgQ3wHwf4a2OU67H6KxmR0ItU8ctb\n"
	"+kGHzFR25Jsvv+jV4GS1zBrM42ajUzBRMB0GA1UdDgQWBBTep99PXQwYZ2khWOvZ\n"
	"VFV4JXnFujAfBgNVHSMEGDAWgBTep99PXQwYZ2khWOvZVFV4JXnFujAPBgNVHRMB\n"
	"Af8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDUMPwWq9seGMNbppVrOFO35iVq\n"
	"LxEgGcc6/PRwnqRGTQIhALtu56l0WPU/AnnqYuz7suq4GHiXFRCVZ+q+WfiPriRl\n"
	"-----END CERTIFICATE-----\n";

const char fuzz_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk0umRx0z7Qnv/JCn\n"
	"1cmLO4kgWUKed1c5/2HHFi87EAShRANCAASGbPEgvrRqpJaBaK2n5E1DjtEfs2fc\n"
	"BoEN8B8H+GtjlOux+isZkdCLVPHLW/pBh8xUduSbL7/o1eBktcwazONm\n"
	"-----END PRIVATE KEY-----\n";

const char fuzz_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgTCCASegAwIBAgIUPgZwLAUCBqfmrAHYMpDXOPCw3RUwCgYIKoZIzj0EAwIw\n"
	"FTETMBEGA1UEAwwKYnMtZnV6ei1jYTAgFw0yNjEyMDIwNTM4MTdaGA8yMTI2MTEw\n"
	"ODA1MzgxN1owFTETMBEGA1UEAwwKYnMtZnV6ei1jYTBZMBMGByqGSM49AgEGCCqG\n"
	"SM49AwEHA0IABCHk80+eT71ejcOmmlhhcgxTjSgCDUKFFiS574E0LYcmCY6gxY62\n"
	"ALyoyxwsz+fQgnxesIueKmKiWd9JMN9syW2jUzBRMB0GA1UdDgQWBBRGgUaw5ciN\n"
	"4E0uR7RzjEvO1r/vezAfBgNVHSMEGDAWgBRGgUaw5ciN4E0uR7RzjEvO1r/vezAP\n"
	"BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIAOB22JRosYbFBSzyWDC\n"
	"OQDUGCROTf6va255KSnAIgCoAiEAohm1ByUK1t1YFDtJdxVvy+fOHItUsKwgNp3h\n"
	"vUBcQSw=\n"
	"-----END CERTIFICATE-----\n";

static char dir[32];
static bs_core_t *open_core;

static void drop_line(void *userdata, bs_log_level_t level, const char *line)
{
	(void)userdata;
	(void)level;
	(void)line;
}

static void set(bs_options_t *o, const char *name, const char *value)
{
	char err[256];

	if (bs_options_set(o, name, value, err, sizeof err) != BS_OK) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
}

static void path_in_dir(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", dir, name);
}

/* Closes the core and removes its files: at exit, and before a reopen. */
static void close_core(void)
{
	static const char *const files[] = { "bootstrap.db", "bootstrap.db-wal",
		"bootstrap.db-shm", "bootstrap.key" };
	char path[64];

	bs_core_close(open_core);
	open_core = NULL;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		path_in_dir(path, sizeof path, files[i]);
		unlink(path);
	}
}

static void remove_dir(void)
{
	close_core();
	tmpdir_remove(dir);
}

bs_core_t *fuzz_core_open(void)
{
	char db[64], key[64], err[256];
	bs_options_t o;

	if (dir[0] == '\0') {
		if (tmpdir_make(dir, sizeof dir, "/tmp/bs-fuzz-XXXXXX") != 0)
			abort();
		atexit(remove_dir);
	}
	close_core();
	path_in_dir(db, sizeof db, "bootstrap.db");
	path_in_dir(key, sizeof key, "bootstrap.key");
	if (bs_options_init(&o) != BS_OK)
		abort();
	set(&o, "db_path", db);
	set(&o, "key_file", key);
	set(&o, "admin_users", "admin");
	set(&o, "max_failures", "0");
	/* Every device log line is formatted (control characters escaped),
	 * then dropped. */
	set(&o, "log_bootstraps", "all");
	if (bs_options_finish(&o, err, sizeof err) != BS_OK
			|| bs_core_open(&o, drop_line, NULL, &open_core, err, sizeof err) != BS_OK) {
		fprintf(stderr, "fuzz: cannot open the core: %s\n", err);
		abort();
	}
	bs_options_free(&o);
	return open_core;
}

void fuzz_admin_ok(bs_core_t *core, json_t *commands)
{
	bs_admin_ctx_t ctx = { .username = "admin", .client_id = "fuzz-admin",
		.now = FUZZ_NOW };
	bs_admin_result_t res;
	json_t *batch = json_pack("{s:o}", "commands", commands), *root, *r;
	char *text = batch != NULL ? json_dumps(batch, JSON_COMPACT) : NULL;
	size_t i;

	json_decref(batch);
	if (text == NULL || bs_admin_handle(core, &ctx, text, strlen(text), &res) != BS_OK)
		abort();
	root = json_loadb(res.payload, res.payloadlen, 0, NULL);
	json_array_foreach(json_object_get(root, "responses"), i, r) {
		if (json_object_get(r, "error") != NULL) {
			fprintf(stderr, "fuzz: seeding failed: %.*s\n",
					(int)res.payloadlen, res.payload);
			abort();
		}
	}
	if (root == NULL)
		abort();
	json_decref(root);
	free(text);
	bs_admin_result_free(&res);
}
