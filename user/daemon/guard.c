// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dataplane.h"
#include "guard.h"
#include "guard.skel.h"
#include "fsutil.h"
#include "log.h"

/* Link pin names, in the order they are attached. */
static const char *const link_names[] = {"egress", "ingress", "dev", "sockops"};
#define NLINKS (sizeof(link_names) / sizeof(link_names[0]))

static struct bpf_program *link_prog(struct guard *g, unsigned int i)
{
	switch (i) {
	case 0:
		return g->skel->progs.guard_egress;
	case 1:
		return g->skel->progs.guard_ingress;
	case 2:
		return g->skel->progs.guard_dev;
	default:
		return g->skel->progs.guard_sockops;
	}
}

uint64_t guard_burst_bytes(uint64_t rate_bps)
{
	uint64_t Bps = rate_bps / 8, b;

	if (Bps > (1ull << 34)) /* the BPF side's ceiling too */
		Bps = 1ull << 34;
	b = Bps * GUARD_BURST_MS / 1000;
	return b > GUARD_MIN_BURST ? b : GUARD_MIN_BURST;
}

/* Only the guard maps are created/reused by this object: the other planes'
 * maps it also declares (maps.bpf.h) are not its business, and may be pinned
 * with other sizes (the LB's are set from the daemon's flags). */
static bool guard_map(const struct bpf_map *m)
{
	const char *n = bpf_map__name(m);

	return !strcmp(n, "pt_cgroup") || !strcmp(n, "pt_bw") || !strcmp(n, "pt_pod_stats");
}

int guard_open(struct guard *g, const char *bpffs)
{
	char maps[512];
	struct bpf_map *m;
	int err;

	memset(g, 0, sizeof(*g));
	g->cgroup_fd = g->bw_fd = g->stats_fd = -1;
	if (snprintf(g->bpffs, sizeof(g->bpffs), "%s", bpffs) >= (int)sizeof(g->bpffs))
		return -ENAMETOOLONG;
	g->ncpu = libbpf_num_possible_cpus();
	if (g->ncpu <= 0)
		return g->ncpu ? g->ncpu : -EINVAL;
	dp_pin_path(bpffs, "maps", NULL, maps, sizeof(maps));
	err = mkdir_p(maps, 0700);
	if (err) {
		log_err("guard: create %s: %s", maps, strerror(-err));
		return err;
	}

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = maps);
	g->skel = guard_bpf__open_opts(&oo);
	if (!g->skel) {
		err = -errno;
		log_err("guard: open BPF object: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(m, g->skel->obj)
	{
		if (!bpf_map__is_internal(m) && !guard_map(m))
			bpf_map__set_autocreate(m, false);
	}
	err = guard_bpf__load(g->skel);
	if (err) {
		log_err("guard: load BPF programs: %s", strerror(-err));
		guard_close(g);
		return err;
	}
	g->cgroup_fd = bpf_map__fd(g->skel->maps.pt_cgroup);
	g->bw_fd = bpf_map__fd(g->skel->maps.pt_bw);
	g->stats_fd = bpf_map__fd(g->skel->maps.pt_pod_stats);
	return 0;
}

void guard_close(struct guard *g)
{
	guard_bpf__destroy(g->skel); /* links and maps stay pinned */
	g->skel = NULL;
	g->cgroup_fd = g->bw_fd = g->stats_fd = -1;
}

/* Pin paths: <bpffs>/links/pods/<pod_key>[/<link>]. */
#define PIN_MAX 1024

static int pod_dir(struct guard *g, const char *pod_key, char *buf, size_t len)
{
	char rel[300];

	if (!pod_key || !*pod_key || strchr(pod_key, '/') || !strcmp(pod_key, ".") ||
	    !strcmp(pod_key, "..") || strlen(pod_key) > 255)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "links/pods/%s", pod_key);
	dp_pin_path(g->bpffs, rel, NULL, buf, len);
	return 0;
}

/* Unpin the link at path and detach it, even if someone else still holds
 * it open. 0, or a negative errno (a missing pin is not an error). */
static int drop_link(const char *path)
{
	struct bpf_link *link;
	int err;

	if (access(path, F_OK))
		return 0;
	link = bpf_link__open(path);
	if (!link) /* not a link: drop the file */
		return unlink(path) ? -errno : 0;
	/* A link on a removed cgroup is already defunct: ignore the error. */
	bpf_link__detach(link);
	err = bpf_link__unpin(link);
	bpf_link__destroy(link);
	return err;
}

/* Adopt the link pinned at path (an earlier daemon's) if it is a cgroup link
 * on cgroup want_cg: swap prog in, no gap and no second attachment.
 * 1 = adopted; 0 = nothing usable there (a stale pin is dropped). */
static int adopt_link(const char *path, struct bpf_program *prog, uint64_t want_cg)
{
	struct bpf_link_info info = {};
	uint32_t len = sizeof(info);
	struct bpf_link *link;
	int err = -ENOENT;

	if (access(path, F_OK))
		return 0;
	link = bpf_link__open(path);
	if (link && !bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) &&
	    info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == want_cg)
		err = bpf_link__update_program(link, prog);
	bpf_link__destroy(link); /* the pin keeps it */
	if (!err)
		return 1;
	log_warn("guard: link %s is stale, for another cgroup or not "
		 "updatable: re-attaching",
		 path);
	drop_link(path);
	return 0;
}

int guard_attach_pod(struct guard *g, const char *pod_key, int pod_cgroup_fd)
{
	bool created[NLINKS] = {false};
	char dir[PIN_MAX], path[PIN_MAX + 16];
	struct stat st;
	unsigned int i;
	int err;

	if (!g->skel)
		return -EINVAL;
	err = pod_dir(g, pod_key, dir, sizeof(dir));
	if (err)
		return err;
	if (fstat(pod_cgroup_fd, &st))
		return -errno;
	err = mkdir_p(dir, 0700);
	if (err) {
		log_err("guard: create %s: %s", dir, strerror(-err));
		return err;
	}
	for (i = 0; i < NLINKS; i++) {
		struct bpf_program *prog = link_prog(g, i);
		struct bpf_link *link;

		snprintf(path, sizeof(path), "%s/%s", dir, link_names[i]);
		if (adopt_link(path, prog, (uint64_t)st.st_ino))
			continue;
		/* a bpf_link: multi-attach, other programs are not replaced */
		link = bpf_program__attach_cgroup(prog, pod_cgroup_fd);
		if (!link) {
			err = -errno;
			log_err("guard: attach %s for pod %s: %s", link_names[i], pod_key,
				strerror(-err));
			goto undo;
		}
		err = bpf_link__pin(link, path);
		bpf_link__destroy(link); /* the pin keeps it, or it goes */
		if (err) {
			log_err("guard: pin %s: %s", path, strerror(-err));
			goto undo;
		}
		created[i] = true;
	}
	return 0;
undo:
	/* Links made by this call go; adopted ones stay as they were. */
	for (i = 0; i < NLINKS; i++) {
		if (!created[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, link_names[i]);
		drop_link(path);
	}
	rmdir(dir); /* only if empty */
	return err;
}

int guard_detach_pod(struct guard *g, const char *pod_key)
{
	char dir[PIN_MAX], path[PIN_MAX + 16];
	int err, ret;

	ret = pod_dir(g, pod_key, dir, sizeof(dir));
	if (ret)
		return ret;
	for (unsigned int i = 0; i < NLINKS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, link_names[i]);
		err = drop_link(path);
		if (err && !ret)
			ret = err;
	}
	if (rmdir(dir) && errno != ENOENT && !ret)
		ret = -errno;
	return ret;
}

int guard_set_cgroup(struct guard *g, uint64_t cgid, const struct pt_cgroup_val *v)
{
	if (!v || v->pod_id >= PT_MAX_PODS || !cgid)
		return -EINVAL;
	return bpf_map_update_elem(g->cgroup_fd, &cgid, v, BPF_ANY) ? -errno : 0;
}

int guard_del_cgroup(struct guard *g, uint64_t cgid)
{
	if (bpf_map_delete_elem(g->cgroup_fd, &cgid))
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int guard_set_bw(struct guard *g, uint32_t pod_id, uint64_t egress_bps, uint64_t ingress_bps)
{
	const uint64_t rate[2] = {[PT_EGRESS] = egress_bps, [PT_INGRESS] = ingress_bps};

	if (pod_id >= PT_MAX_PODS)
		return -EINVAL;
	for (int dir = PT_EGRESS; dir <= PT_INGRESS; dir++) {
		uint32_t key = pod_id * 2 + (uint32_t)dir;
		struct pt_bw b = {
		    .rate_bps = rate[dir],
		    .burst_bytes = rate[dir] ? guard_burst_bytes(rate[dir]) : 0,
		    .last_ns = mono_ns(),
		};

		b.credit = (int64_t)(b.burst_bytes / 2);
		/* BPF_F_LOCK: written under the bucket's spin lock. */
		if (bpf_map_update_elem(g->bw_fd, &key, &b, BPF_F_LOCK))
			return -errno;
	}
	return 0;
}

_Static_assert(sizeof(struct pt_pod_stats) % 8 == 0,
	       "per-CPU values are laid out at 8-byte strides");

int guard_pod_stats(struct guard *g, uint32_t pod_id, struct pt_pod_stats *sum)
{
	struct pt_pod_stats *v;
	uint64_t *s = (uint64_t *)sum;
	const size_t n = sizeof(*sum) / sizeof(uint64_t);

	memset(sum, 0, sizeof(*sum));
	if (pod_id >= PT_MAX_PODS)
		return -EINVAL;
	v = calloc((size_t)g->ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(g->stats_fd, &pod_id, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	for (int c = 0; c < g->ncpu; c++) {
		const uint64_t *p = (const uint64_t *)&v[c];

		for (size_t i = 0; i < n; i++)
			s[i] += p[i];
	}
	free(v);
	return 0;
}

int guard_reset_stats(struct guard *g, uint32_t pod_id)
{
	struct pt_pod_stats *v;
	int err = 0;

	if (pod_id >= PT_MAX_PODS)
		return -EINVAL;
	v = calloc((size_t)g->ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(g->stats_fd, &pod_id, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}
