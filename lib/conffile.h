/*
 * Reading this plugin's plugin_opt_* lines back from mosquitto.conf, for a
 * reload: Mosquitto 2.0.11 ignores plugin_opt_ lines when it re-reads its
 * configuration on SIGHUP and gives MOSQ_EVT_RELOAD no options, so the
 * plugin reads the file itself, the way the broker does: lines starting
 * with '#' are comments, the main file's include_dir reads the directory's
 * *.conf files in the broker's order, and plugin_opt_ (or auth_opt_) lines
 * belong to the last plugin (or auth_plugin) line before them.
 */
#ifndef BS_CONFFILE_H
#define BS_CONFFILE_H

#include <stddef.h>

typedef struct bs_conf_opt {
	char *name;                 /* without plugin_opt_ */
	char *value;
} bs_conf_opt_t;

typedef struct bs_conf_opts {
	bs_conf_opt_t *v;
	size_t n;
	int found;                  /* a plugin line naming plugin_path was seen */
} bs_conf_opts_t;

/*
 * The options of the plugin whose file is plugin_path (compared by real
 * path, so any spelling of it matches) in the configuration conf_path.
 * BS_OK, or BS_ERR_INVALID with err naming the file that could not be read
 * or the plugin that is not there.
 */
int bs_conf_plugin_options(const char *conf_path, const char *plugin_path,
		bs_conf_opts_t *out, char *err, size_t errlen);

void bs_conf_opts_free(bs_conf_opts_t *o);

#endif
