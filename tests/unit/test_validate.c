// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * k8s_validate: every error names the field path the API server would
 * name, and valid objects (including kubectl's own output) pass.
 */
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

static struct k8s_ctx ctx;

static int setup(void **state)
{
	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	if (cidr_parse("10.96.0.0/12", &ctx.svc_cidr[0]) ||
	    cidr_parse("fd00:10:96::/112", &ctx.svc_cidr[1]))
		return -1;
	ctx.n_svc_cidr = 2;
	ctx.np_min = 30000;
	ctx.np_max = 32767;
	return 0;
}

/* One YAML document -> object (owned). */
static json_t *yobj_at(const char *yaml, const char *file, int line)
{
	char err[256] = "";
	json_t *arr = json_array(), *o;

	if (doc_decode(yaml, strlen(yaml), arr, err, sizeof(err)) || json_array_size(arr) != 1) {
		print_error("bad fixture: %s (%zu docs)\n", err, json_array_size(arr));
		_fail(file, line);
	}
	o = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return o;
}
#define yobj(y) yobj_at((y), __FILE__, __LINE__)

/* Validate and return all messages joined ("" when valid). Consumes obj. */
static char joined[8192];
static const char *validate(json_t *obj)
{
	struct errs e = {0};
	int rc = k8s_validate(obj, &ctx, &e);

	errs_join(&e, joined, sizeof(joined));
	/* rc and the error list agree */
	if ((rc != 0) != (e.n != 0))
		fail_msg("k8s_validate returned %d with %d errors", rc, e.n);
	errs_free(&e);
	json_decref(obj);
	return joined;
}

static void expect_valid_at(json_t *obj, const char *file, int line)
{
	const char *msg = validate(obj);

	if (*msg) {
		print_error("expected no error, got: %s\n", msg);
		_fail(file, line);
	}
}
#define expect_valid(o) expect_valid_at((o), __FILE__, __LINE__)

/* The joined errors contain "path: " followed (somewhere) by each needle. */
static void expect_err_at(json_t *obj, const char *path, const char *needle, const char *file,
			  int line)
{
	const char *msg = validate(obj);
	char want[256];
	const char *at;

	snprintf(want, sizeof(want), "%s: ", path);
	at = strstr(msg, want);
	/* the path must start a message, not be a suffix of another path */
	while (at && at != msg && !(at >= msg + 2 && !strncmp(at - 2, "; ", 2)))
		at = strstr(at + 1, want);
	if (!at) {
		print_error("expected an error at \"%s\", got: \"%s\"\n", path, msg);
		_fail(file, line);
	}
	if (needle && !strstr(at, needle)) {
		print_error("error at \"%s\" lacks \"%s\": \"%s\"\n", path, needle, msg);
		_fail(file, line);
	}
}
#define expect_err(o, path, needle) expect_err_at((o), (path), (needle), __FILE__, __LINE__)

static void expect_no_err_at_path_at(json_t *obj, const char *path, const char *file, int line)
{
	const char *msg = validate(obj);
	char want[256];

	snprintf(want, sizeof(want), "%s: ", path);
	if (strstr(msg, want)) {
		print_error("unexpected error at %s: %s\n", path, msg);
		_fail(file, line);
	}
}
#define expect_no_err_at_path(o, path) expect_no_err_at_path_at((o), (path), __FILE__, __LINE__)

/* kubectl create service clusterip web --tcp=80:8080 --dry-run=client -o yaml */
static const char WEB[] = "apiVersion: v1\n"
			  "kind: Service\n"
			  "metadata:\n"
			  "  creationTimestamp: null\n"
			  "  labels:\n"
			  "    app: web\n"
			  "  name: web\n"
			  "spec:\n"
			  "  ports:\n"
			  "  - name: 80-8080\n"
			  "    port: 80\n"
			  "    protocol: TCP\n"
			  "    targetPort: 8080\n"
			  "  selector:\n"
			  "    app: web\n"
			  "  type: ClusterIP\n"
			  "status:\n"
			  "  loadBalancer: {}\n";

static json_t *web(void)
{
	return yobj(WEB);
}

static json_t *spec_of(json_t *o)
{
	return json_object_get(o, "spec");
}

static json_t *port0(json_t *o)
{
	return json_array_get(json_object_get(spec_of(o), "ports"), 0);
}

static json_t *with_ports(const char *ports_yaml)
{
	json_t *o = web(), *p = yobj(ports_yaml);

	json_object_set(spec_of(o), "ports", json_object_get(p, "ports"));
	json_decref(p);
	return o;
}

/* the shape of kubectl run web --image=nginx --dry-run=client -o yaml, plus
 * the host program podtrace runs instead of an image */
static const char POD[] = "apiVersion: v1\n"
			  "kind: Pod\n"
			  "metadata:\n"
			  "  creationTimestamp: null\n"
			  "  labels:\n"
			  "    run: web\n"
			  "  name: web\n"
			  "spec:\n"
			  "  containers:\n"
			  "  - image: nginx\n"
			  "    command: [/bin/sleep, \"3600\"]\n"
			  "    name: web\n"
			  "    resources: {}\n"
			  "  dnsPolicy: ClusterFirst\n"
			  "  restartPolicy: Always\n"
			  "status: {}\n";

static const char SLICE[] = "apiVersion: discovery.k8s.io/v1\n"
			    "kind: EndpointSlice\n"
			    "metadata:\n"
			    "  name: web-abc12\n"
			    "  namespace: default\n"
			    "  labels:\n"
			    "    kubernetes.io/service-name: web\n"
			    "addressType: IPv4\n"
			    "endpoints:\n"
			    "- addresses: [\"10.244.1.5\"]\n"
			    "  conditions: {ready: true, serving: true, terminating: false}\n"
			    "- addresses: [\"10.244.2.7\"]\n"
			    "ports:\n"
			    "- name: 80-8080\n"
			    "  port: 8080\n"
			    "  protocol: TCP\n";

/* ---- valid objects ---- */
static void test_valid_objects(void **state)
{
	(void)state;
	expect_valid(web());
	expect_valid(yobj("apiVersion: v1\nkind: Service\nmetadata:\n  creationTimestamp: null\n"
			  "  labels:\n    app: np\n  name: np\nspec:\n  ports:\n  - name: 80-8080\n"
			  "    port: 80\n    protocol: TCP\n    targetPort: 8080\n  selector:\n"
			  "    app: np\n  type: NodePort\nstatus:\n  loadBalancer: {}\n"));
	/* headless without ports */
	expect_valid(yobj("apiVersion: v1\nkind: Service\nmetadata: {name: hl}\n"
			  "spec: {clusterIP: None, selector: {app: hl}}\n"));
	/* ExternalName without ports */
	expect_valid(yobj("apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: prod}\n"
			  "spec: {type: ExternalName, externalName: db.example.com}\n"));
	/* what the API server stores: dual stack, nodePorts, affinity */
	expect_valid(
	    yobj("apiVersion: v1\nkind: Service\nmetadata: {name: full, namespace: kube-system}\n"
		 "spec:\n  type: NodePort\n  clusterIP: 10.96.0.10\n"
		 "  clusterIPs: [10.96.0.10, \"fd00:10:96::a\"]\n"
		 "  ipFamilies: [IPv4, IPv6]\n  ipFamilyPolicy: RequireDualStack\n"
		 "  sessionAffinity: ClientIP\n"
		 "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 86400}}\n"
		 "  externalIPs: [192.0.2.10, \"2001:db8::10\"]\n"
		 "  ports:\n"
		 "  - {name: dns, port: 53, protocol: UDP, targetPort: 53, nodePort: 30000}\n"
		 "  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: dns-tcp, nodePort: "
		 "32767}\n"));
	/* ClusterIP with an explicit nodePort: 0 (as some tools write) */
	expect_valid(with_ports("ports: [{port: 80, nodePort: 0}]\n"));
	/* minimal: protocol defaults to TCP, targetPort to port */
	expect_valid(with_ports("ports: [{port: 65535}]\n"));
	expect_valid(yobj(SLICE));
	expect_valid(yobj("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
			  "metadata: {name: web.v6-slice}\naddressType: IPv6\n"
			  "endpoints: [{addresses: [\"fd00::5\"], conditions: {ready: null}}]\n"
			  "ports: [{name: \"\", port: 8080}]\n"));
	expect_valid(yobj("apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n"
			  "subsets: [{addresses: [{ip: 10.244.1.5}], ports: [{port: 8080}]}]\n"));
	expect_valid(yobj(POD));
}

/* ---- ports ---- */
static void test_port_range(void **state)
{
	(void)state;
	json_t *o;

	o = web();
	json_object_set_new(port0(o), "port", json_integer(0));
	expect_err(o, "spec.ports[0].port", "between 1 and 65535");

	o = web();
	json_object_set_new(port0(o), "port", json_integer(70000));
	expect_err(o, "spec.ports[0].port", "between 1 and 65535");

	o = web();
	json_object_set_new(port0(o), "port", json_integer(-1));
	expect_err(o, "spec.ports[0].port", NULL);

	/* a quoted number is a string: the API server rejects it */
	o = web();
	json_object_set_new(port0(o), "port", json_string("80"));
	expect_err(o, "spec.ports[0].port", NULL);

	o = web();
	json_object_del(port0(o), "port");
	expect_err(o, "spec.ports[0].port", NULL);

	/* the index is the one of the bad port */
	o = with_ports("ports: [{name: a, port: 80}, {name: b, port: 65536}]\n");
	expect_err(o, "spec.ports[1].port", "between 1 and 65535");

	o = web();
	json_object_set_new(port0(o), "targetPort", json_integer(70000));
	expect_err(o, "spec.ports[0].targetPort", NULL);
}

static void test_protocol(void **state)
{
	(void)state;
	json_t *o;

	o = web();
	json_object_set_new(port0(o), "protocol", json_string("SCTP"));
	expect_err(o, "spec.ports[0].protocol", "not supported");

	o = web();
	json_object_set_new(port0(o), "protocol", json_string("HTTP"));
	expect_err(o, "spec.ports[0].protocol", "Unsupported value: \"HTTP\"");

	/* case matters, as in the API */
	o = web();
	json_object_set_new(port0(o), "protocol", json_string("tcp"));
	expect_err(o, "spec.ports[0].protocol", "\"tcp\"");

	o = web();
	json_object_set_new(port0(o), "protocol", json_integer(6));
	expect_err(o, "spec.ports[0].protocol", NULL);

	o = web();
	json_object_set_new(port0(o), "protocol", json_string("UDP"));
	expect_valid(o);

	o = yobj(SLICE);
	json_object_set_new(json_array_get(json_object_get(o, "ports"), 0), "protocol",
			    json_string("SCTP"));
	expect_err(o, "ports[0].protocol", "not supported");
}

static void test_port_names(void **state)
{
	(void)state;
	json_t *o;

	/* more than one port: every port needs a name */
	o = with_ports("ports: [{port: 80}, {name: https, port: 443}]\n");
	expect_err(o, "spec.ports[0].name", "Required value");
	o = with_ports("ports: [{name: http, port: 80}, {port: 443}]\n");
	expect_err(o, "spec.ports[1].name", "Required value");
	o = with_ports("ports: [{name: http, port: 80}, {name: \"\", port: 443}]\n");
	expect_err(o, "spec.ports[1].name", "Required value");
	/* one port may be unnamed */
	expect_valid(with_ports("ports: [{port: 80}]\n"));

	o = with_ports("ports: [{name: HTTP, port: 80}]\n");
	expect_err(o, "spec.ports[0].name", "DNS-1123");
	o = with_ports("ports: [{name: http, port: 80}, {name: http, port: 81}]\n");
	expect_err(o, "spec.ports[1].name", "Duplicate value");
}

static void test_duplicate_port_protocol(void **state)
{
	(void)state;
	json_t *o;

	o = with_ports("ports: [{name: a, port: 80}, {name: b, port: 80, protocol: TCP}]\n");
	expect_err(o, "spec.ports[1]", "Duplicate value");
	o = with_ports("ports: [{name: a, port: 80, protocol: UDP}, {name: b, port: 8080},"
		       " {name: c, port: 80, protocol: UDP}]\n");
	expect_err(o, "spec.ports[2]", "spec.ports[0]");
	/* the same port with another protocol is fine (DNS) */
	expect_valid(with_ports("ports: [{name: dns, port: 53, protocol: UDP},"
				" {name: dns-tcp, port: 53, protocol: TCP}]\n"));
}

static void test_target_port(void **state)
{
	(void)state;
	json_t *o;

	expect_valid(with_ports("ports: [{port: 80, targetPort: http}]\n"));
	expect_valid(with_ports("ports: [{port: 80, targetPort: http-alt2}]\n"));
	o = with_ports("ports: [{port: 80, targetPort: HTTP}]\n");
	expect_err(o, "spec.ports[0].targetPort", "IANA");
	/* IANA service names are at most 15 characters */
	o = with_ports("ports: [{port: 80, targetPort: abcdefghijklmnop}]\n");
	expect_err(o, "spec.ports[0].targetPort", NULL);
	o = with_ports("ports: [{port: 80, targetPort: \"8080\"}]\n");
	expect_err(o, "spec.ports[0].targetPort", NULL);
	o = with_ports("ports: [{port: 80, targetPort: a--b}]\n");
	expect_err(o, "spec.ports[0].targetPort", NULL);
}

static void test_ports_required(void **state)
{
	(void)state;
	json_t *o = web();

	json_object_del(spec_of(o), "ports");
	expect_err(o, "spec.ports", "Required value");
	o = web();
	json_object_set_new(spec_of(o), "ports", json_array());
	expect_err(o, "spec.ports", "Required value");
}

/* ---- nodePort ---- */
static void test_node_port(void **state)
{
	(void)state;
	json_t *o;

	o = with_ports("ports: [{port: 80, nodePort: 29999}]\n");
	json_object_set_new(spec_of(o), "type", json_string("NodePort"));
	expect_err(o, "spec.ports[0].nodePort", "30000-32767");

	o = with_ports("ports: [{port: 80, nodePort: 32768}]\n");
	json_object_set_new(spec_of(o), "type", json_string("NodePort"));
	expect_err(o, "spec.ports[0].nodePort", "not in the valid range");

	o = with_ports("ports: [{port: 80, nodePort: 32767}]\n");
	json_object_set_new(spec_of(o), "type", json_string("LoadBalancer"));
	expect_valid(o);

	/* a nodePort on a ClusterIP Service */
	o = with_ports("ports: [{port: 80, nodePort: 30080}]\n");
	expect_err(o, "spec.ports[0].nodePort", "Forbidden");

	o = with_ports("ports: [{name: a, port: 80}, {name: b, port: 81, nodePort: 30080}]\n");
	json_object_del(spec_of(o), "type"); /* ClusterIP by default */
	expect_err(o, "spec.ports[1].nodePort", "Forbidden");
}

/* The API server rejects two ports of one Service with the same nodePort
 * and protocol ("spec.ports[1].nodePort: Duplicate value: 30080"); the LB
 * would otherwise program one NodePort frontend for two service ports. */
static void test_node_port_duplicate(void **state)
{
	(void)state;
	json_t *o;

	o = with_ports("ports: [{name: a, port: 80, nodePort: 30080},"
		       " {name: b, port: 81, nodePort: 30080}]\n");
	json_object_set_new(spec_of(o), "type", json_string("NodePort"));
	expect_err(o, "spec.ports[1].nodePort", "Duplicate");
	/* the same nodePort for TCP and UDP is allowed */
	o = with_ports("ports: [{name: a, port: 53, protocol: UDP, nodePort: 30053},"
		       " {name: b, port: 53, protocol: TCP, nodePort: 30053}]\n");
	json_object_set_new(spec_of(o), "type", json_string("NodePort"));
	expect_valid(o);
}

/* ---- clusterIP(s) ---- */
static void test_cluster_ip(void **state)
{
	(void)state;
	json_t *o;

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("192.168.0.1"));
	expect_err(o, "spec.clusterIP", "not in the valid range");

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("10.112.0.1")); /* just past /12 */
	expect_err(o, "spec.clusterIP", "not in the valid range");

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("10.111.255.254"));
	expect_valid(o);

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("10.96.0.300"));
	expect_err(o, "spec.clusterIP", "valid IP address");

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("banana"));
	expect_err(o, "spec.clusterIP", "valid IP address");

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_integer(1));
	expect_err(o, "spec.clusterIP", NULL);

	o = web();
	json_object_set_new(spec_of(o), "clusterIP",
			    json_string("fd00:10:96::1:0")); /* outside /112 */
	expect_err(o, "spec.clusterIP", "not in the valid range");

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("fd00:10:96::ff"));
	expect_valid(o);

	/* "" means "allocate one" */
	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string(""));
	expect_valid(o);

	/* None is only for ClusterIP services */
	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("None"));
	json_object_set_new(spec_of(o), "type", json_string("NodePort"));
	expect_err(o, "spec.clusterIP", "None");
}

static void test_cluster_ips(void **state)
{
	(void)state;
	json_t *o;

	o = web();
	json_object_set_new(spec_of(o), "clusterIPs",
			    json_pack("[s,s]", "10.96.0.10", "10.96.0.11"));
	expect_err(o, "spec.clusterIPs[1]", "different IP family");

	o = web();
	json_object_set_new(spec_of(o), "clusterIPs",
			    json_pack("[s,s]", "fd00:10:96::a", "fd00:10:96::b"));
	expect_err(o, "spec.clusterIPs[1]", "different IP family");

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("10.96.0.10"));
	json_object_set_new(spec_of(o), "clusterIPs",
			    json_pack("[s,s]", "10.96.0.10", "fd00:10:96::a"));
	expect_valid(o);

	o = web();
	json_object_set_new(spec_of(o), "clusterIP", json_string("10.96.0.10"));
	json_object_set_new(spec_of(o), "clusterIPs", json_pack("[s]", "10.96.0.11"));
	expect_err(o, "spec.clusterIPs[0]", "must match spec.clusterIP");

	o = web();
	json_object_set_new(spec_of(o), "clusterIPs",
			    json_pack("[s,s]", "10.96.0.10", "2001:db8::1"));
	expect_err(o, "spec.clusterIPs[1]", "not in the valid range");

	o = web();
	json_object_set_new(spec_of(o), "clusterIPs", json_pack("[s,s]", "10.96.0.10", "nope"));
	expect_err(o, "spec.clusterIPs[1]", "valid IP address");

	o = web();
	json_object_set_new(spec_of(o), "clusterIPs",
			    json_pack("[s,s,s]", "10.96.0.10", "fd00:10:96::a", "10.96.0.11"));
	expect_err(o, "spec.clusterIPs", "at most 2");
}

/* ---- session affinity ---- */
static void test_session_affinity(void **state)
{
	(void)state;
	json_t *o;
	static const long long bad[] = {0, 86401, -1};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = web();
		json_object_set_new(spec_of(o), "sessionAffinity", json_string("ClientIP"));
		json_object_set_new(spec_of(o), "sessionAffinityConfig",
				    json_pack("{s:{s:I}}", "clientIP", "timeoutSeconds", bad[i]));
		expect_err(o, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
			   "Invalid value");
	}
	for (long long ok = 1; ok <= 86400; ok += 86399) {
		o = web();
		json_object_set_new(spec_of(o), "sessionAffinity", json_string("ClientIP"));
		json_object_set_new(spec_of(o), "sessionAffinityConfig",
				    json_pack("{s:{s:I}}", "clientIP", "timeoutSeconds", ok));
		expect_valid(o);
	}
	o = web();
	json_object_set_new(spec_of(o), "sessionAffinity", json_string("Sticky"));
	expect_err(o, "spec.sessionAffinity", "Unsupported value");

	/* a config without ClientIP affinity */
	o = web();
	json_object_set_new(spec_of(o), "sessionAffinityConfig",
			    json_pack("{s:{s:i}}", "clientIP", "timeoutSeconds", 60));
	expect_err(o, "spec.sessionAffinityConfig", "Forbidden");
}

static void test_type_and_external_ips(void **state)
{
	(void)state;
	json_t *o;

	o = web();
	json_object_set_new(spec_of(o), "type", json_string("Ingress"));
	expect_err(o, "spec.type", "Unsupported value: \"Ingress\"");

	o = web();
	json_object_set_new(spec_of(o), "externalIPs",
			    json_pack("[s,s]", "192.0.2.1", "192.0.2.300"));
	expect_err(o, "spec.externalIPs[1]", "valid IP address");

	o = web();
	json_object_set_new(spec_of(o), "selector", json_string("app=web"));
	expect_err(o, "spec.selector", NULL);
}

/* ---- metadata ---- */
static void test_names(void **state)
{
	(void)state;
	json_t *o;
	char longname[80];

	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("Web"));
	expect_err(o, "metadata.name", "DNS-1035");

	/* Service names are DNS-1035 labels: no leading digit */
	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("1web"));
	expect_err(o, "metadata.name", "DNS-1035");

	memset(longname, 'a', 64);
	longname[64] = 0;
	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string(longname));
	expect_err(o, "metadata.name", NULL);
	longname[63] = 0;
	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string(longname));
	expect_valid(o);

	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("web.v2"));
	expect_err(o, "metadata.name", NULL);

	o = web();
	json_object_del(json_object_get(o, "metadata"), "name");
	expect_err(o, "metadata.name", "Required value");

	o = web();
	json_object_del(o, "metadata");
	expect_err(o, "metadata", "Required value");

	/* EndpointSlices are DNS-1123 subdomains: digits and dots are fine */
	o = yobj(SLICE);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("1web.abc"));
	expect_valid(o);
	o = yobj(SLICE);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("Web-abc"));
	expect_err(o, "metadata.name", "DNS-1123 subdomain");
}

static void test_namespace(void **state)
{
	(void)state;
	static const char *const bad[] = {"Bad_NS", "Prod", "a.b", "-x", "x-"};
	json_t *o;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = web();
		json_object_set_new(json_object_get(o, "metadata"), "namespace",
				    json_string(bad[i]));
		expect_err(o, "metadata.namespace", bad[i]);
	}
	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "namespace", json_integer(3));
	expect_err(o, "metadata.namespace", NULL);
	o = web();
	json_object_set_new(json_object_get(o, "metadata"), "namespace",
			    json_string("kube-system"));
	expect_valid(o);
}

static void test_kind_and_api_version(void **state)
{
	(void)state;
	json_t *o;

	o = yobj("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n");
	expect_err(o, "kind", "Unsupported value: \"Deployment\"");
	o = yobj("apiVersion: v1\nmetadata: {name: web}\n");
	expect_err(o, "kind", "Required value");
	/* kinds are case sensitive */
	o = web();
	json_object_set_new(o, "kind", json_string("service"));
	expect_err(o, "kind", NULL);

	o = web();
	json_object_set_new(o, "apiVersion", json_string("apps/v1"));
	expect_err(o, "apiVersion", "\"v1\"");
	o = web();
	json_object_del(o, "apiVersion");
	expect_err(o, "apiVersion", NULL);
	o = yobj(SLICE);
	json_object_set_new(o, "apiVersion", json_string("discovery.k8s.io/v1beta1"));
	expect_err(o, "apiVersion", "discovery.k8s.io/v1");
	o = yobj(SLICE);
	json_object_set_new(o, "apiVersion", json_string("v1"));
	expect_err(o, "apiVersion", NULL);

	struct errs e = {0};
	json_t *arr = json_array();
	assert_int_equal(k8s_validate(arr, &ctx, &e), -1);
	assert_int_equal(e.n, 1);
	errs_free(&e);
	json_decref(arr);
}

/* ---- EndpointSlice ---- */
static json_t *slice_with_addr(const char *type, const char *addr)
{
	json_t *o = yobj(SLICE);

	json_object_set_new(o, "addressType", json_string(type));
	json_array_set_new(
	    json_object_get(json_array_get(json_object_get(o, "endpoints"), 1), "addresses"), 0,
	    json_string(addr));
	return o;
}

static void test_slice(void **state)
{
	(void)state;
	json_t *o;

	o = slice_with_addr("IPv4", "fd00::1");
	expect_err(o, "endpoints[1].addresses[0]", "IPv4");
	o = slice_with_addr("IPv4", "10.0.0.256");
	expect_err(o, "endpoints[1].addresses[0]", "10.0.0.256");
	o = slice_with_addr("IPv6", "10.0.0.1");
	expect_err(o, "endpoints[1].addresses[0]", "IPv6");
	/* IPv6 slice: the first endpoint (an IPv4 address) is bad too */
	o = slice_with_addr("IPv6", "fd00::1");
	expect_err(o, "endpoints[0].addresses[0]", "IPv6");
	o = slice_with_addr("IPv4", "10.0.0.1");
	expect_valid(o);
	/* FQDN slices carry names */
	o = slice_with_addr("FQDN", "db.example.com");
	expect_no_err_at_path(o, "endpoints[1].addresses[0]");

	o = yobj(SLICE);
	json_object_set_new(o, "addressType", json_string("IPv5"));
	expect_err(o, "addressType", "Unsupported value");
	o = yobj(SLICE);
	json_object_del(o, "addressType");
	expect_err(o, "addressType", "Required value");

	o = yobj(SLICE);
	json_object_set_new(json_array_get(json_object_get(o, "endpoints"), 0), "addresses",
			    json_array());
	expect_err(o, "endpoints[0].addresses", NULL);

	o = yobj(SLICE);
	json_object_set_new(
	    json_object_get(json_array_get(json_object_get(o, "endpoints"), 0), "conditions"),
	    "ready", json_string("true"));
	expect_err(o, "endpoints[0].conditions.ready", "boolean");

	o = yobj(SLICE);
	json_object_set_new(json_array_get(json_object_get(o, "ports"), 0), "port",
			    json_integer(0));
	expect_err(o, "ports[0].port", NULL);
	o = yobj(SLICE);
	json_object_set_new(json_array_get(json_object_get(o, "ports"), 0), "name",
			    json_string("Http"));
	expect_err(o, "ports[0].name", NULL);
}

/* several errors are all reported, joined with "; " */
static void test_errors_accumulate(void **state)
{
	(void)state;
	json_t *o = web();
	const char *msg;

	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("Bad"));
	json_object_set_new(port0(o), "port", json_integer(0));
	json_object_set_new(port0(o), "protocol", json_string("SCTP"));
	msg = validate(o);
	assert_non_null(strstr(msg, "metadata.name: "));
	assert_non_null(strstr(msg, "; spec.ports[0].port: "));
	assert_non_null(strstr(msg, "; spec.ports[0].protocol: "));
}

/* ---- DNS name tables ---- */
struct name_case {
	const char *s;
	bool label, subdomain, l1035;
};

static void test_dns_tables(void **state)
{
	(void)state;
	char l63[64], l64[65], sub253[254], sub254[255];
	memset(l63, 'a', 63), l63[63] = 0;
	memset(l64, 'a', 64), l64[64] = 0;
	/* 4 labels of 63 with dots = 255: trim to 253 / 254 */
	for (int i = 0; i < 253; i++)
		sub253[i] = (i % 64 == 63) ? '.' : 'b';
	sub253[253] = 0;
	memcpy(sub254, sub253, 253);
	sub254[253] = 'c', sub254[254] = 0;

	const struct name_case cases[] = {
	    {"a", true, true, true},	      {"web", true, true, true},
	    {"web-1", true, true, true},      {"a-b-c", true, true, true},
	    {"0", true, true, false},	      {"1web", true, true, false},
	    {"80-8080", true, true, false},   {"", false, false, false},
	    {"-web", false, false, false},    {"web-", false, false, false},
	    {"Web", false, false, false},     {"wEb", false, false, false},
	    {"web_1", false, false, false},   {"web 1", false, false, false},
	    {"wéb", false, false, false},     {"web.v2", false, true, false},
	    {"a.b.c", false, true, false},    {"1.2.3", false, true, false},
	    {".web", false, false, false},    {"web.", false, false, false},
	    {"web..v2", false, false, false}, {"web.-v2", false, false, false},
	    {"web.V2", false, false, false},  {l63, true, true, true},
	    {l64, false, true, false}, /* subdomains have no per-label limit */
	    {sub253, false, true, false},     {sub254, false, false, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct name_case *c = &cases[i];
		if (dns1123_label(c->s) != c->label)
			fail_msg("dns1123_label(\"%s\") != %d", c->s, c->label);
		if (dns1035_label(c->s) != c->l1035)
			fail_msg("dns1035_label(\"%s\") != %d", c->s, c->l1035);
		if (dns1123_subdomain(c->s) != c->subdomain)
			fail_msg("dns1123_subdomain(\"%.70s\"%s) != %d", c->s,
				 strlen(c->s) > 70 ? "..." : "", c->subdomain);
	}
}

/* A Pod name is a DNS-1123 subdomain; a long dot-less one is valid in
 * Kubernetes (apimachinery IsDNS1123Subdomain has no 63-character label
 * limit). */
static void test_long_pod_name(void **state)
{
	(void)state;
	char name[101];
	json_t *o;

	memset(name, 'p', 100);
	name[100] = 0;
	o = yobj(POD);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string(name));
	expect_no_err_at_path(o, "metadata.name");
	/* a dotted Pod name is fine too */
	o = yobj(POD);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("web.v2-0"));
	expect_no_err_at_path(o, "metadata.name");
}

static void test_kind_helpers(void **state)
{
	(void)state;
	assert_int_equal(k8s_kind_from_arg("svc"), K_SERVICE);
	assert_int_equal(k8s_kind_from_arg("Services"), K_SERVICE);
	assert_int_equal(k8s_kind_from_arg("EndpointSlices"), K_ENDPOINTSLICE);
	assert_int_equal(k8s_kind_from_arg("eps"), K_ENDPOINTSLICE);
	assert_int_equal(k8s_kind_from_arg("ep"), K_ENDPOINTS);
	assert_int_equal(k8s_kind_from_arg("po"), K_POD);
	assert_int_equal(k8s_kind_from_arg("deploy"), K_UNKNOWN);
	assert_int_equal(k8s_kind_from_arg(""), K_UNKNOWN);
	assert_string_equal(k8s_kind_name(K_ENDPOINTSLICE), "EndpointSlice");

	json_t *o = web();
	char ref[128];
	assert_string_equal(k8s_namespace(o), "default");
	k8s_ref(o, ref, sizeof(ref));
	assert_string_equal(ref, "Service default/web");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_objects),
	    cmocka_unit_test(test_port_range),
	    cmocka_unit_test(test_protocol),
	    cmocka_unit_test(test_port_names),
	    cmocka_unit_test(test_duplicate_port_protocol),
	    cmocka_unit_test(test_target_port),
	    cmocka_unit_test(test_ports_required),
	    cmocka_unit_test(test_node_port),
	    cmocka_unit_test(test_node_port_duplicate),
	    cmocka_unit_test(test_cluster_ip),
	    cmocka_unit_test(test_cluster_ips),
	    cmocka_unit_test(test_session_affinity),
	    cmocka_unit_test(test_type_and_external_ips),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_namespace),
	    cmocka_unit_test(test_kind_and_api_version),
	    cmocka_unit_test(test_slice),
	    cmocka_unit_test(test_errors_accumulate),
	    cmocka_unit_test(test_dns_tables),
	    cmocka_unit_test(test_long_pod_name),
	    cmocka_unit_test(test_kind_helpers),
	};

	return cmocka_run_group_tests_name("validate", tests, setup, NULL);
}
