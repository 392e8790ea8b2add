#include "cu_main.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

static int (*final_check)(void);
/* Tests that ran and skipped themselves; tests of suites not run. */
static unsigned skipped_run, skipped_unrun;

void cu_set_final_check(int (*check)(void))
{
	final_check = check;
}

static void ensure_registry(void)
{
	if (CU_get_registry() == NULL && CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: cannot initialise the registry\n");
		exit(2);
	}
}

void cu_add_suite(const char *name, CU_InitializeFunc init,
		CU_CleanupFunc clean, const cu_test_t *tests)
{
	ensure_registry();
	CU_pSuite suite = CU_add_suite(name, init, clean);
	if (suite == NULL) {
		fprintf(stderr, "CUnit: cannot add suite %s\n", name);
		exit(2);
	}
	for (; tests->name != NULL; tests++) {
		if (CU_add_test(suite, tests->name, tests->fn) == NULL) {
			fprintf(stderr, "CUnit: cannot add test %s\n", tests->name);
			exit(2);
		}
	}
}

void cu_skip(const char *why)
{
	printf("skipped (%s) ", why);
	fflush(stdout);
	skipped_run++;
}

void cu_skip_suite(const char *name, const cu_test_t *tests, const char *why)
{
	unsigned n = 0;

	for (; tests->name != NULL; tests++)
		n++;
	printf("Suite %s: %u tests skipped (%s)\n", name, n, why);
	skipped_unrun += n;
}

int cu_run(const char *binary)
{
	ensure_registry();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned run = CU_get_number_of_tests_run();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned suites_failed = CU_get_number_of_suites_failed();
	unsigned late = final_check != NULL ? (unsigned)final_check() : 0;
	unsigned passed = run - failed > skipped_run ? run - failed - skipped_run : 0;
	if (skipped_run + skipped_unrun > 0)
		printf("%s: %u skipped\n", binary, skipped_run + skipped_unrun);
	printf("%s: %u passed, %u failed\n", binary, passed,
			failed + suites_failed + late);
	CU_cleanup_registry();
	return (failed || suites_failed || late) ? 1 : 0;
}
