// SPDX-License-Identifier: GPL-2.0
/*
 * guardctl: drive the guard plane (user/daemon/guard.c) without the daemon,
 * for the e2e tests.
 *
 *   guardctl attach BPFFS POD_KEY CGROUP_DIR POD_ID EGRESS_BPS INGRESS_BPS
 *	register CGROUP_DIR (the pod) and each child directory (containers)
 *	in pt_cgroup, set both bandwidth limits, attach the programs
 *	(existing pinned links are re-used)
 *   guardctl bw BPFFS POD_ID EGRESS_BPS INGRESS_BPS
 *   guardctl stats BPFFS POD_ID		counters as key=value lines
 *   guardctl reset BPFFS POD_ID		zero the counters
 *   guardctl detach BPFFS POD_KEY
 *
 * Rates are bits/s with an optional K, M or G suffix (10^3, 10^6, 10^9);
 * 0 = unlimited. Exit 0 on success, 1 on failure, 2 on usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guard.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: guardctl attach BPFFS POD_KEY CGROUP_DIR POD_ID EGRESS_BPS INGRESS_BPS\n"
		"       guardctl bw BPFFS POD_ID EGRESS_BPS INGRESS_BPS\n"
		"       guardctl stats|reset BPFFS POD_ID\n"
		"       guardctl detach BPFFS POD_KEY\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, bool suffix)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		usage();
	if (suffix && *end) {
		switch (*end++) {
		case 'k':
		case 'K':
			v *= 1000ull;
			break;
		case 'm':
		case 'M':
			v *= 1000000ull;
			break;
		case 'g':
		case 'G':
			v *= 1000000000ull;
			break;
		default:
			usage();
		}
	}
	if (*end)
		usage();
	return v;
}

static uint32_t parse_pod(const char *s)
{
	uint64_t v = parse_u64(s, false);

	if (v >= PT_MAX_PODS)
		usage();
	return (uint32_t)v;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "guardctl: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 1;
}

static int set_cg(struct guard *g, const char *dir, uint32_t pod, uint16_t idx, uint16_t flags)
{
	struct pt_cgroup_val v = {.pod_id = pod, .ctr_index = idx, .flags = flags};
	struct stat st;
	int err;

	if (stat(dir, &st))
		return fail(dir, errno);
	err = guard_set_cgroup(g, (uint64_t)st.st_ino, &v);
	return err ? fail("pt_cgroup update", err) : 0;
}

static int cmd_attach(struct guard *g, char **av)
{
	const char *key = av[0], *cg = av[1];
	uint32_t pod = parse_pod(av[2]);
	uint64_t eg = parse_u64(av[3], true), in = parse_u64(av[4], true);
	struct dirent *de;
	uint16_t idx = 0;
	char path[4096];
	DIR *d;
	int fd, err;

	if (set_cg(g, cg, pod, 0, PT_CG_POD))
		return 1;
	d = opendir(cg);
	if (!d)
		return fail(cg, errno);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", cg, de->d_name);
		if (set_cg(g, path, pod, idx++, PT_CG_CONTAINER)) {
			closedir(d);
			return 1;
		}
	}
	closedir(d);
	err = guard_set_bw(g, pod, eg, in);
	if (err)
		return fail("set bandwidth", err);
	fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(cg, errno);
	err = guard_attach_pod(g, key, fd);
	close(fd);
	return err ? fail("attach", err) : 0;
}

static int cmd_stats(struct guard *g, uint32_t pod)
{
	static const char *const dir[2] = {"egress", "ingress"};
	struct pt_pod_stats s;
	int err = guard_pod_stats(g, pod, &s);

	if (err)
		return fail("stats", err);
	for (int i = 0; i < 2; i++) {
		printf("bytes_%s=%" PRIu64 "\n", dir[i], (uint64_t)s.bytes[i]);
		printf("packets_%s=%" PRIu64 "\n", dir[i], (uint64_t)s.packets[i]);
		printf("drops_bw_%s=%" PRIu64 "\n", dir[i], (uint64_t)s.drops_bw[i]);
		printf("cn_marks_%s=%" PRIu64 "\n", dir[i], (uint64_t)s.cn_marks[i]);
	}
	printf("dev_denied=%" PRIu64 "\n", (uint64_t)s.dev_denied);
	return 0;
}

int main(int argc, char **argv)
{
	struct guard g;
	const char *cmd;
	int rc, err;

	if (argc < 4)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "attach")						       ? argc != 8
	    : !strcmp(cmd, "bw")						       ? argc != 6
	    : !strcmp(cmd, "stats") || !strcmp(cmd, "reset") || !strcmp(cmd, "detach") ? argc != 4
										       : 1)
		usage();
	err = guard_open(&g, argv[2]);
	if (err)
		return fail("open the guard plane", err);
	if (!strcmp(cmd, "attach")) {
		rc = cmd_attach(&g, argv + 3);
	} else if (!strcmp(cmd, "bw")) {
		err = guard_set_bw(&g, parse_pod(argv[3]), parse_u64(argv[4], true),
				   parse_u64(argv[5], true));
		rc = err ? fail("set bandwidth", err) : 0;
	} else if (!strcmp(cmd, "stats")) {
		rc = cmd_stats(&g, parse_pod(argv[3]));
	} else if (!strcmp(cmd, "reset")) {
		err = guard_reset_stats(&g, parse_pod(argv[3]));
		rc = err ? fail("reset", err) : 0;
	} else {
		err = guard_detach_pod(&g, argv[3]);
		rc = err ? fail("detach", err) : 0;
	}
	guard_close(&g);
	return rc;
}
