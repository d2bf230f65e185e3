// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fsutil.h"
#include "log.h"
#include "sandbox.h"

extern char **environ;

/* v1 controllers podtrace sets limits in (hybrid hosts). */
static const char *const v1_ctrls[] = {"memory", "cpu", "pids"};
#define N_V1 (sizeof(v1_ctrls) / sizeof(v1_ctrls[0]))

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[768];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
	char path[768];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* "key value" lines (cpu.stat, memory.events, memory.stat) */
static uint64_t read_key(const char *dir, const char *file, const char *key)
{
	char buf[8192], *p;
	size_t kl = strlen(key);

	if (read_file(dir, file, buf, sizeof(buf)))
		return 0;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

int cg_detect(const char *cgroup_root, struct cgmode *m)
{
	struct statfs st;
	char path[256];

	memset(m, 0, sizeof(*m));
	m->v2 = !statfs("/sys/fs/cgroup", &st) && st.f_type == CGROUP2_SUPER_MAGIC;
	snprintf(m->unified, sizeof(m->unified), "%s",
		 m->v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified");
	snprintf(path, sizeof(path), "%s", cgroup_root);
	if (strncmp(path, m->unified, strlen(m->unified))) {
		log_err("--cgroup-root %s is not below the cgroup2 mount %s", cgroup_root,
			m->unified);
		return -1;
	}
	snprintf(m->rel_root, sizeof(m->rel_root), "%s",
		 path + strlen(m->unified) + (path[strlen(m->unified)] == '/'));
	int rc = cgroup_init();
	if (rc) {
		log_err("libcgroup: %s", cgroup_strerror(rc));
		return -1;
	}
	return 0;
}

/* Path of rel relative to a hierarchy's root. */
static void hier_rel(const struct cgmode *m, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", m->rel_root, *m->rel_root ? "/" : "", rel);
}

void cg_dir(const struct cgmode *m, const char *ctrl, const char *rel, char *buf, size_t len)
{
	char hr[512];

	hier_rel(m, rel, hr, sizeof(hr));
	if (!ctrl || !*ctrl || m->v2)
		snprintf(buf, len, "%s/%s", m->unified, hr);
	else
		snprintf(buf, len, "/sys/fs/cgroup/%s/%s", ctrl, hr);
}

/* On cgroup v2 a child only gets the controllers its parent delegates. */
static void v2_delegate(const struct cgmode *m, const char *rel)
{
	char hr[512], dir[768];
	char *slash;

	hier_rel(m, rel, hr, sizeof(hr));
	snprintf(dir, sizeof(dir), "%s/%s", m->unified, hr);
	while ((slash = strrchr(dir, '/')) && strlen(dir) > strlen(m->unified)) {
		*slash = 0;
		write_file(dir, "cgroup.subtree_control", "+cpu +memory +pids");
	}
}

static void set_val(struct cgroup_controller *c, const char *name, int64_t v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	cgroup_set_value_string(c, name, buf);
}

int cg_create(const struct cgmode *m, const char *rel, const struct cg_limits *l)
{
	char hr[512], dir[768], buf[64];
	struct cgroup *cg;
	int rc;

	cg_dir(m, NULL, rel, dir, sizeof(dir));
	if (mkdir_p(dir, 0755)) {
		log_err("cgroup %s: %s", dir, strerror(errno));
		return -1;
	}
	hier_rel(m, rel, hr, sizeof(hr));
	if (m->v2) {
		/* libcgroup creates the directory; the limits are cgroup2 files */
		v2_delegate(m, rel);
		cg = cgroup_new_cgroup(hr);
		struct cgroup_controller *c = cgroup_add_controller(cg, "memory");
		if (l->mem_bytes)
			set_val(c, "memory.max", l->mem_bytes);
		c = cgroup_add_controller(cg, "cpu");
		if (l->cpu_quota_us) {
			snprintf(buf, sizeof(buf), "%lld 100000", (long long)l->cpu_quota_us);
			cgroup_set_value_string(c, "cpu.max", buf);
		}
		if (l->cpu_shares) /* kubelet's shares -> weight conversion */
			set_val(c, "cpu.weight", 1 + ((l->cpu_shares - 2) * 9999) / 262142);
		c = cgroup_add_controller(cg, "pids");
		if (l->pids_max)
			set_val(c, "pids.max", l->pids_max);
	} else {
		cg = cgroup_new_cgroup(hr);
		struct cgroup_controller *c = cgroup_add_controller(cg, "memory");
		if (l->mem_bytes)
			set_val(c, "memory.limit_in_bytes", l->mem_bytes);
		c = cgroup_add_controller(cg, "cpu");
		if (l->cpu_quota_us) {
			set_val(c, "cpu.cfs_period_us", 100000);
			set_val(c, "cpu.cfs_quota_us", l->cpu_quota_us);
		}
		if (l->cpu_shares)
			set_val(c, "cpu.shares", l->cpu_shares);
		c = cgroup_add_controller(cg, "pids");
		if (l->pids_max)
			set_val(c, "pids.max", l->pids_max);
	}
	rc = cgroup_create_cgroup(cg, 0);
	cgroup_free(&cg);
	if (rc) {
		log_err("libcgroup: create %s: %s", hr, cgroup_strerror(rc));
		return -1;
	}
	return 0;
}

static void rmdir_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char sub[1024];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		rmdir_tree(sub);
	}
	closedir(d);
	rmdir(dir);
}

int cg_remove(const struct cgmode *m, const char *rel)
{
	char hr[512], dir[768];
	struct cgroup *cg;

	hier_rel(m, rel, hr, sizeof(hr));
	cg = cgroup_new_cgroup(hr);
	for (size_t i = 0; i < N_V1; i++)
		cgroup_add_controller(cg, v1_ctrls[i]);
	cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_RECURSIVE | CGFLAG_DELETE_IGNORE_MIGRATION);
	cgroup_free(&cg);
	cg_dir(m, NULL, rel, dir, sizeof(dir));
	rmdir_tree(dir);
	return access(dir, F_OK) == 0 ? -1 : 0;
}

/* rmdir rel in every hierarchy if it has no children left. */
void cg_remove_empty(const struct cgmode *m, const char *rel)
{
	static const char *const all[] = {"", "memory", "cpu", "pids"};
	char dir[768];

	for (size_t i = 0; i < (m->v2 ? 1 : 4); i++) {
		cg_dir(m, all[i], rel, dir, sizeof(dir));
		rmdir(dir); /* fails harmlessly while pods remain */
	}
}

int cg_enter(const struct cgmode *m, const char *rel, pid_t pid)
{
	char dir[768], buf[32];
	int rc = 0;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	cg_dir(m, NULL, rel, dir, sizeof(dir));
	rc |= write_file(dir, "cgroup.procs", buf);
	if (!m->v2) {
		for (size_t i = 0; i < N_V1; i++) {
			cg_dir(m, v1_ctrls[i], rel, dir, sizeof(dir));
			rc |= write_file(dir, "cgroup.procs", buf);
		}
	}
	return rc;
}

static int signal_dir(const char *dir, int sig)
{
	char buf[65536], *p, *end, sub[1024];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (!read_file(dir, "cgroup.procs", buf, sizeof(buf)))
		for (p = buf; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0 && !kill((pid_t)pid, sig))
				n++;
		}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		n += signal_dir(sub, sig);
	}
	if (d)
		closedir(d);
	return n;
}

int cg_signal(const struct cgmode *m, const char *rel, int sig)
{
	char dir[768];

	cg_dir(m, NULL, rel, dir, sizeof(dir));
	return signal_dir(dir, sig);
}

bool cg_empty(const struct cgmode *m, const char *rel)
{
	char dir[768];

	cg_dir(m, NULL, rel, dir, sizeof(dir));
	return signal_dir(dir, 0) == 0;
}

uint64_t cg_id(const struct cgmode *m, const char *rel)
{
	char dir[768];
	struct stat st;

	cg_dir(m, NULL, rel, dir, sizeof(dir));
	return stat(dir, &st) ? 0 : (uint64_t)st.st_ino;
}

uint64_t cg_oom_kills(const struct cgmode *m, const char *rel)
{
	char dir[768];

	cg_dir(m, "memory", rel, dir, sizeof(dir));
	return read_key(dir, m->v2 ? "memory.events" : "memory.oom_control", "oom_kill");
}

uint64_t cg_cpu_usec(const struct cgmode *m, const char *rel)
{
	char dir[768];

	cg_dir(m, NULL, rel, dir, sizeof(dir));
	return read_key(dir, "cpu.stat", "usage_usec");
}

uint64_t cg_mem_working_set(const struct cgmode *m, const char *rel)
{
	char dir[768], buf[64];
	uint64_t usage, inactive;

	cg_dir(m, "memory", rel, dir, sizeof(dir));
	if (read_file(dir, m->v2 ? "memory.current" : "memory.usage_in_bytes", buf, sizeof(buf)))
		return 0;
	usage = strtoull(buf, NULL, 10);
	/* the working set as kubelet and cAdvisor compute it */
	inactive = read_key(dir, "memory.stat", m->v2 ? "inactive_file" : "total_inactive_file");
	return usage > inactive ? usage - inactive : 0;
}

/* ---- network ---- */
static int run(const char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ)) {
		log_err("spawn %s: %s", argv[0], strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char cmd[512] = "";
		for (int i = 0; argv[i]; i++)
			snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s ", argv[i]);
		log_err("command failed: %s", cmd);
		return -1;
	}
	return 0;
}

static int sysctl_set(const char *path, const char *val)
{
	return write_file("/proc/sys", path, val);
}

int net_host_init(void)
{
	/* the node forwards between pods, as a CNI host side does */
	return sysctl_set("net/ipv4/ip_forward", "1");
}

/* Calico's layout: the pod has a /32 and a default route through a
 * link-local gateway that the host's veth answers for with proxy ARP;
 * the host routes the /32 to the veth. No bridge, no subnet per node. */
int net_setup(struct podnet *n)
{
	char ip[64], cidr[80], path[128];

	ip_str(&n->ip, ip, sizeof(ip));
	snprintf(cidr, sizeof(cidr), "%s/32", ip);
	const char *const add_ns[] = {"ip", "netns", "add", n->netns, NULL};
	const char *const add_veth[] = {"ip",	"link", "add",	n->veth, "type",   "veth",
					"peer", "name", "eth0", "netns", n->netns, NULL};
	const char *const addr[] = {"ip", "-n", n->netns, "addr", "add", cidr, "dev", "eth0", NULL};
	const char *const lo_up[] = {"ip", "-n", n->netns, "link", "set", "lo", "up", NULL};
	const char *const eth_up[] = {"ip", "-n", n->netns, "link", "set", "eth0", "up", NULL};
	const char *const gw[] = {"ip",	 "-n",	 n->netns, "route", "add", "169.254.1.1",
				  "dev", "eth0", "scope",  "link",  NULL};
	const char *const dflt[] = {"ip",  "-n",	  n->netns, "route", "add", "default",
				    "via", "169.254.1.1", "dev",    "eth0",  NULL};
	const char *const up[] = {"ip", "link", "set", n->veth, "up", NULL};
	const char *const route[] = {"ip", "route", "replace", cidr, "dev", n->veth, NULL};

	if (run(add_ns) || run(add_veth))
		goto fail;
	snprintf(path, sizeof(path), "net/ipv4/conf/%s/proxy_arp", n->veth);
	sysctl_set(path, "1");
	snprintf(path, sizeof(path), "net/ipv4/neigh/%s/proxy_delay", n->veth);
	sysctl_set(path, "0");
	if (run(addr) || run(lo_up) || run(eth_up) || run(gw) || run(dflt) || run(up) || run(route))
		goto fail;
	return 0;
fail:
	net_teardown(n);
	return -1;
}

void net_teardown(const struct podnet *n)
{
	char path[128];
	const char *const del_link[] = {"ip", "link", "del", n->veth, NULL};
	const char *const del_ns[] = {"ip", "netns", "del", n->netns, NULL};

	snprintf(path, sizeof(path), "/sys/class/net/%s", n->veth);
	if (!access(path, F_OK))
		run(del_link); /* takes the route and the peer with it */
	snprintf(path, sizeof(path), "/run/netns/%s", n->netns);
	if (!access(path, F_OK))
		run(del_ns);
}

bool net_exists(const struct podnet *n)
{
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", n->netns);
	return access(path, F_OK) == 0;
}
