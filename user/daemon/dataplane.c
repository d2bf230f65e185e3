// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dataplane.h"
#include "lb.skel.h"
#include "fsutil.h"
#include "log.h"

void dp_pin_path(const char *bpffs, const char *dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s%s", bpffs, dir, name ? "/" : "", name ? name : "");
}

/* The pin root must live on a bpffs: mount one at /sys/fs/bpf if the
 * system has none (containers, minimal hosts). */
static int ensure_bpffs(const char *root)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type != BPF_FS_MAGIC &&
	    !strncmp(root, "/sys/fs/bpf/", 12)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			log_err("mount bpffs on /sys/fs/bpf: %s", strerror(errno));
			return -1;
		}
		log_info("mounted bpffs on /sys/fs/bpf");
	}
	if (mkdir_p(root, 0700)) {
		log_err("create %s: %s", root, strerror(errno));
		return -1;
	}
	if (statfs(root, &st) || st.f_type != BPF_FS_MAGIC) {
		log_err("%s is not on a bpffs (mount -t bpf bpf DIR)", root);
		return -1;
	}
	return 0;
}

static void set_sizes(struct lb_bpf *s, const struct dp_opts *o)
{
	bpf_map__set_max_entries(s->maps.pt_frontend, o->max_frontends);
	bpf_map__set_max_entries(s->maps.pt_svc, o->max_services);
	bpf_map__set_max_entries(s->maps.pt_svc_stats, o->max_services);
	bpf_map__set_max_entries(s->maps.pt_slot, o->max_backends);
	bpf_map__set_max_entries(s->maps.pt_backend, o->max_backends);
	bpf_map__set_max_entries(s->maps.pt_be_stats, o->max_backends);
	bpf_map__set_max_entries(s->maps.pt_affinity, o->max_affinity);
}

static uint64_t path_cgroup_id(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/* Attach prog to the cgroup through a pinned bpf_link. A link pinned by an
 * earlier daemon is kept and its program swapped in place, so the dataplane
 * never has a gap across a restart or an upgrade. */
static int attach_pinned(struct dataplane *dp, struct bpf_program *prog, const char *cgroup_root)
{
	char path[512];
	struct bpf_link *link;
	const char *name = bpf_program__name(prog);
	uint64_t want_cg = path_cgroup_id(cgroup_root);

	dp_pin_path(dp->bpffs, "links", name, path, sizeof(path));
	link = access(path, F_OK) ? NULL : bpf_link__open(path);
	if (link) {
		struct bpf_link_info info = {};
		uint32_t len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) &&
		    info.cgroup.cgroup_id == want_cg && !bpf_link__update_program(link, prog)) {
			bpf_link__destroy(link); /* the pin keeps it */
			return 0;
		}
		log_warn("link %s is stale or for another cgroup: re-attaching", path);
		bpf_link__unpin(link);
		bpf_link__destroy(link);
	}
	link = bpf_program__attach_cgroup(prog, dp->cg_fd);
	if (!link) {
		log_err("attach %s to %s: %s", name, cgroup_root, strerror(errno));
		return -1;
	}
	if (bpf_link__pin(link, path)) {
		log_err("pin %s: %s", path, strerror(errno));
		bpf_link__destroy(link);
		return -1;
	}
	bpf_link__destroy(link);
	return 0;
}

static int write_config(struct dataplane *dp, const struct dp_opts *o)
{
	struct pt_config c = {
	    .flags = o->connect_events ? PT_CFG_CONNECT_EVENTS : 0,
	    .nodeport_min = o->np_min,
	    .nodeport_max = o->np_max,
	};
	uint32_t zero = 0;

	return bpf_map_update_elem(dp->config_fd, &zero, &c, BPF_ANY);
}

/* libbpf's messages go through our log, warnings and above only. */
static int libbpf_log(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char buf[1024];

	if (lvl == LIBBPF_DEBUG && log_level < LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	if (lvl == LIBBPF_WARN)
		log_warn("libbpf: %s", buf);
	else
		log_debug("libbpf: %s", buf);
	return 0;
}

int dp_open(struct dataplane *dp, const struct dp_opts *o)
{
	char maps[512], links[512];
	struct bpf_program *prog;
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->cg_fd = -1;
	libbpf_set_print(libbpf_log);
	snprintf(dp->bpffs, sizeof(dp->bpffs), "%s", o->bpffs);
	dp->ncpu = libbpf_num_possible_cpus();
	if (ensure_bpffs(o->bpffs))
		return -1;
	dp_pin_path(o->bpffs, "maps", NULL, maps, sizeof(maps));
	dp_pin_path(o->bpffs, "links", NULL, links, sizeof(links));
	if (mkdir_p(maps, 0700) || mkdir_p(links, 0700))
		return -1;

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = maps);
	dp->lb = lb_bpf__open_opts(&oo);
	if (!dp->lb) {
		log_err("open BPF object: %s", strerror(errno));
		return -1;
	}
	set_sizes(dp->lb, o);
	err = lb_bpf__load(dp->lb);
	if (err) {
		log_err("load BPF programs: %s (a pinned map with other sizes? "
			"remove %s to start fresh)",
			strerror(-err), o->bpffs);
		goto fail;
	}
	dp->cg_fd = open(o->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->cg_fd < 0) {
		log_err("open cgroup %s: %s", o->cgroup_root, strerror(errno));
		goto fail;
	}
	bpf_object__for_each_program (prog, dp->lb->obj) {
		if (attach_pinned(dp, prog, o->cgroup_root))
			goto fail;
	}
	dp->map_fd[LBM_FRONTEND] = bpf_map__fd(dp->lb->maps.pt_frontend);
	dp->map_fd[LBM_SVC] = bpf_map__fd(dp->lb->maps.pt_svc);
	dp->map_fd[LBM_SLOT] = bpf_map__fd(dp->lb->maps.pt_slot);
	dp->map_fd[LBM_BACKEND] = bpf_map__fd(dp->lb->maps.pt_backend);
	dp->map_fd[LBM_SVC_STATS] = bpf_map__fd(dp->lb->maps.pt_svc_stats);
	dp->map_fd[LBM_BE_STATS] = bpf_map__fd(dp->lb->maps.pt_be_stats);
	dp->node_addr_fd = bpf_map__fd(dp->lb->maps.pt_node_addr);
	dp->config_fd = bpf_map__fd(dp->lb->maps.pt_config);
	if (write_config(dp, o))
		goto fail;
	log_info("dataplane: programs attached to %s, pinned under %s", o->cgroup_root, o->bpffs);
	return 0;
fail:
	dp_close(dp);
	return -1;
}

static int wq_flush(struct dataplane *dp);

void dp_close(struct dataplane *dp)
{
	if (dp->wq.n && dp->lb)
		wq_flush(dp);
	free(dp->wq.keys);
	free(dp->wq.vals);
	memset(&dp->wq, 0, sizeof(dp->wq));
	if (dp->cg_fd >= 0)
		close(dp->cg_fd);
	dp->cg_fd = -1;
	lb_bpf__destroy(dp->lb); /* links and maps stay pinned */
	dp->lb = NULL;
}

/* ---- lb_ops over the real maps ---- */
static size_t val_size(struct dataplane *dp, enum lb_map m)
{
	switch (m) {
	case LBM_FRONTEND:
		return sizeof(struct pt_frontend_val);
	case LBM_SVC:
		return sizeof(struct pt_svc);
	case LBM_SLOT:
		return sizeof(struct pt_slot_val);
	case LBM_BACKEND:
		return sizeof(struct pt_backend);
	case LBM_SVC_STATS:
		return sizeof(struct pt_svc_stats) * (size_t)dp->ncpu;
	case LBM_BE_STATS:
		return sizeof(struct pt_be_stats) * (size_t)dp->ncpu;
	default:
		return 0;
	}
}

#define WQ_MAX 4096 /* entries per batch call */

/* Send the queued segment to the kernel. The kernel applies a batch element
 * by element, in order, so the dataplane sees the same sequence of states as
 * with one syscall per entry (the write order in lb.c still holds). */
static int wq_flush(struct dataplane *dp)
{
	struct dp_wq *q = &dp->wq;
	size_t ks = lb_key_size(q->m), vs = val_size(dp, q->m);
	uint32_t done = 0;
	int err = 0;

	while (done < q->n) {
		uint32_t cnt = q->n - done;
		int rc;

		if (q->del) {
			rc =
			    bpf_map_delete_batch(dp->map_fd[q->m], q->keys + done * ks, &cnt, NULL);
			if (rc && errno == ENOENT) {
				done += cnt + 1; /* already gone: as a single delete, fine */
				continue;
			}
		} else {
			rc = bpf_map_update_batch(dp->map_fd[q->m], q->keys + done * ks,
						  q->vals + done * vs, &cnt, NULL);
		}
		if (rc) {
			err = -errno;
			log_err("lb: map %d batch %s failed at entry %u of %u: %s", q->m,
				q->del ? "delete" : "update", done + cnt, q->n, strerror(errno));
			break;
		}
		done += cnt;
	}
	q->n = 0;
	return err;
}

static int ops_flush(void *ctx)
{
	struct dataplane *dp = ctx;

	return dp->wq.n ? wq_flush(dp) : 0;
}

/* Queue one write; the segment is flushed when the map or the kind of
 * write changes, when it is full, and by lb_sync when it is done. */
static int wq_add(struct dataplane *dp, enum lb_map m, bool del, const void *k, const void *v)
{
	struct dp_wq *q = &dp->wq;
	size_t ks = lb_key_size(m), vs = val_size(dp, m);
	int err = 0;

	if (q->n && (q->m != m || q->del != del || q->n == WQ_MAX))
		err = wq_flush(dp);
	if (!q->keys) {
		q->keys = malloc(WQ_MAX * sizeof(struct pt_frontend_key));
		q->vals = malloc(WQ_MAX * (size_t)dp->ncpu * 64);
		if (!q->keys || !q->vals)
			return -ENOMEM;
	}
	q->m = m;
	q->del = del;
	memcpy(q->keys + q->n * ks, k, ks);
	if (!del) {
		if (v)
			memcpy(q->vals + q->n * vs, v, vs);
		else
			memset(q->vals + q->n * vs, 0, vs); /* reset: arrays, per-CPU stats */
	}
	q->n++;
	return err;
}

static int ops_update(void *ctx, enum lb_map m, const void *k, const void *v)
{
	return wq_add(ctx, m, false, k, v);
}

static int ops_del(void *ctx, enum lb_map m, const void *k)
{
	return wq_add(ctx, m, true, k, NULL);
}

static int ops_walk(void *ctx, enum lb_map m,
		    void (*cb)(void *arg, const void *key, const void *val), void *arg)
{
	struct dataplane *dp = ctx;
	char key[64], next[64], val[256];
	void *prev = NULL;

	ops_flush(dp);
	while (!bpf_map_get_next_key(dp->map_fd[m], prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		if (!bpf_map_lookup_elem(dp->map_fd[m], key, val))
			cb(arg, key, val);
	}
	return errno == ENOENT ? 0 : -1;
}

struct lb_ops dp_lb_ops(struct dataplane *dp)
{
	return (struct lb_ops){
	    .ctx = dp,
	    .update = ops_update,
	    .del = ops_del,
	    .walk = ops_walk,
	    .flush = ops_flush,
	};
}

int dp_percpu_sum(struct dataplane *dp, enum lb_map m, uint32_t key, uint64_t *out, int n)
{
	size_t per = (size_t)n * sizeof(uint64_t);
	uint64_t *vals = calloc((size_t)dp->ncpu, per);

	memset(out, 0, per);
	if (!vals || bpf_map_lookup_elem(dp->map_fd[m], &key, vals)) {
		free(vals);
		return -1;
	}
	for (int c = 0; c < dp->ncpu; c++)
		for (int i = 0; i < n; i++)
			out[i] += vals[c * n + i];
	free(vals);
	return 0;
}

int dp_progs(struct dataplane *dp, struct dp_prog_info *out, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program (prog, dp->lb->obj) {
		struct bpf_prog_info pi = {};
		struct bpf_link_info li = {};
		uint32_t len = sizeof(pi), llen = sizeof(li);
		char path[512];
		int fd;

		if (n >= max)
			break;
		snprintf(out[n].name, sizeof(out[n].name), "%s", bpf_program__name(prog));
		out[n].id = out[n].link_id = 0;
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &pi, &len))
			out[n].id = pi.id;
		dp_pin_path(dp->bpffs, "links", bpf_program__name(prog), path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			if (!bpf_obj_get_info_by_fd(fd, &li, &llen))
				out[n].link_id = li.id;
			close(fd);
		}
		n++;
	}
	return n;
}
