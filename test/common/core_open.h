/* Opening the core as the unit tests do: one database, one key file, admin. */
#ifndef BS_TEST_CORE_OPEN_H
#define BS_TEST_CORE_OPEN_H

#include "core.h"

#include <stddef.h>

/* The core on db and key_file with admin_users "admin", logging to log;
 * err gets the reason when it does not open. */
int test_core_open(const char *db, const char *key_file, bs_log_fn log,
		void *userdata, bs_core_t **out, char *err, size_t errlen);

/* The same with more options: extra is name, value, ..., NULL. */
int test_core_open_with(const char *db, const char *key_file,
		const char *const *extra, bs_log_fn log, void *userdata, bs_core_t **out,
		char *err, size_t errlen);

#endif
