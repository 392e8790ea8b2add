#include "conffile.h"

#include "error.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	char self[PATH_MAX];        /* the plugin's real path */
	int ours;                   /* the options read now are the plugin's */
	bs_conf_opts_t *out;
	char *err;
	size_t errlen;
} reader_t;

static int read_file(reader_t *r, const char *path, int level);

static int add(bs_conf_opts_t *o, const char *name, const char *value)
{
	bs_conf_opt_t *grown = realloc(o->v, (o->n + 1) * sizeof(*grown));

	if (grown == NULL)
		return BS_ERR_INTERNAL;
	o->v = grown;
	grown[o->n].name = strdup(name);
	grown[o->n].value = strdup(value);
	if (grown[o->n].name == NULL || grown[o->n].value == NULL) {
		free(grown[o->n].name);
		free(grown[o->n].value);
		return BS_ERR_INTERNAL;
	}
	o->n++;
	return BS_OK;
}

/* The broker's order of an include_dir's files: case-insensitive first. */
static int file_order(const void *a, const void *b)
{
	const char *s1 = *(const char *const *)a, *s2 = *(const char *const *)b;

	for (; *s1 && *s2; s1++, s2++) {
		int d = toupper((unsigned char)*s1) - toupper((unsigned char)*s2);
		if (d == 0)
			d = *s1 - *s2;
		if (d != 0)
			return d;
	}
	return (unsigned char)*s1 - (unsigned char)*s2;
}

static int read_dir(reader_t *r, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = BS_OK;

	if (d == NULL) {
		snprintf(r->err, r->errlen, "cannot open include_dir %s", dir);
		return BS_ERR_INVALID;
	}
	while (rc == BS_OK && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char **grown;
		if (len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		if ((grown = realloc(names, (n + 1) * sizeof(*grown))) == NULL
				|| (grown[n] = malloc(strlen(dir) + len + 2)) == NULL) {
			names = grown != NULL ? grown : names;
			rc = BS_ERR_INTERNAL;
			break;
		}
		names = grown;
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), file_order);
	for (size_t i = 0; i < n; i++) {
		if (rc == BS_OK)
			rc = read_file(r, names[i], 1);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* One line, without its newline. */
static int read_line(reader_t *r, char *line, int level)
{
	char *rest = line;
	char *word;
	size_t len;

	while (*rest == ' ')
		rest++;
	word = rest;
	rest += strcspn(rest, " ");
	if (*rest != '\0')
		*rest++ = '\0';
	while (*rest == ' ' || *rest == '\t')
		rest++;
	len = strlen(rest);
	if (strcmp(word, "plugin") == 0 || strcmp(word, "auth_plugin") == 0) {
		char real[PATH_MAX];
		while (len > 0 && (rest[len - 1] == ' ' || rest[len - 1] == '\t'))
			rest[--len] = '\0';
		r->ours = realpath(rest, real) != NULL && strcmp(real, r->self) == 0;
		r->out->found |= r->ours;
	} else if (r->ours && (strncmp(word, "plugin_opt_", 11) == 0
				|| strncmp(word, "auth_opt_", 9) == 0)) {
		return add(r->out, word + (word[0] == 'p' ? 11 : 9), rest);
	} else if (strcmp(word, "include_dir") == 0 && level == 0) {
		return read_dir(r, rest);
	}
	return BS_OK;
}

static int read_file(reader_t *r, const char *path, int level)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int rc = BS_OK;

	if (f == NULL) {
		snprintf(r->err, r->errlen, "cannot read %s", path);
		return BS_ERR_INVALID;
	}
	while (rc == BS_OK && (got = getline(&line, &cap, f)) >= 0) {
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (got > 0 && line[0] != '#')
			rc = read_line(r, line, level);
	}
	free(line);
	fclose(f);
	return rc;
}

int bs_conf_plugin_options(const char *conf_path, const char *plugin_path,
		bs_conf_opts_t *out, char *err, size_t errlen)
{
	reader_t r = { .out = out, .err = err, .errlen = errlen };
	int rc;

	memset(out, 0, sizeof(*out));
	if (realpath(plugin_path, r.self) == NULL) {
		snprintf(err, errlen, "cannot find the plugin's own file %s", plugin_path);
		return BS_ERR_INVALID;
	}
	rc = read_file(&r, conf_path, 0);
	if (rc == BS_OK && !out->found) {
		snprintf(err, errlen, "%s no longer loads %s", conf_path, plugin_path);
		rc = BS_ERR_INVALID;
	}
	if (rc != BS_OK)
		bs_conf_opts_free(out);
	return rc;
}

void bs_conf_opts_free(bs_conf_opts_t *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].name);
		free(o->v[i].value);
	}
	free(o->v);
	memset(o, 0, sizeof(*o));
}
