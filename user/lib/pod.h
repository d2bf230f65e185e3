/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * v1 Pod: validation, the typed view the runtime works from, Kubernetes
 * quantities and the QoS class.
 */
#ifndef PT_POD_H
#define PT_POD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "k8s.h"

#define POD_MAX_CTRS 16

/* Kubernetes resource quantities. cpu in millicores, memory in bytes,
 * bandwidth (annotations) in bits per second. -1 on a parse error. */
int64_t qty_milli(const char *s);
int64_t qty_bytes(const char *s);

enum probe_type { PROBE_NONE, PROBE_EXEC, PROBE_TCP, PROBE_HTTP };

struct probe {
	enum probe_type type;
	json_t *command; /* exec */
	uint16_t port;	 /* tcpSocket / httpGet (resolved from a name) */
	const char *path, *host;
	int initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
};

struct container {
	const char *name, *image, *workdir;
	json_t *command, *args, *env, *ports, *mounts;
	int64_t cpu_req_m, cpu_lim_m, mem_req, mem_lim; /* 0 = unset */
	json_t *post_start, *pre_stop;			/* exec command arrays, or NULL */
	struct probe readiness, liveness, startup;
};

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
enum qos_class { QOS_BEST_EFFORT, QOS_BURSTABLE, QOS_GUARANTEED };

struct pod {
	const char *ns, *name, *uid;
	json_t *labels;
	struct container init[POD_MAX_CTRS], ctr[POD_MAX_CTRS];
	int n_init, n_ctr;
	enum restart_policy restart;
	int64_t grace_s;
	uint64_t egress_bps, ingress_bps; /* 0 = unlimited */
	json_t *volumes;
};

/* Pod-specific checks, called from k8s_validate. */
void pod_validate(json_t *obj, struct errs *e);
int pod_view(json_t *obj, struct pod *p);
enum qos_class pod_qos(const struct pod *p);
const char *qos_name(enum qos_class q);
/* Does the label selector (a map) match these labels? */
bool selector_matches(json_t *selector, json_t *labels);

#endif
