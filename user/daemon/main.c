// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podtraced: the node agent. One epoll loop, no threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "daemon.h"
#include "log.h"
#include "runtime.h"

#define DEF_STATE_DIR "/var/lib/podtrace"
#define DEF_SOCKET "/run/podtrace/podtraced.sock"
#define DEF_BPFFS "/sys/fs/bpf/podtrace"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: podtraced [flags]\n"
		"\n"
		"The podtrace node agent: socket-layer Service load balancing with eBPF.\n"
		"\n"
		"Flags:\n"
		"  --manifests DIR         static manifests, watched (default: none)\n"
		"  --state-dir DIR         applied objects, persisted (default " DEF_STATE_DIR ")\n"
		"  --socket PATH           control socket (default " DEF_SOCKET ")\n"
		"  --bpffs DIR             pin root (default " DEF_BPFFS ")\n"
		"  --cgroup-root PATH      cgroup v2 dir to attach to (default: the cgroup2 root)\n"
		"  --service-cidr CIDR     repeatable, one per family (default 10.96.0.0/12)\n"
		"  --node-port-range A-B   (default 30000-32767)\n"
		"  --max-services N        service ports (default %d)\n"
		"  --max-backends N        (service port, endpoint) pairs (default %d)\n"
		"  --max-frontends N       VIP/NodePort/externalIP entries (default %d)\n"
		"  --connect-events        emit connect/reject events (default off)\n"
		"  --pod-cidr CIDR         pod addresses (default 10.244.0.0/16)\n"
		"  --pod-pids-limit N      pids.max of each pod (default: none)\n"
		"  --backoff-base SECONDS  CrashLoopBackOff start, doubling to 30x (default 10)\n"
		"  --log-max-size BYTES    container log cap, then rotated once (default 10 MiB)\n"
		"  --no-trace              do not load the trace plane (tracepoints)\n"
		"  --metrics-listen A:P    /metrics, /healthz, /readyz (default 127.0.0.1:9469; "
		"\"\" = off)\n"
		"  --log-level LEVEL       error|warn|info|debug (default info)\n"
		"  --cleanup               detach and unpin everything under --bpffs, then exit\n"
		"  --version, --help\n",
		PT_DEF_MAX_SERVICES, PT_DEF_MAX_BACKENDS, PT_DEF_MAX_FRONTENDS);
}

/* cgroup2 root: /sys/fs/cgroup on pure v2 hosts, .../unified on hybrid. */
static const char *detect_cgroup2(void)
{
	static const char *const cands[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs st;

	for (size_t i = 0; i < 2; i++)
		if (!statfs(cands[i], &st) && st.f_type == CGROUP2_SUPER_MAGIC)
			return cands[i];
	return NULL;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || !*s || v == 0 || v > (1u << 24))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

enum {
	O_MANIFESTS = 256,
	O_STATE,
	O_SOCKET,
	O_BPFFS,
	O_CGROUP,
	O_CIDR,
	O_NPRANGE,
	O_MAXSVC,
	O_MAXBE,
	O_MAXFE,
	O_EVENTS,
	O_LOG,
	O_CLEANUP,
	O_VERSION,
	O_PODCIDR,
	O_PIDS,
	O_BACKOFF,
	O_LOGMAX,
	O_NOTRACE,
	O_METRICS,
};

static int parse_args(int argc, char **argv, struct opts *o, bool *cleanup)
{
	static const struct option lo[] = {
	    {"manifests", 1, 0, O_MANIFESTS},
	    {"state-dir", 1, 0, O_STATE},
	    {"socket", 1, 0, O_SOCKET},
	    {"bpffs", 1, 0, O_BPFFS},
	    {"cgroup-root", 1, 0, O_CGROUP},
	    {"service-cidr", 1, 0, O_CIDR},
	    {"node-port-range", 1, 0, O_NPRANGE},
	    {"max-services", 1, 0, O_MAXSVC},
	    {"max-backends", 1, 0, O_MAXBE},
	    {"max-frontends", 1, 0, O_MAXFE},
	    {"connect-events", 0, 0, O_EVENTS},
	    {"log-level", 1, 0, O_LOG},
	    {"cleanup", 0, 0, O_CLEANUP},
	    {"version", 0, 0, O_VERSION},
	    {"pod-cidr", 1, 0, O_PODCIDR},
	    {"pod-pids-limit", 1, 0, O_PIDS},
	    {"backoff-base", 1, 0, O_BACKOFF},
	    {"log-max-size", 1, 0, O_LOGMAX},
	    {"no-trace", 0, 0, O_NOTRACE},
	    {"metrics-listen", 1, 0, O_METRICS},
	    {"help", 0, 0, 'h'},
	    {0, 0, 0, 0},
	};
	unsigned a, b;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_MANIFESTS:
			o->manifests = optarg;
			break;
		case O_STATE:
			o->state_dir = optarg;
			break;
		case O_SOCKET:
			o->socket = optarg;
			break;
		case O_BPFFS:
			o->bpffs = optarg;
			break;
		case O_CGROUP:
			o->cgroup_root = optarg;
			break;
		case O_CIDR:
			if (o->n_service_cidr == 2) {
				fprintf(stderr,
					"podtraced: at most two --service-cidr (one per family)\n");
				return 2;
			}
			o->service_cidr[o->n_service_cidr++] = optarg;
			break;
		case O_NPRANGE:
			if (sscanf(optarg, "%u-%u", &a, &b) != 2 || !a || a > b || b > 65535) {
				fprintf(stderr,
					"podtraced: --node-port-range: invalid \"%s\" (want A-B)\n",
					optarg);
				return 2;
			}
			o->np_min = (uint16_t)a;
			o->np_max = (uint16_t)b;
			break;
		case O_MAXSVC:
		case O_MAXBE:
		case O_MAXFE: {
			uint32_t *dst = c == O_MAXSVC  ? &o->max_services
					: c == O_MAXBE ? &o->max_backends
						       : &o->max_frontends;
			if (parse_u32(optarg, dst)) {
				fprintf(stderr, "podtraced: %s: invalid number \"%s\"\n",
					argv[optind - 2], optarg);
				return 2;
			}
			break;
		}
		case O_EVENTS:
			o->connect_events = true;
			break;
		case O_PODCIDR:
			o->pod_cidr = optarg;
			break;
		case O_NOTRACE:
			o->trace = false;
			break;
		case O_METRICS:
			o->metrics_listen = optarg;
			break;
		case O_PIDS: {
			uint32_t v;
			if (parse_u32(optarg, &v)) {
				fprintf(stderr,
					"podtraced: --pod-pids-limit: invalid number \"%s\"\n",
					optarg);
				return 2;
			}
			o->pod_pids_limit = v;
			break;
		}
		case O_LOGMAX: {
			uint32_t v;
			if (parse_u32(optarg, &v) || v < 1024) {
				fprintf(
				    stderr,
				    "podtraced: --log-max-size: invalid \"%s\" (1024..16777216)\n",
				    optarg);
				return 2;
			}
			o->log_max_bytes = v;
			break;
		}
		case O_BACKOFF: {
			char *end;
			o->backoff_base = strtod(optarg, &end);
			if (*end || o->backoff_base <= 0 || o->backoff_base > 3600) {
				fprintf(stderr, "podtraced: --backoff-base: invalid \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		}
		case O_LOG:
			if (log_level_parse(optarg, &log_level)) {
				fprintf(stderr, "podtraced: --log-level: invalid \"%s\"\n", optarg);
				return 2;
			}
			break;
		case O_CLEANUP:
			*cleanup = true;
			break;
		case O_VERSION:
			printf("podtraced %s\n", PT_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "podtraced: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return 0;
}

static int setup_ctx(struct daemon *d)
{
	struct k8s_ctx *k = &d->kctx;

	for (int i = 0; i < d->o.n_service_cidr; i++) {
		if (cidr_parse(d->o.service_cidr[i], &k->svc_cidr[i])) {
			log_err("--service-cidr: invalid CIDR \"%s\"", d->o.service_cidr[i]);
			return -1;
		}
		if (i == 1 && k->svc_cidr[0].base.family == k->svc_cidr[1].base.family) {
			log_err("--service-cidr: two CIDRs must be of different families");
			return -1;
		}
	}
	k->n_svc_cidr = d->o.n_service_cidr;
	k->np_min = d->o.np_min;
	k->np_max = d->o.np_max;
	return alloc_init(&d->alloc, k);
}

/* hostIP: the first global IPv4 address of the node. */
static void node_ip(struct daemon *d)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		struct sockaddr_in *sa = (struct sockaddr_in *)i->ifa_addr;
		if (!sa || sa->sin_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
		    !strncmp(i->ifa_name, "ptv", 3))
			continue;
		inet_ntop(AF_INET, &sa->sin_addr, d->node_ip, sizeof(d->node_ip));
		break;
	}
	freeifaddrs(ifa);
}

static int rm_tree(const char *path)
{
	char cmd[600];

	/* unlinking the pins detaches the links and frees the maps */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
	return system(cmd);
}

static void signal_event(struct daemon *d, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			manifests_rescan(d);
		else
			d->stop = true;
	}
}

static void inotify_event(struct daemon *d, struct watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	manifests_event(d);
}

static void netlink_event(struct daemon *d, struct watch *w, uint32_t events)
{
	(void)events;
	nodeaddr_event(d, w->fd);
}

static int run(struct daemon *d)
{
	static struct watch sig_w = {.fn = signal_event};
	static struct watch ino_w = {.fn = inotify_event};
	static struct watch nl_w = {.fn = netlink_event};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_w.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	loop_add(d, &sig_w, EPOLLIN);
	if (control_init(d))
		return 1;
	ino_w.fd = manifests_fd();
	if (ino_w.fd >= 0)
		loop_add(d, &ino_w, EPOLLIN);
	nl_w.fd = nodeaddr_init(d);
	if (nl_w.fd >= 0)
		loop_add(d, &nl_w, EPOLLIN);
	log_info("podtraced %s ready: socket %s", PT_VERSION, d->o.socket);

	while (!d->stop) {
		struct epoll_event evs[32];
		int n = epoll_wait(d->epfd, evs, 32, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			w->fn(d, w, evs[i].events);
		}
		store_flush(&d->store);
	}
	log_info("shutting down; the dataplane stays pinned under %s", d->o.bpffs);
	control_fini(d);
	return 0;
}

static void mkparent(const char *path)
{
	char dir[512], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755);
	}
}

int main(int argc, char **argv)
{
	static struct daemon d;
	bool cleanup = false;
	int rc;

	d.o = (struct opts){
	    .state_dir = DEF_STATE_DIR,
	    .socket = DEF_SOCKET,
	    .bpffs = DEF_BPFFS,
	    .np_min = 30000,
	    .np_max = 32767,
	    .max_frontends = PT_DEF_MAX_FRONTENDS,
	    .max_services = PT_DEF_MAX_SERVICES,
	    .max_backends = PT_DEF_MAX_BACKENDS,
	    .max_affinity = PT_DEF_MAX_AFFINITY,
	    .pod_cidr = "10.244.0.0/16",
	    .backoff_base = 10,
	    .log_max_bytes = 10 << 20,
	    .trace = true,
	    .metrics_listen = "127.0.0.1:9469",
	};
	rc = parse_args(argc, argv, &d.o, &cleanup);
	if (rc)
		return rc;
	if (cleanup)
		return rm_tree(d.o.bpffs) ? 1 : 0;
	if (!d.o.n_service_cidr)
		d.o.service_cidr[d.o.n_service_cidr++] = "10.96.0.0/12";
	if (!d.o.cgroup_root)
		d.o.cgroup_root = detect_cgroup2();
	if (!d.o.cgroup_root) {
		log_err("no cgroup2 mount found; pass --cgroup-root");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &d.started);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	d.lb_errors = json_object();
	mkparent(d.o.socket);
	if (setup_ctx(&d) || store_init(&d.store, d.o.state_dir))
		return 1;
	struct dp_opts dpo = {
	    .bpffs = d.o.bpffs,
	    .cgroup_root = d.o.cgroup_root,
	    .max_frontends = d.o.max_frontends,
	    .max_services = d.o.max_services,
	    .max_backends = d.o.max_backends,
	    .max_affinity = d.o.max_affinity,
	    .np_min = d.o.np_min,
	    .np_max = d.o.np_max,
	    .connect_events = d.o.connect_events,
	};
	if (dp_open(&d.dp, &dpo))
		return 1;
	struct lb_ops ops = dp_lb_ops(&d.dp);
	if (lb_init(&d.lb, &ops, d.o.max_services, d.o.max_backends, d.o.max_frontends) ||
	    lb_adopt(&d.lb)) {
		log_err("cannot read the pinned LB maps");
		return 1;
	}
	if (runtime_init(&d) || podguard_init(&d) || events_init(&d) || metrics_init(&d))
		return 1;
	node_ip(&d);
	d_restore(&d);
	runtime_restore(&d);
	kubelet_scan(&d);
	if (manifests_init(&d))
		return 1;
	lb_gc_orphans(&d.lb);
	d.ready = true;
	/* loading the BPF objects parsed the kernel's BTF (megabytes, freed):
	 * glibc would keep that heap */
	malloc_trim(0);
	rc = run(&d);
	lb_fini(&d.lb);
	dp_close(&d.dp);
	store_fini(&d.store);
	json_decref(d.lb_errors);
	return rc;
}
