/*
 * Faults on a real broker.
 *
 * The disk fills up in the middle of a batch: a store failure that ends
 * the transaction ends the batch; every command answers internal_error,
 * nothing of it is stored (before or after a restart), and the broker goes
 * on answering. The database lives on a tmpfs of its own, which needs root
 * (as CI runs); elsewhere the test says it cannot run and fails.
 *
 * A damaged database (a page in the middle overwritten, or a file that is
 * not a database at all) is refused at start with one line, and the file
 * is left byte for byte as it was. A second broker on the same file is
 * refused at start. SIGKILL at any moment of a 10,000-command batch leaves
 * all of it or none, and a sound file.
 *
 * On PostgreSQL (BS_TEST_BACKEND=postgresql) two of these run on the
 * broker's database: a store of another key is refused and left as it
 * was, and a killed batch is all there or not at all; the others work on
 * the SQLite file (its disk, its bytes, its lock) and are skipped.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "store_db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SMALL_FS "size=4m,mode=0700"
#define ROOMY_FS "size=64m"
/* 19 MiB of content: more than the plugin's 16 MiB page cache, so that
 * SQLite writes into the WAL, and fails, in the middle of the batch. */
#define BIG_CONFIGS 320
#define SMALL_AFTER 5

static broker_t B;
static char small[IT_PATH_MAX];

static int suite_init(void)
{
	if (broker_prepare(&B, "plugin_opt_db_path @DIR@/small/bootstrap.db", 0) != 0
			|| broker_path(&B, "small", small, sizeof small) != 0
			|| mkdir(small, 0700) != 0)
		return -1;
	if (mount("tmpfs", small, "tmpfs", 0, SMALL_FS) != 0) {
		fprintf(stderr, "cannot mount a tmpfs on %s (%s): this test needs root\n",
				small, strerror(errno));
		small[0] = '\0';
		return -1;
	}
	return broker_launch(&B);
}

static int suite_clean(void)
{
	broker_stop(&B);
	if (small[0] != '\0' && umount(small) != 0)
		fprintf(stderr, "cannot unmount %s: %s\n", small, strerror(errno));
	broker_cleanup(&B);
	return 0;
}

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A bootstrap of cfg: its reply's error code ("" on success), malloc()ed. */
static char *bootstrap_error(const broker_t *b, const boot_cfg_t *cfg, long long *took_ms)
{
	char *req = boot_request(cfg->external_id, cfg->external_key, NULL);
	long long t0 = ms_now();
	it_msg_t *m = device_rr(b, 4, NULL, req, (int)strlen(req), NULL);
	json_t *reply = msg_json(m);
	char *err = m == NULL ? NULL : strdup(jstr(reply, "error") ? jstr(reply, "error") : "");

	*took_ms = ms_now() - t0;
	json_decref(reply);
	msg_free(m);
	free(req);
	return err;
}

/* 60 KiB of content that does not compress. */
static char *big_content(void)
{
	size_t n = 60 * 1024;
	char *s = malloc(n + 1);
	for (size_t i = 0; s != NULL && i < n; i++)
		s[i] = (char)('a' + (rand() % 26));
	if (s != NULL)
		s[n] = '\0';
	return s;
}

/* A channel, BIG_CONFIGS configs of 60 KiB each (more than the disk
 * holds), then SMALL_AFTER small channels, which fit. */
static json_t *filling_batch(const char *tag)
{
	json_t *cmds = json_array();
	char id[128];
	char *content = big_content();

	snprintf(id, sizeof id, "%s-ch", tag);
	json_array_append_new(cmds, json_pack("{ss ss ss}", "command", "createChannel",
				"id", id, "name", "n"));
	for (int i = 0; content != NULL && i < BIG_CONFIGS; i++) {
		snprintf(id, sizeof id, "%s-ext-%d", tag, i);
		json_array_append_new(cmds, json_pack("{ss ss ss}", "command",
					"createConfig", "external_id", id, "content", content));
	}
	for (int i = 0; i < SMALL_AFTER; i++) {
		snprintf(id, sizeof id, "%s-after-%d", tag, i);
		json_array_append_new(cmds, json_pack("{ss ss ss}", "command",
					"createChannel", "id", id, "name", "n"));
	}
	free(content);
	return cmds;
}

static long total_of_on(const broker_t *b, const char *command, const char *list)
{
	json_t *data = admin_ok_take(b, json_pack("{ss}", "command", command));
	long n = json_is_array(json_object_get(data, list))
		? (long)json_integer_value(json_object_get(data, "total")) : -1;
	json_decref(data);
	return n;
}

static long total_of(const char *command, const char *list)
{
	return total_of_on(&B, command, list);
}

static void check_nothing_stored(void)
{
	CHECK(total_of("listChannels", "channels") == 0);
	CHECK(total_of("listConfigs", "configs") == 0);
}

static void test_disk_full_mid_batch_stores_nothing_and_says_so(void)
{
	json_t *cmds = filling_batch("full");
	json_t *reply = admin_rr_json(&B, cmds);
	json_t *rs = json_object_get(reply, "responses"), *r;
	size_t i, ok = 0;

	if (!CHECK(json_array_size(rs) == json_array_size(cmds)))
		goto out;
	json_array_foreach(rs, i, r) {
		if (jstr(r, "error") == NULL)
			ok++;
		else
			CHECK_STR(jstr(r, "error"), "internal_error");
	}
	CHECK(ok == 0);
	CHECK(broker_log_contains(&B, "the rest of the batch is refused"));
	check_nothing_stored();
	/* What the answers said is what the store holds after a restart, once
	 * the operator has made room. */
	CHECK(mount("tmpfs", small, "tmpfs", MS_REMOUNT, ROOMY_FS) == 0);
	if (CHECK(broker_restart(&B) == 0))
		check_nothing_stored();
out:
	json_decref(reply);
	json_decref(cmds);
}

/* The broker keeps answering: a small batch after the full one stores. */
static void test_small_batch_after_a_full_disk_stores(void)
{
	json_t *ch = admin_ok_take(&B, json_pack("{ss ss ss}", "command",
				"createChannel", "id", "fits", "name", "n"));
	CHECK(ch != NULL);
	json_decref(ch);
	CHECK(total_of("listChannels", "channels") == 1);
}

/* Fills the small disk with a file until it is full. */
static int fill_disk(const char *path)
{
	static char block[64 * 1024];
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	memset(block, 0x33, sizeof block);
	while (fwrite(block, 1, sizeof block, f) == sizeof block && fflush(f) == 0)
		;
	fclose(f);
	return 0;
}

/* The write-behind meets a full disk: the bootstrap times of that batch
 * are dropped with one warning, bootstraps go on, and once there is room
 * again new ones are written. */
static void test_full_disk_under_the_write_behind_costs_only_timestamps(void)
{
	boot_cfg_t cfg = { 0 };
	char filler[IT_PATH_MAX + 16];
	char *err = NULL;
	long long took, end;
	json_t *got = NULL;

	snprintf(filler, sizeof filler, "%s/filler", small);
	if (!CHECK(make_config(&B, "behind-dev", NULL, true, &cfg) == 0)
			|| !CHECK(fill_disk(filler) == 0))
		goto out;
	err = bootstrap_error(&B, &cfg, &took);
	CHECK_STR(err, "");
	end = ms_now() + 12000;
	while (!broker_log_contains(&B, "not written") && ms_now() < end)
		usleep(100000);
	CHECK(broker_log_contains(&B, "last_bootstrap_at of 1 configs not written"));
	CHECK(broker_alive(&B));
	free(err);
	err = bootstrap_error(&B, &cfg, &took);
	CHECK_STR(err, "");
	CHECK(unlink(filler) == 0);
	got = admin_get_config(&B, "client_id", cfg.client_id);
	CHECK(got != NULL && json_is_string(json_object_get(got, "last_bootstrap_at")));
out:
	unlink(filler);
	json_decref(got);
	free(err);
	boot_cfg_free(&cfg);
}

/* ---- damaged databases ------------------------------------------------ */

#define PAGE 4096

static char *db_bytes(const broker_t *b, size_t *len)
{
	char path[IT_PATH_MAX];
	return broker_path(b, "bootstrap.db", path, sizeof path) == 0
		? read_file_text(path, len) : NULL;
}

/* Overwrites page number page (from 1) of b's database with garbage. */
static int spoil_page(const broker_t *b, long page)
{
	char path[IT_PATH_MAX], junk[PAGE];
	FILE *f;
	int rc = -1;

	memset(junk, 0x5a, sizeof junk);
	if (broker_path(b, "bootstrap.db", path, sizeof path) != 0
			|| (f = fopen(path, "r+b")) == NULL)
		return -1;
	if (fseek(f, (page - 1) * PAGE, SEEK_SET) == 0 && fwrite(junk, 1, PAGE, f) == PAGE)
		rc = 0;
	return fclose(f) == 0 ? rc : -1;
}

/* b's store as it stands: the file's bytes, or on PostgreSQL every row of
 * its database; NULL when it cannot be read. */
static char *store_image(const broker_t *b, size_t *len)
{
	char *rows;

	if (!it_on_pg())
		return db_bytes(b, len);
	rows = test_pg_rows(b->db_url);
	*len = rows != NULL ? strlen(rows) : 0;
	return rows;
}

/* The broker refuses to start on b's store, saying why, and leaves it as
 * it was. */
static void check_refused(broker_t *b, const char *why)
{
	size_t before_len = 0, after_len = 0;
	char *before = store_image(b, &before_len), *after;

	CHECK(before != NULL);
	CHECK(broker_launch_fail(b) == 0);
	CHECK(broker_log_contains(b, "refusing to start: "));
	CHECK(broker_log_contains(b, why));
	after = store_image(b, &after_len);
	CHECK(after != NULL && after_len == before_len
			&& memcmp(before, after, before_len) == 0);
	free(before);
	free(after);
}

static void test_damaged_page_refuses_to_start_and_keeps_the_file(void)
{
	broker_t b;
	json_t *cmds;
	size_t len = 0;
	char *bytes = NULL;

	if (it_sqlite_only("a page of the SQLite file"))
		return;
	cmds = json_array();
	if (!CHECK(broker_start(&b, NULL) == 0))
		goto out;
	for (int i = 0; i < 300; i++) {
		char ext[32];
		snprintf(ext, sizeof ext, "dmg-%d", i);
		json_array_append_new(cmds, json_pack("{ss ss}", "command", "createConfig",
					"external_id", ext));
	}
	json_decref(admin_rr_json(&b, cmds));
	CHECK(broker_stop(&b) == 0);
	bytes = db_bytes(&b, &len);
	/* Past page 1 (the header), in the middle of the tables. */
	if (CHECK(bytes != NULL && len >= 8 * PAGE)
			&& CHECK(spoil_page(&b, (long)(len / PAGE / 2)) == 0))
		check_refused(&b, "the database is damaged");
out:
	free(bytes);
	json_decref(cmds);
	broker_cleanup(&b);
}

static void test_file_that_is_not_a_database_refuses_to_start(void)
{
	broker_t b;
	char path[IT_PATH_MAX];

	if (it_sqlite_only("the SQLite file is another file"))
		return;
	if (!CHECK(broker_prepare(&b, NULL, 0) == 0))
		return;
	if (CHECK(broker_path(&b, "bootstrap.db", path, sizeof path) == 0
				&& write_file_text(path, "these are the notes of an operator,"
					" long enough to fill a page header and more\n") == 0))
		check_refused(&b, "not a database");
	broker_cleanup(&b);
}

/* ---- a disk of its own: unwritable files, a frozen disk ---------------- */

/*
 * The database on an ext4 image of its own, loop-mounted, frozen with
 * fsfreeze for FREEZE_S seconds while a bootstrap is waiting to be
 * written: the write-behind thread stalls on the disk, the broker does
 * not (before that, on the same disk, the files are made immutable: admin
 * writes fail, bootstraps go on). Unrelated round trips stay fast, a bootstrap request and an admin
 * batch are answered (internal_error, quickly), and once the disk thaws
 * the bootstrap time is written.
 */
#define FREEZE_S 8
#define ROUND_TRIP_MAX_MS 1000

static broker_t F;
static char frozen_mnt[IT_PATH_MAX];
static bool frozen;

static int run_cmd(const char *a0, const char *a1, const char *a2, const char *a3,
		const char *a4)
{
	char *argv[] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	return run_quiet(argv);
}

static int freeze(bool on)
{
	int rc = run_cmd("fsfreeze", on ? "-f" : "-u", frozen_mnt, NULL, NULL);
	if (rc == 0)
		frozen = on;
	return rc;
}

static int frozen_init(void)
{
	char img[IT_PATH_MAX];

	if (broker_prepare(&F, "plugin_opt_db_path @DIR@/disk/bootstrap.db\n"
				"plugin_opt_acl_default allow", 0) != 0
			|| broker_path(&F, "disk.img", img, sizeof img) != 0
			|| broker_path(&F, "disk", frozen_mnt, sizeof frozen_mnt) != 0
			|| mkdir(frozen_mnt, 0700) != 0
			|| run_cmd("truncate", "-s", "32M", img, NULL) != 0
			|| run_cmd("mkfs.ext4", "-q", "-F", img, NULL) != 0)
		return -1;
	if (run_cmd("mount", "-o", "loop", img, frozen_mnt) != 0) {
		fprintf(stderr, "cannot loop-mount an ext4 image on %s: this test needs root\n",
				frozen_mnt);
		frozen_mnt[0] = '\0';
		return -1;
	}
	return broker_launch(&F);
}

static int frozen_clean(void)
{
	if (frozen)
		freeze(false);
	broker_stop(&F);
	if (frozen_mnt[0] != '\0' && run_cmd("umount", frozen_mnt, NULL, NULL, NULL) != 0)
		fprintf(stderr, "cannot unmount %s\n", frozen_mnt);
	broker_cleanup(&F);
	return 0;
}

static void test_frozen_disk_stalls_no_other_client(void)
{
	boot_cfg_t cfg = { 0 };
	client_t *c = NULL;
	long long worst = 0, took, end;
	int trips = 0, failed = 0;
	char *err = NULL, *admin = NULL;
	json_t *got = NULL;

	if (!CHECK(make_config(&F, "frozen-dev", NULL, true, &cfg) == 0)
			|| !CHECK((c = client_connect(&F, 4, NULL, NULL, NULL)) != NULL)
			|| !CHECK(freeze(true) == 0))
		goto out;
	/* Read from the page cache: a frozen disk still answers it. */
	err = bootstrap_error(&F, &cfg, &took);
	CHECK_STR(err, "");
	end = ms_now() + FREEZE_S * 1000;
	while (ms_now() < end) {
		long long t0 = ms_now();
		failed += client_echo(c, "unrelated/echo", "unrelated/echo") != 0;
		took = ms_now() - t0;
		worst = took > worst ? took : worst;
		trips++;
	}
	fprintf(stderr, "frozen disk: %d round trips, the slowest %lld ms\n", trips, worst);
	CHECK(failed == 0);
	CHECK(worst < ROUND_TRIP_MAX_MS);
	/* The write-behind thread is stuck by now: the store is refused, fast. */
	free(err);
	err = bootstrap_error(&F, &cfg, &took);
	CHECK_STR(err, "internal_error");
	CHECK(took < ROUND_TRIP_MAX_MS);
	admin = admin_err_take(&F, admin_cmd_by("getConfig", "client_id", cfg.client_id));
	CHECK_STR(admin, "internal_error");
	CHECK(freeze(false) == 0);
	/* Thawed: the bootstrap time is written, and shown. */
	sleep(1);
	got = admin_get_config(&F, "client_id", cfg.client_id);
	CHECK(got != NULL && json_is_string(json_object_get(got, "last_bootstrap_at")));
out:
	json_decref(got);
	free(admin);
	free(err);
	client_close(c);
	boot_cfg_free(&cfg);
}

/* chattr +i on the database and its WAL: writes fail, reads go on. */
static int immutable(bool on)
{
	static const char *const names[] = { "bootstrap.db", "bootstrap.db-wal" };
	char path[IT_PATH_MAX + 32];
	int rc = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", frozen_mnt, names[i]);
		if (access(path, F_OK) == 0)
			rc |= run_cmd("chattr", on ? "+i" : "-i", path, NULL, NULL);
	}
	return rc;
}

static void test_unwritable_files_fail_writes_and_keep_bootstraps(void)
{
	boot_cfg_t cfg = { 0 };
	char *err = NULL, *admin = NULL;
	long long took;
	json_t *ch = NULL;

	if (!CHECK(make_config(&F, "immutable-dev", NULL, true, &cfg) == 0)
			|| !CHECK(immutable(true) == 0))
		goto out;
	admin = admin_err_take(&F, json_pack("{ss ss ss}", "command", "createChannel",
				"id", "not-now", "name", "n"));
	CHECK_STR(admin, "internal_error");
	err = bootstrap_error(&F, &cfg, &took);
	CHECK_STR(err, "");
	CHECK(broker_alive(&F));
	CHECK(immutable(false) == 0);
	ch = admin_ok_take(&F, json_pack("{ss ss ss}", "command", "createChannel",
				"id", "now", "name", "n"));
	CHECK(ch != NULL);
out:
	immutable(false);
	json_decref(ch);
	free(admin);
	free(err);
	boot_cfg_free(&cfg);
}

static const cu_test_t frozen_tests[] = {
	{ "unwritable_files_fail_writes_and_keep_bootstraps",
		test_unwritable_files_fail_writes_and_keep_bootstraps },
	{ "frozen_disk_stalls_no_other_client", test_frozen_disk_stalls_no_other_client },
	{ NULL, NULL },
};

/* ---- SIGKILL in the middle of a large batch ---------------------------- */

#define KILL_BATCH 10000

static const char *integrity(const broker_t *b, char *out, size_t outlen)
{
	char path[IT_PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	snprintf(out, outlen, "cannot check");
	if (broker_path(b, "bootstrap.db", path, sizeof path) == 0
			&& sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
			&& sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK
			&& sqlite3_step(s) == SQLITE_ROW)
		snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

/* Sends a batch of KILL_BATCH createConfig without waiting for it, kills
 * the broker after delay_ms, starts it again: the batch is all there or
 * not there at all (*stored, the configs before, grows by all of it or
 * not at all), and the file is sound (PostgreSQL checks its own). */
static void kill_during_batch(broker_t *b, int round, int delay_ms, long *stored)
{
	json_t *cmds = json_array(), *root;
	char *text;
	client_t *c;
	char check[256];
	long total;

	for (int i = 0; i < KILL_BATCH; i++) {
		char ext[48];
		snprintf(ext, sizeof ext, "kill-%d-%d", round, i);
		json_array_append_new(cmds, json_pack("{ss ss}", "command", "createConfig",
					"external_id", ext));
	}
	root = json_pack("{so}", "commands", cmds);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	c = client_connect(b, 4, NULL, "admin", "adminpw");
	if (CHECK(c != NULL && text != NULL))
		CHECK(client_publish(c, "$CONTROL/bootstrap/v1", text, (int)strlen(text), NULL) >= 0);
	usleep((useconds_t)delay_ms * 1000);
	CHECK(broker_kill9(b) == 0);
	client_close(c);
	free(text);
	if (!it_on_pg())
		CHECK_STR(integrity(b, check, sizeof check), "ok");
	if (!CHECK(broker_launch(b) == 0))
		return;
	total = total_of_on(b, "listConfigs", "configs");
	fprintf(stderr, "killed after %d ms: %ld configs stored\n", delay_ms, total);
	CHECK(total == *stored || total == *stored + KILL_BATCH);
	*stored = total;
}

static void test_sigkill_in_a_batch_keeps_it_whole_or_not_at_all(void)
{
	static const int delays[] = { 20, 150, 400 };
	broker_t b;
	long stored = 0;

	if (!CHECK(broker_start(&b, NULL) == 0))
		return;
	for (int i = 0; i < 3 && broker_alive(&b); i++)
		kill_during_batch(&b, i, delays[i], &stored);
	broker_cleanup(&b);
}

static const cu_test_t kill_tests[] = {
	{ "sigkill_in_a_batch_keeps_it_whole_or_not_at_all",
		test_sigkill_in_a_batch_keeps_it_whole_or_not_at_all },
	{ NULL, NULL },
};

/* ---- a second broker on the same file ---------------------------------- */

/* The lock is held from the start, before any write: a second broker
 * refuses to start, and the first one's admin writes go on working. */
static void test_second_broker_on_the_same_file_refuses_to_start(void)
{
	broker_t first, second;
	char extra[2 * IT_PATH_MAX + 128];
	json_t *ch;

	/* Restarted: a start on an existing database writes nothing. */
	if (!CHECK(broker_start(&first, NULL) == 0))
		return;
	if (!CHECK(broker_restart(&first) == 0))
		goto out;
	snprintf(extra, sizeof extra, "plugin_opt_db_path %s/bootstrap.db\n"
			"plugin_opt_key_file %s/bootstrap.key", first.dir, first.dir);
	CHECK(broker_start_fail(&second, extra, 0) == 0);
	CHECK(broker_log_contains(&second, "in use by another process"));
	ch = admin_ok_take(&first, json_pack("{ss ss ss}", "command", "createChannel",
				"id", "still-mine", "name", "n"));
	CHECK(ch != NULL);
	json_decref(ch);
	broker_cleanup(&second);
out:
	broker_cleanup(&first);
}

static const cu_test_t lock_tests[] = {
	{ "second_broker_on_the_same_file_refuses_to_start",
		test_second_broker_on_the_same_file_refuses_to_start },
	{ NULL, NULL },
};

static void test_database_of_another_key_refuses_to_start(void)
{
	broker_t b;
	char path[IT_PATH_MAX];
	json_t *data = NULL;

	if (!CHECK(broker_start(&b, NULL) == 0))
		return;
	data = admin_create_config(&b, "other-key", NULL);
	CHECK(data != NULL);
	CHECK(broker_stop(&b) == 0);
	if (CHECK(broker_path(&b, "bootstrap.key", path, sizeof path) == 0
				&& write_file_text(path, "00112233445566778899aabbccddeeff"
					"00112233445566778899aabbccddeeff\n") == 0))
		check_refused(&b, it_on_pg() ? "is not the key of db_url"
				: "is not the key of db_path");
	json_decref(data);
	broker_cleanup(&b);
}

static const cu_test_t damaged_tests[] = {
	{ "database_of_another_key_refuses_to_start",
		test_database_of_another_key_refuses_to_start },
	{ "damaged_page_refuses_to_start_and_keeps_the_file",
		test_damaged_page_refuses_to_start_and_keeps_the_file },
	{ "file_that_is_not_a_database_refuses_to_start",
		test_file_that_is_not_a_database_refuses_to_start },
	{ NULL, NULL },
};

static const cu_test_t tests[] = {
	{ "disk_full_mid_batch_stores_nothing_and_says_so",
		test_disk_full_mid_batch_stores_nothing_and_says_so },
	{ "small_batch_after_a_full_disk_stores", test_small_batch_after_a_full_disk_stores },
	{ "full_disk_under_the_write_behind_costs_only_timestamps",
		test_full_disk_under_the_write_behind_costs_only_timestamps },
	{ NULL, NULL },
};

/* A suite of the SQLite file alone: skipped on PostgreSQL, saying why. */
static void add_sqlite_suite(const char *name, CU_InitializeFunc init,
		CU_CleanupFunc clean, const cu_test_t *suite_tests, const char *why)
{
	if (it_on_pg())
		cu_skip_suite(name, suite_tests, why);
	else
		cu_add_suite(name, init, clean, suite_tests);
}

int main(void)
{
	add_sqlite_suite("disk_full", suite_init, suite_clean, tests,
			"a full tmpfs under the SQLite file");
	cu_add_suite("damaged", NULL, NULL, damaged_tests);
	add_sqlite_suite("lock", NULL, NULL, lock_tests,
			"the SQLite file's lock; brokers share a PostgreSQL store");
	cu_add_suite("sigkill", NULL, NULL, kill_tests);
	add_sqlite_suite("frozen_disk", frozen_init, frozen_clean, frozen_tests,
			"a frozen disk and unwritable files under the SQLite file");
	return cu_run("test_faults");
}
