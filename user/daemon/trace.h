/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The trace plane (bpf/trace.bpf.c): process fork/exec/exit, OOM kills, fatal
 * signals and cgroup changes of pod processes, as records in the shared ring
 * buffer pt_events.
 *
 * The maps are the shared pinned ones under <bpffs>/maps: pt_events (which
 * also carries the LB's PT_EV_CONNECT/REJECT records), pt_lost, pt_cgroup
 * (the filter: only tasks of these cgroups cost an event) and pt_cg_roots.
 * The tracepoint links are not pinned: tracing runs while the process that
 * called trace_open() runs.
 *
 * Self-contained (libbpf only) so that test tools can link it alone. Every
 * int function returns 0 (or a count) or a negative errno.
 */
#ifndef PT_TRACE_H
#define PT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "podtrace.h"

struct trace_bpf;
struct ring_buffer;

typedef int (*trace_cb)(void *ctx, const void *rec, size_t len);

struct trace {
	struct trace_bpf *skel;
	struct ring_buffer *rb;
	int lost_fd;  /* pt_lost */
	int roots_fd; /* pt_cg_roots */
	int ncpu;
	trace_cb cb; /* the current trace_poll() callback */
	void *cb_ctx;
	char err[1024]; /* what failed, when trace_open() fails */
};

/* Open and load the object (maps shared through pin_root_path
 * <bpffs>/maps, created if missing) and attach every tracepoint. */
int trace_open(struct trace *t, const char *bpffs);
/* The ring buffer's epoll fd: readable when records are there. */
/* "exec", "exit", ... for an enum pt_event_type; "unknown" otherwise. */
const char *trace_event_name(unsigned t);
int trace_fd(struct trace *t);
/* Hand every available record to cb without blocking; returns the number of
 * records consumed, or cb's negative return (which stops the walk; the
 * record that returned it is consumed). Records are variable-size (hdr.size
 * == len; exec: PT_EXEC_FIXED_SIZE + args_len). */
int trace_poll(struct trace *t, trace_cb cb, void *ctx);
/* Records the kernel could not put in the ring buffer (pt_lost, summed). */
uint64_t trace_lost(struct trace *t);
/* Runs of the trace programs the kernel skipped because one was already
 * running on that CPU (bpf_prog_info.recursion_misses): events lost outside
 * pt_lost. Expected 0. */
uint64_t trace_missed(struct trace *t);
/* Report mkdir/rmdir/attach in the cgroups below cgid (pt_cg_roots). */
int trace_watch_root(struct trace *t, uint64_t cgid, bool on);
/* Detach and free; the pinned maps stay. */
void trace_close(struct trace *t);

#endif
