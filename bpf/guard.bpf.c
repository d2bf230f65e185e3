// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The guard plane: attached to every pod cgroup.
 *
 * cgroup_skb egress/ingress: per-pod bandwidth limits (token buckets in
 * pt_bw) and per-pod traffic counters (pt_pod_stats). The pod is found from
 * the socket's cgroup (a container cgroup or the pod cgroup) in pt_cgroup.
 *
 * sockops: the pod's TCP connections pace themselves to its egress rate.
 *
 * cgroup/dev: the runc default device allow-list.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NSEC_PER_SEC 1000000000ull

/* cgroup_skb return codes. Egress only: bit 1 = congestion notification,
 * TCP then calls tcp_enter_cwr(); a dropped (not transmitted) segment stays
 * in the socket's write queue and is sent again later. */
#define SKB_DROP 0
#define SKB_PASS 1
#define SKB_DROP_CN 2
#define SKB_PASS_CN 3

/*
 * Egress thresholds, as debt (negative credit) in time at the pod's rate,
 * with floors in bytes (HBM's shape: mark first, drop deeper). A TCP sender
 * whose segment is refused keeps it queued and retries on the next ACK, or,
 * with nothing in flight, from its probe timer (>= 200 ms). On a pod network
 * the RTT is tens of microseconds, so even a 2-segment window is far above
 * any limit here: cwnd reductions (CN) cannot hold the rate by themselves,
 * the refusals do. The rate holds because no credit is lost during those
 * stalls: guard_set_bw sizes the bucket to cover a probe period (see
 * GUARD_BURST_MS).
 *  mark: 5 ms (>= 16 KiB) of debt: pass with CN (TCP enters CWR).
 *  drop: 20 ms (>= 64 KiB, one full GSO packet) of debt: refuse with CN;
 *        small packets (pure ACKs of the pod's downloads, SYNs) only past
 *        twice that, so a saturated upload does not starve them (HBM's
 *        LARGE_PKT_THRESH).
 */
#define EG_MARK_US 5000
#define EG_MARK_MIN (16u << 10)
#define EG_DROP_US 20000
#define EG_DROP_MIN (64u << 10)
#define EG_SMALL_PKT 128

#define LOOPBACK_IFINDEX 1

/* The pod (and container) of a cgroup2 id, NULL if it is not a pod's. */
static __always_inline struct pt_cgroup_val *cgroup_pod(__u64 cgid)
{
	struct pt_cgroup_val *cg = cgid ? bpf_map_lookup_elem(&pt_cgroup, &cgid) : NULL;

	return cg && cg->pod_id < PT_MAX_PODS ? cg : NULL;
}

/* The pod of the skb's socket, NULL if none. Loopback traffic (between the
 * containers of a pod) is neither limited nor counted, as with a limit on the
 * pod's network interface. */
static __always_inline struct pt_cgroup_val *skb_pod(struct __sk_buff *skb)
{
	if (skb->ifindex == LOOPBACK_IFINDEX)
		return NULL;
	return cgroup_pod(bpf_skb_cgroup_id(skb));
}

/* Bytes worth of us microseconds at rate_Bps bytes/s, at least min. */
static __always_inline __s64 thresh(__u64 rate_Bps, __u64 us, __u64 min)
{
	__u64 t = rate_Bps * us / 1000000;

	return (__s64)(t > min ? t : min);
}

/* rate_bps -> bytes/s, clamped so that rate * 1 s fits in 64 bits. */
static __always_inline __u64 rate_bytes(__u64 rate_bps)
{
	__u64 r = rate_bps >> 3;

	if (r < 1)
		r = 1;
	if (r > (1ull << 34)) /* ~137 Gbit/s */
		r = 1ull << 34;
	return r;
}

/* Refill b (lock held) up to now. Time not yet worth one byte is kept: last_ns
 * only advances by the time that was converted into credit. */
static __always_inline void refill(struct pt_bw *b, __u64 rate_Bps, __u64 now)
{
	__u64 delta, add;
	__s64 credit, burst = (__s64)b->burst_bytes;

	if (now <= b->last_ns)
		return; /* another CPU with a later clock refilled already */
	delta = now - b->last_ns;
	if (delta >= NSEC_PER_SEC) {
		/* idle: whole seconds are enough (no overflow: 2^10 * 2^34) */
		delta /= NSEC_PER_SEC;
		add = (delta > 1024 ? 1024 : delta) * rate_Bps;
		b->last_ns = now;
	} else {
		add = delta * rate_Bps / NSEC_PER_SEC;
		b->last_ns += add * NSEC_PER_SEC / rate_Bps;
	}
	credit = b->credit + (__s64)add;
	if (credit >= burst) {
		credit = burst;
		b->last_ns = now;
	}
	b->credit = credit;
}

static __always_inline __u32 skb_segs(struct __sk_buff *skb)
{
	__u32 n = skb->gso_segs;

	return n ? n : 1;
}

SEC("cgroup_skb/egress")
int guard_egress(struct __sk_buff *skb)
{
	struct pt_cgroup_val *cg = skb_pod(skb);
	struct pt_pod_stats *st;
	struct pt_bw *b;
	__u32 len = skb->len, pod, idx;
	__u64 rate, now;
	__s64 credit, mark, drop;
	int rv = SKB_PASS;

	if (!cg)
		return SKB_PASS;
	pod = cg->pod_id;
	st = bpf_map_lookup_elem(&pt_pod_stats, &pod);
	idx = pod * 2 + PT_EGRESS;
	b = bpf_map_lookup_elem(&pt_bw, &idx);
	rate = b ? b->rate_bps : 0;
	if (rate) {
		rate = rate_bytes(rate);
		mark = thresh(rate, EG_MARK_US, EG_MARK_MIN);
		drop = thresh(rate, EG_DROP_US, EG_DROP_MIN);
		if (len <= EG_SMALL_PKT)
			drop *= 2;
		now = bpf_ktime_get_ns();
		bpf_spin_lock(&b->lock);
		refill(b, rate, now);
		credit = b->credit - len;
		if (credit < -drop) {
			rv = SKB_DROP_CN; /* not sent: not charged */
		} else {
			b->credit = credit;
			if (credit < -mark)
				rv = SKB_PASS_CN;
		}
		bpf_spin_unlock(&b->lock);
	}
	if (st) {
		if (rv == SKB_DROP_CN) {
			st->drops_bw[PT_EGRESS]++;
		} else {
			st->bytes[PT_EGRESS] += len;
			st->packets[PT_EGRESS] += skb_segs(skb);
			if (rv == SKB_PASS_CN)
				st->cn_marks[PT_EGRESS]++;
		}
	}
	return rv;
}

SEC("cgroup_skb/ingress")
int guard_ingress(struct __sk_buff *skb)
{
	struct pt_cgroup_val *cg = skb_pod(skb);
	struct pt_pod_stats *st;
	struct pt_bw *b;
	__u32 len = skb->len, pod, idx;
	__u64 rate, now;
	int rv = SKB_PASS;

	if (!cg)
		return SKB_PASS;
	pod = cg->pod_id;
	st = bpf_map_lookup_elem(&pt_pod_stats, &pod);
	idx = pod * 2 + PT_INGRESS;
	b = bpf_map_lookup_elem(&pt_bw, &idx);
	rate = b ? b->rate_bps : 0;
	if (rate) {
		rate = rate_bytes(rate);
		now = bpf_ktime_get_ns();
		bpf_spin_lock(&b->lock);
		refill(b, rate, now);
		/* A policer: anything arriving while the bucket is in debt is
		 * dropped and the sender's TCP backs off from the loss (its
		 * retransmission timer: the bucket covers one period). One
		 * packet may take the credit below zero, so a GRO packet larger
		 * than what is left still gets through. */
		if (b->credit < 0)
			rv = SKB_DROP;
		else
			b->credit -= len;
		bpf_spin_unlock(&b->lock);
	}
	if (st) {
		if (rv == SKB_DROP) {
			st->drops_bw[PT_INGRESS]++;
		} else {
			st->bytes[PT_INGRESS] += len;
			st->packets[PT_INGRESS] += skb_segs(skb);
		}
	}
	return rv;
}

/*
 * TCP pacing: the egress limit applied by TCP itself.
 *
 * A policer (guard_egress) can only refuse a segment, and at pod RTTs that
 * makes a burst/refusal/stall pattern in which TCP's loss detection (RACK)
 * declares late segments lost: spurious retransmits at 100M and more. The kernel has
 * no qdisc here that honours an earliest departure time (no sch_fq), and a
 * queueing qdisc (tbf) delays every packet of the pod by its backlog. So the
 * pod's TCP sockets pace themselves: when a connection is established its
 * SO_MAX_PACING_RATE is set so that its IP bytes (what guard_egress charges)
 * fit the pod's egress rate. TCP then spaces its segments with its own EDT
 * timer, in the socket: no queue, no drop, nothing delayed for the pod's
 * other traffic. guard_egress stays as the aggregate limit (several bulk
 * connections at once, UDP); a single paced connection stays under it.
 */
#define SOL_SOCKET 1	      /* uapi, not in vmlinux.h */
#define SO_MAX_PACING_RATE 47 /* bytes/s, a u32 through bpf_setsockopt */
#define AF_INET6 10
/* IP + TCP header with the timestamp option on a full-size segment: what
 * guard_egress charges on top of mss_cache bytes of payload. */
#define HDR4 (20 + 20 + 12)
#define HDR6 (40 + 20 + 12)

/* cgroup2 id of the socket's cgroup (what bpf_skb_cgroup_id() returns for
 * its packets). A connection accepted by a pod inherits the listener's. */
static __always_inline __u64 sock_cgroup_id(struct bpf_sock *bsk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(bsk);
	struct cgroup *cg;

	if (!tp)
		return 0;
	cg = tp->inet_conn.icsk_inet.sk.sk_cgrp_data.cgroup;
	if (!cg || !cg->kn)
		return 0;
	return cg->kn->id;
}

/* A connection over loopback (between the pod's containers, or to its own
 * address): not limited, as guard_egress does not charge loopback packets. */
static __always_inline bool sock_is_local(struct bpf_sock_ops *skops)
{
	if (skops->family == AF_INET6)
		return (skops->remote_ip6[0] == skops->local_ip6[0] &&
			skops->remote_ip6[1] == skops->local_ip6[1] &&
			skops->remote_ip6[2] == skops->local_ip6[2] &&
			skops->remote_ip6[3] == skops->local_ip6[3]) ||
		       (!skops->remote_ip6[0] && !skops->remote_ip6[1] && !skops->remote_ip6[2] &&
			skops->remote_ip6[3] == bpf_htonl(1));
	return skops->remote_ip4 == skops->local_ip4 ||
	       (skops->remote_ip4 & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000);
}

/* Payload bytes/s for a connection: full segments of mss payload bytes keep
 * the pod's IP bytes within rate_Bps. */
static __always_inline __u32 pace_rate(__u64 rate_Bps, __u32 mss, __u32 family)
{
	__u32 hdr = family == AF_INET6 ? HDR6 : HDR4;
	__u64 r;

	if (mss < 64 || mss > 65535)
		mss = 1448;
	r = rate_Bps * mss / (mss + hdr);
	if (r < 1)
		r = 1;
	return r >= 0xffffffffull ? 0xfffffffe : (__u32)r; /* ~0U = unlimited */
}

SEC("sockops")
int guard_sockops(struct bpf_sock_ops *skops)
{
	struct pt_cgroup_val *cg;
	struct bpf_sock *sk;
	struct pt_bw *b;
	__u32 idx, rate;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (sock_is_local(skops))
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;
	cg = cgroup_pod(sock_cgroup_id(sk));
	if (!cg)
		return 1;
	idx = cg->pod_id * 2 + PT_EGRESS;
	b = bpf_map_lookup_elem(&pt_bw, &idx);
	if (!b || !b->rate_bps)
		return 1;
	rate = pace_rate(rate_bytes(b->rate_bps), skops->mss_cache, skops->family);
	bpf_setsockopt(skops, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof(rate));
	return 1;
}

/* uapi BPF_DEVCG_* (not in vmlinux.h: no kernel type refers to them). */
#define DEVCG_ACC_MKNOD (1u << 0)
#define DEVCG_ACC_READ (1u << 1)
#define DEVCG_ACC_WRITE (1u << 2)
#define DEVCG_DEV_BLOCK (1u << 0)
#define DEVCG_DEV_CHAR (1u << 1)

/* The runc default allow-list: a few character devices read/write/mknod,
 * the pts multiplexer range, and mknod (only) of any device node. */
static __always_inline bool dev_allowed(__u32 type, __u32 access, __u32 major, __u32 minor)
{
	if (!(access & ~DEVCG_ACC_MKNOD))
		return type == DEVCG_DEV_CHAR || type == DEVCG_DEV_BLOCK;
	if (type != DEVCG_DEV_CHAR)
		return false;
	switch (major) {
	case 1: /* null zero full random urandom */
		return minor == 3 || minor == 5 || minor == 7 || minor == 8 || minor == 9;
	case 5: /* tty ptmx */
		return minor == 0 || minor == 2;
	case 136: /* /dev/pts/N */
		return true;
	}
	return false;
}

SEC("cgroup/dev")
int guard_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	__u32 type = ctx->access_type & 0xffff;
	__u32 access = ctx->access_type >> 16;
	struct pt_cgroup_val *cg;
	struct pt_pod_stats *st;
	__u32 pod;

	if (dev_allowed(type, access, ctx->major, ctx->minor))
		return 1;
	cg = cgroup_pod(bpf_get_current_cgroup_id());
	if (cg) {
		pod = cg->pod_id;
		st = bpf_map_lookup_elem(&pt_pod_stats, &pod);
		if (st)
			st->dev_denied++;
	}
	return 0;
}
