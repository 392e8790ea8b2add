/*
 * One error convention for the whole core: functions return 0 on success or
 * one of these negative codes. Each code maps to exactly one wire code of the
 * protocol (bs_error_code), so a handler never invents its own strings.
 */
#ifndef BS_ERROR_H
#define BS_ERROR_H

#include <stddef.h>

typedef enum {
	BS_OK = 0,
	BS_ERR_INVALID = -1,      /* invalid_request */
	BS_ERR_UNAUTHORIZED = -2, /* unauthorized */
	BS_ERR_DISABLED = -3,     /* disabled */
	BS_ERR_RATE_LIMITED = -4, /* rate_limited */
	BS_ERR_NOT_FOUND = -5,    /* not_found */
	BS_ERR_CONFLICT = -6,     /* conflict */
	BS_ERR_FORBIDDEN = -7,    /* forbidden */
	BS_ERR_INTERNAL = -8,     /* internal_error: store, memory, crypto failure */
} bs_err_t;

/* The protocol's code for err ("invalid_request", ...); never NULL. */
const char *bs_error_code(int err);

/* Formats a one-line reason into err (nothing when err is NULL or errlen 0). */
void bs_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
