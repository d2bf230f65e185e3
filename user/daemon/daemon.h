/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The daemon's state, shared by its parts (one event loop, no threads). */
#ifndef PT_DAEMON_H
#define PT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "dataplane.h"
#include "hmap.h"
#include "idpool.h"
#include "k8s.h"
#include "lb.h"
#include "store.h"

struct opts {
	const char *manifests, *state_dir, *socket, *bpffs, *cgroup_root;
	const char *service_cidr[2];
	int n_service_cidr;
	uint16_t np_min, np_max;
	uint32_t max_frontends, max_services, max_backends, max_affinity;
	bool connect_events;
	const char *pod_cidr;
	int64_t pod_pids_limit;	    /* 0 = none */
	double backoff_base;	    /* seconds; kubelet's is 10 */
	int64_t log_max_bytes;	    /* per container log file */
	bool trace;		    /* the trace plane (default on) */
	const char *metrics_listen; /* "127.0.0.1:9469"; "" = off */
};

/* ClusterIP and NodePort allocation, as the API server does it. */
struct alloc {
	struct cidr cidr[2];
	struct idpool ip[2];
	int n;
	struct idpool ports;
	uint16_t np_min;
	struct hmap owner; /* "ip:10.96.0.10" / "port:30080" -> owner */
};

struct daemon;

/* One entry of the event loop: fd readiness calls fn. */
struct watch {
	int fd;
	void (*fn)(struct daemon *d, struct watch *w, uint32_t events);
};

struct daemon {
	struct opts o;
	int epfd;
	struct dataplane dp;
	struct lb lb;
	struct store store;
	struct alloc alloc;
	struct k8s_ctx kctx;
	json_t *lb_errors; /* "ns/name" -> last programming error */
	struct timespec started;
	char node_ip[64];
	bool stop, ready;
};

struct cgmode;
struct pod;

/* alloc.c */
int alloc_init(struct alloc *a, const struct k8s_ctx *ctx);
struct svc_alloc alloc_ops(struct alloc *a);
/* Claim/release everything a stored Service holds. */
void alloc_claim_svc(struct alloc *a, json_t *svc);
void alloc_release_svc(struct alloc *a, json_t *svc);

/* objects.c: apply/delete documents; results are kubectl-like lines */
json_t *d_apply(struct daemon *d, const char *source, const char *buf, size_t len, bool del);
/* The same results as JSON text "[...]" (malloc'd): a big apply's reply
 * never becomes a tree. */
char *d_apply_text(struct daemon *d, const char *source, const char *buf, size_t len, bool del);
/* d_apply_text over a read-only file mapping: pages already decoded are
 * dropped from memory as it goes. */
char *d_apply_mapped(struct daemon *d, const char *source, const char *map, size_t len, bool del);
int d_delete(struct daemon *d, enum k8s_kind k, const char *ns, const char *name, char *err,
	     size_t errlen);
/* Reprogram a Service's LB state from the store. */
int d_sync_service(struct daemon *d, const char *ns, const char *name, char *err, size_t errlen);
void d_restore(struct daemon *d);

/* endpoints.c: the endpoints controller */
void endpoints_sync_service(struct daemon *d, json_t *svc);
void endpoints_pod_changed(struct daemon *d, json_t *pod);

/* podguard.c: a pod's cgroups in the guard and trace planes */
int podguard_init(struct daemon *d);
void guard_pod_added(struct daemon *d, const char *uid, uint32_t pod_id, const struct cgmode *m,
		     const char *cg, int n_c, const struct pod *view);
void guard_pod_removed(struct daemon *d, const char *uid, uint32_t pod_id, const struct cgmode *m,
		       const char *cg, int n_c, const struct pod *view);
struct pt_pod_stats;
int podguard_stats(uint32_t pod_id, struct pt_pod_stats *s);
int podguard_stats_fd(void);
void podguard_register(struct daemon *d, uint64_t cgid, uint32_t pod_id, bool is_pod);

/* kubelet.c: pods kubelet/containerd made */
void kubelet_scan(struct daemon *d);
void kubelet_mkdir(struct daemon *d, const char *path);

/* events.c: the event stream */
int events_init(struct daemon *d);
void events_cgroup_add(uint64_t cgid, const char *ns, const char *pod, const char *uid,
		       const char *ctr);
void events_cgroup_del(uint64_t cgid);
void events_emit(const char *type, const char *ns, const char *pod, const char *ctr,
		 json_t *fields);
void events_subscribe(int fd, uint64_t since_ns, bool follow, bool history);
uint64_t events_now_ns(void);
json_t *events_stats(void);
int events_watch_root(uint64_t cgid);
uint64_t events_execs(uint64_t cgid);
bool events_tracing(void);
uint64_t events_lost_kernel(void);
void events_counts(uint64_t *received, uint64_t *lost_history, uint64_t *by_type, int n);
/* runtime.c: kernel records that mark lifecycle stages */
void runtime_kernel_event(struct daemon *d, const void *rec, size_t len);

/* metrics.c: /metrics, /healthz, /readyz (libmicrohttpd in the loop) */
enum metric_hist { M_RECONCILE, M_ENDPOINT_LATENCY, M_POD_STARTUP, M__N };
int metrics_init(struct daemon *d);
void metrics_observe(enum metric_hist h, double seconds);
/* The same numbers for `podtrace top`. */
json_t *metrics_top(struct daemon *d);

/* manifests.c */
int manifests_init(struct daemon *d);
int manifests_fd(void);
void manifests_event(struct daemon *d);
void manifests_rescan(struct daemon *d);

/* nodeaddr.c */
int nodeaddr_init(struct daemon *d);
void nodeaddr_event(struct daemon *d, int fd);

/* main.c: the loop */
int loop_add(struct daemon *d, struct watch *w, uint32_t events);
int loop_mod(struct daemon *d, struct watch *w, uint32_t events);
void loop_del(struct daemon *d, struct watch *w);

/* control.c */
int control_init(struct daemon *d);
void control_fini(struct daemon *d);

#endif
