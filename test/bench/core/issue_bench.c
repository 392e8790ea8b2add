/*
 * What a certificate issuance (protocol 3.3) costs the broker's thread:
 * bootstraps with a CSR through bs_device_handle, for each pair of issuing
 * CA key and device key (EC P-256, RSA 2048), against the same bootstrap
 * without a CSR. Each issuance parses and verifies the CSR, signs a
 * certificate and writes it to the store. CAs and CSRs are made with the
 * openssl command.
 *
 *   issue_bench [issuances per pair, default 300]
 */
#include "admin.h"
#include "bench_core.h"
#include "device.h"
#include "error.h"
#include "pki.h"
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define KEY "issue-bench-key-1"

static bs_core_t *open_core(const char *dir, const char *ca, const char *dev)
{
	char db[256], key[256], cert[256], cakey[256];

	snprintf(db, sizeof(db), "%s/%s-%s.db", dir, ca, dev);
	snprintf(key, sizeof(key), "%s/bootstrap.key", dir);
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, ca);
	snprintf(cakey, sizeof(cakey), "%s/%s.key", dir, ca);
	chmod(cakey, 0600);
	const char *extra[] = { "ca_cert", cert, "ca_key", cakey, NULL };
	return bench_core_open(db, key, extra);
}

static int admin(bs_core_t *core, const char *batch)
{
	bs_admin_ctx_t ctx = { .username = "admin", .client_id = "bench", .now = time(NULL) };
	bs_admin_result_t res;
	int rc = bs_admin_handle(core, &ctx, batch, strlen(batch), &res);

	if (rc == BS_OK && strstr(res.payload, "\"error\"") != NULL)
		rc = BS_ERR_INTERNAL;
	bs_admin_result_free(&res);
	return rc;
}

/* {"external_id", "external_key", "csr"} for a CSR text. */
static char *request(const char *csr)
{
	size_t len = strlen(csr) * 2 + 128;
	char *out = malloc(len), *q;

	q = out + snprintf(out, len, "{\"external_id\":\"ext-1\",\"external_key\":\"" KEY
			"\",\"csr\":\"");
	for (const char *p = csr; *p; p++) {
		if (*p == '\n') {
			*q++ = '\\';
			*q++ = 'n';
		} else {
			*q++ = *p;
		}
	}
	strcpy(q, "\"}");
	return out;
}

static int pair(const char *dir, const char *ca, const char *dev, long n)
{
	bs_core_t *core = open_core(dir, ca, dev);
	char name[16], *csr, *req;
	double plain, issued;
	int rc = 1;

	snprintf(name, sizeof(name), "device-%s", dev);
	csr = pki_csr(dir, name, dev, "device");
	req = csr ? request(csr) : NULL;
	if (core == NULL || req == NULL || admin(core, "{\"commands\":[{\"command\":"
			"\"createConfig\",\"client_id\":\"cid-1\",\"external_id\":\"ext-1\","
			"\"external_key\":\"" KEY "\"},{\"command\":\"enableConfig\","
			"\"client_id\":\"cid-1\"}]}") != BS_OK)
		goto out;
	plain = bench_requests(core, "{\"external_id\":\"ext-1\",\"external_key\":\"" KEY "\"}", n);
	issued = bench_requests(core, req, n);
	if (plain < 0 || issued < 0)
		goto out;
	printf("CA %-3s device %-3s: %5.0f issuances/s, %7.1f us each "
			"(%6.1f us more than a bootstrap without a CSR)\n", ca, dev, n / issued,
			issued / n * 1e6, (issued - plain) / n * 1e6);
	rc = 0;
out:
	bs_core_close(core);
	free(csr);
	free(req);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "ec", "rsa" };
	long n = argc > 1 ? atol(argv[1]) : 300;
	char dir[64];
	int rc = 0;

	if (n < 1 || tmpdir_make(dir, sizeof(dir), "/tmp/bs-issue-XXXXXX") != 0)
		return 2;
	for (size_t c = 0; c < 2; c++) {
		if (pki_ca(dir, keys[c], keys[c]) != 0)
			rc = 1;
		for (size_t d = 0; rc == 0 && d < 2; d++)
			rc = pair(dir, keys[c], keys[d], n);
	}
	if (rc != 0)
		fprintf(stderr, "issue_bench: a request failed\n");
	tmpdir_remove(dir);
	return rc;
}
