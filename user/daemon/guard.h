/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The guard plane: bandwidth limits, traffic counters and the device
 * allow-list on each pod cgroup (bpf/guard.bpf.c).
 *
 * The maps (pt_cgroup, pt_bw, pt_pod_stats) are the shared pinned ones under
 * <bpffs>/maps. Each pod's programs are attached with bpf_links pinned at
 * <bpffs>/links/pods/<pod_key>/{egress,ingress,dev,sockops}: they outlive the daemon
 * and are adopted (program swapped in place) by the next one.
 *
 * Every function returns 0 or a negative errno.
 */
#ifndef PT_GUARD_H
#define PT_GUARD_H

#include <stdint.h>
#include "podtrace.h"

struct guard_bpf;

struct guard {
	struct guard_bpf *skel;
	int cgroup_fd; /* pt_cgroup */
	int bw_fd;     /* pt_bw */
	int stats_fd;  /* pt_pod_stats */
	int ncpu;
	char bpffs[256];
};

/*
 * Bucket depth: GUARD_BURST_MS at the rate, at least GUARD_MIN_BURST.
 *
 * The bucket only binds what the sockops program does not pace (UDP, several
 * bulk connections of one pod, ingress). At pod RTTs (tens of microseconds)
 * TCP cannot be slowed down by its window: a policed flow runs in bursts
 * separated by TCP's timers (the probe timer of a sender whose segment the
 * egress hook refused, the retransmission timeout of a sender whose segments
 * the ingress hook dropped), both at least 200 ms (TCP_RTO_MIN). The bucket
 * must hold the credit earned during one such pause, or the flow gets less
 * than its rate: 250 ms leaves a margin. The smallest bucket holds two
 * full-size GSO/GRO packets.
 *
 * guard_set_bw starts a bucket half full: a new limit neither stalls nor lets
 * a full burst through right away (an idle pod's bucket fills in 125 ms).
 */
#define GUARD_BURST_MS 250
#define GUARD_MIN_BURST (128u << 10)
uint64_t guard_burst_bytes(uint64_t rate_bps);

int guard_open(struct guard *g, const char *bpffs);
void guard_close(struct guard *g);

/* Attach egress, ingress, dev and sockops to the pod cgroup (pinned links; existing
 * pins are re-used and their program swapped). pod_key names the pin dir: a
 * non-empty file name (no '/', not "." or ".."). */
int guard_attach_pod(struct guard *g, const char *pod_key, int pod_cgroup_fd);
/* Unpin and detach the pod's links. Missing links are not an error. */
int guard_detach_pod(struct guard *g, const char *pod_key);

/* pt_cgroup: cgroup id (cgroup2 directory inode) -> pod. */
int guard_set_cgroup(struct guard *g, uint64_t cgid, const struct pt_cgroup_val *v);
int guard_del_cgroup(struct guard *g, uint64_t cgid);

/* Set both buckets of a pod (bits/s, 0 = unlimited) and reset them (half
 * full, see above). */
int guard_set_bw(struct guard *g, uint32_t pod_id, uint64_t egress_bps, uint64_t ingress_bps);

/* The pod's counters summed over CPUs (one map lookup). */
int guard_pod_stats(struct guard *g, uint32_t pod_id, struct pt_pod_stats *sum);
int guard_reset_stats(struct guard *g, uint32_t pod_id);

#endif
