// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Objects in: decode -> validate -> convert (Endpoints) -> default
 * (allocation) -> store -> program the LB. Each object is applied on its own:
 * a bad one is reported with its source, reference and field path, and
 * neither reaches the store nor the maps; the others in the file still apply.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "docio.h"
#include "log.h"
#include "runtime.h"

/* Random bytes drawn 4 KB at a time: a 10k-object apply would otherwise
 * pay a syscall (or three, with /dev/urandom) per uid. */
static void random_bytes(unsigned char *out, size_t n)
{
	static unsigned char pool[4096];
	static size_t avail;

	if (avail < n) {
		if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool))
			for (size_t i = 0; i < sizeof(pool); i++)
				pool[i] = (unsigned char)rand();
		avail = sizeof(pool);
	}
	memcpy(out, pool + sizeof(pool) - avail, n);
	avail -= n;
}

static void gen_uid(char *buf, size_t len)
{
	unsigned char r[16];

	random_bytes(r, sizeof(r));
	r[6] = (r[6] & 0x0f) | 0x40; /* version 4 */
	r[8] = (r[8] & 0x3f) | 0x80;
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
}

static void now_rfc3339(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What the API server fills in: namespace, uid, creationTimestamp (kept
 * from the stored version on update). managedFields are dropped. */
static void default_meta(json_t *obj, json_t *prev)
{
	json_t *md = json_object_get(obj, "metadata");
	json_t *pmd = json_object_get(prev, "metadata");
	char buf[64];

	json_object_set_new(md, "namespace", json_string(k8s_namespace(obj)));
	json_object_del(md, "managedFields");
	json_object_del(md, "resourceVersion");
	if (json_string_value(json_object_get(pmd, "uid")))
		json_object_set(md, "uid", json_object_get(pmd, "uid"));
	else if (!json_string_value(json_object_get(md, "uid"))) {
		gen_uid(buf, sizeof(buf));
		json_object_set_new(md, "uid", json_string(buf));
	}
	if (json_string_value(json_object_get(pmd, "creationTimestamp")))
		json_object_set(md, "creationTimestamp", json_object_get(pmd, "creationTimestamp"));
	else if (!json_string_value(json_object_get(md, "creationTimestamp"))) {
		now_rfc3339(buf, sizeof(buf));
		json_object_set_new(md, "creationTimestamp", json_string(buf));
	}
}

/* ---- LB programming of one Service ---- */
static void add_fe(struct lb_want *w, const struct ipaddr *ip, int family, uint16_t port,
		   uint8_t proto, uint8_t kind)
{
	struct lb_fe *f = &w->fe[w->n_fe++];

	memset(f, 0, sizeof(*f));
	if (ip)
		memcpy(f->key.addr, ip->a, sizeof(f->key.addr));
	f->key.port = htons(port);
	f->key.proto = proto;
	f->key.family = (uint8_t)family;
	f->kind = kind;
}

#define MAX_BE_PER_PORT 4096

static int build_wants(struct daemon *d, const struct service *s, struct lb_want **out)
{
	const struct slice_pack *const *slices;
	struct lb_want *w;
	int n = 0, n_sl;

	if (s->headless || s->type == SVC_EXTERNAL_NAME || !s->n_ips) {
		*out = NULL;
		return 0;
	}
	slices = store_slice_packs(&d->store, s->ns, s->name, &n_sl);
	size_t max_be = 1;
	for (int i = 0; i < n_sl; i++)
		max_be += (size_t)slices[i]->n_eps;
	if (max_be > MAX_BE_PER_PORT)
		max_be = MAX_BE_PER_PORT;
	w = calloc((size_t)(s->n_ips * s->n_ports) + 1, sizeof(*w));
	for (int i = 0; i < s->n_ips; i++) {
		int fam = s->ips[i].family;

		for (int p = 0; p < s->n_ports; p++) {
			const struct svc_port *sp = &s->ports[p];
			struct lb_want *x = &w[n++];
			/* scratch sized to the slices, not to the cap */
			struct backend *be = calloc(max_be, sizeof(*be));
			int nb;

			snprintf(x->key, sizeof(x->key), "%s/%s/%u/%s/v%d", s->ns, s->name,
				 sp->port, sp->proto == IPPROTO_UDP ? "UDP" : "TCP", fam);
			x->flags = s->affinity ? PT_SVC_AFFINITY : 0;
			x->affinity_timeout = s->affinity_timeout;
			x->fe = calloc((size_t)s->n_ext + 2, sizeof(*x->fe));
			add_fe(x, &s->ips[i], fam, sp->port, sp->proto, PT_FE_CLUSTER_IP);
			if (sp->node_port)
				add_fe(x, NULL, fam, sp->node_port, sp->proto, PT_FE_NODE_PORT);
			for (int e = 0; e < s->n_ext; e++)
				if (s->ext[e].family == fam)
					add_fe(x, &s->ext[e], fam, sp->port, sp->proto,
					       PT_FE_EXTERNAL_IP);
			nb = select_backends_packed(sp, fam, slices, n_sl, be, (int)max_be);
			x->be = calloc((size_t)nb + 1, sizeof(*x->be));
			for (int b = 0; b < nb; b++) {
				x->be[b].addr = be[b].addr;
				x->be[b].port = be[b].port;
				x->be[b].terminating = be[b].terminating;
			}
			x->n_be = nb;
			free(be);
		}
	}
	*out = w;
	return n;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int d_sync_service(struct daemon *d, const char *ns, const char *name, char *err, size_t errlen)
{
	double t0 = mono_s();
	struct service svc;
	struct lb_want *w = NULL;
	char owner[300];
	int n = 0, rc;

	snprintf(owner, sizeof(owner), "%s/%s", ns, name);
	/* the packed view: programming decodes no JSON */
	if (!store_svc(&d->store, ns, name, &svc))
		n = build_wants(d, &svc, &w);
	rc = lb_sync(&d->lb, owner, w, n, err, errlen);
	for (int i = 0; i < n; i++) {
		free(w[i].fe);
		free(w[i].be);
	}
	free(w);
	metrics_observe(M_RECONCILE, mono_s() - t0);
	if (rc) {
		log_err("service %s: %s", owner, err);
		json_object_set_new(d->lb_errors, owner, json_string(err));
	} else {
		json_object_del(d->lb_errors, owner);
	}
	return rc;
}

/* ---- apply ---- */
/* The results of an apply, as JSON text: 20k of them as jansson objects
 * would take ~8 MB on the daemon's heap, for a reply. */
struct results {
	FILE *f;
	char *buf;
	size_t len, n;
};

static void results_add(struct results *res, json_t *r)
{
	fputc(res->n++ ? ',' : '[', res->f);
	json_dumpf(r, res->f, JSON_COMPACT);
	json_decref(r);
}

static void result(struct results *res, json_t *obj, const char *action, const char *source,
		   const char *err)
{
	char ref[400], msg[2048];
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	json_t *r = json_pack("{s:s,s:s,s:s}", "kind", kind ? kind : "", "namespace",
			      k8s_namespace(obj), "name", k8s_name(obj));

	if (err) {
		k8s_ref(obj, ref, sizeof(ref));
		snprintf(msg, sizeof(msg), "%s: %s: %s", source, ref, err);
		json_object_set_new(r, "error", json_string(msg));
	} else {
		json_object_set_new(r, "action", json_string(action));
	}
	results_add(res, r);
}

/* Reprogram the services an object touches; on failure put back prev. */
static int program(struct daemon *d, enum k8s_kind k, json_t *obj, json_t *prev, char *err,
		   size_t errlen)
{
	if (k == K_POD)
		return runtime_apply(d, obj, prev, err, errlen);
	if (k == K_SERVICE)
		endpoints_sync_service(d, obj);
	const char *svc = k == K_SERVICE ? k8s_name(obj) : slice_service(obj);
	const char *psvc = prev && k == K_ENDPOINTSLICE ? slice_service(prev) : NULL;

	if (svc && d_sync_service(d, k8s_namespace(obj), svc, err, errlen))
		return -1;
	if (psvc && (!svc || strcmp(psvc, svc))) {
		char e2[256];
		d_sync_service(d, k8s_namespace(obj), psvc, e2, sizeof(e2));
	}
	return 0;
}

static void apply_one(struct daemon *d, json_t *obj, const char *source, struct results *res);

/* A stored Service whose programming failed is retried on re-apply. */
static bool needs_retry(struct daemon *d, enum k8s_kind k, json_t *obj)
{
	const char *svc = k == K_SERVICE ? k8s_name(obj) : slice_service(obj);
	char owner[300];

	if (!svc)
		return false;
	snprintf(owner, sizeof(owner), "%s/%s", k8s_namespace(obj), svc);
	return json_object_get(d->lb_errors, owner) != NULL;
}

static void apply_endpoints(struct daemon *d, json_t *ep, const char *source, struct results *res)
{
	json_t *slices = k8s_endpoints_to_slices(ep), *s, *old;
	json_t *set;
	const char *k;
	size_t i;
	void *tmp;

	json_array_foreach (slices, i, s)
		apply_one(d, s, source, res);
	set = store_slices(&d->store, k8s_namespace(ep), k8s_name(ep));
	/* mirrored slices that the new Endpoints no longer has */
	json_object_foreach_safe (set, tmp, k, old) {
		bool keep = false;
		const char *mgr = json_string_value(
		    json_object_get(json_object_get(json_object_get(old, "metadata"), "labels"),
				    "endpointslice.kubernetes.io/managed-by"));
		json_array_foreach (slices, i, s)
			keep |= !strcmp(k8s_name(s), k);
		if (!keep && mgr && !strcmp(mgr, "podtrace-endpoints-mirror")) {
			char e[256];
			json_t *ref = json_incref(old);
			d_delete(d, K_ENDPOINTSLICE, k8s_namespace(ep), k, e, sizeof(e));
			json_decref(ref);
		}
	}
	json_decref(set);
	json_decref(slices);
}

static void apply_one(struct daemon *d, json_t *obj, const char *source, struct results *res)
{
	struct errs e = {0};
	enum k8s_kind k;
	json_t *prev;
	char msg[2048];
	const char *action;
	double t0 = mono_s();

	if (k8s_validate(obj, &d->kctx, &e)) {
		errs_join(&e, msg, sizeof(msg));
		result(res, obj, NULL, source, msg);
		errs_free(&e);
		return;
	}
	k = k8s_kind_of(obj);
	if (k == K_ENDPOINTS) {
		apply_endpoints(d, obj, source, res);
		result(res, obj, "configured", source, NULL);
		return;
	}
	/* defaulted in place, not copied: every caller hands over a tree it
	 * does not need as it was (a decoded item, a converted Endpoints) */
	json_incref(obj);
	json_object_del(obj, "status");
	prev = store_fetch(&d->store, k, k8s_namespace(obj), k8s_name(obj));
	default_meta(obj, prev);
	if (k == K_SERVICE) {
		struct svc_alloc a = alloc_ops(&d->alloc);
		if (svc_default(obj, prev, &a, &e)) {
			alloc_release_svc(&d->alloc, obj);
			alloc_claim_svc(&d->alloc, prev);
			errs_join(&e, msg, sizeof(msg));
			result(res, obj, NULL, source, msg);
			goto out;
		}
		json_object_set_new(obj, "status", json_pack("{s:{}}", "loadBalancer"));
	}
	if (prev && json_equal(prev, obj) && !needs_retry(d, k, obj)) {
		action = "unchanged";
	} else {
		action = prev ? "configured" : "created";
		store_put(&d->store, obj, source);
		if (program(d, k, obj, prev, msg, sizeof(msg))) {
			/* nothing of a rejected object stays: restore prev */
			if (prev)
				store_put(
				    &d->store, prev,
				    store_source(&d->store, k, k8s_namespace(obj), k8s_name(obj)));
			else
				store_del(&d->store, k, k8s_namespace(obj), k8s_name(obj));
			if (k == K_SERVICE) {
				alloc_release_svc(&d->alloc, obj);
				alloc_claim_svc(&d->alloc, prev);
			}
			char e2[256];
			if (k != K_POD)
				program(d, k, prev ? prev : obj, NULL, e2, sizeof(e2));
			result(res, obj, NULL, source, msg);
			goto out;
		}
		if (k == K_SERVICE && prev) {
			alloc_release_svc(&d->alloc, prev);
			alloc_claim_svc(&d->alloc, obj);
		}
		if (k == K_ENDPOINTSLICE)
			metrics_observe(M_ENDPOINT_LATENCY, mono_s() - t0);
	}
	result(res, obj, action, source, NULL);
out:
	errs_free(&e);
	json_decref(prev);
	json_decref(obj);
}

int d_delete(struct daemon *d, enum k8s_kind k, const char *ns, const char *name, char *err,
	     size_t errlen)
{
	json_t *obj = store_fetch(&d->store, k, ns, name);

	if (!obj) {
		snprintf(err, errlen, "%s %s/%s not found", k8s_kind_name(k), ns, name);
		return -1;
	}
	if (k == K_POD) { /* graceful: the store drops it once it is gone */
		json_decref(obj);
		return runtime_delete(d, ns, name, err, errlen);
	}
	store_del(&d->store, k, ns, name);
	if (k == K_SERVICE)
		alloc_release_svc(&d->alloc, obj);
	program(d, k, obj, NULL, err, errlen);
	json_decref(obj);
	return 0;
}

struct apply_ctx {
	struct daemon *d;
	const char *source;
	struct results res;
	bool del;
	const char *map; /* a file mapping, or NULL */
	size_t dropped;
};

static void delete_one(struct apply_ctx *c, json_t *obj)
{
	enum k8s_kind k = k8s_kind_of(obj);
	char err[512];

	if (k == K_ENDPOINTS) {
		json_t *sl = k8s_endpoints_to_slices(obj), *s;
		size_t j;
		json_array_foreach (sl, j, s)
			d_delete(c->d, K_ENDPOINTSLICE, k8s_namespace(s), k8s_name(s), err,
				 sizeof(err));
		json_decref(sl);
		result(&c->res, obj, "deleted", c->source, NULL);
	} else if (d_delete(c->d, k, k8s_namespace(obj), k8s_name(obj), err, sizeof(err))) {
		result(&c->res, obj, NULL, c->source, err);
	} else {
		result(&c->res, obj, "deleted", c->source, NULL);
	}
}

static void apply_doc(void *arg, json_t *obj)
{
	struct apply_ctx *c = arg;

	if (c->del)
		delete_one(c, obj);
	else
		apply_one(c->d, obj, c->source, &c->res);
}

/* The decoder is done with buf[0..upto): a mapping's pages can go (they
 * come back from the page cache if read again), so the file never counts
 * in full against the daemon's memory. */
static void drop_pages(void *arg, size_t upto)
{
	struct apply_ctx *c = arg;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), end = upto & ~(page - 1);

	if (end < c->dropped) /* the decoder's second pass: from the start */
		c->dropped = 0;
	if (!c->map || end <= c->dropped)
		return;
	madvise((char *)c->map + c->dropped, end - c->dropped, MADV_DONTNEED);
	c->dropped = end;
}

/* "[result,...]" */
static char *apply_buf(struct apply_ctx *c, const char *buf, size_t len)
{
	char err[512];

	c->res.f = open_memstream(&c->res.buf, &c->res.len);
	if (doc_each(buf, len, apply_doc, c, drop_pages, err, sizeof(err))) {
		char msg[700];
		snprintf(msg, sizeof(msg), "%s: %s", c->source, err);
		results_add(&c->res, json_pack("{s:s}", "error", msg));
	}
	fputs(c->res.n ? "]" : "[]", c->res.f);
	fclose(c->res.f);
	return c->res.buf;
}

char *d_apply_text(struct daemon *d, const char *source, const char *buf, size_t len, bool del)
{
	struct apply_ctx c = {.d = d, .source = source, .del = del};

	return apply_buf(&c, buf, len);
}

json_t *d_apply(struct daemon *d, const char *source, const char *buf, size_t len, bool del)
{
	char *text = d_apply_text(d, source, buf, len, del);
	json_t *res = json_loads(text, 0, NULL);

	free(text);
	return res ?: json_array();
}

char *d_apply_mapped(struct daemon *d, const char *source, const char *map, size_t len, bool del)
{
	struct apply_ctx c = {.d = d, .source = source, .del = del, .map = map};

	return apply_buf(&c, map, len);
}

/* Start-up: objects from the state dir, then the LB as they describe it;
 * whatever an earlier daemon programmed and nobody wants is removed. */
void d_restore(struct daemon *d)
{
	json_t *svcs, *ref;
	char err[512];
	size_t i;

	store_load(&d->store);
	svcs = store_refs(&d->store, K_SERVICE, NULL);
	json_array_foreach (svcs, i, ref) {
		const char *ns = json_string_value(json_array_get(ref, 0));
		const char *name = json_string_value(json_array_get(ref, 1));
		json_t *svc = store_fetch(&d->store, K_SERVICE, ns, name);

		alloc_claim_svc(&d->alloc, svc);
		json_decref(svc);
	}
	json_array_foreach (svcs, i, ref)
		d_sync_service(d, json_string_value(json_array_get(ref, 0)),
			       json_string_value(json_array_get(ref, 1)), err, sizeof(err));
	if (json_array_size(svcs))
		log_info("restored %zu services from %s", json_array_size(svcs), d->o.state_dir);
	json_decref(svcs);
}
