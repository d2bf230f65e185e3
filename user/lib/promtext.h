/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition format 0.0.4: families with HELP and TYPE,
 * label values escaped, histograms. Rendering goes into a growing buffer.
 */
#ifndef PT_PROMTEXT_H
#define PT_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Escape a label value: backslash, double quote and newline. */
void prom_escape(const char *in, char *out, size_t len);

struct prom {
	FILE *f;
	char *buf;
	size_t len;
};

int prom_open(struct prom *p);
/* The text; the caller owns it (free). */
char *prom_close(struct prom *p, size_t *len);
/* # HELP and # TYPE lines. */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
/* name{k1="v1",...} value. labels: NULL-terminated key, value pairs. */
void prom_sample(struct prom *p, const char *name, const char *const *labels, double v);

/* A histogram with fixed bucket bounds (seconds). */
#define PROM_BUCKETS 12
struct prom_hist {
	double bounds[PROM_BUCKETS];
	int n;
	uint64_t counts[PROM_BUCKETS]; /* cumulative on output, not here */
	uint64_t count;
	double sum;
};
void hist_init(struct prom_hist *h, const double *bounds, int n);
void hist_observe(struct prom_hist *h, double v);
void prom_hist(struct prom *p, const char *name, const char *const *labels,
	       const struct prom_hist *h);

#endif
