// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Output helpers shared by the subcommands: kubectl's column alignment,
 * ages, label lists and JSON/YAML printing.
 *
 * kubectl aligns with Go's text/tabwriter (get: minwidth 6, padding 3;
 * describe: minwidth 0, padding 2). tw_* reimplements its algorithm so the
 * output lines up the same way: text is cut into cells at '\t'; a column is
 * aligned over a block of consecutive lines that all have a tab-terminated
 * cell in it; the last cell of a line is never padded.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "docio.h"

struct tw {
	FILE *f;
	char *buf;
	size_t len;
	int minwidth, padding;
};

struct cell {
	const char *s;
	int len, width;
};

struct line {
	struct cell *c;
	int n;
};

struct tw *tw_new(int minwidth, int padding)
{
	struct tw *t = calloc(1, sizeof(*t));

	t->minwidth = minwidth;
	t->padding = padding;
	t->f = open_memstream(&t->buf, &t->len);
	return t;
}

void tw_printf(struct tw *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(t->f, fmt, ap);
	va_end(ap);
}

/* Display width: count UTF-8 code points, not bytes. */
static int text_width(const char *s, int len)
{
	int w = 0;

	for (int i = 0; i < len; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static void split_line(struct line *l, char *s)
{
	int cap = 8;

	l->c = malloc(sizeof(*l->c) * (size_t)cap);
	l->n = 0;
	for (;;) {
		char *tab = strchr(s, '\t');
		int len = tab ? (int)(tab - s) : (int)strlen(s);

		if (l->n == cap)
			l->c = realloc(l->c, sizeof(*l->c) * (size_t)(cap *= 2));
		l->c[l->n++] = (struct cell){s, len, text_width(s, len)};
		if (!tab)
			break;
		s = tab + 1;
	}
}

static void write_lines(FILE *out, struct line *lines, int l0, int l1, const int *widths, int nw)
{
	for (int i = l0; i < l1; i++) {
		for (int j = 0; j < lines[i].n; j++) {
			const struct cell *c = &lines[i].c[j];

			fwrite(c->s, 1, (size_t)c->len, out);
			if (j < nw)
				fprintf(out, "%*s", widths[j] - c->width, "");
		}
		fputc('\n', out);
	}
}

/* text/tabwriter's Writer.format: widths[0..nw) are known, find the blocks
 * of column nw in [l0, l1) and recurse into each. */
static void format(struct tw *t, FILE *out, struct line *lines, int l0, int l1, int *widths, int nw)
{
	for (int i = l0; i < l1; i++) {
		if (nw >= lines[i].n - 1)
			continue;
		write_lines(out, lines, l0, i, widths, nw);
		l0 = i;
		int width = t->minwidth;
		for (; i < l1 && nw < lines[i].n - 1; i++)
			if (lines[i].c[nw].width + t->padding > width)
				width = lines[i].c[nw].width + t->padding;
		widths[nw] = width;
		format(t, out, lines, l0, i, widths, nw + 1);
		l0 = i;
	}
	write_lines(out, lines, l0, l1, widths, nw);
}

void tw_flush(struct tw *t, FILE *out)
{
	struct line *lines = NULL;
	int n = 0, cap = 0, maxcells = 1;
	char *s, *nl;

	fclose(t->f);
	for (s = t->buf; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s); /* unterminated last line */
		if (n == cap)
			lines = realloc(lines, sizeof(*lines) * (size_t)(cap = cap ? cap * 2 : 64));
		char end = *nl;
		*nl = 0;
		split_line(&lines[n], s);
		if (lines[n].n > maxcells)
			maxcells = lines[n].n;
		n++;
		if (!end)
			break;
	}
	int *widths = calloc((size_t)maxcells, sizeof(int));
	format(t, out, lines, 0, n, widths, 0);
	for (int i = 0; i < n; i++)
		free(lines[i].c);
	free(lines);
	free(widths);
	free(t->buf);
	free(t);
}

json_t *jpath(json_t *v, const char *dotted)
{
	char key[128];

	while (v && *dotted) {
		size_t n = strcspn(dotted, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, dotted);
		v = json_object_get(v, key);
		dotted += n + (dotted[n] == '.');
	}
	return v;
}

const char *jstr(json_t *v, const char *dotted, const char *dflt)
{
	const char *s = json_string_value(jpath(v, dotted));

	return s ? s : dflt;
}

/* k8s.io/apimachinery/pkg/util/duration.HumanDuration: precise while
 * short, coarser as it grows. */
void human_duration(long long s, char *buf, size_t len)
{
	long long m = s / 60, h = s / 3600, d = h / 24;

	if (s < -1)
		snprintf(buf, len, "<invalid>");
	else if (s < 0)
		snprintf(buf, len, "0s");
	else if (s < 120)
		snprintf(buf, len, "%llds", s);
	else if (m < 10 && s % 60)
		snprintf(buf, len, "%lldm%llds", m, s % 60);
	else if (m < 180)
		snprintf(buf, len, "%lldm", m);
	else if (h < 8 && m % 60)
		snprintf(buf, len, "%lldh%lldm", h, m % 60);
	else if (h < 48)
		snprintf(buf, len, "%lldh", h);
	else if (h < 24 * 8 && h % 24)
		snprintf(buf, len, "%lldd%lldh", d, h % 24);
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%lldd", d);
	else if (h < 24 * 365 * 8 && d % 365)
		snprintf(buf, len, "%lldy%lldd", d / 365, d % 365);
	else
		snprintf(buf, len, "%lldy", d / 365);
}

/* RFC 3339 as the API server writes it ("2024-05-01T10:00:00Z"), with
 * optional fractional seconds and numeric offset. -1 when unparsable. */
int parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = 0;

	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		off = (atol(p + 1) * 60 + atol(p + 4)) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else if (*p == 'Z' || *p == 'z') {
		p++;
	}
	if (*p)
		return -1;
	*out = timegm(&tm) - off;
	return 0;
}

void fmt_age(json_t *obj, char *buf, size_t len)
{
	fmt_since(jstr(obj, "metadata.creationTimestamp", NULL), buf, len);
}

void fmt_since(const char *ts, char *buf, size_t len)
{
	time_t t;

	if (!ts || parse_rfc3339(ts, &t)) {
		snprintf(buf, len, "<unknown>");
		return;
	}
	human_duration((long long)(time(NULL) - t), buf, len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *fmt_labels(json_t *map)
{
	size_t n = json_object_size(map), i = 0, len;
	const char **keys = calloc(n + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	char *out;
	FILE *f = open_memstream(&out, &len);

	json_object_foreach (map, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		/* label keys hold dots: no jstr() here */
		const char *val = json_string_value(json_object_get(map, keys[i]));
		fprintf(f, "%s%s=%s", i ? "," : "", keys[i], val ? val : "");
	}
	if (!n)
		fputs("<none>", f);
	fclose(f);
	free(keys);
	return out;
}

char *join_strings(json_t *arr, const char *sep, const char *dflt)
{
	size_t i, len, n = 0;
	json_t *v;
	char *out;
	FILE *f = open_memstream(&out, &len);

	json_array_foreach (arr, i, v)
		if (json_is_string(v))
			fprintf(f, "%s%s", n++ ? sep : "", json_string_value(v));
	if (!n)
		fputs(dflt, f);
	fclose(f);
	return out;
}

/* kubectl -o json: four-space indent, keys in the server's order. */
int print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(4) | JSON_ENCODE_ANY);

	if (!s)
		return -1;
	puts(s);
	free(s);
	return 0;
}

int print_yaml(json_t *v)
{
	char *s = doc_to_yaml(v);

	if (!s)
		return -1;
	fputs(s, stdout);
	free(s);
	return 0;
}
