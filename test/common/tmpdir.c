#define _XOPEN_SOURCE 700 /* nftw */

#include "tmpdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int tmpdir_make(char *out, size_t outlen, const char *template)
{
	if ((size_t)snprintf(out, outlen, "%s", template) >= outlen || mkdtemp(out) == NULL) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
		struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tmpdir_remove(const char *dir)
{
	struct stat st;

	if (dir == NULL || dir[0] == '\0' || lstat(dir, &st) != 0)
		return 0;
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}
