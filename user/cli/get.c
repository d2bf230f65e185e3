// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * get: list objects as kubectl does. The table columns follow kubectl's
 * printers (pkg/printers/internalversion) so that the output reads the
 * same as on a cluster.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "k8s.h"

static const char get_usage[] =
    "Usage: podtrace get pods|svc|endpointslices [NAME...] [-n NS | -A] [-o wide|json|yaml]\n"
    "\n"
    "List Pods (po, pod, pods) with their live status, Services (svc, service,\n"
    "services) or EndpointSlices (eps, endpointslice, endpointslices) held by\n"
    "podtraced. The Pod table reads as kubectl's: READY counts ready containers,\n"
    "STATUS is kubectl's summary (Init:1/2, CrashLoopBackOff, Completed,\n"
    "Terminating...), -o wide adds the pod IP and the node.\n"
    "\n"
    "Flags:\n"
    "  -n, --namespace NS       namespace to list (default \"default\")\n"
    "  -A, --all-namespaces     list every namespace\n"
    "  -o, --output FORMAT      wide, json or yaml (default: a table)\n"
    "      --no-headers         no header line in tables\n"
    "  -h, --help               show this help\n";

struct get_args {
	enum k8s_kind kind;
	const char *ns;
	bool all;
	enum out_fmt out;
	bool no_headers;
	char **names;
	int n_names;
};

/* ---- Services ---- */

/* "80/TCP,443:30443/TCP" */
static char *svc_ports(json_t *svc)
{
	json_t *ports = jpath(svc, "spec.ports"), *p;
	size_t i, len;
	char *out;
	FILE *f = open_memstream(&out, &len);

	json_array_foreach (ports, i, p) {
		json_int_t np = json_integer_value(json_object_get(p, "nodePort"));

		fprintf(f, "%s%lld", i ? "," : "",
			(long long)json_integer_value(json_object_get(p, "port")));
		if (np > 0)
			fprintf(f, ":%lld", (long long)np);
		fprintf(f, "/%s", jstr(p, "protocol", "TCP"));
	}
	if (!json_array_size(ports))
		fputs("<none>", f);
	fclose(f);
	return out;
}

static const char *svc_cluster_ip(json_t *svc)
{
	const char *ip = json_string_value(json_array_get(jpath(svc, "spec.clusterIPs"), 0));

	return ip ? ip : jstr(svc, "spec.clusterIP", "<none>");
}

/* Load balancer ingress as kubectl shows it: IPs or hostnames, cut to 16
 * characters unless -o wide. */
static char *lb_ingress(json_t *svc, bool wide)
{
	json_t *ing = jpath(svc, "status.loadBalancer.ingress"), *e;
	size_t i, len;
	char *out;
	FILE *f = open_memstream(&out, &len);
	int n = 0;

	json_array_foreach (ing, i, e) {
		const char *v = jstr(e, "ip", jstr(e, "hostname", NULL));
		if (v)
			fprintf(f, "%s%s", n++ ? "," : "", v);
	}
	fclose(f);
	if (!wide && strlen(out) > 16)
		strcpy(out + 13, "...");
	return out;
}

static char *svc_external(json_t *svc, bool wide)
{
	const char *type = jstr(svc, "spec.type", "ClusterIP");
	json_t *ext = jpath(svc, "spec.externalIPs");

	if (!strcmp(type, "ExternalName"))
		return strdup(jstr(svc, "spec.externalName", ""));
	if (!strcmp(type, "LoadBalancer")) {
		char *lb = lb_ingress(svc, wide), *ips = join_strings(ext, ",", ""), *out;

		if (*lb && *ips) {
			if (asprintf(&out, "%s,%s", lb, ips) < 0)
				abort();
		} else {
			out = strdup(*lb ? lb : *ips ? ips : "<pending>");
		}
		free(lb);
		free(ips);
		return out;
	}
	if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort"))
		return join_strings(ext, ",", "<none>");
	return strdup("<unknown>");
}

static void svc_header(struct tw *t, const struct get_args *a)
{
	tw_printf(t, "%sNAME\tTYPE\tCLUSTER-IP\tEXTERNAL-IP\tPORT(S)\tAGE%s\n",
		  a->all ? "NAMESPACE\t" : "", a->out == OUT_WIDE ? "\tSELECTOR" : "");
}

static void svc_row(struct tw *t, json_t *svc, const struct get_args *a)
{
	char *ports = svc_ports(svc), *ext = svc_external(svc, a->out == OUT_WIDE);
	char age[32];

	fmt_age(svc, age, sizeof(age));
	if (a->all)
		tw_printf(t, "%s\t", k8s_namespace(svc));
	tw_printf(t, "%s\t%s\t%s\t%s\t%s\t%s", k8s_name(svc), jstr(svc, "spec.type", "ClusterIP"),
		  svc_cluster_ip(svc), ext, ports, age);
	if (a->out == OUT_WIDE) {
		char *sel = fmt_labels(jpath(svc, "spec.selector"));
		tw_printf(t, "\t%s", sel);
		free(sel);
	}
	tw_printf(t, "\n");
	free(ports);
	free(ext);
}

/* ---- EndpointSlices ---- */

/* kubectl's listWithMoreString: the first three, then " + N more...". */
static void more_list(FILE *f, int shown, int count)
{
	if (count > shown && shown == 3)
		fprintf(f, " + %d more...", count - shown);
	if (!count)
		fputs("<unset>", f);
}

static char *slice_ports(json_t *slice)
{
	json_t *p;
	size_t i, len;
	char *out;
	FILE *f = open_memstream(&out, &len);
	int n = 0;

	json_array_foreach (json_object_get(slice, "ports"), i, p) {
		json_t *num = json_object_get(p, "port");

		if (n < 3) {
			if (json_is_integer(num))
				fprintf(f, "%s%lld", n ? "," : "",
					(long long)json_integer_value(num));
			else
				fprintf(f, "%s%s", n ? "," : "", jstr(p, "name", "*"));
		}
		n++;
	}
	more_list(f, n < 3 ? n : 3, n);
	fclose(f);
	return out;
}

static char *slice_endpoints(json_t *slice)
{
	json_t *ep, *addr;
	size_t i, j, len;
	char *out;
	FILE *f = open_memstream(&out, &len);
	int n = 0;

	json_array_foreach (json_object_get(slice, "endpoints"), i, ep)
		json_array_foreach (json_object_get(ep, "addresses"), j, addr) {
			if (n < 3)
				fprintf(f, "%s%s", n ? "," : "", json_string_value(addr) ?: "");
			n++;
		}
	more_list(f, n < 3 ? n : 3, n);
	fclose(f);
	return out;
}

static void eps_header(struct tw *t, const struct get_args *a)
{
	tw_printf(t, "%sNAME\tADDRESSTYPE\tPORTS\tENDPOINTS\tAGE\n", a->all ? "NAMESPACE\t" : "");
}

static void eps_row(struct tw *t, json_t *slice, const struct get_args *a)
{
	char *ports = slice_ports(slice), *eps = slice_endpoints(slice);
	char age[32];

	fmt_age(slice, age, sizeof(age));
	if (a->all)
		tw_printf(t, "%s\t", k8s_namespace(slice));
	tw_printf(t, "%s\t%s\t%s\t%s\t%s\n", k8s_name(slice), jstr(slice, "addressType", "<unset>"),
		  ports, eps, age);
	free(ports);
	free(eps);
}

/* ---- Pods ---- */

static void pod_header(struct tw *t, const struct get_args *a)
{
	tw_printf(t, "%sNAME\tREADY\tSTATUS\tRESTARTS\tAGE%s\n", a->all ? "NAMESPACE\t" : "",
		  a->out == OUT_WIDE ? "\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES" : "");
}

/* "1/2" of spec.readinessGates whose condition is True; "<none>". */
static void readiness_gates(struct tw *t, json_t *pod)
{
	json_t *gates = jpath(pod, "spec.readinessGates"), *g, *c;
	size_t i, j;
	int ok = 0;

	if (!json_array_size(gates)) {
		tw_printf(t, "\t<none>");
		return;
	}
	json_array_foreach (gates, i, g)
		json_array_foreach (jpath(pod, "status.conditions"), j, c)
			ok += !strcmp(jstr(c, "type", ""), jstr(g, "conditionType", "")) &&
			      !strcmp(jstr(c, "status", ""), "True");
	tw_printf(t, "\t%d/%zu", ok, json_array_size(gates));
}

static void pod_row(struct tw *t, json_t *pod, const struct get_args *a)
{
	struct pod_summary s;
	char age[32];

	pod_summarize(pod, &s);
	fmt_age(pod, age, sizeof(age));
	if (a->all)
		tw_printf(t, "%s\t", k8s_namespace(pod));
	tw_printf(t, "%s\t%d/%d\t%s\t%d\t%s", k8s_name(pod), s.ready, s.total, s.status, s.restarts,
		  age);
	if (a->out == OUT_WIDE) {
		const char *ip = jstr(json_array_get(jpath(pod, "status.podIPs"), 0), "ip", "");

		/* no node objects here: the node is the host, known by its IP */
		tw_printf(t, "\t%s\t%s\t%s", *ip ? ip : "<none>",
			  jstr(pod, "spec.nodeName", jstr(pod, "status.hostIP", "<none>")),
			  jstr(pod, "status.nominatedNodeName", "<none>"));
		readiness_gates(t, pod);
	}
	tw_printf(t, "\n");
}

/* ---- fetch and print ---- */

static const char *kind_arg(enum k8s_kind k)
{
	return k == K_SERVICE ? "svc" : k == K_POD ? "pods" : "endpointslice";
}

static json_t *request(const struct get_args *a, const char *name)
{
	json_t *req = json_pack("{s:s,s:s,s:s,s:b}", "cmd", "get", "kind", kind_arg(a->kind),
				"namespace", a->ns, "all", a->all);

	if (name)
		json_object_set_new(req, "name", json_string(name));
	return req;
}

/* All the objects asked for; *failed counts the names that failed. */
static json_t *fetch(const struct get_args *a, int *failed)
{
	json_t *items = json_array(), *resp;

	*failed = 0;
	for (int i = 0; i < (a->n_names ? a->n_names : 1); i++) {
		const char *name = a->n_names ? a->names[i] : NULL;

		if (a->kind == K_POD && name)
			resp = client_call_named(request(a, name), "pods", name);
		else
			resp = client_call(request(a, name));
		if (!resp) {
			(*failed)++;
			continue;
		}
		json_array_extend(items, json_object_get(resp, "items"));
		json_decref(resp);
	}
	return items;
}

static void print_table(const struct get_args *a, json_t *items)
{
	struct tw *t = tw_new(TW_TABLE);
	size_t i;
	json_t *o;

	if (a->no_headers)
		;
	else if (a->kind == K_SERVICE)
		svc_header(t, a);
	else if (a->kind == K_POD)
		pod_header(t, a);
	else
		eps_header(t, a);
	json_array_foreach (items, i, o) {
		if (a->kind == K_SERVICE)
			svc_row(t, o, a);
		else if (a->kind == K_POD)
			pod_row(t, o, a);
		else
			eps_row(t, o, a);
	}
	tw_flush(t, stdout);
}

static int print_doc(const struct get_args *a, json_t *items)
{
	json_t *doc;
	int rc;

	/* one name asked, one object printed; a List otherwise (as kubectl) */
	if (a->n_names == 1)
		doc = json_incref(json_array_get(items, 0));
	else
		doc =
		    json_pack("{s:s,s:s,s:O}", "apiVersion", "v1", "kind", "List", "items", items);
	rc = a->out == OUT_JSON ? print_json(doc) : print_yaml(doc);
	json_decref(doc);
	if (rc)
		fprintf(stderr, "podtrace: cannot encode the output\n");
	return rc ? 1 : 0;
}

static int show(const struct get_args *a)
{
	int failed, rc = 0;
	json_t *items = fetch(a, &failed);

	if (failed && failed == (a->n_names ? a->n_names : 1))
		rc = 1; /* nothing came back: the error is already printed */
	else if (a->out == OUT_JSON || a->out == OUT_YAML)
		rc = print_doc(a, items);
	else if (json_array_size(items))
		print_table(a, items);
	else if (a->all)
		fprintf(stderr, "No resources found\n");
	else
		fprintf(stderr, "No resources found in %s namespace.\n", a->ns);
	json_decref(items);
	return failed ? 1 : rc;
}

static const struct option get_opts[] = {
    {"namespace", required_argument, NULL, 'n'},
    {"all-namespaces", no_argument, NULL, 'A'},
    {"output", required_argument, NULL, 'o'},
    {"no-headers", no_argument, NULL, 'H'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_get(int argc, char **argv)
{
	struct get_args a = {.ns = "default"};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:Ao:h", get_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a.ns = flag_value(optarg);
			break;
		case 'A':
			a.all = true;
			break;
		case 'o':
			if (parse_output(flag_value(optarg), &a.out))
				return usage_error(
				    "get", get_usage,
				    "unknown output format \"%s\" (want wide, json or yaml)",
				    optarg);
			break;
		case 'H':
			a.no_headers = true;
			break;
		case 'h':
			fputs(get_usage, stdout);
			return 0;
		default:
			return bad_flag("get", get_usage, c, argv);
		}
	}
	if (optind == argc)
		return usage_error("get", get_usage, "a resource type is required");
	a.kind = k8s_kind_from_arg(argv[optind]);
	if (a.kind != K_SERVICE && a.kind != K_ENDPOINTSLICE && a.kind != K_POD)
		return usage_error(
		    "get", get_usage,
		    "unknown resource type \"%s\" (want pods, svc or endpointslices)",
		    argv[optind]);
	a.names = argv + optind + 1;
	a.n_names = argc - optind - 1;
	if (a.all && a.n_names)
		return usage_error("get", get_usage,
				   "a resource cannot be retrieved by name across all namespaces");
	return show(&a);
}
