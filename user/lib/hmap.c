// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "hmap.h"

/* FNV-1a */
static unsigned long hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	unsigned long h = 1469598103934665603ul;

	while (len--)
		h = (h ^ *p++) * 1099511628211ul;
	return h;
}

static struct hmap_ent **slot(const struct hmap *m, const void *key, size_t klen, unsigned long h)
{
	struct hmap_ent **pp = &m->b[h & (m->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen && !memcmp((*pp)->key, key, klen))
			break;
	return pp;
}

static void grow(struct hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct hmap_ent **b = calloc(nb, sizeof(*b));

	for (size_t i = 0; i < m->nb; i++) {
		struct hmap_ent *e = m->b[i], *next;
		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

void *hmap_get(const struct hmap *m, const void *key, size_t klen)
{
	if (!m->nb)
		return NULL;
	struct hmap_ent *e = *slot(m, key, klen, hash(key, klen));
	return e ? e->val : NULL;
}

void *hmap_put(struct hmap *m, const void *key, size_t klen, void *val)
{
	unsigned long h = hash(key, klen);
	struct hmap_ent **pp, *e;

	if (m->n >= m->nb)
		grow(m);
	pp = slot(m, key, klen, h);
	if (*pp) {
		void *old = (*pp)->val;
		(*pp)->val = val;
		return old;
	}
	e = malloc(sizeof(*e) + klen);
	e->next = NULL;
	e->klen = klen;
	e->val = val;
	e->hash = h;
	memcpy(e->key, key, klen);
	*pp = e;
	m->n++;
	return NULL;
}

void *hmap_del(struct hmap *m, const void *key, size_t klen)
{
	struct hmap_ent **pp, *e;
	void *val;

	if (!m->nb)
		return NULL;
	pp = slot(m, key, klen, hash(key, klen));
	e = *pp;
	if (!e)
		return NULL;
	*pp = e->next;
	val = e->val;
	free(e);
	m->n--;
	return val;
}

void hmap_free(struct hmap *m)
{
	for (size_t i = 0; i < m->nb; i++) {
		struct hmap_ent *e = m->b[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
