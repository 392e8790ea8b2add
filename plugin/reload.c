/*
 * MOSQ_EVT_RELOAD (SIGHUP): the options that can change while running are
 * read again from the broker's configuration file, since Mosquitto 2.0.11
 * passes none (conffile.h), and applied all or none (reload.h).
 */
#define _GNU_SOURCE
#include "plugin.h"

#include "error.h"
#include "reload.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The broker's -c argument, made absolute now: the working directory may
 * change later. "" when it was started without one. */
static void find_conf(bs_plugin_t *p)
{
	FILE *f = fopen("/proc/self/cmdline", "r");
	char arg[PATH_MAX], *next = NULL;
	size_t n = 0;
	int c, take = 0;

	p->conf_path[0] = '\0';
	while (f != NULL && (c = fgetc(f)) != EOF) {
		if (c != '\0' && n + 1 < sizeof(arg)) {
			arg[n++] = (char)c;
			continue;
		}
		arg[n] = '\0';
		n = 0;
		if (take && (next = realpath(arg, NULL)) != NULL)
			break;
		take = strcmp(arg, "-c") == 0 || strcmp(arg, "--config-file") == 0;
	}
	if (f != NULL)
		fclose(f);
	if (next != NULL)
		snprintf(p->conf_path, sizeof(p->conf_path), "%s", next);
	free(next);
}

static void refused(const char *why)
{
	mosquitto_log_printf(MOSQ_LOG_ERR, "bootstrap: reload refused, the running "
			"options are kept: %s", why);
}

static int on_reload(int event, void *event_data, void *userdata)
{
	bs_plugin_t *p = userdata;
	bs_conf_opts_t opts;
	char err[512], restart[256];
	Dl_info self;
	int rc;

	(void)event;
	(void)event_data;
	/* Every plugin's reload callback runs only while each one defers. */
	if (p->conf_path[0] == '\0' || dladdr((void *)on_reload, &self) == 0) {
		refused("the broker runs without a configuration file to read");
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	if (bs_conf_plugin_options(p->conf_path, self.dli_fname, &opts, err,
			sizeof(err)) != BS_OK) {
		refused(err);
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	rc = bs_core_reload(p->core, &opts, restart, sizeof(restart), err, sizeof(err));
	bs_conf_opts_free(&opts);
	if (rc != BS_OK) {
		refused(err);
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "bootstrap: reloaded the options from %s",
			p->conf_path);
	if (restart[0] != '\0')
		mosquitto_log_printf(MOSQ_LOG_WARNING, "bootstrap: reload: %s changed; "
				"that takes a restart of the broker", restart);
	return MOSQ_ERR_PLUGIN_DEFER;
}

int bs_plugin_reload_register(bs_plugin_t *p)
{
	find_conf(p);
	return mosquitto_callback_register(p->id, MOSQ_EVT_RELOAD, on_reload, NULL, p);
}

void bs_plugin_reload_unregister(bs_plugin_t *p)
{
	mosquitto_callback_unregister(p->id, MOSQ_EVT_RELOAD, on_reload, NULL);
}
