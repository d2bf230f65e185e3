// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "k8s.h"
#include "pod.h"

static const struct {
	enum k8s_kind kind;
	const char *name, *api, *args;
} kinds[] = {
    {K_SERVICE, "Service", "v1", "svc service services"},
    {K_ENDPOINTSLICE, "EndpointSlice", "discovery.k8s.io/v1", "endpointslice endpointslices eps"},
    {K_ENDPOINTS, "Endpoints", "v1", "ep endpoints"},
    {K_POD, "Pod", "v1", "po pod pods"},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *k8s_kind_name(enum k8s_kind k)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "Unknown";
}

enum k8s_kind k8s_kind_from_arg(const char *s)
{
	char lower[64];
	size_t n = strlen(s);

	if (n >= sizeof(lower))
		return K_UNKNOWN;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	for (size_t i = 0; i < N_KINDS; i++) {
		char list[64], *save, *w;
		snprintf(list, sizeof(list), "%s", kinds[i].args);
		for (w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save))
			if (!strcmp(w, lower))
				return kinds[i].kind;
	}
	return K_UNKNOWN;
}

enum k8s_kind k8s_kind_of(json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	for (size_t i = 0; kind && i < N_KINDS; i++)
		if (!strcmp(kinds[i].name, kind))
			return kinds[i].kind;
	return K_UNKNOWN;
}

static const char *kind_api(enum k8s_kind k)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (kinds[i].kind == k)
			return kinds[i].api;
	return "";
}

/* ---- errors ---- */
void errs_add(struct errs *e, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "%s: ", path);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	e->msg = realloc(e->msg, sizeof(char *) * (size_t)(e->n + 1));
	e->msg[e->n++] = strdup(msg);
}

void errs_free(struct errs *e)
{
	for (int i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = 0;
}

void errs_join(const struct errs *e, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < e->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "; " : "", e->msg[i]);
}

/* ---- metadata ---- */
const char *k8s_name(json_t *obj)
{
	const char *n =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	return n ? n : "";
}

const char *k8s_namespace(json_t *obj)
{
	const char *ns =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	return ns && *ns ? ns : "default";
}

void k8s_ref(json_t *obj, char *buf, size_t len)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	snprintf(buf, len, "%s %s/%s", kind ? kind : "<no kind>", k8s_namespace(obj),
		 *k8s_name(obj) ? k8s_name(obj) : "<no name>");
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
bool dns1123_label(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*, at most
 * 253 in all (no limit per part, as the API server). */
bool dns1123_subdomain(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool alnum = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]);
		bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if (alnum)
			continue;
		if ((s[i] != '-' && s[i] != '.') || edge)
			return false;
	}
	return true;
}

bool dns1035_label(const char *s)
{
	return dns1123_label(s) && islower((unsigned char)s[0]);
}

/* IANA service name, as a named targetPort must be. */
static bool iana_svc_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (!n || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			letter = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return letter;
}

static int proto_parse(json_t *v, const char *path, struct errs *e)
{
	const char *p = json_string_value(v);

	if (!v || !p || !strcmp(p, "TCP"))
		return v && !p ? (errs_add(e, path, "must be a string"), -1) : IPPROTO_TCP;
	if (!strcmp(p, "UDP"))
		return IPPROTO_UDP;
	if (!strcmp(p, "SCTP"))
		errs_add(e, path, "SCTP is not supported by podtrace");
	else
		errs_add(e, path, "Unsupported value: \"%s\": supported values: \"TCP\", \"UDP\"",
			 p);
	return -1;
}

static bool port_ok(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 65535;
}

static void check_meta(json_t *obj, enum k8s_kind k, struct errs *e)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *api = json_string_value(json_object_get(obj, "apiVersion"));
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));

	if (!api || strcmp(api, kind_api(k)))
		errs_add(e, "apiVersion", "must be \"%s\" for kind %s, got \"%s\"", kind_api(k),
			 k8s_kind_name(k), api ? api : "");
	if (!json_is_object(md)) {
		errs_add(e, "metadata", "Required value");
		return;
	}
	if (!name || !*name)
		errs_add(e, "metadata.name", "Required value");
	else if (k == K_SERVICE ? !dns1035_label(name) : !dns1123_subdomain(name))
		errs_add(e, "metadata.name", "Invalid value: \"%s\": must be a DNS-%s", name,
			 k == K_SERVICE ? "1035 label" : "1123 subdomain");
	if (json_object_get(md, "namespace") && !json_is_null(json_object_get(md, "namespace")) &&
	    (!ns || (*ns && !dns1123_label(ns))))
		errs_add(e, "metadata.namespace", "Invalid value: \"%s\": must be a DNS-1123 label",
			 ns ? ns : "");
}

/* ---- Service ---- */
static int svc_type_parse(const char *t)
{
	if (!t || !strcmp(t, "ClusterIP"))
		return SVC_CLUSTER_IP;
	if (!strcmp(t, "NodePort"))
		return SVC_NODE_PORT;
	if (!strcmp(t, "LoadBalancer"))
		return SVC_LOAD_BALANCER;
	if (!strcmp(t, "ExternalName"))
		return SVC_EXTERNAL_NAME;
	return -1;
}

static bool in_svc_cidr(const struct k8s_ctx *ctx, const struct ipaddr *ip)
{
	for (int i = 0; i < ctx->n_svc_cidr; i++)
		if (cidr_contains(&ctx->svc_cidr[i], ip))
			return true;
	return false;
}

static void check_cluster_ips(json_t *spec, const struct k8s_ctx *ctx, struct errs *e)
{
	json_t *cip = json_object_get(spec, "clusterIP");
	json_t *cips = json_object_get(spec, "clusterIPs");
	const char *c = json_string_value(cip);
	struct ipaddr ip;
	char path[64];
	size_t i;
	json_t *v;

	if (cip && !json_is_null(cip) && !c)
		errs_add(e, "spec.clusterIP", "must be a string");
	if (c && *c && strcmp(c, "None")) {
		if (ip_parse(c, &ip))
			errs_add(e, "spec.clusterIP",
				 "Invalid value: \"%s\": must be a valid IP address or \"None\"",
				 c);
		else if (!in_svc_cidr(ctx, &ip))
			errs_add(e, "spec.clusterIP",
				 "Invalid value: \"%s\": provided IP is not in the valid range", c);
	}
	if (!cips || json_is_null(cips))
		return;
	if (!json_is_array(cips) || json_array_size(cips) > 2) {
		errs_add(e, "spec.clusterIPs", "must be a list of at most 2 IPs");
		return;
	}
	int fam0 = 0;
	json_array_foreach (cips, i, v) {
		const char *s = json_string_value(v);
		snprintf(path, sizeof(path), "spec.clusterIPs[%zu]", i);
		if (!s) {
			errs_add(e, path, "must be a string");
			continue;
		}
		if (i == 0 && c && *c && strcmp(s, c))
			errs_add(e, path, "Invalid value: \"%s\": must match spec.clusterIP \"%s\"",
				 s, c);
		if (!strcmp(s, "None"))
			continue;
		if (ip_parse(s, &ip)) {
			errs_add(e, path, "Invalid value: \"%s\": must be a valid IP address", s);
			continue;
		}
		if (!in_svc_cidr(ctx, &ip))
			errs_add(e, path,
				 "Invalid value: \"%s\": provided IP is not in the valid range", s);
		if (i == 1 && ip.family == fam0)
			errs_add(e, path,
				 "Invalid value: \"%s\": must be of a different IP family than "
				 "clusterIPs[0]",
				 s);
		fam0 = ip.family;
	}
}

static void check_svc_ports(json_t *spec, int type, bool headless, const struct k8s_ctx *ctx,
			    struct errs *e)
{
	json_t *ports = json_object_get(spec, "ports");
	char path[96], seen[SVC_MAX_PORTS][2][64];
	size_t i;
	json_t *p;

	if (!ports || json_is_null(ports)) {
		if (!headless && type != SVC_EXTERNAL_NAME)
			errs_add(e, "spec.ports", "Required value");
		return;
	}
	if (!json_is_array(ports)) {
		errs_add(e, "spec.ports", "must be a list");
		return;
	}
	if (json_array_size(ports) > SVC_MAX_PORTS) {
		errs_add(e, "spec.ports", "Too many: %zu: must have at most %d items",
			 json_array_size(ports), SVC_MAX_PORTS);
		return;
	}
	if (!json_array_size(ports) && !headless && type != SVC_EXTERNAL_NAME)
		errs_add(e, "spec.ports", "Required value");
	json_array_foreach (ports, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		json_t *tp = json_object_get(p, "targetPort");
		json_t *np = json_object_get(p, "nodePort");
		int proto;

		snprintf(path, sizeof(path), "spec.ports[%zu].port", i);
		if (!port_ok(json_object_get(p, "port")))
			errs_add(e, path,
				 "Invalid value: %lld: must be between 1 and 65535, inclusive",
				 json_integer_value(json_object_get(p, "port")));
		snprintf(path, sizeof(path), "spec.ports[%zu].protocol", i);
		proto = proto_parse(json_object_get(p, "protocol"), path, e);
		snprintf(path, sizeof(path), "spec.ports[%zu].name", i);
		if (json_array_size(ports) > 1 && (!name || !*name))
			errs_add(e, path, "Required value");
		else if (name && *name && !dns1123_label(name))
			errs_add(e, path, "Invalid value: \"%s\": must be a DNS-1123 label", name);
		snprintf(seen[i][0], sizeof(seen[i][0]), "%s", name ? name : "");
		snprintf(seen[i][1], sizeof(seen[i][1]), "%lld/%d",
			 json_integer_value(json_object_get(p, "port")), proto);
		for (size_t j = 0; j < i; j++) {
			if (name && *name && !strcmp(seen[j][0], seen[i][0]))
				errs_add(e, path, "Duplicate value: \"%s\"", name);
			if (!strcmp(seen[j][1], seen[i][1])) {
				snprintf(path, sizeof(path), "spec.ports[%zu]", i);
				errs_add(e, path,
					 "Duplicate value: port and protocol already used by "
					 "spec.ports[%zu]",
					 j);
			}
		}
		snprintf(path, sizeof(path), "spec.ports[%zu].targetPort", i);
		/* 0 and "" mean "the port", as the API server defaults them */
		if ((json_is_integer(tp) && !json_integer_value(tp)) ||
		    (json_is_string(tp) && !*json_string_value(tp)))
			tp = NULL;
		if (tp && json_is_string(tp) && !iana_svc_name(json_string_value(tp)))
			errs_add(
			    e, path,
			    "Invalid value: \"%s\": must be a port number or an IANA service name",
			    json_string_value(tp));
		else if (tp && !json_is_string(tp) && !json_is_null(tp) && !port_ok(tp))
			errs_add(e, path,
				 "Invalid value: %lld: must be between 1 and 65535, inclusive",
				 json_integer_value(tp));
		snprintf(path, sizeof(path), "spec.ports[%zu].nodePort", i);
		if (np && !json_is_null(np) && !json_is_integer(np))
			errs_add(e, path, "Invalid value: must be an integer");
		for (size_t j = 0; j < i && json_integer_value(np); j++) {
			json_t *q = json_array_get(ports, j);
			if (json_equal(json_object_get(q, "nodePort"), np) &&
			    !strcmp(json_string_value(json_object_get(q, "protocol")) ?: "TCP",
				    json_string_value(json_object_get(p, "protocol")) ?: "TCP"))
				errs_add(e, path, "Duplicate value: %lld", json_integer_value(np));
		}
		if (np && !json_is_null(np) && json_integer_value(np) != 0) {
			long long v = json_integer_value(np);
			if (type != SVC_NODE_PORT && type != SVC_LOAD_BALANCER)
				errs_add(e, path,
					 "Forbidden: may not be used when `type` is 'ClusterIP'");
			else if (!json_is_integer(np) || v < ctx->np_min || v > ctx->np_max)
				errs_add(e, path,
					 "Invalid value: %lld: provided port is not in the valid "
					 "range. The range of valid ports is %u-%u",
					 v, ctx->np_min, ctx->np_max);
		}
	}
}

static void check_service(json_t *obj, const struct k8s_ctx *ctx, struct errs *e)
{
	json_t *spec = json_object_get(obj, "spec");
	const char *t, *c, *aff;
	int type;
	size_t i;
	json_t *v;
	char path[64];

	if (!json_is_object(spec)) {
		errs_add(e, "spec", "Required value");
		return;
	}
	t = json_string_value(json_object_get(spec, "type"));
	type = svc_type_parse(t);
	if (type < 0) {
		errs_add(e, "spec.type",
			 "Unsupported value: \"%s\": supported values: \"ClusterIP\", "
			 "\"ExternalName\", \"LoadBalancer\", \"NodePort\"",
			 t);
		return;
	}
	c = json_string_value(json_object_get(spec, "clusterIP"));
	bool headless = c && !strcmp(c, "None");
	if (headless && type != SVC_CLUSTER_IP)
		errs_add(e, "spec.clusterIP",
			 "Invalid value: \"None\": may only be set to None for ClusterIP services");
	check_cluster_ips(spec, ctx, e);
	check_svc_ports(spec, type, headless, ctx, e);
	json_array_foreach (json_object_get(spec, "externalIPs"), i, v) {
		struct ipaddr ip;
		snprintf(path, sizeof(path), "spec.externalIPs[%zu]", i);
		if (i >= SVC_MAX_EXT)
			errs_add(e, path, "Too many: at most %d externalIPs", SVC_MAX_EXT);
		else if (ip_parse(json_string_value(v), &ip))
			errs_add(e, path, "Invalid value: \"%s\": must be a valid IP address",
				 json_string_value(v) ? json_string_value(v) : "");
	}
	aff = json_string_value(json_object_get(spec, "sessionAffinity"));
	if (aff && strcmp(aff, "None") && strcmp(aff, "ClientIP"))
		errs_add(e, "spec.sessionAffinity",
			 "Unsupported value: \"%s\": supported values: \"ClientIP\", \"None\"",
			 aff);
	json_t *to = json_object_get(
	    json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
	    "timeoutSeconds");
	if (to && !json_is_null(to)) {
		long long s = json_integer_value(to);
		if (!aff || strcmp(aff, "ClientIP"))
			errs_add(e, "spec.sessionAffinityConfig",
				 "Forbidden: must not be set when spec.sessionAffinity is None");
		else if (!json_is_integer(to) || s < 1 || s > 86400)
			errs_add(e, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
				 "Invalid value: %lld: must be greater than 0 and less than 86400",
				 s);
	}
	json_t *sel = json_object_get(spec, "selector");
	if (sel && !json_is_null(sel) && !json_is_object(sel))
		errs_add(e, "spec.selector", "must be a map of labels");
}

/* ---- EndpointSlice ---- */
static void check_slice(json_t *obj, struct errs *e)
{
	const char *at = json_string_value(json_object_get(obj, "addressType"));
	int fam = 0;
	char path[96];
	size_t i, j;
	json_t *ep, *a, *p;

	if (!at)
		errs_add(e, "addressType", "Required value");
	else if (!strcmp(at, "IPv4"))
		fam = 4;
	else if (!strcmp(at, "IPv6"))
		fam = 6;
	else if (strcmp(at, "FQDN"))
		errs_add(
		    e, "addressType",
		    "Unsupported value: \"%s\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"",
		    at);
	json_array_foreach (json_object_get(obj, "endpoints"), i, ep) {
		json_t *addrs = json_object_get(ep, "addresses");
		snprintf(path, sizeof(path), "endpoints[%zu].addresses", i);
		if (!json_is_array(addrs) || !json_array_size(addrs) ||
		    json_array_size(addrs) > 100) {
			errs_add(e, path, "must have 1 to 100 addresses");
			continue;
		}
		json_array_foreach (addrs, j, a) {
			struct ipaddr ip;
			snprintf(path, sizeof(path), "endpoints[%zu].addresses[%zu]", i, j);
			if (fam && (ip_parse(json_string_value(a), &ip) || ip.family != fam))
				errs_add(e, path,
					 "Invalid value: \"%s\": must be a valid %s address",
					 json_string_value(a) ? json_string_value(a) : "", at);
		}
		json_t *cond = json_object_get(ep, "conditions");
		static const char *const cn[] = {"ready", "serving", "terminating"};
		for (int k = 0; k < 3; k++) {
			json_t *c = json_object_get(cond, cn[k]);
			snprintf(path, sizeof(path), "endpoints[%zu].conditions.%s", i, cn[k]);
			if (c && !json_is_null(c) && !json_is_boolean(c))
				errs_add(e, path, "must be a boolean");
		}
	}
	json_array_foreach (json_object_get(obj, "ports"), i, p) {
		json_t *port = json_object_get(p, "port");
		const char *name = json_string_value(json_object_get(p, "name"));
		snprintf(path, sizeof(path), "ports[%zu].port", i);
		if (port && !json_is_null(port) && !port_ok(port))
			errs_add(e, path,
				 "Invalid value: %lld: must be between 1 and 65535, inclusive",
				 json_integer_value(port));
		snprintf(path, sizeof(path), "ports[%zu].protocol", i);
		proto_parse(json_object_get(p, "protocol"), path, e);
		snprintf(path, sizeof(path), "ports[%zu].name", i);
		if (name && *name && !dns1123_label(name))
			errs_add(e, path, "Invalid value: \"%s\": must be a DNS-1123 label", name);
	}
}

int k8s_validate(json_t *obj, const struct k8s_ctx *ctx, struct errs *e)
{
	enum k8s_kind k;

	if (!json_is_object(obj)) {
		errs_add(e, "<document>", "must be an object");
		return -1;
	}
	k = k8s_kind_of(obj);
	if (k == K_UNKNOWN) {
		const char *kind = json_string_value(json_object_get(obj, "kind"));
		errs_add(e, "kind",
			 kind ? "Unsupported value: \"%s\": supported kinds: Service, "
				"EndpointSlice, Endpoints, Pod"
			      : "Required value%s",
			 kind ? kind : "");
		return -1;
	}
	check_meta(obj, k, e);
	if (k == K_SERVICE)
		check_service(obj, ctx, e);
	else if (k == K_ENDPOINTSLICE)
		check_slice(obj, e);
	else if (k == K_POD)
		pod_validate(obj, e);
	return e->n ? -1 : 0;
}

/* ---- Endpoints -> EndpointSlice ---- */
static void add_eps(json_t *eps, json_t *addrs, bool ready, int fam)
{
	size_t i;
	json_t *a;

	json_array_foreach (addrs, i, a) {
		struct ipaddr ip;
		if (ip_parse(json_string_value(json_object_get(a, "ip")), &ip) || ip.family != fam)
			continue;
		json_t *ep =
		    json_pack("{s:[O],s:{s:b,s:b,s:b}}", "addresses", json_object_get(a, "ip"),
			      "conditions", "ready", ready, "serving", ready, "terminating", 0);
		json_t *ref = json_object_get(a, "targetRef");
		if (ref)
			json_object_set(ep, "targetRef", ref);
		json_array_append_new(eps, ep);
	}
}

json_t *k8s_endpoints_to_slices(json_t *ep)
{
	json_t *out = json_array();
	size_t i;
	json_t *ss;
	const char *name = k8s_name(ep);

	json_array_foreach (json_object_get(ep, "subsets"), i, ss) {
		for (int fam = 4; fam <= 6; fam += 2) {
			json_t *eps = json_array();
			char sname[300];

			add_eps(eps, json_object_get(ss, "addresses"), true, fam);
			add_eps(eps, json_object_get(ss, "notReadyAddresses"), false, fam);
			if (!json_array_size(eps)) {
				json_decref(eps);
				continue;
			}
			snprintf(sname, sizeof(sname), "%s-ep%zu-v%d", name, i, fam);
			json_t *s = json_pack(
			    "{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s}},s:s,s:o,s:O}", "apiVersion",
			    "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "name",
			    sname, "namespace", k8s_namespace(ep), "labels",
			    "kubernetes.io/service-name", name,
			    "endpointslice.kubernetes.io/managed-by", "podtrace-endpoints-mirror",
			    "addressType", fam == 4 ? "IPv4" : "IPv6", "endpoints", eps, "ports",
			    json_object_get(ss, "ports") ? json_object_get(ss, "ports")
							 : json_array());
			json_array_append_new(out, s);
		}
	}
	return out;
}

/* ---- Service view ---- */
int svc_view(json_t *obj, struct service *s)
{
	json_t *spec = json_object_get(obj, "spec");
	const char *c = json_string_value(json_object_get(spec, "clusterIP"));
	json_t *cips = json_object_get(spec, "clusterIPs");
	size_t i;
	json_t *v;

	memset(s, 0, sizeof(*s));
	s->ns = k8s_namespace(obj);
	s->name = k8s_name(obj);
	s->type = (enum svc_type)svc_type_parse(json_string_value(json_object_get(spec, "type")));
	s->headless = c && !strcmp(c, "None");
	if (json_array_size(cips)) {
		json_array_foreach (cips, i, v)
			if (s->n_ips < SVC_MAX_IPS &&
			    !ip_parse(json_string_value(v), &s->ips[s->n_ips]))
				s->n_ips++;
	} else if (c && !ip_parse(c, &s->ips[0])) {
		s->n_ips = 1;
	}
	json_array_foreach (json_object_get(spec, "externalIPs"), i, v)
		if (s->n_ext < SVC_MAX_EXT && !ip_parse(json_string_value(v), &s->ext[s->n_ext]))
			s->n_ext++;
	json_array_foreach (json_object_get(spec, "ports"), i, v) {
		struct svc_port *p = &s->ports[s->n_ports++];
		json_t *tp = json_object_get(v, "targetPort");
		const char *proto = json_string_value(json_object_get(v, "protocol"));

		p->name = json_string_value(json_object_get(v, "name"));
		if (!p->name)
			p->name = "";
		p->proto = proto && !strcmp(proto, "UDP") ? IPPROTO_UDP : IPPROTO_TCP;
		p->port = (uint16_t)json_integer_value(json_object_get(v, "port"));
		p->node_port = (uint16_t)json_integer_value(json_object_get(v, "nodePort"));
		if (json_is_string(tp))
			p->target_name = json_string_value(tp);
		else
			p->target_num =
			    json_is_integer(tp) ? (uint16_t)json_integer_value(tp) : p->port;
		if (s->n_ports == SVC_MAX_PORTS)
			break;
	}
	const char *aff = json_string_value(json_object_get(spec, "sessionAffinity"));
	s->affinity = aff && !strcmp(aff, "ClientIP");
	json_t *to = json_object_get(
	    json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
	    "timeoutSeconds");
	s->affinity_timeout = json_is_integer(to) ? (uint32_t)json_integer_value(to) : 10800;
	s->selector = json_object_get(spec, "selector");
	if (!json_is_object(s->selector) || !json_object_size(s->selector))
		s->selector = NULL;
	return 0;
}

/* ---- defaulting ---- */
static int want_families(json_t *spec, const struct ipaddr *given, int ngiven, int fams[2])
{
	json_t *fl = json_object_get(spec, "ipFamilies");
	const char *pol = json_string_value(json_object_get(spec, "ipFamilyPolicy"));
	int n = 0;
	size_t i;
	json_t *v;

	for (int k = 0; k < ngiven; k++)
		fams[n++] = given[k].family;
	json_array_foreach (fl, i, v) {
		int f = !strcmp(json_string_value(v) ? json_string_value(v) : "", "IPv6") ? 6 : 4;
		if (n < 2 && (n == 0 || fams[0] != f))
			fams[n++] = f;
	}
	if (!n)
		fams[n++] = 0; /* the first configured family */
	if (n == 1 && pol && strcmp(pol, "SingleStack"))
		fams[n++] = -1; /* the other configured family, if any */
	return n;
}

static void set_cluster_ips(json_t *spec, const struct ipaddr *ips, int n)
{
	json_t *arr = json_array(), *fams = json_array();
	char buf[64];

	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, json_string(ip_str(&ips[i], buf, sizeof(buf))));
		json_array_append_new(fams, json_string(ips[i].family == 4 ? "IPv4" : "IPv6"));
	}
	json_object_set_new(spec, "clusterIP", json_string(ip_str(&ips[0], buf, sizeof(buf))));
	json_object_set_new(spec, "clusterIPs", arr);
	json_object_set_new(spec, "ipFamilies", fams);
	if (!json_object_get(spec, "ipFamilyPolicy"))
		json_object_set_new(spec, "ipFamilyPolicy",
				    json_string(n == 2 ? "RequireDualStack" : "SingleStack"));
}

static int default_ips(json_t *spec, json_t *pspec, const char *owner, const struct svc_alloc *a,
		       struct errs *e)
{
	struct service cur, prev;
	struct ipaddr ips[2];
	int fams[2], nf, n = 0;
	json_t *tmp = json_pack("{s:O}", "spec", spec);

	svc_view(tmp, &cur);
	json_decref(tmp);
	if (!cur.n_ips && pspec) {
		/* clusterIP is immutable: an update without it keeps the old */
		tmp = json_pack("{s:O}", "spec", pspec);
		svc_view(tmp, &prev);
		json_decref(tmp);
		cur.n_ips = prev.n_ips;
		memcpy(cur.ips, prev.ips, sizeof(prev.ips));
	}
	for (int i = 0; i < cur.n_ips; i++) {
		if (a->claim_ip(a->ctx, owner, &cur.ips[i])) {
			char b[64];
			errs_add(e, i ? "spec.clusterIPs[1]" : "spec.clusterIP",
				 "Invalid value: \"%s\": provided IP is already allocated",
				 ip_str(&cur.ips[i], b, sizeof(b)));
			return -1;
		}
		ips[n++] = cur.ips[i];
	}
	nf = want_families(spec, cur.ips, cur.n_ips, fams);
	for (int i = n; i < nf; i++) {
		int f = fams[i];
		if (f == -1)
			f = ips[0].family == 4 ? 6 : 4;
		if (a->ip(a->ctx, owner, f, &ips[n])) {
			const char *pol =
			    json_string_value(json_object_get(spec, "ipFamilyPolicy"));
			if (fams[i] == -1 && (!pol || strcmp(pol, "RequireDualStack")))
				continue; /* PreferDualStack without a second CIDR */
			if (fams[i] == -1) {
				errs_add(e, "spec.ipFamilyPolicy",
					 "Invalid value: \"RequireDualStack\": this node is not "
					 "configured for dual-stack services (one --service-cidr)");
				return -1;
			}
			errs_add(e, "spec.clusterIP",
				 "Internal error: no free IP in the %s service CIDR",
				 f == 6	  ? "IPv6"
				 : f == 4 ? "IPv4"
					  : "configured");
			return -1;
		}
		n++;
	}
	if (n)
		set_cluster_ips(spec, ips, n);
	return 0;
}

static int default_node_ports(json_t *spec, json_t *pspec, const char *owner,
			      const struct svc_alloc *a, struct errs *e)
{
	size_t i, j;
	json_t *p, *pp;
	char path[64];

	json_array_foreach (json_object_get(spec, "ports"), i, p) {
		uint16_t np = (uint16_t)json_integer_value(json_object_get(p, "nodePort"));
		snprintf(path, sizeof(path), "spec.ports[%zu].nodePort", i);
		if (!np) {
			/* keep the port of the same (port, protocol) as before */
			json_array_foreach (json_object_get(pspec, "ports"), j, pp) {
				if (json_equal(json_object_get(pp, "port"),
					       json_object_get(p, "port")) &&
				    !strcmp(
					json_string_value(json_object_get(pp, "protocol")) ?: "TCP",
					json_string_value(json_object_get(p, "protocol")) ?: "TCP"))
					np = (uint16_t)json_integer_value(
					    json_object_get(pp, "nodePort"));
			}
		}
		if (np && a->claim_port(a->ctx, owner, np)) {
			errs_add(e, path, "Invalid value: %u: provided port is already allocated",
				 np);
			return -1;
		}
		if (!np && a->node_port(a->ctx, owner, &np)) {
			errs_add(e, path, "Internal error: no free port in the node port range");
			return -1;
		}
		json_object_set_new(p, "nodePort", json_integer(np));
	}
	return 0;
}

int svc_default(json_t *obj, json_t *prev, const struct svc_alloc *a, struct errs *e)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *pspec = prev ? json_object_get(prev, "spec") : NULL;
	struct service s;
	char owner[512];
	size_t i;
	json_t *p;

	snprintf(owner, sizeof(owner), "%s/%s", k8s_namespace(obj), k8s_name(obj));
	svc_view(obj, &s);
	if (!json_object_get(spec, "type"))
		json_object_set_new(spec, "type", json_string("ClusterIP"));
	if (!json_object_get(spec, "sessionAffinity"))
		json_object_set_new(spec, "sessionAffinity", json_string("None"));
	json_array_foreach (json_object_get(spec, "ports"), i, p) {
		if (!json_object_get(p, "protocol"))
			json_object_set_new(p, "protocol", json_string("TCP"));
		json_t *tp = json_object_get(p, "targetPort");
		if (!tp || json_is_null(tp) || (json_is_integer(tp) && !json_integer_value(tp)) ||
		    (json_is_string(tp) && !*json_string_value(tp)))
			json_object_set(p, "targetPort", json_object_get(p, "port"));
	}
	if (s.affinity && !json_object_get(spec, "sessionAffinityConfig"))
		json_object_set_new(spec, "sessionAffinityConfig",
				    json_pack("{s:{s:i}}", "clientIP", "timeoutSeconds", 10800));
	if (s.type == SVC_EXTERNAL_NAME)
		return 0;
	if (s.headless) {
		/* as the API server: families recorded, no address */
		json_t *fl = json_object_get(spec, "ipFamilies");
		json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
		if (!json_array_size(fl))
			json_object_set_new(spec, "ipFamilies",
					    json_pack("[s]", a->family0 == 6 ? "IPv6" : "IPv4"));
		if (!json_object_get(spec, "ipFamilyPolicy"))
			json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
	}
	if (!s.headless && default_ips(spec, pspec, owner, a, e))
		return -1;
	if ((s.type == SVC_NODE_PORT || s.type == SVC_LOAD_BALANCER) &&
	    default_node_ports(spec, pspec, owner, a, e))
		return -1;
	return 0;
}

/* ---- backend selection ---- */
const char *slice_service(json_t *slice)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(slice, "metadata"), "labels"),
			    "kubernetes.io/service-name"));
}

/* ---- packed views ---- */
/* Bump allocator over one block: packed views are one free() each. */
struct block {
	char *p;
	size_t off, cap;
};

static void *take(struct block *b, size_t n, size_t align)
{
	void *r;

	b->off = (b->off + align - 1) & ~(align - 1);
	r = b->p + b->off;
	b->off += n;
	return r;
}

static const char *take_str(struct block *b, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(take(b, n, 1), s, n);
}

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

struct svc_pack *svc_pack(json_t *svc)
{
	struct service s;
	size_t need = sizeof(struct svc_pack) + 16;
	struct block b;
	struct svc_pack *p;

	svc_view(svc, &s);
	need += (size_t)s.n_ext * sizeof(struct ipaddr) + 8;
	need += (size_t)s.n_ports * sizeof(struct svc_port) + 8;
	for (int i = 0; i < s.n_ports; i++)
		need += str_size(s.ports[i].name) + str_size(s.ports[i].target_name);
	b = (struct block){.p = calloc(1, need), .cap = need};
	if (!b.p)
		return NULL;
	p = take(&b, sizeof(*p), 8);
	p->type = (uint8_t)s.type;
	p->headless = s.headless;
	p->affinity = s.affinity;
	p->has_selector = s.selector != NULL;
	p->affinity_timeout = s.affinity_timeout;
	p->n_ips = (uint8_t)s.n_ips;
	memcpy(p->ips, s.ips, sizeof(p->ips));
	p->n_ext = (uint8_t)s.n_ext;
	p->ext = take(&b, (size_t)s.n_ext * sizeof(struct ipaddr), 8);
	memcpy(p->ext, s.ext, (size_t)s.n_ext * sizeof(struct ipaddr));
	p->n_ports = (uint8_t)s.n_ports;
	p->ports = take(&b, (size_t)s.n_ports * sizeof(struct svc_port), 8);
	for (int i = 0; i < s.n_ports; i++) {
		p->ports[i] = s.ports[i];
		p->ports[i].name = take_str(&b, s.ports[i].name);
		if (s.ports[i].target_name)
			p->ports[i].target_name = take_str(&b, s.ports[i].target_name);
	}
	return p;
}

void svc_unpack(const struct svc_pack *p, const char *ns, const char *name, struct service *s)
{
	memset(s, 0, offsetof(struct service, ports));
	s->ns = ns;
	s->name = name;
	s->type = (enum svc_type)p->type;
	s->headless = p->headless;
	s->n_ips = p->n_ips;
	memcpy(s->ips, p->ips, sizeof(s->ips));
	s->n_ext = p->n_ext;
	memcpy(s->ext, p->ext, (size_t)p->n_ext * sizeof(struct ipaddr));
	s->n_ports = p->n_ports;
	memcpy(s->ports, p->ports, (size_t)p->n_ports * sizeof(struct svc_port));
	s->affinity = p->affinity;
	s->affinity_timeout = p->affinity_timeout;
	s->selector = NULL;
}

static bool cond(json_t *ep, const char *name, bool dflt)
{
	json_t *c = json_object_get(json_object_get(ep, "conditions"), name);

	return json_is_boolean(c) ? json_is_true(c) : dflt;
}

/* kube-proxy uses an endpoint's first address (of the slice's family) */
static struct ipaddr first_addr(json_t *ep, int family)
{
	struct ipaddr none = {0}, ip;
	size_t k;
	json_t *a;

	json_array_foreach (json_object_get(ep, "addresses"), k, a)
		if (!ip_parse(json_string_value(a), &ip) && ip.family == family)
			return ip;
	return none;
}

struct slice_pack *slice_pack(json_t *slice)
{
	const char *at = json_string_value(json_object_get(slice, "addressType"));
	json_t *ports = json_object_get(slice, "ports"), *eps = json_object_get(slice, "endpoints");
	size_t np = json_array_size(ports), ne = json_array_size(eps), i;
	size_t need = sizeof(struct slice_pack) + 24;
	struct slice_pack *p;
	struct block b;
	json_t *v;

	/* 5 bytes per IPv4 endpoint: a 10k x 10 List's slices in ~1 MB */
	need += np * sizeof(struct slice_port) + ne * (1 + 16);
	json_array_foreach (ports, i, v)
		need += str_size(json_string_value(json_object_get(v, "name"))) + 1;
	b = (struct block){.p = calloc(1, need), .cap = need};
	if (!b.p)
		return NULL;
	p = take(&b, sizeof(*p), 8);
	p->family = !at ? 0 : !strcmp(at, "IPv4") ? 4 : !strcmp(at, "IPv6") ? 6 : 0;
	p->n_ports = (int)np;
	p->ports = take(&b, np * sizeof(struct slice_port), 8);
	json_array_foreach (ports, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		const char *proto = json_string_value(json_object_get(v, "protocol"));

		p->ports[i].name = take_str(&b, n ? n : "");
		p->ports[i].proto = proto && !strcmp(proto, "UDP") ? IPPROTO_UDP : IPPROTO_TCP;
		p->ports[i].port = (uint16_t)json_integer_value(json_object_get(v, "port"));
	}
	p->n_eps = (int)ne;
	size_t words = p->family == 6 ? 4 : 1;
	p->addr = take(&b, ne * words * sizeof(uint32_t), 4);
	p->cond = take(&b, ne, 1);
	json_array_foreach (eps, i, v) {
		bool ready = cond(v, "ready", true);
		bool serving = cond(v, "serving", ready);
		struct ipaddr a = {0};

		p->cond[i] = (uint8_t)((ready ? SLICE_READY : 0) | (serving ? SLICE_SERVING : 0) |
				       (cond(v, "terminating", false) ? SLICE_TERMINATING : 0));
		if (p->family)
			a = first_addr(v, p->family);
		if (a.family)
			p->cond[i] |= SLICE_ADDR;
		memcpy(&p->addr[i * words], a.a, words * sizeof(uint32_t));
	}
	return p;
}

void slice_ep_addr(const struct slice_pack *p, int i, struct ipaddr *out)
{
	size_t words = p->family == 6 ? 4 : 1;

	memset(out, 0, sizeof(*out));
	if (!(p->cond[i] & SLICE_ADDR))
		return;
	out->family = p->family;
	memcpy(out->a, &p->addr[(size_t)i * words], words * sizeof(uint32_t));
}

/* The slice port serving this service port: kube-proxy matches by the
 * service port name; a named targetPort is the fallback for hand-written
 * slices. Returns 0 when the slice does not serve the port. */
static uint16_t slice_port(const struct slice_pack *sl, const struct svc_port *sp)
{
	uint16_t by_target = 0;

	for (int i = 0; i < sl->n_ports; i++) {
		const struct slice_port *p = &sl->ports[i];

		if (p->proto != sp->proto)
			continue;
		if (!strcmp(p->name, sp->name))
			return p->port ? p->port : sp->target_num;
		if (sp->target_name && !strcmp(p->name, sp->target_name))
			by_target = p->port;
	}
	return by_target;
}

static int be_cmp(const void *x, const void *y)
{
	const struct backend *a = x, *b = y;
	int c = ip_cmp(&a->addr, &b->addr);

	return c ? c : (int)a->port - (int)b->port;
}

/* One pass over the slices: pass 0 takes ready endpoints, pass 1 serving
 * and terminating ones. */
static int collect(const struct svc_port *sp, int family, const struct slice_pack *const *slices,
		   int ns, int pass, struct backend *out, int max)
{
	int n = 0;

	for (int i = 0; i < ns; i++) {
		const struct slice_pack *sl = slices[i];
		uint16_t port;

		if (sl->family != family || !(port = slice_port(sl, sp)))
			continue;
		for (int j = 0; j < sl->n_eps && n < max; j++) {
			uint8_t c = sl->cond[j];
			bool term = c & SLICE_TERMINATING;
			bool take = pass == 0 ? c & SLICE_READY : (c & SLICE_SERVING) && term;

			if (!take || !(c & SLICE_ADDR))
				continue;
			out[n] = (struct backend){.port = port, .terminating = term};
			slice_ep_addr(sl, j, &out[n++].addr);
		}
	}
	return n;
}

int select_backends_packed(const struct svc_port *sp, int family,
			   const struct slice_pack *const *slices, int ns, struct backend *out,
			   int max)
{
	int n = collect(sp, family, slices, ns, 0, out, max);

	if (!n)
		n = collect(sp, family, slices, ns, 1, out, max);
	qsort(out, (size_t)n, sizeof(*out), be_cmp);
	/* dedupe: one endpoint may appear in two slices during a move */
	int w = 0;
	for (int r = 0; r < n; r++)
		if (!w || be_cmp(&out[w - 1], &out[r]))
			out[w++] = out[r];
	return w;
}

int select_backends(const struct service *s, const struct svc_port *sp, int family, json_t *slices,
		    struct backend *out, int max)
{
	size_t n = json_array_size(slices), i;
	struct slice_pack **v = calloc(n + 1, sizeof(*v));
	json_t *sl;
	int r;

	(void)s;
	json_array_foreach (slices, i, sl)
		v[i] = slice_pack(sl);
	r = select_backends_packed(sp, family, (const struct slice_pack *const *)v, (int)n, out,
				   max);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return r;
}
