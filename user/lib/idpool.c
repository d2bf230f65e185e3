// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include "idpool.h"

int idpool_init(struct idpool *p, uint32_t first, uint32_t size)
{
	if (size < first)
		size = first; /* an empty pool */
	p->bits = calloc((size + 63) / 64, sizeof(uint64_t));
	p->first = first;
	p->size = size;
	p->used = 0;
	p->cursor = first;
	return p->bits ? 0 : -1;
}

void idpool_free(struct idpool *p)
{
	free(p->bits);
	p->bits = NULL;
}

bool idpool_used(const struct idpool *p, uint32_t id)
{
	return id < p->size && (p->bits[id / 64] >> (id % 64)) & 1;
}

int idpool_take(struct idpool *p, uint32_t id)
{
	if (id < p->first || id >= p->size || idpool_used(p, id))
		return -1;
	p->bits[id / 64] |= 1ull << (id % 64);
	p->used++;
	return 0;
}

int idpool_get(struct idpool *p, uint32_t *id)
{
	uint32_t span = p->size - p->first;

	if (!idpool_avail(p))
		return -1;
	for (uint32_t i = 0; i < span; i++) {
		uint32_t c = p->first + (p->cursor - p->first + i) % span;
		if (!idpool_used(p, c)) {
			idpool_take(p, c);
			p->cursor = c + 1 >= p->size ? p->first : c + 1;
			*id = c;
			return 0;
		}
	}
	return -1;
}

void idpool_put(struct idpool *p, uint32_t id)
{
	if (!idpool_used(p, id))
		return;
	p->bits[id / 64] &= ~(1ull << (id % 64));
	p->used--;
}
