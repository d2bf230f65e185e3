/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every BPF map of podtrace, declared once. Each plane's object includes this
 * file; maps are pinned by name under <bpffs>/maps so that all objects and all
 * daemon generations share one instance. Sizes here are defaults: the loader
 * sets max_entries from its flags before load.
 */
#ifndef PT_MAPS_BPF_H
#define PT_MAPS_BPF_H

#include "podtrace.h"

#define PT_MAP(_type, _key, _val, _max)                                                            \
	__uint(type, _type);                                                                       \
	__type(key, _key);                                                                         \
	__type(value, _val);                                                                       \
	__uint(max_entries, _max);                                                                 \
	__uint(pinning, LIBBPF_PIN_BY_NAME)

struct {
	PT_MAP(BPF_MAP_TYPE_HASH, struct pt_frontend_key, struct pt_frontend_val,
	       PT_DEF_MAX_FRONTENDS);
} pt_frontend SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_ARRAY, __u32, struct pt_svc, PT_DEF_MAX_SERVICES);
} pt_svc SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_HASH, struct pt_slot_key, struct pt_slot_val, PT_DEF_MAX_BACKENDS);
} pt_slot SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_HASH, __u32, struct pt_backend, PT_DEF_MAX_BACKENDS);
} pt_backend SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_LRU_HASH, struct pt_affinity_key, struct pt_affinity_val,
	       PT_DEF_MAX_AFFINITY);
} pt_affinity SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct pt_svc_stats, PT_DEF_MAX_SERVICES);
} pt_svc_stats SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct pt_be_stats, PT_DEF_MAX_BACKENDS);
} pt_be_stats SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_HASH, struct pt_addr_key, __u8, 1024);
} pt_node_addr SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_ARRAY, __u32, struct pt_config, 1);
} pt_config SEC(".maps");

/* ---- pods: attribution and the guard plane ---- */
struct {
	PT_MAP(BPF_MAP_TYPE_HASH, __u64, struct pt_cgroup_val, PT_MAX_PODS * 8);
} pt_cgroup SEC(".maps");

/* pt_cg_roots (hash): cgroup v2 ids whose descendants' mkdir, rmdir and task
 * attach are reported by the trace plane (e.g. the kubepods cgroup). */
struct {
	PT_MAP(BPF_MAP_TYPE_HASH, __u64, __u8, 64);
} pt_cg_roots SEC(".maps");

/* pt_exec_buf (per-CPU, one entry): the trace plane builds an exec record
 * here, then copies only the used part of args to pt_events. Scratch space:
 * not pinned, each object has its own. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pt_event_exec);
	__uint(max_entries, 1);
} pt_exec_buf SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_ARRAY, __u32, struct pt_bw, PT_MAX_PODS * 2);
} pt_bw SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct pt_pod_stats, PT_MAX_PODS);
} pt_pod_stats SEC(".maps");

/* An array rather than socket-local storage or an LRU hash: recording a
 * connect() is then a store into preallocated memory, where sk_storage cost
 * an allocation (and a kfree_rcu at close) and an LRU update a lock and list
 * work: measured 0.8-1.2 us and 0.55 us of a ~1.2 us hook. */
struct {
	PT_MAP(BPF_MAP_TYPE_ARRAY, __u32, struct pt_revnat, PT_REVNAT_SLOTS);
} pt_revnat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PT_RINGBUF_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pt_events SEC(".maps");

struct {
	PT_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct pt_lost, 1);
} pt_lost SEC(".maps");

/* Reserve an event record or count the loss: no event is dropped silently. */
static __always_inline void *pt_event_reserve(__u32 size)
{
	void *rec = bpf_ringbuf_reserve(&pt_events, size, 0);

	if (!rec) {
		__u32 zero = 0;
		struct pt_lost *lost = bpf_map_lookup_elem(&pt_lost, &zero);

		if (lost)
			lost->events++;
	}
	return rec;
}

#endif
