// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pod runtime. Each container runs under a shim: a forked copy of the
 * daemon that starts the container process (in the pod's netns and the
 * container's cgroups), waits for it and writes its exit status to a file,
 * like containerd-shim or conmon. The shim is not killed with the daemon, so
 * pods survive a daemon restart; the daemon watches shims through pidfds.
 *
 * Everything is driven from the event loop: pidfds (shims, hook and probe
 * helpers) and one timerfd for the earliest deadline (backoff, probes,
 * grace periods). After any event the pod's state machine (pod_step) runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "pod.h"
#include "runtime.h"
#include "sandbox.h"

#define SHIM_NAME "pt-shim"
#define MAX_BACKOFF_S 300.0

enum cstate { CS_WAITING, CS_RUNNING, CS_TERMINATED };
enum probe_kind { PK_READY, PK_LIVE, PK_START, PK__N };
enum task_kind { T_POSTSTART, T_PRESTOP, T_PROBE };

struct rpod;

struct rctr {
	struct watch w; /* the shim's pidfd */
	struct rpod *pod;
	int idx; /* into rp->c: init containers first */
	bool init;
	char name[64];
	enum cstate state;
	char reason[40], message[256];
	int exit_code, signal;
	int restarts;
	time_t started_at, finished_at;
	double started_mono, backoff_until, backoff_s;
	bool ready, started, post_start_done, ever_started, stopping;
	pid_t shim, main_pid;
	bool start_seen; /* the kernel saw the container's exec */
	uint64_t cgid;
	unsigned run_id;
	uint64_t oom_before;
	uint64_t oom_kills; /* OOMKilled exits, for metrics */
	/* probes */
	double next_probe[PK__N];
	int ok_count[PK__N], fail_count[PK__N];
	bool probing[PK__N];
};

struct rpod {
	char key[300], uid[64];
	json_t *obj; /* the stored Pod (own reference) */
	struct pod view;
	uint32_t pod_id;
	struct podnet net;
	char cg[128];
	struct rctr *c;
	int n_c, n_init;
	bool initialized, terminating, sandbox_ready;
	int last_ready; /* what the endpoints controller last saw */
	double kill_at;
	time_t start_time;
	double created_mono; /* for the pod startup histogram */
	bool was_ready;
	json_t *timeline; /* [{stage, container, tsNs, source}] */
	struct rpod *next;
};

/* A helper process: a hook or a probe. */
struct task {
	struct watch w;
	pid_t pid;
	enum task_kind kind;
	int probe;
	char pod_key[300];
	int ctr;
	unsigned run_id;
	double deadline;
	struct task *next;
};

struct runtime {
	struct daemon *d;
	struct cgmode cg;
	struct cidr cidr;
	struct idpool ips, pod_ids;
	struct rpod *pods;
	struct task *tasks;
	struct watch timer;
	char dir[512]; /* <state>/pods */
};

static struct runtime rt;

/* ---- small helpers ---- */
static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static struct rpod *find_pod(const char *key)
{
	for (struct rpod *p = rt.pods; p; p = p->next)
		if (!strcmp(p->key, key))
			return p;
	return NULL;
}

static void pod_key(json_t *obj, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", k8s_namespace(obj), k8s_name(obj));
}

static void pod_dir(const struct rpod *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", rt.dir, p->uid);
}

static void ctr_cg(const struct rpod *p, const struct rctr *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->cg, c->name);
}

static void log_path(const struct rpod *p, const struct rctr *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s.log", rt.dir, p->uid, c->name);
}

static void exit_path(const struct rpod *p, const struct rctr *c, unsigned run, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/%s/%s.%u.exit", rt.dir, p->uid, c->name, run);
}

static const struct container *spec_of(const struct rpod *p, const struct rctr *c)
{
	return c->init ? &p->view.init[c->idx] : &p->view.ctr[c->idx - p->n_init];
}

static void pod_step(struct rpod *p);
static void save_state(struct rpod *p);
static void schedule_probes(struct rpod *p, struct rctr *c, double from, bool delay);

/* A lifecycle stage: in the pod's timeline and in the event stream. ts is
 * the kernel's when it saw it (exec, exit, OOM), else now. */
static void stage_at(struct rpod *p, const struct rctr *c, const char *name, uint64_t ts,
		     bool kernel, const char *detail)
{
	json_t *st = json_pack("{s:s,s:I,s:s}", "stage", name, "tsNs", (json_int_t)ts, "source",
			       kernel ? "kernel" : "daemon");

	if (c)
		json_object_set_new(st, "container", json_string(c->name));
	if (detail)
		json_object_set_new(st, "detail", json_string(detail));
	if (!p->timeline)
		p->timeline = json_array();
	if (json_array_size(p->timeline) < 1000) /* a crash loop must not grow it forever */
		json_array_append(p->timeline, st);
	events_emit("lifecycle", p->view.ns, p->view.name, c ? c->name : NULL, st);
	json_decref(st);
}

static void stage(struct rpod *p, const struct rctr *c, const char *name, const char *detail)
{
	stage_at(p, c, name, events_now_ns(), false, detail);
}

/* ---- timer: one timerfd armed for the earliest deadline ---- */
static void consider(double *best, double t)
{
	if (t > 0 && (*best == 0 || t < *best))
		*best = t;
}

static void rearm(void)
{
	double best = 0;
	struct itimerspec its = {0};

	for (struct rpod *p = rt.pods; p; p = p->next) {
		if (p->terminating)
			consider(&best, p->kill_at);
		for (int i = 0; i < p->n_c; i++) {
			struct rctr *c = &p->c[i];
			consider(&best, c->backoff_until);
			/* probes wait for the exec event, which runs pod_step */
			bool waiting_exec = events_tracing() && !c->start_seen;
			if (c->state == CS_RUNNING && !waiting_exec)
				for (int k = 0; k < PK__N; k++)
					if (!c->probing[k])
						consider(&best, c->next_probe[k]);
			if (c->state == CS_RUNNING && !c->ready && !c->start_seen)
				consider(&best, c->started_mono + 2.01);
		}
	}
	for (struct task *t = rt.tasks; t; t = t->next)
		consider(&best, t->deadline);
	if (best > 0) {
		if (best < 1e-3)
			best = 1e-3;
		its.it_value.tv_sec = (time_t)best;
		its.it_value.tv_nsec = (long)((best - floor(best)) * 1e9);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(rt.timer.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- processes in the container's context ---- */

/* In a forked child: become part of the container (cgroups, netns). */
static int enter_container(const struct rpod *p, const struct rctr *c)
{
	char cg[256], ns[128];
	int fd;

	ctr_cg(p, c, cg, sizeof(cg));
	if (cg_enter(&rt.cg, cg, 0))
		return -1;
	snprintf(ns, sizeof(ns), "/run/netns/%s", p->net.netns);
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		return -1;
	close(fd);
	return 0;
}

static char **json_argv(json_t *a, json_t *b)
{
	size_t n = json_array_size(a) + json_array_size(b), k = 0, i;
	char **argv = calloc(n + 1, sizeof(char *));
	json_t *v;

	json_array_foreach (a, i, v)
		argv[k++] = (char *)json_string_value(v);
	json_array_foreach (b, i, v)
		argv[k++] = (char *)json_string_value(v);
	return argv;
}

/* The container's environment: PATH (the daemon's: there is no image to
 * take one from) and HOSTNAME like a container runtime, then spec.env
 * (value only; valueFrom is not supported). */
static char **ctr_env(const struct rpod *p, const struct container *s)
{
	size_t n = json_array_size(s->env) + 4, k = 0, i;
	char **env = calloc(n, sizeof(char *));
	json_t *e;

	const char *path = getenv("PATH");
	if (asprintf(&env[k], "PATH=%s",
		     path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") >
	    0)
		k++;
	if (asprintf(&env[k], "HOSTNAME=%s", p->view.name) > 0)
		k++;
	json_array_foreach (s->env, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *val = json_string_value(json_object_get(e, "value"));
		if (name && asprintf(&env[k], "%s=%s", name, val ? val : "") > 0)
			k++;
	}
	return env;
}

static void reset_child(void)
{
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
}

/* emptyDir volumes: a directory per pod under the state dir, bind-mounted
 * at each mountPath in a private mount namespace of the container. The
 * mountPath must exist on the host: podtrace runs no images. */
static void volume_dir(const struct rpod *p, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/volumes/%s", rt.dir, p->uid, name);
}

static int mount_volumes(const struct rpod *p, const struct container *s)
{
	char dir[1024];
	size_t i;
	json_t *m;

	if (!json_array_size(s->mounts))
		return 0;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		return -1;
	json_array_foreach (s->mounts, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *at = json_string_value(json_object_get(m, "mountPath"));
		if (!name || !at)
			continue;
		volume_dir(p, name, dir, sizeof(dir));
		if (mount(dir, at, NULL, MS_BIND, NULL))
			return -1;
		if (json_is_true(json_object_get(m, "readOnly")))
			mount(NULL, at, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
	}
	return 0;
}

/* Append to the container's log; past the cap the file is rotated to
 * <log>.1 (one old file kept), as kubelet's containerLogMaxSize does. */
static void log_write(const char *path, int *fd, const char *buf, size_t n, off_t cap)
{
	struct stat st;

	if (!fstat(*fd, &st) && st.st_size + (off_t)n > cap) {
		char old[1100];
		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
		close(*fd);
		*fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	}
	if (*fd >= 0 && write(*fd, buf, n) < 0)
		return;
}

/* The shim: runs in a forked child of the daemon. It copies the
 * container's output into the log (with the size cap) until the main
 * process exits, then writes the exit status. */
static void shim_main(struct rpod *p, struct rctr *c, int logfd)
{
	const struct container *s = spec_of(p, c);
	char path[1024], tmp[1100], lp[1024], buf[65536];
	int pipefd[2], st = 0, pfd;
	off_t cap = rt.d->o.log_max_bytes;
	pid_t child;

	prctl(PR_SET_NAME, SHIM_NAME);
	setsid();
	reset_child();
	/* keep only the log: the daemon's sockets (a CLI client waiting for
	 * its reply among them) must not live on in the shim */
	if (logfd != 3) {
		dup2(logfd, 3);
		logfd = 3;
	}
	close_range(4, ~0u, 0);
	if (pipe2(pipefd, O_CLOEXEC))
		_exit(1);
	child = fork();
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close_range(3, ~0u, 0);
		if (enter_container(p, c)) {
			dprintf(2, "podtrace: cannot enter the container's cgroup/netns: %s\n",
				strerror(errno));
			_exit(128);
		}
		if (mount_volumes(p, s)) {
			dprintf(2, "podtrace: volumeMounts: %s\n", strerror(errno));
			_exit(128);
		}
		if (s->workdir && chdir(s->workdir)) {
			dprintf(2, "podtrace: workingDir %s: %s\n", s->workdir, strerror(errno));
			_exit(128);
		}
		char **argv = json_argv(s->command, s->args);
		execvpe(argv[0], argv, ctr_env(p, s));
		dprintf(2, "podtrace: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	log_path(p, c, lp, sizeof(lp));
	pfd = pidfd_open(child);
	/* copy output until the main process is gone (a background child
	 * holding the pipe must not keep the shim alive) */
	for (;;) {
		struct pollfd fds[2] = {{.fd = pipefd[0], .events = POLLIN},
					{.fd = pfd, .events = POLLIN}};
		if (poll(fds, 2, -1) < 0 && errno == EINTR)
			continue;
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(pipefd[0], buf, sizeof(buf));
			if (n > 0) {
				log_write(lp, &logfd, buf, (size_t)n, cap);
				continue;
			}
			if (n == 0)
				break;
		}
		if (fds[1].revents & POLLIN) {
			/* drain what is already there, without waiting */
			fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
			ssize_t n;
			while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
				log_write(lp, &logfd, buf, (size_t)n, cap);
			break;
		}
	}
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	exit_path(p, c, c->run_id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":%lld}\n",
			WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
			WIFSIGNALED(st) ? WTERMSIG(st) : 0, (long long)time(NULL));
		fclose(f);
		rename(tmp, path);
	}
	_exit(0);
}

static void shim_event(struct daemon *d, struct watch *w, uint32_t events);

static void watch_shim(struct rctr *c)
{
	c->w.fd = pidfd_open(c->shim);
	c->w.fn = shim_event;
	if (c->w.fd >= 0)
		loop_add(rt.d, &c->w, EPOLLIN);
}

static int start_ctr(struct rpod *p, struct rctr *c)
{
	char lp[1024], cg[256];
	const struct container *s = spec_of(p, c);
	int logfd;
	pid_t pid;

	log_path(p, c, lp, sizeof(lp));
	logfd = open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (logfd < 0) {
		log_err("pod %s: log %s: %s", p->key, lp, strerror(errno));
		return -1;
	}
	ctr_cg(p, c, cg, sizeof(cg));
	/* the pod cgroup holds the same limits summed: an OOM may be charged
	 * to either level */
	c->oom_before = cg_oom_kills(&rt.cg, cg) + cg_oom_kills(&rt.cg, p->cg);
	c->cgid = cg_id(&rt.cg, cg);
	c->start_seen = false;
	c->main_pid = 0;
	c->run_id++;
	stage(p, c, c->restarts ? "RestartContainer" : "CreateContainer", NULL);
	pid = fork();
	if (pid < 0) {
		close(logfd);
		return -1;
	}
	if (pid == 0)
		shim_main(p, c, logfd);
	close(logfd);
	c->shim = pid;
	c->state = CS_RUNNING;
	c->reason[0] = c->message[0] = 0;
	c->started_at = time(NULL);
	c->started_mono = now_mono();
	c->ever_started = true;
	c->stopping = false;
	c->ready = false;
	c->post_start_done = !s->post_start;
	c->started = c->post_start_done && s->startup.type == PROBE_NONE;
	memset(c->ok_count, 0, sizeof(c->ok_count));
	memset(c->fail_count, 0, sizeof(c->fail_count));
	schedule_probes(p, c, c->started_mono, true);
	watch_shim(c);
	save_state(p);
	stage(p, c, "PreStart", NULL);
	log_info("pod %s: container %s started (shim %d)", p->key, c->name, (int)pid);
	return 0;
}

/* ---- hooks and probes: helper processes ---- */
static void task_event(struct daemon *d, struct watch *w, uint32_t events);

static int probe_tcp(const struct ipaddr *ip, uint16_t port, int timeout_s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = timeout_s};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = ip->a[0];
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -1 : fd;
}

/* kubelet: a status from 200 to 399 is a success. */
static int probe_http(const struct ipaddr *ip, const struct probe *pr)
{
	char req[512], resp[64], host[64];
	int fd = probe_tcp(ip, pr->port, pr->timeout_s), code = 0;
	ssize_t n;

	if (fd < 0)
		return 1;
	ip_str(ip, host, sizeof(host));
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: kube-probe/podtrace\r\n\r\n",
		     pr->path, pr->host ? pr->host : host, pr->port);
	if (write(fd, req, (size_t)n) != n)
		return 1;
	n = read(fd, resp, sizeof(resp) - 1);
	if (n > 0) {
		resp[n] = 0;
		sscanf(resp, "HTTP/%*s %d", &code);
	}
	return code >= 200 && code < 400 ? 0 : 1;
}

static const struct probe *probe_of(const struct rpod *p, const struct rctr *c, int k)
{
	const struct container *s = spec_of(p, c);

	return k == PK_READY ? &s->readiness : k == PK_LIVE ? &s->liveness : &s->startup;
}

/* First run of each probe: after initialDelaySeconds from a start, or at
 * once (a re-adopted container). */
static void schedule_probes(struct rpod *p, struct rctr *c, double from, bool delay)
{
	for (int k = 0; k < PK__N; k++) {
		const struct probe *pr = probe_of(p, c, k);
		c->next_probe[k] =
		    pr->type == PROBE_NONE ? 0 : from + (delay ? pr->initial_delay_s : 0);
	}
}

static struct task *spawn_task(struct rpod *p, struct rctr *c, enum task_kind kind, int probe,
			       double timeout_s)
{
	struct task *t = calloc(1, sizeof(*t));
	pid_t pid = fork();

	if (pid < 0) {
		free(t);
		return NULL;
	}
	if (pid == 0) {
		const struct probe *pr = kind == T_PROBE ? probe_of(p, c, probe) : NULL;
		int null = open("/dev/null", O_RDWR);

		reset_child();
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close_range(3, ~0u, 0);
		if (pr && pr->type == PROBE_TCP) {
			_exit(probe_tcp(&p->net.ip, pr->port, pr->timeout_s) < 0);
		} else if (pr && pr->type == PROBE_HTTP) {
			_exit(probe_http(&p->net.ip, pr));
		} else {
			json_t *cmd = pr		    ? pr->command
				      : kind == T_POSTSTART ? spec_of(p, c)->post_start
							    : spec_of(p, c)->pre_stop;
			char **argv = json_argv(cmd, NULL);
			if (enter_container(p, c))
				_exit(126);
			execvpe(argv[0], argv, ctr_env(p, spec_of(p, c)));
			_exit(127);
		}
	}
	t->pid = pid;
	t->kind = kind;
	t->probe = probe;
	snprintf(t->pod_key, sizeof(t->pod_key), "%s", p->key);
	t->ctr = c->idx;
	t->run_id = c->run_id;
	t->deadline = timeout_s > 0 ? now_mono() + timeout_s : 0;
	t->w.fd = pidfd_open(pid);
	t->w.fn = task_event;
	loop_add(rt.d, &t->w, EPOLLIN);
	t->next = rt.tasks;
	rt.tasks = t;
	return t;
}

static void task_free(struct task *t)
{
	struct task **pp;

	for (pp = &rt.tasks; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	loop_del(rt.d, &t->w);
	close(t->w.fd);
	free(t);
}

static void kill_ctr(struct rpod *p, struct rctr *c, int sig)
{
	char cg[256];

	ctr_cg(p, c, cg, sizeof(cg));
	cg_signal(&rt.cg, cg, sig);
}

static void probe_result(struct rpod *p, struct rctr *c, int k, bool ok)
{
	const struct probe *pr = probe_of(p, c, k);

	if (ok) {
		c->fail_count[k] = 0;
		if (++c->ok_count[k] < pr->success_threshold)
			return;
		if (k == PK_READY && !c->ready) {
			c->ready = true;
			stage(p, c, "Ready", NULL);
			log_info("pod %s: container %s ready", p->key, c->name);
		}
		if (k == PK_START && !c->started) {
			c->started = true;
			c->next_probe[PK_START] = 0; /* done */
		}
		return;
	}
	c->ok_count[k] = 0;
	stage(p, c, "ProbeFailed",
	      k == PK_READY  ? "readiness"
	      : k == PK_LIVE ? "liveness"
			     : "startup");
	if (++c->fail_count[k] < pr->failure_threshold)
		return;
	if (k == PK_READY) {
		if (c->ready)
			log_info("pod %s: container %s not ready (readiness probe failed)", p->key,
				 c->name);
		c->ready = false;
		return;
	}
	/* liveness/startup failure: kubelet kills the container */
	log_info("pod %s: container %s failed its %s probe, killing", p->key, c->name,
		 k == PK_LIVE ? "liveness" : "startup");
	c->fail_count[k] = 0;
	c->stopping = true;
	kill_ctr(p, c, SIGKILL);
}

static void task_event(struct daemon *d, struct watch *w, uint32_t events)
{
	struct task *t = (struct task *)w;
	struct rpod *p = find_pod(t->pod_key);
	int st = 0;

	(void)d;
	(void)events;
	if (waitpid(t->pid, &st, WNOHANG) <= 0)
		return;
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (p && t->ctr < p->n_c && p->c[t->ctr].run_id == t->run_id) {
		struct rctr *c = &p->c[t->ctr];
		if (t->kind == T_PROBE) {
			c->probing[t->probe] = false;
			if (c->state == CS_RUNNING) {
				probe_result(p, c, t->probe, ok);
				c->next_probe[t->probe] =
				    c->next_probe[t->probe]
					? now_mono() + probe_of(p, c, t->probe)->period_s
					: 0;
			}
		} else if (t->kind == T_POSTSTART) {
			c->post_start_done = true;
			if (!ok) {
				/* kubelet kills a container whose postStart fails */
				snprintf(c->message, sizeof(c->message), "PostStartHook failed");
				c->stopping = true;
				kill_ctr(p, c, SIGKILL);
			} else {
				c->started = spec_of(p, c)->startup.type == PROBE_NONE;
				stage(p, c, "PostStartHookDone", NULL);
				log_info("pod %s: container %s postStart done", p->key, c->name);
			}
		} else if (t->kind == T_PRESTOP) {
			log_info("pod %s: container %s preStop done, SIGTERM", p->key, c->name);
			stage(p, c, "StopContainer", "SIGTERM");
			kill_ctr(p, c, SIGTERM);
		}
	}
	task_free(t);
	if (p) {
		save_state(p);
		pod_step(p);
	}
	rearm();
}

/* ---- container exit ---- */
static void read_exit(struct rpod *p, struct rctr *c)
{
	char path[1024], cg[256];
	json_t *j;

	exit_path(p, c, c->run_id, path, sizeof(path));
	j = json_load_file(path, 0, NULL);
	c->exit_code = j ? (int)json_integer_value(json_object_get(j, "exitCode")) : 137;
	c->signal = j ? (int)json_integer_value(json_object_get(j, "signal")) : SIGKILL;
	c->finished_at =
	    j ? (time_t)json_integer_value(json_object_get(j, "finishedAt")) : time(NULL);
	json_decref(j);
	unlink(path);
	ctr_cg(p, c, cg, sizeof(cg));
	/* as containerd: an OOM kill in the container's cgroup during the run
	 * makes it OOMKilled, whichever process of it the kernel chose */
	if (cg_oom_kills(&rt.cg, cg) + cg_oom_kills(&rt.cg, p->cg) > c->oom_before) {
		snprintf(c->reason, sizeof(c->reason), "OOMKilled");
		c->exit_code = 137;
	} else {
		snprintf(c->reason, sizeof(c->reason), "%s", c->exit_code ? "Error" : "Completed");
	}
	/* the container is its main process: the rest of its cgroup goes too */
	cg_signal(&rt.cg, cg, SIGKILL);
}

static void ctr_exited(struct rpod *p, struct rctr *c)
{
	if (c->w.fd >= 0) {
		loop_del(rt.d, &c->w);
		close(c->w.fd);
		c->w.fd = -1;
	}
	waitpid(c->shim, NULL, WNOHANG); /* ours unless re-adopted */
	c->shim = 0;
	read_exit(p, c);
	c->state = CS_TERMINATED;
	c->ready = false;
	c->started = false;
	memset(c->probing, 0, sizeof(c->probing));
	log_info("pod %s: container %s exited: %s (exit code %d)", p->key, c->name, c->reason,
		 c->exit_code);
	char detail[64];
	snprintf(detail, sizeof(detail), "%s, exit code %d", c->reason, c->exit_code);
	stage(p, c, !strcmp(c->reason, "OOMKilled") ? "OOMKilled" : "Exited", detail);
	if (!strcmp(c->reason, "OOMKilled"))
		c->oom_kills++;
	save_state(p);
}

static void shim_event(struct daemon *d, struct watch *w, uint32_t events)
{
	struct rctr *c = (struct rctr *)w;
	struct rpod *p = c->pod;

	(void)d;
	(void)events;
	ctr_exited(p, c);
	pod_step(p);
	rearm();
}

/* ---- the state machine ---- */
static bool should_restart(const struct rpod *p, const struct rctr *c)
{
	if (p->terminating || c->state != CS_TERMINATED)
		return false;
	if (p->view.restart == RESTART_ALWAYS)
		return !c->init || c->exit_code != 0;
	if (p->view.restart == RESTART_ON_FAILURE)
		return c->exit_code != 0;
	return false;
}

/* CrashLoopBackOff: base, doubling, capped at 5 minutes (kubelet). A
 * container that ran for 10 minutes starts over from the base. */
static void schedule_restart(struct rpod *p, struct rctr *c)
{
	double base = p == NULL ? 10 : rt.d->o.backoff_base;
	double ran = (double)(c->finished_at - c->started_at);

	if (c->backoff_until)
		return;
	if (ran >= 2 * MAX_BACKOFF_S * base / 10)
		c->backoff_s = 0;
	c->backoff_s = c->backoff_s ? fmin(c->backoff_s * 2, MAX_BACKOFF_S * base / 10) : base;
	c->backoff_until = now_mono() + c->backoff_s;
	snprintf(c->reason, sizeof(c->reason), "CrashLoopBackOff");
	snprintf(c->message, sizeof(c->message),
		 "back-off %gs restarting failed container=%s pod=%s", c->backoff_s, c->name,
		 p->view.name);
}

static void run_probes(struct rpod *p, struct rctr *c, double now)
{
	for (int k = 0; k < PK__N; k++) {
		const struct probe *pr = probe_of(p, c, k);
		if (!c->next_probe[k] || c->probing[k] || now < c->next_probe[k])
			continue;
		/* startup gates the others; probes wait for postStart, and for
		 * the process to exist (the kernel saw its exec) */
		if (!c->post_start_done ||
		    (k != PK_START && spec_of(p, c)->startup.type != PROBE_NONE && !c->started) ||
		    (events_tracing() && !c->start_seen && now - c->started_mono < 2))
			continue;
		if (spawn_task(p, c, T_PROBE, k, pr->timeout_s))
			c->probing[k] = true;
	}
}

static void ctr_tick(struct rpod *p, struct rctr *c, double now)
{
	if (c->state == CS_TERMINATED && should_restart(p, c)) {
		schedule_restart(p, c);
		if (now >= c->backoff_until) {
			c->backoff_until = 0;
			c->restarts++;
			start_ctr(p, c);
		}
		return;
	}
	if (c->state != CS_RUNNING)
		return;
	if (!c->post_start_done && spec_of(p, c)->post_start) {
		bool running_hook = false;
		for (struct task *t = rt.tasks; t; t = t->next)
			running_hook |= t->kind == T_POSTSTART && t->ctr == c->idx &&
					!strcmp(t->pod_key, p->key);
		if (!running_hook)
			spawn_task(p, c, T_POSTSTART, 0, 30);
	}
	/* without a readiness probe: ready once the process runs (the kernel
	 * saw its exec, when tracing) and postStart is done */
	if (!c->init && spec_of(p, c)->readiness.type == PROBE_NONE && !c->ready && c->started &&
	    c->post_start_done &&
	    (c->start_seen || !events_tracing() ||
	     now - c->started_mono > 2 /* exec event lost */)) {
		c->ready = true;
		stage(p, c, "Ready", NULL);
		save_state(p);
	}
	run_probes(p, c, now);
}

/* Init containers one by one to completion, then the containers in order,
 * each after the previous one's postStart hook. */
static void advance(struct rpod *p, double now)
{
	for (int i = 0; i < p->n_init && !p->initialized; i++) {
		struct rctr *c = &p->c[i];

		if (c->state == CS_WAITING && !c->ever_started) {
			start_ctr(p, c);
			return;
		}
		if (c->state == CS_TERMINATED && c->exit_code == 0)
			continue;
		ctr_tick(p, c, now);
		return;
	}
	p->initialized = true;
	for (int i = p->n_init; i < p->n_c; i++) {
		struct rctr *c = &p->c[i];

		if (c->state == CS_WAITING && !c->ever_started) {
			if (i > p->n_init && !p->c[i - 1].post_start_done)
				return; /* the previous container's postStart first */
			snprintf(c->reason, sizeof(c->reason), "ContainerCreating");
			start_ctr(p, c);
		}
		ctr_tick(p, c, now);
	}
}

static void cleanup_pod(struct rpod *p);

static void stop_tick(struct rpod *p, double now)
{
	bool alive = false;

	for (int i = 0; i < p->n_c; i++)
		alive |= p->c[i].state == CS_RUNNING;
	if (alive && now >= p->kill_at) {
		log_info("pod %s: grace period over, SIGKILL", p->key);
		cg_signal(&rt.cg, p->cg, SIGKILL);
		p->kill_at = now + 1; /* and again, until the shims report */
	}
	if (!alive)
		cleanup_pod(p);
}

static void pod_step(struct rpod *p)
{
	double now = now_mono();

	if (!p->sandbox_ready)
		return;
	if (p->terminating) {
		stop_tick(p, now);
		return;
	}
	advance(p, now);
	/* endpoints follow readiness */
	int term, ready = runtime_pod_ready(rt.d, p->obj, &term);
	if (ready && !p->was_ready) {
		p->was_ready = true; /* startup: applied -> Ready, once */
		metrics_observe(M_POD_STARTUP, now - p->created_mono);
	}
	if (ready != p->last_ready) {
		p->last_ready = ready;
		endpoints_pod_changed(rt.d, p->obj);
	}
}

static void timer_event(struct daemon *d, struct watch *w, uint32_t events)
{
	uint64_t n;
	double now = now_mono();

	(void)d;
	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	for (struct task *t = rt.tasks, *next; t; t = next) {
		next = t->next;
		if (t->deadline && now >= t->deadline) {
			kill(t->pid, SIGKILL); /* a timed-out hook or probe fails */
			t->deadline = 0;
		}
	}
	for (struct rpod *p = rt.pods, *next; p; p = next) {
		next = p->next;
		pod_step(p);
	}
	rearm();
}

/* ---- persistence for re-adoption ---- */
static void save_state(struct rpod *p)
{
	char dir[1024], path[1100], tmp[1200];
	json_t *ctrs = json_array(), *j;

	for (int i = 0; i < p->n_c; i++) {
		struct rctr *c = &p->c[i];
		json_array_append_new(
		    ctrs,
		    json_pack("{s:s,s:i,s:s,s:s,s:i,s:i,s:i,s:I,s:I,s:i,s:i,s:b,s:b,s:f,s:b}",
			      "name", c->name, "state", c->state, "reason", c->reason, "message",
			      c->message, "exitCode", c->exit_code, "signal", c->signal, "restarts",
			      c->restarts, "startedAt", (json_int_t)c->started_at, "finishedAt",
			      (json_int_t)c->finished_at, "shim", (int)c->shim, "runId",
			      (int)c->run_id, "postStartDone", c->post_start_done, "everStarted",
			      c->ever_started, "backoff", c->backoff_s, "ready", c->ready));
	}
	j = json_pack("{s:i,s:s,s:s,s:s,s:s,s:b,s:I,s:o}", "podId", p->pod_id, "netns",
		      p->net.netns, "veth", p->net.veth, "ip", ip_str(&p->net.ip, tmp, sizeof(tmp)),
		      "cgroup", p->cg, "initialized", p->initialized, "startTime",
		      (json_int_t)p->start_time, "containers", ctrs);
	pod_dir(p, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/runtime.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!json_dump_file(j, tmp, JSON_COMPACT))
		rename(tmp, path);
	json_decref(j);
}

/* ---- create / delete ---- */
static struct rpod *new_pod(json_t *obj)
{
	struct rpod *p = calloc(1, sizeof(*p));

	p->obj = json_incref(obj);
	p->created_mono = now_mono();
	pod_key(obj, p->key, sizeof(p->key));
	pod_view(obj, &p->view);
	snprintf(p->uid, sizeof(p->uid), "%s", p->view.uid);
	p->n_init = p->view.n_init;
	p->n_c = p->view.n_init + p->view.n_ctr;
	p->c = calloc((size_t)p->n_c, sizeof(*p->c));
	for (int i = 0; i < p->n_c; i++) {
		struct rctr *c = &p->c[i];
		c->pod = p;
		c->idx = i;
		c->init = i < p->n_init;
		c->w.fd = -1;
		snprintf(c->name, sizeof(c->name), "%s",
			 c->init ? p->view.init[i].name : p->view.ctr[i - p->n_init].name);
		snprintf(c->reason, sizeof(c->reason), "%s",
			 p->n_init && !c->init ? "PodInitializing" : "ContainerCreating");
	}
	/* netns/veth names are short: derived from the uid */
	snprintf(p->net.netns, sizeof(p->net.netns), "ptp-%.12s", p->uid);
	snprintf(p->net.veth, sizeof(p->net.veth), "ptv%.8s", p->uid);
	snprintf(p->cg, sizeof(p->cg), "podtrace/pod%s", p->uid);
	p->next = rt.pods;
	rt.pods = p;
	return p;
}

static void free_pod(struct rpod *p)
{
	struct rpod **pp;

	for (pp = &rt.pods; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	for (int i = 0; i < p->n_c; i++)
		if (p->c[i].w.fd >= 0) {
			loop_del(rt.d, &p->c[i].w);
			close(p->c[i].w.fd);
		}
	json_decref(p->obj);
	json_decref(p->timeline);
	free(p->c);
	free(p);
}

static struct cg_limits ctr_limits(const struct container *s)
{
	struct cg_limits l = {0};

	l.cpu_quota_us = s->cpu_lim_m ? s->cpu_lim_m * 100 : 0; /* m * 100000 / 1000 */
	if (l.cpu_quota_us && l.cpu_quota_us < 1000)
		l.cpu_quota_us = 1000; /* the kernel's minimum quota */
	l.cpu_shares =
	    s->cpu_req_m ? (s->cpu_req_m * 1024 / 1000 < 2 ? 2 : s->cpu_req_m * 1024 / 1000) : 2;
	l.mem_bytes = s->mem_lim;
	return l;
}

/* The pod cgroup holds the sum of the limits when every container has
 * one (kubelet), and the pids limit. */
static struct cg_limits pod_limits(const struct rpod *p)
{
	struct cg_limits l = {0};
	bool all_cpu = true, all_mem = true;
	int64_t shares = 0;

	for (int i = p->n_init; i < p->n_c; i++) {
		const struct container *s = spec_of(p, &p->c[i]);
		all_cpu &= s->cpu_lim_m > 0;
		all_mem &= s->mem_lim > 0;
		l.cpu_quota_us += s->cpu_lim_m * 100;
		l.mem_bytes += s->mem_lim;
		shares += s->cpu_req_m * 1024 / 1000;
	}
	if (!all_cpu)
		l.cpu_quota_us = 0;
	if (!all_mem)
		l.mem_bytes = 0;
	l.cpu_shares = shares > 2 ? shares : 2;
	l.pids_max = rt.d->o.pod_pids_limit;
	return l;
}

static int make_sandbox(struct rpod *p, char *err, size_t len)
{
	char dir[1024], cg[256];
	uint32_t off;

	pod_dir(p, dir, sizeof(dir));
	mkdir(dir, 0700);
	if (json_array_size(p->view.volumes)) {
		size_t i;
		json_t *v;
		char vd[1100];
		snprintf(vd, sizeof(vd), "%s/volumes", dir);
		mkdir(vd, 0755);
		json_array_foreach (p->view.volumes, i, v) {
			volume_dir(p, json_string_value(json_object_get(v, "name")) ?: "_", vd,
				   sizeof(vd));
			mkdir(vd, 0777);
		}
	}
	if (idpool_get(&rt.pod_ids, &p->pod_id)) {
		snprintf(err, len, "too many pods (%d)", PT_MAX_PODS);
		return -1;
	}
	if (idpool_get(&rt.ips, &off)) {
		snprintf(err, len, "no free address in --pod-cidr");
		return -1;
	}
	p->net.ip = cidr_nth(&rt.cidr, off);
	struct cg_limits pl = pod_limits(p);
	if (cg_create(&rt.cg, p->cg, &pl)) {
		snprintf(err, len, "cannot create the pod cgroup (see daemon log)");
		return -1;
	}
	for (int i = 0; i < p->n_c; i++) {
		struct cg_limits l = ctr_limits(spec_of(p, &p->c[i]));
		ctr_cg(p, &p->c[i], cg, sizeof(cg));
		if (cg_create(&rt.cg, cg, &l)) {
			snprintf(err, len, "cannot create the cgroup of container %s",
				 p->c[i].name);
			return -1;
		}
	}
	if (net_setup(&p->net)) {
		snprintf(err, len, "cannot set up the pod network (see daemon log)");
		return -1;
	}
	guard_pod_added(rt.d, p->uid, p->pod_id, &rt.cg, p->cg, p->n_c, &p->view);
	p->start_time = time(NULL);
	p->sandbox_ready = true;
	p->last_ready = -1;
	stage(p, NULL, "SandboxCreated", NULL);
	return 0;
}

static void release(struct rpod *p)
{
	char dir[1024], cmd[1100];

	guard_pod_removed(rt.d, p->uid, p->pod_id, &rt.cg, p->cg, p->n_c, &p->view);
	net_teardown(&p->net);
	cg_remove(&rt.cg, p->cg);
	if (!rt.pods || (rt.pods == p && !p->next))
		cg_remove_empty(&rt.cg, "podtrace"); /* the last pod: the parent too */
	if (cidr_contains(&rt.cidr, &p->net.ip))
		idpool_put(&rt.ips, cidr_offset(&rt.cidr, &p->net.ip));
	idpool_put(&rt.pod_ids, p->pod_id);
	pod_dir(p, dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd))
		log_warn("remove %s failed", dir);
}

static void cleanup_pod(struct rpod *p)
{
	char key[300];
	json_t *obj = json_incref(p->obj);

	log_info("pod %s: stopped, sandbox removed", p->key);
	snprintf(key, sizeof(key), "%s", p->key);
	release(p);
	free_pod(p);
	store_del(&rt.d->store, K_POD, k8s_namespace(obj), k8s_name(obj));
	endpoints_pod_changed(rt.d, obj);
	json_decref(obj);
}

int runtime_apply(struct daemon *d, json_t *pod, json_t *prev, char *err, size_t len)
{
	char key[300];
	struct rpod *p;

	(void)d;
	pod_key(pod, key, sizeof(key));
	p = find_pod(key);
	if (p && prev) {
		/* only metadata may change (labels drive Services) */
		if (!json_equal(json_object_get(pod, "spec"), json_object_get(prev, "spec"))) {
			snprintf(err, len,
				 "spec: Forbidden: pod updates may not change fields other than "
				 "metadata with podtrace");
			return -1;
		}
		json_decref(p->obj);
		p->obj = json_incref(pod);
		pod_view(p->obj, &p->view);
		endpoints_pod_changed(rt.d, pod);
		if (prev)
			endpoints_pod_changed(rt.d, prev);
		return 0;
	}
	if (p) {
		snprintf(err, len, "pod %s is terminating", key);
		return -1;
	}
	p = new_pod(pod);
	if (make_sandbox(p, err, len)) {
		release(p);
		free_pod(p);
		return -1;
	}
	save_state(p);
	log_info("pod %s: sandbox ready, ip %s", p->key, ip_str(&p->net.ip, key, sizeof(key)));
	pod_step(p);
	rearm();
	return 0;
}

int runtime_delete(struct daemon *d, const char *ns, const char *name, char *err, size_t len)
{
	char key[300], ts[32];
	struct rpod *p;

	(void)d;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	p = find_pod(key);
	if (!p) {
		snprintf(err, len, "pod %s not found", key);
		return -1;
	}
	if (p->terminating)
		return 0;
	p->terminating = true;
	rfc3339(time(NULL), ts, sizeof(ts));
	json_object_set_new(json_object_get(p->obj, "metadata"), "deletionTimestamp",
			    json_string(ts));
	for (int i = 0; i < p->n_c; i++)
		p->c[i].ready = false;
	/* leave the load balancer before any signal (kubelet + endpoints) */
	endpoints_pod_changed(rt.d, p->obj);
	p->kill_at = now_mono() + (double)p->view.grace_s;
	for (int i = 0; i < p->n_c; i++) {
		struct rctr *c = &p->c[i];
		c->backoff_until = 0;
		if (c->state != CS_RUNNING)
			continue;
		if (spec_of(p, c)->pre_stop && !c->init) {
			stage(p, c, "PreStop", NULL);
			spawn_task(p, c, T_PRESTOP, 0, (double)p->view.grace_s);
		} else {
			stage(p, c, "StopContainer", "SIGTERM");
			kill_ctr(p, c, SIGTERM);
		}
	}
	log_info("pod %s: terminating (grace %llds)", p->key, (long long)p->view.grace_s);
	pod_step(p);
	rearm();
	return 0;
}

/* ---- status ---- */
static json_t *ctr_status(const struct rpod *p, const struct rctr *c)
{
	const struct container *s = spec_of(p, c);
	char a[32], b[32];
	json_t *state;

	if (c->state == CS_RUNNING) {
		rfc3339(c->started_at, a, sizeof(a));
		state = json_pack("{s:{s:s}}", "running", "startedAt", a);
	} else if (c->state == CS_TERMINATED && !c->backoff_until) {
		rfc3339(c->started_at, a, sizeof(a));
		rfc3339(c->finished_at, b, sizeof(b));
		state = json_pack("{s:{s:i,s:s,s:s,s:s}}", "terminated", "exitCode", c->exit_code,
				  "reason", c->reason, "startedAt", a, "finishedAt", b);
		if (c->signal)
			json_object_set_new(json_object_get(state, "terminated"), "signal",
					    json_integer(c->signal));
	} else {
		state = json_pack("{s:{s:s}}", "waiting", "reason",
				  c->reason[0] ? c->reason : "ContainerCreating");
		if (c->message[0])
			json_object_set_new(json_object_get(state, "waiting"), "message",
					    json_string(c->message));
	}
	json_t *st =
	    json_pack("{s:s,s:s,s:s,s:o,s:b,s:i,s:b}", "name", c->name, "image",
		      s->image ? s->image : "", "imageID", "", "state", state, "ready", c->ready,
		      "restartCount", c->restarts, "started", c->state == CS_RUNNING && c->started);
	if (c->state == CS_TERMINATED && c->backoff_until) {
		/* the last run, as kubelet shows it during CrashLoopBackOff */
		rfc3339(c->started_at, a, sizeof(a));
		rfc3339(c->finished_at, b, sizeof(b));
		json_object_set_new(
		    st, "lastState",
		    json_pack("{s:{s:i,s:s,s:s,s:s}}", "terminated", "exitCode", c->exit_code,
			      "reason",
			      c->reason[0] == 'C' && c->reason[1] == 'r' ? "Error" : c->reason,
			      "startedAt", a, "finishedAt", b));
	}
	return st;
}

static const char *phase_of(const struct rpod *p)
{
	int running = 0, ok = 0, failed = 0, restarting = 0;

	for (int i = 0; i < p->n_init; i++) {
		const struct rctr *c = &p->c[i];
		if (c->state == CS_TERMINATED && c->exit_code && !should_restart(p, c))
			return "Failed";
	}
	if (!p->initialized)
		return "Pending";
	for (int i = p->n_init; i < p->n_c; i++) {
		const struct rctr *c = &p->c[i];
		if (c->state == CS_RUNNING)
			running++;
		else if (c->state == CS_TERMINATED && should_restart(p, c))
			restarting++;
		else if (c->state == CS_TERMINATED && c->exit_code == 0)
			ok++;
		else if (c->state == CS_TERMINATED)
			failed++;
	}
	if (running || restarting)
		return "Running";
	if (ok + failed == p->n_c - p->n_init)
		return failed ? "Failed" : "Succeeded";
	return "Pending";
}

static json_t *cond(const char *type, bool ok, const char *reason)
{
	json_t *c = json_pack("{s:s,s:s,s:n}", "type", type, "status", ok ? "True" : "False",
			      "lastProbeTime");
	if (!ok && reason)
		json_object_set_new(c, "reason", json_string(reason));
	return c;
}

json_t *runtime_status(struct daemon *d, json_t *pod)
{
	char key[300], buf[64];
	struct rpod *p;
	json_t *st, *cs = json_array(), *ics = json_array(), *conds = json_array();
	bool ready = true;

	pod_key(pod, key, sizeof(key));
	p = find_pod(key);
	if (!p)
		return json_pack("{s:s}", "phase", "Pending");
	for (int i = 0; i < p->n_c; i++) {
		json_array_append_new(p->c[i].init ? ics : cs, ctr_status(p, &p->c[i]));
		if (!p->c[i].init)
			ready &= p->c[i].ready;
	}
	ready &= p->initialized && !p->terminating;
	/* kubelet's order */
	json_array_append_new(conds,
			      cond("Initialized", p->initialized, "ContainersNotInitialized"));
	json_array_append_new(conds, cond("Ready", ready, "ContainersNotReady"));
	json_array_append_new(conds, cond("ContainersReady", ready, "ContainersNotReady"));
	json_array_append_new(conds, cond("PodScheduled", true, NULL));
	st = json_pack("{s:s,s:o,s:o}", "phase", phase_of(p), "conditions", conds,
		       "containerStatuses", cs);
	if (p->n_init)
		json_object_set_new(st, "initContainerStatuses", ics);
	else
		json_decref(ics);
	if (p->sandbox_ready) {
		ip_str(&p->net.ip, buf, sizeof(buf));
		json_object_set_new(st, "podIP", json_string(buf));
		json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", buf));
		rfc3339(p->start_time, buf, sizeof(buf));
		json_object_set_new(st, "startTime", json_string(buf));
	}
	if (d->node_ip[0])
		json_object_set_new(st, "hostIP", json_string(d->node_ip));
	json_object_set_new(st, "qosClass", json_string(qos_name(pod_qos(&p->view))));
	return st;
}

int runtime_pod_ready(struct daemon *d, json_t *pod, int *terminating)
{
	char key[300];
	struct rpod *p;
	int ready = 1;

	(void)d;
	pod_key(pod, key, sizeof(key));
	p = find_pod(key);
	*terminating = p ? p->terminating : 0;
	if (!p || !p->initialized)
		return 0;
	for (int i = p->n_init; i < p->n_c; i++)
		ready &= p->c[i].ready;
	return ready && !p->terminating;
}

const char *runtime_pod_ip(struct daemon *d, json_t *pod)
{
	static char buf[64];
	char key[300];
	struct rpod *p;

	(void)d;
	pod_key(pod, key, sizeof(key));
	p = find_pod(key);
	if (!p || !p->sandbox_ready)
		return NULL;
	return ip_str(&p->net.ip, buf, sizeof(buf));
}

json_t *runtime_container_info(struct daemon *d, const char *ns, const char *name, const char *ctr,
			       char *err, size_t len)
{
	char key[300], lp[1024], cg[256], dir[768];
	struct rpod *p;
	struct rctr *c = NULL;
	json_t *dirs;

	(void)d;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	p = find_pod(key);
	if (!p) {
		snprintf(err, len, "pods \"%s\" not found", name);
		return NULL;
	}
	for (int i = p->n_init; i < p->n_c && !c; i++)
		if (!ctr || !*ctr || !strcmp(p->c[i].name, ctr))
			c = &p->c[i];
	for (int i = 0; i < p->n_init && !c; i++)
		if (ctr && !strcmp(p->c[i].name, ctr))
			c = &p->c[i];
	if (!c) {
		snprintf(err, len, "container %s is not valid for pod %s", ctr ? ctr : "", name);
		return NULL;
	}
	log_path(p, c, lp, sizeof(lp));
	ctr_cg(p, c, cg, sizeof(cg));
	dirs = json_array();
	cg_dir(&rt.cg, NULL, cg, dir, sizeof(dir));
	json_array_append_new(dirs, json_string(dir));
	if (!rt.cg.v2) {
		static const char *const ctrls[] = {"memory", "cpu", "pids"};
		for (int i = 0; i < 3; i++) {
			cg_dir(&rt.cg, ctrls[i], cg, dir, sizeof(dir));
			json_array_append_new(dirs, json_string(dir));
		}
	}
	snprintf(dir, sizeof(dir), "/run/netns/%s", p->net.netns);
	return json_pack("{s:s,s:s,s:s,s:o,s:b}", "container", c->name, "log", lp, "netns", dir,
			 "cgroups", dirs, "running", c->state == CS_RUNNING);
}

json_t *runtime_timeline(struct daemon *d, const char *ns, const char *name, char *err, size_t len)
{
	char key[300];
	struct rpod *p;

	(void)d;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	p = find_pod(key);
	if (!p) {
		snprintf(err, len, "pods \"%s\" not found", name);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:O}", "namespace", ns, "pod", name, "stages",
			 p->timeline ? p->timeline : json_array());
}

/* The kernel's view of a container's start and end: the first exec in its
 * cgroup is the container process; its exit and an OOM kill are stamped
 * with the kernel's time. */
void runtime_kernel_event(struct daemon *d, const void *rec, size_t len)
{
	const struct pt_event_hdr *h = rec;

	(void)d;
	if (len < sizeof(*h) ||
	    (h->type != PT_EV_EXEC && h->type != PT_EV_EXIT && h->type != PT_EV_OOM))
		return;
	for (struct rpod *p = rt.pods; p; p = p->next)
		for (int i = 0; i < p->n_c; i++) {
			struct rctr *c = &p->c[i];
			if (c->cgid != h->cgroup_id)
				continue;
			/* the container process is the shim's child; hooks, probes
			 * and `podtrace exec` run in the same cgroup */
			if (h->type == PT_EV_EXEC && !c->start_seen && c->state == CS_RUNNING &&
			    len >= PT_EXEC_FIXED_SIZE &&
			    (pid_t)((const struct pt_event_exec *)rec)->ppid == c->shim) {
				c->start_seen = true;
				c->main_pid = (pid_t)h->pid;
				stage_at(p, c, "StartContainer", h->ts_ns, true, NULL);
				pod_step(p);
				rearm();
			} else if (h->type == PT_EV_EXIT && c->main_pid &&
				   (pid_t)h->pid == c->main_pid) {
				stage_at(p, c, "ProcessExit", h->ts_ns, true, NULL);
				c->main_pid = 0;
			} else if (h->type == PT_EV_OOM) {
				stage_at(p, c, "OOMKill", h->ts_ns, true, NULL);
			}
			return;
		}
}

int runtime_pod_id_alloc(uint32_t *id)
{
	return idpool_get(&rt.pod_ids, id);
}

/* What the metrics and `top` show per pod and container. */
json_t *runtime_metrics(struct daemon *d)
{
	json_t *pods = json_array();

	(void)d;
	for (struct rpod *p = rt.pods; p; p = p->next) {
		json_t *cs = json_array();
		char cg[256];

		if (!p->sandbox_ready)
			continue;
		for (int i = 0; i < p->n_c; i++) {
			struct rctr *c = &p->c[i];
			ctr_cg(p, c, cg, sizeof(cg));
			json_array_append_new(
			    cs,
			    json_pack("{s:s,s:f,s:I,s:i,s:I,s:I}", "name", c->name, "cpuSeconds",
				      (double)cg_cpu_usec(&rt.cg, cg) / 1e6, "memoryWorkingSet",
				      (json_int_t)cg_mem_working_set(&rt.cg, cg), "restarts",
				      c->restarts, "oomKills", (json_int_t)c->oom_kills, "execs",
				      (json_int_t)events_execs(cg_id(&rt.cg, cg))));
		}
		json_array_append_new(
		    pods,
		    json_pack("{s:s,s:s,s:i,s:f,s:I,s:o}", "namespace", p->view.ns, "pod",
			      p->view.name, "podId", p->pod_id, "cpuSeconds",
			      (double)cg_cpu_usec(&rt.cg, p->cg) / 1e6, "memoryWorkingSet",
			      (json_int_t)cg_mem_working_set(&rt.cg, p->cg), "containers", cs));
	}
	return pods;
}

/* ---- start-up ---- */
static void adopt_one(struct daemon *d, json_t *obj)
{
	struct rpod *p = new_pod(obj);
	char dir[1024], path[1100];
	json_t *j, *cs, *c;
	size_t i;

	pod_dir(p, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/runtime.json", dir);
	j = json_load_file(path, 0, NULL);
	if (!j) {
		/* never got a sandbox: make one now */
		char err[256];
		if (make_sandbox(p, err, sizeof(err))) {
			log_err("pod %s: %s", p->key, err);
			release(p);
			free_pod(p);
			return;
		}
		save_state(p);
		return;
	}
	p->pod_id = (uint32_t)json_integer_value(json_object_get(j, "podId"));
	idpool_take(&rt.pod_ids, p->pod_id);
	ip_parse(json_string_value(json_object_get(j, "ip")), &p->net.ip);
	if (cidr_contains(&rt.cidr, &p->net.ip))
		idpool_take(&rt.ips, cidr_offset(&rt.cidr, &p->net.ip));
	p->initialized = json_is_true(json_object_get(j, "initialized"));
	p->start_time = (time_t)json_integer_value(json_object_get(j, "startTime"));
	cs = json_object_get(j, "containers");
	json_array_foreach (cs, i, c) {
		if ((int)i >= p->n_c)
			break;
		struct rctr *r = &p->c[i];
		r->state = (enum cstate)json_integer_value(json_object_get(c, "state"));
		snprintf(r->reason, sizeof(r->reason), "%s",
			 json_string_value(json_object_get(c, "reason")) ?: "");
		snprintf(r->message, sizeof(r->message), "%s",
			 json_string_value(json_object_get(c, "message")) ?: "");
		r->exit_code = (int)json_integer_value(json_object_get(c, "exitCode"));
		r->signal = (int)json_integer_value(json_object_get(c, "signal"));
		r->restarts = (int)json_integer_value(json_object_get(c, "restarts"));
		r->started_at = (time_t)json_integer_value(json_object_get(c, "startedAt"));
		r->finished_at = (time_t)json_integer_value(json_object_get(c, "finishedAt"));
		r->shim = (pid_t)json_integer_value(json_object_get(c, "shim"));
		r->run_id = (unsigned)json_integer_value(json_object_get(c, "runId"));
		r->post_start_done = json_is_true(json_object_get(c, "postStartDone"));
		r->ever_started = json_is_true(json_object_get(c, "everStarted"));
		r->backoff_s = json_real_value(json_object_get(c, "backoff"));
		r->started = r->post_start_done;
		r->started_mono = now_mono();
		if (r->state != CS_RUNNING)
			continue;
		/* the shim is ours if it still runs under its name */
		char comm[64] = "", cpath[64];
		snprintf(cpath, sizeof(cpath), "/proc/%d/comm", (int)r->shim);
		FILE *f = fopen(cpath, "r");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
		}
		if (r->shim > 0 && !strncmp(comm, SHIM_NAME, strlen(SHIM_NAME)))
			watch_shim(r);
		if (r->w.fd < 0) {
			ctr_exited(p, r); /* exited while we were away */
			continue;
		}
		/* probe again at once: their state died with the old daemon */
		/* the process is already there; readiness carries over (and
		 * is probed again at once) so a daemon restart does not take
		 * the pod out of its Services */
		r->start_seen = true;
		r->ready = json_is_true(json_object_get(c, "ready"));
		schedule_probes(p, r, now_mono(), false);
	}
	json_decref(j);
	p->sandbox_ready = net_exists(&p->net);
	p->last_ready = -1;
	if (!p->sandbox_ready) {
		log_warn("pod %s: its network namespace is gone; recreating the pod", p->key);
		cg_signal(&rt.cg, p->cg, SIGKILL);
		release(p);
		free_pod(p);
		adopt_one(d, obj);
		return;
	}
	guard_pod_added(d, p->uid, p->pod_id, &rt.cg, p->cg, p->n_c, &p->view);
	log_info("pod %s: re-adopted", p->key);
}

void runtime_restore(struct daemon *d)
{
	json_t *pods = store_list(&d->store, K_POD, NULL), *o;
	size_t i;

	json_array_foreach (pods, i, o)
		adopt_one(d, o);
	json_decref(pods);
	for (struct rpod *p = rt.pods; p; p = p->next)
		pod_step(p);
	rearm();
}

int runtime_init(struct daemon *d)
{
	rt.d = d;
	if (cg_detect(d->o.cgroup_root, &rt.cg))
		return -1;
	if (cidr_parse(d->o.pod_cidr, &rt.cidr) || rt.cidr.base.family != 4) {
		log_err("--pod-cidr: invalid IPv4 CIDR \"%s\"", d->o.pod_cidr);
		return -1;
	}
	/* offsets 0 and the last are not handed out */
	if (idpool_init(&rt.ips, 1, cidr_size(&rt.cidr) - 1) ||
	    idpool_init(&rt.pod_ids, 0, PT_MAX_PODS))
		return -1;
	snprintf(rt.dir, sizeof(rt.dir), "%s/pods", d->o.state_dir);
	mkdir(rt.dir, 0700);
	net_host_init();
	rt.timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	rt.timer.fn = timer_event;
	loop_add(d, &rt.timer, EPOLLIN);
	log_info("runtime: cgroup %s (%s), pod CIDR %s", d->o.cgroup_root,
		 rt.cg.v2 ? "cgroup v2" : "hybrid: v1 controllers for limits", d->o.pod_cidr);
	return 0;
}
