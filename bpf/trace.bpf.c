// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The trace plane: process lifecycle (fork, exec, exit), OOM kills, fatal
 * signals and cgroup changes of pod processes, into the shared pt_events ring
 * buffer (the LB's connect records go there too).
 *
 * Filtering happens here: a task costs an event only if its cgroup2 id is a
 * key of pt_cgroup (pod and container cgroups, kept by the daemon). Host
 * tasks cost one hash lookup per fork/exec/exit and produce nothing. cgroup
 * mkdir/rmdir/attach are reported below a watched root (pt_cg_roots) or for a
 * cgroup of pt_cgroup itself.
 *
 * Every record goes through the ring buffer with its loss counted in pt_lost:
 * after a match there is no silent exit.
 *
 * tp_btf programs: typed arguments, direct (fault-safe) reads of kernel
 * structures with CO-RE relocations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader: log2 of the page size (mm counters are in pages). */
const volatile __u32 page_shift = 12;

#define SIGNAL_GROUP_EXIT 0x00000004 /* include/linux/sched/signal.h */
#define PT_CG_MAX_DEPTH 64	     /* ancestors looked at for pt_cg_roots */

/* Fatal signals (generic numbering: x86, arm64, riscv...).
 *
 * SIG_ALWAYS: termination requests, abort and resource limits. Reported even
 * when the target handles them: a handled SIGTERM is the graceful stop path,
 * and who asked a pod process to stop is the question. They are rare.
 *
 * SIG_IF_DFL: faults and conditions that runtimes routinely handle or ignore
 * (the JVM's SIGSEGV for null checks and safepoints, seccomp-trap sandboxes'
 * SIGSYS, servers ignoring SIGPIPE): reported only when the target's handler
 * is SIG_DFL, i.e. when the signal kills (a fault forced on a blocked or
 * ignored handler is reset to SIG_DFL by the kernel before this tracepoint).
 *
 * Left out although their default action kills: SIGTRAP (every breakpoint and
 * ptrace stop), SIGUSR1/2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
 * SIGSTKFLT and real-time signals: in practice notifications (timers,
 * profilers at 100+ Hz), costly to report and almost never fatal. When one of
 * them does kill, the exit record's signal field says so. */
#define SIGBIT(n) (1u << (n))
#define SIG_ALWAYS                                                                                 \
	(SIGBIT(1) /* HUP */ | SIGBIT(2) /* INT */ | SIGBIT(3) /* QUIT */ | SIGBIT(6) /* ABRT */ | \
	 SIGBIT(9) /* KILL */ | SIGBIT(15) /* TERM */ | SIGBIT(24) /* XCPU */ |                    \
	 SIGBIT(25) /* XFSZ */)
#define SIG_IF_DFL                                                                                 \
	(SIGBIT(4) /* ILL */ | SIGBIT(7) /* BUS */ | SIGBIT(8) /* FPE */ | SIGBIT(11) /* SEGV */ | \
	 SIGBIT(13) /* PIPE */ | SIGBIT(31) /* SYS */)

/* Older kernels: kernfs_node.parent (now __parent) and mm_struct.rss_stat
 * as atomic counters (percpu_counters since 6.2). */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

#define MM_ANONPAGES 1

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	struct pt_lost *lost = bpf_map_lookup_elem(&pt_lost, &zero);

	if (lost)
		lost->events++;
}

static __always_inline bool known_cgroup(__u64 cgid)
{
	return bpf_map_lookup_elem(&pt_cgroup, &cgid) != NULL;
}

/* Direct (fault-safe, CO-RE relocated) loads: tp_btf pointers are typed. */
static __always_inline __u64 task_cgid(struct task_struct *t)
{
	return t->cgroups->dfl_cgrp->kn->id;
}

static __always_inline void hdr_fill(struct pt_event_hdr *h, __u16 type, __u16 size, __u32 pid,
				     __u64 cgid)
{
	h->type = type;
	h->size = size;
	h->pid = pid;
	h->ts_ns = bpf_ktime_get_ns();
	h->cgroup_id = cgid;
}

/* ---- exec ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(trace_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	unsigned long start, end;
	struct pt_event_exec *ev;
	__u32 zero = 0;
	__u64 len, size;

	if (!known_cgroup(cgid))
		return 0;
	ev = bpf_map_lookup_elem(&pt_exec_buf, &zero);
	if (!ev) {
		count_lost();
		return 0;
	}
	ev->ppid = BPF_CORE_READ(p, real_parent, tgid);
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->argc = BPF_CORE_READ(bprm, argc);
	ev->pad = 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	__builtin_memset(ev->filename, 0, sizeof(ev->filename));
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename),
				  BPF_CORE_READ(bprm, filename));

	/* The new image's argv: NUL-separated strings on its stack. */
	start = BPF_CORE_READ(p, mm, arg_start);
	end = BPF_CORE_READ(p, mm, arg_end);
	len = end > start ? end - start : 0;
	ev->args_truncated = 0;
	if (len > PT_ARGS_MAX) {
		len = PT_ARGS_MAX;
		ev->args_truncated = 1;
	}
	if (len && bpf_probe_read_user(ev->args, len, (void *)start)) {
		len = 0; /* not readable (should not happen: just written) */
		ev->args_truncated = 1;
	}
	ev->args_len = len;
	size = PT_EXEC_FIXED_SIZE + len;
	hdr_fill(&ev->hdr, PT_EV_EXEC, size, BPF_CORE_READ(p, tgid), cgid);
	/* Variable size: ringbuf_reserve needs a constant, so copy. */
	if (bpf_ringbuf_output(&pt_events, ev, size, 0))
		count_lost();
	return 0;
}

/* ---- exit ---- */

static __always_inline int emit_exit(struct task_struct *p)
{
	__u64 cgid = bpf_get_current_cgroup_id();
	struct task_struct *leader;
	struct pt_event_exit *ev;
	__u32 status, sflags;

	if (!known_cgroup(cgid))
		return 0;
	ev = pt_event_reserve(sizeof(*ev));
	if (!ev)
		return 0;
	leader = BPF_CORE_READ(p, group_leader);
	/* What wait() will report: the group exit code once the group exits
	 * (exit_group, fatal signal), else the leader's own exit code. */
	sflags = BPF_CORE_READ(p, signal, flags);
	if (sflags & SIGNAL_GROUP_EXIT)
		status = BPF_CORE_READ(p, signal, group_exit_code);
	else
		status = BPF_CORE_READ(leader, exit_code);
	hdr_fill(&ev->hdr, PT_EV_EXIT, sizeof(*ev), BPF_CORE_READ(p, tgid), cgid);
	ev->ppid = BPF_CORE_READ(leader, real_parent, tgid);
	ev->exit_code = (status >> 8) & 0xff;
	ev->signal = status & 0x7f;
	ev->pad = 0;
	ev->lifetime_ns = ev->hdr.ts_ns - BPF_CORE_READ(leader, start_time);
	if (bpf_probe_read_kernel(ev->comm, sizeof(ev->comm), &leader->comm))
		__builtin_memset(ev->comm, 0, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* Kernels with sched_process_exit(p, group_dead) (6.18 has it): sent
 * when the last thread exits, whichever it is. The loader picks this one or
 * trace_exit_leader from the tracepoint's BTF prototype. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(trace_exit, struct task_struct *p, bool group_dead)
{
	if (!group_dead)
		return 0;
	return emit_exit(p);
}

/* Older kernels: the thread group leader's exit. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(trace_exit_leader, struct task_struct *p)
{
	if (p->pid != p->tgid)
		return 0;
	return emit_exit(p);
}

/* ---- fork ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(trace_fork, struct task_struct *parent, struct task_struct *child)
{
	struct pt_event_fork *ev;
	__u32 child_pid = child->pid;
	__u64 cgid;

	if (child_pid != child->tgid)
		return 0; /* a thread (CLONE_THREAD) */
	/* The child's cgroup: with CLONE_INTO_CGROUP it is not the parent's. */
	cgid = task_cgid(child);
	if (!known_cgroup(cgid))
		return 0;
	ev = pt_event_reserve(sizeof(*ev));
	if (!ev)
		return 0;
	hdr_fill(&ev->hdr, PT_EV_FORK, sizeof(*ev), BPF_CORE_READ(parent, tgid), cgid);
	ev->child_pid = child_pid;
	ev->pad = 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* ---- OOM kill ---- */

static __always_inline __u64 anon_pages(struct mm_struct *mm)
{
	if (bpf_core_type_exists(struct mm_rss_stat___old)) {
		struct mm_struct___old *o = (void *)mm;

		return BPF_CORE_READ(o, rss_stat.count[MM_ANONPAGES].counter);
	}
	/* The counter's global part, as get_mm_counter() reads it. */
	__s64 n = BPF_CORE_READ(mm, rss_stat[MM_ANONPAGES].count);

	return n > 0 ? n : 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(trace_oom, struct task_struct *task)
{
	__u64 cgid = task_cgid(task);
	struct pt_event_oom *ev;
	struct mm_struct *mm;
	__u32 shift = page_shift > 10 ? page_shift - 10 : 0;

	if (!known_cgroup(cgid))
		return 0;
	ev = pt_event_reserve(sizeof(*ev));
	if (!ev)
		return 0;
	hdr_fill(&ev->hdr, PT_EV_OOM, sizeof(*ev), BPF_CORE_READ(task, tgid), cgid);
	mm = BPF_CORE_READ(task, mm);
	ev->total_vm_kb = mm ? BPF_CORE_READ(mm, total_vm) << shift : 0;
	ev->anon_rss_kb = mm ? anon_pages(mm) << shift : 0;
	if (bpf_probe_read_kernel(ev->comm, sizeof(ev->comm), &task->comm))
		__builtin_memset(ev->comm, 0, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* ---- fatal signals ---- */

/* The target's handler for sig: SIG_DFL is 0. */
static __always_inline unsigned long sig_handler(struct task_struct *t, int sig)
{
	unsigned long sh = (unsigned long)BPF_CORE_READ(t, sighand);
	unsigned long h = 1;

	if (!sh)
		return 1;
	sh += bpf_core_field_offset(struct sighand_struct, action) +
	      (unsigned long)(sig - 1) * bpf_core_type_size(struct k_sigaction);
	bpf_probe_read_kernel(&h, sizeof(h), (void *)sh); /* .sa.sa_handler */
	return h;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(trace_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct pt_event_signal *ev;
	__u64 cgid;

	if (sig <= 0 || sig >= 32 || !((SIG_ALWAYS | SIG_IF_DFL) & SIGBIT(sig)))
		return 0;
	cgid = task_cgid(task);
	if (!known_cgroup(cgid))
		return 0;
	if ((SIG_IF_DFL & SIGBIT(sig)) && sig_handler(task, sig) != 0)
		return 0; /* handled or ignored: not fatal */
	ev = pt_event_reserve(sizeof(*ev));
	if (!ev)
		return 0;
	hdr_fill(&ev->hdr, PT_EV_SIGNAL, sizeof(*ev), BPF_CORE_READ(task, tgid), cgid);
	ev->sig = sig;
	ev->sender_pid = bpf_get_current_pid_tgid() >> 32;
	ev->result = result;
	ev->pad = 0;
	if (bpf_probe_read_kernel(ev->comm, sizeof(ev->comm), &task->comm))
		__builtin_memset(ev->comm, 0, sizeof(ev->comm));
	bpf_get_current_comm(ev->sender_comm, sizeof(ev->sender_comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

/* ---- cgroups ---- */

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* cgrp (on the cgroup2 hierarchy) is reported: it is a cgroup of pt_cgroup,
 * or one of its (nearest PT_CG_MAX_DEPTH) ancestors is in pt_cg_roots. */
static __always_inline bool cg_watched(struct cgroup *cgrp, __u64 id)
{
	struct kernfs_node *kn;

	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return false; /* a cgroup v1 hierarchy: ids are another space */
	if (known_cgroup(id))
		return true;
	kn = BPF_CORE_READ(cgrp, kn);
	for (int i = 0; i < PT_CG_MAX_DEPTH; i++) {
		__u64 aid;

		kn = kn_parent(kn);
		if (!kn)
			return false;
		aid = BPF_CORE_READ(kn, id);
		if (bpf_map_lookup_elem(&pt_cg_roots, &aid))
			return true;
	}
	return false;
}

static __always_inline int emit_cgroup(struct cgroup *cgrp, const char *path, __u16 type, __u32 pid)
{
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	struct pt_event_cgroup *ev;

	if (!cg_watched(cgrp, id))
		return 0;
	ev = pt_event_reserve(sizeof(*ev));
	if (!ev)
		return 0;
	hdr_fill(&ev->hdr, type, sizeof(*ev), pid, id);
	ev->level = BPF_CORE_READ(cgrp, level);
	ev->pad = 0;
	__builtin_memset(ev->path, 0, sizeof(ev->path));
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), path);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(trace_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	return emit_cgroup(cgrp, path, PT_EV_CGROUP_MKDIR, bpf_get_current_pid_tgid() >> 32);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(trace_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	return emit_cgroup(cgrp, path, PT_EV_CGROUP_RMDIR, bpf_get_current_pid_tgid() >> 32);
}

/* hdr.pid is the task moved (its thread group with threadgroup). */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(trace_cg_attach, struct cgroup *dst_cgrp, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	return emit_cgroup(dst_cgrp, path, PT_EV_CGROUP_ATTACH, BPF_CORE_READ(task, tgid));
}
