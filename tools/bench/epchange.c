// SPDX-License-Identifier: GPL-2.0
/*
 * epchange: how long one endpoint change takes to reach the BPF map.
 *
 *   epchange --socket PATH --bpffs DIR --vip A.B.C.D --port P [--gap-ms MS] REQS
 *
 * REQS has one "COUNT JSON" a line: JSON is a control-socket request (an
 * apply of the service's EndpointSlice) that leaves the service port with
 * COUNT endpoints. For each line: connect to the daemon's socket, take t0,
 * send the request, then read pt_svc[svc_id].count from the pinned map in
 * a tight loop until it equals COUNT (t1: the change is visible to the
 * connect() hook; polled every ~10 us, not spinning), then read the reply
 * (t2). svc_id comes from pt_frontend
 * (the VIP's key). The daemon writes the master entry last on growth and
 * first on shrink, so COUNT visible = the change is in effect.
 *
 * Output, one line:
 *   n=.. timeouts=.. errors=.. vis_p50_us=.. vis_p99_us=.. vis_max_us=.. reply_p50_us=.. reply_p99_us=..
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "podtrace.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, long n, double p)
{
	if (n <= 0)
		return 0.0 / 0.0;
	return v[(size_t)(p / 100.0 * (double)(n - 1) + 0.5)] / 1000.0;
}

static void usage(void)
{
	fprintf(stderr, "usage: epchange --socket PATH --bpffs DIR --vip ADDR --port P [--gap-ms MS] REQS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *bpffs = NULL, *vip = NULL, *file = NULL;
	long port = 0, gap_ms = 5, n = 0, cap = 256, tmo = 0, errs = 0;
	struct pt_frontend_key fk = {0};
	struct pt_frontend_val fv;
	uint64_t *vis, *rep;
	size_t llen = 0;
	char *line = NULL, path[4096];
	int fe_fd, svc_fd;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "--bpffs") && i + 1 < argc)
			bpffs = argv[++i];
		else if (!strcmp(argv[i], "--vip") && i + 1 < argc)
			vip = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atol(argv[++i]);
		else if (!strcmp(argv[i], "--gap-ms") && i + 1 < argc)
			gap_ms = atol(argv[++i]);
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			usage();
	}
	if (!sock || !bpffs || !vip || !file || port <= 0 || port > 65535)
		usage();

	snprintf(path, sizeof(path), "%s/maps/pt_frontend", bpffs);
	fe_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/maps/pt_svc", bpffs);
	svc_fd = bpf_obj_get(path);
	if (fe_fd < 0 || svc_fd < 0) {
		fprintf(stderr, "epchange: pinned maps under %s/maps: %s\n", bpffs, strerror(errno));
		return 1;
	}
	if (inet_pton(AF_INET, vip, &fk.addr[0]) != 1)
		usage();
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* short naps really short */
	fk.port = htons((uint16_t)port);
	fk.proto = IPPROTO_TCP;
	fk.family = PT_V4;
	if (bpf_map_lookup_elem(fe_fd, &fk, &fv)) {
		fprintf(stderr, "epchange: %s:%ld/TCP not in pt_frontend\n", vip, port);
		return 1;
	}
	vis = malloc(cap * sizeof(*vis));
	rep = malloc(cap * sizeof(*rep));
	f = fopen(file, "r");
	if (!f || !vis || !rep) {
		fprintf(stderr, "epchange: %s: %s\n", file, strerror(errno));
		return 1;
	}
	while (getline(&line, &llen, f) > 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char *json, reply[65536];
		long want = strtol(line, &json, 10);
		size_t len = strlen(json), got = 0;
		uint64_t t0, t1 = 0, t2, deadline;
		struct pt_svc sv;
		int fd;

		while (*json == ' ')
			json++, len--;
		if (n == cap) {
			cap *= 2;
			vis = realloc(vis, cap * sizeof(*vis));
			rep = realloc(rep, cap * sizeof(*rep));
			if (!vis || !rep)
				return 1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			fprintf(stderr, "epchange: %s: %s\n", sock, strerror(errno));
			return 1;
		}
		t0 = now_ns();
		if (write(fd, json, len) != (ssize_t)len) { /* json ends with '\n' */
			fprintf(stderr, "epchange: write: %s\n", strerror(errno));
			return 1;
		}
		shutdown(fd, SHUT_WR);
		deadline = t0 + 5000000000ull;
		for (;;) {
			uint32_t key = fv.svc_id;
			uint64_t t = now_ns();
			struct timespec nap = {0, 5000};

			if (!bpf_map_lookup_elem(svc_fd, &key, &sv) && sv.count == (uint32_t)want) {
				t1 = t;
				break;
			}
			if (t > deadline)
				break;
			/* Not a busy loop: on a 2-CPU box a spinning poller delays
			 * the daemon it waits for (woken onto this CPU, it waits for
			 * the end of our time slice). ~10-20 us resolution. */
			nanosleep(&nap, NULL);
		}
		for (;;) {
			ssize_t r = read(fd, reply + got, sizeof(reply) - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			if (got == sizeof(reply) - 1)
				got = 0; /* keep reading to EOF; only the start matters */
		}
		t2 = now_ns();
		reply[got] = 0;
		close(fd);
		if (strstr(reply, "\"error\""))
			errs++;
		if (!t1) {
			tmo++;
		} else {
			vis[n] = t1 - t0;
			rep[n] = t2 - t0;
			n++;
		}
		if (gap_ms > 0)
			usleep((useconds_t)gap_ms * 1000);
	}
	fclose(f);
	qsort(vis, (size_t)n, sizeof(*vis), cmp_u64);
	qsort(rep, (size_t)n, sizeof(*rep), cmp_u64);
	printf("n=%ld timeouts=%ld errors=%ld vis_p50_us=%.1f vis_p99_us=%.1f vis_max_us=%.1f "
	       "reply_p50_us=%.1f reply_p99_us=%.1f\n",
	       n, tmo, errs, pct(vis, n, 50), pct(vis, n, 99), n ? vis[n - 1] / 1000.0 : 0.0,
	       pct(rep, n, 50), pct(rep, n, 99));
	return 0;
}
