/* lib/lockout.c: failed attempts per (external ID, address), section 6. */
#include "cu_main.h"
#include "lockout.h"

#include <stdio.h>
#include <string.h>

#define NOW ((time_t)1767323045)

static bs_lockout_t fresh(int max_failures, int seconds)
{
	bs_lockout_t l;

	memset(&l, 0, sizeof(l));
	l.max_failures = max_failures;
	l.seconds = seconds;
	return l;
}

static void fail(bs_lockout_t *l, const char *id, const char *addr, time_t at, int n)
{
	for (int i = 0; i < n; i++)
		bs_lockout_failed(l, id, addr, at);
}

static void test_max_failures_lock_the_pair_and_nothing_else(void)
{
	bs_lockout_t l = fresh(5, 60);

	fail(&l, "dev-1", "192.0.2.1", NOW, 4);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "192.0.2.1", NOW), 0);
	fail(&l, "dev-1", "192.0.2.1", NOW + 10, 1);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "192.0.2.1", NOW + 10), 60);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "192.0.2.1", NOW + 69), 1);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "192.0.2.1", NOW + 70), 0);
	/* The same ID from elsewhere, another ID from here: not locked. */
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "192.0.2.2", NOW + 10), 0);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-2", "192.0.2.1", NOW + 10), 0);
	CU_ASSERT_EQUAL(bs_lockout_active(&l, NOW + 10), 1);
	bs_lockout_free(&l);
}

static void test_failures_count_within_the_window(void)
{
	bs_lockout_t l = fresh(5, 60);

	fail(&l, "dev-1", "a", NOW, 4);
	fail(&l, "dev-1", "a", NOW + 60, 4);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "a", NOW + 60), 0);
	fail(&l, "dev-1", "a", NOW + 61, 1);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "a", NOW + 61), 60);
	bs_lockout_free(&l);
}

static void test_each_repeat_doubles_up_to_an_hour_and_success_resets(void)
{
	bs_lockout_t l = fresh(5, 600);
	static const long want[] = { 600, 1200, 2400, 3600, 3600 };
	time_t t = NOW;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		fail(&l, "dev-1", "a", t, 5);
		CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "a", t), want[i]);
		t += want[i];
	}
	bs_lockout_passed(&l, "dev-1", "a");
	fail(&l, "dev-1", "a", t, 5);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "a", t), 600);
	bs_lockout_free(&l);
}

static void test_zero_max_failures_never_locks(void)
{
	bs_lockout_t l = fresh(0, 60);

	fail(&l, "dev-1", "a", NOW, 100);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "dev-1", "a", NOW), 0);
	CU_ASSERT_EQUAL(bs_lockout_bytes(&l), 0);
	bs_lockout_free(&l);
}

/* A flood of distinct pairs stays within the ring and does not free a
 * pair that is locked out. */
static void test_a_flood_of_pairs_is_bounded_and_keeps_the_locked(void)
{
	bs_lockout_t l = fresh(5, 60);
	char id[32];

	fail(&l, "victim", "a", NOW, 5);
	for (size_t i = 0; i < 2 * BS_LOCKOUT_MAX; i++) {
		snprintf(id, sizeof id, "flood-%08zu", i);
		bs_lockout_failed(&l, id, "198.51.100.1", NOW);
	}
	CU_ASSERT_EQUAL(l.pairs.n, BS_LOCKOUT_MAX);
	CU_ASSERT_EQUAL(bs_lockout_wait(&l, "victim", "a", NOW + 1), 59);
	printf("\n    %d pairs (14-byte ids, 12-byte address) hold %zu bytes\n",
			BS_LOCKOUT_MAX, bs_lockout_bytes(&l));
	CU_ASSERT(bs_lockout_bytes(&l) < 32u * 1024 * 1024);
	bs_lockout_free(&l);
}

static const cu_test_t tests[] = {
	{ "max_failures_lock_the_pair_and_nothing_else",
		test_max_failures_lock_the_pair_and_nothing_else },
	{ "failures_count_within_the_window", test_failures_count_within_the_window },
	{ "each_repeat_doubles_up_to_an_hour_and_success_resets",
		test_each_repeat_doubles_up_to_an_hour_and_success_resets },
	{ "zero_max_failures_never_locks", test_zero_max_failures_never_locks },
	{ "a_flood_of_pairs_is_bounded_and_keeps_the_locked",
		test_a_flood_of_pairs_is_bounded_and_keeps_the_locked },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("lockout", NULL, NULL, tests);
	return cu_run("test_lockout");
}
