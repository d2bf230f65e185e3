// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * describe svc: kubectl describe's text for the Service, then what kubectl
 * can't show: how podtraced programmed it into the socket LB (frontends,
 * backend slots, per-backend selections and the counters). describe pod
 * lives in describe_pod.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "k8s.h"

static const char describe_usage[] =
    "Usage: podtrace describe pod|svc NAME... [-n NS]\n"
    "\n"
    "Show a Pod as kubectl describe does: node, start time, labels, status and\n"
    "IPs, each (init) container's command, state, last state, restarts,\n"
    "resources and probes, then conditions, volumes and QoS class.\n"
    "\n"
    "Show a Service as kubectl describe does, followed by its socket LB state:\n"
    "frontends, backends (with how often each was selected), connection and\n"
    "rejection counters, and the last programming error if any.\n"
    "\n"
    "Flags:\n"
    "  -n, --namespace NS   namespace of NAME (default \"default\")\n"
    "  -h, --help           show this help\n";

/* kubectl shortens annotations longer than this to keep describe readable */
#define MAX_ANNOTATION 140

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **sorted_keys(json_t *obj, size_t *n)
{
	const char **keys = calloc(json_object_size(obj) + 1, sizeof(*keys));
	const char *k;
	json_t *v;

	*n = 0;
	json_object_foreach (obj, k, v)
		keys[(*n)++] = k;
	qsort(keys, *n, sizeof(*keys), cmp_str);
	return keys;
}

void labels_multiline(struct tw *t, const char *title, json_t *labels)
{
	size_t n;
	const char **keys = sorted_keys(labels, &n);

	tw_printf(t, "%s:\t", title);
	for (size_t i = 0; i < n; i++)
		tw_printf(t, "%s%s=%s\n", i ? "\t" : "", keys[i],
			  json_string_value(json_object_get(labels, keys[i])) ?: "");
	if (!n)
		tw_printf(t, "<none>\n");
	free(keys);
}

/* Long or multi-line values go on their own indented lines, as kubectl. */
void annotations_multiline(struct tw *t, json_t *ann)
{
	size_t n, shown = 0;
	const char **keys = sorted_keys(ann, &n);

	tw_printf(t, "Annotations:\t");
	for (size_t i = 0; i < n; i++) {
		const char *v = json_string_value(json_object_get(ann, keys[i])) ?: "";
		size_t vl = strlen(v);

		if (!strcmp(keys[i], "kubectl.kubernetes.io/last-applied-configuration"))
			continue;
		if (shown++)
			tw_printf(t, "\t");
		while (vl && v[vl - 1] == '\n')
			vl--;
		if (vl + strlen(keys[i]) + 2 <= MAX_ANNOTATION && !memchr(v, '\n', vl)) {
			tw_printf(t, "%s: %.*s\n", keys[i], (int)vl, v);
			continue;
		}
		tw_printf(t, "%s:\n", keys[i]);
		for (const char *p = v, *end = v + vl; p <= end;) {
			size_t ll = strcspn(p, "\n");
			if (p + ll > end)
				ll = (size_t)(end - p);
			if (ll > MAX_ANNOTATION - 2) /* kubectl's shorten() */
				tw_printf(t, "\t  %.*s...\n", MAX_ANNOTATION - 2, p);
			else
				tw_printf(t, "\t  %.*s\n", (int)ll, p);
			p += ll + 1;
		}
	}
	if (!shown)
		tw_printf(t, "<none>\n");
	free(keys);
}

static bool endpoint_ready(json_t *ep)
{
	/* unset means ready (discovery.k8s.io/v1 EndpointConditions) */
	return !json_is_false(jpath(ep, "conditions.ready"));
}

static bool port_name_is(json_t *slice_port, const char *name)
{
	return !strcmp(jstr(slice_port, "name", ""), name);
}

/* One "ip:port" of the Endpoints line; only the first three are shown. */
static void endpoint_item(struct tw *t, int *count, const char *addr, json_t *port)
{
	bool v6 = strchr(addr, ':');

	if ((*count)++ >= 3)
		return;
	tw_printf(t, "%s%s%s%s", *count > 1 ? "," : "", v6 ? "[" : "", addr, v6 ? "]" : "");
	if (port)
		tw_printf(t, ":%lld", (long long)json_integer_value(port));
}

/* The ready endpoints of one service port (the first address of each,
 * as kubectl), across the service's slices in name order. */
static void endpoints_line(struct tw *t, json_t *slices, const char *port_name)
{
	size_t ns, i, j;
	const char **names = sorted_keys(slices, &ns);
	int count = 0;
	json_t *ep, *sp;

	tw_printf(t, "Endpoints:\t");
	for (size_t s = 0; s < ns; s++) {
		json_t *slice = json_object_get(slices, names[s]);
		json_t *ports = json_object_get(slice, "ports");

		json_array_foreach (json_object_get(slice, "endpoints"), i, ep) {
			json_t *addrs = json_object_get(ep, "addresses");
			const char *addr = json_string_value(json_array_get(addrs, 0));

			if (!addr || !endpoint_ready(ep))
				continue;
			/* a slice without ports serves every port */
			if (!json_array_size(ports))
				endpoint_item(t, &count, addr, NULL);
			json_array_foreach (ports, j, sp)
				if (port_name_is(sp, port_name))
					endpoint_item(t, &count, addr, json_object_get(sp, "port"));
		}
	}
	if (count > 3)
		tw_printf(t, " + %d more...", count - 3);
	tw_printf(t, "%s\n", count ? "" : "<none>");
	free(names);
}

static void port_lines(struct tw *t, json_t *svc, json_t *slices)
{
	size_t i;
	json_t *p;

	json_array_foreach (jpath(svc, "spec.ports"), i, p) {
		const char *name = jstr(p, "name", "");
		const char *proto = jstr(p, "protocol", "TCP");
		json_t *tp = json_object_get(p, "targetPort");
		json_int_t np = json_integer_value(json_object_get(p, "nodePort"));

		tw_printf(t, "Port:\t%s\t%lld/%s\n", *name ? name : "<unset>",
			  (long long)json_integer_value(json_object_get(p, "port")), proto);
		if (json_is_string(tp))
			tw_printf(t, "TargetPort:\t%s/%s\n", json_string_value(tp), proto);
		else
			tw_printf(
			    t, "TargetPort:\t%lld/%s\n",
			    (long long)json_integer_value(tp ? tp : json_object_get(p, "port")),
			    proto);
		if (np)
			tw_printf(t, "NodePort:\t%s\t%lld/%s\n", *name ? name : "<unset>",
				  (long long)np, proto);
		endpoints_line(t, slices, name);
	}
}

static void optional_line(struct tw *t, const char *title, json_t *svc, const char *path)
{
	const char *v = jstr(svc, path, NULL);

	if (v)
		tw_printf(t, "%s:\t%s\n", title, v);
}

static void service_lines(struct tw *t, json_t *svc, json_t *slices)
{
	json_t *ext = jpath(svc, "spec.externalIPs");
	char *s;

	tw_printf(t, "Name:\t%s\n", k8s_name(svc));
	tw_printf(t, "Namespace:\t%s\n", k8s_namespace(svc));
	labels_multiline(t, "Labels", jpath(svc, "metadata.labels"));
	annotations_multiline(t, jpath(svc, "metadata.annotations"));
	s = fmt_labels(jpath(svc, "spec.selector"));
	tw_printf(t, "Selector:\t%s\n", s);
	free(s);
	tw_printf(t, "Type:\t%s\n", jstr(svc, "spec.type", "ClusterIP"));
	optional_line(t, "IP Family Policy", svc, "spec.ipFamilyPolicy");
	s = join_strings(jpath(svc, "spec.ipFamilies"), ",", "<none>");
	tw_printf(t, "IP Families:\t%s\n", s);
	free(s);
	optional_line(t, "IP", svc, "spec.clusterIP");
	s = join_strings(jpath(svc, "spec.clusterIPs"), ",", "<none>");
	tw_printf(t, "IPs:\t%s\n", s);
	free(s);
	optional_line(t, "External Name", svc, "spec.externalName");
	if (json_array_size(ext)) {
		s = join_strings(ext, ",", "");
		tw_printf(t, "External IPs:\t%s\n", s);
		free(s);
	}
	port_lines(t, svc, slices);
	tw_printf(t, "Session Affinity:\t%s\n", jstr(svc, "spec.sessionAffinity", "None"));
	optional_line(t, "External Traffic Policy", svc, "spec.externalTrafficPolicy");
	optional_line(t, "Internal Traffic Policy", svc, "spec.internalTrafficPolicy");
}

static long long jint(json_t *v, const char *key)
{
	return (long long)json_integer_value(json_object_get(v, key));
}

/* One service port (x address family) as programmed. Every frontend and
 * backend gets its own labelled line so that `grep -i backend` shows each
 * backend with its id. */
static void lb_entry(struct tw *t, json_t *e)
{
	size_t i;
	json_t *fe, *be, *bes = json_object_get(e, "backends");

	tw_printf(t, "  %s:\n", jstr(e, "key", "?"));
	tw_printf(t, "    Svc ID:\t%lld\n", jint(e, "svcId"));
	json_array_foreach (json_object_get(e, "frontends"), i, fe)
		tw_printf(t, "    Frontend:\t%s\t%s\n", jstr(fe, "address", "?"),
			  jstr(fe, "kind", ""));
	tw_printf(t, "    Slots:\t%lld\n", jint(e, "count"));
	json_array_foreach (bes, i, be) {
		const char *a = jstr(be, "address", "?");
		bool v6 = strchr(a, ':');

		tw_printf(t, "    Backend:\t%s%s%s:%lld\tid %lld\tselected %lld%s\n", v6 ? "[" : "",
			  a, v6 ? "]" : "", jint(be, "port"), jint(be, "id"), jint(be, "selected"),
			  json_is_true(json_object_get(be, "terminating")) ? "\tterminating" : "");
	}
	if (!json_array_size(bes))
		tw_printf(t, "    Backends:\t<none> (connections are rejected)\n");
	tw_printf(t, "    Connections:\t%lld\n", jint(e, "connections"));
	tw_printf(t, "    Rejections:\t%lld\n", jint(e, "rejections"));
	tw_printf(t, "    Lookup Failures:\t%lld\n", jint(e, "lookupFailures"));
}

static void lb_lines(struct tw *t, json_t *resp)
{
	json_t *lb = json_object_get(resp, "lb"), *e;
	const char *perr = jstr(resp, "error_programming", NULL);
	size_t i;

	json_t *svc = json_object_get(resp, "object");

	/* say why nothing is programmed when it is by design */
	if (!json_array_size(lb) && !strcmp(jstr(svc, "spec.clusterIP", ""), "None"))
		tw_printf(
		    t, "Socket LB:\t<none> (headless: clients get endpoint addresses from DNS)\n");
	else if (!json_array_size(lb) && !strcmp(jstr(svc, "spec.type", ""), "ExternalName"))
		tw_printf(t, "Socket LB:\t<none> (ExternalName: a DNS alias)\n");
	else if (!json_array_size(lb))
		tw_printf(t, "Socket LB:\t<none>\n");
	else
		tw_printf(t, "Socket LB:\n");
	json_array_foreach (lb, i, e)
		lb_entry(t, e);
	if (perr)
		tw_printf(t, "Programming error:\t%s\n", perr);
}

/* *shown counts the descriptions printed so far. */
static int describe_one(const char *ns, const char *name, int *shown)
{
	json_t *resp = client_call(json_pack("{s:s,s:s,s:s,s:s}", "cmd", "describe", "kind", "svc",
					     "namespace", ns, "name", name));
	struct tw *t;

	if (!resp)
		return 1;
	/* kubectl separates descriptions with a blank line pair */
	if ((*shown)++)
		printf("\n\n");
	t = tw_new(TW_DESCRIBE);
	service_lines(t, json_object_get(resp, "object"), json_object_get(resp, "endpointSlices"));
	lb_lines(t, resp);
	tw_flush(t, stdout);
	json_decref(resp);
	return 0;
}

static const struct option describe_opts[] = {
    {"namespace", required_argument, NULL, 'n'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_describe(int argc, char **argv)
{
	const char *ns = "default";
	int c, rc = 0, shown = 0;
	enum k8s_kind k;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:h", describe_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ns = flag_value(optarg);
			break;
		case 'h':
			fputs(describe_usage, stdout);
			return 0;
		default:
			return bad_flag("describe", describe_usage, c, argv);
		}
	}
	if (optind == argc)
		return usage_error("describe", describe_usage, "a resource type is required");
	k = k8s_kind_from_arg(argv[optind]);
	if (k != K_SERVICE && k != K_POD)
		return usage_error("describe", describe_usage,
				   "unknown resource type \"%s\" (want pod or svc)", argv[optind]);
	if (optind + 1 == argc)
		return usage_error("describe", describe_usage, "a name is required");
	for (int i = optind + 1; i < argc; i++)
		rc |= k == K_POD ? describe_pod(ns, pod_arg_name(argv[i]), &shown)
				 : describe_one(ns, argv[i], &shown);
	return rc;
}
