/*
 * CUnit assertions that return whether they held, so a test can stop early
 * with "if (!CHECK(x)) goto out;" and still free what it holds.
 */
#ifndef IT_CHECK_H
#define IT_CHECK_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond) check_true((cond) ? true : false, #cond, __FILE__, __LINE__)

#define CHECK_STR(got, want) \
	check_str((got), (want), #got " == " #want, __FILE__, __LINE__)

static inline bool check_true(bool ok, const char *expr, const char *file,
		unsigned line)
{
	return CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, expr,
			file, "", CU_FALSE);
}

static inline bool check_str(const char *got, const char *want,
		const char *expr, const char *file, unsigned line)
{
	bool ok = got != NULL && want != NULL && strcmp(got, want) == 0;
	if (!ok)
		fprintf(stderr, "%s:%u: got \"%.300s\", want \"%.300s\"\n", file,
				line, got != NULL ? got : "(null)",
				want != NULL ? want : "(null)");
	return CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, expr,
			file, "", CU_FALSE);
}

#endif
