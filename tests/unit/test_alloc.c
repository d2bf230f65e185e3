// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * svc_default (API server defaulting and allocation) with a recording fake
 * allocator and with the daemon's idpool-backed one (alloc.c); idpool;
 * the address helpers of net.h.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "daemon.h"
#include "docio.h"
#include "idpool.h"
#include "k8s.h"
#include "net.h"

/* ---- helpers ---- */
static json_t *yobj_at(const char *yaml, const char *file, int line)
{
	char err[256] = "";
	json_t *arr = json_array(), *o;

	if (doc_decode(yaml, strlen(yaml), arr, err, sizeof(err)) || json_array_size(arr) != 1) {
		print_error("bad fixture: %s\n", err);
		_fail(file, line);
	}
	o = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return o;
}
#define yobj(y) yobj_at((y), __FILE__, __LINE__)

static json_t *spec(json_t *o)
{
	return json_object_get(o, "spec");
}

static json_t *port_n(json_t *o, size_t i)
{
	return json_array_get(json_object_get(spec(o), "ports"), i);
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "(missing)";
}

static const char *ips_str(json_t *o, char *buf, size_t len)
{
	char *d =
	    json_dumps(json_object_get(spec(o), "clusterIPs"), JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf, len, "%s", d ? d : "(missing)");
	free(d);
	return buf;
}

#define assert_ips(o, want)                                                                        \
	do {                                                                                       \
		char b_[256];                                                                      \
		assert_string_equal(ips_str((o), b_, sizeof(b_)), (want));                         \
	} while (0)

static const char WEB[] =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
    "spec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80}\n";

static const char NP[] = "apiVersion: v1\nkind: Service\nmetadata: {name: np, namespace: default}\n"
			 "spec:\n  type: NodePort\n  selector: {app: np}\n  ports:\n"
			 "  - {name: http, port: 80, targetPort: 8080}\n"
			 "  - {name: dns, port: 53, protocol: UDP}\n";

/* ---- a recording fake allocator ---- */
struct claim {
	char owner[64];
	struct ipaddr ip;
	uint16_t port;
};

struct fake {
	struct ipaddr next[2]; /* [0] v4, [1] v6; family 0 = none */
	uint16_t next_port;
	int ip_calls, port_calls, claim_ip_calls, claim_port_calls;
	int fam_req[8];
	struct claim claims[32];
	int n_claims;
	bool ports_exhausted;
};

static struct claim *find_claim(struct fake *f, const struct ipaddr *ip, uint16_t port)
{
	for (int i = 0; i < f->n_claims; i++)
		if (ip ? ip_eq(&f->claims[i].ip, ip) : f->claims[i].port == port)
			return &f->claims[i];
	return NULL;
}

static void add_claim(struct fake *f, const char *owner, const struct ipaddr *ip, uint16_t port)
{
	struct claim *c = &f->claims[f->n_claims++];

	memset(c, 0, sizeof(*c));
	snprintf(c->owner, sizeof(c->owner), "%s", owner);
	if (ip)
		c->ip = *ip;
	c->port = port;
}

static int f_ip(void *ctx, const char *owner, int family, struct ipaddr *out)
{
	struct fake *f = ctx;
	int i = family == 6 ? 1 : family == 4 ? 0 : (f->next[0].family ? 0 : 1);

	if (f->ip_calls < 8)
		f->fam_req[f->ip_calls] = family;
	f->ip_calls++;
	if (!f->next[i].family)
		return -1;
	*out = f->next[i];
	add_claim(f, owner, out, 0);
	/* bump the last byte */
	int w = out->family == 4 ? 0 : 3;
	f->next[i].a[w] = htonl(ntohl(f->next[i].a[w]) + 1);
	return 0;
}

static int f_port(void *ctx, const char *owner, uint16_t *out)
{
	struct fake *f = ctx;

	f->port_calls++;
	if (f->ports_exhausted)
		return -1;
	*out = f->next_port++;
	add_claim(f, owner, NULL, *out);
	return 0;
}

static int f_claim_ip(void *ctx, const char *owner, const struct ipaddr *ip)
{
	struct fake *f = ctx;
	struct claim *c = find_claim(f, ip, 0);

	f->claim_ip_calls++;
	if (c)
		return strcmp(c->owner, owner) ? -1 : 0;
	add_claim(f, owner, ip, 0);
	return 0;
}

static int f_claim_port(void *ctx, const char *owner, uint16_t port)
{
	struct fake *f = ctx;
	struct claim *c = find_claim(f, NULL, port);

	f->claim_port_calls++;
	if (c)
		return strcmp(c->owner, owner) ? -1 : 0;
	add_claim(f, owner, NULL, port);
	return 0;
}

static void fake_init(struct fake *f, const char *v4, const char *v6)
{
	memset(f, 0, sizeof(*f));
	if (v4)
		assert_int_equal(ip_parse(v4, &f->next[0]), 0);
	if (v6)
		assert_int_equal(ip_parse(v6, &f->next[1]), 0);
	f->next_port = 30000;
}

static struct svc_alloc fake_ops(struct fake *f)
{
	return (struct svc_alloc){
	    .ctx = f,
	    .ip = f_ip,
	    .node_port = f_port,
	    .claim_ip = f_claim_ip,
	    .claim_port = f_claim_port,
	};
}

/* svc_default: 0, or -1 with the joined message in msg */
static int run_default(json_t *o, json_t *prev, const struct svc_alloc *a, char *msg, size_t len)
{
	struct errs e = {0};
	int rc = svc_default(o, prev, a, &e);

	errs_join(&e, msg, len);
	if ((rc != 0) != (e.n != 0))
		fail_msg("svc_default returned %d with %d errors: %s", rc, e.n, msg);
	errs_free(&e);
	return rc;
}

/* ---- svc_default with the fake ---- */
static void test_defaults(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *o;

	fake_init(&f, "10.96.0.1", NULL);
	a = fake_ops(&f);
	o = yobj("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		 "spec:\n  sessionAffinity: ClientIP\n  ports:\n"
		 "  - {name: a, port: 80}\n"
		 "  - {name: b, port: 81, targetPort: null}\n"
		 "  - {name: c, port: 82, targetPort: http, protocol: UDP}\n"
		 "  - {name: d, port: 83, targetPort: 9090}\n");
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(o), "type"), "ClusterIP");
	assert_string_equal(sget(port_n(o, 0), "protocol"), "TCP");
	assert_string_equal(sget(port_n(o, 2), "protocol"), "UDP");
	/* targetPort defaults to port (absent or null) */
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 0), "targetPort")), 80);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 1), "targetPort")), 81);
	assert_string_equal(sget(port_n(o, 2), "targetPort"), "http");
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 3), "targetPort")), 9090);
	/* ClientIP gets the default timeout */
	json_t *to = json_object_get(
	    json_object_get(json_object_get(spec(o), "sessionAffinityConfig"), "clientIP"),
	    "timeoutSeconds");
	assert_true(json_is_integer(to));
	assert_int_equal(json_integer_value(to), 10800);
	/* ClusterIP: no node ports */
	for (size_t i = 0; i < 4; i++)
		assert_null(json_object_get(port_n(o, i), "nodePort"));
	assert_int_equal(f.port_calls, 0);
	json_decref(o);

	/* sessionAffinity None by default and no config added */
	fake_init(&f, "10.96.0.1", NULL);
	o = yobj(WEB);
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(o), "sessionAffinity"), "None");
	assert_null(json_object_get(spec(o), "sessionAffinityConfig"));
	json_decref(o);

	/* an explicit timeout is kept */
	fake_init(&f, "10.96.0.1", NULL);
	o = yobj("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		 "spec:\n  sessionAffinity: ClientIP\n"
		 "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n"
		 "  ports: [{port: 80}]\n");
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	to = json_object_get(
	    json_object_get(json_object_get(spec(o), "sessionAffinityConfig"), "clientIP"),
	    "timeoutSeconds");
	assert_int_equal(json_integer_value(to), 60);
	json_decref(o);
}

static void test_cluster_ip_allocated(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *o;

	fake_init(&f, "10.96.0.7", "fd00:10:96::7");
	a = fake_ops(&f);
	o = yobj(WEB);
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_int_equal(f.ip_calls, 1);
	assert_int_equal(f.fam_req[0], 0); /* the first configured family */
	assert_string_equal(sget(spec(o), "clusterIP"), "10.96.0.7");
	assert_ips(o, "[\"10.96.0.7\"]");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(spec(o), "ipFamilies"), 0)), "IPv4");
	assert_int_equal(json_array_size(json_object_get(spec(o), "ipFamilies")), 1);
	assert_string_equal(sget(spec(o), "ipFamilyPolicy"), "SingleStack");
	/* the allocation is owned by ns/name */
	assert_string_equal(f.claims[0].owner, "default/web");
	json_decref(o);

	/* clusterIP "" means "allocate" */
	o = yobj(WEB);
	json_object_set_new(spec(o), "clusterIP", json_string(""));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(o), "clusterIP"), "10.96.0.8");
	json_decref(o);

	/* ipFamilies [IPv6] asks for IPv6 */
	o = yobj(WEB);
	json_object_set_new(spec(o), "ipFamilies", json_pack("[s]", "IPv6"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(o), "clusterIP"), "fd00:10:96::7");
	json_decref(o);
}

static void test_requested_cluster_ip(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *o;

	fake_init(&f, "10.96.0.1", NULL);
	a = fake_ops(&f);
	o = yobj(WEB);
	json_object_set_new(spec(o), "clusterIP", json_string("10.96.0.10"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_int_equal(f.ip_calls, 0);
	assert_int_equal(f.claim_ip_calls, 1);
	assert_string_equal(sget(spec(o), "clusterIP"), "10.96.0.10");
	assert_ips(o, "[\"10.96.0.10\"]");
	json_decref(o);

	/* the same IP for another Service */
	o = yobj(WEB);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("other"));
	json_object_set_new(spec(o), "clusterIP", json_string("10.96.0.10"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "spec.clusterIP: "));
	assert_non_null(strstr(msg, "10.96.0.10"));
	assert_non_null(strstr(msg, "already allocated"));
	json_decref(o);

	/* in another namespace it is another owner too */
	o = yobj(WEB);
	json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string("prod"));
	json_object_set_new(spec(o), "clusterIP", json_string("10.96.0.10"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "already allocated"));
	json_decref(o);

	/* the owner itself may re-apply it */
	o = yobj(WEB);
	json_object_set_new(spec(o), "clusterIP", json_string("10.96.0.10"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	json_decref(o);
}

static void test_headless_not_allocated(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *o;

	fake_init(&f, "10.96.0.1", "fd00::1");
	a = fake_ops(&f);
	o = yobj(WEB);
	json_object_set_new(spec(o), "clusterIP", json_string("None"));
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("PreferDualStack"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_int_equal(f.ip_calls + f.claim_ip_calls, 0);
	assert_string_equal(sget(spec(o), "clusterIP"), "None");
	/* as the API server stores it: clusterIPs ["None"], no address */
	json_t *cips = json_object_get(spec(o), "clusterIPs");
	if (cips) {
		assert_int_equal(json_array_size(cips), 1);
		assert_string_equal(json_string_value(json_array_get(cips, 0)), "None");
	}
	json_decref(o);

	/* ExternalName: nothing either */
	o = yobj("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\n"
		 "spec: {type: ExternalName, externalName: db.example.com}\n");
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_int_equal(f.ip_calls + f.claim_ip_calls + f.port_calls, 0);
	assert_null(json_object_get(spec(o), "clusterIP"));
	json_decref(o);
}

static void test_kept_from_prev(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *prev, *o;

	fake_init(&f, "10.96.0.1", NULL);
	a = fake_ops(&f);
	prev = yobj(NP);
	assert_int_equal(run_default(prev, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(prev), "clusterIP"), "10.96.0.1");
	uint16_t np_http =
	    (uint16_t)json_integer_value(json_object_get(port_n(prev, 0), "nodePort"));
	uint16_t np_dns =
	    (uint16_t)json_integer_value(json_object_get(port_n(prev, 1), "nodePort"));
	assert_in_range(np_http, 30000, 32767);
	assert_in_range(np_dns, 30000, 32767);
	assert_int_not_equal(np_http, np_dns);
	assert_int_equal(f.ip_calls, 1);
	assert_int_equal(f.port_calls, 2);

	/* the update (kubectl apply of the same file) carries neither */
	o = yobj(NP);
	assert_int_equal(run_default(o, prev, &a, msg, sizeof(msg)), 0);
	assert_int_equal(f.ip_calls, 1);
	assert_int_equal(f.port_calls, 2);
	assert_string_equal(sget(spec(o), "clusterIP"), "10.96.0.1");
	assert_ips(o, "[\"10.96.0.1\"]");
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 0), "nodePort")), np_http);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 1), "nodePort")), np_dns);
	json_decref(o);

	/* reordered ports: matched by (port, protocol), not by index */
	o = yobj("apiVersion: v1\nkind: Service\nmetadata: {name: np, namespace: default}\n"
		 "spec:\n  type: NodePort\n  ports:\n"
		 "  - {name: dns, port: 53, protocol: UDP}\n"
		 "  - {name: http, port: 80, targetPort: 8080}\n");
	assert_int_equal(run_default(o, prev, &a, msg, sizeof(msg)), 0);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 0), "nodePort")), np_dns);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 1), "nodePort")), np_http);
	assert_int_equal(f.port_calls, 2);
	json_decref(o);

	/* 53/TCP is not 53/UDP: a new port */
	o = yobj("apiVersion: v1\nkind: Service\nmetadata: {name: np, namespace: default}\n"
		 "spec:\n  type: NodePort\n  ports:\n"
		 "  - {name: dns, port: 53, protocol: TCP}\n");
	assert_int_equal(run_default(o, prev, &a, msg, sizeof(msg)), 0);
	assert_int_equal(f.port_calls, 3);
	assert_int_not_equal(json_integer_value(json_object_get(port_n(o, 0), "nodePort")), np_dns);
	json_decref(o);
	json_decref(prev);
}

static void test_node_port_allocation(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *o;

	fake_init(&f, "10.96.0.1", NULL);
	a = fake_ops(&f);
	o = yobj(NP);
	json_object_set_new(port_n(o, 1), "nodePort", json_integer(31000));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 0), "nodePort")), 30000);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 1), "nodePort")), 31000);
	assert_int_equal(f.port_calls, 1);
	assert_int_equal(f.claim_port_calls, 1);
	json_decref(o);

	/* LoadBalancer gets node ports too */
	o = yobj(NP);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("lb"));
	json_object_set_new(spec(o), "type", json_string("LoadBalancer"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_true(json_integer_value(json_object_get(port_n(o, 0), "nodePort")) > 0);
	json_decref(o);

	/* a requested port held by another Service */
	o = yobj(NP);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("np2"));
	json_object_set_new(port_n(o, 1), "nodePort", json_integer(31000));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "spec.ports[1].nodePort: "));
	assert_non_null(strstr(msg, "31000"));
	assert_non_null(strstr(msg, "already allocated"));
	json_decref(o);

	/* none left */
	f.ports_exhausted = true;
	o = yobj(NP);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("np3"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "spec.ports[0].nodePort: "));
	json_decref(o);
}

static void test_dual_stack(void **state)
{
	(void)state;
	struct fake f;
	struct svc_alloc a;
	char msg[512];
	json_t *o;
	struct ipaddr x, y;

	fake_init(&f, "10.96.0.20", "fd00:10:96::20");
	a = fake_ops(&f);
	o = yobj(WEB);
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("RequireDualStack"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	json_t *cips = json_object_get(spec(o), "clusterIPs");
	assert_int_equal(json_array_size(cips), 2);
	assert_int_equal(ip_parse(json_string_value(json_array_get(cips, 0)), &x), 0);
	assert_int_equal(ip_parse(json_string_value(json_array_get(cips, 1)), &y), 0);
	assert_int_not_equal(x.family, y.family);
	assert_string_equal(sget(spec(o), "clusterIP"), json_string_value(json_array_get(cips, 0)));
	json_t *fams = json_object_get(spec(o), "ipFamilies");
	assert_int_equal(json_array_size(fams), 2);
	assert_string_equal(json_string_value(json_array_get(fams, 0)),
			    x.family == 4 ? "IPv4" : "IPv6");
	assert_string_equal(json_string_value(json_array_get(fams, 1)),
			    y.family == 4 ? "IPv4" : "IPv6");
	assert_string_equal(sget(spec(o), "ipFamilyPolicy"), "RequireDualStack");
	json_decref(o);

	/* ipFamilies order decides the primary family */
	o = yobj(WEB);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("web6"));
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("PreferDualStack"));
	json_object_set_new(spec(o), "ipFamilies", json_pack("[s,s]", "IPv6", "IPv4"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_ips(o, "[\"fd00:10:96::21\",\"10.96.0.21\"]");
	assert_string_equal(sget(spec(o), "clusterIP"), "fd00:10:96::21");
	json_decref(o);

	/* SingleStack stays single */
	o = yobj(WEB);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("single"));
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("SingleStack"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_int_equal(json_array_size(json_object_get(spec(o), "clusterIPs")), 1);
	json_decref(o);

	/* a requested primary; the second family is allocated */
	o = yobj(WEB);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("req"));
	json_object_set_new(spec(o), "clusterIP", json_string("10.96.0.99"));
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("RequireDualStack"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_ips(o, "[\"10.96.0.99\",\"fd00:10:96::22\"]");
	json_decref(o);

	/* PreferDualStack on a single-stack setup: one IP, no error */
	fake_init(&f, "10.96.0.20", NULL);
	o = yobj(WEB);
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("PreferDualStack"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), 0);
	assert_ips(o, "[\"10.96.0.20\"]");
	json_decref(o);
}

/* ---- with the daemon's allocator (alloc.c over idpool) ---- */
static struct k8s_ctx mkctx(const char *c4, const char *c6)
{
	struct k8s_ctx c = {.np_min = 30000, .np_max = 32767};

	if (c4)
		assert_int_equal(cidr_parse(c4, &c.svc_cidr[c.n_svc_cidr++]), 0);
	if (c6)
		assert_int_equal(cidr_parse(c6, &c.svc_cidr[c.n_svc_cidr++]), 0);
	return c;
}

static void alloc_destroy(struct alloc *a)
{
	struct hmap_ent *e, *t;

	for (int i = 0; i < a->n; i++)
		idpool_free(&a->ip[i]);
	idpool_free(&a->ports);
	hmap_foreach (&a->owner, e, t)
		free(e->val);
	hmap_free(&a->owner);
}

static json_t *named(const char *yaml, const char *name)
{
	json_t *o = yobj(yaml);

	json_object_set_new(json_object_get(o, "metadata"), "name", json_string(name));
	return o;
}

static void test_real_alloc_basic(void **state)
{
	(void)state;
	struct k8s_ctx c = mkctx("10.96.0.0/29", NULL); /* .1 .. .6 usable */
	struct alloc al;
	struct svc_alloc a;
	char msg[512], name[16];
	json_t *svcs[7];

	assert_int_equal(alloc_init(&al, &c), 0);
	a = alloc_ops(&al);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		svcs[i] = named(WEB, name);
		assert_int_equal(run_default(svcs[i], NULL, &a, msg, sizeof(msg)), 0);
		alloc_claim_svc(&al, svcs[i]);
		char want[32];
		snprintf(want, sizeof(want), "10.96.0.%d", i + 1);
		/* never the network (.0) nor the broadcast (.7) address */
		assert_string_equal(sget(spec(svcs[i]), "clusterIP"), want);
	}
	svcs[6] = named(WEB, "s6");
	assert_int_equal(run_default(svcs[6], NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "spec.clusterIP: "));
	assert_non_null(strstr(msg, "no free IP"));
	json_decref(svcs[6]);

	/* release one: it becomes available again */
	alloc_release_svc(&al, svcs[2]);
	svcs[6] = named(WEB, "s6");
	assert_int_equal(run_default(svcs[6], NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(svcs[6]), "clusterIP"), "10.96.0.3");
	/* a requested IP held by another Service */
	json_t *o = named(WEB, "thief");
	json_object_set_new(spec(o), "clusterIP", json_string("10.96.0.3"));
	assert_int_equal(run_default(o, NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "spec.clusterIP: Invalid value: \"10.96.0.3\""));
	assert_non_null(strstr(msg, "already allocated"));
	json_decref(o);
	for (int i = 0; i < 7; i++)
		json_decref(svcs[i]);
	alloc_destroy(&al);
}

static void test_real_alloc_no_immediate_reuse(void **state)
{
	(void)state;
	struct k8s_ctx c = mkctx("10.96.0.0/24", NULL);
	struct alloc al;
	struct svc_alloc a;
	char msg[512];

	assert_int_equal(alloc_init(&al, &c), 0);
	a = alloc_ops(&al);
	json_t *x = named(WEB, "x"), *y;
	assert_int_equal(run_default(x, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(x), "clusterIP"), "10.96.0.1");
	alloc_release_svc(&al, x);
	/* the freed address is not handed out again at once */
	y = named(WEB, "y");
	assert_int_equal(run_default(y, NULL, &a, msg, sizeof(msg)), 0);
	assert_string_equal(sget(spec(y), "clusterIP"), "10.96.0.2");
	json_decref(x);
	json_decref(y);
	alloc_destroy(&al);
}

static void test_real_alloc_update_and_ports(void **state)
{
	(void)state;
	struct k8s_ctx c = mkctx("10.96.0.0/16", "fd00:10:96::/112");
	struct alloc al;
	struct svc_alloc a;
	char msg[512];

	assert_int_equal(alloc_init(&al, &c), 0);
	a = alloc_ops(&al);
	json_t *prev = yobj(NP);
	json_object_set_new(spec(prev), "ipFamilyPolicy", json_string("RequireDualStack"));
	assert_int_equal(run_default(prev, NULL, &a, msg, sizeof(msg)), 0);
	alloc_claim_svc(&al, prev);
	assert_ips(prev, "[\"10.96.0.1\",\"fd00:10:96::1\"]");
	assert_int_equal(json_integer_value(json_object_get(port_n(prev, 0), "nodePort")), 30000);
	assert_int_equal(json_integer_value(json_object_get(port_n(prev, 1), "nodePort")), 30001);

	/* the update keeps everything (same owner may claim its own) */
	json_t *o = yobj(NP);
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("RequireDualStack"));
	assert_int_equal(run_default(o, prev, &a, msg, sizeof(msg)), 0);
	assert_ips(o, "[\"10.96.0.1\",\"fd00:10:96::1\"]");
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 0), "nodePort")), 30000);
	assert_int_equal(json_integer_value(json_object_get(port_n(o, 1), "nodePort")), 30001);

	/* another Service wants the same nodePort */
	json_t *z = named(NP, "z");
	json_object_set_new(port_n(z, 0), "nodePort", json_integer(30001));
	assert_int_equal(run_default(z, NULL, &a, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "spec.ports[0].nodePort: Invalid value: 30001"));
	json_decref(z);
	json_decref(o);
	json_decref(prev);
	alloc_destroy(&al);
}

/* RequireDualStack when only one family is configured must be refused, as
 * the API server does ("spec.ipFamilyPolicy: Invalid value:
 * \"RequireDualStack\": this cluster is not configured for dual-stack
 * services"); PreferDualStack falls back to one family. */
static void test_require_dual_stack_single_cidr(void **state)
{
	(void)state;
	struct k8s_ctx c = mkctx("10.96.0.0/16", NULL);
	struct alloc al;
	struct svc_alloc a;
	char msg[512];

	assert_int_equal(alloc_init(&al, &c), 0);
	a = alloc_ops(&al);
	json_t *o = yobj(WEB);
	json_object_set_new(spec(o), "ipFamilyPolicy", json_string("RequireDualStack"));
	int rc = run_default(o, NULL, &a, msg, sizeof(msg));
	if (rc == 0)
		fail_msg("RequireDualStack with one service CIDR accepted; clusterIPs %s",
			 json_dumps(json_object_get(spec(o), "clusterIPs"), JSON_COMPACT));
	json_decref(o);
	alloc_destroy(&al);
}

/* A one-address service CIDR has no allocatable address: allocation must
 * fail, never hand out an address outside the CIDR. */
static void test_real_alloc_tiny_cidr(void **state)
{
	(void)state;
	static const char *const cidrs[] = {"10.96.0.0/31", "10.96.0.10/32"};
	char msg[512];

	for (size_t i = 0; i < 2; i++) {
		struct k8s_ctx c = mkctx(cidrs[i], NULL);
		struct alloc al;
		struct svc_alloc a;
		json_t *o = yobj(WEB);
		struct ipaddr ip;

		assert_int_equal(alloc_init(&al, &c), 0);
		a = alloc_ops(&al);
		if (run_default(o, NULL, &a, msg, sizeof(msg)) == 0) {
			assert_int_equal(ip_parse(sget(spec(o), "clusterIP"), &ip), 0);
			if (!cidr_contains(&c.svc_cidr[0], &ip))
				fail_msg("service CIDR %s: allocated %s, outside the CIDR",
					 cidrs[i], sget(spec(o), "clusterIP"));
		}
		json_decref(o);
		alloc_destroy(&al);
	}
}

/* Two distinct requested IPv6 addresses of a large service CIDR must not
 * collide in the allocator. */
static void test_real_alloc_v6_large_cidr(void **state)
{
	(void)state;
	struct k8s_ctx c = mkctx(NULL, "fd00:10:96::/64");
	struct alloc al;
	struct svc_alloc a;
	char msg[512];

	assert_int_equal(alloc_init(&al, &c), 0);
	a = alloc_ops(&al);
	json_t *x = named(WEB, "x"), *y = named(WEB, "y");
	json_object_set_new(spec(x), "clusterIP", json_string("fd00:10:96::1:0:0:5"));
	json_object_set_new(spec(y), "clusterIP", json_string("fd00:10:96::5"));
	(void)run_default(x, NULL, &a, msg, sizeof(msg)); /* may be refused */
	alloc_claim_svc(&al, x);
	if (run_default(y, NULL, &a, msg, sizeof(msg)))
		fail_msg("fd00:10:96::5 refused after fd00:10:96::1:0:0:5 was taken: %s", msg);
	json_decref(x);
	json_decref(y);
	alloc_destroy(&al);
}

/* ---- idpool ---- */
static void test_idpool_get_put(void **state)
{
	(void)state;
	struct idpool p;
	uint32_t id;

	assert_int_equal(idpool_init(&p, 1, 5), 0); /* ids 1..4 */
	assert_int_equal(idpool_avail(&p), 4);
	for (uint32_t want = 1; want <= 4; want++) {
		assert_int_equal(idpool_get(&p, &id), 0);
		assert_int_equal(id, want);
		assert_true(idpool_used(&p, id));
	}
	assert_int_equal(idpool_avail(&p), 0);
	id = 777;
	assert_int_equal(idpool_get(&p, &id), -1);
	assert_int_equal(id, 777);
	assert_false(idpool_used(&p, 0));

	idpool_put(&p, 3);
	assert_false(idpool_used(&p, 3));
	assert_int_equal(idpool_avail(&p), 1);
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 3);
	/* put of a free id, or an id out of range, changes nothing */
	idpool_put(&p, 3);
	assert_int_equal(idpool_avail(&p), 1);
	idpool_put(&p, 3);
	assert_int_equal(idpool_avail(&p), 1);
	idpool_put(&p, 1000);
	idpool_put(&p, 0);
	assert_int_equal(idpool_avail(&p), 1);
	idpool_free(&p);
}

static void test_idpool_take(void **state)
{
	(void)state;
	struct idpool p;
	uint32_t id;

	assert_int_equal(idpool_init(&p, 1, 10), 0);
	assert_int_equal(idpool_take(&p, 5), 0);
	assert_int_equal(idpool_take(&p, 5), -1);
	assert_int_equal(idpool_take(&p, 0), -1);  /* below first */
	assert_int_equal(idpool_take(&p, 10), -1); /* size is exclusive */
	assert_int_equal(idpool_take(&p, 9), 0);
	assert_int_equal(idpool_avail(&p), 7);
	/* get skips taken ids */
	uint32_t seen[16] = {0};
	for (int i = 0; i < 7; i++) {
		assert_int_equal(idpool_get(&p, &id), 0);
		assert_in_range(id, 1, 9);
		assert_int_not_equal(id, 5);
		assert_int_not_equal(id, 9);
		assert_int_equal(seen[id]++, 0);
	}
	assert_int_equal(idpool_get(&p, &id), -1);
	idpool_free(&p);
}

static void test_idpool_cursor(void **state)
{
	(void)state;
	struct idpool p;
	uint32_t id;

	assert_int_equal(idpool_init(&p, 0, 6), 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(idpool_get(&p, &id), 0);
		assert_int_equal(id, i);
	}
	idpool_put(&p, 1);
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 3); /* not 1 */
	idpool_put(&p, 3);
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 4); /* not 3 */
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 5);
	/* wraps around to the freed ones */
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 3);
	assert_int_equal(idpool_get(&p, &id), -1);
	idpool_free(&p);
}

static void test_idpool_large(void **state)
{
	(void)state;
	struct idpool p;
	uint32_t id;
	static unsigned char seen[300];

	assert_int_equal(idpool_init(&p, 1, 300), 0); /* spans 5 words */
	for (int i = 0; i < 299; i++) {
		assert_int_equal(idpool_get(&p, &id), 0);
		assert_in_range(id, 1, 299);
		assert_int_equal(seen[id]++, 0);
	}
	assert_int_equal(idpool_get(&p, &id), -1);
	idpool_put(&p, 64);
	idpool_put(&p, 128);
	assert_int_equal(idpool_avail(&p), 2);
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 64);
	assert_int_equal(idpool_get(&p, &id), 0);
	assert_int_equal(id, 128);
	idpool_free(&p);

	/* an empty range */
	assert_int_equal(idpool_init(&p, 1, 1), 0);
	assert_int_equal(idpool_avail(&p), 0);
	assert_int_equal(idpool_get(&p, &id), -1);
	idpool_free(&p);
}

/* ---- net.h ---- */
static void test_ip_parse_str(void **state)
{
	(void)state;
	struct ipaddr ip;
	char buf[64];

	assert_int_equal(ip_parse("10.96.0.1", &ip), 0);
	assert_int_equal(ip.family, 4);
	assert_int_equal(ip.a[0], htonl(0x0a600001));
	assert_int_equal(ip.a[1] | ip.a[2] | ip.a[3], 0);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "10.96.0.1");

	assert_int_equal(ip_parse("fd00:10:96::a", &ip), 0);
	assert_int_equal(ip.family, 6);
	assert_int_equal(ip.a[0], htonl(0xfd000010));
	assert_int_equal(ip.a[1], htonl(0x00960000));
	assert_int_equal(ip.a[3], htonl(0xa));
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "fd00:10:96::a");

	/* canonical output */
	assert_int_equal(ip_parse("FD00:0010:0096:0000:0000:0000:0000:000A", &ip), 0);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "fd00:10:96::a");
	/* a v4-mapped address is IPv6 */
	assert_int_equal(ip_parse("::ffff:10.0.0.1", &ip), 0);
	assert_int_equal(ip.family, 6);

	static const char *const bad[] = {
	    "",		  "10.96.0", "10.96.0.256", "1.2.3.4.5", "10.96.0.1/32",
	    " 10.96.0.1", "fd00::g", "fd00:::1",    "None",	 "localhost"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!ip_parse(bad[i], &ip))
			fail_msg("ip_parse(\"%s\") accepted", bad[i]);
	assert_int_equal(ip_parse(NULL, &ip), -1);
}

static void test_ip_cmp(void **state)
{
	(void)state;
	struct ipaddr a, b, c, d;

	ip_parse("10.0.0.2", &a);
	ip_parse("10.0.0.10", &b);
	ip_parse("::1", &c);
	ip_parse("10.0.0.2", &d);
	assert_true(ip_cmp(&a, &b) < 0); /* numeric, not textual */
	assert_true(ip_cmp(&b, &a) > 0);
	assert_true(ip_cmp(&a, &c) < 0); /* v4 before v6 */
	assert_int_equal(ip_cmp(&a, &d), 0);
	assert_true(ip_eq(&a, &d));
	assert_false(ip_eq(&a, &b));
}

static void test_cidr(void **state)
{
	(void)state;
	struct cidr c;
	struct ipaddr ip;
	char buf[80];

	assert_int_equal(cidr_parse("10.96.0.0/12", &c), 0);
	assert_int_equal(c.bits, 12);
	assert_string_equal(cidr_str(&c, buf, sizeof(buf)), "10.96.0.0/12");
	assert_int_equal(cidr_size(&c), 1u << 20);
	static const struct {
		const char *ip;
		bool in;
	} cases[] = {
	    {"10.96.0.0", true},      {"10.96.0.1", true},	   {"10.111.255.255", true},
	    {"10.112.0.0", false},    {"10.95.255.255", false},	   {"11.96.0.1", false},
	    {"fd00:10:96::1", false}, {"::ffff:10.96.0.1", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ip_parse(cases[i].ip, &ip), 0);
		if (cidr_contains(&c, &ip) != cases[i].in)
			fail_msg("cidr_contains(10.96.0.0/12, %s) != %d", cases[i].ip, cases[i].in);
	}

	/* host bits are cleared */
	assert_int_equal(cidr_parse("10.100.5.7/12", &c), 0);
	assert_string_equal(cidr_str(&c, buf, sizeof(buf)), "10.96.0.0/12");
	assert_int_equal(cidr_parse("fd00:10:96::1234/112", &c), 0);
	assert_string_equal(cidr_str(&c, buf, sizeof(buf)), "fd00:10:96::/112");
	assert_int_equal(cidr_size(&c), 65536);
	ip_parse("fd00:10:96::ffff", &ip);
	assert_true(cidr_contains(&c, &ip));
	ip_parse("fd00:10:96::1:0", &ip);
	assert_false(cidr_contains(&c, &ip));
	ip_parse("fd00:10:97::1", &ip);
	assert_false(cidr_contains(&c, &ip));
	ip_parse("10.96.0.1", &ip);
	assert_false(cidr_contains(&c, &ip));

	/* /0 and /32, /128 */
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	ip_parse("203.0.113.9", &ip);
	assert_true(cidr_contains(&c, &ip));
	assert_int_equal(cidr_size(&c), 1u << 24); /* capped */
	assert_int_equal(cidr_parse("10.1.2.3/32", &c), 0);
	assert_true(cidr_contains(&c, &ip) == false);
	ip_parse("10.1.2.3", &ip);
	assert_true(cidr_contains(&c, &ip));
	assert_int_equal(cidr_size(&c), 1);
	assert_int_equal(cidr_parse("fd00::1/128", &c), 0);
	assert_true(cidr_contains(&c, &(struct ipaddr){0}) == false);
	assert_int_equal(cidr_parse("2001:db8::/64", &c), 0);
	assert_int_equal(cidr_size(&c), 1u << 24); /* capped */

	assert_int_equal(cidr_parse(NULL, &c), -1);
	/* "10.0.0.0/" must not read as /0 (all of IPv4) */
	static const char *const bad[] = {
	    "10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/1x", "fd00::/129", "banana/8",
	    "",		"10.0.0.0/",   "fd00::/"};
	int nbad = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!cidr_parse(bad[i], &c)) {
			print_error("cidr_parse(\"%s\") accepted (bits %d)\n", bad[i], c.bits);
			nbad++;
		}
	assert_int_equal(nbad, 0);
}

static void test_cidr_nth_offset(void **state)
{
	(void)state;
	struct cidr c;
	struct ipaddr ip;
	char buf[64];

	assert_int_equal(cidr_parse("10.96.0.0/12", &c), 0);
	ip = cidr_nth(&c, 0);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "10.96.0.0");
	ip = cidr_nth(&c, 1);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "10.96.0.1");
	ip = cidr_nth(&c, 256);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "10.96.1.0");
	ip = cidr_nth(&c, (1u << 20) - 1);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "10.111.255.255");
	assert_int_equal(ip.family, 4);
	for (uint32_t n = 0; n < (1u << 20); n += 4093) {
		ip = cidr_nth(&c, n);
		assert_true(cidr_contains(&c, &ip));
		assert_int_equal(cidr_offset(&c, &ip), n);
	}
	ip_parse("10.97.2.3", &ip);
	assert_int_equal(cidr_offset(&c, &ip), (1u << 16) + (2u << 8) + 3);

	assert_int_equal(cidr_parse("fd00:10:96::/104", &c), 0);
	ip = cidr_nth(&c, 0x10001);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "fd00:10:96::1:1");
	assert_int_equal(ip.family, 6);
	assert_int_equal(cidr_offset(&c, &ip), 0x10001);
	ip = cidr_nth(&c, 0xffffff);
	assert_string_equal(ip_str(&ip, buf, sizeof(buf)), "fd00:10:96::ff:ffff");
	assert_true(cidr_contains(&c, &ip));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_cluster_ip_allocated),
	    cmocka_unit_test(test_requested_cluster_ip),
	    cmocka_unit_test(test_headless_not_allocated),
	    cmocka_unit_test(test_kept_from_prev),
	    cmocka_unit_test(test_node_port_allocation),
	    cmocka_unit_test(test_dual_stack),
	    cmocka_unit_test(test_real_alloc_basic),
	    cmocka_unit_test(test_real_alloc_no_immediate_reuse),
	    cmocka_unit_test(test_real_alloc_update_and_ports),
	    cmocka_unit_test(test_require_dual_stack_single_cidr),
	    cmocka_unit_test(test_real_alloc_tiny_cidr),
	    cmocka_unit_test(test_real_alloc_v6_large_cidr),
	    cmocka_unit_test(test_idpool_get_put),
	    cmocka_unit_test(test_idpool_take),
	    cmocka_unit_test(test_idpool_cursor),
	    cmocka_unit_test(test_idpool_large),
	    cmocka_unit_test(test_ip_parse_str),
	    cmocka_unit_test(test_ip_cmp),
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_cidr_nth_offset),
	};

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
