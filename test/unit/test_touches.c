/* Recorded bootstraps: in id order, deduplicated, written in slices, none
 * lost; written by the write-behind thread, which never holds the broker
 * thread up for long. */
#include "cu_main.h"
#include "error.h"
#include "flusher.h"
#include "store_sqlite.h"
#include "touches.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char db_path[128];
static bs_store_t *store;
static bs_touches_t touches;

static int suite_init(void)
{
	static const uint8_t key[BS_KEY_LEN] = { 1, 2, 3 };
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/bs-touch-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db_path, sizeof(db_path), "%s/bootstrap.db", dir);
	return bs_store_open(db_path, key, &store, err, sizeof(err)) == BS_OK ? 0 : -1;
}

static int suite_clean(void)
{
	char path[160];

	bs_touches_free(&touches);
	bs_store_close(store);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
	unlink(db_path);
	rmdir(dir);
	return 0;
}

static long long query(const char *sql, long long arg)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(lite(bs_store_backend(store))->db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, arg);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return v;
}

static long long stored_at(int64_t id)
{
	return query("SELECT at FROM bootstraps WHERE config_id = ?", id);
}

static void reset(void)
{
	bs_touches_free(&touches);
	CU_ASSERT_EQUAL(sqlite3_exec(lite(bs_store_backend(store))->db, "DELETE FROM bootstraps", NULL, NULL, NULL),
			SQLITE_OK);
}

/* Writes everything, the way bs_core_flush does. */
static void write_all(void)
{
	size_t failed;

	for (int i = 0; i < 3 && bs_touches_waiting(&touches) > 0; i++) {
		bs_touches_write(&touches, store, (size_t)-1, 1, &failed);
		CU_ASSERT_EQUAL(failed, 0);
	}
	CU_ASSERT_EQUAL(bs_touches_waiting(&touches), 0);
}

static void test_newest_bootstrap_of_each_config_is_kept(void)
{
	reset();
	for (int round = 0; round < 3; round++) {
		for (int64_t id = 500; id >= 1; id--)
			CU_ASSERT_EQUAL(bs_touches_add(&touches, id, 1000 + round * 10 + id % 7),
					BS_OK);
	}
	write_all();
	CU_ASSERT_EQUAL(query("SELECT count(*) FROM bootstraps WHERE ? = 0", 0), 500);
	for (int64_t id = 1; id <= 500; id++)
		CU_ASSERT_EQUAL(stored_at(id), 1020 + id % 7);
}

/* Ids on one page, on neighbouring pages and far apart, added out of
 * order: each slice writes the smallest ones still waiting. */
static void test_ids_are_written_in_order_whatever_their_spread(void)
{
	static const int64_t ids[] = { 4194305, 3, 4096, 4095, 1LL << 40, 4194304, 0, 63, 64 };
	static const int64_t sorted[] = { 0, 3, 63, 64, 4095, 4096, 4194304, 4194305,
		1LL << 40 };
	const size_t n = sizeof(ids) / sizeof(ids[0]);
	size_t failed;

	reset();
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(bs_touches_add(&touches, ids[i], 7), BS_OK);
	CU_ASSERT_EQUAL(bs_touches_add(&touches, -1, 7), BS_ERR_INVALID);
	for (size_t k = 0; k < n; k += 2) {
		bs_touches_write(&touches, store, 2, 1, &failed);
		CU_ASSERT_EQUAL(failed, 0);
		CU_ASSERT_EQUAL(query("SELECT count(*) FROM bootstraps WHERE ? = 0", 0),
				k + 2 < n ? (long long)k + 2 : (long long)n);
		for (size_t i = 0; i < n; i++)
			CU_ASSERT_EQUAL(stored_at(sorted[i]), i < k + 2 ? 7 : -1);
	}
	CU_ASSERT_EQUAL(bs_touches_waiting(&touches), 0);
}

static void test_slices_write_the_batch_and_later_ones_wait(void)
{
	size_t failed;

	reset();
	for (int64_t id = 1; id <= 1000; id++)
		bs_touches_add(&touches, id, 50);
	/* The first call makes the batch and writes its first 300. */
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 300, 1, &failed), 1);
	CU_ASSERT_EQUAL(query("SELECT count(*) FROM bootstraps WHERE ? = 0", 0), 300);
	/* Recorded now, it waits for the next batch even when rotation is due. */
	bs_touches_add(&touches, 1, 60);
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 300, 1, &failed), 0);
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 300, 1, &failed), 0);
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 300, 1, &failed), 0);
	CU_ASSERT_EQUAL(query("SELECT count(*) FROM bootstraps WHERE ? = 0", 0), 1000);
	CU_ASSERT_EQUAL(stored_at(1), 50);
	/* Without rotation allowed, nothing more is written. */
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 300, 0, &failed), 0);
	CU_ASSERT_EQUAL(stored_at(1), 50);
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 300, 1, &failed), 1);
	CU_ASSERT_EQUAL(stored_at(1), 60);
	CU_ASSERT_EQUAL(bs_touches_waiting(&touches), 0);
}

static void test_nothing_waiting_writes_nothing(void)
{
	size_t failed = 99;

	reset();
	CU_ASSERT_EQUAL(bs_touches_write(&touches, store, 100, 1, &failed), 0);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(query("SELECT count(*) FROM bootstraps WHERE ? = 0", 0), 0);
}

/* ---- the write-behind thread ------------------------------------------ */

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_the_thread_writes_what_is_handed_over(void)
{
	bs_flusher_t *f;
	long long end = mono_ms() + 3000;
	size_t left = 1;

	reset();
	CU_ASSERT_FATAL(bs_flusher_start(store, &f) == BS_OK);
	for (int64_t id = 1; id <= 2000; id++)
		CU_ASSERT_EQUAL(bs_touches_add(&touches, id, 5000 + id), BS_OK);
	CU_ASSERT_EQUAL(bs_flusher_enter(f), BS_OK);
	CU_ASSERT_EQUAL(bs_flusher_hand(f, &touches), 1);
	CU_ASSERT_EQUAL(bs_touches_waiting(&touches), 0);
	bs_flusher_leave(f);
	while (left > 0 && mono_ms() < end) {
		pause_ms(5);
		if (bs_flusher_enter(f) == BS_OK) {
			left = bs_touches_waiting(bs_flusher_batch(f));
			bs_flusher_leave(f);
		}
	}
	CU_ASSERT_EQUAL(left, 0);
	CU_ASSERT_EQUAL(bs_flusher_enter(f), BS_OK);
	CU_ASSERT_EQUAL(query("SELECT count(*) FROM bootstraps WHERE ? = 0", 0), 2000);
	CU_ASSERT_EQUAL(stored_at(1999), 6999);
	bs_flusher_leave(f);
	bs_flusher_stop(f);
	bs_flusher_free(f);
}

/* Holds the store lock as a writer stuck on the disk would. */
static void *hold_lock(void *arg)
{
	bs_flusher_t *f = arg;
	if (bs_flusher_enter(f) == BS_OK) {
		pause_ms(1500);
		bs_flusher_leave(f);
	}
	return NULL;
}

static void test_a_stuck_holder_costs_one_bounded_wait(void)
{
	bs_flusher_t *f;
	pthread_t stuck;
	long long t0;

	CU_ASSERT_FATAL(bs_flusher_start(store, &f) == BS_OK);
	CU_ASSERT_FATAL(pthread_create(&stuck, NULL, hold_lock, f) == 0);
	pause_ms(100);
	t0 = mono_ms();
	CU_ASSERT_EQUAL(bs_flusher_enter(f), BS_ERR_INTERNAL);
	CU_ASSERT(mono_ms() - t0 >= BS_FLUSHER_STUCK_MS - 50);
	CU_ASSERT(mono_ms() - t0 < BS_FLUSHER_STUCK_MS + 500);
	/* Known stuck: no more waiting. */
	t0 = mono_ms();
	CU_ASSERT_EQUAL(bs_flusher_enter(f), BS_ERR_INTERNAL);
	CU_ASSERT(mono_ms() - t0 < 50);
	pthread_join(stuck, NULL);
	CU_ASSERT_EQUAL(bs_flusher_enter(f), BS_OK);
	bs_flusher_leave(f);
	bs_flusher_stop(f);
	bs_flusher_free(f);
}

int main(void)
{
	static const cu_test_t tests[] = {
		{ "newest bootstrap of each config is kept", test_newest_bootstrap_of_each_config_is_kept },
		{ "ids are written in order whatever their spread",
			test_ids_are_written_in_order_whatever_their_spread },
		{ "slices write the batch and later ones wait", test_slices_write_the_batch_and_later_ones_wait },
		{ "nothing waiting writes nothing", test_nothing_waiting_writes_nothing },
		{ "the thread writes what is handed over",
			test_the_thread_writes_what_is_handed_over },
		{ "a stuck holder costs one bounded wait", test_a_stuck_holder_costs_one_bounded_wait },
		{ NULL, NULL },
	};

	cu_add_suite("touches", suite_init, suite_clean, tests);
	return cu_run("touches");
}
