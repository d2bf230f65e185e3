// SPDX-License-Identifier: GPL-2.0
/*
 * forkexec: N fork+execve of a program, split over W workers, as fast as
 * possible; prints the wall time.
 *
 *   forkexec [--workers W] [--cgroup DIR] N [PROGRAM]    (PROGRAM: /bin/true)
 *
 * Each worker forks, the child execs PROGRAM, the worker waits for it, and
 * so on. With --cgroup the process first joins DIR (a cgroup v2 directory,
 * e.g. a pod's container cgroup). Output, one line:
 *   execs=.. failed=.. wall_ms=.. rate_per_s=..
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *cg = NULL, *prog = "/bin/true";
	long n = -1, workers = 2, failed = 0;
	extern char **environ;
	uint64_t t0, t1;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			workers = atol(argv[++i]);
		else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc)
			cg = argv[++i];
		else if (n < 0)
			n = atol(argv[i]);
		else
			prog = argv[i];
	}
	if (n < 0 || workers < 1) {
		fprintf(stderr, "usage: forkexec [--workers W] [--cgroup DIR] N [PROGRAM]\n");
		return 2;
	}
	if (cg) {
		char p[4096];
		FILE *f;

		snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
		f = fopen(p, "w");
		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
			fprintf(stderr, "forkexec: joining %s: %s\n", p, strerror(errno));
			return 1;
		}
	}
	t0 = now_ns();
	for (long w = 0; w < workers; w++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			long mine = n / workers + (w < n % workers), bad = 0;
			char *av[] = {(char *)prog, NULL};

			for (long k = 0; k < mine; k++) {
				int st;
				pid_t c = fork();
				if (c == 0) {
					execve(prog, av, environ);
					_exit(127);
				}
				if (c < 0 || waitpid(c, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
					bad++;
			}
			_exit(bad > 250 ? 250 : (int)bad);
		}
	}
	for (long w = 0; w < workers; w++) {
		int st;
		if (wait(&st) > 0 && WIFEXITED(st))
			failed += WEXITSTATUS(st);
	}
	t1 = now_ns();
	printf("execs=%ld failed=%ld wall_ms=%.1f rate_per_s=%.0f\n", n, failed, (t1 - t0) / 1e6,
	       (double)n / ((t1 - t0) / 1e9));
	return 0;
}
