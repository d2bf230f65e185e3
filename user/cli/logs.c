// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * logs: the daemon says where a container's log file is; the CLI (root, on
 * the same host) reads it itself. -f follows the file (inotify, with a
 * once-a-second look at the daemon to notice the Pod going away).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include "cli.h"

static const char logs_usage[] =
    "Usage: podtrace logs POD [-c CONTAINER] [-n NS] [-f] [--tail N]\n"
    "\n"
    "Print what a container of a Pod wrote to stdout and stderr. The log holds\n"
    "every run of the container, restarts included. Without -c, the container\n"
    "is the one the kubectl.kubernetes.io/default-container annotation names,\n"
    "else the first one. POD may be written pod/POD.\n"
    "\n"
    "With -f, keep printing what the container writes until interrupted, the\n"
    "Pod is deleted, or the Pod has completed (phase Succeeded or Failed).\n"
    "\n"
    "Flags:\n"
    "  -c, --container NAME   container (init containers too)\n"
    "  -n, --namespace NS     namespace of POD (default \"default\")\n"
    "  -f, --follow           stream the log as it grows\n"
    "      --tail N           only the last N lines (default -1: all)\n"
    "  -h, --help             show this help\n";

#define CHECK_EVERY_MS 1000

struct logs_args {
	const char *ns, *name, *ctr;
	bool follow;
	long tail; /* -1: all */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Where the last n lines of the file start. A last line without its
 * newline counts as a line, as in kubectl (and tail). */
static off_t tail_start(int fd, off_t size, long n)
{
	char buf[65536];
	off_t pos = size;
	long seen = 0;
	bool last = true; /* the byte at size-1: its newline ends the last line */

	if (n < 0)
		return 0;
	if (n == 0)
		return size;
	while (pos > 0) {
		size_t chunk = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t got = pread(fd, buf, chunk, pos - (off_t)chunk);

		if (got != (ssize_t)chunk)
			return 0;
		for (ssize_t i = got - 1; i >= 0; i--, last = false) {
			if (buf[i] != '\n' || last)
				continue;
			if (++seen == n)
				return pos - (off_t)chunk + i + 1;
		}
		pos -= (off_t)chunk;
	}
	return 0;
}

/* Copy what the file holds past *off to stdout. -1 when stdout is gone. */
static int copy_out(int fd, off_t *off)
{
	char buf[65536];
	struct stat st;
	ssize_t n;

	/* truncated under us (not done by podtraced, but cheap to handle) */
	if (!fstat(fd, &st) && st.st_size < *off)
		*off = 0;
	while ((n = pread(fd, buf, sizeof(buf), *off)) > 0) {
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(STDOUT_FILENO, buf + w, (size_t)(n - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				if (errno != EPIPE)
					fprintf(stderr, "error: writing the log: %s\n",
						strerror(errno));
				return -1;
			}
			w += k;
		}
		*off += n;
	}
	return 0;
}

/* Is there more to wait for? false once the Pod is gone, replaced (a new
 * Pod with the same name logs elsewhere) or completed. A daemon that is
 * down (restarting) is waited for. */
static bool worth_following(const struct logs_args *a, const char *log)
{
	char err[1024];
	json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "cmd", "container", "namespace", a->ns, "name",
				a->name, "container", a->ctr);
	json_t *resp = client_try(req, err, sizeof(err));
	bool more = true;

	json_decref(req);
	if (!resp)
		return true;
	if (json_object_get(resp, "error") || strcmp(jstr(resp, "log", ""), log)) {
		more = false;
	} else if (!json_is_true(json_object_get(resp, "running"))) {
		json_t *r = json_pack("{s:s,s:s,s:s,s:s}", "cmd", "get", "kind", "pods",
				      "namespace", a->ns, "name", a->name);
		json_t *pods = client_try(r, err, sizeof(err));

		json_decref(r);
		if (pods && json_object_get(pods, "error"))
			more = false;
		else if (pods)
			more =
			    !pod_phase_terminal(json_array_get(json_object_get(pods, "items"), 0));
		json_decref(pods);
	}
	json_decref(resp);
	return more;
}

/* podtraced rotates a log past its size cap (to <log>.1, then a new
 * <log>): finish the old file, go on with the new one. */
static void maybe_rotated(int *fd, off_t *off, const char *log)
{
	struct stat cur, now;
	int nfd;

	if (fstat(*fd, &cur) || stat(log, &now) ||
	    (cur.st_ino == now.st_ino && cur.st_dev == now.st_dev))
		return;
	nfd = open(log, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		return;
	copy_out(*fd, off);
	close(*fd);
	*fd = nfd;
	*off = 0;
}

static int follow(const struct logs_args *a, int fd, off_t off, const char *log)
{
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	long long next = now_ms(); /* a completed pod: done at once */
	char ev[4096], dir[4096], *slash;

	/* the directory: writes to the file, and its rotation, show there */
	snprintf(dir, sizeof(dir), "%s", log);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	if (in >= 0 && inotify_add_watch(in, slash ? (*dir ? dir : "/") : ".",
					 IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO) < 0) {
		close(in);
		in = -1; /* poll the file instead */
	}
	for (;;) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		long long wait = next - now_ms();

		if (copy_out(fd, &off))
			break;
		maybe_rotated(&fd, &off, log);
		if (wait <= 0) {
			if (!worth_following(a, log)) {
				copy_out(fd, &off); /* the last words */
				break;
			}
			next = now_ms() + CHECK_EVERY_MS;
			continue;
		}
		if (in < 0 && wait > 200)
			wait = 200;
		if (poll(&p, in >= 0 ? 1 : 0, (int)wait) > 0)
			while (read(in, ev, sizeof(ev)) > 0)
				;
	}
	if (in >= 0)
		close(in);
	close(fd);
	return 0;
}

/* The container's status in the pod, init containers included. */
static json_t *ctr_status(json_t *pod, const char *ctr)
{
	static const char *const lists[] = {"status.containerStatuses",
					    "status.initContainerStatuses"};
	size_t i;
	json_t *s;

	for (int l = 0; l < 2; l++)
		json_array_foreach (jpath(pod, lists[l]), i, s)
			if (!strcmp(jstr(s, "name", ""), ctr))
				return s;
	return NULL;
}

static int show_logs(struct logs_args *a)
{
	json_t *pod = pod_fetch(a->ns, a->name), *info = NULL;
	const char *log;
	struct stat st;
	int fd = -1, rc = 1;
	off_t off;

	if (!pod)
		return 1;
	if (!a->ctr)
		a->ctr = pod_default_container(pod);
	if (!a->ctr) {
		fprintf(stderr, "error: pod %s has no containers\n", a->name);
		goto out;
	}
	info = pod_container_info(a->ns, a->name, a->ctr);
	if (!info)
		goto out;
	log = jstr(info, "log", "");
	fd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* never started: kubectl's answer for a container not yet run */
		json_t *st = ctr_status(pod, a->ctr);
		fprintf(stderr,
			"Error from server (BadRequest): container \"%s\" in pod \"%s\" is waiting "
			"to start: %s\n",
			a->ctr, a->name, jstr(st, "state.waiting.reason", "ContainerCreating"));
		goto out;
	}
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "error: %s: %s\n", log, strerror(errno));
		goto out;
	}
	off = tail_start(fd, st.st_size, a->tail);
	rc = 0;
	if (a->follow) {
		follow(a, fd, off, log);
		fd = -1; /* follow() closes it (it may have moved on to a new one) */
	} else {
		copy_out(fd, &off);
	}
out:
	if (fd >= 0)
		close(fd);
	json_decref(info);
	json_decref(pod);
	return rc;
}

static const struct option logs_opts[] = {
    {"container", required_argument, NULL, 'c'},
    {"namespace", required_argument, NULL, 'n'},
    {"follow", no_argument, NULL, 'f'},
    {"tail", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_logs(int argc, char **argv)
{
	struct logs_args a = {.ns = "default", .tail = -1};
	char *end;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":c:n:fh", logs_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a.ctr = flag_value(optarg);
			break;
		case 'n':
			a.ns = flag_value(optarg);
			break;
		case 'f':
			a.follow = true;
			break;
		case 't':
			errno = 0;
			a.tail = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || a.tail < -1)
				return usage_error("logs", logs_usage,
						   "invalid argument \"%s\" for --tail", optarg);
			break;
		case 'h':
			fputs(logs_usage, stdout);
			return 0;
		default:
			return bad_flag("logs", logs_usage, c, argv);
		}
	}
	if (optind == argc)
		return usage_error("logs", logs_usage, "a pod name is required");
	if (argc - optind > 2 || (argc - optind == 2 && a.ctr))
		return usage_error("logs", logs_usage, "unexpected argument \"%s\"",
				   argv[argc - 1]);
	a.name = pod_arg_name(argv[optind]);
	/* kubectl logs POD CONTAINER */
	if (argc - optind == 2)
		a.ctr = argv[optind + 1];
	return show_logs(&a);
}
