/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Dense id allocator over [first, size): svc ids, backend ids, addresses
 * of a CIDR, node ports. A bitmap with a rotating cursor, like the API
 * server's, so a freed id is not handed out again at once. */
#ifndef PT_IDPOOL_H
#define PT_IDPOOL_H

#include <stdbool.h>
#include <stdint.h>

struct idpool {
	uint64_t *bits;
	uint32_t first, size, used, cursor;
};

int idpool_init(struct idpool *p, uint32_t first, uint32_t size);
void idpool_free(struct idpool *p);
/* Returns 0 and the id, or -1 when full. */
int idpool_get(struct idpool *p, uint32_t *id);
/* Claim a specific id: 0, or -1 if out of range or taken. */
int idpool_take(struct idpool *p, uint32_t id);
bool idpool_used(const struct idpool *p, uint32_t id);
void idpool_put(struct idpool *p, uint32_t id);
static inline uint32_t idpool_avail(const struct idpool *p)
{
	return p->size - p->first - p->used;
}

#endif
