// SPDX-License-Identifier: GPL-2.0
/*
 * tracectl: drive the trace plane (user/daemon/trace.c) without the daemon,
 * for the e2e tests.
 *
 *   tracectl BPFFS CGROUP_DIR [--roots DIR] [--seconds N | --until-file F]
 *
 * Loads and attaches the trace programs (maps pinned under BPFFS/maps),
 * registers the cgroup2 id of CGROUP_DIR and of every directory below it at
 * start in pt_cgroup (pod_id 0; CGROUP_DIR as the pod, the others as
 * containers), and with --roots DIR watches DIR for cgroup mkdir/rmdir/attach
 * (pt_cg_roots). Then prints one JSON object per record on stdout until N
 * seconds have passed, F exists, or SIGINT/SIGTERM; then a last line
 * {"lost": N, "missed": M, "events": E}. Its registrations are removed at the
 * end. "tracectl: ready" on stderr says the programs are attached.
 *
 * Exit 0 on success, 1 on failure, 2 on usage error.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "trace.h"

#define MAX_CG 4096

static uint64_t cg_ids[MAX_CG];
static int n_cg;
static int cgroup_fd = -1;
static uint64_t n_events;
static volatile sig_atomic_t stop;

static void usage(void)
{
	fprintf(stderr, "usage: tracectl BPFFS CGROUP_DIR [--roots DIR] "
			"[--seconds N | --until-file F]\n");
	exit(2);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- JSON output ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string of s[0..n) (stops at a NUL); invalid UTF-8 bytes become
 * \u00XX. */
static void json_str(FILE *f, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	n = strnlen(s, n);
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t l;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c == '\t') {
			fputs("\\t", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if ((l = utf8_len(u + i, n - i))) {
			fwrite(u + i, 1, l, f);
			i += l;
		} else {
			fprintf(f, "\\u%04x", c);
			i++;
		}
	}
	fputc('"', f);
}

static void json_key_str(FILE *f, const char *k, const char *s, size_t n)
{
	fprintf(f, ",\"%s\":", k);
	json_str(f, s, n);
}

static const char *sig_name(unsigned int s)
{
	static const char *const names[32] = {
	    [1] = "SIGHUP",   [2] = "SIGINT",	  [3] = "SIGQUIT",  [4] = "SIGILL",
	    [5] = "SIGTRAP",  [6] = "SIGABRT",	  [7] = "SIGBUS",   [8] = "SIGFPE",
	    [9] = "SIGKILL",  [10] = "SIGUSR1",	  [11] = "SIGSEGV", [12] = "SIGUSR2",
	    [13] = "SIGPIPE", [14] = "SIGALRM",	  [15] = "SIGTERM", [16] = "SIGSTKFLT",
	    [17] = "SIGCHLD", [18] = "SIGCONT",	  [19] = "SIGSTOP", [20] = "SIGTSTP",
	    [21] = "SIGTTIN", [22] = "SIGTTOU",	  [23] = "SIGURG",  [24] = "SIGXCPU",
	    [25] = "SIGXFSZ", [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH",
	    [29] = "SIGIO",   [30] = "SIGPWR",	  [31] = "SIGSYS",
	};

	return s < 32 && names[s] ? names[s] : "";
}

static void print_args(FILE *f, const struct pt_event_exec *x)
{
	size_t len = x->args_len < PT_ARGS_MAX ? x->args_len : PT_ARGS_MAX;
	size_t off = 0;
	bool first = true;

	fputs(",\"args\":[", f);
	while (off < len) {
		size_t n = strnlen(x->args + off, len - off);

		if (!first)
			fputc(',', f);
		first = false;
		json_str(f, x->args + off, n);
		off += n + 1;
	}
	fputc(']', f);
}

static void print_addr(FILE *f, const uint32_t a[4], uint8_t family)
{
	char buf[INET6_ADDRSTRLEN] = "";

	inet_ntop(family == PT_V6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf));
	fprintf(f, ",\"addr\":\"%s\"", buf);
}

static int print_record(void *ctx, const void *rec, size_t len)
{
	const struct pt_event_hdr *h = rec;
	FILE *f = ctx;

	if (len < sizeof(*h)) {
		fprintf(f, "{\"type\":\"short\",\"len\":%zu}\n", len);
		n_events++;
		return 0;
	}
	fprintf(f,
		"{\"type\":\"%s\",\"type_id\":%u,\"size\":%u,\"ts_ns\":%" PRIu64
		",\"pid\":%u,\"cgroup_id\":%" PRIu64,
		trace_event_name(h->type), h->type, h->size, (uint64_t)h->ts_ns, h->pid,
		(uint64_t)h->cgroup_id);
	switch (h->type) {
	case PT_EV_EXEC: {
		const struct pt_event_exec *x = rec;

		if (len < PT_EXEC_FIXED_SIZE || len < PT_EXEC_FIXED_SIZE + (size_t)x->args_len)
			goto bad;
		fprintf(f, ",\"ppid\":%u,\"uid\":%u,\"argc\":%u", x->ppid, x->uid, x->argc);
		json_key_str(f, "comm", x->comm, sizeof(x->comm));
		json_key_str(f, "filename", x->filename, sizeof(x->filename));
		print_args(f, x);
		fprintf(f, ",\"args_len\":%u,\"truncated\":%s", x->args_len,
			x->args_truncated ? "true" : "false");
		break;
	}
	case PT_EV_EXIT: {
		const struct pt_event_exit *x = rec;

		if (len < sizeof(*x))
			goto bad;
		fprintf(f,
			",\"ppid\":%u,\"exit_code\":%d,\"signal\":%u,"
			"\"signal_name\":\"%s\",\"lifetime_ns\":%" PRIu64 ",\"lifetime_ms\":%.3f",
			x->ppid, x->exit_code, x->signal, sig_name(x->signal),
			(uint64_t)x->lifetime_ns, x->lifetime_ns / 1e6);
		json_key_str(f, "comm", x->comm, sizeof(x->comm));
		break;
	}
	case PT_EV_FORK: {
		const struct pt_event_fork *x = rec;

		if (len < sizeof(*x))
			goto bad;
		fprintf(f, ",\"ppid\":%u,\"child_pid\":%u", h->pid, x->child_pid);
		json_key_str(f, "comm", x->comm, sizeof(x->comm));
		break;
	}
	case PT_EV_OOM: {
		const struct pt_event_oom *x = rec;

		if (len < sizeof(*x))
			goto bad;
		fprintf(f, ",\"total_vm_kb\":%" PRIu64 ",\"anon_rss_kb\":%" PRIu64,
			(uint64_t)x->total_vm_kb, (uint64_t)x->anon_rss_kb);
		json_key_str(f, "comm", x->comm, sizeof(x->comm));
		break;
	}
	case PT_EV_SIGNAL: {
		const struct pt_event_signal *x = rec;

		if (len < sizeof(*x))
			goto bad;
		fprintf(f,
			",\"signal\":%u,\"signal_name\":\"%s\","
			"\"sender_pid\":%u,\"result\":%d",
			x->sig, sig_name(x->sig), x->sender_pid, x->result);
		json_key_str(f, "comm", x->comm, sizeof(x->comm));
		json_key_str(f, "sender_comm", x->sender_comm, sizeof(x->sender_comm));
		break;
	}
	case PT_EV_CGROUP_MKDIR:
	case PT_EV_CGROUP_RMDIR:
	case PT_EV_CGROUP_ATTACH: {
		const struct pt_event_cgroup *x = rec;

		if (len < sizeof(*x))
			goto bad;
		fprintf(f, ",\"level\":%u", x->level);
		json_key_str(f, "path", x->path, sizeof(x->path));
		break;
	}
	case PT_EV_CONNECT:
	case PT_EV_REJECT: {
		const struct pt_event_connect *x = rec;

		if (len < sizeof(*x))
			goto bad;
		fprintf(f, ",\"svc_id\":%u,\"backend_id\":%u", x->svc_id, x->backend_id);
		print_addr(f, x->addr, x->family);
		fprintf(f, ",\"port\":%u,\"family\":%u,\"proto\":%u", ntohs(x->port), x->family,
			x->proto);
		break;
	}
	default:
		break;
	}
	fprintf(f, ",\"len\":%zu}\n", len);
	n_events++;
	return 0;
bad:
	fprintf(f, ",\"error\":\"short record\",\"len\":%zu}\n", len);
	n_events++;
	return 0;
}

/* ---- cgroup registration ---- */

static uint64_t dir_id(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

static int register_cg(const char *path, bool pod)
{
	struct pt_cgroup_val v = {
	    .pod_id = 0,
	    .ctr_index = pod ? 0 : (uint16_t)(n_cg - 1),
	    .flags = pod ? PT_CG_POD : PT_CG_CONTAINER,
	};
	uint64_t id = dir_id(path);

	if (!id || n_cg >= MAX_CG)
		return -1;
	if (bpf_map_update_elem(cgroup_fd, &id, &v, BPF_ANY)) {
		fprintf(stderr, "tracectl: pt_cgroup %s: %s\n", path, strerror(errno));
		return -1;
	}
	cg_ids[n_cg++] = id;
	return 0;
}

static int walk_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag != FTW_D || ftw->level == 0)
		return 0;
	return register_cg(path, false) ? 1 : 0;
}

static void unregister_all(void)
{
	for (int i = 0; i < n_cg; i++)
		bpf_map_delete_elem(cgroup_fd, &cg_ids[i]);
	n_cg = 0;
}

int main(int argc, char **argv)
{
	const char *bpffs, *cgdir, *roots = NULL, *until = NULL;
	double seconds = -1;
	uint64_t root_id = 0, deadline = 0;
	struct epoll_event ev = {.events = EPOLLIN};
	struct trace t;
	char path[600];
	int err, ep = -1, rc = 1;

	if (argc < 3)
		usage();
	bpffs = argv[1];
	cgdir = argv[2];
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--roots") && i + 1 < argc)
			roots = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--until-file") && i + 1 < argc)
			until = argv[++i];
		else
			usage();
	}
	if (!dir_id(cgdir)) {
		fprintf(stderr, "tracectl: %s: %s\n", cgdir, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	err = trace_open(&t, bpffs);
	if (err) {
		fprintf(stderr, "tracectl: %s\n", t.err[0] ? t.err : strerror(-err));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/maps/pt_cgroup", bpffs);
	cgroup_fd = bpf_obj_get(path);
	if (cgroup_fd < 0) {
		fprintf(stderr, "tracectl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (register_cg(cgdir, true) || nftw(cgdir, walk_cb, 16, FTW_PHYS | FTW_MOUNT)) {
		fprintf(stderr, "tracectl: cannot register the cgroups of %s\n", cgdir);
		goto out;
	}
	if (roots) {
		root_id = dir_id(roots);
		if (!root_id || trace_watch_root(&t, root_id, true)) {
			fprintf(stderr, "tracectl: cannot watch %s\n", roots);
			root_id = 0;
			goto out;
		}
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, trace_fd(&t), &ev)) {
		fprintf(stderr, "tracectl: epoll: %s\n", strerror(errno));
		goto out;
	}
	if (seconds >= 0)
		deadline = now_ms() + (uint64_t)(seconds * 1000);
	fprintf(stderr, "tracectl: ready (%d cgroups)\n", n_cg);
	while (!stop) {
		struct epoll_event out;
		int n, timeout = 100;

		if (deadline) {
			uint64_t now = now_ms();

			if (now >= deadline)
				break;
			if (deadline - now < (uint64_t)timeout)
				timeout = (int)(deadline - now);
		}
		if (until && !access(until, F_OK))
			break;
		n = epoll_wait(ep, &out, 1, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tracectl: epoll_wait: %s\n", strerror(errno));
			goto out;
		}
		if (trace_poll(&t, print_record, stdout) < 0)
			goto out;
		fflush(stdout);
	}
	rc = 0;
out:
	/* The last records, then the totals. */
	trace_poll(&t, print_record, stdout);
	printf("{\"lost\": %" PRIu64 ", \"missed\": %" PRIu64 ", \"events\": %" PRIu64 "}\n",
	       trace_lost(&t), trace_missed(&t), n_events);
	fflush(stdout);
	if (root_id)
		trace_watch_root(&t, root_id, false);
	if (cgroup_fd >= 0) {
		unregister_all();
		close(cgroup_fd);
	}
	if (ep >= 0)
		close(ep);
	trace_close(&t);
	return rc;
}
