// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The endpoints controller: for every Service with a selector, the
 * EndpointSlices of the pods it selects, with ready/serving/terminating
 * conditions, as kube-controller-manager keeps them. Pods whose named
 * targetPort resolves to different numbers land in different slices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "log.h"
#include "pod.h"
#include "runtime.h"

#define MANAGED_BY "endpointslice-controller.k8s.io"

/* The port a pod serves a service port on: numeric targetPort, or the
 * container port of that name. 0 when the pod has none. */
static int64_t pod_port(json_t *pod, json_t *sp)
{
	json_t *tp = json_object_get(sp, "targetPort");
	size_t i, j;
	json_t *c, *p;

	if (!json_is_string(tp))
		return json_is_integer(tp) ? json_integer_value(tp)
					   : json_integer_value(json_object_get(sp, "port"));
	json_array_foreach (json_object_get(json_object_get(pod, "spec"), "containers"), i, c)
		json_array_foreach (json_object_get(c, "ports"), j, p) {
			const char *n = json_string_value(json_object_get(p, "name"));
			if (n && !strcmp(n, json_string_value(tp)))
				return json_integer_value(json_object_get(p, "containerPort"));
		}
	return 0;
}

/* slices keyed by the pod's resolved port list */
static json_t *build_slices(struct daemon *d, json_t *svc)
{
	json_t *spec = json_object_get(svc, "spec");
	json_t *sel = json_object_get(spec, "selector");
	json_t *pods = store_list(&d->store, K_POD, k8s_namespace(svc));
	json_t *groups = json_object(), *pod;
	size_t i, j;

	json_array_foreach (pods, i, pod) {
		json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
		const char *ip = runtime_pod_ip(d, pod);
		json_t *ports = json_array(), *sp, *ep;
		char gkey[512] = "", *keystr;
		int terminating, ready;

		if (!ip || !selector_matches(sel, labels)) {
			json_decref(ports);
			continue;
		}
		json_array_foreach (json_object_get(spec, "ports"), j, sp) {
			int64_t port = pod_port(pod, sp);
			const char *name = json_string_value(json_object_get(sp, "name"));
			json_t *pj = json_pack("{s:s,s:O}", "name", name ? name : "", "protocol",
					       json_object_get(sp, "protocol"));
			if (port)
				json_object_set_new(pj, "port", json_integer(port));
			json_array_append_new(ports, pj);
			snprintf(gkey + strlen(gkey), sizeof(gkey) - strlen(gkey), "%lld,",
				 (long long)port);
		}
		ready = runtime_pod_ready(d, pod, &terminating);
		/* a terminating pod is marked not ready before it is signalled,
		 * so it leaves the load balancer first */
		ep = json_pack("{s:[s],s:{s:b,s:b,s:b},s:{s:s,s:s,s:s,s:O}}", "addresses", ip,
			       "conditions", "ready", ready, "serving", ready, "terminating",
			       terminating, "targetRef", "kind", "Pod", "namespace",
			       k8s_namespace(pod), "name", k8s_name(pod), "uid",
			       json_object_get(json_object_get(pod, "metadata"), "uid"));
		keystr = gkey;
		json_t *g = json_object_get(groups, keystr);
		if (!g) {
			g = json_pack("{s:o,s:[]}", "ports", ports, "endpoints");
			json_object_set_new(groups, keystr, g);
		} else {
			json_decref(ports);
		}
		json_array_append_new(json_object_get(g, "endpoints"), ep);
	}
	json_decref(pods);
	return groups;
}

static json_t *slice_obj(json_t *svc, const char *name, json_t *group)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:s,s:O,s:O}", "apiVersion",
			 "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "name", name,
			 "namespace", k8s_namespace(svc), "labels", "kubernetes.io/service-name",
			 k8s_name(svc), "endpointslice.kubernetes.io/managed-by", MANAGED_BY,
			 "addressType", "IPv4", "ports", json_object_get(group, "ports"),
			 "endpoints", json_object_get(group, "endpoints"));
}

static bool managed(json_t *slice)
{
	const char *m = json_string_value(
	    json_object_get(json_object_get(json_object_get(slice, "metadata"), "labels"),
			    "endpointslice.kubernetes.io/managed-by"));
	return m && !strcmp(m, MANAGED_BY);
}

/* Bring one selector Service's controller slices up to date; program the
 * LB once if anything changed. */
void endpoints_sync_service(struct daemon *d, json_t *svc)
{
	json_t *groups, *have, *g, *old;
	const char *k;
	void *tmp;
	bool changed = false;
	int n = 0;
	char name[320], err[256];
	uint64_t t0 = events_now_ns();

	if (!json_object_size(json_object_get(json_object_get(svc, "spec"), "selector")))
		return;
	groups = build_slices(d, svc);
	have = store_slices(&d->store, k8s_namespace(svc), k8s_name(svc)) ?: json_object();
	json_object_foreach (groups, k, g) {
		json_t *s, *cur;

		snprintf(name, sizeof(name), "%s-pt%d", k8s_name(svc), n++);
		s = slice_obj(svc, name, g);
		cur = json_object_get(have, name);
		if (!cur ||
		    !json_equal(json_object_get(cur, "endpoints"),
				json_object_get(s, "endpoints")) ||
		    !json_equal(json_object_get(cur, "ports"), json_object_get(s, "ports"))) {
			store_put(&d->store, s, "controller");
			changed = true;
		}
		json_object_del(have, name);
		json_decref(s);
	}
	json_object_foreach_safe (have, tmp, k, old) {
		if (!managed(old))
			continue;
		store_del(&d->store, K_ENDPOINTSLICE, k8s_namespace(svc), k);
		changed = true;
	}
	json_decref(have);
	json_decref(groups);
	if (changed) {
		d_sync_service(d, k8s_namespace(svc), k8s_name(svc), err, sizeof(err));
		metrics_observe(M_ENDPOINT_LATENCY, (double)(events_now_ns() - t0) / 1e9);
	}
}

void endpoints_pod_changed(struct daemon *d, json_t *pod)
{
	/* only selector Services have controller slices: the others are not
	 * decoded at all */
	json_t *svcs = store_list_selecting(&d->store, k8s_namespace(pod)), *s;
	size_t i;

	json_array_foreach (svcs, i, s)
		endpoints_sync_service(d, s);
	json_decref(svcs);
}
