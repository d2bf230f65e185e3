/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Loading, pinning and attaching the BPF objects (libbpf skeletons). */
#ifndef PT_DATAPLANE_H
#define PT_DATAPLANE_H

#include <stdint.h>
#include "lb.h"

struct dp_opts {
	const char *bpffs;	 /* pin root, e.g. /sys/fs/bpf/podtrace */
	const char *cgroup_root; /* cgroup v2 dir where the LB attaches */
	uint32_t max_frontends, max_services, max_backends, max_affinity;
	uint16_t np_min, np_max;
	bool connect_events;
};

/* Map writes queued by the LB programmer: consecutive writes of one kind to
 * one map go to the kernel as one BPF_MAP_*_BATCH call, in order. */
struct dp_wq {
	enum lb_map m;
	bool del;
	uint32_t n;
	char *keys, *vals;
};

struct dataplane {
	struct lb_bpf *lb;
	struct dp_wq wq;
	int cg_fd;
	int map_fd[LBM__N];
	int node_addr_fd, config_fd;
	int ncpu;
	char bpffs[256];
};

/* Pin path of an object: <bpffs>/<dir>/<name>. The one place it is built. */
void dp_pin_path(const char *bpffs, const char *dir, const char *name, char *buf, size_t len);

int dp_open(struct dataplane *dp, const struct dp_opts *o);
void dp_close(struct dataplane *dp);
/* lb_ops over the pinned maps. */
struct lb_ops dp_lb_ops(struct dataplane *dp);

/* Map fill for `status`: entries currently in a hash map. */
struct dp_prog_info {
	char name[32];
	uint32_t id;
	uint32_t link_id;
};
int dp_progs(struct dataplane *dp, struct dp_prog_info *out, int max);

/* Sum of a per-CPU stats entry (n u64 counters). */
int dp_percpu_sum(struct dataplane *dp, enum lb_map m, uint32_t key, uint64_t *out, int n);

#endif
