// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket-layer Service load balancing (the kube-proxy replacement).
 *
 * connect()/sendmsg() to a frontend (ClusterIP, NodePort, local externalIP)
 * are rewritten to a backend before any packet exists; recvmsg() and
 * getpeername() rewrite the backend back to the frontend. Per connect: one
 * frontend hash lookup, one array lookup, one slot lookup (the slot holds the
 * address) and one store into the reverse-NAT array.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"

#define ECONNREFUSED 111
#define SYS_REJECT 0
#define SYS_PROCEED 1
#define NSEC_PER_SEC 1000000000ull

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Read the destination the user passed in. user_ip6 must be read word by
 * word: the verifier only allows 4-byte loads there. */
static __always_inline void get_dst(struct bpf_sock_addr *ctx, __u8 family, __u32 addr[4])
{
	if (family == PT_V4) {
		addr[0] = ctx->user_ip4;
		addr[1] = addr[2] = addr[3] = 0;
	} else {
		addr[0] = ctx->user_ip6[0];
		addr[1] = ctx->user_ip6[1];
		addr[2] = ctx->user_ip6[2];
		addr[3] = ctx->user_ip6[3];
	}
}

static __always_inline void set_dst(struct bpf_sock_addr *ctx, __u8 family, const __u32 addr[4],
				    __u16 port)
{
	if (family == PT_V4) {
		ctx->user_ip4 = addr[0];
	} else {
		ctx->user_ip6[0] = addr[0];
		ctx->user_ip6[1] = addr[1];
		ctx->user_ip6[2] = addr[2];
		ctx->user_ip6[3] = addr[3];
	}
	ctx->user_port = port;
}

static __always_inline bool is_loopback(const __u32 addr[4], __u8 family)
{
	if (family == PT_V4)
		return (bpf_ntohl(addr[0]) >> 24) == 127;
	return !addr[0] && !addr[1] && !addr[2] && addr[3] == bpf_htonl(1);
}

static __always_inline bool is_local(const __u32 addr[4], __u8 family)
{
	struct pt_addr_key k = {};

	if (is_loopback(addr, family))
		return true;
	__builtin_memcpy(k.addr, addr, sizeof(k.addr));
	k.family = family;
	return bpf_map_lookup_elem(&pt_node_addr, &k) != NULL;
}

static __always_inline struct pt_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pt_config, &zero);
}

/* Find the frontend for a destination: exact match first (ClusterIP,
 * externalIP), then the NodePort wildcard when the address is the node's. */
static __always_inline struct pt_frontend_val *find_frontend(struct pt_frontend_key *key,
							     struct pt_config *cfg)
{
	struct pt_frontend_val *fe;
	__u16 port;

	fe = bpf_map_lookup_elem(&pt_frontend, key);
	if (fe) {
		if (fe->kind == PT_FE_EXTERNAL_IP && !is_local(key->addr, key->family))
			return NULL; /* CVE-2020-8554: only the node's own IPs */
		return fe;
	}
	port = bpf_ntohs(key->port);
	if (!cfg || port < cfg->nodeport_min || port > cfg->nodeport_max)
		return NULL;
	if (!is_local(key->addr, key->family))
		return NULL;
	struct pt_frontend_key np = {
	    .port = key->port,
	    .proto = key->proto,
	    .family = key->family,
	};
	return bpf_map_lookup_elem(&pt_frontend, &np);
}

static __always_inline void count_svc(__u32 svc_id, int what)
{
	struct pt_svc_stats *st = bpf_map_lookup_elem(&pt_svc_stats, &svc_id);

	if (!st)
		return;
	if (what == 0)
		st->connects++;
	else if (what == 1)
		st->rejects++;
	else
		st->lookup_fail++;
}

static __always_inline void emit(struct bpf_sock_addr *ctx, struct pt_config *cfg, __u16 type,
				 __u32 svc_id, __u32 be_id, const __u32 addr[4], __u16 port,
				 __u8 family, __u8 proto)
{
	struct pt_event_connect *ev;

	if (!cfg || !(cfg->flags & PT_CFG_CONNECT_EVENTS))
		return;
	ev = pt_event_reserve(sizeof(*ev));
	if (!ev)
		return;
	ev->hdr.type = type;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.pid = bpf_get_current_pid_tgid() >> 32;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->hdr.cgroup_id = bpf_get_current_cgroup_id();
	ev->svc_id = svc_id;
	ev->backend_id = be_id;
	__builtin_memcpy(ev->addr, addr, sizeof(ev->addr));
	ev->port = port;
	ev->family = family;
	ev->proto = proto;
	bpf_ringbuf_submit(ev, 0);
}

/* sessionAffinity: ClientIP. Returns the pinned backend if it is still a
 * backend of this service and the entry has not expired. */
static __always_inline struct pt_backend *affinity_get(struct pt_affinity_key *ak,
						       struct pt_svc *svc, __u32 *be_id, __u64 now)
{
	struct pt_affinity_val *av = bpf_map_lookup_elem(&pt_affinity, ak);
	struct pt_backend *be;

	if (!av)
		return NULL;
	if (now - av->last_ns > (__u64)svc->affinity_timeout_s * NSEC_PER_SEC)
		return NULL;
	be = bpf_map_lookup_elem(&pt_backend, &av->backend_id);
	if (!be || be->svc_id != ak->svc_id)
		return NULL;
	*be_id = av->backend_id;
	return be;
}

/* A random slot of the service. The slot carries the backend's address: one
 * lookup for the choice and the destination. */
static __always_inline struct pt_slot_val *pick(__u32 svc_id, struct pt_svc *svc)
{
	struct pt_slot_key sk = {
	    .svc_id = svc_id,
	    .slot = bpf_get_prandom_u32() % svc->count + 1,
	};

	return bpf_map_lookup_elem(&pt_slot, &sk);
}

/* The pt_revnat slot of (socket, backend): two slots per socket, by cookie.
 * Cookies are handed out sequentially (per CPU, in batches), so consecutive
 * sockets write neighbouring slots: a store into a warm cache line rather
 * than a miss anywhere in the table, as a hashed index measured. */
static __always_inline __u32 revnat_slot(__u64 cookie, const __u32 be_addr[4], __u16 be_port)
{
	__u32 way = (be_addr[0] ^ be_addr[1] ^ be_addr[2] ^ be_addr[3] ^ be_port) & 1;

	return (__u32)((cookie << 1) | way) & (PT_REVNAT_SLOTS - 1);
}

#define barrier() asm volatile("" ::: "memory")

/* Remember (socket, backend) -> frontend for recvmsg()/getpeername(). The
 * cookie is cleared while the entry is written, so that a reader that races
 * with a colliding writer sees a mismatch rather than a torn entry. */
static __always_inline void revnat_record(struct bpf_sock_addr *ctx, const __u32 vip[4],
					  __u16 vip_port, const __u32 be_addr[4], __u16 be_port,
					  __u8 family)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u32 slot = revnat_slot(cookie, be_addr, be_port);
	struct pt_revnat *e = bpf_map_lookup_elem(&pt_revnat, &slot);

	if (!e)
		return;
	/* a UDP socket sending to one service again: nothing to write (and no
	 * cache line to take from the CPU that reads it in recvmsg) */
	if (e->cookie == cookie && e->be_port == be_port && e->vip_port == vip_port &&
	    e->family == family && e->be_addr[0] == be_addr[0] && e->be_addr[1] == be_addr[1] &&
	    e->be_addr[2] == be_addr[2] && e->be_addr[3] == be_addr[3] &&
	    e->vip_addr[0] == vip[0] && e->vip_addr[1] == vip[1] && e->vip_addr[2] == vip[2] &&
	    e->vip_addr[3] == vip[3])
		return;
	e->cookie = 0;
	barrier();
	__builtin_memcpy(e->be_addr, be_addr, sizeof(e->be_addr));
	__builtin_memcpy(e->vip_addr, vip, sizeof(e->vip_addr));
	e->be_port = be_port;
	e->vip_port = vip_port;
	e->family = family;
	barrier();
	e->cookie = cookie;
}

/* The forward path shared by connect4/6 and sendmsg4/6. */
static __always_inline int xlate_fwd(struct bpf_sock_addr *ctx, __u8 family)
{
	struct pt_frontend_key key = {};
	struct pt_config *cfg = get_config();
	struct pt_frontend_val *fe;
	struct pt_backend *be = NULL;
	const __u32 *addr;
	struct pt_svc *svc;
	__u32 svc_id, be_id = 0;
	__u16 port;
	__u8 proto = ctx->protocol;
	__u64 now = 0;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return SYS_PROCEED;
	get_dst(ctx, family, key.addr);
	key.port = (__u16)ctx->user_port;
	key.proto = proto;
	key.family = family;

	fe = find_frontend(&key, cfg);
	if (!fe)
		return SYS_PROCEED; /* not a service: leave it alone */
	svc_id = fe->svc_id;
	svc = bpf_map_lookup_elem(&pt_svc, &svc_id);
	if (!svc || !svc->count) {
		count_svc(svc_id, 1);
		emit(ctx, cfg, PT_EV_REJECT, svc_id, 0, key.addr, key.port, family, proto);
		bpf_set_retval(-ECONNREFUSED);
		return SYS_REJECT;
	}

	struct pt_affinity_key ak = {.svc_id = svc_id};
	if (svc->flags & PT_SVC_AFFINITY) {
		now = bpf_ktime_get_ns();
		ak.netns_cookie = bpf_get_netns_cookie(ctx);
		be = affinity_get(&ak, svc, &be_id, now);
	}
	if (be) {
		addr = be->addr;
		port = be->port;
	} else {
		struct pt_slot_val *sl = pick(svc_id, svc);

		if (!sl) {
			/* Fail closed: never let a half-updated service pass. */
			count_svc(svc_id, 2);
			bpf_set_retval(-ECONNREFUSED);
			return SYS_REJECT;
		}
		be_id = sl->backend_id;
		addr = sl->addr;
		port = sl->port;
	}
	if (svc->flags & PT_SVC_AFFINITY) {
		struct pt_affinity_val av = {.last_ns = now, .backend_id = be_id};

		bpf_map_update_elem(&pt_affinity, &ak, &av, BPF_ANY);
	}

	revnat_record(ctx, key.addr, key.port, addr, port, family);
	set_dst(ctx, family, addr, port);
	count_svc(svc_id, 0);
	struct pt_be_stats *bs = bpf_map_lookup_elem(&pt_be_stats, &be_id);
	if (bs)
		bs->selected++;
	emit(ctx, cfg, PT_EV_CONNECT, svc_id, be_id, addr, port, family, proto);
	return SYS_PROCEED;
}

/* recvmsg()/getpeername(): show the frontend, not the backend. */
static __always_inline int xlate_rev(struct bpf_sock_addr *ctx, __u8 family)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u16 port = (__u16)ctx->user_port;
	struct pt_revnat *e;
	__u32 addr[4], vip[4], slot;
	__u16 vip_port;

	get_dst(ctx, family, addr);
	slot = revnat_slot(cookie, addr, port);
	e = bpf_map_lookup_elem(&pt_revnat, &slot);
	if (!e || e->cookie != cookie)
		return SYS_PROCEED;
	barrier();
	if (e->family != family || e->be_port != port || e->be_addr[0] != addr[0] ||
	    e->be_addr[1] != addr[1] || e->be_addr[2] != addr[2] || e->be_addr[3] != addr[3])
		return SYS_PROCEED;
	__builtin_memcpy(vip, e->vip_addr, sizeof(vip));
	vip_port = e->vip_port;
	barrier();
	if (e->cookie != cookie)
		return SYS_PROCEED; /* overwritten while we read it */
	set_dst(ctx, family, vip, vip_port);
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int pt_connect4(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, PT_V4);
}

SEC("cgroup/connect6")
int pt_connect6(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, PT_V6);
}

SEC("cgroup/sendmsg4")
int pt_sendmsg4(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, PT_V4);
}

SEC("cgroup/sendmsg6")
int pt_sendmsg6(struct bpf_sock_addr *ctx)
{
	return xlate_fwd(ctx, PT_V6);
}

SEC("cgroup/recvmsg4")
int pt_recvmsg4(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, PT_V4);
}

SEC("cgroup/recvmsg6")
int pt_recvmsg6(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, PT_V6);
}

SEC("cgroup/getpeername4")
int pt_getpeername4(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, PT_V4);
}

SEC("cgroup/getpeername6")
int pt_getpeername6(struct bpf_sock_addr *ctx)
{
	return xlate_rev(ctx, PT_V6);
}
