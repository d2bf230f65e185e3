/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small hash map with byte-string keys (copied) and pointer values:
 * the daemon's indexes (frontend key -> record, owner -> records). */
#ifndef PT_HMAP_H
#define PT_HMAP_H

#include <stddef.h>

struct hmap_ent {
	struct hmap_ent *next;
	size_t klen;
	void *val;
	unsigned long hash;
	unsigned char key[];
};

struct hmap {
	struct hmap_ent **b;
	size_t nb, n;
};

void *hmap_get(const struct hmap *m, const void *key, size_t klen);
/* Insert or replace; returns the old value (or NULL). */
void *hmap_put(struct hmap *m, const void *key, size_t klen, void *val);
/* Remove; returns the value (or NULL). */
void *hmap_del(struct hmap *m, const void *key, size_t klen);
void hmap_free(struct hmap *m);

#define hmap_gets(m, s) hmap_get(m, s, strlen(s))
#define hmap_puts(m, s, v) hmap_put(m, s, strlen(s), v)
#define hmap_dels(m, s) hmap_del(m, s, strlen(s))

/* Iterate: for (size_t i = 0; i < m->nb; i++) for (e = m->b[i]; ...) */
#define hmap_foreach(m, e, tmp)                                                                    \
	for (size_t _i = 0; _i < (m)->nb; _i++)                                                    \
		for ((e) = (m)->b[_i]; (e) && ((tmp) = (e)->next, 1); (e) = (tmp))

#endif
