/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * podtrace ABI: every map key/value and event record shared by the BPF
 * programs (bpf/) and the userspace loader (user/). Declared once, here.
 *
 * Addresses are stored as four 32-bit words in network byte order; an IPv4
 * address uses addr[0] only and leaves the rest zero. Ports are network order.
 */
#ifndef PODTRACE_H
#define PODTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h>
#endif

#define PT_NAME "podtrace"

/* Default map capacities; the daemon may raise them (--max-services ...). */
#define PT_DEF_MAX_FRONTENDS 131072 /* VIP/NodePort/externalIP x port */
#define PT_DEF_MAX_SERVICES 65536   /* service ports (svc_id space)    */
#define PT_DEF_MAX_BACKENDS 262144  /* (service port, endpoint) pairs */
#define PT_DEF_MAX_AFFINITY 65536
#define PT_MAX_PODS 16384
#define PT_RINGBUF_BYTES (8u << 20)

/* Reverse-NAT slots (a power of two): see struct pt_revnat. */
#define PT_REVNAT_SLOTS (1u << 18)

enum pt_family {
	PT_V4 = 4,
	PT_V6 = 6,
};

/* Frontend kinds: how an address:port became a service entry point. */
enum pt_fe_kind {
	PT_FE_CLUSTER_IP = 1,
	PT_FE_NODE_PORT = 2,   /* stored with a zero address: any local address */
	PT_FE_EXTERNAL_IP = 3, /* only translated when the address is local   */
};

/* pt_frontend: (address, port, protocol) -> service port id. */
struct pt_frontend_key {
	__u32 addr[4];
	__u16 port;  /* network order */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family; /* enum pt_family */
};

struct pt_frontend_val {
	__u32 svc_id;
	__u8 kind; /* enum pt_fe_kind */
	__u8 pad[3];
};

/* pt_svc (array indexed by svc_id): the "master" entry of a service port.
 * count is written last on growth and first on shrink. */
#define PT_SVC_AFFINITY (1u << 0)
#define PT_SVC_USED (1u << 1)

struct pt_svc {
	__u32 count; /* number of slots 1..count; 0 = no endpoints (reject) */
	__u32 flags;
	__u32 affinity_timeout_s;
	__u32 pad;
};

/* pt_slot: (svc_id, slot 1..count) -> backend id and where to connect. The
 * address is a copy of the backend's (it never changes for an id), so that a
 * connect() needs no pt_backend lookup. */
struct pt_slot_key {
	__u32 svc_id;
	__u32 slot;
};

struct pt_slot_val {
	__u32 backend_id; /* first: the slot's identity */
	__u16 port;	  /* network order */
	__u8 family;
	__u8 pad;
	__u32 addr[4];
};

/* pt_backend: backend id -> where to connect. Ids are unique per
 * (service port, endpoint), so a stale affinity entry can be detected. */
struct pt_backend {
	__u32 addr[4];
	__u16 port; /* network order */
	__u8 family;
	__u8 flags;
	__u32 svc_id;
};

/* pt_affinity (LRU): sessionAffinity ClientIP. The client is identified by
 * its network namespace cookie: at connect() time the source address is often
 * not chosen yet, and a pod is exactly one network namespace. */
struct pt_affinity_key {
	__u64 netns_cookie;
	__u32 svc_id;
	__u32 pad;
};

struct pt_affinity_val {
	__u64 last_ns;
	__u32 backend_id;
	__u32 pad;
};

/* pt_svc_stats (per-CPU array indexed by svc_id). */
struct pt_svc_stats {
	__u64 connects;
	__u64 rejects;	   /* no endpoint: ECONNREFUSED */
	__u64 lookup_fail; /* fail-closed on an inconsistent lookup */
};

/* pt_be_stats (per-CPU array indexed by backend id). */
struct pt_be_stats {
	__u64 selected;
};

/* pt_revnat (array of PT_REVNAT_SLOTS): reverse NAT so that recvmsg() and
 * getpeername() see the frontend. A direct-mapped table: the slot is a hash
 * of (socket cookie, backend), so one socket can talk to several services
 * (unconnected UDP). Writing it is one store into a preallocated array: no
 * lock, no allocation on connect(), nothing to free at close. A slot is
 * overwritten by a later (socket, backend) pair with the same hash: like an
 * LRU of 2^18 entries (Cilium's lb4_reverse_sk), a socket that collides with
 * 2^18 newer ones may see the backend's address again. The kernel never
 * reuses a cookie, so a stale slot never matches a new socket. */
struct pt_revnat {
	__u64 cookie; /* 0 while being written */
	__u32 be_addr[4];
	__u32 vip_addr[4];
	__u16 be_port;
	__u16 vip_port;
	__u8 family;
	__u8 pad[3];
};

/* pt_node_addr: the node's own addresses (NodePort / externalIP guard). */
struct pt_addr_key {
	__u32 addr[4];
	__u32 family;
};

/* pt_config (array, one entry). */
#define PT_CFG_CONNECT_EVENTS (1u << 0)

struct pt_config {
	__u32 flags;
	__u16 nodeport_min; /* host order */
	__u16 nodeport_max;
};

/* ---- pods: cgroup attribution and the guard plane ---- */

/* pt_cgroup (hash): cgroup v2 id of a pod or container cgroup -> pod. The
 * daemon keeps it; the guard plane counts per pod through it and the trace
 * plane filters on it (only known cgroups cost an event). */
#define PT_CG_POD (1u << 0)	  /* the pod cgroup itself */
#define PT_CG_CONTAINER (1u << 1) /* a container cgroup under it */

struct pt_cgroup_val {
	__u32 pod_id;	 /* index into the per-pod arrays, < PT_MAX_PODS */
	__u16 ctr_index; /* container index (init containers after the rest) */
	__u16 flags;
};

enum pt_dir {
	PT_EGRESS = 0,
	PT_INGRESS = 1,
};

/* pt_bw (array indexed by pod_id * 2 + dir): a token bucket per pod and
 * direction. rate 0 = unlimited. */
struct pt_bw {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 rate_bps;	   /* bits per second, from the annotation */
	__u64 burst_bytes; /* bucket depth */
	__s64 credit;	   /* bytes, may go negative (debt) */
	__u64 last_ns;
};

/* pt_pod_stats (per-CPU array indexed by pod_id). */
struct pt_pod_stats {
	__u64 bytes[2]; /* by enum pt_dir */
	__u64 packets[2];
	__u64 drops_bw[2]; /* dropped by the bandwidth limit */
	__u64 cn_marks[2]; /* allowed with congestion notification */
	__u64 dev_denied;  /* device accesses refused */
};

/* ---- events (one ring buffer, pt_events) ---- */
enum pt_event_type {
	PT_EV_CONNECT = 1,	  /* struct pt_event_connect */
	PT_EV_REJECT = 2,	  /* struct pt_event_connect */
	PT_EV_EXEC = 3,		  /* struct pt_event_exec */
	PT_EV_EXIT = 4,		  /* struct pt_event_exit */
	PT_EV_FORK = 5,		  /* struct pt_event_fork */
	PT_EV_OOM = 6,		  /* struct pt_event_oom */
	PT_EV_SIGNAL = 7,	  /* struct pt_event_signal */
	PT_EV_CGROUP_MKDIR = 8,	  /* struct pt_event_cgroup */
	PT_EV_CGROUP_RMDIR = 9,	  /* struct pt_event_cgroup */
	PT_EV_CGROUP_ATTACH = 10, /* struct pt_event_cgroup (pid moved in) */
};

#define PT_COMM_LEN 16
#define PT_PATH_MAX 256
#define PT_ARGS_MAX 512 /* argv, NUL-separated, truncated past this */

struct pt_event_hdr {
	__u16 type;
	__u16 size;
	__u32 pid;
	__u64 ts_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 cgroup_id;
};

struct pt_event_connect {
	struct pt_event_hdr hdr;
	__u32 svc_id;
	__u32 backend_id;
	__u32 addr[4]; /* backend address (connect) or VIP (reject) */
	__u16 port;
	__u8 family;
	__u8 proto;
};

/* exec: the binary, argv (bounded: args_truncated marks the cut), ids. */
struct pt_event_exec {
	struct pt_event_hdr hdr;
	__u32 ppid;
	__u32 uid;
	__u16 args_len;	     /* bytes used in args */
	__u8 args_truncated; /* argv did not fit (or had more than 32 args) */
	__u8 pad;
	__u32 argc;
	char comm[PT_COMM_LEN];
	char filename[PT_PATH_MAX];
	char args[PT_ARGS_MAX];
};

/* exec records are variable-size: only args[0..args_len) is sent, so
 * hdr.size == PT_EXEC_FIXED_SIZE + args_len <= sizeof(struct pt_event_exec).
 * A reader checks len >= PT_EXEC_FIXED_SIZE + args_len, never sizeof(). */
#define PT_EXEC_FIXED_SIZE __builtin_offsetof(struct pt_event_exec, args)

/* exit of a whole process (the thread group leader). */
struct pt_event_exit {
	struct pt_event_hdr hdr;
	__u32 ppid;
	__s32 exit_code; /* (status >> 8) & 0xff */
	__u32 signal;	 /* status & 0x7f: the killing signal, or 0 */
	__u32 pad;
	__u64 lifetime_ns; /* since the process started */
	char comm[PT_COMM_LEN];
};

struct pt_event_fork {
	struct pt_event_hdr hdr; /* pid = parent */
	__u32 child_pid;
	__u32 pad;
	char comm[PT_COMM_LEN];
};

/* oom:mark_victim: the task the OOM killer chose. */
struct pt_event_oom {
	struct pt_event_hdr hdr; /* pid = victim */
	__u64 total_vm_kb, anon_rss_kb;
	char comm[PT_COMM_LEN];
};

/* signal:signal_generate of a fatal signal to a pod process. */
struct pt_event_signal {
	struct pt_event_hdr hdr; /* pid = target, cgroup_id = target's */
	__u32 sig;
	__u32 sender_pid;
	__s32 result; /* TRACE_SIGNAL_* */
	__u32 pad;
	char comm[PT_COMM_LEN]; /* target */
	char sender_comm[PT_COMM_LEN];
};

/* cgroup:cgroup_mkdir / cgroup_rmdir / cgroup_attach_task below a watched
 * root (pt_cg_roots). hdr.cgroup_id is the cgroup concerned. */
struct pt_event_cgroup {
	struct pt_event_hdr hdr;
	__u32 level;
	__u32 pad;
	char path[PT_PATH_MAX];
};

/* pt_lost (per-CPU array, one entry): ring buffer reserve failures. */
struct pt_lost {
	__u64 events;
};

#endif /* PODTRACE_H */
