// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The LB programmer against a fake kernel: lb_ops that record every map
 * operation in order and keep a model of the maps. The properties checked:
 *
 *  - the slot layout: svc.count == number of backends, slots 1..count name
 *    distinct backend ids, slot i+1 is want.be[i];
 *  - the write order (backends, slots, master count, frontends on growth;
 *    count first on shrink; frontends first on removal);
 *  - "never a half-written state": the recorded log is replayed step by
 *    step on a copy of the maps taken before the sync, and after EVERY
 *    operation every slot 1..count of every service resolves to an existing
 *    backend of that service, and every frontend names a service in use;
 *  - capacity and conflict errors write nothing;
 *  - adoption of pinned maps keeps ids, and orphans are collected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lb.h"
#include "log.h"

/* ---- the fake kernel ---- */
#define KMAX 32
#define VMAX 32
#define NENT 4096

struct ent {
	uint8_t map;
	bool live;
	uint8_t key[KMAX];
	uint8_t val[VMAX];
};

struct kstate {
	struct ent e[NENT];
};

enum op_kind { OP_UPD, OP_DEL };

struct op {
	uint8_t map, kind;
	bool failed; /* injected failure: not applied */
	uint8_t key[KMAX];
	uint8_t val[VMAX];
};

struct fake {
	struct kstate *st;
	struct op *log;
	size_t n, cap;
	/* failure injection: fail the fail_nth-th update of map fail_map */
	int fail_map, fail_nth, seen;
};

static size_t ksz(int m)
{
	return lb_key_size((enum lb_map)m);
}

static size_t vsz(int m)
{
	switch (m) {
	case LBM_FRONTEND:
		return sizeof(struct pt_frontend_val);
	case LBM_SVC:
		return sizeof(struct pt_svc);
	case LBM_SLOT:
		return sizeof(struct pt_slot_val);
	case LBM_BACKEND:
		return sizeof(struct pt_backend);
	default:
		return 0; /* per-CPU stats: only ever reset */
	}
}

static struct ent *k_find(struct kstate *s, int m, const void *key)
{
	for (int i = 0; i < NENT; i++)
		if (s->e[i].live && s->e[i].map == m && !memcmp(s->e[i].key, key, ksz(m)))
			return &s->e[i];
	return NULL;
}

static const void *k_get(struct kstate *s, int m, const void *key)
{
	struct ent *e = k_find(s, m, key);
	return e ? e->val : NULL;
}

static void k_put(struct kstate *s, int m, const void *key, const void *val)
{
	struct ent *e = k_find(s, m, key);

	for (int i = 0; !e && i < NENT; i++)
		if (!s->e[i].live)
			e = &s->e[i];
	if (!e)
		fail_msg("fake kernel full");
	memset(e, 0, sizeof(*e));
	e->live = true;
	e->map = (uint8_t)m;
	memcpy(e->key, key, ksz(m));
	if (val)
		memcpy(e->val, val, vsz(m));
}

static int k_del(struct kstate *s, int m, const void *key)
{
	struct ent *e = k_find(s, m, key);

	if (!e)
		return -ENOENT;
	e->live = false;
	return 0;
}

static int k_count(struct kstate *s, int m)
{
	int n = 0;

	for (int i = 0; i < NENT; i++)
		n += s->e[i].live && s->e[i].map == m;
	return n;
}

static void apply_op(struct kstate *s, const struct op *o)
{
	if (o->failed)
		return;
	if (o->kind == OP_UPD)
		k_put(s, o->map, o->key, o->val);
	else
		k_del(s, o->map, o->key);
}

static struct op *log_op(struct fake *f, int m, int kind, const void *key, const void *val)
{
	struct op *o;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->log = realloc(f->log, f->cap * sizeof(*f->log));
	}
	o = &f->log[f->n++];
	memset(o, 0, sizeof(*o));
	o->map = (uint8_t)m;
	o->kind = (uint8_t)kind;
	memcpy(o->key, key, ksz(m));
	if (val)
		memcpy(o->val, val, vsz(m));
	return o;
}

static int f_update(void *ctx, enum lb_map m, const void *key, const void *val)
{
	struct fake *f = ctx;
	struct op *o = log_op(f, m, OP_UPD, key, val);

	if ((int)m == f->fail_map && ++f->seen == f->fail_nth) {
		o->failed = true;
		return -EIO;
	}
	apply_op(f->st, o);
	return 0;
}

static int f_del(void *ctx, enum lb_map m, const void *key)
{
	struct fake *f = ctx;

	log_op(f, m, OP_DEL, key, NULL);
	return k_del(f->st, m, key);
}

static int f_walk(void *ctx, enum lb_map m, void (*cb)(void *arg, const void *key, const void *val),
		  void *arg)
{
	struct fake *f = ctx;

	for (int i = 0; i < NENT; i++)
		if (f->st->e[i].live && f->st->e[i].map == m)
			cb(arg, f->st->e[i].key, f->st->e[i].val);
	return 0;
}

static struct fake F;
static struct lb LB;
static const struct lb_ops OPS = {.ctx = &F, .update = f_update, .del = f_del, .walk = f_walk};

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	F.st = calloc(1, sizeof(*F.st));
	F.fail_map = -1;
	log_level = LOG_ERR;
	return lb_init(&LB, &OPS, 64, 256, 64);
}

static int teardown(void **state)
{
	(void)state;
	lb_fini(&LB);
	free(F.st);
	free(F.log);
	memset(&F, 0, sizeof(F));
	return 0;
}

/* ---- wants ---- */
struct wb {
	struct lb_want w;
	struct lb_fe fe[8];
	struct lb_be be[64];
};

static void ipa(const char *s, struct ipaddr *ip)
{
	if (ip_parse(s, ip))
		fail_msg("bad ip %s", s);
}

static void add_fe(struct wb *b, const char *ip, uint16_t port, uint8_t proto, uint8_t kind)
{
	struct lb_fe *f = &b->fe[b->w.n_fe++];
	struct ipaddr a = {.family = 4};

	memset(f, 0, sizeof(*f));
	if (ip)
		ipa(ip, &a);
	memcpy(f->key.addr, a.a, sizeof(f->key.addr));
	f->key.port = htons(port);
	f->key.proto = proto;
	f->key.family = (uint8_t)a.family;
	f->kind = kind;
}

/* backends: "10.0.0.1:8080 10.0.0.2:8080*" (* = terminating), in slot order */
static void mkwant(struct wb *b, const char *key, const char *vip, uint16_t port,
		   uint16_t node_port, const char *backends)
{
	char buf[2048], *save, *tok;

	memset(b, 0, sizeof(*b));
	snprintf(b->w.key, sizeof(b->w.key), "%s", key);
	/* affinity by default: pt_backend is written too, so the order checks
	 * see every map; test_no_affinity covers the slots-only path */
	b->w.flags = PT_SVC_AFFINITY;
	b->w.affinity_timeout = 10800;
	b->w.fe = b->fe;
	b->w.be = b->be;
	if (vip)
		add_fe(b, vip, port, IPPROTO_TCP, PT_FE_CLUSTER_IP);
	if (node_port)
		add_fe(b, NULL, node_port, IPPROTO_TCP, PT_FE_NODE_PORT);
	snprintf(buf, sizeof(buf), "%s", backends ? backends : "");
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		struct lb_be *e = &b->be[b->w.n_be++];
		char *colon = strrchr(tok, ':');
		size_t l = strlen(tok);

		memset(e, 0, sizeof(*e));
		if (tok[l - 1] == '*')
			e->terminating = true, tok[l - 1] = 0;
		*colon = 0;
		ipa(tok, &e->addr);
		e->port = (uint16_t)atoi(colon + 1);
	}
}

/* ---- log helpers ---- */
static uint32_t op_u32(const struct op *o, int which) /* 0 key, 1 val */
{
	uint32_t v;
	memcpy(&v, which ? o->val : o->key, sizeof(v));
	return v;
}

static uint32_t op_svc(const struct op *o)
{
	switch (o->map) {
	case LBM_FRONTEND:
		return ((const struct pt_frontend_val *)o->val)->svc_id;
	case LBM_SLOT:
		return ((const struct pt_slot_key *)o->key)->svc_id;
	case LBM_BACKEND:
		return ((const struct pt_backend *)o->val)->svc_id;
	default:
		return op_u32(o, 0);
	}
}

static const char *const map_names[] = {"frontend", "svc",	 "slot",
					"backend",  "svc_stats", "be_stats"};

static void dump_op(const struct op *o, size_t i, char *buf, size_t len)
{
	char extra[128] = "";

	if (o->map == LBM_SLOT) {
		const struct pt_slot_key *k = (const void *)o->key;
		snprintf(extra, sizeof(extra), "svc %u slot %u -> %u", k->svc_id, k->slot,
			 o->kind == OP_UPD ? op_u32(o, 1) : 0);
	} else if (o->map == LBM_SVC && o->kind == OP_UPD) {
		const struct pt_svc *v = (const void *)o->val;
		snprintf(extra, sizeof(extra), "svc %u count %u flags %#x", op_u32(o, 0), v->count,
			 v->flags);
	} else if (o->map == LBM_FRONTEND) {
		const struct pt_frontend_key *k = (const void *)o->key;
		snprintf(extra, sizeof(extra), "port %u kind %u", ntohs(k->port),
			 ((const struct pt_frontend_val *)o->val)->kind);
	} else {
		snprintf(extra, sizeof(extra), "id %u", op_u32(o, 0));
	}
	snprintf(buf, len, "#%zu %s %s %s%s", i, o->kind == OP_UPD ? "update" : "delete",
		 map_names[o->map], extra, o->failed ? " (failed)" : "");
}

/* ---- the state invariant ---- */
/* Returns NULL when consistent, else why. */
static const char *state_bad(struct kstate *s, char *why, size_t len)
{
	for (int i = 0; i < NENT; i++) {
		struct ent *e = &s->e[i];
		if (!e->live)
			continue;
		if (e->map == LBM_SVC) {
			const struct pt_svc *sv = (const void *)e->val;
			uint32_t id;
			memcpy(&id, e->key, sizeof(id));
			for (uint32_t slot = 1; slot <= sv->count; slot++) {
				struct pt_slot_key sk = {.svc_id = id, .slot = slot};
				const uint32_t *be_id = k_get(s, LBM_SLOT, &sk);
				const struct pt_backend *be;
				if (!be_id) {
					snprintf(why, len, "svc %u count %u: slot %u missing", id,
						 sv->count, slot);
					return why;
				}
				be = k_get(s, LBM_BACKEND, be_id);
				/* pt_backend only matters (and exists) with affinity */
				if (!be && !(sv->flags & PT_SVC_AFFINITY))
					continue;
				if (!be) {
					snprintf(why, len,
						 "svc %u count %u: slot %u -> backend %u missing",
						 id, sv->count, slot, *be_id);
					return why;
				}
				if (be->svc_id != id) {
					snprintf(why, len, "svc %u slot %u -> backend %u of svc %u",
						 id, slot, *be_id, be->svc_id);
					return why;
				}
				/* the slot's copy of the address is the backend's */
				const struct pt_slot_val *sl = (const void *)be_id;
				if (sl->port != be->port || sl->family != be->family ||
				    memcmp(sl->addr, be->addr, sizeof(sl->addr))) {
					snprintf(why, len,
						 "svc %u slot %u: address is not backend %u's", id,
						 slot, *be_id);
					return why;
				}
			}
		} else if (e->map == LBM_FRONTEND) {
			const struct pt_frontend_val *fv = (const void *)e->val;
			const struct pt_svc *sv = k_get(s, LBM_SVC, &fv->svc_id);
			if (!sv || !(sv->flags & PT_SVC_USED)) {
				snprintf(
				    why, len, "frontend port %u -> svc %u not in use",
				    ntohs(((const struct pt_frontend_key *)(const void *)e->key)
					      ->port),
				    fv->svc_id);
				return why;
			}
		}
	}
	return NULL;
}

/* A snapshot of the maps and of the log position, taken before a sync. */
struct mark {
	struct kstate *st;
	size_t at;
};

static struct mark mark(void)
{
	struct mark m = {.st = malloc(sizeof(struct kstate)), .at = F.n};

	memcpy(m.st, F.st, sizeof(*m.st));
	return m;
}

/* Replay the ops logged since m on a copy of the maps as they were then,
 * checking the invariant after every single operation. */
static void replay_check_at(struct mark *m, const char *file, int line)
{
	struct kstate *s = malloc(sizeof(*s));
	char why[256], op[256];

	memcpy(s, m->st, sizeof(*s));
	if (state_bad(s, why, sizeof(why))) {
		print_error("inconsistent before the sync: %s\n", why);
		_fail(file, line);
	}
	for (size_t i = m->at; i < F.n; i++) {
		const struct op *o = &F.log[i];
		/* with affinity, a slot may only name a backend that is already
		 * there (flags: the service's state at the end) */
		const struct pt_svc *fsv = o->map == LBM_SLOT ? k_get(F.st, LBM_SVC, o->key) : NULL;
		if (o->map == LBM_SLOT && o->kind == OP_UPD && !o->failed && fsv &&
		    (fsv->flags & PT_SVC_AFFINITY) && !k_get(s, LBM_BACKEND, o->val)) {
			dump_op(o, i, op, sizeof(op));
			print_error("%s: slot written before its backend\n", op);
			_fail(file, line);
		}
		apply_op(s, o);
		if (state_bad(s, why, sizeof(why))) {
			dump_op(o, i, op, sizeof(op));
			print_error("half-written state after %s: %s\n", op, why);
			for (size_t j = m->at; j < F.n; j++) {
				dump_op(&F.log[j], j, op, sizeof(op));
				print_error("   %s\n", op);
			}
			_fail(file, line);
		}
	}
	/* the replay ends where the fake kernel is */
	for (int i = 0; i < NENT; i++) {
		struct ent *e = &F.st->e[i];
		if (e->live && !k_find(s, e->map, e->key))
			fail_msg("replay diverged");
	}
	if (k_count(s, LBM_FRONTEND) != k_count(F.st, LBM_FRONTEND) ||
	    k_count(s, LBM_SLOT) != k_count(F.st, LBM_SLOT) ||
	    k_count(s, LBM_BACKEND) != k_count(F.st, LBM_BACKEND))
		fail_msg("replay diverged");
	free(s);
}
#define replay_check(m) replay_check_at((m), __FILE__, __LINE__)

static void unmark(struct mark *m)
{
	free(m->st);
	m->st = NULL;
}

/* index of the first/last op since m matching (map, kind, svc); -1 if none */
static long find_op(const struct mark *m, int map, int kind, uint32_t svc, bool last)
{
	long r = -1;

	for (size_t i = m->at; i < F.n; i++) {
		const struct op *o = &F.log[i];
		if (o->map != map || o->kind != kind || o->failed)
			continue;
		/* a deleted backend / frontend carries no value: match by the
		 * state before the sync */
		if (o->kind == OP_DEL && (map == LBM_BACKEND || map == LBM_FRONTEND)) {
			const void *v = k_get(m->st, map, o->key);
			uint32_t id = 0;
			if (v && map == LBM_BACKEND)
				id = ((const struct pt_backend *)v)->svc_id;
			if (v && map == LBM_FRONTEND)
				id = ((const struct pt_frontend_val *)v)->svc_id;
			if (v && id != svc)
				continue;
		} else if (op_svc(o) != svc) {
			continue;
		}
		r = (long)i;
		if (!last)
			break;
	}
	return r;
}

static size_t count_ops(const struct mark *m, int map, int kind)
{
	size_t n = 0;

	for (size_t i = m->at; i < F.n; i++)
		n += F.log[i].map == map && F.log[i].kind == kind;
	return n;
}

/* ---- the layout a want must have in the maps ---- */
static void check_layout_at(struct lb_want *w, const char *file, int line)
{
	struct lb_rec *r = lb_find(&LB, w->key);
	const struct pt_svc *sv;
	uint32_t ids[64];

	if (!r) {
		print_error("no record for %s\n", w->key);
		_fail(file, line);
	}
	sv = k_get(F.st, LBM_SVC, &r->svc_id);
	if (!sv || sv->count != (uint32_t)w->n_be || !(sv->flags & PT_SVC_USED)) {
		print_error("%s: svc %u count %d, want %d\n", w->key, r->svc_id,
			    sv ? (int)sv->count : -1, w->n_be);
		_fail(file, line);
	}
	assert_int_equal(sv->flags, w->flags | PT_SVC_USED);
	assert_int_equal(sv->affinity_timeout_s, w->affinity_timeout);
	for (int i = 0; i < w->n_be; i++) {
		struct pt_slot_key sk = {.svc_id = r->svc_id, .slot = (uint32_t)i + 1};
		const uint32_t *id = k_get(F.st, LBM_SLOT, &sk);
		const struct pt_backend *be;
		if (!id) {
			print_error("%s: slot %d missing\n", w->key, i + 1);
			_fail(file, line);
		}
		ids[i] = *id;
		for (int j = 0; j < i; j++)
			if (ids[j] == ids[i]) {
				print_error("%s: slots %d and %d share backend %u\n", w->key, j + 1,
					    i + 1, ids[i]);
				_fail(file, line);
			}
		be = k_get(F.st, LBM_BACKEND, id);
		if (!be != !(w->flags & PT_SVC_AFFINITY)) {
			print_error("%s: backend %u of slot %d %s a pt_backend entry\n", w->key,
				    *id, i + 1, be ? "has" : "lacks");
			_fail(file, line);
		}
		/* slot i+1 is want.be[i]: the slot's address, and the backend's */
		const struct pt_slot_val *sl = (const void *)id;
		if (memcmp(sl->addr, w->be[i].addr.a, sizeof(sl->addr)) ||
		    sl->port != htons(w->be[i].port) || sl->family != w->be[i].addr.family) {
			print_error("%s: slot %d address is not want.be[%d]\n", w->key, i + 1, i);
			_fail(file, line);
		}
		if (be && (memcmp(be->addr, w->be[i].addr.a, sizeof(be->addr)) ||
			   be->port != htons(w->be[i].port) || be->family != w->be[i].addr.family ||
			   be->svc_id != r->svc_id || be->flags != (uint8_t)w->be[i].terminating)) {
			print_error("%s: slot %d backend %u is not want.be[%d]\n", w->key, i + 1,
				    *id, i);
			_fail(file, line);
		}
		/* the record agrees with the kernel */
		assert_int_equal(r->be[i].id, *id);
	}
	/* no slot beyond the count, no other backend of this service */
	for (int i = 0; i < NENT; i++) {
		struct ent *e = &F.st->e[i];
		if (!e->live)
			continue;
		if (e->map == LBM_SLOT) {
			const struct pt_slot_key *k = (const void *)e->key;
			if (k->svc_id == r->svc_id && k->slot > (uint32_t)w->n_be) {
				print_error("%s: stale slot %u\n", w->key, k->slot);
				_fail(file, line);
			}
		}
		if (e->map == LBM_BACKEND &&
		    ((const struct pt_backend *)(const void *)e->val)->svc_id == r->svc_id) {
			uint32_t id;
			bool found = false;
			memcpy(&id, e->key, sizeof(id));
			for (int j = 0; j < w->n_be; j++)
				found |= ids[j] == id;
			if (!found) {
				print_error("%s: stale backend %u\n", w->key, id);
				_fail(file, line);
			}
		}
	}
	/* every frontend points here */
	for (int i = 0; i < w->n_fe; i++) {
		const struct pt_frontend_val *fv = k_get(F.st, LBM_FRONTEND, &w->fe[i].key);
		if (!fv || fv->svc_id != r->svc_id || fv->kind != w->fe[i].kind) {
			print_error("%s: frontend port %u %s\n", w->key, ntohs(w->fe[i].key.port),
				    !fv ? "missing" : "points elsewhere");
			_fail(file, line);
		}
	}
}
#define check_layout(w) check_layout_at((w), __FILE__, __LINE__)

static int sync_at(const char *owner, struct wb **bs, int n, char *err, size_t errlen)
{
	struct lb_want w[8];

	for (int i = 0; i < n; i++)
		w[i] = bs[i]->w;
	return lb_sync(&LB, owner, w, n, err, errlen);
}

/* sync one owner's wants; the sync must succeed and keep every step
 * consistent; returns the mark for further order checks (caller unmarks) */
static struct mark sync_ok_at(const char *owner, struct wb **bs, int n, const char *file, int line)
{
	char err[256] = "";
	struct mark m = mark();

	if (sync_at(owner, bs, n, err, sizeof(err))) {
		print_error("lb_sync(%s) failed: %s\n", owner, err);
		_fail(file, line);
	}
	replay_check_at(&m, file, line);
	for (int i = 0; i < n; i++)
		check_layout_at(&bs[i]->w, file, line);
	return m;
}
#define sync_ok(owner, n, ...)                                                                     \
	sync_ok_at((owner), (struct wb *[]){__VA_ARGS__}, (n), __FILE__, __LINE__)

static uint32_t svc_of(struct wb *b)
{
	struct lb_rec *r = lb_find(&LB, b->w.key);
	assert_non_null(r);
	return r->svc_id;
}

static uint32_t be_id_of(struct wb *b, const char *addr, uint16_t port)
{
	struct lb_rec *r = lb_find(&LB, b->w.key);
	struct ipaddr ip;

	ipa(addr, &ip);
	for (int i = 0; r && i < r->n_be; i++)
		if (ip_eq(&r->be[i].addr, &ip) && r->be[i].port == port)
			return r->be[i].id;
	fail_msg("no backend %s:%u in %s", addr, port, b->w.key);
	return 0;
}

/* ---- tests ---- */
static void test_create_layout_and_order(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080");
	m = sync_ok("default/web", 1, &a);
	uint32_t s = svc_of(&a);
	assert_true(s >= 1);

	long first_slot = find_op(&m, LBM_SLOT, OP_UPD, s, false);
	long last_slot = find_op(&m, LBM_SLOT, OP_UPD, s, true);
	long svc_w = find_op(&m, LBM_SVC, OP_UPD, s, false);
	long first_fe = find_op(&m, LBM_FRONTEND, OP_UPD, s, false);
	long last_be = find_op(&m, LBM_BACKEND, OP_UPD, s, true);
	assert_true(first_slot >= 0 && svc_w >= 0 && first_fe >= 0 && last_be >= 0);
	/* backends, then slots, then the master count, then frontends */
	assert_true(last_be < first_slot);
	assert_true(last_slot < svc_w);
	assert_true(svc_w < first_fe);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_UPD), 3);
	assert_int_equal(count_ops(&m, LBM_SLOT, OP_UPD), 3);
	assert_int_equal(count_ops(&m, LBM_FRONTEND, OP_UPD), 2);
	/* the stats of a new svc id and of new backend ids start at zero */
	assert_int_equal(count_ops(&m, LBM_SVC_STATS, OP_UPD), 1);
	assert_int_equal(count_ops(&m, LBM_BE_STATS, OP_UPD), 3);
	assert_true(find_op(&m, LBM_SVC_STATS, OP_UPD, s, false) < svc_w);
	/* nothing deleted on a fresh create */
	assert_int_equal(count_ops(&m, LBM_SLOT, OP_DEL) + count_ops(&m, LBM_BACKEND, OP_DEL) +
			     count_ops(&m, LBM_FRONTEND, OP_DEL),
			 0);
	unmark(&m);
}

static void test_grow_keeps_ids(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.2:8080 10.0.0.4:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	uint32_t s = svc_of(&a);
	uint32_t id2 = be_id_of(&a, "10.0.0.2", 8080), id4 = be_id_of(&a, "10.0.0.4", 8080);

	/* a backend sorting first shifts every slot; two more at the end */
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.4:8080 10.0.0.5:8080 10.0.0.6:8080");
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(svc_of(&a), s);
	assert_int_equal(be_id_of(&a, "10.0.0.2", 8080), id2);
	assert_int_equal(be_id_of(&a, "10.0.0.4", 8080), id4);
	/* unchanged backends are not rewritten */
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_UPD), 3);
	long last_be = find_op(&m, LBM_BACKEND, OP_UPD, s, true);
	long first_slot = find_op(&m, LBM_SLOT, OP_UPD, s, false);
	long last_slot = find_op(&m, LBM_SLOT, OP_UPD, s, true);
	long svc_w = find_op(&m, LBM_SVC, OP_UPD, s, false);
	assert_true(last_be < first_slot);
	assert_true(last_slot < svc_w);
	/* the svc entry grows only once all 5 slots exist */
	assert_int_equal(((struct pt_svc *)(void *)F.log[svc_w].val)->count, 5);
	/* the frontend did not change: not rewritten */
	assert_int_equal(count_ops(&m, LBM_FRONTEND, OP_UPD), 0);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_DEL), 0);
	unmark(&m);
}

static void test_shrink_order(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080 10.0.0.5:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	uint32_t s = svc_of(&a);
	uint32_t id2 = be_id_of(&a, "10.0.0.2", 8080), id5 = be_id_of(&a, "10.0.0.5", 8080);

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.2:8080 10.0.0.5:8080");
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(be_id_of(&a, "10.0.0.2", 8080), id2);
	assert_int_equal(be_id_of(&a, "10.0.0.5", 8080), id5);
	long svc_w = find_op(&m, LBM_SVC, OP_UPD, s, false);
	long first_slot_del = find_op(&m, LBM_SLOT, OP_DEL, s, false);
	long first_be_del = find_op(&m, LBM_BACKEND, OP_DEL, s, false);
	assert_true(svc_w >= 0 && first_slot_del >= 0 && first_be_del >= 0);
	assert_int_equal(((struct pt_svc *)(void *)F.log[svc_w].val)->count, 2);
	/* the count shrinks before anything it covered disappears */
	assert_true(svc_w < first_slot_del);
	assert_true(svc_w < first_be_del);
	assert_int_equal(count_ops(&m, LBM_SLOT, OP_DEL), 3);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_DEL), 3);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_UPD), 0);
	/* the freed ids are returned to the pool */
	assert_int_equal(LB.be_ids.used, 2);
	unmark(&m);
}

static void test_shrink_to_zero_and_back(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	uint32_t s = svc_of(&a);
	/* no endpoints: the service stays (connections are refused), its
	 * frontend too */
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, NULL);
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(svc_of(&a), s);
	assert_int_equal(k_count(F.st, LBM_SLOT), 0);
	assert_int_equal(k_count(F.st, LBM_BACKEND), 0);
	assert_int_equal(k_count(F.st, LBM_FRONTEND), 1);
	assert_true(find_op(&m, LBM_SVC, OP_UPD, s, false) <
		    find_op(&m, LBM_SLOT, OP_DEL, s, false));
	unmark(&m);

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.7:8080 10.0.0.8:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
}

static void test_replace_all_and_terminating(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.1:8080 10.0.0.2:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	uint32_t id1 = be_id_of(&a, "10.0.0.1", 8080);
	/* a rollout: all new pods */
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.1.1:8080 10.0.1.2:8080");
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_DEL), 2);
	unmark(&m);
	/* a freed id is not reused at once (stale affinity entries) */
	assert_int_not_equal(be_id_of(&a, "10.0.1.1", 8080), id1);
	assert_int_not_equal(be_id_of(&a, "10.0.1.2", 8080), id1);

	/* the same endpoints turning terminating: rewritten in place */
	uint32_t idx = be_id_of(&a, "10.0.1.1", 8080);
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.1.1:8080* 10.0.1.2:8080*");
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(be_id_of(&a, "10.0.1.1", 8080), idx);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_UPD), 2);
	assert_int_equal(count_ops(&m, LBM_SLOT, OP_UPD), 0);
	unmark(&m);
}

/* a sync of what is already programmed writes only the master entry */
static void test_resync_is_minimal(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080, "10.0.0.1:8080 10.0.0.2:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	m = sync_ok("default/web", 1, &a);
	for (size_t i = m.at; i < F.n; i++)
		if (F.log[i].map != LBM_SVC) {
			char op[256];
			dump_op(&F.log[i], i, op, sizeof(op));
			fail_msg("unneeded write on resync: %s", op);
		}
	unmark(&m);
}

static void test_affinity_flags(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.1:8080");
	a.w.flags = PT_SVC_AFFINITY;
	a.w.affinity_timeout = 10800;
	m = sync_ok("default/web", 1, &a); /* check_layout checks flags and timeout */
	unmark(&m);
	a.w.flags = 0;
	a.w.affinity_timeout = 0;
	m = sync_ok("default/web", 1, &a); /* pt_backend entries deleted */
	unmark(&m);
	a.w.flags = PT_SVC_AFFINITY;
	a.w.affinity_timeout = 5;
	m = sync_ok("default/web", 1, &a); /* and written again */
	unmark(&m);
}

static void restart(void);

/* Without affinity a connect() only reads the slot: no pt_backend entry is
 * written, and a restarted daemon adopts the backends from the slots. */
static void test_no_affinity(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080");
	a.w.flags = 0;
	a.w.affinity_timeout = 0;
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_UPD), 0);
	assert_int_equal(count_ops(&m, LBM_SLOT, OP_UPD), 3);
	unmark(&m);
	uint32_t kept = be_id_of(&a, "10.0.0.2", 8080);
	restart();
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080, "10.0.0.2:8080");
	a.w.flags = 0;
	a.w.affinity_timeout = 0;
	m = sync_ok("default/web", 1, &a);
	/* adopted from its slot: same id, and the other ids were released */
	assert_int_equal(be_id_of(&a, "10.0.0.2", 8080), kept);
	assert_int_equal(LB.be_ids.used, 1);
	unmark(&m);
}

static void test_remove_service(void **state)
{
	(void)state;
	struct wb a, b;
	struct mark m;
	char err[256];

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080");
	mkwant(&b, "default/other/80/TCP/v4", "10.96.0.11", 80, 0, "10.0.0.9:80");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	m = sync_ok("default/other", 1, &b);
	unmark(&m);
	uint32_t s = svc_of(&a);

	m = mark();
	assert_int_equal(lb_sync(&LB, "default/web", NULL, 0, err, sizeof(err)), 0);
	replay_check(&m);
	long last_fe_del = find_op(&m, LBM_FRONTEND, OP_DEL, s, true);
	long svc_w = find_op(&m, LBM_SVC, OP_UPD, s, false);
	long first_slot_del = find_op(&m, LBM_SLOT, OP_DEL, s, false);
	long first_be_del = find_op(&m, LBM_BACKEND, OP_DEL, s, false);
	assert_true(last_fe_del >= 0 && svc_w >= 0 && first_slot_del >= 0 && first_be_del >= 0);
	assert_int_equal(count_ops(&m, LBM_FRONTEND, OP_DEL), 2);
	/* frontends first: from then on the VIP is not translated */
	assert_true(last_fe_del < svc_w);
	assert_true(last_fe_del < first_slot_del);
	assert_true(last_fe_del < first_be_del);
	/* the master entry is reset before its slots go */
	assert_true(svc_w < first_slot_del);
	const struct pt_svc *sv = k_get(F.st, LBM_SVC, &s);
	assert_true(!sv || (sv->count == 0 && !(sv->flags & PT_SVC_USED)));
	assert_null(lb_find(&LB, a.w.key));
	assert_null(lb_owner_recs(&LB, "default/web"));
	for (int i = 0; i < NENT; i++) {
		struct ent *e = &F.st->e[i];
		if (e->live && e->map == LBM_SLOT)
			assert_int_not_equal(((struct pt_slot_key *)(void *)e->key)->svc_id, s);
		if (e->live && e->map == LBM_BACKEND)
			assert_int_not_equal(((struct pt_backend *)(void *)e->val)->svc_id, s);
	}
	/* the other service is untouched */
	check_layout(&b.w);
	assert_int_equal(LB.be_ids.used, 1);
	assert_int_equal(LB.svc_ids.used, 1);
	assert_int_equal(LB.n_fe, 1);
	unmark(&m);
}

static void test_remove_one_port_of_owner(void **state)
{
	(void)state;
	struct wb a, b;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.1:8080");
	mkwant(&b, "default/web/443/TCP/v4", "10.96.0.10", 443, 0, "10.0.0.1:8443");
	m = sync_ok("default/web", 2, &a, &b);
	unmark(&m);
	assert_int_not_equal(svc_of(&a), svc_of(&b));
	const struct lb_rec *r = lb_owner_recs(&LB, "default/web");
	assert_non_null(r);
	assert_non_null(r->next);
	m = sync_ok("default/web", 1, &b);
	assert_null(lb_find(&LB, a.w.key));
	assert_int_equal(k_count(F.st, LBM_FRONTEND), 1);
	assert_int_equal(k_count(F.st, LBM_BACKEND), 1);
	assert_null(lb_owner_recs(&LB, "default/web")->next);
	unmark(&m);
}

/* ---- capacity and conflicts: nothing is written ---- */
static void expect_refused(const char *owner, struct wb **bs, int n, const char *needle,
			   const char *file, int line)
{
	char err[256] = "";
	struct mark m = mark();
	int rc = sync_at(owner, bs, n, err, sizeof(err));

	if (rc != -1) {
		print_error("lb_sync(%s) returned %d, expected -1\n", owner, rc);
		_fail(file, line);
	}
	if (!strstr(err, needle)) {
		print_error("error \"%s\" lacks \"%s\"\n", err, needle);
		_fail(file, line);
	}
	if (F.n != m.at) {
		char op[256];
		dump_op(&F.log[m.at], m.at, op, sizeof(op));
		print_error("%zu map operations on a refused sync, first: %s\n", F.n - m.at, op);
		_fail(file, line);
	}
	if (memcmp(m.st, F.st, sizeof(*F.st))) {
		print_error("maps changed on a refused sync\n");
		_fail(file, line);
	}
	unmark(&m);
}
#define refused(owner, needle, n, ...)                                                             \
	expect_refused((owner), (struct wb *[]){__VA_ARGS__}, (n), (needle), __FILE__, __LINE__)

static void reinit(uint32_t max_svc, uint32_t max_be, uint32_t max_fe)
{
	lb_fini(&LB);
	memset(F.st, 0, sizeof(*F.st));
	F.n = 0;
	assert_int_equal(lb_init(&LB, &OPS, max_svc, max_be, max_fe), 0);
}

static void test_capacity_backends(void **state)
{
	(void)state;
	struct wb a, b, c;
	struct mark m;

	reinit(16, 4, 16); /* backend ids 1..3 */
	mkwant(&a, "default/a/80/TCP/v4", "10.96.0.1", 80, 0, "10.0.0.1:80 10.0.0.2:80");
	m = sync_ok("default/a", 1, &a);
	unmark(&m);
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 0, "10.0.1.1:80 10.0.1.2:80");
	refused("default/b", "full", 1, &b);
	assert_null(lb_find(&LB, b.w.key));
	check_layout(&a.w);
	/* growing a past the limit (make-before-break needs the room) */
	mkwant(&c, "default/a/80/TCP/v4", "10.96.0.1", 80, 0,
	       "10.0.0.1:80 10.0.0.2:80 10.0.0.3:80 10.0.0.4:80");
	refused("default/a", "full", 1, &c);
	check_layout(&a.w);
	/* a replacement of both needs 2 new ids while the old are in use */
	mkwant(&c, "default/a/80/TCP/v4", "10.96.0.1", 80, 0, "10.0.0.8:80 10.0.0.9:80");
	refused("default/a", "pt_backend is full", 1, &c);
	check_layout(&a.w);
	/* what fits goes */
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 0, "10.0.1.1:80");
	m = sync_ok("default/b", 1, &b);
	unmark(&m);
	check_layout(&a.w);
}

static void test_capacity_services_and_frontends(void **state)
{
	(void)state;
	struct wb a, b, c;
	struct mark m;

	reinit(2, 16, 16); /* one svc id */
	mkwant(&a, "default/a/80/TCP/v4", "10.96.0.1", 80, 0, "10.0.0.1:80");
	m = sync_ok("default/a", 1, &a);
	unmark(&m);
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 0, "10.0.1.1:80");
	refused("default/b", "full", 1, &b);
	/* two ports of one service need two ids: nothing of either is written */
	mkwant(&c, "default/a/443/TCP/v4", "10.96.0.1", 443, 0, "10.0.0.1:443");
	refused("default/a", "pt_svc is full", 2, &a, &c);
	check_layout(&a.w);

	reinit(16, 16, 3);
	mkwant(&a, "default/a/80/TCP/v4", "10.96.0.1", 80, 30080, "10.0.0.1:80");
	m = sync_ok("default/a", 1, &a);
	unmark(&m);
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 30081, "10.0.1.1:80");
	refused("default/b", "pt_frontend is full", 1, &b);
	check_layout(&a.w);
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 0, "10.0.1.1:80");
	m = sync_ok("default/b", 1, &b);
	unmark(&m);
}

static void test_frontend_conflict(void **state)
{
	(void)state;
	struct wb a, b;
	struct mark m;
	char err[256];

	mkwant(&a, "default/a/80/TCP/v4", "10.96.0.1", 80, 30080, "10.0.0.1:80");
	m = sync_ok("default/a", 1, &a);
	unmark(&m);
	/* the same NodePort for another service */
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 30080, "10.0.1.1:80");
	refused("default/b", "already used by service default/a", 1, &b);
	/* the same ClusterIP:port */
	mkwant(&b, "prod/b/80/TCP/v4", "10.96.0.1", 80, 0, "10.0.1.1:80");
	refused("prod/b", "default/a", 1, &b);
	check_layout(&a.w);
	/* another protocol on the same address:port is another frontend */
	mkwant(&b, "prod/b/80/UDP/v4", NULL, 0, 0, "10.0.1.1:80");
	add_fe(&b, "10.96.0.1", 80, IPPROTO_UDP, PT_FE_CLUSTER_IP);
	m = sync_ok("prod/b", 1, &b);
	unmark(&m);
	/* once a is gone, its NodePort is free */
	assert_int_equal(lb_sync(&LB, "default/a", NULL, 0, err, sizeof(err)), 0);
	mkwant(&b, "default/b/80/TCP/v4", "10.96.0.2", 80, 30080, "10.0.1.1:80");
	m = sync_ok("default/b", 1, &b);
	unmark(&m);
}

/* The nodePort stays while the service port changes (kubectl apply of
 * `port: 80` -> `port: 8080` with `nodePort: 30080` kept in the file): the
 * NodePort frontend moves to the new service port and must stay programmed. */
static void test_node_port_moves_to_new_port(void **state)
{
	(void)state;
	struct wb a, b;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080, "10.0.0.1:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	mkwant(&b, "default/web/8080/TCP/v4", "10.96.0.10", 8080, 30080, "10.0.0.1:8080");
	m = sync_ok("default/web", 1, &b); /* checks the frontend 30080 -> b */
	assert_int_equal(LB.n_fe, 2);
	unmark(&m);
}

/* Two ports swap their nodePorts. */
static void test_node_port_swap(void **state)
{
	(void)state;
	struct wb a, b;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080, "10.0.0.1:8080");
	mkwant(&b, "default/web/443/TCP/v4", "10.96.0.10", 443, 30443, "10.0.0.1:8443");
	m = sync_ok("default/web", 2, &a, &b);
	unmark(&m);
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30443, "10.0.0.1:8080");
	mkwant(&b, "default/web/443/TCP/v4", "10.96.0.10", 443, 30080, "10.0.0.1:8443");
	m = sync_ok("default/web", 2, &a, &b);
	assert_int_equal(LB.n_fe, 4);
	assert_int_equal(k_count(F.st, LBM_FRONTEND), 4);
	unmark(&m);
}

/* ---- a failed map write leaves the old service consistent ---- */
static void test_update_failure_keeps_old(void **state)
{
	(void)state;
	struct wb a, b;
	struct mark m;
	char err[256] = "";

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0,
	       "10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	/* a new backend sorting first rewrites slots 1..3 and adds slot 4;
	 * the write of slot 3 fails */
	mkwant(&b, "default/web/80/TCP/v4", "10.96.0.10", 80, 0,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080");
	F.fail_map = LBM_SLOT;
	F.fail_nth = 3;
	F.seen = 0;
	m = mark();
	assert_int_equal(sync_at("default/web", (struct wb *[]){&b}, 1, err, sizeof(err)), -1);
	F.fail_map = -1;
	assert_non_null(strstr(err, "default/web/80/TCP/v4"));
	/* every step of the failed sync, and its end, is consistent */
	replay_check(&m);
	unmark(&m);
	/* the old service is what the maps serve */
	check_layout(&a.w);
	/* and a retry programs the new one */
	m = sync_ok("default/web", 1, &b);
	unmark(&m);
}

/* ---- adoption of a previous daemon's maps ---- */
static void restart(void)
{
	lb_fini(&LB); /* the maps stay, as pinned maps do */
	assert_int_equal(lb_init(&LB, &OPS, 64, 256, 64), 0);
	assert_int_equal(lb_adopt(&LB), 0);
}

static void test_adopt_and_gc(void **state)
{
	(void)state;
	struct wb a, b, c;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 30080,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080");
	mkwant(&b, "default/web/443/TCP/v4", "10.96.0.10", 443, 0, "10.0.0.1:8443");
	mkwant(&c, "default/gone/80/TCP/v4", "10.96.0.99", 80, 30099, "10.0.9.1:80 10.0.9.2:80");
	m = sync_ok("default/web", 2, &a, &b);
	unmark(&m);
	m = sync_ok("default/gone", 1, &c);
	unmark(&m);
	uint32_t sa = svc_of(&a), sb = svc_of(&b), sc = svc_of(&c);
	uint32_t ids[3] = {be_id_of(&a, "10.0.0.1", 8080), be_id_of(&a, "10.0.0.2", 8080),
			   be_id_of(&a, "10.0.0.3", 8080)};

	restart();
	/* the new daemon re-applies web only */
	m = sync_ok("default/web", 2, &a, &b);
	assert_int_equal(svc_of(&a), sa);
	assert_int_equal(svc_of(&b), sb);
	assert_int_equal(be_id_of(&a, "10.0.0.1", 8080), ids[0]);
	assert_int_equal(be_id_of(&a, "10.0.0.2", 8080), ids[1]);
	assert_int_equal(be_id_of(&a, "10.0.0.3", 8080), ids[2]);
	/* nothing of web was removed on the way */
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_DEL), 0);
	assert_int_equal(count_ops(&m, LBM_FRONTEND, OP_DEL), 0);
	assert_int_equal(count_ops(&m, LBM_SVC_STATS, OP_UPD), 0);
	/* the orphan is still served until collected */
	assert_non_null(k_get(F.st, LBM_FRONTEND, &c.fe[0].key));
	unmark(&m);

	/* a new service does not get an id in use by the orphan */
	struct wb d;
	mkwant(&d, "default/new/80/TCP/v4", "10.96.0.50", 80, 0, "10.0.5.1:80");
	m = sync_ok("default/new", 1, &d);
	assert_int_not_equal(svc_of(&d), sc);
	assert_int_not_equal(be_id_of(&d, "10.0.5.1", 80), ids[0]);
	unmark(&m);

	m = mark();
	lb_gc_orphans(&LB);
	replay_check(&m);
	long last_fe_del = find_op(&m, LBM_FRONTEND, OP_DEL, sc, true);
	long first_slot_del = find_op(&m, LBM_SLOT, OP_DEL, sc, false);
	long first_be_del = find_op(&m, LBM_BACKEND, OP_DEL, sc, false);
	assert_int_equal(count_ops(&m, LBM_FRONTEND, OP_DEL), 2);
	assert_int_equal(count_ops(&m, LBM_SLOT, OP_DEL), 2);
	assert_int_equal(count_ops(&m, LBM_BACKEND, OP_DEL), 2);
	assert_true(last_fe_del < first_slot_del && last_fe_del < first_be_del);
	assert_null(k_get(F.st, LBM_FRONTEND, &c.fe[0].key));
	assert_null(k_get(F.st, LBM_FRONTEND, &c.fe[1].key));
	const struct pt_svc *sv = k_get(F.st, LBM_SVC, &sc);
	assert_true(!sv || !(sv->flags & PT_SVC_USED));
	/* what is wanted is intact */
	check_layout(&a.w);
	check_layout(&b.w);
	check_layout(&d.w);
	assert_int_equal(k_count(F.st, LBM_FRONTEND), 4);
	assert_int_equal(k_count(F.st, LBM_BACKEND), 5);
	assert_int_equal(k_count(F.st, LBM_SLOT), 5);
	assert_int_equal(LB.n_fe, 4);
	unmark(&m);
	/* a second collection has nothing to do */
	m = mark();
	lb_gc_orphans(&LB);
	assert_int_equal(F.n, m.at);
	unmark(&m);
}

/* adopted, then changed: the slot layout is unknown, stale slots and
 * backends of the old layout go */
static void test_adopt_then_shrink(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0,
	       "10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080 10.0.0.4:8080");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	uint32_t sa = svc_of(&a), id3 = be_id_of(&a, "10.0.0.3", 8080);
	restart();
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.3:8080 10.0.0.5:8080");
	m = sync_ok("default/web", 1, &a);
	assert_int_equal(svc_of(&a), sa);
	assert_int_equal(be_id_of(&a, "10.0.0.3", 8080), id3);
	long svc_w = find_op(&m, LBM_SVC, OP_UPD, sa, false);
	assert_true(svc_w < find_op(&m, LBM_SLOT, OP_DEL, sa, false));
	assert_true(svc_w < find_op(&m, LBM_BACKEND, OP_DEL, sa, false));
	unmark(&m);
	lb_gc_orphans(&LB);
	check_layout(&a.w);
	assert_int_equal(k_count(F.st, LBM_BACKEND), 2);
}

/* A backend that was terminating when the previous daemon stopped and is
 * ready now must lose its terminating flag. */
static void test_adopt_terminating_flag(void **state)
{
	(void)state;
	struct wb a;
	struct mark m;

	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.1:8080* 10.0.0.2:8080*");
	m = sync_ok("default/web", 1, &a);
	unmark(&m);
	restart();
	mkwant(&a, "default/web/80/TCP/v4", "10.96.0.10", 80, 0, "10.0.0.1:8080 10.0.0.2:8080");
	m = sync_ok("default/web", 1, &a); /* check_layout compares the flags */
	unmark(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_layout_and_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grow_keeps_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shrink_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shrink_to_zero_and_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_all_and_terminating, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resync_is_minimal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_affinity_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_affinity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_service, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_one_port_of_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capacity_backends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capacity_services_and_frontends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frontend_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_port_moves_to_new_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_port_swap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_failure_keeps_old, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_and_gc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_then_shrink, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_terminating_flag, setup, teardown),
	};

	return cmocka_run_group_tests_name("lb", tests, NULL, NULL);
}
