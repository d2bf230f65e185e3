/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The LB programmer: desired service ports in, BPF map writes out.
 *
 * A "service port" (one Service x port x address family) owns one svc_id,
 * its frontends (ClusterIP, NodePort, externalIPs) and its backends. Map
 * writes are ordered so the dataplane never sees a half-written service:
 * new backends, then slots, then the master count, then frontends; removals
 * run the other way. The map access goes through lb_ops so that unit tests
 * can record and check the order and the slot layout.
 */
#ifndef PT_LB_H
#define PT_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "podtrace.h"
#include "hmap.h"
#include "idpool.h"
#include "net.h"

enum lb_map {
	LBM_FRONTEND,
	LBM_SVC,
	LBM_SLOT,
	LBM_BACKEND,
	LBM_SVC_STATS,
	LBM_BE_STATS,
	LBM__N,
};

/* The key size of a map (the ABI in podtrace.h). */
static inline size_t lb_key_size(enum lb_map m)
{
	switch (m) {
	case LBM_FRONTEND:
		return sizeof(struct pt_frontend_key);
	case LBM_SLOT:
		return sizeof(struct pt_slot_key);
	default:
		return sizeof(uint32_t); /* svc id, backend id */
	}
}

struct lb_ops {
	void *ctx;
	/* val NULL: reset the entry to zero (arrays, per-CPU stats) */
	int (*update)(void *ctx, enum lb_map m, const void *key, const void *val);
	int (*del)(void *ctx, enum lb_map m, const void *key);
	/* walk a map (used once, to adopt what a previous daemon pinned) */
	int (*walk)(void *ctx, enum lb_map m,
		    void (*cb)(void *arg, const void *key, const void *val), void *arg);
	/* optional: writes may be queued until flush (batched syscalls); lb
	 * flushes at the end of every lb_sync / lb_gc_orphans */
	int (*flush)(void *ctx);
};

struct lb_fe {
	struct pt_frontend_key key;
	uint8_t kind; /* enum pt_fe_kind */
};

struct lb_be {
	struct ipaddr addr;
	uint16_t port; /* host order */
	bool terminating;
	uint32_t id;
};

/* What one service port should look like. */
struct lb_want {
	char key[300]; /* "ns/name/port/proto/v4": stable identity */
	uint32_t flags, affinity_timeout;
	struct lb_fe *fe;
	int n_fe;
	struct lb_be *be; /* in slot order */
	int n_be;
};

/* What is programmed. */
struct lb_rec {
	char *key, *owner;
	uint32_t svc_id, flags, affinity_timeout, count;
	struct lb_fe *fe;
	int n_fe;
	struct lb_be *be; /* be[i] is slot i+1 */
	int n_be;
	bool layout_unknown; /* adopted: slots must all be rewritten */
	struct lb_rec *next; /* same owner */
};

struct lb {
	struct lb_ops ops;
	struct idpool svc_ids, be_ids;
	uint32_t max_fe;
	struct hmap by_key;   /* want key -> rec */
	struct hmap by_owner; /* "ns/name" -> first rec */
	struct hmap by_fe;    /* frontend key -> rec (programmed) */
	struct hmap orphans;  /* adopted, not yet claimed: fe key -> rec */
	struct hmap by_id;    /* svc_id -> rec (programmed, owned) */
	uint32_t n_fe;
};

int lb_init(struct lb *lb, const struct lb_ops *ops, uint32_t max_svc, uint32_t max_be,
	    uint32_t max_fe);
void lb_fini(struct lb *lb);

/* Read what a previous daemon left in the pinned maps. */
int lb_adopt(struct lb *lb);
/* Remove adopted entries that no desired service claimed. */
void lb_gc_orphans(struct lb *lb);

/* Make owner's service ports exactly `want` (n may be 0: remove all). On a
 * capacity or conflict error nothing is written and err says why. */
int lb_sync(struct lb *lb, const char *owner, struct lb_want *want, int n, char *err,
	    size_t errlen);

/* Send queued map writes to the kernel (lb_sync does it before returning). */
int lb_flush(struct lb *lb);

struct lb_rec *lb_find(struct lb *lb, const char *key);
/* "ns/name/port/proto/vN" of a svc_id, or "" (for events). */
const char *lb_service_of(struct lb *lb, uint32_t svc_id);
const struct lb_rec *lb_owner_recs(struct lb *lb, const char *owner);

#endif
