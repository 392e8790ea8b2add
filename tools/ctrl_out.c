/*
 * A command's data on stdout: as JSON with --json (for scripts), else as
 * text for a person: an object as aligned "key: value" lines (text of
 * several lines, a PEM say, indented below its key), a page of channels,
 * configs, profiles, groups or unknown devices as a table with a count
 * below it. A secret that a reply carries (external_key, client_secret,
 * group_key) is shown as any other field: the reply is its one showing. Fields the tool does not know
 * (cert_serial, cert_expires_at, and those of newer plugins) are shown as
 * any other. Text from the broker has its
 * control characters replaced, since it goes to a terminal.
 */
#include "ctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ctrl_printable(const char *s, bool keep_nl)
{
	char *out = strdup(s != NULL ? s : "");

	for (char *p = out; p != NULL && *p != '\0'; p++) {
		if (((unsigned char)*p < 0x20 && !(keep_nl && *p == '\n')) || *p == 0x7f)
			*p = '?';
	}
	return out;
}

/* Characters on screen: UTF-8 continuation bytes take no room. */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void pad(FILE *f, size_t n)
{
	while (n-- > 0)
		fputc(' ', f);
}

static const char *id_of(const json_t *item)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	return id != NULL ? id : "";
}

/* A channel list (objects, or ids as a profile's) as its ids; other
 * arrays and objects as compact JSON; null as "-"; true and false as
 * words (malloc()ed, printable). */
static char *value_text(const json_t *v)
{
	char *text = NULL, *out;

	if (json_is_string(v))
		return ctrl_printable(json_string_value(v), true);
	if (json_is_null(v))
		return strdup("-");
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	if (json_is_array(v) && json_array_size(v) > 0 &&
			(json_is_string(json_object_get(json_array_get(v, 0), "id")) ||
			 json_is_string(json_array_get(v, 0)))) {
		size_t i, n = 1;
		const json_t *item;
		json_array_foreach(v, i, item)
			n += strlen(json_is_string(item) ? json_string_value(item) : id_of(item)) + 2;
		if ((text = calloc(1, n)) == NULL)
			return NULL;
		json_array_foreach(v, i, item) {
			if (i > 0)
				strcat(text, ", ");
			strcat(text, json_is_string(item) ? json_string_value(item) : id_of(item));
		}
	} else {
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	out = ctrl_printable(text, false);
	free(text);
	return out;
}

static void show_fields(const json_t *data)
{
	const char *key;
	const json_t *v;
	size_t keyw = 0;

	json_object_foreach((json_t *)data, key, v) {
		if (width(key) > keyw)
			keyw = width(key);
	}
	json_object_foreach((json_t *)data, key, v) {
		char *text = value_text(v), *key_text = ctrl_printable(key, false);
		if (text == NULL || key_text == NULL) {
			free(text);
			free(key_text);
			continue;
		}
		if (strchr(text, '\n') == NULL) {
			printf("%s:", key_text);
			if (text[0] != '\0') {
				pad(stdout, keyw - width(key_text) + 1);
				fputs(text, stdout);
			}
			putchar('\n');
		} else {
			/* Several lines (a PEM, some content): each indented below. */
			printf("%s:\n", key_text);
			for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
				next = strchr(line, '\n');
				if (next != NULL)
					*next++ = '\0';
				printf("  %s\n", line);
			}
		}
		free(text);
		free(key_text);
	}
}

typedef struct {
	const char *title;
	const char *field;
} column_t;

static const column_t CHANNEL_COLS[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "METADATA", "metadata" }, { NULL, NULL },
};
static const column_t CONFIG_COLS[] = {
	{ "CLIENT_ID", "client_id" }, { "EXTERNAL_ID", "external_id" },
	{ "STATE", "state" }, { "NAME", "name" }, { "CHANNELS", "channels" },
	{ NULL, NULL },
};
static const column_t PROFILE_COLS[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "CHANNELS", "channels" }, { "VARS", "vars" },
	{ NULL, NULL },
};
static const column_t GROUP_COLS[] = {
	{ "ID", "id" }, { "NAME", "name" }, { "PROFILE", "profile" },
	{ "CHANNELS", "channels" }, { "ENABLE", "enable" }, { NULL, NULL },
};
/* Most recently seen first, as the plugin lists them. */
static const column_t UNKNOWN_COLS[] = {
	{ "EXTERNAL_ID", "external_id" }, { "ATTEMPTS", "attempts" },
	{ "LAST_SEEN", "last_seen" }, { "FIRST_SEEN", "first_seen" },
	{ "ADDRESS", "address" }, { NULL, NULL },
};
/* Added to CONFIG_COLS when a config of the page has a certificate that
 * the plugin knows the expiry of (listConfigs --cert-expires-before). */
static const column_t CERT_COL = { "CERT_EXPIRES", "cert_expires_at" };
#define MAX_COLS 8

/* One cell's text, on one line. */
static char *cell(const json_t *item, const column_t *col)
{
	char *text = value_text(json_object_get(item, col->field));

	for (char *p = text; p != NULL && *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	return text;
}

/* cols, and CERT_COL after them when an item has a cert_expires_at. */
static void table_cols(const json_t *items, const column_t *cols, column_t *out)
{
	const json_t *item;
	size_t n = 0, i;
	bool certs = false;

	for (; cols[n].title != NULL && n + 2 < MAX_COLS; n++)
		out[n] = cols[n];
	json_array_foreach(items, i, item) {
		if (cols == CONFIG_COLS && json_is_string(json_object_get(item, CERT_COL.field)))
			certs = true;
	}
	if (certs)
		out[n++] = CERT_COL;
	out[n] = (column_t){ NULL, NULL };
}

static void show_table(const json_t *data, const char *key, const column_t *shown)
{
	const json_t *items = json_object_get(data, key), *item;
	size_t w[MAX_COLS] = { 0 }, ncols = 0, i;
	column_t cols[MAX_COLS];

	table_cols(items, shown, cols);
	for (; cols[ncols].title != NULL; ncols++)
		w[ncols] = width(cols[ncols].title);
	json_array_foreach(items, i, item) {
		for (size_t c = 0; c < ncols; c++) {
			char *t = cell(item, &cols[c]);
			if (t != NULL && width(t) > w[c])
				w[c] = width(t);
			free(t);
		}
	}
	for (size_t c = 0; c < ncols; c++) {
		fputs(cols[c].title, stdout);
		if (c + 1 < ncols)
			pad(stdout, w[c] - width(cols[c].title) + 2);
	}
	putchar('\n');
	json_array_foreach(items, i, item) {
		for (size_t c = 0; c < ncols; c++) {
			char *t = cell(item, &cols[c]);
			fputs(t != NULL ? t : "", stdout);
			if (c + 1 < ncols)
				pad(stdout, w[c] - (t != NULL ? width(t) : 0) + 2);
			free(t);
		}
		putchar('\n');
	}
	json_int_t offset = json_integer_value(json_object_get(data, "offset"));
	printf("%zu of %lld %s", json_array_size(items),
			(long long)json_integer_value(json_object_get(data, "total")), key);
	if (offset > 0)
		printf(", from offset %lld", (long long)offset);
	putchar('\n');
}

int ctrl_out_show(const json_t *data, ctrl_show_t show, bool json)
{
	if (json) {
		if (json_dumpf(data, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
			putchar('\n');
	} else if (show == SHOW_CHANNELS) {
		show_table(data, "channels", CHANNEL_COLS);
	} else if (show == SHOW_CONFIGS) {
		show_table(data, "configs", CONFIG_COLS);
	} else if (show == SHOW_PROFILES) {
		show_table(data, "profiles", PROFILE_COLS);
	} else if (show == SHOW_GROUPS) {
		show_table(data, "groups", GROUP_COLS);
	} else if (show == SHOW_UNKNOWN) {
		show_table(data, "unknown", UNKNOWN_COLS);
	} else if (show == SHOW_FIELDS || json_object_size(data) > 0) {
		show_fields(data);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, CTRL_NAME ": cannot write to stdout\n");
		return CTRL_ECMD;
	}
	return CTRL_OK;
}
