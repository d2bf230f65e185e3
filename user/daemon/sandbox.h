/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Pod sandboxes: cgroup trees (libcgroup; cgroup2 for BPF and ids, v1
 * controllers for limits on hybrid hosts) and network namespaces with a veth
 * to the host (what a CNI plugin does).
 */
#ifndef PT_SANDBOX_H
#define PT_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "net.h"

struct cgmode {
	bool v2;	    /* pure cgroup v2: limits live in the same tree */
	char unified[256];  /* the cgroup2 mount */
	char rel_root[256]; /* --cgroup-root relative to it ("" = the root) */
};

struct cg_limits {
	int64_t cpu_quota_us; /* per 100 ms period; 0 = none */
	int64_t cpu_shares;   /* 0 = leave the default */
	int64_t mem_bytes;    /* 0 = none */
	int64_t pids_max;     /* 0 = none */
};

int cg_detect(const char *cgroup_root, struct cgmode *m);
/* rel is relative to --cgroup-root, e.g. "podtrace/pod<uid>/app". */
int cg_create(const struct cgmode *m, const char *rel, const struct cg_limits *l);
int cg_remove(const struct cgmode *m, const char *rel);
void cg_remove_empty(const struct cgmode *m, const char *rel);
/* Directory of a controller ("" = the cgroup2 one) for rel. */
void cg_dir(const struct cgmode *m, const char *ctrl, const char *rel, char *buf, size_t len);
/* Move pid into rel in every hierarchy (used by the container's child). */
int cg_enter(const struct cgmode *m, const char *rel, pid_t pid);
/* Signal every process in rel (recursively); returns how many. */
int cg_signal(const struct cgmode *m, const char *rel, int sig);
bool cg_empty(const struct cgmode *m, const char *rel);
uint64_t cg_id(const struct cgmode *m, const char *rel);
/* OOM kills recorded for rel (v2 memory.events, v1 memory.oom_control). */
uint64_t cg_oom_kills(const struct cgmode *m, const char *rel);
/* CPU time in microseconds (cgroup2 cpu.stat usage_usec). */
uint64_t cg_cpu_usec(const struct cgmode *m, const char *rel);
uint64_t cg_mem_working_set(const struct cgmode *m, const char *rel);

/* Network: netns "pt-<id>", host veth, /32 address, routes. */
struct podnet {
	char netns[32];
	char veth[16];
	struct ipaddr ip;
};
int net_setup(struct podnet *n);
void net_teardown(const struct podnet *n);
bool net_exists(const struct podnet *n);
/* Host side: forwarding on; what the CNI plugin's host side does. */
int net_host_init(void);

#endif
