// SPDX-License-Identifier: GPL-2.0
/*
 * udpprobe: round-trip time of small UDP datagrams to an echo-id, one in
 * flight at a time (the box has no ping).
 *
 *   udpprobe [--interval-ms MS] [--duration-s S] [--skip-s S] [--timeout-ms MS] ADDR PORT
 *
 * Sends a datagram every interval, waits for the reply (echo-id answers
 * every datagram with its identity), records the RTT. The first --skip-s
 * seconds are not recorded (let a transfer ramp up). A probe without a
 * reply before the timeout counts as lost; stale replies are drained.
 *
 * Output, one line:
 *   sent=.. lost=.. p50_us=.. p90_us=.. p99_us=.. max_us=..
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	double interval_ms = 10, duration_s = 5, skip_s = 0, timeout_ms = 1000;
	const char *addr = NULL, *port = NULL;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	long sent = 0, lost = 0, n = 0, cap = 4096;
	uint64_t *rtt = malloc(cap * sizeof(*rtt)), start, end, skip_until;
	char buf[512];
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
			interval_ms = atof(argv[++i]);
		else if (!strcmp(argv[i], "--duration-s") && i + 1 < argc)
			duration_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--skip-s") && i + 1 < argc)
			skip_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			timeout_ms = atof(argv[++i]);
		else if (!addr)
			addr = argv[i];
		else if (!port)
			port = argv[i];
		else
			addr = NULL;
	}
	if (!addr || !port || !rtt || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: udpprobe [--interval-ms MS] [--duration-s S] [--skip-s S] "
				"[--timeout-ms MS] ADDR PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(port));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("udpprobe");
		return 1;
	}
	start = now_ns();
	skip_until = start + (uint64_t)(skip_s * 1e9);
	end = start + (uint64_t)(duration_s * 1e9);
	for (uint64_t next = start; next < end; next += (uint64_t)(interval_ms * 1e6)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t t0, t;
		int got = 0;

		while ((t = now_ns()) < next) {
			struct timespec ts = {0, (long)(next - t)};
			nanosleep(&ts, NULL);
		}
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) /* stale replies */
			;
		t0 = now_ns();
		if (send(fd, "probe\n", 6, 0) != 6)
			continue;
		for (;;) {
			int left = (int)(timeout_ms - (double)(now_ns() - t0) / 1e6);
			if (left <= 0 || poll(&p, 1, left) <= 0)
				break;
			if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
				got = 1;
				break;
			}
		}
		t = now_ns();
		if (t0 < skip_until)
			continue;
		sent++;
		if (!got) {
			lost++;
			continue;
		}
		if (n == cap && !(rtt = realloc(rtt, (cap *= 2) * sizeof(*rtt))))
			return 1;
		rtt[n++] = t - t0;
		if (t > next + (uint64_t)(interval_ms * 1e6)) /* slow reply: keep the pace */
			next = t - (uint64_t)(interval_ms * 1e6);
	}
	qsort(rtt, (size_t)n, sizeof(*rtt), cmp_u64);
#define P(x) (n ? rtt[(size_t)((x) / 100.0 * (double)(n - 1) + 0.5)] / 1000.0 : 0.0 / 0.0)
	printf("sent=%ld lost=%ld p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", sent, lost,
	       P(50), P(90), P(99), n ? rtt[n - 1] / 1000.0 : 0.0 / 0.0);
	return 0;
}
