/* Recorded bootstraps: sorted, deduplicated, written in slices, none lost. */
#include "cu_main.h"
#include "error.h"
#include "store_int.h"
#include "touches.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	if (sqlite3_prepare_v2(store->db, sql, -1, &s, NULL) == SQLITE_OK) {
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
	CU_ASSERT_EQUAL(sqlite3_exec(store->db, "DELETE FROM bootstraps", NULL, NULL, NULL),
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

static void test_ids_beyond_one_radix_digit_sort_right(void)
{
	static const int64_t ids[] = { 4194305, 3, 2048, 2047, 1LL << 40, 4194304, 1 };
	size_t failed;

	reset();
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CU_ASSERT_EQUAL(bs_touches_add(&touches, ids[i], 7), BS_OK);
	bs_touches_write(&touches, store, 0, 1, &failed);
	CU_ASSERT_EQUAL(touches.writing.n, 7);
	for (size_t i = 1; i < touches.writing.n; i++)
		CU_ASSERT_TRUE(touches.writing.v[i - 1].config_id < touches.writing.v[i].config_id);
	write_all();
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CU_ASSERT_EQUAL(stored_at(ids[i]), 7);
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

int main(void)
{
	static const cu_test_t tests[] = {
		{ "newest bootstrap of each config is kept", test_newest_bootstrap_of_each_config_is_kept },
		{ "ids beyond one radix digit sort right", test_ids_beyond_one_radix_digit_sort_right },
		{ "slices write the batch and later ones wait", test_slices_write_the_batch_and_later_ones_wait },
		{ "nothing waiting writes nothing", test_nothing_waiting_writes_nothing },
		{ NULL, NULL },
	};

	cu_add_suite("touches", suite_init, suite_clean, tests);
	return cu_run("touches");
}
