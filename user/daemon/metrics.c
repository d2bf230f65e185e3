// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /metrics (Prometheus text format 0.0.4), /healthz and /readyz, served by
 * libmicrohttpd inside the daemon's event loop: MHD runs without a thread
 * of its own and its epoll fd is one more watch (MHD_run on readiness).
 *
 * A scrape renders from current state only, so the series of a deleted pod
 * or service are gone from the next scrape. Per-CPU BPF counters are read
 * with batched lookups; the dataplane is never locked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <bpf/bpf.h>
#include <microhttpd.h>
#include "daemon.h"
#include "log.h"
#include "promtext.h"
#include "trace.h"
#include "runtime.h"

#define MAX_BACKEND_SERIES 64 /* per service port; the rest is "other" */

static struct {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	struct watch w;
	struct prom_hist h[M__N];
} m;

void metrics_observe(enum metric_hist h, double seconds)
{
	if (h < M__N && m.h[h].n)
		hist_observe(&m.h[h], seconds);
}

/* Read a whole per-CPU array in batches: n entries of `per` bytes per CPU,
 * summed over CPUs into out (n * per bytes, as u64 counters). */
static int percpu_sum(int fd, uint32_t n, size_t per, int ncpu, uint64_t *out)
{
	size_t stride = (per + 7) & ~7ul, words = per / 8;
	uint32_t chunk = 4096, in = 0, next = 0, got;
	uint32_t *keys = malloc(chunk * sizeof(uint32_t));
	uint64_t *vals = malloc(chunk * stride * (size_t)ncpu);
	bool first = true;
	int err = 0;

	memset(out, 0, (size_t)n * per);
	while (keys && vals) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		got = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &next, keys, vals, &got, &o);
		if (err && errno != ENOENT)
			break;
		for (uint32_t i = 0; i < got; i++) {
			if (keys[i] >= n)
				continue;
			for (int c = 0; c < ncpu; c++)
				for (size_t w = 0; w < words; w++)
					out[keys[i] * words + w] +=
					    vals[(i * (size_t)ncpu + (size_t)c) * (stride / 8) + w];
		}
		if (err) { /* ENOENT: done */
			err = 0;
			break;
		}
		in = next;
		first = false;
	}
	free(keys);
	free(vals);
	return err;
}

static void pod_stats_all(struct daemon *d, struct pt_pod_stats *ps)
{
	int fd = podguard_stats_fd();

	if (fd >= 0)
		percpu_sum(fd, PT_MAX_PODS, sizeof(*ps), d->dp.ncpu, (uint64_t *)ps);
}

/* ---- families ---- */
static void daemon_metrics(struct prom *p, struct daemon *d)
{
	const char *const bi[] = {"version", PT_VERSION, NULL};
	uint64_t received, lost_hist, by_type[16];
	static const char *const kinds[] = {"Service", "EndpointSlice", "Pod"};
	static const enum k8s_kind kk[] = {K_SERVICE, K_ENDPOINTSLICE, K_POD};

	prom_family(p, "podtrace_build_info", "gauge", "A constant 1, labelled with the build.");
	prom_sample(p, "podtrace_build_info", bi, 1);

	events_counts(&received, &lost_hist, by_type, 16);
	prom_family(p, "podtrace_events_received_total", "counter",
		    "Event records received, by source and type.");
	for (int t = 1; t < 16; t++) {
		if (!by_type[t])
			continue;
		const char *const l[] = {"source", t <= PT_EV_REJECT ? "lb" : "trace", "type",
					 trace_event_name((unsigned)t), NULL};
		prom_sample(p, "podtrace_events_received_total", l, (double)by_type[t]);
	}
	prom_family(
	    p, "podtrace_events_lost_total", "counter",
	    "Events lost: ring buffer reserve failures (kernel) and history evictions (history).");
	const char *const lk[] = {"source", "kernel", NULL}, *const lh[] = {"source", "history",
									    NULL};
	prom_sample(p, "podtrace_events_lost_total", lk, (double)events_lost_kernel());
	prom_sample(p, "podtrace_events_lost_total", lh, (double)lost_hist);

	struct {
		const char *name;
		uint32_t used, cap;
	} maps[] = {
	    {"pt_frontend", d->lb.n_fe, d->o.max_frontends},
	    {"pt_svc", d->lb.svc_ids.used, d->o.max_services},
	    {"pt_backend", d->lb.be_ids.used, d->o.max_backends},
	    {"pt_slot", d->lb.be_ids.used, d->o.max_backends},
	};
	prom_family(p, "podtrace_bpf_map_entries", "gauge", "Entries in a BPF map.");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const char *const l[] = {"map", maps[i].name, NULL};
		prom_sample(p, "podtrace_bpf_map_entries", l, maps[i].used);
	}
	prom_family(p, "podtrace_bpf_map_capacity", "gauge",
		    "Capacity (max_entries) of a BPF map.");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const char *const l[] = {"map", maps[i].name, NULL};
		prom_sample(p, "podtrace_bpf_map_capacity", l, maps[i].cap);
	}
	prom_family(p, "podtrace_objects", "gauge", "Objects in the store, by kind.");
	for (int i = 0; i < 3; i++) {
		const char *const l[] = {"kind", kinds[i], NULL};
		prom_sample(p, "podtrace_objects", l, (double)store_count(&d->store, kk[i]));
	}
	prom_family(p, "podtrace_reconcile_duration_seconds", "histogram",
		    "Time to reprogram one Service's load balancing.");
	prom_hist(p, "podtrace_reconcile_duration_seconds", NULL, &m.h[M_RECONCILE]);
	prom_family(
	    p, "podtrace_endpoint_programming_latency_seconds", "histogram",
	    "From an endpoint change (slice applied or pod readiness) to the BPF map write.");
	prom_hist(p, "podtrace_endpoint_programming_latency_seconds", NULL,
		  &m.h[M_ENDPOINT_LATENCY]);
	prom_family(p, "podtrace_pod_startup_duration_seconds", "histogram",
		    "From a Pod's creation to its first Ready.");
	prom_hist(p, "podtrace_pod_startup_duration_seconds", NULL, &m.h[M_POD_STARTUP]);
}

/* "ns/name/port/proto/vN" */
static int split_key(const char *key, char *ns, char *name, char *port, char *proto)
{
	return sscanf(key, "%63[^/]/%253[^/]/%15[^/]/%7[^/]/", ns, name, port, proto) == 4 ? 0 : -1;
}

static void service_metrics(struct prom *p, struct daemon *d)
{
	uint32_t nsvc = d->o.max_services, nbe = d->o.max_backends;
	uint64_t *svc = calloc(nsvc, sizeof(struct pt_svc_stats));
	uint64_t *be = calloc(nbe, sizeof(struct pt_be_stats));
	json_t *agg = json_object(); /* series key -> [connects, rejects] */
	struct hmap_ent *e, *t;
	int ncpu = d->dp.ncpu;

	percpu_sum(d->dp.map_fd[LBM_SVC_STATS], nsvc, sizeof(struct pt_svc_stats), ncpu, svc);
	percpu_sum(d->dp.map_fd[LBM_BE_STATS], nbe, sizeof(struct pt_be_stats), ncpu, be);

	prom_family(p, "podtrace_service_backend_selections_total", "counter",
		    "Connections (TCP) and sendmsg/connect (UDP) given to a backend.");
	hmap_foreach (&d->lb.by_key, e, t) {
		struct lb_rec *r = e->val;
		char ns[64], name[254], port[16], proto[8], k[512], a[80], ipb[64];
		uint64_t other = 0;

		if (split_key(r->key, ns, name, port, proto))
			continue;
		snprintf(k, sizeof(k), "%s\t%s\t%s\t%s", ns, name, port, proto);
		json_t *v = json_object_get(agg, k);
		if (!v) {
			v = json_pack("[I,I]", (json_int_t)0, (json_int_t)0);
			json_object_set_new(agg, k, v);
		}
		struct pt_svc_stats *st = (struct pt_svc_stats *)svc + r->svc_id;
		json_array_set_new(v, 0,
				   json_integer(json_integer_value(json_array_get(v, 0)) +
						(json_int_t)st->connects));
		json_array_set_new(v, 1,
				   json_integer(json_integer_value(json_array_get(v, 1)) +
						(json_int_t)st->rejects));
		for (int i = 0; i < r->n_be; i++) {
			uint64_t sel = ((struct pt_be_stats *)be)[r->be[i].id].selected;
			if (i >= MAX_BACKEND_SERIES) {
				other += sel;
				continue;
			}
			snprintf(a, sizeof(a), r->be[i].addr.family == 6 ? "[%s]:%u" : "%s:%u",
				 ip_str(&r->be[i].addr, ipb, sizeof(ipb)), r->be[i].port);
			const char *const l[] = {"namespace", ns,    "service", name, "port", port,
						 "protocol",  proto, "backend", a,    NULL};
			prom_sample(p, "podtrace_service_backend_selections_total", l, (double)sel);
		}
		if (r->n_be > MAX_BACKEND_SERIES) {
			const char *const l[] = {"namespace", ns,      "service",  name,
						 "port",      port,    "protocol", proto,
						 "backend",   "other", NULL};
			prom_sample(p, "podtrace_service_backend_selections_total", l,
				    (double)other);
		}
	}
	const char *key;
	json_t *v;
	prom_family(p, "podtrace_service_connections_total", "counter",
		    "Connections balanced by the socket LB, per service port (both IP families).");
	json_object_foreach (agg, key, v) {
		char ns[64], name[254], port[16], proto[8];
		if (sscanf(key, "%63[^\t]\t%253[^\t]\t%15[^\t]\t%7s", ns, name, port, proto) != 4)
			continue;
		const char *const l[] = {"namespace", ns,	  "service", name, "port",
					 port,	      "protocol", proto,     NULL};
		prom_sample(p, "podtrace_service_connections_total", l,
			    (double)json_integer_value(json_array_get(v, 0)));
	}
	prom_family(p, "podtrace_service_rejections_total", "counter",
		    "Connections refused (ECONNREFUSED) because the service had no endpoint.");
	json_object_foreach (agg, key, v) {
		char ns[64], name[254], port[16], proto[8];
		if (sscanf(key, "%63[^\t]\t%253[^\t]\t%15[^\t]\t%7s", ns, name, port, proto) != 4)
			continue;
		const char *const l[] = {"namespace", ns,	  "service", name, "port",
					 port,	      "protocol", proto,     NULL};
		prom_sample(p, "podtrace_service_rejections_total", l,
			    (double)json_integer_value(json_array_get(v, 1)));
	}
	json_decref(agg);
	free(svc);
	free(be);
}

static void pod_metrics(struct prom *p, struct daemon *d)
{
	json_t *pods = runtime_metrics(d), *pod, *c;
	struct pt_pod_stats *ps = calloc(PT_MAX_PODS, sizeof(*ps));
	size_t i, j;
	static const char *const dirs[] = {"transmit", "receive"};
	static const char *const dname[] = {"egress", "ingress"};

	pod_stats_all(d, ps);
#define POD_FAMILY(metric, type, help, ...)                                                        \
	prom_family(p, metric, type, help);                                                        \
	json_array_foreach (pods, i, pod) {                                                        \
		const char *ns = json_string_value(json_object_get(pod, "namespace"));             \
		const char *pn = json_string_value(json_object_get(pod, "pod"));                   \
		const struct pt_pod_stats *s =                                                     \
		    &ps[json_integer_value(json_object_get(pod, "podId")) % PT_MAX_PODS];          \
		(void)s;                                                                           \
		__VA_ARGS__;                                                                       \
	}
	for (int dir = 0; dir < 2; dir++) {
		char name[96];
		snprintf(name, sizeof(name), "podtrace_pod_network_%s_bytes_total", dirs[dir]);
		POD_FAMILY(name, "counter", "Bytes through the pod's cgroup_skb programs.", {
			const char *const l[] = {"namespace", ns, "pod", pn, NULL};
			prom_sample(p, name, l,
				    (double)s->bytes[dir == 0 ? PT_EGRESS : PT_INGRESS]);
		})
		snprintf(name, sizeof(name), "podtrace_pod_network_%s_packets_total", dirs[dir]);
		POD_FAMILY(name, "counter", "Packets through the pod's cgroup_skb programs.", {
			const char *const l[] = {"namespace", ns, "pod", pn, NULL};
			prom_sample(p, name, l,
				    (double)s->packets[dir == 0 ? PT_EGRESS : PT_INGRESS]);
		})
	}
	POD_FAMILY("podtrace_pod_bandwidth_drops_total", "counter",
		   "Packets dropped by the bandwidth limit, by direction.", {
			   for (int dir = 0; dir < 2; dir++) {
				   const char *const l[] = {"namespace", ns,	     "pod", pn,
							    "direction", dname[dir], NULL};
				   prom_sample(p, "podtrace_pod_bandwidth_drops_total", l,
					       (double)s->drops_bw[dir]);
			   }
		   })
	POD_FAMILY(
	    "podtrace_pod_congestion_marks_total", "counter",
	    "Packets let through with a congestion notification (TCP backs off), by direction.", {
		    for (int dir = 0; dir < 2; dir++) {
			    const char *const l[] = {"namespace", ns,	      "pod", pn,
						     "direction", dname[dir], NULL};
			    prom_sample(p, "podtrace_pod_congestion_marks_total", l,
					(double)s->cn_marks[dir]);
		    }
	    })
	POD_FAMILY("podtrace_pod_device_denials_total", "counter",
		   "Device accesses refused by the allow-list.", {
			   const char *const l[] = {"namespace", ns, "pod", pn, NULL};
			   prom_sample(p, "podtrace_pod_device_denials_total", l,
				       (double)s->dev_denied);
		   })
#define CTR_FAMILY(metric, type, help, field, scale)                                               \
	prom_family(p, metric, type, help);                                                        \
	json_array_foreach (pods, i, pod)                                                          \
		json_array_foreach (json_object_get(pod, "containers"), j, c) {                    \
			const char *const l[] = {                                                  \
			    "namespace", json_string_value(json_object_get(pod, "namespace")),     \
			    "pod",	 json_string_value(json_object_get(pod, "pod")),           \
			    "container", json_string_value(json_object_get(c, "name")),            \
			    NULL};                                                                 \
			json_t *fv = json_object_get(c, field);                                    \
			prom_sample(p, metric, l,                                                  \
				    (json_is_real(fv) ? json_real_value(fv)                        \
						      : (double)json_integer_value(fv)) *          \
					(scale));                                                  \
		}
	CTR_FAMILY("podtrace_container_cpu_usage_seconds_total", "counter",
		   "CPU time used by the container's cgroup.", "cpuSeconds", 1)
	CTR_FAMILY("podtrace_container_memory_working_set_bytes", "gauge",
		   "Memory working set of the container's cgroup (usage minus inactive file), as "
		   "kubelet computes it.",
		   "memoryWorkingSet", 1)
	CTR_FAMILY("podtrace_container_oom_kills_total", "counter",
		   "Times the container ended OOMKilled.", "oomKills", 1)
	CTR_FAMILY("podtrace_container_restarts_total", "counter", "Container restarts.",
		   "restarts", 1)
	CTR_FAMILY("podtrace_container_execs_total", "counter",
		   "execve() calls seen in the container by the trace plane.", "execs", 1)
	json_decref(pods);
	free(ps);
}

static char *render(struct daemon *d, size_t *len)
{
	struct prom p;

	if (prom_open(&p))
		return NULL;
	daemon_metrics(&p, d);
	service_metrics(&p, d);
	pod_metrics(&p, d);
	return prom_close(&p, len);
}

/* ---- HTTP ---- */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, char *body,
			     size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct daemon *d = cls;
	size_t len;
	char *body;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, 405, "text/plain", strdup("method not allowed\n"), 19);
	if (!strcmp(url, "/metrics")) {
		body = render(d, &len);
		if (!body)
			return reply(c, 500, "text/plain", strdup("render failed\n"), 14);
		return reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len);
	}
	if (!strcmp(url, "/healthz"))
		return reply(c, 200, "text/plain", strdup("ok\n"), 3);
	if (!strcmp(url, "/readyz")) {
		if (d->ready)
			return reply(c, 200, "text/plain", strdup("ok\n"), 3);
		return reply(c, 503, "text/plain", strdup("starting\n"), 9);
	}
	return reply(c, 404, "text/plain", strdup("not found\n"), 10);
}

static void mhd_event(struct daemon *d, struct watch *w, uint32_t events)
{
	(void)d;
	(void)w;
	(void)events;
	MHD_run(m.mhd);
}

static int parse_listen(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	unsigned port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (sscanf(s, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

int metrics_init(struct daemon *d)
{
	static const double lat[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
				     0.01,   0.025,   0.05,   0.1,   0.5,    1};
	static const double start[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	m.d = d;
	hist_init(&m.h[M_RECONCILE], lat, 12);
	hist_init(&m.h[M_ENDPOINT_LATENCY], lat, 12);
	hist_init(&m.h[M_POD_STARTUP], start, 12);
	if (!d->o.metrics_listen || !*d->o.metrics_listen)
		return 0;
	if (parse_listen(d->o.metrics_listen, &sa)) {
		log_err("--metrics-listen: want IPv4:PORT, got \"%s\"", d->o.metrics_listen);
		return -1;
	}
	/* no thread: MHD's epoll fd joins our loop */
	m.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, ntohs(sa.sin_port), NULL, NULL,
				 handle, d, MHD_OPTION_SOCK_ADDR, &sa,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!m.mhd) {
		log_err("metrics: cannot listen on %s: %s", d->o.metrics_listen, strerror(errno));
		return -1;
	}
	info = MHD_get_daemon_info(m.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	m.w.fd = info->epoll_fd;
	m.w.fn = mhd_event;
	log_info("metrics: http://%s/metrics", d->o.metrics_listen);
	return loop_add(d, &m.w, EPOLLIN);
}

json_t *metrics_top(struct daemon *d)
{
	json_t *pods = runtime_metrics(d), *pod;
	struct pt_pod_stats *ps = calloc(PT_MAX_PODS, sizeof(*ps));
	size_t i;

	pod_stats_all(d, ps);
	json_array_foreach (pods, i, pod) {
		const struct pt_pod_stats *s =
		    &ps[json_integer_value(json_object_get(pod, "podId")) % PT_MAX_PODS];
		json_object_set_new(pod, "txBytes", json_integer((json_int_t)s->bytes[PT_EGRESS]));
		json_object_set_new(pod, "rxBytes", json_integer((json_int_t)s->bytes[PT_INGRESS]));
		json_object_set_new(pod, "txPackets",
				    json_integer((json_int_t)s->packets[PT_EGRESS]));
		json_object_set_new(pod, "rxPackets",
				    json_integer((json_int_t)s->packets[PT_INGRESS]));
	}
	free(ps);
	return json_pack("{s:o}", "pods", pods);
}
