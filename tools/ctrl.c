/*
 * mosquitto_bootstrap_ctrl: runs one admin command of the bootstrap plugin
 * (PROTOCOL.md sections 4 and 9) and prints its answer.
 *
 *   mosquitto_bootstrap_ctrl [connection options] COMMAND [arguments]
 *
 * The connection options are mosquitto_ctrl's, and so is -o FILE: a file
 * of "-option value" lines ('#' lines are comments) whose values are
 * defaults that the command line overrides. A password given with -P is
 * overwritten in argv at once; without -P, a username and a terminal on
 * stdin, the password is asked for without echo.
 */
#include "ctrl.h"
#include "link.h"

#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_OPTIONS_FILE (64 * 1024)
#define MAX_PASSWORD 1024

static const char USAGE_HEAD[] =
"Usage: " CTRL_NAME " [options] COMMAND [arguments]\n"
"\n"
"Runs one admin command of the mosquitto-bootstrap plugin over MQTT v5\n"
"(on $CONTROL/bootstrap/v1) and prints its answer.\n"
"\n"
"Options:\n"
"  -h, --host HOST         default localhost\n"
"  -p, --port PORT         default 1883, or 8883 with --cafile/--capath\n"
"  -u, --username USER     the admin's login\n"
"  -P, --pw PASSWORD       its password (asked for on a terminal when\n"
"                          left out with -u)\n"
"  -i, --id ID             the MQTT client id (default: a random one)\n"
"  -o FILE                 options from FILE, one \"-option value\" a line,\n"
"                          '#' lines ignored; the command line overrides\n"
"  -W, --timeout SECONDS   the longest wait for the connection and for each\n"
"                          answer (default 10)\n"
"      --cafile FILE       TLS, checking the broker against this CA\n"
"      --capath DIR        TLS, with a directory of CA certificates\n"
"      --cert FILE         --key FILE: a client certificate and its key\n"
"      --insecure          do not check the broker's host name\n"
"      --json              print the answer's data as JSON\n"
"      --help              this text; COMMAND --help: that command's\n"
"\n"
"Commands:\n";

static const char USAGE_TAIL[] =
"\n"
"Exit status:\n"
"  0 success\n"
"  1 the command answered an error (its code and message on stderr);\n"
"    import: a line failed\n"
"  2 bad usage, or a file named on the command line cannot be used\n"
"  3 no connection, refused login, or no answer within -W seconds\n";

enum { OPT_CAFILE = 256, OPT_CAPATH, OPT_CERT, OPT_KEY, OPT_INSECURE,
	OPT_JSON, OPT_HELP };

static const struct option LONG_OPTS[] = {
	{ "host", required_argument, NULL, 'h' },
	{ "port", required_argument, NULL, 'p' },
	{ "username", required_argument, NULL, 'u' },
	{ "pw", required_argument, NULL, 'P' },
	{ "id", required_argument, NULL, 'i' },
	{ "timeout", required_argument, NULL, 'W' },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "capath", required_argument, NULL, OPT_CAPATH },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};
#define SHORT_OPTS "+:h:p:u:P:i:o:W:"

int ctrl_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, CTRL_NAME ": %s%s%s\nTry '" CTRL_NAME " --help'.\n", what,
			arg != NULL ? ": " : "", arg != NULL ? arg : "");
	return CTRL_EUSAGE;
}

static void set_password(ctrl_opts_t *o, char *pw)
{
	if (o->password != NULL) {
		OPENSSL_cleanse(o->password, strlen(o->password));
		free(o->password);
	}
	o->password = pw;
}

/* One option into o: 0, or an exit status (-1 for --help). from_argv:
 * the value is argv's, where a password is overwritten once copied. */
static int take_opt(ctrl_opts_t *o, int c, char *arg, bool from_argv)
{
	switch (c) {
	case 'h': o->host = arg; break;
	case 'p':
		if (tool_parse_int(arg, 1, 65535, &o->port) != 0)
			return ctrl_usage_error("bad port", arg);
		break;
	case 'u': o->username = arg; break;
	case 'P':
		set_password(o, strdup(arg));
		if (o->password == NULL)
			return ctrl_usage_error("out of memory", NULL);
		if (from_argv)
			OPENSSL_cleanse(arg, strlen(arg));
		break;
	case 'i': o->client_id = arg; break;
	case 'W':
		if (tool_parse_int(arg, 1, 3600, &o->timeout) != 0)
			return ctrl_usage_error("-W takes 1 to 3600 seconds", arg);
		break;
	case 'o': break;            /* read before the rest (load_options) */
	case OPT_CAFILE: o->cafile = arg; break;
	case OPT_CAPATH: o->capath = arg; break;
	case OPT_CERT: o->certfile = arg; break;
	case OPT_KEY: o->keyfile = arg; break;
	case OPT_INSECURE: o->insecure = true; break;
	case OPT_JSON: o->json = true; break;
	case OPT_HELP: return -1;
	default: return CTRL_EUSAGE;
	}
	return 0;
}

/* The option a line of an options file names ("-h", "--host"): its
 * getopt code and whether it takes a value, or 0. */
static int file_option(const char *name, bool *has_arg)
{
	*has_arg = true;
	if (name[0] == '-' && name[1] != '-' && name[1] != '\0' && name[2] == '\0' &&
			name[1] != 'o' && strchr(SHORT_OPTS, name[1]) != NULL)
		return name[1];
	for (const struct option *l = LONG_OPTS; name[0] == '-' && name[1] == '-' &&
			l->name != NULL; l++) {
		if (strcmp(name + 2, l->name) == 0 && l->val != OPT_HELP &&
				l->val != OPT_JSON) {
			*has_arg = l->has_arg == required_argument;
			return l->val;
		}
	}
	return 0;
}

/* One line of an options file ("-option value", the value being the rest
 * of the line) into o; the line is cut up in place. */
static int file_line(ctrl_opts_t *o, char *line, const char *path, int lineno)
{
	char where[600];
	bool has_arg;
	char *value = line + strcspn(line, " \t");
	size_t n;

	if (*value != '\0')
		*value++ = '\0';
	value += strspn(value, " \t");
	for (n = strlen(value); n > 0 && strchr(" \t\r", value[n - 1]) != NULL; n--)
		value[n - 1] = '\0';
	snprintf(where, sizeof where, "%s, line %d", path, lineno);
	int c = file_option(line, &has_arg);
	if (c == 0)
		return ctrl_usage_error("not a connection option", where);
	if (has_arg != (*value != '\0'))
		return ctrl_usage_error(has_arg ? "the option needs a value"
				: "the option takes no value", where);
	return take_opt(o, c, value, false);
}

/* Reads the -o file into o; *text (*len bytes) keeps the values o points
 * to. */
static int load_options(ctrl_opts_t *o, const char *path, char **text, size_t *len)
{
	int lineno = 0, rc = 0;

	if ((*text = ctrl_read_file(path, MAX_OPTIONS_FILE, len)) == NULL)
		return CTRL_EUSAGE;
	for (char *line = *text, *next; rc == 0 && line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t\r");
		if (*line != '\0' && *line != '#')
			rc = file_line(o, line, path, lineno);
	}
	return rc;
}

/* An option that getopt refused, named without any "=value". */
static int bad_option(int c, const char *arg)
{
	const char *what = c == ':' ? "missing argument" : "unknown option";

	if (optopt != 0)
		fprintf(stderr, CTRL_NAME ": %s: -%c\n", what, optopt);
	else
		fprintf(stderr, CTRL_NAME ": %s: %.*s\n", what, (int)strcspn(arg, "="), arg);
	fputs("Try '" CTRL_NAME " --help'.\n", stderr);
	return CTRL_EUSAGE;
}

/* The -o file named in argv, if any: getopt's first pass. */
static int find_options_file(int argc, char **argv, const char **path)
{
	int c;

	*path = NULL;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTS, LONG_OPTS, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bad_option(c, argv[optind - 1]);
		if (c == 'o')
			*path = optarg;
	}
	return 0;
}

static int check_opts(ctrl_opts_t *o)
{
	bool tls = o->cafile != NULL || o->capath != NULL;

	if ((o->certfile == NULL) != (o->keyfile == NULL))
		return ctrl_usage_error("--cert and --key go together", NULL);
	if (!tls && (o->certfile != NULL || o->insecure))
		return ctrl_usage_error("--cert, --key and --insecure need --cafile or "
				"--capath", NULL);
	if (o->password != NULL && o->username == NULL)
		return ctrl_usage_error("-P needs -u", NULL);
	if (o->port == 0)
		o->port = tls ? 8883 : 1883;
	return 0;
}

/* Fills o from the -o file and argv; *cmd is the index of the command in
 * argv. 0, or an exit status (-1: --help). */
static int parse_args(ctrl_opts_t *o, int argc, char **argv, char **file_text,
		size_t *file_len, int *cmd)
{
	const char *path;
	int c, rc;

	*o = (ctrl_opts_t){ .host = "localhost", .timeout = 10 };
	if ((rc = find_options_file(argc, argv, &path)) != 0 ||
			(path != NULL && (rc = load_options(o, path, file_text, file_len)) != 0))
		return rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTS, LONG_OPTS, NULL)) != -1) {
		if ((rc = take_opt(o, c, optarg, true)) != 0)
			return rc;
	}
	if (optind >= argc)
		return ctrl_usage_error("no command given", NULL);
	*cmd = optind;
	return check_opts(o);
}

/* The password from the terminal on stdin, without echo. */
static int prompt_password(ctrl_opts_t *o)
{
	struct termios old, quiet;
	char buf[MAX_PASSWORD + 2];
	bool got;

	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return 0;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(stderr, "Password for %s: ", o->username);
	fflush(stderr);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
		return ctrl_usage_error("cannot turn off the terminal's echo", NULL);
	got = fgets(buf, sizeof buf, stdin) != NULL;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (got) {
		buf[strcspn(buf, "\r\n")] = '\0';
		set_password(o, strdup(buf));
	}
	OPENSSL_cleanse(buf, sizeof buf);
	return got && o->password != NULL ? 0
		: ctrl_usage_error("no password read", NULL);
}

static void usage(void)
{
	fputs(USAGE_HEAD, stdout);
	ctrl_cmd_usage(stdout);
	fputs(USAGE_TAIL, stdout);
}

int main(int argc, char **argv)
{
	ctrl_opts_t o;
	char *file_text = NULL;     /* the -o file: it may hold the password */
	size_t file_len = 0;
	int cmd = 0;
	int rc = parse_args(&o, argc, argv, &file_text, &file_len, &cmd);

	if (rc == -1)
		usage();
	else if (rc == 0 && o.username != NULL && o.password == NULL &&
			isatty(STDIN_FILENO))
		rc = prompt_password(&o);
	if (rc == -1) {
		rc = CTRL_OK;
	} else if (rc == 0) {
		mosquitto_lib_init();
		rc = ctrl_cmd_run(&o, argc - cmd, argv + cmd);
		mosquitto_lib_cleanup();
	}
	set_password(&o, NULL);
	if (file_text != NULL) {
		OPENSSL_cleanse(file_text, file_len);
		free(file_text);
	}
	return rc;
}
