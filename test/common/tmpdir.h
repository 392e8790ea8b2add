/* Throwaway directories for tests and benchmarks. */
#ifndef TMPDIR_H
#define TMPDIR_H

#include <stddef.h>

/* A fresh directory from template (a mkdtemp template, "/tmp/bs-x-XXXXXX")
 * into out; 0, or -1 with out set to "". */
int tmpdir_make(char *out, size_t outlen, const char *template);

/* Removes dir and everything under it, without following links; "" and a
 * missing directory are fine. 0, or -1 when something stayed. */
int tmpdir_remove(const char *dir);

#endif
