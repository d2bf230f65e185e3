// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Glue between the runtime and the guard plane (guard.c): a pod's cgroups
 * become known to BPF (pt_cgroup), get the bandwidth and device programs,
 * and its bandwidth budget. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "pod.h"
#include "sandbox.h"

void guard_pod_added(struct daemon *d, const char *uid, uint32_t pod_id,
		     const struct cgmode *m, const char *cg, int n_c,
		     const struct pod *view)
{
	(void)d, (void)uid, (void)pod_id, (void)m, (void)cg, (void)n_c, (void)view;
}

void guard_pod_removed(struct daemon *d, const char *uid, uint32_t pod_id,
		       const struct cgmode *m, const char *cg, int n_c)
{
	(void)d, (void)uid, (void)pod_id, (void)m, (void)cg, (void)n_c;
}

int podguard_init(struct daemon *d)
{
	(void)d;
	return 0;
}
