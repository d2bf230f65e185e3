// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "trace.h"
#include "trace.skel.h"
#include "fsutil.h"

/* Only the maps the trace programs use are created or reused: the others
 * that maps.bpf.h declares may be pinned with other sizes by the dataplane. */
static bool trace_map(const struct bpf_map *m)
{
	static const char *const used[] = {"pt_events", "pt_lost", "pt_cgroup", "pt_cg_roots",
					   "pt_exec_buf"};
	const char *n = bpf_map__name(m);

	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		if (!strcmp(n, used[i]))
			return true;
	return false;
}

/* The BTF prototype of a tracepoint (btf_trace_<name>): its number of
 * arguments (the first, void *data, not counted) and whether argument 1 is a
 * pointer; -1 if the tracepoint is unknown. */
static int tp_args(const struct btf *btf, const char *name, bool *arg1_ptr)
{
	char tn[128];
	const struct btf_type *t;
	const struct btf_param *p;
	int id;

	*arg1_ptr = false;
	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tn, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -1;
	p = btf_params(t);
	if (btf_vlen(t) >= 2) {
		const struct btf_type *a = btf__type_by_id(btf, p[1].type);

		while (a && (btf_is_mod(a) || btf_is_typedef(a)))
			a = btf__type_by_id(btf, a->type);
		*arg1_ptr = a && btf_is_ptr(a);
	}
	return btf_vlen(t) - 1;
}

/* Pick the programs this kernel's tracepoints fit. */
static int choose_progs(struct trace *t)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ptr;
	int n;

	if (!btf) {
		snprintf(t->err, sizeof(t->err), "no kernel BTF: %s", strerror(errno));
		return -errno;
	}
	/* sched_process_exit(p, group_dead) on newer kernels, (p) before. */
	n = tp_args(btf, "sched_process_exit", &ptr);
	bpf_program__set_autoload(t->skel->progs.trace_exit, n >= 2);
	bpf_program__set_autoload(t->skel->progs.trace_exit_leader, n < 2);
	/* mark_victim(task, uid) on newer kernels, mark_victim(pid) before:
	 * no OOM records there (the victim's cgroup cannot be read). */
	n = tp_args(btf, "mark_victim", &ptr);
	if (n < 1 || !ptr)
		bpf_program__set_autoload(t->skel->progs.trace_oom, false);
	btf__free(btf);
	return 0;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct trace *t = ctx;

	return t->cb ? t->cb(t->cb_ctx, data, len) : 0;
}

int trace_open(struct trace *t, const char *bpffs)
{
	char maps[512];
	struct bpf_map *m;
	struct statfs st;
	long psz = sysconf(_SC_PAGESIZE);
	int err, shift = 0;

	memset(t, 0, sizeof(*t));
	t->lost_fd = t->roots_fd = -1;
	t->ncpu = libbpf_num_possible_cpus();
	if (t->ncpu <= 0) {
		snprintf(t->err, sizeof(t->err), "cannot count CPUs");
		return t->ncpu ? t->ncpu : -EINVAL;
	}
	if (snprintf(maps, sizeof(maps), "%s/maps", bpffs) >= (int)sizeof(maps))
		return -ENAMETOOLONG;
	err = mkdir_p(maps, 0700);
	if (err) {
		snprintf(t->err, sizeof(t->err), "create %s: %s", maps, strerror(-err));
		return err;
	}
	if (statfs(maps, &st) || st.f_type != BPF_FS_MAGIC) {
		snprintf(t->err, sizeof(t->err), "%s is not on a bpffs", maps);
		return -EINVAL;
	}

	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = maps);
	t->skel = trace_bpf__open_opts(&oo);
	if (!t->skel) {
		err = -errno;
		snprintf(t->err, sizeof(t->err), "open BPF object: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(m, t->skel->obj)
	{
		if (!bpf_map__is_internal(m) && !trace_map(m))
			bpf_map__set_autocreate(m, false);
	}
	while (psz > 1 && (1l << shift) < psz)
		shift++;
	t->skel->rodata->page_shift = shift ? shift : 12;
	err = choose_progs(t);
	if (err)
		goto fail;
	err = trace_bpf__load(t->skel);
	if (err) {
		snprintf(t->err, sizeof(t->err),
			 "load BPF programs: %s (a pinned map with another "
			 "definition under %s?)",
			 strerror(-err), maps);
		goto fail;
	}
	err = trace_bpf__attach(t->skel);
	if (err) {
		snprintf(t->err, sizeof(t->err), "attach tracepoints: %s", strerror(-err));
		goto fail;
	}
	t->lost_fd = bpf_map__fd(t->skel->maps.pt_lost);
	t->roots_fd = bpf_map__fd(t->skel->maps.pt_cg_roots);
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.pt_events), on_sample, t, NULL);
	if (!t->rb) {
		err = -errno;
		snprintf(t->err, sizeof(t->err), "ring buffer: %s", strerror(-err));
		goto fail;
	}
	return 0;
fail:
	trace_close(t);
	return err;
}

static const char *const type_names[] = {
    [PT_EV_CONNECT] = "connect",
    [PT_EV_REJECT] = "reject",
    [PT_EV_EXEC] = "exec",
    [PT_EV_EXIT] = "exit",
    [PT_EV_FORK] = "fork",
    [PT_EV_OOM] = "oom",
    [PT_EV_SIGNAL] = "signal",
    [PT_EV_CGROUP_MKDIR] = "cgroup_mkdir",
    [PT_EV_CGROUP_RMDIR] = "cgroup_rmdir",
    [PT_EV_CGROUP_ATTACH] = "cgroup_attach",
};

const char *trace_event_name(unsigned t)
{
	return t < sizeof(type_names) / sizeof(type_names[0]) && type_names[t] ? type_names[t]
									       : "unknown";
}

int trace_fd(struct trace *t)
{
	return t->rb ? ring_buffer__epoll_fd(t->rb) : -EINVAL;
}

int trace_poll(struct trace *t, trace_cb cb, void *ctx)
{
	int n;

	if (!t->rb)
		return -EINVAL;
	t->cb = cb;
	t->cb_ctx = ctx;
	n = ring_buffer__consume(t->rb);
	t->cb = NULL;
	t->cb_ctx = NULL;
	return n;
}

uint64_t trace_lost(struct trace *t)
{
	struct pt_lost *v;
	uint64_t sum = 0;
	uint32_t zero = 0;

	if (t->lost_fd < 0)
		return 0;
	v = calloc((size_t)t->ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(t->lost_fd, &zero, v))
		for (int c = 0; c < t->ncpu; c++)
			sum += v[c].events;
	free(v);
	return sum;
}

uint64_t trace_missed(struct trace *t)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	if (!t->skel)
		return 0;
	bpf_object__for_each_program (p, t->skel->obj) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}

int trace_watch_root(struct trace *t, uint64_t cgid, bool on)
{
	uint8_t one = 1;

	if (t->roots_fd < 0)
		return -EINVAL;
	if (on)
		return bpf_map_update_elem(t->roots_fd, &cgid, &one, BPF_ANY) ? -errno : 0;
	if (bpf_map_delete_elem(t->roots_fd, &cgid) && errno != ENOENT)
		return -errno;
	return 0;
}

void trace_close(struct trace *t)
{
	ring_buffer__free(t->rb);
	t->rb = NULL;
	trace_bpf__destroy(t->skel); /* links go, maps stay pinned */
	t->skel = NULL;
	t->lost_fd = t->roots_fd = -1;
}
