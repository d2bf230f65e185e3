// SPDX-License-Identifier: GPL-2.0
/*
 * connlat: TCP connect() latency to a list of addr:port.
 *
 *   connlat [--cgroup DIR] [-n COUNT] [--warmup W] [--pick random|first|last]
 *           [--expect PREFIX] [--seed S] TARGETS
 *
 * TARGETS has one "ADDR PORT" a line. Each attempt opens a fresh TCP
 * socket, times connect() alone with CLOCK_MONOTONIC, then reads the
 * backend's reply (echo-id answers "ID:PORT\n" and closes) and checks it
 * starts with PREFIX (outside the timed part), then closes. W warm-up
 * attempts are not recorded. --pick: a uniformly random target each time
 * (default), or always the first or the last line.
 *
 * Output, one line:
 *   n=.. ok=.. err=.. bad=.. p50_us=.. p90_us=.. p99_us=.. mean_us=.. min_us=.. max_us=..
 * err = failed connects, bad = replies missing or not starting with PREFIX.
 * Exit 0 if it ran (even with errors), 1 on setup failure, 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: connlat [--cgroup DIR] [-n COUNT] [--warmup W] "
			"[--pick random|first|last] [--expect PREFIX] [--seed S] TARGETS\n");
	exit(2);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void join_cgroup(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "connlat: joining %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* xorshift64*: cheap, seeded, reproducible */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

int main(int argc, char **argv)
{
	const char *cgroup = NULL, *pick = "random", *expect = NULL, *file = NULL;
	long n = 1000, warm = 50, nt = 0, cap = 1024, ok = 0, err = 0, bad = 0;
	struct sockaddr_in *tg;
	uint64_t *lat, sum = 0;
	char line[256];
	FILE *f;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--cgroup") && i + 1 < argc)
			cgroup = argv[++i];
		else if (!strcmp(a, "-n") && i + 1 < argc)
			n = atol(argv[++i]);
		else if (!strcmp(a, "--warmup") && i + 1 < argc)
			warm = atol(argv[++i]);
		else if (!strcmp(a, "--pick") && i + 1 < argc)
			pick = argv[++i];
		else if (!strcmp(a, "--expect") && i + 1 < argc)
			expect = argv[++i];
		else if (!strcmp(a, "--seed") && i + 1 < argc)
			rng_state ^= strtoull(argv[++i], NULL, 0) * 0x9E3779B97F4A7C15ull;
		else if (a[0] == '-')
			usage();
		else if (!file)
			file = a;
		else
			usage();
	}
	if (!file || n <= 0 || warm < 0)
		usage();
	if (strcmp(pick, "random") && strcmp(pick, "first") && strcmp(pick, "last"))
		usage();

	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "connlat: %s: %s\n", file, strerror(errno));
		return 1;
	}
	tg = malloc(cap * sizeof(*tg));
	while (tg && fgets(line, sizeof(line), f)) {
		char addr[64];
		unsigned port;

		if (sscanf(line, "%63s %u", addr, &port) != 2)
			continue;
		if (nt == cap && !(tg = realloc(tg, (cap *= 2) * sizeof(*tg))))
			break;
		memset(&tg[nt], 0, sizeof(tg[nt]));
		tg[nt].sin_family = AF_INET;
		tg[nt].sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &tg[nt].sin_addr) != 1) {
			fprintf(stderr, "connlat: bad address %s\n", addr);
			return 1;
		}
		nt++;
	}
	fclose(f);
	if (!tg || !nt) {
		fprintf(stderr, "connlat: no targets in %s\n", file);
		return 1;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	if (!lat)
		return 1;
	if (cgroup)
		join_cgroup(cgroup);

	for (long i = 0; i < warm + n; i++) {
		long t = !strcmp(pick, "first") ? 0 : !strcmp(pick, "last") ? nt - 1 : (long)(rng() % (uint64_t)nt);
		struct timeval tv = {.tv_sec = 2};
		char buf[128];
		uint64_t t0, t1;
		int fd, rc, one = 1;
		ssize_t got = 0;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("connlat: socket");
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		t0 = now_ns();
		rc = connect(fd, (struct sockaddr *)&tg[t], sizeof(tg[t]));
		t1 = now_ns();
		if (rc) {
			if (i >= warm)
				err++;
			close(fd);
			continue;
		}
		while (got < (ssize_t)sizeof(buf) - 1) {
			ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += r;
			if (memchr(buf, '\n', (size_t)got))
				break;
		}
		buf[got > 0 ? got : 0] = 0;
		close(fd);
		if (i < warm)
			continue;
		if (got <= 0 || (expect && strncmp(buf, expect, strlen(expect))))
			bad++;
		lat[ok++] = t1 - t0;
		sum += t1 - t0;
	}
	if (!ok) {
		printf("n=%ld ok=0 err=%ld bad=%ld p50_us=nan p90_us=nan p99_us=nan mean_us=nan min_us=nan max_us=nan\n",
		       n, err, bad);
		return 0;
	}
	qsort(lat, (size_t)ok, sizeof(*lat), cmp_u64);
#define PCT(p) (lat[(size_t)(((double)(p) / 100.0) * (double)(ok - 1) + 0.5)] / 1000.0)
	printf("n=%ld ok=%ld err=%ld bad=%ld p50_us=%.2f p90_us=%.2f p99_us=%.2f mean_us=%.2f "
	       "min_us=%.2f max_us=%.2f\n",
	       n, ok, err, bad, PCT(50), PCT(90), PCT(99), (double)sum / (double)ok / 1000.0,
	       lat[0] / 1000.0, lat[ok - 1] / 1000.0);
	return 0;
}
