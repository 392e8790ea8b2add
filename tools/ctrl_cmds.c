/*
 * The command table: every admin command of PROTOCOL.md section 4 by its
 * name, its positional arguments and its --kebab-case flags, each flag
 * naming the protocol field it fills, and the sections 7 commands of the
 * fleets (profiles, enrollment groups, unknown devices) the same way. A
 * new command is one line of COMMANDS, and a flag list when it has flags
 * of its own.
 *
 * Everything on the command line is checked before the connection is
 * made, so that a typing mistake costs no round trip and exits 2.
 */
#include "ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (1024 * 1024)  /* certificates, keys, content: the plugin
                                   takes at most 64 KiB; more is its to refuse */
#define PAGE 1000               /* listChannels/listConfigs --all: the
                                   plugin's largest page */
#define MAX_ARGS 2

typedef enum {
	K_STR,      /* --flag TEXT: a string */
	K_SECRET,   /* the same, overwritten in argv once read */
	K_JSON,     /* --flag JSON: any JSON value */
	K_INT,      /* --flag N: a count */
	K_TIME,     /* --flag TIME: an RFC 3339 time, as text */
	K_FILE,     /* --flag FILE: the text of the file */
	K_LIST,     /* --flag ID, repeatable: appended to an array */
	K_VAR,      /* --flag KEY=VALUE, repeatable: a string member of an object */
	K_BOOL,     /* --flag true|false */
	K_TRUE,     /* --flag: true */
	K_NULL,     /* --flag: null, which clears the field */
	K_EMPTY,    /* --flag: an empty array */
	K_EMPTY_OBJ, /* --flag: an empty object */
	K_ALL,      /* --all: every page (stands for "limit") */
	K_ENABLE,   /* --enable: enableConfig after createConfig, one batch */
} kind_t;

typedef struct {
	const char *flag;           /* without the leading "--" */
	const char *field;          /* the protocol field it fills */
	kind_t kind;
	const char *meta;           /* what its value is, for --help */
} flag_t;

typedef struct {
	const char *name;
	/* Positional fields, in order: "id name"; "client_id|external_id" is
	 * client_id, which may instead be given as the flag for external_id;
	 * "id?" may be left out. */
	const char *args;
	const flag_t *flags;
	ctrl_show_t show;
	/* import, export, raw: their own parsing; synopsis for --help. */
	int (*run)(const ctrl_opts_t *, int, char **);
	const char *synopsis;
	/* Fields that a flag must fill ("name content"), or NULL. */
	const char *required;
} cmd_t;

/* ---- the table -------------------------------------------------------- */

#define END { NULL, NULL, K_STR, NULL }
#define PAGE_FLAGS { "offset", "offset", K_INT, "N" }, { "limit", "limit", K_INT, "N" }, \
	{ "all", "limit", K_ALL, NULL }
#define CONTENT_FLAGS { "content", "content", K_STR, "TEXT" }, \
	{ "content-file", "content", K_FILE, "FILE" }, \
	{ "client-cert", "client_cert", K_FILE, "FILE" }, \
	{ "client-key", "client_key", K_FILE, "FILE" }, \
	{ "ca-cert", "ca_cert", K_FILE, "FILE" }
/* modifyConfig, modifyGroup: a profile named, or none (null). */
#define PROFILE_FLAGS { "profile", "profile", K_STR, "ID" }, \
	{ "clear-profile", "profile", K_NULL, NULL }
/* The vars object: KEY=VALUE members, or an empty object. */
#define VAR_FLAGS { "var", "vars", K_VAR, "KEY=VALUE" }, \
	{ "clear-vars", "vars", K_EMPTY_OBJ, NULL }

static const flag_t NO_FLAGS[] = { END };
static const flag_t CREATE_CHANNEL[] = { { "metadata", "metadata", K_JSON, "JSON" }, END };
static const flag_t MODIFY_CHANNEL[] = { { "name", "name", K_STR, "NAME" },
	{ "metadata", "metadata", K_JSON, "JSON" }, END };
static const flag_t LIST_PAGE[] = { PAGE_FLAGS, END };
static const flag_t CREATE_CONFIG[] = {
	{ "client-id", "client_id", K_STR, "ID" }, { "name", "name", K_STR, "NAME" },
	{ "external-key", "external_key", K_SECRET, "KEY" },
	{ "client-secret", "client_secret", K_SECRET, "SECRET" },
	{ "channel", "channels", K_LIST, "ID" }, CONTENT_FLAGS,
	{ "profile", "profile", K_STR, "ID" }, { "var", "vars", K_VAR, "KEY=VALUE" },
	{ "enable", "", K_ENABLE, NULL }, END };
static const flag_t GET_CONFIG[] = { { "external-id", "external_id", K_STR, "X" }, END };
static const flag_t LIST_CONFIGS[] = { { "state", "state", K_STR, "S" },
	{ "name", "name", K_STR, "S" }, { "external-id", "external_id", K_STR, "X" },
	{ "cert-expires-before", "cert_expires_before", K_TIME, "TIME" },
	PAGE_FLAGS, END };
static const flag_t MODIFY_CONFIG[] = {
	{ "name", "name", K_STR, "NAME" },
	{ "external-key", "external_key", K_SECRET, "KEY" },
	{ "channel", "channels", K_LIST, "ID" },
	{ "clear-channels", "channels", K_EMPTY, NULL }, CONTENT_FLAGS,
	{ "clear-client-cert", "client_cert", K_NULL, NULL },
	{ "clear-client-key", "client_key", K_NULL, NULL },
	{ "clear-ca-cert", "ca_cert", K_NULL, NULL },
	PROFILE_FLAGS, VAR_FLAGS,
	{ "rotate-secret", "rotate_secret", K_TRUE, NULL }, END };

/* Section 7: profiles, enrollment groups, unknown devices. */
static const flag_t CREATE_PROFILE[] = { { "name", "name", K_STR, "NAME" },
	{ "content", "content", K_STR, "TEXT" }, { "content-file", "content", K_FILE, "FILE" },
	{ "channel", "channels", K_LIST, "ID" }, { "var", "vars", K_VAR, "KEY=VALUE" }, END };
static const flag_t MODIFY_PROFILE[] = { { "name", "name", K_STR, "NAME" },
	{ "content", "content", K_STR, "TEXT" }, { "content-file", "content", K_FILE, "FILE" },
	{ "channel", "channels", K_LIST, "ID" }, { "clear-channels", "channels", K_EMPTY, NULL },
	VAR_FLAGS, END };
static const flag_t CREATE_GROUP[] = { { "name", "name", K_STR, "NAME" },
	{ "profile", "profile", K_STR, "ID" }, { "channel", "channels", K_LIST, "ID" },
	{ "enable", "enable", K_TRUE, NULL }, END };
static const flag_t MODIFY_GROUP[] = { { "name", "name", K_STR, "NAME" },
	PROFILE_FLAGS, { "channel", "channels", K_LIST, "ID" },
	{ "clear-channels", "channels", K_EMPTY, NULL },
	{ "enable", "enable", K_BOOL, "true|false" },
	{ "rotate-key", "rotate_key", K_TRUE, NULL }, END };
static const flag_t CLEAR_UNKNOWN[] = { { "external-id", "external_id", K_STR, "X" }, END };

static int raw(const ctrl_opts_t *o, int argc, char **argv);

static const cmd_t COMMANDS[] = {
	{ "createChannel", "id name", CREATE_CHANNEL, SHOW_FIELDS, NULL, NULL, NULL },
	{ "getChannel", "id", NO_FLAGS, SHOW_FIELDS, NULL, NULL, NULL },
	{ "listChannels", "", LIST_PAGE, SHOW_CHANNELS, NULL, NULL, NULL },
	{ "modifyChannel", "id", MODIFY_CHANNEL, SHOW_FIELDS, NULL, NULL, NULL },
	{ "deleteChannel", "id", NO_FLAGS, SHOW_NOTHING, NULL, NULL, NULL },
	{ "createConfig", "external_id", CREATE_CONFIG, SHOW_FIELDS, NULL, NULL, NULL },
	{ "getConfig", "client_id|external_id", GET_CONFIG, SHOW_FIELDS, NULL, NULL, NULL },
	{ "listConfigs", "", LIST_CONFIGS, SHOW_CONFIGS, NULL, NULL, NULL },
	{ "modifyConfig", "client_id", MODIFY_CONFIG, SHOW_FIELDS, NULL, NULL, NULL },
	{ "enableConfig", "client_id", NO_FLAGS, SHOW_FIELDS, NULL, NULL, NULL },
	{ "disableConfig", "client_id", NO_FLAGS, SHOW_FIELDS, NULL, NULL, NULL },
	{ "deleteConfig", "client_id", NO_FLAGS, SHOW_NOTHING, NULL, NULL, NULL },
	{ "createProfile", "id?", CREATE_PROFILE, SHOW_FIELDS, NULL, NULL, "name content" },
	{ "getProfile", "id", NO_FLAGS, SHOW_FIELDS, NULL, NULL, NULL },
	{ "listProfiles", "", LIST_PAGE, SHOW_PROFILES, NULL, NULL, NULL },
	{ "modifyProfile", "id", MODIFY_PROFILE, SHOW_FIELDS, NULL, NULL, NULL },
	{ "deleteProfile", "id", NO_FLAGS, SHOW_NOTHING, NULL, NULL, NULL },
	{ "createGroup", "id?", CREATE_GROUP, SHOW_FIELDS, NULL, NULL, "name" },
	{ "getGroup", "id", NO_FLAGS, SHOW_FIELDS, NULL, NULL, NULL },
	{ "listGroups", "", LIST_PAGE, SHOW_GROUPS, NULL, NULL, NULL },
	{ "modifyGroup", "id", MODIFY_GROUP, SHOW_FIELDS, NULL, NULL, NULL },
	{ "deleteGroup", "id", NO_FLAGS, SHOW_NOTHING, NULL, NULL, NULL },
	{ "listUnknown", "", LIST_PAGE, SHOW_UNKNOWN, NULL, NULL, NULL },
	{ "clearUnknown", "", CLEAR_UNKNOWN, SHOW_NOTHING, NULL, NULL, NULL },
	{ "getStats", "", NO_FLAGS, SHOW_FIELDS, NULL, NULL, NULL },
	{ "import", NULL, NULL, SHOW_NOTHING, ctrl_import,
		"CSV_FILE [--enable] [--channel ID]... [--group ID [--group-key-file FILE]] "
		"[--out FILE]", NULL },
	{ "export", NULL, NULL, SHOW_NOTHING, ctrl_export, "[--out FILE]", NULL },
	{ "raw", NULL, NULL, SHOW_NOTHING, raw, "JSON", NULL },
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static const cmd_t *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	}
	return NULL;
}

/* ---- help ------------------------------------------------------------- */

/* The positional fields of cmd: n of them; alt[i] is the field of the
 * flag that may stand in for field[i], or "". */
typedef struct {
	size_t n;
	char field[MAX_ARGS][64], alt[MAX_ARGS][64];
	bool opt[MAX_ARGS];         /* may be left out */
} args_t;

static void split_args(const cmd_t *cmd, args_t *a)
{
	a->n = 0;
	for (const char *p = cmd->args; *p != '\0' && a->n < MAX_ARGS; a->n++) {
		size_t len = strcspn(p, " "), bar = strcspn(p, "| ");
		a->opt[a->n] = bar > 0 && p[bar - 1] == '?';
		snprintf(a->field[a->n], 64, "%.*s", (int)(bar - a->opt[a->n]), p);
		snprintf(a->alt[a->n], 64, "%.*s", bar < len ? (int)(len - bar - 1) : 0,
				p + bar + (bar < len));
		p += len + (p[len] == ' ');
	}
}

static void upper(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, f);
}

static void flag_synopsis(FILE *f, const flag_t *fl)
{
	fprintf(f, "--%s%s%s", fl->flag, fl->meta ? " " : "", fl->meta ? fl->meta : "");
}

static bool repeatable(kind_t k)
{
	return k == K_LIST || k == K_VAR;
}

/* Whether cmd must be given a flag for field. */
static bool required(const cmd_t *cmd, const char *field)
{
	size_t n = strlen(field);

	for (const char *p = cmd->required; p != NULL && *p != '\0'; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, field, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* "name ARGS [--flag META]...", flags that fill one field joined by "|". */
static void synopsis(FILE *f, const cmd_t *cmd)
{
	const flag_t *alt = NULL;
	args_t a;

	fputs(cmd->name, f);
	if (cmd->run != NULL) {
		fprintf(f, " %s\n", cmd->synopsis);
		return;
	}
	split_args(cmd, &a);
	for (size_t i = 0; i < a.n; i++) {
		fputc(' ', f);
		for (const flag_t *fl = cmd->flags; a.alt[i][0] && fl->flag != NULL; fl++) {
			if (strcmp(fl->field, a.alt[i]) == 0)
				alt = fl;
		}
		if (a.opt[i])
			fputc('[', f);
		upper(f, a.field[i]);
		if (a.opt[i])
			fputc(']', f);
		if (alt != NULL) {
			fputs(" | ", f);
			flag_synopsis(f, alt);
		}
	}
	/* Required flags first, bare (or in parentheses when several fill
	 * their field); then the others, in brackets. */
	for (int pass = 0; pass < 2; pass++) {
		for (const flag_t *fl = cmd->flags; fl->flag != NULL; fl++) {
			bool must = required(cmd, fl->field);
			if (fl == alt || must != (pass == 0))
				continue;
			bool joined = fl != cmd->flags && !repeatable(fl->kind) &&
				strcmp(fl[-1].field, fl->field) == 0 && !repeatable(fl[-1].kind);
			bool joins = fl[1].flag != NULL && !repeatable(fl->kind) &&
				!repeatable(fl[1].kind) && strcmp(fl[1].field, fl->field) == 0;
			fputs(joined ? " | " : must ? (joins ? " (" : " ") : " [", f);
			flag_synopsis(f, fl);
			if (!joins && (!must || joined))
				fprintf(f, "%s%s", must ? ")" : "]", repeatable(fl->kind) ? "..." : "");
		}
	}
	fputc('\n', f);
}

/* text on lines of at most WIDTH columns, breaking only between bracketed
 * groups; continuation lines indented by indent. */
#define WIDTH 79
static void wrapped(FILE *f, const char *text, size_t col, size_t indent)
{
	for (bool first = true; *text != '\0' && *text != '\n'; first = false) {
		size_t len = 0;
		int depth = 0;
		while (text[len] != '\0' && text[len] != '\n' && (text[len] != ' ' || depth > 0)) {
			depth += (text[len] == '[' || text[len] == '(') -
				(text[len] == ']' || text[len] == ')');
			len++;
		}
		if (!first && col + 1 + len > WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, len, f);
		col += len;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

/* A command's synopsis, wrapped, after prefix. */
static void show_synopsis(FILE *f, const char *prefix, const cmd_t *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		return;
	synopsis(mem, cmd);
	if (fclose(mem) == 0) {
		fputs(prefix, f);
		size_t under_args = strlen(prefix) + strcspn(text, " ") + 1;
		wrapped(f, text, strlen(prefix), under_args < 24 ? under_args : 8);
	}
	free(text);
}

void ctrl_cmd_usage(FILE *f)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		show_synopsis(f, "  ", &COMMANDS[i]);
}

/* ---- small shared things ---------------------------------------------- */

int ctrl_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof b) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
			b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

char *ctrl_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 0;
	char *buf = NULL;
	const char *why = NULL;

	while (f != NULL && why == NULL && !feof(f)) {
		if (n == cap) {
			char *more = cap <= max ? realloc(buf, (cap = cap ? 2 * cap : 4096) + 1) : NULL;
			if (more == NULL) {
				why = cap > max ? "too large" : strerror(ENOMEM);
				break;
			}
			buf = more;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f))
			why = strerror(errno);
	}
	if (f == NULL)
		why = strerror(errno);
	else
		fclose(f);
	if (why == NULL && (n > max || memchr(buf, '\0', n) != NULL))
		why = n > max ? "too large" : "not a text file";
	if (why == NULL && buf == NULL && (buf = malloc(1)) == NULL)
		why = strerror(ENOMEM);
	if (why != NULL) {
		fprintf(stderr, CTRL_NAME ": cannot read %s: %s\n", path, why);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

FILE *ctrl_create_file(const char *path)
{
	/* O_EXCL: never through a planted link, never over a file that may
	 * be someone's only copy of a fleet's keys. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL) {
		fprintf(stderr, CTRL_NAME ": cannot create %s: %s%s\n", path,
				strerror(errno), errno == EEXIST ? " (it is never overwritten)" : "");
		if (fd >= 0)
			close(fd);
	}
	return f;
}

int ctrl_cmd_error(const json_t *response)
{
	const json_t *err = json_object_get(response, "error");

	if (err == NULL)
		return CTRL_OK;
	char *cmd = ctrl_printable(json_string_value(json_object_get(response, "command")), false);
	char *code = ctrl_printable(json_string_value(err), false);
	char *msg = ctrl_printable(json_string_value(json_object_get(response, "message")), false);
	fprintf(stderr, CTRL_NAME ": %s: %s: %s\n", cmd && *cmd ? cmd : "(batch)",
			code ? code : "?", msg ? msg : "?");
	free(cmd);
	free(code);
	free(msg);
	return CTRL_ECMD;
}

/* ---- parsing a command line ------------------------------------------- */

typedef struct {
	json_t *cmd;                /* the command object being built */
	const flag_t *used[32];     /* flags given so far */
	size_t nused;
	bool all, enable;
	ctrl_opts_t o;              /* the options, with --json when given here */
} parsed_t;

static const flag_t *find_flag(const cmd_t *cmd, const char *name, size_t len)
{
	for (const flag_t *f = cmd->flags; f->flag != NULL; f++) {
		if (strlen(f->flag) == len && strncmp(f->flag, name, len) == 0)
			return f;
	}
	return NULL;
}

/* A flag that fills a field another flag given already fills. */
static int conflict(parsed_t *p, const flag_t *f)
{
	for (size_t i = 0; i < p->nused; i++) {
		const flag_t *u = p->used[i];
		if (u == f && repeatable(f->kind))
			continue;
		if (u == f || strcmp(u->field, f->field) == 0) {
			fprintf(stderr, CTRL_NAME ": --%s%s%s%s\n", f->flag,
					u == f ? " is given twice" : " and --", u == f ? "" : u->flag,
					u == f ? "" : " cannot go together");
			return CTRL_EUSAGE;
		}
	}
	if (p->nused < sizeof p->used / sizeof p->used[0])
		p->used[p->nused++] = f;
	return 0;
}

static bool digits(const char *s, size_t n, int lo, int hi)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

/* An RFC 3339 date-time (2026-12-31T00:00:00Z, with fractions of a second
 * or an offset: 2026-12-31T01:00:00.5+01:00), checked for its shape and
 * its fields' ranges; the plugin judges the rest. */
static bool rfc3339(const char *s)
{
	size_t n = strlen(s), i = 19;

	if (n < 20 || !digits(s, 4, 0, 9999) || s[4] != '-' || !digits(s + 5, 2, 1, 12) ||
			s[7] != '-' || !digits(s + 8, 2, 1, 31) ||
			(s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
			!digits(s + 11, 2, 0, 23) || s[13] != ':' || !digits(s + 14, 2, 0, 59) ||
			s[16] != ':' || !digits(s + 17, 2, 0, 60))
		return false;
	if (s[i] == '.') {
		size_t f = strspn(s + i + 1, "0123456789");
		if (f == 0)
			return false;
		i += 1 + f;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
		return true;
	return (s[i] == '+' || s[i] == '-') && n - i == 6 && digits(s + i + 1, 2, 0, 23) &&
		s[i + 3] == ':' && digits(s + i + 4, 2, 0, 59);
}

/* The JSON value of a flag that takes one. */
static json_t *flag_value(const flag_t *f, char *arg)
{
	json_error_t jerr;
	json_t *v = NULL;
	char *end, *text;
	long long n;

	switch (f->kind) {
	case K_STR:
	case K_SECRET:
	case K_LIST:
		if ((v = json_string(arg)) == NULL)
			fprintf(stderr, CTRL_NAME ": --%s: not UTF-8 text\n", f->flag);
		if (f->kind == K_SECRET)
			OPENSSL_cleanse(arg, strlen(arg));
		return v;
	case K_JSON:
		if ((v = json_loads(arg, JSON_DECODE_ANY, &jerr)) == NULL)
			fprintf(stderr, CTRL_NAME ": --%s: not JSON: %s\n", f->flag, jerr.text);
		return v;
	case K_INT:
		errno = 0;
		n = strtoll(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || n < 0) {
			fprintf(stderr, CTRL_NAME ": --%s takes a count: %s\n", f->flag, arg);
			return NULL;
		}
		return json_integer(n);
	case K_BOOL:
		if (strcmp(arg, "true") == 0 || strcmp(arg, "false") == 0)
			return json_boolean(arg[0] == 't');
		fprintf(stderr, CTRL_NAME ": --%s takes true or false: %s\n", f->flag, arg);
		return NULL;
	case K_TIME:
		if (!rfc3339(arg)) {
			fprintf(stderr, CTRL_NAME ": --%s takes an RFC 3339 time such as "
					"2026-12-31T00:00:00Z: %s\n", f->flag, arg);
			return NULL;
		}
		return json_string(arg);
	case K_FILE:
		if ((text = ctrl_read_file(arg, MAX_FILE, NULL)) == NULL)
			return NULL;
		if ((v = json_string(text)) == NULL)
			fprintf(stderr, CTRL_NAME ": --%s: %s is not UTF-8 text\n", f->flag, arg);
		OPENSSL_cleanse(text, strlen(text));
		free(text);
		return v;
	default:
		return NULL;
	}
}

static bool takes_value(kind_t k)
{
	return k == K_STR || k == K_SECRET || k == K_JSON || k == K_INT ||
		k == K_TIME || k == K_FILE || k == K_LIST || k == K_VAR || k == K_BOOL;
}

/* --var KEY=VALUE into the object of f's field: KEY not empty and given
 * once; VALUE may be empty. The plugin judges the key's characters. */
static int take_var(parsed_t *p, const flag_t *f, const char *arg)
{
	const char *eq = strchr(arg, '=');
	json_t *obj = json_object_get(p->cmd, f->field), *v;

	if (eq == NULL || eq == arg) {
		fprintf(stderr, CTRL_NAME ": --%s takes KEY=VALUE: %s\n", f->flag, arg);
		return CTRL_EUSAGE;
	}
	char *key = strndup(arg, (size_t)(eq - arg));
	int rc = CTRL_EUSAGE;
	if (key == NULL)
		return CTRL_EUSAGE;
	if (obj == NULL)
		json_object_set_new(p->cmd, f->field, obj = json_object());
	if (json_object_get(obj, key) != NULL)
		fprintf(stderr, CTRL_NAME ": --%s %s is given twice\n", f->flag, key);
	else if ((v = json_string(eq + 1)) == NULL)
		fprintf(stderr, CTRL_NAME ": --%s %s: not UTF-8 text\n", f->flag, key);
	else if (json_object_set_new(obj, key, v) != 0)
		fprintf(stderr, CTRL_NAME ": --%s: not UTF-8 text: %s\n", f->flag, key);
	else
		rc = 0;
	free(key);
	return rc;
}

/* One flag (argv[*i], "--name" or "--name=value") into p. */
static int take_flag(const cmd_t *cmd, parsed_t *p, int argc, char **argv, int *i)
{
	char *name = argv[*i] + 2, *eq = strchr(name, '=');
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	const flag_t *f = find_flag(cmd, name, len);
	char *arg = eq != NULL ? eq + 1 : NULL;
	json_t *v;
	int rc;

	if (len == 4 && strncmp(name, "json", 4) == 0 && eq == NULL) {
		p->o.json = true;
		return 0;
	}
	if (len == 4 && strncmp(name, "help", 4) == 0 && eq == NULL) {
		show_synopsis(stdout, "Usage: " CTRL_NAME " [options] ", cmd);
		return -1;
	}
	if (f == NULL) {
		fprintf(stderr, CTRL_NAME ": %s has no option --%.*s\nTry '" CTRL_NAME
				" %s --help'.\n", cmd->name, (int)len, name, cmd->name);
		return CTRL_EUSAGE;
	}
	if ((rc = conflict(p, f)) != 0)
		return rc;
	if (takes_value(f->kind) && arg == NULL) {
		if (*i + 1 >= argc)
			return ctrl_usage_error("missing value after", argv[*i]);
		arg = argv[++*i];
	} else if (!takes_value(f->kind) && arg != NULL) {
		return ctrl_usage_error("the option takes no value", f->flag);
	}
	switch (f->kind) {
	case K_ALL: p->all = true; return 0;
	case K_ENABLE: p->enable = true; return 0;
	case K_TRUE: v = json_true(); break;
	case K_NULL: v = json_null(); break;
	case K_EMPTY: v = json_array(); break;
	case K_EMPTY_OBJ: v = json_object(); break;
	case K_VAR: return take_var(p, f, arg);
	default:
		if ((v = flag_value(f, arg)) == NULL)
			return CTRL_EUSAGE;
	}
	if (f->kind == K_LIST) {
		json_t *list = json_object_get(p->cmd, f->field);
		if (list == NULL)
			json_object_set_new(p->cmd, f->field, list = json_array());
		return json_array_append_new(list, v) == 0 ? 0 : CTRL_EUSAGE;
	}
	return json_object_set_new(p->cmd, f->field, v) == 0 ? 0 : CTRL_EUSAGE;
}

/* The flag that fills field (for messages). */
static const char *flag_of(const cmd_t *cmd, const char *field)
{
	for (const flag_t *f = cmd->flags; f->flag != NULL; f++) {
		if (strcmp(f->field, field) == 0)
			return f->flag;
	}
	return field;
}

static int missing_args(const cmd_t *cmd, const args_t *a)
{
	fprintf(stderr, CTRL_NAME ": %s needs", cmd->name);
	for (size_t i = 0; i < a->n; i++) {
		if (a->opt[i])
			continue;
		fputc(' ', stderr);
		upper(stderr, a->field[i]);
		if (a->alt[i][0] != '\0')
			fprintf(stderr, " (or --%s)", flag_of(cmd, a->alt[i]));
	}
	fputs("\nTry '" CTRL_NAME " --help'.\n", stderr);
	return CTRL_EUSAGE;
}

/* Checks the positionals against the command's fields; alternatives given
 * as flags count for the field they stand in for. */
static int check_args(const cmd_t *cmd, parsed_t *p, char **pos, size_t npos)
{
	args_t a;

	split_args(cmd, &a);
	if (npos > a.n)
		return ctrl_usage_error("unexpected argument", pos[a.n]);
	for (size_t i = 0; i < a.n; i++) {
		bool alt_given = a.alt[i][0] != '\0' && json_object_get(p->cmd, a.alt[i]) != NULL;
		if (i < npos && alt_given) {
			fputs(CTRL_NAME ": give ", stderr);
			upper(stderr, a.field[i]);
			fprintf(stderr, " or --%s, not both\n", flag_of(cmd, a.alt[i]));
			return CTRL_EUSAGE;
		}
		if (i >= npos && !alt_given && !a.opt[i])
			return missing_args(cmd, &a);
		if (i < npos) {
			json_t *v = json_string(pos[i]);
			if (v == NULL)
				return ctrl_usage_error("not UTF-8 text", pos[i]);
			json_object_set_new(p->cmd, a.field[i], v);
		}
	}
	for (const flag_t *f = cmd->flags; f->flag != NULL; f++) {
		if (!required(cmd, f->field) || json_object_get(p->cmd, f->field) != NULL ||
				(f != cmd->flags && strcmp(f[-1].field, f->field) == 0))
			continue;
		fprintf(stderr, CTRL_NAME ": %s needs ", cmd->name);
		for (const flag_t *g = f; g->flag != NULL && strcmp(g->field, f->field) == 0; g++) {
			fprintf(stderr, "%s", g == f ? "" : " or ");
			flag_synopsis(stderr, g);
		}
		fprintf(stderr, "\nTry '" CTRL_NAME " %s --help'.\n", cmd->name);
		return CTRL_EUSAGE;
	}
	return 0;
}

/* The command line of a table command into p: 0, or an exit status (-1:
 * --help). */
static int parse_cmd(const cmd_t *cmd, int argc, char **argv, parsed_t *p)
{
	char *pos[MAX_ARGS + 1];
	size_t npos = 0;
	bool flags_end = false;
	int rc;

	p->cmd = json_pack("{ss}", "command", cmd->name);
	for (int i = 1; i < argc; i++) {
		if (!flags_end && strcmp(argv[i], "--") == 0)
			flags_end = true;
		else if (!flags_end && strncmp(argv[i], "--", 2) == 0) {
			if ((rc = take_flag(cmd, p, argc, argv, &i)) != 0)
				return rc;
		} else if (npos <= MAX_ARGS) {
			pos[npos++] = argv[i];
		}
	}
	return check_args(cmd, p, pos, npos);
}

/* ---- running ---------------------------------------------------------- */

/* Sends commands (borrowed) and checks the answer has one response each:
 * CTRL_OK with *responses, or CTRL_ECONN. */
static int ask(ctrl_conn_t *c, const json_t *commands, json_t **responses)
{
	int rc = ctrl_mqtt_ask(c, commands, responses);

	if (rc == CTRL_OK && json_array_size(*responses) != json_array_size(commands)) {
		fprintf(stderr, CTRL_NAME ": the answer has %zu responses for %zu commands\n",
				json_array_size(*responses), json_array_size(commands));
		json_decref(*responses);
		*responses = NULL;
		rc = CTRL_ECONN;
	}
	return rc;
}

/* One command (stolen): its data (new reference), or an exit status. */
static int ask_one(ctrl_conn_t *c, json_t *cmd, json_t **data)
{
	json_t *commands = json_pack("[o]", cmd), *responses = NULL;
	int rc = ask(c, commands, &responses);

	json_decref(commands);
	if (rc == CTRL_OK && (rc = ctrl_cmd_error(json_array_get(responses, 0))) == CTRL_OK)
		*data = json_incref(json_object_get(json_array_get(responses, 0), "data"));
	json_decref(responses);
	return rc;
}

/* --all: page after page of PAGE items from the given offset; the data is
 * one page holding them all. */
static int ask_all(ctrl_conn_t *c, const json_t *cmd, const char *key, json_t **data)
{
	json_int_t start = json_integer_value(json_object_get(cmd, "offset"));
	json_int_t offset = start, total = 0;
	json_t *items = json_array();
	int rc = CTRL_OK;

	for (;;) {
		json_t *page = NULL, *one = json_deep_copy(cmd);
		json_object_set_new(one, "offset", json_integer(offset));
		json_object_set_new(one, "limit", json_integer(PAGE));
		if ((rc = ask_one(c, one, &page)) != CTRL_OK)
			break;
		json_t *got = json_object_get(page, key);
		total = json_integer_value(json_object_get(page, "total"));
		json_array_extend(items, got);
		offset += (json_int_t)json_array_size(got);
		size_t n = json_array_size(got);
		json_decref(page);
		if (n == 0 || offset >= total)
			break;
	}
	if (rc == CTRL_OK)
		*data = json_pack("{sOsIsIsI}", key, items, "total", total, "offset", start,
				"limit", (json_int_t)json_array_size(items));
	json_decref(items);
	return rc;
}

/* createConfig --enable: both commands in one batch, so that the config is
 * enabled before any device could try it; the data is enableConfig's with
 * the secrets that createConfig alone shows. */
static int create_enabled(ctrl_conn_t *c, json_t *cmd, json_t **data)
{
	char uuid[37];
	json_t *id = json_object_get(cmd, "client_id"), *responses = NULL;

	if (id == NULL) {
		if (ctrl_uuid(uuid) != 0) {
			fprintf(stderr, CTRL_NAME ": no randomness for a client id\n");
			json_decref(cmd);
			return CTRL_ECONN;
		}
		json_object_set_new(cmd, "client_id", id = json_string(uuid));
	}
	json_t *commands = json_pack("[o{sssO}]", cmd, "command", "enableConfig",
			"client_id", id);
	int rc = ask(c, commands, &responses);
	json_decref(commands);
	if (rc == CTRL_OK && (rc = ctrl_cmd_error(json_array_get(responses, 0))) == CTRL_OK &&
			(rc = ctrl_cmd_error(json_array_get(responses, 1))) == CTRL_OK) {
		json_t *created = json_object_get(json_array_get(responses, 0), "data");
		*data = json_deep_copy(json_object_get(json_array_get(responses, 1), "data"));
		json_object_set(*data, "external_key", json_object_get(created, "external_key"));
		json_object_set(*data, "client_secret", json_object_get(created, "client_secret"));
	}
	json_decref(responses);
	return rc;
}

static const char *list_key(ctrl_show_t show)
{
	switch (show) {
	case SHOW_CHANNELS: return "channels";
	case SHOW_CONFIGS: return "configs";
	case SHOW_PROFILES: return "profiles";
	case SHOW_GROUPS: return "groups";
	case SHOW_UNKNOWN: return "unknown";
	default: return NULL;
	}
}

static int run_table_cmd(const ctrl_opts_t *o, const cmd_t *cmd, int argc,
		char **argv)
{
	parsed_t p = { .o = *o };
	ctrl_conn_t *c = NULL;
	json_t *data = NULL;
	int rc = parse_cmd(cmd, argc, argv, &p);

	if (rc == 0 && (rc = ctrl_mqtt_open(&p.o, &c)) == CTRL_OK) {
		if (p.all)
			rc = ask_all(c, p.cmd, list_key(cmd->show), &data);
		else if (p.enable)
			rc = create_enabled(c, json_incref(p.cmd), &data);
		else
			rc = ask_one(c, json_incref(p.cmd), &data);
		ctrl_mqtt_close(c);
	}
	if (rc == CTRL_OK)
		rc = ctrl_out_show(data, cmd->show, p.o.json);
	json_decref(data);
	json_decref(p.cmd);
	return rc == -1 ? CTRL_OK : rc;
}

/* raw '{"commands": [...]}' sends the batch as it is and prints the whole
 * answer as JSON; raw '{"command": ...}' sends that one command and prints
 * its data as the named command would. */
static int raw_batch(const ctrl_opts_t *o, const char *text)
{
	ctrl_conn_t *c = NULL;
	json_t *responses = NULL;
	unsigned tag;
	int rc = ctrl_mqtt_open(o, &c);

	if (rc == CTRL_OK && (rc = ctrl_mqtt_send(c, text, strlen(text), 0)) == CTRL_OK)
		rc = ctrl_mqtt_wait(c, &tag, &responses);
	ctrl_mqtt_close(c);
	if (rc != CTRL_OK)
		return rc;
	json_t *reply = json_pack("{sO}", "responses", responses);
	rc = ctrl_out_show(reply, SHOW_FIELDS, true);
	for (size_t i = 0; rc == CTRL_OK && i < json_array_size(responses); i++) {
		if (ctrl_cmd_error(json_array_get(responses, i)) != CTRL_OK)
			rc = CTRL_ECMD;
	}
	json_decref(reply);
	json_decref(responses);
	return rc;
}

static int raw(const ctrl_opts_t *opts, int argc, char **argv)
{
	ctrl_opts_t o = *opts;
	const char *text = NULL;
	json_error_t jerr;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else if (strcmp(argv[i], "--help") == 0) {
			show_synopsis(stdout, "Usage: " CTRL_NAME " [options] ", find_cmd("raw"));
			return CTRL_OK;
		} else if (text == NULL)
			text = argv[i];
		else
			return ctrl_usage_error("raw takes one JSON argument", argv[i]);
	}
	if (text == NULL)
		return ctrl_usage_error("raw needs the JSON to send", NULL);
	json_t *v = json_loads(text, 0, &jerr);
	if (!json_is_object(v)) {
		json_decref(v);
		return ctrl_usage_error("raw takes a JSON object with \"commands\" or "
				"\"command\"", v == NULL ? jerr.text : NULL);
	}
	const char *name = json_string_value(json_object_get(v, "command"));
	if (json_object_get(v, "commands") != NULL) {
		json_decref(v);
		return raw_batch(&o, text);
	}
	if (name == NULL) {
		json_decref(v);
		return ctrl_usage_error("raw takes a JSON object with \"commands\" or "
				"\"command\"", NULL);
	}
	const cmd_t *cmd = find_cmd(name);
	ctrl_conn_t *c = NULL;
	json_t *data = NULL;
	if ((rc = ctrl_mqtt_open(&o, &c)) == CTRL_OK)
		rc = ask_one(c, v, &data);
	else
		json_decref(v);
	ctrl_mqtt_close(c);
	if (rc == CTRL_OK)
		rc = ctrl_out_show(data, cmd != NULL && cmd->run == NULL ? cmd->show
				: SHOW_FIELDS, o.json);
	json_decref(data);
	return rc;
}

int ctrl_cmd_run(const ctrl_opts_t *o, int argc, char **argv)
{
	const cmd_t *cmd = find_cmd(argv[0]);

	if (cmd == NULL)
		return ctrl_usage_error("unknown command", argv[0]);
	return cmd->run != NULL ? cmd->run(o, argc, argv) : run_table_cmd(o, cmd, argc, argv);
}
