#include "devlog.h"

#include "core.h"
#include "error.h"

#include <stdio.h>

/* s into out with control characters, spaces, '=' and '\\' as \xNN. */
static const char *escape(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;

	if (s == NULL)
		s = "-";
	for (; *s != '\0' && at + 5 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x21 || c == 0x7f || c == '\\' || c == '=') {
			out[at++] = '\\';
			out[at++] = 'x';
			out[at++] = hex[c >> 4];
			out[at++] = hex[c & 0x0f];
		} else {
			out[at++] = (char)c;
		}
	}
	out[at] = '\0';
	return out;
}

void bs_devlog_tick(bs_core_t *core, time_t now)
{
	bs_devlog_t *d = &core->devlog;

	if (now == d->second)
		return;
	if (d->suppressed > 0)
		bs_core_log(core, BS_LOG_NOTICE, "device: %u lines suppressed", d->suppressed);
	d->second = now;
	d->written = 0;
	d->suppressed = 0;
}

/* 1 when one more line fits in the second now, else it is counted as
 * suppressed. */
static int take_line(bs_core_t *core, time_t now)
{
	bs_devlog_t *d = &core->devlog;

	bs_devlog_tick(core, now);
	if (d->written >= BS_DEVLOG_PER_SECOND) {
		d->suppressed++;
		return 0;
	}
	d->written++;
	return 1;
}

void bs_devlog_request(bs_core_t *core, const char *external_id,
		const char *client_id, const char *address, int result, time_t now)
{
	char ext[4 * 256 + 1], client[4 * 64 + 1], addr[4 * 64 + 1];

	if (core->opts.log_bootstraps == BS_LOG_BOOT_NONE
			|| (result == BS_OK && core->opts.log_bootstraps != BS_LOG_BOOT_ALL)
			|| !take_line(core, now))
		return;
	bs_core_log(core, BS_LOG_NOTICE,
			"device external_id=%s client=%s address=%s result=%s",
			escape(external_id, ext, sizeof(ext)),
			escape(client_id, client, sizeof(client)),
			escape(address, addr, sizeof(addr)),
			result == BS_OK ? "ok" : bs_error_code(result));
}

void bs_devlog_error(bs_core_t *core, const char *text, time_t now)
{
	if (take_line(core, now))
		bs_core_log(core, BS_LOG_ERR, "%s", text);
}
