/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The built-in pod runtime: sandboxes, containers run through a small shim
 * (so they outlive the daemon), hooks, probes, restart policy with
 * CrashLoopBackOff, graceful stop, and PodStatus.
 */
#ifndef PT_RUNTIME_H
#define PT_RUNTIME_H

#include <jansson.h>

struct daemon;

int runtime_init(struct daemon *d);
/* Re-adopt the pods of a previous daemon (after the store is loaded). */
void runtime_restore(struct daemon *d);
/* A Pod was stored (new) or updated (prev != NULL). */
int runtime_apply(struct daemon *d, json_t *pod, json_t *prev, char *err, size_t len);
/* Graceful stop; the Pod leaves the store when it is gone. */
int runtime_delete(struct daemon *d, const char *ns, const char *name, char *err, size_t len);
/* PodStatus of a stored Pod (new reference). */
json_t *runtime_status(struct daemon *d, json_t *pod);
/* For `exec` and `logs`: netns path, cgroup dirs, log file of a container. */
json_t *runtime_container_info(struct daemon *d, const char *ns, const char *name, const char *ctr,
			       char *err, size_t len);
/* Does the pod with this key exist in the runtime and is it Ready? */
int runtime_pod_ready(struct daemon *d, json_t *pod, int *terminating);
const char *runtime_pod_ip(struct daemon *d, json_t *pod);
/* [{namespace, pod, podId, cpuSeconds, memoryWorkingSet, containers:[...]}] */
json_t *runtime_metrics(struct daemon *d);
/* A pod id (index of the per-pod BPF arrays) for a pod we did not create. */
int runtime_pod_id_alloc(uint32_t *id);
/* The lifecycle stages of a pod: {namespace, pod, stages:[...]} */
json_t *runtime_timeline(struct daemon *d, const char *ns, const char *name, char *err, size_t len);

#endif
