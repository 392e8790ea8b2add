/*
 * Where a success reply goes: stdout as JSON, or one file per field in
 * --out-dir. Each file is written to a new temporary name (mkstemp: O_EXCL,
 * mode 0600 from the start), flushed, then renamed over the old one, so a
 * reader never sees half a secret and a secret is never readable by others,
 * not even for a moment.
 */
#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	const char *field;          /* in the reply */
	const char *file;           /* in --out-dir */
	mode_t mode;
} out_file_t;

static const out_file_t FILES[] = {
	{ "client_id", "client_id", 0644 },
	{ "client_secret", "client_secret", 0600 },
	{ "channels", "channels.json", 0644 },
	{ "content", "content", 0644 },
	{ "client_cert", "client_cert.pem", 0644 },
	{ "client_key", "client_key.pem", 0600 },
	{ "ca_cert", "ca_cert.pem", 0644 },
};

char *dev_printable(const char *s)
{
	char *out = strdup(s != NULL ? s : "(none)");

	for (char *p = out; p != NULL && *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return out;
}

int dev_out_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, DEV_NAME ": cannot create %s: %s\n", dir, strerror(errno));
		return DEV_EOUTPUT;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, DEV_NAME ": %s is not a directory this user can write to\n",
				dir);
		return DEV_EOUTPUT;
	}
	return DEV_OK;
}

int dev_out_print(const json_t *cfg)
{
	if (json_dumpf(cfg, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
			fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, DEV_NAME ": cannot write to stdout\n");
		return DEV_EOUTPUT;
	}
	return DEV_OK;
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes text as path with mode, atomically: 0 or -1 (errno set). The
 * temporary file is made beside it, so that the rename stays within one
 * file system. */
static int replace_path(const char *path, const char *text, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char tmp[4096];
	int fd, rc, saved;

	if (slash == NULL)
		rc = snprintf(tmp, sizeof tmp, ".%s.XXXXXX", path);
	else
		rc = snprintf(tmp, sizeof tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path,
				slash + 1);
	if (rc < 0 || rc >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	rc = fchmod(fd, mode) == 0 && write_all(fd, text, strlen(text)) == 0
		&& fsync(fd) == 0 ? 0 : -1;
	saved = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0)
		unlink(tmp);
	errno = saved;
	return rc;
}

/* Writes text as dir/name with mode, atomically: 0 or -1 (errno set). */
static int replace_file(const char *dir, const char *name, const char *text,
		mode_t mode)
{
	char path[4096];

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return replace_path(path, text, mode);
}

/* The directory part of path ("." when it has none), malloc()ed. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int dev_out_prepare_file(const char *path)
{
	char *dir = dir_of(path);
	struct stat st;
	int rc = DEV_OK;

	if (dir == NULL || path[0] == '\0' || path[strlen(path) - 1] == '/' ||
			(stat(path, &st) == 0 && !S_ISREG(st.st_mode)) ||
			stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
			access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, DEV_NAME ": cannot write %s: not a file in a directory "
				"this user can write to\n", path);
		rc = DEV_EOUTPUT;
	}
	free(dir);
	return rc;
}

int dev_out_file(const char *path, const char *text, mode_t mode)
{
	char *dir;
	int fd;

	if (replace_path(path, text, mode) != 0) {
		fprintf(stderr, DEV_NAME ": cannot write %s: %s\n", path, strerror(errno));
		return DEV_EOUTPUT;
	}
	/* The rename itself lasts across a power cut. */
	if ((dir = dir_of(path)) != NULL &&
			(fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
	return DEV_OK;
}

/* The file's text for one field: strings as they are, channels as JSON
 * (malloc()ed); NULL when the reply has no such field. */
static char *field_text(const json_t *cfg, const char *field)
{
	const json_t *v = json_object_get(cfg, field);

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_array(v)) {
		char *json = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		size_t n = json != NULL ? strlen(json) : 0;
		char *text = json != NULL ? malloc(n + 2) : NULL;
		if (text != NULL)
			snprintf(text, n + 2, "%s\n", json);
		free(json);
		return text;
	}
	return NULL;
}

static int put_field(const char *dir, const json_t *cfg, const out_file_t *f)
{
	char *text = field_text(cfg, f->field);
	int rc, saved;

	if (text == NULL) {
		/* Left out of this reply: a file from an older bootstrap would lie. */
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, f->file);
		rc = unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	} else {
		rc = replace_file(dir, f->file, text, f->mode);
		saved = errno;
		/* It may be a secret: no copy of it stays in freed memory. */
		OPENSSL_cleanse(text, strlen(text));
		free(text);
		errno = saved;
	}
	if (rc != 0)
		fprintf(stderr, DEV_NAME ": cannot write %s/%s: %s\n", dir, f->file,
				strerror(errno));
	return rc;
}

int dev_out_dir(const char *dir, const json_t *cfg)
{
	int rc = DEV_OK;

	for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
		if (put_field(dir, cfg, &FILES[i]) != 0)
			rc = DEV_EOUTPUT;
	}
	/* The renames themselves last across a power cut. */
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return rc;
}
