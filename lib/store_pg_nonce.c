/* The challenge nonces answered through any broker (schema/pg/002). */
#include "store_pg_int.h"

#include "error.h"

int bs_pg_nonce_use(bs_backend_t *b, const uint8_t *nonce, size_t len,
		time_t expires, time_t forget_before)
{
	bs_blob_t v = { (uint8_t *)nonce, len };
	bs_pg_params_t p;
	long n = 0;
	int rc;

	bs_pg_params_init(&p);
	bs_pg_param_blob(&p, &v);
	bs_pg_param_int(&p, (long long)expires);
	bs_pg_param_int(&p, (long long)forget_before);
	rc = bs_pg_changed((bs_pg_t *)b, PG_NONCE_USE, &p, &n, "use a challenge nonce");
	return rc == BS_OK && n == 0 ? BS_ERR_UNAUTHORIZED : rc;
}
