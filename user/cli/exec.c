// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * exec: the CLI (root, on the same host) becomes a process of the
 * container. It joins the container's cgroups, the pod's network namespace
 * and the container's mount namespace when it has one (volumeMounts), takes
 * the container's environment and working directory, then
 * execs the command: its exit code is podtrace's, stdin/stdout/stderr and
 * the terminal are the caller's own (so -i and -t need nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

static const char exec_usage[] =
    "Usage: podtrace exec POD [-c CONTAINER] [-n NS] [-i] [-t] -- COMMAND [ARG...]\n"
    "\n"
    "Run a command in a running container of a Pod: in its cgroups, its\n"
    "network namespace (the pod's eth0 and IP) and, with volumeMounts, its\n"
    "mount namespace; with its environment and working directory. The\n"
    "command's exit code is podtrace's. Without -c, the container is the one\n"
    "the kubectl.kubernetes.io/default-container annotation names, else the\n"
    "first one. POD may be written pod/POD.\n"
    "\n"
    "Flags:\n"
    "  -c, --container NAME   container (default: as above)\n"
    "  -n, --namespace NS     namespace of POD (default \"default\")\n"
    "  -i, --stdin            accepted for kubectl users: stdin is always passed\n"
    "  -t, --tty              accepted for kubectl users: the terminal is passed\n"
    "  -h, --help             show this help\n";

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Into every cgroup of the container (cgroup v1 hosts have several). */
static int join_cgroups(json_t *dirs)
{
	char pid[32], path[4200];
	size_t i;
	json_t *d;

	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	json_array_foreach (dirs, i, d) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", json_string_value(d) ?: "");
		if (write_file(path, pid)) {
			fprintf(stderr, "error: cannot join the container's cgroup %s: %s\n",
				json_string_value(d) ?: "", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int join_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "error: cannot enter the pod's network namespace %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A process of the container (any in its cgroup: the shim stays
 * outside), read before this one joins; 0 when none runs. */
static int container_pid(json_t *dirs)
{
	char path[4200];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs",
		 json_string_value(json_array_get(dirs, 0)) ?: "");
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid;
}

/* Containers with volumeMounts have a mount namespace of their own; the
 * daemon does not say which: take the one of a container process. */
static int join_mntns(int pid)
{
	char path[64];
	struct stat mine, theirs;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	if (pid <= 0 || stat("/proc/self/ns/mnt", &mine) || stat(path, &theirs) ||
	    mine.st_ino == theirs.st_ino)
		return 0; /* none running, or the host's: nothing to join */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNS)) {
		fprintf(stderr, "error: cannot enter the container's mount namespace: %s\n",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* spec.workingDir, else where the container's process runs (podtrace runs
 * no images: that is the daemon's directory), else stay. */
static int enter_workdir(json_t *spec, int pid)
{
	const char *wd = jstr(spec, "workingDir", "");
	char path[64], cwd[4096];
	ssize_t n;

	if (!*wd && pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
		n = readlink(path, cwd, sizeof(cwd) - 1);
		if (n > 0) {
			cwd[n] = 0;
			wd = cwd;
		}
	}
	if (*wd && chdir(wd)) {
		fprintf(stderr, "error: workingDir %s: %s\n", wd, strerror(errno));
		return -1;
	}
	return 0;
}

/* What the runtime gives the container (see user/daemon/runtime.c): PATH
 * (the host's: there is no image), HOSTNAME, then spec.env values. */
static void container_env(json_t *pod, json_t *spec)
{
	const char *p = getenv("PATH");
	char *path =
	    strdup(p && *p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	size_t i;
	json_t *e;

	clearenv();
	setenv("PATH", path, 1);
	free(path);
	setenv("HOSTNAME", jstr(pod, "metadata.name", ""), 1);
	json_array_foreach (json_object_get(spec, "env"), i, e) {
		const char *name = jstr(e, "name", "");
		if (*name && !strchr(name, '='))
			setenv(name, jstr(e, "value", ""), 1);
	}
}

static int run(const char *ns, const char *name, const char *ctr, char **cmd)
{
	json_t *pod = pod_fetch(ns, name), *info = NULL, *spec;
	int pid;

	if (!pod)
		return 1;
	if (!ctr)
		ctr = pod_default_container(pod);
	if (!ctr) {
		fprintf(stderr, "error: pod %s has no containers\n", name);
		goto fail;
	}
	if (pod_phase_terminal(pod)) {
		fprintf(
		    stderr,
		    "error: cannot exec into a container in a completed pod; current phase is %s\n",
		    jstr(pod, "status.phase", ""));
		goto fail;
	}
	info = pod_container_info(ns, name, ctr);
	if (!info)
		goto fail;
	ctr = jstr(info, "container", ctr);
	if (!json_is_true(json_object_get(info, "running"))) {
		/* what the kubelet answers for a container that is not running */
		fprintf(stderr,
			"error: unable to upgrade connection: container not found (\"%s\")\n", ctr);
		goto fail;
	}
	spec = pod_container_spec(pod, ctr, NULL);
	pid = container_pid(json_object_get(info, "cgroups"));
	if (join_mntns(pid) || join_cgroups(json_object_get(info, "cgroups")) ||
	    join_netns(jstr(info, "netns", "")) || enter_workdir(spec, pid))
		goto fail;
	container_env(pod, spec);
	fflush(NULL);
	signal(SIGPIPE, SIG_DFL); /* main() ignores it; exec keeps ignored signals */
	execvp(cmd[0], cmd);
	fprintf(stderr, "error: exec \"%s\": %s\n", cmd[0],
		errno == ENOENT ? "executable file not found in $PATH" : strerror(errno));
	json_decref(info);
	json_decref(pod);
	return errno == ENOENT ? 127 : 126;
fail:
	json_decref(info);
	json_decref(pod);
	return 1;
}

static const struct option exec_opts[] = {
    {"container", required_argument, NULL, 'c'},
    {"namespace", required_argument, NULL, 'n'},
    {"stdin", no_argument, NULL, 'i'},
    {"tty", no_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_exec(int argc, char **argv)
{
	const char *ns = "default", *ctr = NULL;
	int c, dash;

	/* flags only before "--": what follows is the command's */
	for (dash = 1; dash < argc && strcmp(argv[dash], "--"); dash++)
		;
	optind = 0;
	while ((c = getopt_long(dash, argv, ":c:n:ith", exec_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctr = flag_value(optarg);
			break;
		case 'n':
			ns = flag_value(optarg);
			break;
		case 'i':
		case 't':
			break;
		case 'h':
			fputs(exec_usage, stdout);
			return 0;
		default:
			return bad_flag("exec", exec_usage, c, argv);
		}
	}
	if (optind == dash)
		return usage_error("exec", exec_usage, "a pod name is required");
	if (dash - optind > 1)
		return usage_error("exec", exec_usage,
				   "unexpected argument \"%s\": the command goes after \"--\"",
				   argv[optind + 1]);
	if (dash + 1 >= argc)
		return usage_error("exec", exec_usage,
				   "you must specify at least one command for the container");
	return run(ns, pod_arg_name(argv[optind]), ctr, argv + dash + 1);
}
