#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *bs_error_code(int err)
{
	switch (err) {
	case BS_OK: return "ok";
	case BS_ERR_INVALID: return "invalid_request";
	case BS_ERR_UNAUTHORIZED: return "unauthorized";
	case BS_ERR_DISABLED: return "disabled";
	case BS_ERR_RATE_LIMITED: return "rate_limited";
	case BS_ERR_NOT_FOUND: return "not_found";
	case BS_ERR_CONFLICT: return "conflict";
	case BS_ERR_FORBIDDEN: return "forbidden";
	default: return "internal_error";
	}
}

void bs_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
