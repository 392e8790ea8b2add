#include "pki.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int pki_run(const char *dir, char *const argv[])
{
	char log[512];
	int status = -1;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/openssl.log", dir);
	if ((pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *pki_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
			&& (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(f);
	return buf;
}

int pki_key(const char *dir, const char *name, const char *type)
{
	char path[512];
	const char *alg = "EC", *opt = "ec_paramgen_curve:P-256";

	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	if (strcmp(type, "p384") == 0)
		opt = "ec_paramgen_curve:P-384";
	else if (strcmp(type, "secp256k1") == 0)
		opt = "ec_paramgen_curve:secp256k1";
	else if (strcmp(type, "ed25519") == 0)
		alg = "ED25519", opt = NULL;
	else if (strcmp(type, "rsa") == 0)
		alg = "RSA", opt = "rsa_keygen_bits:2048";
	else if (strcmp(type, "rsa1024") == 0)
		alg = "RSA", opt = "rsa_keygen_bits:1024";
	else if (strcmp(type, "ec") != 0)
		return -1;
	char *with_opt[] = { "openssl", "genpkey", "-algorithm", (char *)alg,
		"-pkeyopt", (char *)opt, "-out", path, NULL };
	char *without[] = { "openssl", "genpkey", "-algorithm", (char *)alg,
		"-out", path, NULL };
	return pki_run(dir, opt ? with_opt : without) == 0 ? 0 : -1;
}

int pki_ca(const char *dir, const char *name, const char *type)
{
	char key[512], cert[512], subj[300];

	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
	snprintf(subj, sizeof(subj), "/CN=%s", name);
	char *argv[] = { "openssl", "req", "-x509", "-new", "-key", key, "-subj", subj,
		"-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", cert, NULL };
	if (pki_key(dir, name, type) != 0)
		return -1;
	return pki_run(dir, argv) == 0 ? 0 : -1;
}

char *pki_csr(const char *dir, const char *name, const char *type, const char *cn)
{
	char key[512], csr[512], subj[300];

	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(csr, sizeof(csr), "%s/%s.csr", dir, name);
	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	char *argv[] = { "openssl", "req", "-new", "-key", key, "-subj", subj,
		"-out", csr, NULL };
	if (pki_key(dir, name, type) != 0 || pki_run(dir, argv) != 0)
		return NULL;
	return pki_read(csr);
}
