#include "core_open.h"

#include "error.h"
#include "options.h"
#include "store.h"

int test_core_open(const char *db, const char *key_file, bs_log_fn log,
		void *userdata, bs_core_t **out, char *err, size_t errlen)
{
	return test_core_open_with(db, key_file, NULL, log, userdata, out, err, errlen);
}

int test_core_open_with(const char *db, const char *key_file,
		const char *const *extra, bs_log_fn log, void *userdata, bs_core_t **out,
		char *err, size_t errlen)
{
	bs_options_t o;
	int rc;

	if (errlen > 0)
		err[0] = '\0';
	if (bs_options_init(&o) != BS_OK)
		return BS_ERR_INTERNAL;
	rc = bs_options_set(&o, bs_store_is_url(db) ? "db_url" : "db_path", db, err, errlen);
	if (rc == BS_OK)
		rc = bs_options_set(&o, "key_file", key_file, err, errlen);
	if (rc == BS_OK)
		rc = bs_options_set(&o, "admin_users", "admin", err, errlen);
	for (size_t i = 0; rc == BS_OK && extra != NULL && extra[i] != NULL; i += 2)
		rc = bs_options_set(&o, extra[i], extra[i + 1], err, errlen);
	if (rc == BS_OK)
		rc = bs_options_finish(&o, err, errlen);
	if (rc == BS_OK)
		rc = bs_core_open(&o, log, userdata, out, err, errlen);
	bs_options_free(&o);
	return rc;
}
