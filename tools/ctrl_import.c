/*
 * import: a fleet from a CSV file, external_id[,external_key[,name]] a line
 * ('#' lines and empty lines skipped; the name is the rest of the line, so
 * it may hold commas; no quoting). Each device is a createConfig, with a
 * client_id made here so that --enable can add its enableConfig to the
 * same batch; the CSV line number is each command's correlationData. Up to
 * BATCH_COMMANDS commands go in a message and CTRL_WINDOW messages are in
 * flight at once, so that the plugin never waits for the network.
 *
 * The secrets shown once in the answers (external_key, client_secret) go
 * to --out alone, a file created 0600 that is never overwritten; nothing
 * else is written anywhere.
 *
 * --group ID registers devices of an enrollment group (PROTOCOL.md 7.2)
 * ahead of their first bootstrap, with the names of the CSV: the group is
 * read first (getGroup), and every config gets its profile and channels,
 * enabled when the group's "enable" is (or with --enable). Such a device
 * was flashed with the key derived from the group key, and a known
 * external ID bootstraps with its config's key, so a line without a key
 * gets that derived key, computed here from --group-key-file (the group
 * key is never readable from the plugin); without that file such a line
 * is refused before anything is sent, since a generated key would lock
 * the device out.
 *
 * export: every config as one JSON object a line, in listConfigs order,
 * without client_secret (or the write-only keys, which reads never show).
 */
#include "ctrl.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_COMMANDS 5000     /* the plugin takes at most 10000 */
#define MAX_CSV ((size_t)1 << 30)
#define EXPORT_PAGE 1000
#define BAR 30

typedef struct {
	int line;
	const char *ext, *key, *name;   /* in the CSV text; key, name may be NULL */
	char client_id[37];
	char derived[48];           /* --group-key-file: the key derived for ext */
	bool failed;                /* refused here: never sent */
} row_t;

typedef struct {
	int line;
	char *text;                 /* "code: message" */
} failure_t;

typedef struct {
	const char *csv_path, *out_path;
	bool enable;
	json_t *channels;           /* ids for every config, or NULL */
	const char *group;          /* --group ID */
	const char *group_key_path; /* --group-key-file */
	char *group_key;            /* its text, without the line end */
	json_t *profile;            /* the group's profile: a string, or NULL */
	char *csv;
	size_t csv_len;
	row_t *rows;
	size_t nrows;
	FILE *out;
	size_t imported, answered, messages;
	failure_t *fail;
	size_t nfail, capfail;
	size_t (*batch_end)[2];     /* per tag: its first row and the row after */
	bool progress;
} import_t;

/* ---- the command line ------------------------------------------------- */

static int import_args(import_t *im, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--enable") == 0)
			im->enable = true;
		else if (strcmp(a, "--json") == 0)
			;                   /* the summary is text on stderr either way */
		else if (strcmp(a, "--help") == 0)
			return -1;
		else if (strcmp(a, "--channel") == 0 || strcmp(a, "--out") == 0 ||
				strcmp(a, "--group") == 0 || strcmp(a, "--group-key-file") == 0) {
			if (value == NULL)
				return ctrl_usage_error("missing value after", a);
			const char **one = a[2] == 'o' ? &im->out_path : strcmp(a, "--group") == 0
				? &im->group : a[2] == 'g' ? &im->group_key_path : NULL;
			if (one != NULL && *one != NULL)
				return ctrl_usage_error("the option is given twice", a);
			if (one != NULL)
				*one = value;
			else if (json_array_append_new(im->channels, json_string(value)) != 0)
				return ctrl_usage_error("--channel: not UTF-8 text", value);
			i++;
		} else if (strncmp(a, "--", 2) == 0)
			return ctrl_usage_error("import has no option", a);
		else if (im->csv_path == NULL)
			im->csv_path = a;
		else
			return ctrl_usage_error("unexpected argument", a);
	}
	if (im->csv_path == NULL)
		return ctrl_usage_error("import needs CSV_FILE", NULL);
	if (im->group_key_path != NULL && im->group == NULL)
		return ctrl_usage_error("--group-key-file goes with --group ID", NULL);
	if (im->group != NULL && json_array_size(im->channels) > 0)
		return ctrl_usage_error("--channel and --group cannot go together: the "
				"configs get the group's channels", NULL);
	return 0;
}

/* ---- an enrollment group ---------------------------------------------- */

/* The group key of --group-key-file: its first line, not empty. */
static int read_group_key(import_t *im)
{
	size_t len;

	if (im->group_key_path == NULL)
		return 0;
	if ((im->group_key = ctrl_read_file(im->group_key_path, 4096, &len)) == NULL)
		return CTRL_EUSAGE;
	im->group_key[strcspn(im->group_key, "\r\n")] = '\0';
	if (im->group_key[0] == '\0')
		return ctrl_usage_error("no group key in", im->group_key_path);
	return 0;
}

/* base64url-without-padding(HMAC-SHA256(group key, external ID)), as the
 * factory computes it (PROTOCOL.md 7.2), into out (at least 44 bytes). */
static int derive_key(const char *group_key, const char *ext, char *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE], b64[64];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), group_key, (int)strlen(group_key),
				(const unsigned char *)ext, strlen(ext), mac, &n) == NULL || n != 32)
		return -1;
	int len = EVP_EncodeBlock(b64, mac, (int)n);
	OPENSSL_cleanse(mac, sizeof mac);
	while (len > 0 && b64[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[len] = '\0';
	OPENSSL_cleanse(b64, sizeof b64);
	return 0;
}

/* getGroup: the group's profile and channels for every config, and its
 * "enable" for their state. CTRL_OK, or the exit status of the failure
 * (its code and message on stderr). */
static int read_group(import_t *im, ctrl_conn_t *c)
{
	json_t *commands = json_pack("[{ssss}]", "command", "getGroup", "id", im->group);
	json_t *responses = NULL;
	int rc = ctrl_mqtt_ask(c, commands, &responses);
	const json_t *r = json_array_get(responses, 0), *ch;
	size_t i;

	json_decref(commands);
	if (rc == CTRL_OK && r == NULL)
		rc = CTRL_ECONN;
	if (rc == CTRL_OK && (rc = ctrl_cmd_error(r)) != CTRL_OK)
		fprintf(stderr, CTRL_NAME ": import --group %s: nothing was imported\n", im->group);
	if (rc == CTRL_OK) {
		const json_t *g = json_object_get(r, "data");
		const json_t *profile = json_object_get(g, "profile");
		if (json_is_string(profile))
			im->profile = json_incref((json_t *)profile);
		/* The group's channels, as ids (or channel objects). */
		json_array_foreach(json_object_get(g, "channels"), i, ch) {
			const json_t *id = json_is_string(ch) ? ch : json_object_get(ch, "id");
			if (json_is_string(id))
				json_array_append(im->channels, (json_t *)id);
		}
		if (json_is_true(json_object_get(g, "enable")))
			im->enable = true;
	}
	json_decref(responses);
	return rc;
}

/* ---- the CSV ---------------------------------------------------------- */

static int add_failure(import_t *im, int line, const char *code, const char *msg)
{
	if (im->nfail == im->capfail) {
		size_t cap = im->capfail ? 2 * im->capfail : 64;
		failure_t *more = realloc(im->fail, cap * sizeof *more);
		if (more == NULL)
			return -1;
		im->fail = more;
		im->capfail = cap;
	}
	char *c = ctrl_printable(code, false), *m = ctrl_printable(msg, false);
	size_t n = strlen(c ? c : "") + strlen(m ? m : "") + 3;
	char *text = malloc(n);
	if (text != NULL)
		snprintf(text, n, "%s: %s", c ? c : "", m ? m : "");
	free(c);
	free(m);
	im->fail[im->nfail++] = (failure_t){ line, text };
	return 0;
}

/* Cuts one line into its fields, in place. */
static void split_row(char *line, row_t *r)
{
	char *comma = strchr(line, ',');

	r->ext = line;
	if (comma == NULL)
		return;
	*comma = '\0';
	r->key = comma + 1;
	if ((comma = strchr(comma + 1, ',')) != NULL) {
		*comma = '\0';
		r->name = comma + 1;
	}
	if (*r->key == '\0')
		r->key = NULL;
	if (r->name != NULL && *r->name == '\0')
		r->name = NULL;
}

static int read_csv(import_t *im)
{
	size_t cap = 0;
	int lineno = 0;

	if ((im->csv = ctrl_read_file(im->csv_path, MAX_CSV, &im->csv_len)) == NULL)
		return CTRL_EUSAGE;
	for (char *line = im->csv, *next; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lineno++;
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		const char *start = line + strspn(line, " \t");
		if (*start == '\0' || *start == '#')
			continue;
		if (im->nrows == cap) {
			row_t *more = realloc(im->rows, (cap = cap ? 2 * cap : 1024) * sizeof *more);
			if (more == NULL)
				return ctrl_usage_error("out of memory", NULL);
			im->rows = more;
		}
		row_t *r = &im->rows[im->nrows++];
		*r = (row_t){ .line = lineno };
		split_row(line, r);
		if (*r->ext == '\0') {
			r->failed = true;
			add_failure(im, lineno, "invalid_request", "external_id is empty (not sent)");
		} else if (ctrl_uuid(r->client_id) != 0) {
			return ctrl_usage_error("no randomness for client ids", NULL);
		}
	}
	if (im->nrows == 0)
		return ctrl_usage_error("no devices in", im->csv_path);
	return 0;
}

/* A device without a key gets one generated, shown once: with nowhere to
 * write it, it would be lost, and the device could never bootstrap. A
 * device of a group gets the key derived from the group key, or is
 * refused. */
static int check_keys(import_t *im)
{
	for (size_t i = 0; im->group != NULL && i < im->nrows; i++) {
		row_t *r = &im->rows[i];
		if (r->key != NULL || r->failed)
			continue;
		if (im->group_key == NULL) {
			fprintf(stderr, CTRL_NAME ": line %d has no external_key: a device of group "
					"%s is flashed with the key derived from the group key; give the "
					"key in the CSV, or the group key with --group-key-file FILE\n",
					r->line, im->group);
			return CTRL_EUSAGE;
		}
		if (derive_key(im->group_key, r->ext, r->derived) != 0)
			return ctrl_usage_error("cannot compute HMAC-SHA256", NULL);
		r->key = r->derived;
	}
	for (size_t i = 0; im->out_path == NULL && i < im->nrows; i++) {
		if (im->rows[i].key == NULL && !im->rows[i].failed) {
			fprintf(stderr, CTRL_NAME ": line %d has no external_key: the one the "
					"plugin generates is shown once; give --out FILE to keep it\n",
					im->rows[i].line);
			return CTRL_EUSAGE;
		}
	}
	return 0;
}

/* ---- the batches ------------------------------------------------------ */

static json_t *create_cmd(const import_t *im, const row_t *r, const char *corr)
{
	json_t *cmd = json_pack("{ssssssssss*ss*}", "command", "createConfig",
			"correlationData", corr, "client_id", r->client_id, "external_id", r->ext,
			"external_key", r->key, "name", r->name);

	if (cmd != NULL && json_array_size(im->channels) > 0)
		json_object_set(cmd, "channels", im->channels);
	if (cmd != NULL && im->profile != NULL)
		json_object_set(cmd, "profile", im->profile);
	return cmd;
}

/* The batch of rows [first, *end) as JSON text; the caller sends it. */
static char *build_batch(import_t *im, size_t first, size_t *end)
{
	size_t per = im->enable ? BATCH_COMMANDS / 2 : BATCH_COMMANDS, n = 0, i;
	json_t *cmds = json_array();
	char corr[16];

	for (i = first; i < im->nrows && n < per; i++) {
		const row_t *r = &im->rows[i];
		if (r->failed)
			continue;
		snprintf(corr, sizeof corr, "%d", r->line);
		json_t *c = create_cmd(im, r, corr);
		if (c == NULL) {
			/* Not UTF-8: refused here, with its line. */
			im->rows[i].failed = true;
			add_failure(im, r->line, "invalid_request", "not UTF-8 text (not sent)");
			im->answered++;
			continue;
		}
		json_array_append_new(cmds, c);
		if (im->enable)
			json_array_append_new(cmds, json_pack("{ssssss}", "command",
					"enableConfig", "correlationData", corr, "client_id", r->client_id));
		n++;
	}
	*end = i;
	json_t *batch = json_pack("{so}", "commands", cmds);
	char *text = json_dumps(batch, JSON_COMPACT);
	json_decref(batch);
	return text;
}

static const json_t *next_response(const json_t *responses, size_t *k,
		const char *command, int line)
{
	const json_t *r = json_array_get(responses, (*k)++);
	const char *corr = json_string_value(json_object_get(r, "correlationData"));
	char want[16];

	snprintf(want, sizeof want, "%d", line);
	if (r == NULL || corr == NULL || strcmp(corr, want) != 0 ||
			strcmp(json_string_value(json_object_get(r, "command")) ?
				json_string_value(json_object_get(r, "command")) : "", command) != 0)
		return NULL;
	return r;
}

/* The external_id,client_id,external_key,client_secret line of a device. */
static int write_out(import_t *im, const row_t *r, const json_t *data)
{
	const char *id = json_string_value(json_object_get(data, "client_id"));
	const char *key = json_string_value(json_object_get(data, "external_key"));
	const char *secret = json_string_value(json_object_get(data, "client_secret"));

	if (im->out == NULL)
		return 0;
	if (fprintf(im->out, "%s,%s,%s,%s\n", r->ext, id ? id : "", key ? key : "",
				secret ? secret : "") < 0) {
		fprintf(stderr, CTRL_NAME ": cannot write %s: the secrets of line %d on "
				"are lost\n", im->out_path, r->line);
		return -1;
	}
	return 0;
}

static void failed_response(import_t *im, int line, const json_t *r, const char *prefix)
{
	char msg[600];

	snprintf(msg, sizeof msg, "%s%s", prefix,
			json_string_value(json_object_get(r, "message")) ?
			json_string_value(json_object_get(r, "message")) : "");
	add_failure(im, line, json_string_value(json_object_get(r, "error")), msg);
}

/* The answers to the rows [first, end): CTRL_OK, CTRL_ECONN when they are
 * not one per command, CTRL_ECMD when --out cannot be written. */
static int take_answer(import_t *im, size_t first, size_t end, const json_t *responses)
{
	size_t k = 0;

	for (size_t i = first; i < end; i++) {
		const row_t *r = &im->rows[i];
		if (r->failed)
			continue;
		const json_t *cr = next_response(responses, &k, "createConfig", r->line);
		const json_t *er = im->enable
			? next_response(responses, &k, "enableConfig", r->line) : NULL;
		if (cr == NULL || (im->enable && er == NULL)) {
			fprintf(stderr, CTRL_NAME ": the answer does not match the commands "
					"(line %d)\n", r->line);
			return CTRL_ECONN;
		}
		im->answered++;
		if (json_object_get(cr, "error") != NULL) {
			failed_response(im, r->line, cr, "");
			continue;
		}
		im->imported++;
		if (write_out(im, r, json_object_get(cr, "data")) != 0)
			return CTRL_ECMD;
		if (er != NULL && json_object_get(er, "error") != NULL)
			failed_response(im, r->line, er, "created, but not enabled: ");
	}
	return k == json_array_size(responses) ? CTRL_OK : CTRL_ECONN;
}

static void show_progress(const import_t *im)
{
	size_t done = im->answered, all = im->nrows;
	int filled = all ? (int)(BAR * done / all) : BAR;

	if (!im->progress)
		return;
	fprintf(stderr, "\r[%.*s%*s] %zu/%zu devices, %zu failed", filled,
			"##############################", BAR - filled, "", done, all, im->nfail);
	fflush(stderr);
}

/* Sends every batch, CTRL_WINDOW in flight, and takes their answers. */
static int send_all(import_t *im, ctrl_conn_t *c)
{
	size_t next = 0, nbatches = 0;
	int rc = CTRL_OK;

	im->answered = 0;
	for (size_t i = 0; i < im->nrows; i++)
		im->answered += im->rows[i].failed;
	while (rc == CTRL_OK && (next < im->nrows || ctrl_mqtt_in_flight(c) > 0)) {
		while (rc == CTRL_OK && next < im->nrows && ctrl_mqtt_in_flight(c) < CTRL_WINDOW) {
			size_t end;
			char *text = build_batch(im, next, &end);
			if (text == NULL) {
				fprintf(stderr, CTRL_NAME ": out of memory\n");
				return CTRL_ECONN;
			}
			im->batch_end[nbatches][0] = next;
			im->batch_end[nbatches][1] = end;
			rc = ctrl_mqtt_send(c, text, strlen(text), (unsigned)nbatches++);
			OPENSSL_cleanse(text, strlen(text));
			free(text);
			next = end;
			im->messages++;
		}
		unsigned tag;
		json_t *responses = NULL;
		if (rc == CTRL_OK && (rc = ctrl_mqtt_wait(c, &tag, &responses)) == CTRL_OK)
			rc = take_answer(im, im->batch_end[tag][0], im->batch_end[tag][1], responses);
		json_decref(responses);
		show_progress(im);
	}
	return rc;
}

static int by_line(const void *a, const void *b)
{
	return ((const failure_t *)a)->line - ((const failure_t *)b)->line;
}

static void summary(import_t *im, double secs)
{
	if (im->progress)
		fputc('\n', stderr);
	if (secs <= 0)
		secs = 0.001;
	fprintf(stderr, "imported %zu of %zu devices in %zu messages in %.2f s "
			"(%.0f configs/s); %zu failed\n", im->imported, im->nrows, im->messages,
			secs, (double)im->imported / secs, im->nfail);
	if (im->nfail > 0)
		qsort(im->fail, im->nfail, sizeof *im->fail, by_line);
	for (size_t i = 0; i < im->nfail; i++)
		fprintf(stderr, "line %d: %s\n", im->fail[i].line,
				im->fail[i].text ? im->fail[i].text : "?");
}

static int close_out(import_t *im)
{
	int rc = 0;

	if (im->out == NULL)
		return 0;
	if (fflush(im->out) != 0 || fsync(fileno(im->out)) != 0)
		rc = -1;
	if (fclose(im->out) != 0)
		rc = -1;
	im->out = NULL;
	if (rc != 0)
		fprintf(stderr, CTRL_NAME ": cannot write %s\n", im->out_path);
	/* Nothing imported: no empty file left to block the next try. */
	else if (im->imported == 0)
		unlink(im->out_path);
	return rc;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int run_import(import_t *im, const ctrl_opts_t *o)
{
	ctrl_conn_t *c = NULL;
	struct timespec t0;
	int rc;

	if ((rc = read_group_key(im)) != 0 || (rc = read_csv(im)) != 0 ||
			(rc = check_keys(im)) != 0)
		return rc;
	if ((im->batch_end = calloc(im->nrows + 1, sizeof *im->batch_end)) == NULL)
		return ctrl_usage_error("out of memory", NULL);
	if (im->out_path != NULL && (im->out = ctrl_create_file(im->out_path)) == NULL)
		return CTRL_EUSAGE;
	im->progress = isatty(STDERR_FILENO);
	if ((rc = ctrl_mqtt_open(o, &c)) == CTRL_OK &&
			(im->group == NULL || (rc = read_group(im, c)) == CTRL_OK)) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = send_all(im, c);
		summary(im, seconds_since(&t0));
	}
	ctrl_mqtt_close(c);
	if (close_out(im) != 0 && rc == CTRL_OK)
		rc = CTRL_ECMD;
	return rc == CTRL_OK && im->nfail > 0 ? CTRL_ECMD : rc;
}

int ctrl_import(const ctrl_opts_t *o, int argc, char **argv)
{
	import_t im = { .channels = json_array() };
	int rc = import_args(&im, argc, argv);

	if (rc == -1) {
		puts("Usage: " CTRL_NAME " [options] import CSV_FILE [--enable] "
				"[--channel ID]...\n       [--group ID [--group-key-file FILE]] "
				"[--out FILE]");
		rc = CTRL_OK;
	} else if (rc == 0) {
		rc = run_import(&im, o);
	}
	if (im.out != NULL)
		fclose(im.out);
	for (size_t i = 0; i < im.nfail; i++)
		free(im.fail[i].text);
	free(im.fail);
	free(im.batch_end);
	if (im.rows != NULL)
		OPENSSL_cleanse(im.rows, im.nrows * sizeof *im.rows);  /* derived keys */
	free(im.rows);
	if (im.group_key != NULL) {
		OPENSSL_cleanse(im.group_key, strlen(im.group_key));
		free(im.group_key);
	}
	json_decref(im.profile);
	if (im.csv != NULL)
		OPENSSL_cleanse(im.csv, im.csv_len);      /* it holds the keys */
	free(im.csv);
	json_decref(im.channels);
	return rc;
}

/* ---- export ----------------------------------------------------------- */

/* One page of configs, each a line of f without its secrets: the page's
 * size, or -1 with the exit status in *rc. */
static long export_page(ctrl_conn_t *c, FILE *f, json_int_t offset,
		json_int_t *total, int *rc)
{
	json_t *commands = json_pack("[{sssIsi}]", "command", "listConfigs",
			"offset", offset, "limit", EXPORT_PAGE), *responses = NULL;
	const json_t *cfg;
	size_t i;
	long n = -1;

	*rc = ctrl_mqtt_ask(c, commands, &responses);
	json_decref(commands);
	const json_t *r = json_array_get(responses, 0);
	if (*rc == CTRL_OK && (*rc = ctrl_cmd_error(r)) == CTRL_OK) {
		const json_t *data = json_object_get(r, "data");
		const json_t *configs = json_object_get(data, "configs");
		*total = json_integer_value(json_object_get(data, "total"));
		json_array_foreach(configs, i, cfg) {
			json_t *copy = json_copy((json_t *)cfg);
			json_object_del(copy, "client_secret");
			json_object_del(copy, "external_key");
			json_object_del(copy, "client_key");
			if (json_dumpf(copy, f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
					fputc('\n', f) == EOF)
				*rc = CTRL_ECMD;
			json_decref(copy);
		}
		n = *rc == CTRL_OK ? (long)json_array_size(configs) : -1;
	}
	json_decref(responses);
	return n;
}

int ctrl_export(const ctrl_opts_t *o, int argc, char **argv)
{
	const char *out_path = NULL;
	ctrl_conn_t *c = NULL;
	json_int_t offset = 0, total = 0;
	FILE *f = stdout;
	long n;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc && out_path == NULL)
			out_path = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			puts("Usage: " CTRL_NAME " [options] export [--out FILE]");
			return CTRL_OK;
		} else if (strcmp(argv[i], "--json") != 0)
			return ctrl_usage_error("export takes only --out FILE", argv[i]);
	}
	if (out_path != NULL && (f = ctrl_create_file(out_path)) == NULL)
		return CTRL_EUSAGE;
	if ((rc = ctrl_mqtt_open(o, &c)) == CTRL_OK) {
		while ((n = export_page(c, f, offset, &total, &rc)) > 0 &&
				(offset += n) < total)
			;
	}
	ctrl_mqtt_close(c);
	if (fflush(f) != 0 || (f != stdout && fclose(f) != 0)) {
		fprintf(stderr, CTRL_NAME ": cannot write %s\n", out_path ? out_path : "stdout");
		rc = rc == CTRL_OK ? CTRL_ECMD : rc;
	}
	if (rc == CTRL_OK && out_path != NULL)
		fprintf(stderr, "exported %lld configs to %s\n", (long long)offset, out_path);
	return rc;
}
