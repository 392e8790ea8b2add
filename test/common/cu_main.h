/*
 * Shared runner for the CUnit test binaries: each binary registers its
 * suites, then returns cu_run(), which runs them in basic mode and prints
 * one closing line "<binary>: N passed, N failed" for test/run.sh to add up,
 * and, when some tests were skipped, a line "<binary>: N skipped" before it.
 */
#ifndef CU_MAIN_H
#define CU_MAIN_H

#include <CUnit/CUnit.h>

typedef struct {
	const char *name;
	CU_TestFunc fn;
} cu_test_t;

/* Adds a suite from a NULL-terminated table; aborts the run on failure. */
void cu_add_suite(const char *name, CU_InitializeFunc init,
		CU_CleanupFunc clean, const cu_test_t *tests);

/*
 * A check run after every suite (such as the integration tests' leak
 * scan): the number of failures it found, added to the run's.
 */
void cu_set_final_check(int (*check)(void));

/*
 * Skips the running test (called at its start, it then returns at once):
 * it is counted as skipped, not passed, and why is printed with it.
 */
void cu_skip(const char *why);

/* Counts every test of the table as skipped, registering none of them. */
void cu_skip_suite(const char *name, const cu_test_t *tests, const char *why);

/* Runs every registered suite; returns the process exit status. */
int cu_run(const char *binary);

#endif
