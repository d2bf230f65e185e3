// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lb.h"
#include "log.h"

int lb_init(struct lb *lb, const struct lb_ops *ops, uint32_t max_svc, uint32_t max_be,
	    uint32_t max_fe)
{
	memset(lb, 0, sizeof(*lb));
	lb->ops = *ops;
	lb->max_fe = max_fe;
	/* id 0 is never used: a zeroed value must not look like a backend */
	if (idpool_init(&lb->svc_ids, 1, max_svc) || idpool_init(&lb->be_ids, 1, max_be))
		return -1;
	return 0;
}

static void rec_free(struct lb_rec *r)
{
	free(r->key);
	free(r->owner);
	free(r->fe);
	free(r->be);
	free(r);
}

void lb_fini(struct lb *lb)
{
	struct hmap_ent *e, *t;

	hmap_foreach (&lb->by_key, e, t)
		rec_free(e->val);
	hmap_foreach (&lb->orphans, e, t)
		rec_free(e->val);
	hmap_free(&lb->by_key);
	hmap_free(&lb->by_owner);
	hmap_free(&lb->by_fe);
	hmap_free(&lb->orphans);
	hmap_free(&lb->by_id);
	idpool_free(&lb->svc_ids);
	idpool_free(&lb->be_ids);
}

struct lb_rec *lb_find(struct lb *lb, const char *key)
{
	return hmap_gets(&lb->by_key, key);
}

const char *lb_service_of(struct lb *lb, uint32_t svc_id)
{
	struct lb_rec *r = hmap_get(&lb->by_id, &svc_id, sizeof(svc_id));

	return r && r->key ? r->key : "";
}

const struct lb_rec *lb_owner_recs(struct lb *lb, const char *owner)
{
	return hmap_gets(&lb->by_owner, owner);
}

/* ---- map writes ---- */

int lb_flush(struct lb *lb)
{
	return lb->ops.flush ? lb->ops.flush(lb->ops.ctx) : 0;
}

static void be_to_map(const struct lb_be *b, uint32_t svc_id, struct pt_backend *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->addr, b->addr.a, sizeof(v->addr));
	v->port = htons(b->port);
	v->family = (uint8_t)b->addr.family;
	v->flags = b->terminating;
	v->svc_id = svc_id;
}

/* A slot names its backend and carries a copy of its address. */
static void slot_to_map(const struct lb_be *b, struct pt_slot_val *v)
{
	memset(v, 0, sizeof(*v));
	v->backend_id = b->id;
	memcpy(v->addr, b->addr.a, sizeof(v->addr));
	v->port = htons(b->port);
	v->family = (uint8_t)b->addr.family;
}

static int w_update(struct lb *lb, enum lb_map m, const void *k, const void *v)
{
	int err = lb->ops.update(lb->ops.ctx, m, k, v);

	if (err)
		log_err("lb: map %d update failed: %s", m, strerror(-err));
	return err;
}

static void w_del(struct lb *lb, enum lb_map m, const void *k)
{
	lb->ops.del(lb->ops.ctx, m, k);
}

static void fe_str(const struct pt_frontend_key *k, char *buf, size_t len)
{
	struct ipaddr ip = {.family = k->family};
	char a[64];

	memcpy(ip.a, k->addr, sizeof(ip.a));
	snprintf(buf, len, "%s%s%s:%u/%s", k->family == 6 ? "[" : "",
		 ip.a[0] || ip.a[1] || ip.a[2] || ip.a[3] ? ip_str(&ip, a, sizeof(a)) : "<node>",
		 k->family == 6 ? "]" : "", ntohs(k->port),
		 k->proto == IPPROTO_UDP ? "UDP" : "TCP");
}

/* ---- adoption of pinned state ---- */
struct adopt {
	struct lb *lb;
	struct hmap by_id; /* svc_id -> rec */
};

static struct lb_rec *adopt_rec(struct adopt *a, uint32_t svc_id)
{
	struct lb_rec *r = hmap_get(&a->by_id, &svc_id, sizeof(svc_id));

	if (!r) {
		r = calloc(1, sizeof(*r));
		r->svc_id = svc_id;
		r->layout_unknown = true;
		idpool_take(&a->lb->svc_ids, svc_id);
		hmap_put(&a->by_id, &svc_id, sizeof(svc_id), r);
	}
	return r;
}

static void adopt_fe(void *arg, const void *key, const void *val)
{
	struct adopt *a = arg;
	const struct pt_frontend_val *v = val;
	struct lb_rec *r = adopt_rec(a, v->svc_id);

	r->fe = realloc(r->fe, sizeof(*r->fe) * (size_t)(r->n_fe + 1));
	memcpy(&r->fe[r->n_fe].key, key, sizeof(r->fe[0].key));
	r->fe[r->n_fe++].kind = v->kind;
	a->lb->n_fe++;
}

/* Add a backend of an adopted service port once (it may be known both
 * from pt_backend and from its slots). */
static void adopt_add_be(struct adopt *a, struct lb_rec *r, uint32_t id, uint8_t family,
			 const uint32_t addr[4], uint16_t port_be, bool terminating)
{
	struct lb_be *b;

	for (int i = 0; i < r->n_be; i++)
		if (r->be[i].id == id)
			return;
	r->be = realloc(r->be, sizeof(*r->be) * (size_t)(r->n_be + 1));
	b = &r->be[r->n_be++];
	memset(b, 0, sizeof(*b));
	b->addr.family = family;
	memcpy(b->addr.a, addr, sizeof(b->addr.a));
	b->port = ntohs(port_be);
	b->terminating = terminating;
	b->id = id;
	idpool_take(&a->lb->be_ids, id);
}

static void adopt_be(void *arg, const void *key, const void *val)
{
	struct adopt *a = arg;
	const struct pt_backend *v = val;

	adopt_add_be(a, adopt_rec(a, v->svc_id), *(const uint32_t *)key, v->family, v->addr,
		     v->port, v->flags & 1);
}

/* A slot names its backend and carries its address: backends of services
 * without affinity are only known from their slots (no pt_backend entry). */
static void adopt_slot(void *arg, const void *key, const void *val)
{
	struct adopt *a = arg;
	const struct pt_slot_key *k = key;
	const struct pt_slot_val *v = val;
	struct lb_rec *r = adopt_rec(a, k->svc_id);

	if (k->slot > r->count)
		r->count = k->slot; /* slots to clean up, at least */
	adopt_add_be(a, r, v->backend_id, v->family, v->addr, v->port, false);
}

int lb_adopt(struct lb *lb)
{
	struct adopt a = {.lb = lb};
	struct hmap_ent *e, *t;
	int n = 0;

	if (lb->ops.walk(lb->ops.ctx, LBM_FRONTEND, adopt_fe, &a) ||
	    lb->ops.walk(lb->ops.ctx, LBM_BACKEND, adopt_be, &a) ||
	    lb->ops.walk(lb->ops.ctx, LBM_SLOT, adopt_slot, &a))
		return -1;
	hmap_foreach (&a.by_id, e, t) {
		struct lb_rec *r = e->val;
		for (int i = 0; i < r->n_fe; i++)
			hmap_put(&lb->by_fe, &r->fe[i].key, sizeof(r->fe[i].key), r);
		/* until a desired service claims it by a frontend */
		hmap_put(&lb->orphans, &r->svc_id, sizeof(r->svc_id), r);
		n++;
	}
	hmap_free(&a.by_id);
	if (n)
		log_info("lb: adopted %d service ports from pinned maps", n);
	return 0;
}

/* ---- programming ---- */

/* Remove a frontend of r, unless another record took it over meanwhile
 * (a nodePort moving between ports of one Service). */
static void drop_fe(struct lb *lb, struct lb_rec *r, const struct lb_fe *f)
{
	if (hmap_get(&lb->by_fe, &f->key, sizeof(f->key)) != r)
		return;
	w_del(lb, LBM_FRONTEND, &f->key);
	hmap_del(&lb->by_fe, &f->key, sizeof(f->key));
	lb->n_fe--;
}
static void remove_rec(struct lb *lb, struct lb_rec *r)
{
	struct pt_slot_key sk = {.svc_id = r->svc_id};

	/* frontends first: from now on the VIP is not translated */
	for (int i = 0; i < r->n_fe; i++)
		drop_fe(lb, r, &r->fe[i]);
	w_update(lb, LBM_SVC, &r->svc_id, NULL);
	for (sk.slot = 1; sk.slot <= (uint32_t)r->count || sk.slot <= (uint32_t)r->n_be; sk.slot++)
		w_del(lb, LBM_SLOT, &sk);
	for (int i = 0; i < r->n_be; i++) {
		if (r->layout_unknown || (r->flags & PT_SVC_AFFINITY))
			w_del(lb, LBM_BACKEND, &r->be[i].id);
		idpool_put(&lb->be_ids, r->be[i].id);
	}
	idpool_put(&lb->svc_ids, r->svc_id);
}

static int find_be(const struct lb_rec *r, const struct lb_be *b)
{
	for (int i = 0; r && i < r->n_be; i++)
		if (r->be[i].port == b->port && ip_eq(&r->be[i].addr, &b->addr))
			return i;
	return -1;
}

static int find_fe(const struct lb_rec *r, const struct lb_fe *f)
{
	for (int i = 0; r && i < r->n_fe; i++)
		if (!memcmp(&r->fe[i].key, &f->key, sizeof(f->key)))
			return i;
	return -1;
}

static int apply_rec(struct lb *lb, struct lb_rec *r, struct lb_want *w)
{
	struct lb_be *nb = calloc((size_t)w->n_be + 1, sizeof(*nb));
	uint32_t old_count = r->count > (uint32_t)r->n_be ? r->count : (uint32_t)r->n_be;
	struct pt_slot_key sk = {.svc_id = r->svc_id};
	struct pt_slot_val slv;
	struct pt_svc sv = {
	    .count = (uint32_t)w->n_be,
	    .flags = w->flags | PT_SVC_USED,
	    .affinity_timeout_s = w->affinity_timeout,
	};
	int err = 0;

	/* 1. new backends: ids and zeroed counters first, then the entries
	 * (runs of writes to one map become one batch in the dataplane) */
	bool *write = calloc((size_t)w->n_be + 1, sizeof(*write));
	/* pt_backend entries exist only for services with affinity: it is
	 * how an affinity entry is validated; a connect() reads the slot */
	bool aff = w->flags & PT_SVC_AFFINITY;
	bool had = r->layout_unknown || (r->flags & PT_SVC_AFFINITY);
	for (int i = 0; i < w->n_be; i++) {
		int j = find_be(r, &w->be[i]);

		nb[i] = w->be[i];
		if (j >= 0) {
			nb[i].id = r->be[j].id;
			write[i] = aff && (!had || r->be[j].terminating != nb[i].terminating);
		} else if (idpool_get(&lb->be_ids, &nb[i].id)) {
			err = -1; /* pre-checked: cannot happen */
			break;
		} else {
			w_update(lb, LBM_BE_STATS, &nb[i].id, NULL);
			write[i] = aff;
		}
	}
	for (int i = 0; !err && i < w->n_be; i++) {
		struct pt_backend v;

		if (!write[i])
			continue;
		be_to_map(&nb[i], r->svc_id, &v);
		err |= w_update(lb, LBM_BACKEND, &nb[i].id, &v);
	}
	free(write);
	/* 2. slots 1..n */
	int written = 0;
	for (int i = 0; !err && i < w->n_be; i++, written = i) {
		if (!r->layout_unknown && i < r->n_be && r->be[i].id == nb[i].id)
			continue;
		sk.slot = (uint32_t)i + 1;
		slot_to_map(&nb[i], &slv);
		err |= w_update(lb, LBM_SLOT, &sk, &slv);
	}
	/* 3. the master entry: count last */
	if (!err)
		err = w_update(lb, LBM_SVC, &r->svc_id, &sv);
	if (err) {
		/* put back the old slot layout (its backends still exist), then
		 * drop the new backends: the old service stays consistent */
		for (int i = 0; i <= written && i < w->n_be; i++) {
			sk.slot = (uint32_t)i + 1;
			if (i < r->n_be && !r->layout_unknown) {
				slot_to_map(&r->be[i], &slv);
				w_update(lb, LBM_SLOT, &sk, &slv);
			} else if ((uint32_t)i >= old_count)
				w_del(lb, LBM_SLOT, &sk);
		}
		for (int i = 0; i < w->n_be; i++)
			if (nb[i].id && find_be(r, &nb[i]) < 0) {
				w_del(lb, LBM_BACKEND, &nb[i].id);
				idpool_put(&lb->be_ids, nb[i].id);
			}
		free(nb);
		return -1;
	}
	/* 4. frontends */
	for (int i = 0; i < w->n_fe; i++) {
		int j = find_fe(r, &w->fe[i]);
		struct pt_frontend_val fv = {.svc_id = r->svc_id, .kind = w->fe[i].kind};

		if (j >= 0 && r->fe[j].kind == w->fe[i].kind && !r->layout_unknown)
			continue;
		if (w_update(lb, LBM_FRONTEND, &w->fe[i].key, &fv) == 0 &&
		    !hmap_get(&lb->by_fe, &w->fe[i].key, sizeof(w->fe[i].key)))
			lb->n_fe++;
		hmap_put(&lb->by_fe, &w->fe[i].key, sizeof(w->fe[i].key), r);
	}
	/* 5. stale frontends, slots, backends */
	struct lb_rec wr = {.fe = w->fe, .n_fe = w->n_fe};
	for (int i = 0; i < r->n_fe; i++) {
		if (find_fe(&wr, &r->fe[i]) >= 0)
			continue;
		drop_fe(lb, r, &r->fe[i]);
	}
	for (sk.slot = (uint32_t)w->n_be + 1; sk.slot <= old_count; sk.slot++)
		w_del(lb, LBM_SLOT, &sk);
	struct lb_rec nr = {.be = nb, .n_be = w->n_be};
	for (int i = 0; i < r->n_be; i++) {
		if (find_be(&nr, &r->be[i]) >= 0)
			continue;
		if (had)
			w_del(lb, LBM_BACKEND, &r->be[i].id);
		idpool_put(&lb->be_ids, r->be[i].id);
	}
	/* affinity turned off: pt_svc no longer has the flag, drop the rest */
	for (int i = 0; had && !aff && i < w->n_be; i++)
		w_del(lb, LBM_BACKEND, &nb[i].id);
	/* 6. remember */
	free(r->be);
	r->be = nb;
	r->n_be = w->n_be;
	free(r->fe);
	r->fe = calloc((size_t)w->n_fe + 1, sizeof(*r->fe));
	memcpy(r->fe, w->fe, sizeof(*r->fe) * (size_t)w->n_fe);
	r->n_fe = w->n_fe;
	r->count = (uint32_t)w->n_be;
	r->flags = w->flags;
	r->affinity_timeout = w->affinity_timeout;
	r->layout_unknown = false;
	return 0;
}

/* The record a want maps to: programmed, adopted, or none (new). */
static struct lb_rec *rec_for(struct lb *lb, const struct lb_want *w)
{
	struct lb_rec *r = hmap_gets(&lb->by_key, w->key);

	if (r)
		return r;
	for (int i = 0; i < w->n_fe; i++) {
		r = hmap_get(&lb->by_fe, &w->fe[i].key, sizeof(w->fe[i].key));
		if (r && !r->owner)
			return r; /* an orphan from a previous daemon */
	}
	return NULL;
}

static int precheck(struct lb *lb, const char *owner, struct lb_want *w, int n, char *err,
		    size_t errlen)
{
	uint32_t new_svc = 0, new_be = 0, new_fe = 0;

	for (int i = 0; i < n; i++) {
		struct lb_rec *r = rec_for(lb, &w[i]);

		if (!r)
			new_svc++;
		for (int j = 0; j < w[i].n_be; j++)
			if (find_be(r, &w[i].be[j]) < 0)
				new_be++;
		for (int j = 0; j < w[i].n_fe; j++) {
			struct lb_rec *o =
			    hmap_get(&lb->by_fe, &w[i].fe[j].key, sizeof(w[i].fe[j].key));
			char fs[96];

			if (!o) {
				new_fe++;
				continue;
			}
			if (o->owner && strcmp(o->owner, owner)) {
				fe_str(&w[i].fe[j].key, fs, sizeof(fs));
				snprintf(err, errlen, "frontend %s is already used by service %s",
					 fs, o->owner);
				return -1;
			}
		}
	}
	if (new_svc > idpool_avail(&lb->svc_ids)) {
		snprintf(err, errlen,
			 "map pt_svc is full: %u of %u service ports in use (raise --max-services)",
			 lb->svc_ids.used, lb->svc_ids.size - 1);
		return -1;
	}
	if (new_be > idpool_avail(&lb->be_ids)) {
		snprintf(err, errlen,
			 "map pt_backend is full: %u of %u backends in use (raise --max-backends)",
			 lb->be_ids.used, lb->be_ids.size - 1);
		return -1;
	}
	if (lb->n_fe + new_fe > lb->max_fe) {
		snprintf(
		    err, errlen,
		    "map pt_frontend is full: %u of %u frontends in use (raise --max-frontends)",
		    lb->n_fe, lb->max_fe);
		return -1;
	}
	return 0;
}

int lb_sync(struct lb *lb, const char *owner, struct lb_want *w, int n, char *err, size_t errlen)
{
	struct lb_rec *head = hmap_gets(&lb->by_owner, owner), *r, *next;
	struct lb_rec *keep = NULL;
	int rc = 0;

	if (precheck(lb, owner, w, n, err, errlen))
		return -1;
	for (int i = 0; i < n; i++) {
		r = rec_for(lb, &w[i]);
		if (r && !r->owner) {
			/* claim the orphan */
			hmap_del(&lb->orphans, &r->svc_id, sizeof(r->svc_id));
			r->owner = strdup(owner);
			r->key = strdup(w[i].key);
			hmap_puts(&lb->by_key, r->key, r);
			hmap_put(&lb->by_id, &r->svc_id, sizeof(r->svc_id), r);
		} else if (!r) {
			r = calloc(1, sizeof(*r));
			idpool_get(&lb->svc_ids, &r->svc_id);
			w_update(lb, LBM_SVC_STATS, &r->svc_id, NULL);
			r->owner = strdup(owner);
			r->key = strdup(w[i].key);
			hmap_puts(&lb->by_key, r->key, r);
			hmap_put(&lb->by_id, &r->svc_id, sizeof(r->svc_id), r);
		}
		if (apply_rec(lb, r, &w[i])) {
			snprintf(err, errlen, "writing service port %s failed (see daemon log)",
				 w[i].key);
			rc = -1;
		}
	}
	/* drop this owner's service ports that are no longer wanted */
	for (r = head; r; r = next) {
		bool wanted = false;

		next = r->next;
		for (int i = 0; i < n && !wanted; i++)
			wanted = !strcmp(r->key, w[i].key);
		if (wanted)
			continue;
		remove_rec(lb, r);
		hmap_dels(&lb->by_key, r->key);
		hmap_del(&lb->by_id, &r->svc_id, sizeof(r->svc_id));
		rec_free(r);
	}
	/* rebuild the owner list */
	for (int i = n - 1; i >= 0; i--) {
		r = hmap_gets(&lb->by_key, w[i].key);
		if (!r)
			continue;
		r->next = keep;
		keep = r;
	}
	if (keep)
		hmap_puts(&lb->by_owner, owner, keep);
	else
		hmap_dels(&lb->by_owner, owner);
	if (lb_flush(lb) && !rc) {
		snprintf(err, errlen, "writing the maps failed (see daemon log)");
		rc = -1;
	}
	return rc;
}

void lb_gc_orphans(struct lb *lb)
{
	struct hmap_ent *e, *t;
	int n = 0;

	hmap_foreach (&lb->orphans, e, t) {
		struct lb_rec *r = e->val;
		remove_rec(lb, r);
		rec_free(r);
		n++;
	}
	hmap_free(&lb->orphans);
	lb_flush(lb);
	if (n)
		log_info("lb: removed %d stale service ports left by a previous run", n);
}
