// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "promtext.h"

void prom_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in && o + 2 < len; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = 0;
}

int prom_open(struct prom *p)
{
	p->buf = NULL;
	p->len = 0;
	p->f = open_memstream(&p->buf, &p->len);
	return p->f ? 0 : -1;
}

char *prom_close(struct prom *p, size_t *len)
{
	fclose(p->f);
	*len = p->len;
	return p->buf;
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	fprintf(p->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels_out(FILE *f, const char *const *labels, const char *extra_k, const char *extra_v)
{
	char esc[1024];
	int first = 1;

	if ((!labels || !labels[0]) && !extra_k)
		return;
	fputc('{', f);
	for (int i = 0; labels && labels[i]; i += 2) {
		prom_escape(labels[i + 1] ? labels[i + 1] : "", esc, sizeof(esc));
		fprintf(f, "%s%s=\"%s\"", first ? "" : ",", labels[i], esc);
		first = 0;
	}
	if (extra_k)
		fprintf(f, "%s%s=\"%s\"", first ? "" : ",", extra_k, extra_v);
	fputc('}', f);
}

static void value_out(FILE *f, double v)
{
	if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (v == (double)(long long)v && fabs(v) < 1e15)
		fprintf(f, "%lld", (long long)v);
	else
		fprintf(f, "%.9g", v);
}

void prom_sample(struct prom *p, const char *name, const char *const *labels, double v)
{
	fputs(name, p->f);
	labels_out(p->f, labels, NULL, NULL);
	fputc(' ', p->f);
	value_out(p->f, v);
	fputc('\n', p->f);
}

void hist_init(struct prom_hist *h, const double *bounds, int n)
{
	memset(h, 0, sizeof(*h));
	h->n = n < PROM_BUCKETS ? n : PROM_BUCKETS;
	memcpy(h->bounds, bounds, sizeof(double) * (size_t)h->n);
}

void hist_observe(struct prom_hist *h, double v)
{
	for (int i = 0; i < h->n; i++)
		if (v <= h->bounds[i]) {
			h->counts[i]++;
			break;
		}
	h->count++;
	h->sum += v;
}

void prom_hist(struct prom *p, const char *name, const char *const *labels,
	       const struct prom_hist *h)
{
	uint64_t cum = 0;
	char le[32];

	for (int i = 0; i < h->n; i++) {
		cum += h->counts[i];
		fprintf(p->f, "%s_bucket", name);
		snprintf(le, sizeof(le), "%g", h->bounds[i]);
		labels_out(p->f, labels, "le", le);
		fprintf(p->f, " %llu\n", (unsigned long long)cum);
	}
	fprintf(p->f, "%s_bucket", name);
	labels_out(p->f, labels, "le", "+Inf");
	fprintf(p->f, " %llu\n", (unsigned long long)h->count);
	fprintf(p->f, "%s_sum", name);
	labels_out(p->f, labels, NULL, NULL);
	fputc(' ', p->f);
	value_out(p->f, h->sum);
	fprintf(p->f, "\n%s_count", name);
	labels_out(p->f, labels, NULL, NULL);
	fprintf(p->f, " %llu\n", (unsigned long long)h->count);
}
