// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * select_backends (kube-proxy's endpoint selection over EndpointSlices) and
 * the Endpoints -> EndpointSlice conversion.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "docio.h"
#include "k8s.h"

/* ---- helpers ---- */
static json_t *ydoc_at(const char *yaml, size_t n, const char *file, int line)
{
	char err[256] = "";
	json_t *arr = json_array();

	if (doc_decode(yaml, strlen(yaml), arr, err, sizeof(err)) || json_array_size(arr) != n) {
		print_error("bad fixture: %s (%zu docs)\n", err, json_array_size(arr));
		_fail(file, line);
	}
	return arr;
}
/* all documents of a YAML stream, as an array */
#define ydocs(y, n) ydoc_at((y), (n), __FILE__, __LINE__)

static json_t *yobj_at(const char *yaml, const char *file, int line)
{
	json_t *arr = ydoc_at(yaml, 1, file, line), *o;

	o = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return o;
}
#define yobj(y) yobj_at((y), __FILE__, __LINE__)

/* "10.0.0.1:8080 10.0.0.2:8080*" (* = terminating) */
static const char *fmt_be(const struct backend *b, int n, char *buf, size_t len)
{
	size_t off = 0;
	char ip[64];

	buf[0] = 0;
	for (int i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(
		    buf + off, len - off, "%s%s%s%s:%u%s", i ? " " : "",
		    b[i].addr.family == 6 ? "[" : "", ip_str(&b[i].addr, ip, sizeof(ip)),
		    b[i].addr.family == 6 ? "]" : "", b[i].port, b[i].terminating ? "*" : "");
	return buf;
}

struct svc_fix {
	json_t *obj;
	struct service s;
};

static void svc_load(struct svc_fix *f, const char *yaml)
{
	f->obj = yobj(yaml);
	assert_int_equal(svc_view(f->obj, &f->s), 0);
}

static const struct svc_port *port_named(const struct service *s, const char *name)
{
	for (int i = 0; i < s->n_ports; i++)
		if (!strcmp(s->ports[i].name, name))
			return &s->ports[i];
	fail_msg("no port %s", name);
	return NULL;
}

/* select and format */
static const char *sel(const struct svc_fix *f, const char *port, int fam, json_t *slices,
		       char *buf, size_t len)
{
	struct backend be[64];
	int n;

	memset(be, 0xa5, sizeof(be));
	n = select_backends(&f->s, port_named(&f->s, port), fam, slices, be, 64);
	assert_in_range(n, 0, 64);
	return fmt_be(be, n, buf, len);
}

#define assert_sel(f, port, fam, slices, want)                                                     \
	do {                                                                                       \
		char b_[1024];                                                                     \
		assert_string_equal(sel((f), (port), (fam), (slices), b_, sizeof(b_)), (want));    \
	} while (0)

static const char WEB[] =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
    "spec:\n  clusterIP: 10.96.0.10\n  ports:\n"
    "  - {name: http, port: 80, targetPort: 8080, protocol: TCP}\n";

/* one slice; eps is the flow-style list of endpoints */
#define slice(name, type, ports, eps) slice_at((name), (type), (ports), (eps), __FILE__, __LINE__)
static json_t *slice_at(const char *name, const char *type, const char *ports, const char *eps,
			const char *file, int line)
{
	char slice_buf[4096];

	snprintf(
	    slice_buf, sizeof(slice_buf),
	    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	    "metadata: {name: %s, namespace: default, labels: {kubernetes.io/service-name: web}}\n"
	    "addressType: %s\nports: %s\nendpoints: %s\n",
	    name, type, ports, eps);
	return yobj_at(slice_buf, file, line);
}

/* an array of the given slices (consumed) */
static json_t *slices_of(int n, ...)
{
	json_t *arr = json_array();
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, va_arg(ap, json_t *));
	va_end(ap);
	return arr;
}

#define HTTP_PORTS "[{name: http, port: 8080, protocol: TCP}]"

/* ---- readiness ---- */
static void test_ready_only(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	svc_load(&f, WEB);
	sl = json_array();
	json_array_append_new(sl, (slice("web-a", "IPv4", HTTP_PORTS,
					 "[{addresses: [10.0.0.1], conditions: {ready: true, "
					 "serving: true, terminating: false}},"
					 " {addresses: [10.0.0.2], conditions: {ready: false, "
					 "serving: false, terminating: false}},"
					 " {addresses: [10.0.0.3], conditions: {ready: false, "
					 "serving: true, terminating: true}},"
					 " {addresses: [10.0.0.4], conditions: {ready: true}}]")));
	/* ready ones only, terminating ones not mixed in */
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8080 10.0.0.4:8080");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_terminating_fallback(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	svc_load(&f, WEB);
	/* no ready endpoint: serving and terminating ones take the traffic */
	sl = slices_of(1, slice("web-a", "IPv4", HTTP_PORTS,
				"[{addresses: [10.0.0.1], conditions: {ready: false, serving: "
				"true, terminating: true}},"
				" {addresses: [10.0.0.2], conditions: {ready: false, serving: "
				"false, terminating: true}},"
				" {addresses: [10.0.0.3], conditions: {ready: false, serving: "
				"false, terminating: false}},"
				" {addresses: [10.0.0.4], conditions: {ready: false, serving: "
				"true, terminating: true}}]"));
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8080* 10.0.0.4:8080*");
	json_decref(sl);

	/* a ready endpoint in another slice wins over the fallback */
	sl = slices_of(
	    2,
	    yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: a}\n"
		 "addressType: IPv4\nports: " HTTP_PORTS "\n"
		 "endpoints: [{addresses: [10.0.0.1], conditions: {ready: false, serving: true, "
		 "terminating: true}}]\n"),
	    yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: b}\n"
		 "addressType: IPv4\nports: " HTTP_PORTS "\n"
		 "endpoints: [{addresses: [10.0.0.9], conditions: {ready: true}}]\n"));
	assert_sel(&f, "http", 4, sl, "10.0.0.9:8080");
	json_decref(sl);

	/* nothing usable at all */
	sl = slices_of(1, slice("web-a", "IPv4", HTTP_PORTS,
				"[{addresses: [10.0.0.1], conditions: {ready: false, serving: "
				"false, terminating: true}},"
				" {addresses: [10.0.0.2], conditions: {ready: false}}]"));
	assert_sel(&f, "http", 4, sl, "");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_nil_conditions(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	svc_load(&f, WEB);
	/* ready nil (absent, null, no conditions at all) means ready */
	sl = slices_of(
	    1, slice("web-a", "IPv4", HTTP_PORTS,
		     "[{addresses: [10.0.0.1]},"
		     " {addresses: [10.0.0.2], conditions: {}},"
		     " {addresses: [10.0.0.3], conditions: {ready: null}},"
		     " {addresses: [10.0.0.4], conditions: {ready: null, terminating: null}},"
		     " {addresses: [10.0.0.5], conditions: {ready: false}}]"));
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_no_slices(void **state)
{
	(void)state;
	struct svc_fix f;
	struct backend be[4];
	json_t *sl = json_array();

	svc_load(&f, WEB);
	assert_int_equal(select_backends(&f.s, &f.s.ports[0], 4, sl, be, 4), 0);
	json_decref(sl);
	/* a slice without endpoints, or without ports */
	sl = slices_of(
	    2, slice("a", "IPv4", HTTP_PORTS, "[]"),
	    yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: b}\n"
		 "addressType: IPv4\nendpoints: [{addresses: [10.0.0.1]}]\n"));
	assert_int_equal(select_backends(&f.s, &f.s.ports[0], 4, sl, be, 4), 0);
	json_decref(sl);
	/* max 0 */
	sl = slices_of(1, slice("a", "IPv4", HTTP_PORTS, "[{addresses: [10.0.0.1]}]"));
	assert_int_equal(select_backends(&f.s, &f.s.ports[0], 4, sl, be, 0), 0);
	json_decref(sl);
	json_decref(f.obj);
}

/* ---- families ---- */
static void test_family_filter(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	svc_load(&f, WEB);
	sl = slices_of(
	    3,
	    yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: v4}\n"
		 "addressType: IPv4\nports: " HTTP_PORTS "\n"
		 "endpoints: [{addresses: [10.0.0.1]}, {addresses: [\"fd00::99\"]}]\n"),
	    yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: v6}\n"
		 "addressType: IPv6\nports: " HTTP_PORTS "\n"
		 "endpoints: [{addresses: [\"fd00::1\"]}, {addresses: [10.0.0.99]}]\n"),
	    yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: fqdn}\n"
		 "addressType: FQDN\nports: " HTTP_PORTS "\n"
		 "endpoints: [{addresses: [db.example.com]}]\n"));
	/* an address of the wrong family is dropped even inside the slice */
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8080");
	assert_sel(&f, "http", 6, sl, "[fd00::1]:8080");
	json_decref(sl);
	json_decref(f.obj);
}

/* ---- ports ---- */
static void test_named_target_port_per_slice(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	/* targetPort "web" is named: pods of two versions expose it on
	 * different numbers, each slice says which */
	svc_load(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		     "spec:\n  clusterIP: 10.96.0.10\n  ports:\n"
		     "  - {name: http, port: 80, targetPort: web}\n");
	assert_non_null(f.s.ports[0].target_name);
	sl = slices_of(
	    2,
	    slice("web-v1", "IPv4", "[{name: http, port: 8080}]",
		  "[{addresses: [10.0.0.1]}, {addresses: [10.0.0.3]}]"),
	    slice("web-v2", "IPv4", "[{name: http, port: 9090}]", "[{addresses: [10.0.0.2]}]"));
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8080 10.0.0.2:9090 10.0.0.3:8080");
	json_decref(sl);

	/* hand-written slices naming the port after the targetPort */
	sl = slices_of(
	    1, slice("web-x", "IPv4", "[{name: web, port: 7070}]", "[{addresses: [10.0.0.7]}]"));
	assert_sel(&f, "http", 4, sl, "10.0.0.7:7070");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_service_port_name_matching(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	svc_load(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		     "spec:\n  clusterIP: 10.96.0.10\n  ports:\n"
		     "  - {name: http, port: 80, targetPort: 8080}\n"
		     "  - {name: metrics, port: 9100, targetPort: 9100}\n"
		     "  - {name: dns, port: 53, targetPort: 5353, protocol: UDP}\n"
		     "  - {name: other, port: 81}\n");
	sl = slices_of(1, slice("web-a", "IPv4",
				"[{name: metrics, port: 9101, protocol: TCP},"
				" {name: http, port: 8081, protocol: TCP},"
				" {name: dns, port: 5353, protocol: UDP}]",
				"[{addresses: [10.0.0.1]}]"));
	/* the slice's number wins (the pod's containerPort) */
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8081");
	assert_sel(&f, "metrics", 4, sl, "10.0.0.1:9101");
	assert_sel(&f, "dns", 4, sl, "10.0.0.1:5353");
	/* no slice port named "other": the slice does not serve it */
	assert_sel(&f, "other", 4, sl, "");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_unnamed_port(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	/* a single unnamed port matches the slice's unnamed port */
	svc_load(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		     "spec:\n  clusterIP: 10.96.0.10\n  ports: [{port: 80, targetPort: 8080}]\n");
	sl = slices_of(2, slice("a", "IPv4", "[{port: 8080}]", "[{addresses: [10.0.0.1]}]"),
		       slice("b", "IPv4", "[{name: \"\", port: 8080, protocol: TCP}]",
			     "[{addresses: [10.0.0.2]}]"));
	assert_sel(&f, "", 4, sl, "10.0.0.1:8080 10.0.0.2:8080");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_protocol_mismatch(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl;

	svc_load(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: dns}\n"
		     "spec:\n  clusterIP: 10.96.0.10\n  ports:\n"
		     "  - {name: dns, port: 53, protocol: UDP}\n"
		     "  - {name: dns-tcp, port: 53, protocol: TCP}\n");
	sl = slices_of(
	    2,
	    /* the right name with the wrong protocol */
	    slice("a", "IPv4", "[{name: dns, port: 53, protocol: TCP}]",
		  "[{addresses: [10.0.0.1]}]"),
	    /* protocol absent means TCP */
	    slice("b", "IPv4", "[{name: dns-tcp, port: 5353}]", "[{addresses: [10.0.0.2]}]"));
	assert_sel(&f, "dns", 4, sl, "");
	assert_sel(&f, "dns-tcp", 4, sl, "10.0.0.2:5353");
	json_decref(sl);
	json_decref(f.obj);
}

/* ---- dedupe, order, limits ---- */
static void test_dedupe_and_sort(void **state)
{
	(void)state;
	struct svc_fix f;
	json_t *sl, *rev;
	char a[1024], b[1024];

	svc_load(&f, WEB);
	/* an endpoint moving between slices shows up in both */
	sl = slices_of(
	    3,
	    slice(
		"a", "IPv4", HTTP_PORTS,
		"[{addresses: [10.0.0.10]}, {addresses: [10.0.0.2]}, {addresses: [192.168.1.1]}]"),
	    slice(
		"b", "IPv4", HTTP_PORTS,
		"[{addresses: [10.0.0.2]}, {addresses: [10.0.0.1]}, {addresses: [9.255.255.255]}]"),
	    slice("c", "IPv4", "[{name: http, port: 8081}]", "[{addresses: [10.0.0.2]}]"));
	/* numeric order by address, then port; 10.0.0.2:8080 once */
	assert_sel(&f, "http", 4, sl,
		   "9.255.255.255:8080 10.0.0.1:8080 10.0.0.2:8080 10.0.0.2:8081 "
		   "10.0.0.10:8080 192.168.1.1:8080");
	/* the order of slices does not matter */
	rev = json_array();
	for (size_t i = json_array_size(sl); i-- > 0;)
		json_array_append(rev, json_array_get(sl, i));
	assert_string_equal(sel(&f, "http", 4, sl, a, sizeof(a)),
			    sel(&f, "http", 4, rev, b, sizeof(b)));
	json_decref(rev);
	json_decref(sl);

	/* v6 order */
	sl = slices_of(1, slice("a", "IPv6", HTTP_PORTS,
				"[{addresses: [\"fd00::10\"]}, {addresses: [\"fd00::2\"]},"
				" {addresses: [\"fc00::ffff\"]}]"));
	assert_sel(&f, "http", 6, sl, "[fc00::ffff]:8080 [fd00::2]:8080 [fd00::10]:8080");
	json_decref(sl);
	json_decref(f.obj);
}

static void test_first_address_and_max(void **state)
{
	(void)state;
	struct svc_fix f;
	struct backend be[8];
	json_t *sl;

	svc_load(&f, WEB);
	/* kube-proxy uses an endpoint's first address only */
	sl = slices_of(1, slice("a", "IPv4", HTTP_PORTS,
				"[{addresses: [10.0.0.5, 10.0.0.6]}, {addresses: [10.0.0.1]},"
				" {addresses: [10.0.0.3]}]"));
	assert_sel(&f, "http", 4, sl, "10.0.0.1:8080 10.0.0.3:8080 10.0.0.5:8080");
	/* never more than max */
	memset(be, 0, sizeof(be));
	assert_int_equal(select_backends(&f.s, &f.s.ports[0], 4, sl, be, 2), 2);
	assert_int_equal(be[2].port, 0);
	json_decref(sl);
	json_decref(f.obj);
}

/* ---- Endpoints -> EndpointSlices ---- */
static void test_endpoints_to_slices(void **state)
{
	(void)state;
	json_t *ep =
	    yobj("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web, namespace: prod}\n"
		 "subsets:\n"
		 "- addresses:\n"
		 "  - {ip: 10.0.0.1, targetRef: {kind: Pod, name: web-1, namespace: prod}}\n"
		 "  - {ip: \"fd00::1\"}\n"
		 "  - {ip: not-an-ip}\n"
		 "  notReadyAddresses:\n"
		 "  - {ip: 10.0.0.2}\n"
		 "  ports:\n"
		 "  - {name: http, port: 8080, protocol: TCP}\n"
		 "- notReadyAddresses: [{ip: 10.0.0.9}]\n"
		 "  ports: [{name: http, port: 9090, protocol: TCP}]\n");
	json_t *out = k8s_endpoints_to_slices(ep), *s;
	struct errs e = {0};
	size_t i;

	assert_true(json_is_array(out));
	/* subset 0: v4 and v6; subset 1: v4 */
	assert_int_equal(json_array_size(out), 3);
	json_array_foreach (out, i, s) {
		/* valid objects, labelled for the service */
		if (k8s_validate(s, &(struct k8s_ctx){0}, &e)) {
			char m[512];
			errs_join(&e, m, sizeof(m));
			fail_msg("converted slice %zu invalid: %s", i, m);
		}
		assert_string_equal(k8s_namespace(s), "prod");
		assert_string_equal(slice_service(s), "web");
	}
	s = json_array_get(out, 0);
	assert_string_equal(json_string_value(json_object_get(s, "addressType")), "IPv4");
	json_t *eps = json_object_get(s, "endpoints");
	assert_int_equal(json_array_size(eps), 2);
	json_t *e0 = json_array_get(eps, 0), *e1 = json_array_get(eps, 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(e0, "addresses"), 0)),
			    "10.0.0.1");
	assert_true(json_is_true(json_object_get(json_object_get(e0, "conditions"), "ready")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e0, "targetRef"), "name")), "web-1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(e1, "addresses"), 0)),
			    "10.0.0.2");
	assert_true(json_is_false(json_object_get(json_object_get(e1, "conditions"), "ready")));
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(s, "ports"), 0), "port")),
			 8080);

	s = json_array_get(out, 1);
	assert_string_equal(json_string_value(json_object_get(s, "addressType")), "IPv6");
	assert_int_equal(json_array_size(json_object_get(s, "endpoints")), 1);
	/* the slice names of one Endpoints differ */
	assert_string_not_equal(k8s_name(json_array_get(out, 0)), k8s_name(json_array_get(out, 1)));
	assert_string_not_equal(k8s_name(json_array_get(out, 0)), k8s_name(json_array_get(out, 2)));

	/* end to end: the converted slices feed selection */
	struct svc_fix f;
	svc_load(&f, WEB);
	assert_sel(&f, "http", 4, out, "10.0.0.1:8080");
	assert_sel(&f, "http", 6, out, "[fd00::1]:8080");
	json_decref(f.obj);
	errs_free(&e);
	json_decref(out);
	json_decref(ep);

	/* no subsets: no slices */
	ep = yobj("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n");
	out = k8s_endpoints_to_slices(ep);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	json_decref(ep);
}

/* only notReadyAddresses: the slice exists, nothing is selected (no
 * terminating condition on Endpoints) */
static void test_endpoints_not_ready_only(void **state)
{
	(void)state;
	json_t *ep = yobj("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
			  "subsets: [{notReadyAddresses: [{ip: 10.0.0.2}],"
			  " ports: [{name: http, port: 8080}]}]\n");
	json_t *out = k8s_endpoints_to_slices(ep);
	struct svc_fix f;

	assert_int_equal(json_array_size(out), 1);
	assert_string_equal(k8s_namespace(json_array_get(out, 0)), "default");
	svc_load(&f, WEB);
	assert_sel(&f, "http", 4, out, "");
	json_decref(f.obj);
	json_decref(out);
	json_decref(ep);
}

static void test_svc_view(void **state)
{
	(void)state;
	struct svc_fix f;

	svc_load(&f, "apiVersion: v1\nkind: Service\nmetadata: {name: v, namespace: n}\n"
		     "spec:\n  type: NodePort\n  clusterIP: 10.96.0.1\n"
		     "  clusterIPs: [10.96.0.1, \"fd00::1\"]\n"
		     "  externalIPs: [192.0.2.1]\n  sessionAffinity: ClientIP\n"
		     "  selector: {app: v}\n  ports:\n"
		     "  - {name: a, port: 80, targetPort: 8080, nodePort: 30080}\n"
		     "  - {name: b, port: 53, protocol: UDP, targetPort: dns}\n"
		     "  - {name: c, port: 81}\n");
	assert_string_equal(f.s.ns, "n");
	assert_string_equal(f.s.name, "v");
	assert_int_equal(f.s.type, SVC_NODE_PORT);
	assert_int_equal(f.s.n_ips, 2);
	assert_int_equal(f.s.ips[1].family, 6);
	assert_int_equal(f.s.n_ext, 1);
	assert_true(f.s.affinity);
	assert_int_equal(f.s.affinity_timeout, 10800);
	assert_non_null(f.s.selector);
	assert_int_equal(f.s.n_ports, 3);
	assert_int_equal(f.s.ports[0].node_port, 30080);
	assert_int_equal(f.s.ports[0].target_num, 8080);
	assert_null(f.s.ports[0].target_name);
	assert_int_equal(f.s.ports[1].proto, IPPROTO_UDP);
	assert_string_equal(f.s.ports[1].target_name, "dns");
	assert_int_equal(f.s.ports[1].target_num, 0);
	assert_int_equal(f.s.ports[2].proto, IPPROTO_TCP);
	assert_int_equal(f.s.ports[2].target_num, 81); /* defaults to port */
	json_decref(f.obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ready_only),
	    cmocka_unit_test(test_terminating_fallback),
	    cmocka_unit_test(test_nil_conditions),
	    cmocka_unit_test(test_no_slices),
	    cmocka_unit_test(test_family_filter),
	    cmocka_unit_test(test_named_target_port_per_slice),
	    cmocka_unit_test(test_service_port_name_matching),
	    cmocka_unit_test(test_unnamed_port),
	    cmocka_unit_test(test_protocol_mismatch),
	    cmocka_unit_test(test_dedupe_and_sort),
	    cmocka_unit_test(test_first_address_and_max),
	    cmocka_unit_test(test_endpoints_to_slices),
	    cmocka_unit_test(test_endpoints_not_ready_only),
	    cmocka_unit_test(test_svc_view),
	};

	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
