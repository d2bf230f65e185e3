// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Glue between the runtime and the guard plane (guard.c): a pod's cgroups
 * become known to BPF (pt_cgroup), get the bandwidth and device programs,
 * and the pod gets its bandwidth budget. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "daemon.h"
#include "guard.h"
#include "log.h"
#include "pod.h"
#include "sandbox.h"

static struct guard g;
static bool ok;

int podguard_init(struct daemon *d)
{
	int err = guard_open(&g, d->o.bpffs);

	if (err) {
		log_err("guard plane: %s", strerror(-err));
		return -1;
	}
	ok = true;
	return 0;
}

static void ctr_rel(const char *cg, const struct pod *v, int i, char *buf, size_t len)
{
	const char *name = i < v->n_init ? v->init[i].name : v->ctr[i - v->n_init].name;

	snprintf(buf, len, "%s/%s", cg, name);
}

void guard_pod_added(struct daemon *d, const char *uid, uint32_t pod_id, const struct cgmode *m,
		     const char *cg, int n_c, const struct pod *view)
{
	struct pt_cgroup_val v = {.pod_id = pod_id, .flags = PT_CG_POD};
	char dir[768], rel[300];
	int fd, err;

	(void)d;
	events_cgroup_add(cg_id(m, cg), view->ns, view->name, uid, NULL);
	for (int i = 0; i < n_c; i++) {
		ctr_rel(cg, view, i, rel, sizeof(rel));
		events_cgroup_add(cg_id(m, rel), view->ns, view->name, uid, strrchr(rel, '/') + 1);
	}
	if (!ok)
		return;
	guard_set_cgroup(&g, cg_id(m, cg), &v);
	for (int i = 0; i < n_c; i++) {
		struct pt_cgroup_val cv = {
		    .pod_id = pod_id, .ctr_index = (uint16_t)i, .flags = PT_CG_CONTAINER};
		ctr_rel(cg, view, i, rel, sizeof(rel));
		guard_set_cgroup(&g, cg_id(m, rel), &cv);
	}
	guard_set_bw(&g, pod_id, view->egress_bps, view->ingress_bps);
	cg_dir(m, NULL, cg, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -1 : guard_attach_pod(&g, uid, fd);
	if (err)
		log_err("guard: attach to %s failed: %s", dir, strerror(err < 0 ? -err : 0));
	if (fd >= 0)
		close(fd);
}

void guard_pod_removed(struct daemon *d, const char *uid, uint32_t pod_id, const struct cgmode *m,
		       const char *cg, int n_c, const struct pod *view)
{
	char rel[300];

	(void)d;
	events_cgroup_del(cg_id(m, cg));
	for (int i = 0; i < n_c; i++) {
		ctr_rel(cg, view, i, rel, sizeof(rel));
		events_cgroup_del(cg_id(m, rel));
	}
	if (!ok)
		return;
	guard_detach_pod(&g, uid);
	guard_del_cgroup(&g, cg_id(m, cg));
	for (int i = 0; i < n_c; i++) {
		ctr_rel(cg, view, i, rel, sizeof(rel));
		guard_del_cgroup(&g, cg_id(m, rel));
	}
	guard_set_bw(&g, pod_id, 0, 0);
	guard_reset_stats(&g, pod_id);
}

int podguard_stats(uint32_t pod_id, struct pt_pod_stats *s)
{
	return ok ? guard_pod_stats(&g, pod_id, s) : -1;
}

int podguard_stats_fd(void)
{
	return ok ? g.stats_fd : -1;
}

/* A cgroup of a pod podtrace did not create (kubelet's): traced and
 * counted like ours. */
void podguard_register(struct daemon *d, uint64_t cgid, uint32_t pod_id, bool is_pod)
{
	struct pt_cgroup_val v = {.pod_id = pod_id, .flags = is_pod ? PT_CG_POD : PT_CG_CONTAINER};

	(void)d;
	if (ok)
		guard_set_cgroup(&g, cgid, &v);
}
