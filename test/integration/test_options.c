/*
 * Plugin options (protocol section 1): a bad option or key file stops the
 * broker from starting, with a log line naming it; a missing key file is
 * created.
 */
#include "cu_main.h"
#include "harness.h"
#include "it_check.h"
#include "pki.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KEY_OPT "plugin_opt_key_file @DIR@/bootstrap.key\n"
#define DB_OPT "@STORE@\n"
#define ADMIN_OPT "plugin_opt_admin_users admin\n"

/* The broker refuses to start with extra (flags) and names one of words. */
static void refuses(const char *extra, unsigned flags, const char *word,
		const char *other)
{
	broker_t b;
	int rc = broker_start_fail(&b, extra, flags);
	CHECK(rc == 0);
	if (rc == 0) {
		bool named = broker_log_contains(&b, word) ||
			(other != NULL && broker_log_contains(&b, other));
		CHECK(named);
	}
	broker_cleanup(&b);
}

static void test_missing_db_path_refuses_to_start(void)
{
	refuses(KEY_OPT ADMIN_OPT, BROKER_NO_PLUGIN_OPTS, "db_path", NULL);
}

static void test_missing_key_file_option_refuses_to_start(void)
{
	refuses(DB_OPT ADMIN_OPT, BROKER_NO_PLUGIN_OPTS, "key_file", NULL);
}

static void test_garbage_key_file_refuses_to_start(void)
{
	broker_t b;
	char path[IT_PATH_MAX];
	int rc = broker_prepare(&b, "plugin_opt_key_file @DIR@/garbage.key", 0);
	if (!CHECK(rc == 0))
		return;
	rc = broker_path(&b, "garbage.key", path, sizeof path);
	if (CHECK(rc == 0 && write_file_text(path, "this is not a key\n") == 0)) {
		CHECK(broker_launch_fail(&b) == 0);
		CHECK(broker_log_contains(&b, "garbage.key") ||
				broker_log_contains(&b, "key_file"));
	}
	broker_cleanup(&b);
}

/* An issuing CA key that group or others may read, or a CA certificate
 * without its key: the broker does not start, and says which. */
static void test_bad_issuing_ca_refuses_to_start(void)
{
	broker_t b;
	char key[IT_PATH_MAX], dir[IT_PATH_MAX];
	int rc = broker_prepare(&b, "plugin_opt_ca_cert @DIR@/ca.pem\n"
			"plugin_opt_ca_key @DIR@/ca.key", 0);

	if (!CHECK(rc == 0))
		return;
	rc = broker_path(&b, "ca.key", key, sizeof key);
	snprintf(dir, sizeof dir, "%s", key);
	*strrchr(dir, '/') = '\0';
	if (CHECK(rc == 0 && pki_ca(dir, "ca", "ec") == 0 && chmod(key, 0644) == 0)) {
		CHECK(broker_launch_fail(&b) == 0);
		CHECK(broker_log_contains(&b, "plugin_opt_ca_key"));
		CHECK(broker_log_contains(&b, "open to group or others"));
	}
	broker_cleanup(&b);
	refuses("plugin_opt_ca_cert @DIR@/ca.pem", 0, "ca_key", NULL);
}

static void test_acl_default_maybe_refuses_to_start(void)
{
	refuses("plugin_opt_acl_default maybe", 0, "acl_default", NULL);
}

static void test_max_request_bytes_abc_refuses_to_start(void)
{
	refuses("plugin_opt_max_request_bytes abc", 0, "max_request_bytes", NULL);
}

static bool is_hex_key(const char *s, size_t len)
{
	if (len == 65 && s[64] == '\n')
		len = 64;
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static void test_missing_key_file_is_created_0600_with_64_hex_digits(void)
{
	broker_t b;
	char path[IT_PATH_MAX];
	if (!CHECK(broker_prepare(&b, NULL, 0) == 0))
		return;
	struct stat st;
	bool paths = broker_path(&b, "bootstrap.key", path, sizeof path) == 0;
	CHECK(paths && stat(path, &st) != 0);
	if (CHECK(broker_launch(&b) == 0) && paths) {
		size_t len = 0;
		char *text = read_file_text(path, &len);
		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
		CHECK(text != NULL && is_hex_key(text, len));
		free(text);
	}
	broker_cleanup(&b);
}

/* acl_default defer says at start what Mosquitto will then do; allow does not. */
static void test_acl_default_defer_is_explained_at_start(void)
{
	static const char notice[] = "plugin_opt_acl_default is defer";
	broker_t b;

	if (CHECK(broker_start(&b, NULL) == 0))
		CHECK(broker_log_contains(&b, notice));
	broker_cleanup(&b);
	if (CHECK(broker_start(&b, "plugin_opt_acl_default allow") == 0))
		CHECK(!broker_log_contains(&b, notice));
	broker_cleanup(&b);
}

static const cu_test_t option_tests[] = {
	{ "acl_default_defer_is_explained_at_start",
		test_acl_default_defer_is_explained_at_start },
	{ "missing_db_path_refuses_to_start",
		test_missing_db_path_refuses_to_start },
	{ "missing_key_file_option_refuses_to_start",
		test_missing_key_file_option_refuses_to_start },
	{ "garbage_key_file_refuses_to_start",
		test_garbage_key_file_refuses_to_start },
	{ "bad_issuing_ca_refuses_to_start", test_bad_issuing_ca_refuses_to_start },
	{ "acl_default_maybe_refuses_to_start",
		test_acl_default_maybe_refuses_to_start },
	{ "max_request_bytes_abc_refuses_to_start",
		test_max_request_bytes_abc_refuses_to_start },
	{ "missing_key_file_is_created_0600_with_64_hex_digits",
		test_missing_key_file_is_created_0600_with_64_hex_digits },
	{ NULL, NULL },
};

int main(void)
{
	cu_add_suite("options", NULL, NULL, option_tests);
	return cu_run("test_options");
}
