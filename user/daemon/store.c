// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "log.h"
#include "store.h"

#define JOURNAL "objects.journal"
/* a snapshot is written when the journal is this much larger than one */
#define JOURNAL_SLACK (4u << 20)
/* after this many changes in a turn, give the freed heap back */
#define TRIM_AFTER 1000

/* 20k of these at 10k services: kept small (names inline, no pointers
 * into them). */
struct srec {
	uint8_t kind;
	bool has_svc;	    /* names holds a slice's service after its name */
	uint32_t zlen, len; /* deflated and text sizes; zlen 0: z is the text */
	const char *source; /* interned */
	union {
		unsigned char *z; /* compact text, deflated (Services, EndpointSlices) */
		json_t *tree;	  /* Pods */
	};
	void *pack;   /* struct svc_pack / struct slice_pack */
	char names[]; /* "ns\0name\0[svc\0]" */
};

/* Pods are kept as trees: the runtime holds and updates them. */
static bool is_tree(const struct srec *r)
{
	return r->kind == K_POD;
}

static const char *rec_ns(const struct srec *r)
{
	return r->names;
}

static const char *rec_name(const struct srec *r)
{
	return r->names + strlen(r->names) + 1;
}

static const char *rec_svc(const struct srec *r)
{
	const char *n = rec_name(r);

	return r->has_svc ? n + strlen(n) + 1 : NULL;
}

/* A service's EndpointSlices (one allocation: 10k of them). */
struct slice_set {
	int n, cap;
	struct srec *recs[];
};

static int journal_open(struct store *s);
static void journal_close(struct store *s);

static int obj_key(enum k8s_kind k, const char *ns, const char *name, char *buf, size_t len)
{
	return snprintf(buf, len, "%s/%s/%s", k8s_kind_name(k), ns, name);
}

static struct srec *find(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	char key[600];

	obj_key(k, ns, name, key, sizeof(key));
	return hmap_gets(&s->objs, key);
}

/* Sources are few ("cli", one per manifest file): one copy each, with its
 * JSON-quoted form after it for the journal. */
static const char *intern(struct store *s, const char *src)
{
	char *v = hmap_gets(&s->sources, src), *q;
	json_t *j;
	size_t n;

	if (v)
		return v;
	j = json_string(src) ?: json_string("?");
	q = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	n = strlen(src);
	v = malloc(n + strlen(q) + 2);
	memcpy(v, src, n + 1);
	strcpy(v + n + 1, q);
	free(q);
	hmap_puts(&s->sources, src, v);
	return v;
}

static const char *quoted(const char *interned)
{
	return interned + strlen(interned) + 1;
}

int store_init(struct store *s, const char *state_dir)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", state_dir);
	s->scratch = json_array();
	if (mkdir(state_dir, 0700) && errno != EEXIST) {
		log_err("state dir %s: %s", state_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void rec_free(struct srec *r)
{
	if (!r)
		return;
	if (is_tree(r))
		json_decref(r->tree);
	else
		free(r->z);
	free(r->pack);
	free(r);
}

/* ---- the slice index ---- */
static void index_slice(struct store *s, struct srec *r, bool add)
{
	char key[300];
	struct slice_set *set;

	if (!rec_svc(r))
		return;
	snprintf(key, sizeof(key), "%s/%s", rec_ns(r), rec_svc(r));
	set = hmap_gets(&s->slices, key);
	if (add) {
		if (!set || set->n == set->cap) {
			int cap = set ? set->cap * 2 : 1;
			set = realloc(set, sizeof(*set) + (size_t)cap * sizeof(set->recs[0]));
			if (cap == 1)
				set->n = 0;
			set->cap = cap;
			hmap_puts(&s->slices, key, set);
		}
		set->recs[set->n++] = r;
		return;
	}
	for (int i = 0; set && i < set->n; i++) {
		if (set->recs[i] != r)
			continue;
		set->recs[i] = set->recs[--set->n];
		break;
	}
	if (set && !set->n) {
		hmap_dels(&s->slices, key);
		free(set);
	}
}

void store_fini(struct store *s)
{
	struct hmap_ent *e, *tmp;

	store_flush(s);
	hmap_foreach (&s->objs, e, tmp)
		rec_free(e->val);
	hmap_foreach (&s->slices, e, tmp)
		free(e->val);
	free(s->packs);
	hmap_foreach (&s->sources, e, tmp)
		free(e->val);
	hmap_free(&s->objs);
	hmap_free(&s->slices);
	hmap_free(&s->sources);
	hmap_free(&s->dirty);
	json_decref(s->scratch);
	journal_close(s);
}

/* ---- compact text ----
 * Stored text is deflated with a preset dictionary of what Services and
 * EndpointSlices repeat (keys, apiVersions, defaults): a bench List's
 * objects shrink ~7x (~2.6x without the dictionary), at ~2 us each. */
static const char zdict[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"\",\"namespace\":"
    "\"default\",\"labels\":{\"app\":\"\"},\"annotations\":{},\"uid\":\"\",\"creationTimestamp\":"
    "\"2026-01-01T00:00:00Z\"},\"spec\":{\"selector\":{\"app\":\"\"},\"clusterIP\":\"10.96.0.1\","
    "\"type\":\"NodePort\",\"externalIPs\":[],\"sessionAffinityConfig\":{\"clientIP\":{"
    "\"timeoutSeconds\":10800}},\"ports\":[{\"name\":\"https\",\"port\":443,\"targetPort\":8443,"
    "\"protocol\":\"UDP\",\"nodePort\":30000}],\"type\":\"ClusterIP\",\"sessionAffinity\":"
    "\"None\",\"clusterIPs\":[\"10.96.0.1\"],\"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":"
    "\"SingleStack\"},\"status\":{\"loadBalancer\":{}}}"
    "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
    "\"\",\"namespace\":\"default\",\"labels\":{\"endpointslice.kubernetes.io/managed-by\":"
    "\"endpointslice-controller.k8s.io\",\"kubernetes.io/service-name\":\"\"},\"uid\":\"\","
    "\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},\"addressType\":\"IPv4\",\"ports\":[{"
    "\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":[{\"addresses\":["
    "\"10.244.0.1\"],\"conditions\":{\"ready\":false,\"serving\":true,\"terminating\":false},"
    "\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"default\",\"name\":\"\",\"uid\":\"\"}},"
    "{\"addresses\":[\"10.244.0.2\"],\"conditions\":{\"ready\":true}},{\"addresses\":["
    "\"10.244.0.3\"],\"conditions\":{\"ready\":true}}]}";

#define ZWBITS 12 /* raw deflate, a 4 KB window: objects are small */
/* deflateReset clears a hash table of 2^(memLevel+7) entries: at the
 * default 8 that is 64 KB per object (most of the cost); at 2, 1 KB, and
 * objects this small compress as well (15.3% vs 14.8%) */
#define ZMEMLEVEL 2

static struct {
	z_stream d, i;
	bool ready;
	unsigned char *buf; /* scratch for both directions */
	size_t cap;
} z;

static unsigned char *zbuf(size_t n)
{
	if (n > z.cap) {
		z.cap = n * 2;
		z.buf = realloc(z.buf, z.cap);
	}
	return z.buf;
}

static bool zinit(void)
{
	if (z.ready)
		return true;
	if (deflateInit2(&z.d, 1, Z_DEFLATED, -ZWBITS, ZMEMLEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	if (inflateInit2(&z.i, -ZWBITS) != Z_OK) {
		deflateEnd(&z.d);
		return false;
	}
	return z.ready = true;
}

/* text -> r->z; kept as is when deflate is unavailable */
static void rec_pack_text(struct srec *r, char *text)
{
	size_t n = strlen(text);
	unsigned char *out;

	r->len = (uint32_t)n;
	if (!zinit() || deflateReset(&z.d) != Z_OK ||
	    deflateSetDictionary(&z.d, (const Bytef *)zdict, sizeof(zdict) - 1) != Z_OK)
		goto raw;
	out = zbuf(deflateBound(&z.d, n));
	z.d.next_in = (Bytef *)text;
	z.d.avail_in = (uInt)n;
	z.d.next_out = out;
	z.d.avail_out = (uInt)z.cap;
	if (deflate(&z.d, Z_FINISH) != Z_STREAM_END || !z.d.total_out)
		goto raw;
	r->zlen = (uint32_t)z.d.total_out;
	r->z = malloc(r->zlen);
	memcpy(r->z, out, r->zlen);
	free(text);
	return;
raw:
	r->z = (unsigned char *)text;
	r->zlen = 0;
}

/* The record's text (r->len bytes), valid until the next call. */
static const char *rec_text(const struct srec *r)
{
	unsigned char *out;

	if (!r->zlen)
		return (const char *)r->z;
	out = zbuf((size_t)r->len + 1);
	if (inflateReset(&z.i) != Z_OK ||
	    inflateSetDictionary(&z.i, (const Bytef *)zdict, sizeof(zdict) - 1) != Z_OK)
		return NULL;
	z.i.next_in = r->z;
	z.i.avail_in = r->zlen;
	z.i.next_out = out;
	z.i.avail_out = r->len;
	if (inflate(&z.i, Z_FINISH) != Z_STREAM_END || z.i.total_out != r->len)
		return NULL;
	return (const char *)out;
}

/* ---- records ---- */
static struct srec *rec_new(struct store *s, json_t *obj, const char *source)
{
	enum k8s_kind k = k8s_kind_of(obj);
	const char *ns = k8s_namespace(obj), *name = k8s_name(obj);
	const char *svc = k == K_ENDPOINTSLICE ? slice_service(obj) : NULL;
	size_t nl = strlen(ns) + 1, ml = strlen(name) + 1, sl = svc ? strlen(svc) + 1 : 0;
	struct srec *r = calloc(1, sizeof(*r) + nl + ml + sl);

	r->kind = k;
	r->source = intern(s, source);
	memcpy(r->names, ns, nl);
	memcpy(r->names + nl, name, ml);
	if (svc)
		memcpy(r->names + nl + ml, svc, sl);
	r->has_svc = svc != NULL;
	if (k == K_POD) {
		r->tree = json_incref(obj);
		return r;
	}
	if (k == K_SERVICE)
		r->pack = svc_pack(obj);
	else if (k == K_ENDPOINTSLICE)
		r->pack = slice_pack(obj);
	return r;
}

static json_t *rec_tree(const struct srec *r)
{
	json_error_t je;
	const char *text;

	if (is_tree(r))
		return json_incref(r->tree);
	text = rec_text(r);
	if (!text) {
		log_err("store: a stored %s %s/%s does not inflate", k8s_kind_name(r->kind),
			rec_ns(r), rec_name(r));
		return NULL;
	}
	return json_loadb(text, r->len, 0, &je);
}

static void mark_dirty(struct store *s, const char *key)
{
	hmap_puts(&s->dirty, key, (void *)1);
	s->changes++;
}

static void put_text_line(FILE *f, const char *key, const char *source, const char *text,
			  size_t len);

int store_put(struct store *s, json_t *obj, const char *source)
{
	enum k8s_kind k = k8s_kind_of(obj);
	struct srec *r = rec_new(s, obj, source), *old;
	char key[600];

	obj_key(k, rec_ns(r), rec_name(r), key, sizeof(key));
	if (!is_tree(r)) {
		char *text = json_dumps(obj, JSON_COMPACT) ?: strdup("{}");
		/* the line goes into the journal's buffer now, while the text is
		 * at hand; written out by store_flush after the loop turn */
		if (!s->loading && !journal_open(s))
			put_text_line(s->jf, key, quoted(r->source), text, strlen(text));
		rec_pack_text(r, text);
		s->changes++;
	} else {
		/* the runtime updates a Pod's tree in place: written at the flush */
		mark_dirty(s, key);
	}
	old = hmap_puts(&s->objs, key, r);
	if (old) {
		index_slice(s, old, false);
		s->live -= old->len;
		rec_free(old);
	} else if (k < 8) {
		s->count[k]++;
	}
	index_slice(s, r, true);
	s->live += r->len;
	return 0;
}

int store_del(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	char key[600];
	struct srec *r;

	obj_key(k, ns, name, key, sizeof(key));
	r = hmap_dels(&s->objs, key);
	if (!r)
		return -1;
	index_slice(s, r, false);
	s->live -= r->len;
	if (k < 8 && s->count[k])
		s->count[k]--;
	rec_free(r);
	hmap_dels(&s->dirty, key);
	if (!s->loading && !journal_open(s))
		fprintf(s->jf, "{\"k\":\"%s\",\"deleted\":true}\n", key);
	s->changes++;
	return 0;
}

json_t *store_get(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	struct srec *r = find(s, k, ns, name);
	json_t *o;

	if (!r)
		return NULL;
	if (is_tree(r))
		return r->tree;
	o = rec_tree(r);
	json_array_append_new(s->scratch, o);
	return o;
}

json_t *store_fetch(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	struct srec *r = find(s, k, ns, name);

	return r ? rec_tree(r) : NULL;
}

const char *store_source(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	struct srec *r = find(s, k, ns, name);

	return r ? r->source : NULL;
}

int store_svc(struct store *s, const char *ns, const char *name, struct service *out)
{
	struct srec *r = find(s, K_SERVICE, ns, name);

	if (!r || !r->pack)
		return -1;
	svc_unpack(r->pack, rec_ns(r), rec_name(r), out);
	return 0;
}

size_t store_count(struct store *s, enum k8s_kind k)
{
	return k < 8 ? s->count[k] : 0;
}

/* ---- lists ---- */
static int by_ns_name(const void *a, const void *b)
{
	const struct srec *x = *(struct srec *const *)a, *y = *(struct srec *const *)b;
	int c = strcmp(rec_ns(x), rec_ns(y));

	return c ? c : strcmp(rec_name(x), rec_name(y));
}

/* The records of a kind in ns (NULL: all), sorted; *n of them. */
static struct srec **collect(struct store *s, enum k8s_kind k, const char *ns, size_t *n)
{
	size_t cap = 64;
	struct srec **v = malloc(cap * sizeof(*v));
	struct hmap_ent *e, *tmp;

	*n = 0;
	hmap_foreach (&s->objs, e, tmp) {
		struct srec *r = e->val;
		if (r->kind != k || (ns && strcmp(ns, rec_ns(r))))
			continue;
		if (*n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[(*n)++] = r;
	}
	qsort(v, *n, sizeof(*v), by_ns_name);
	return v;
}

static bool selects(const struct srec *r)
{
	return r->pack && ((const struct svc_pack *)r->pack)->has_selector;
}

/* The objects of kind k (in ns, or all), sorted, that pass keep (NULL: all). */
static json_t *list_where(struct store *s, enum k8s_kind k, const char *ns,
			  bool (*keep)(const struct srec *))
{
	size_t n;
	struct srec **v = collect(s, k, ns, &n);
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		if (!keep || keep(v[i]))
			json_array_append_new(out, rec_tree(v[i]));
	free(v);
	return out;
}

json_t *store_list(struct store *s, enum k8s_kind k, const char *ns)
{
	return list_where(s, k, ns, NULL);
}

json_t *store_list_selecting(struct store *s, const char *ns)
{
	return list_where(s, K_SERVICE, ns, selects);
}

json_t *store_refs(struct store *s, enum k8s_kind k, const char *prefix)
{
	size_t n;
	struct srec **v = collect(s, k, NULL, &n);
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		if (!prefix || !strncmp(v[i]->source, prefix, strlen(prefix)))
			json_array_append_new(
			    out, json_pack("[s,s,s]", rec_ns(v[i]), rec_name(v[i]), v[i]->source));
	free(v);
	return out;
}

static struct slice_set *slice_set(struct store *s, const char *ns, const char *svc)
{
	char key[300];

	snprintf(key, sizeof(key), "%s/%s", ns, svc);
	return hmap_gets(&s->slices, key);
}

json_t *store_slices(struct store *s, const char *ns, const char *svc)
{
	struct slice_set *set = slice_set(s, ns, svc);
	json_t *out;

	if (!set)
		return NULL;
	out = json_object();
	for (int i = 0; i < set->n; i++)
		json_object_set_new(out, rec_name(set->recs[i]), rec_tree(set->recs[i]));
	return out;
}

const struct slice_pack *const *store_slice_packs(struct store *s, const char *ns, const char *svc,
						  int *n)
{
	struct slice_set *set = slice_set(s, ns, svc);

	*n = set ? set->n : 0;
	if (*n > s->packs_cap) {
		s->packs_cap = *n * 2;
		s->packs = realloc(s->packs, (size_t)s->packs_cap * sizeof(*s->packs));
	}
	for (int i = 0; i < *n; i++)
		s->packs[i] = set->recs[i]->pack;
	return s->packs;
}

/* ---- the journal ---- */
/* One line per change; the key first, so that a reader finds it without
 * decoding the object. */
static void put_text_line(FILE *f, const char *key, const char *qsource, const char *text,
			  size_t len)
{
	fprintf(f, "{\"k\":\"%s\",\"source\":%s,\"object\":", key, qsource);
	fwrite(text, 1, len, f);
	fputs("}\n", f);
}

static void put_line(FILE *f, const char *key, const struct srec *r)
{
	char *text;

	if (!r) {
		fprintf(f, "{\"k\":\"%s\",\"deleted\":true}\n", key);
		return;
	}
	text = is_tree(r) ? json_dumps(r->tree, JSON_COMPACT) : NULL;
	if (text)
		put_text_line(f, key, quoted(r->source), text, strlen(text));
	else if (!is_tree(r) && rec_text(r))
		put_text_line(f, key, quoted(r->source), rec_text(r), r->len);
	free(text);
}

static void journal_path(struct store *s, char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s/" JOURNAL "%s", s->dir, suffix);
}

/* Appends go through a stdio buffer, written out at each store_flush (and
 * when full): a big apply's journal never sits in memory whole. */
static int journal_open(struct store *s)
{
	char path[600];
	struct stat st;

	if (s->jf)
		return 0;
	journal_path(s, path, sizeof(path), "");
	s->jf = fopen(path, "ae");
	if (!s->jf) {
		log_err("journal %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(s->jf, NULL, _IOFBF, 256 << 10);
	s->jbytes = fstat(fileno(s->jf), &st) ? 0 : (size_t)st.st_size;
	return 0;
}

static void journal_close(struct store *s)
{
	if (s->jf && fclose(s->jf))
		log_err("journal: %s", strerror(errno));
	s->jf = NULL;
}

/* Every live object, to a new file that replaces the journal. */
static int snapshot(struct store *s)
{
	char path[600], tmp[620], key[600];
	struct hmap_ent *e, *t;
	FILE *f;
	int bad;

	journal_path(s, path, sizeof(path), "");
	journal_path(s, tmp, sizeof(tmp), ".tmp");
	f = fopen(tmp, "we");
	if (!f)
		goto fail;
	hmap_foreach (&s->objs, e, t) {
		struct srec *r = e->val;
		obj_key(r->kind, rec_ns(r), rec_name(r), key, sizeof(key));
		put_line(f, key, r);
	}
	bad = fflush(f) || fsync(fileno(f));
	if (fclose(f) || bad)
		goto fail;
	journal_close(s); /* its buffer holds nothing the snapshot lacks */
	if (rename(tmp, path))
		goto fail;
	return journal_open(s);
fail:
	log_err("snapshot %s: %s", path, strerror(errno));
	unlink(tmp);
	return -1;
}

static void trim_if_big(struct store *s)
{
	/* glibc keeps freed heap: after a large apply, give it back */
	if (s->changes >= TRIM_AFTER)
		malloc_trim(0);
	s->changes = 0;
}

void store_flush(struct store *s)
{
	struct hmap_ent *e, *tmp;
	struct stat st;

	json_array_clear(s->scratch);
	if (!s->changes && !s->dirty.n)
		return;
	if (!journal_open(s)) {
		hmap_foreach (&s->dirty, e, tmp) {
			char key[600];
			memcpy(key, e->key, e->klen);
			key[e->klen] = 0;
			put_line(s->jf, key, hmap_gets(&s->objs, key));
		}
		if (fflush(s->jf))
			log_err("journal: %s", strerror(errno));
		if (!fstat(fileno(s->jf), &st))
			s->jbytes = (size_t)st.st_size;
	}
	/* a fresh set: clearing walks every bucket the set ever grew to */
	store_forget_dirty(s);
	if (s->jbytes > 2 * s->live + JOURNAL_SLACK)
		snapshot(s);
	trim_if_big(s);
}

void store_forget_dirty(struct store *s)
{
	hmap_free(&s->dirty);
	memset(&s->dirty, 0, sizeof(s->dirty));
}

/* ---- loading ---- */
/* "{\"k\":\"KEY\"" -> KEY in buf */
static int line_key(const char *line, char *buf, size_t len)
{
	const char *p, *q;

	if (strncmp(line, "{\"k\":\"", 6))
		return -1;
	p = line + 6;
	q = strchr(p, '"');
	if (!q || (size_t)(q - p) >= len)
		return -1;
	memcpy(buf, p, (size_t)(q - p));
	buf[q - p] = 0;
	return 0;
}

static void load_record(struct store *s, json_t *rec, const char *what)
{
	json_t *obj = json_object_get(rec, "object");

	if (!json_is_object(obj) || k8s_kind_of(obj) == K_UNKNOWN) {
		log_warn("state: skipping unreadable %s", what);
		return;
	}
	store_put(s, obj, json_string_value(json_object_get(rec, "source")) ?: "cli");
}

static int load_journal(struct store *s)
{
	char path[600], key[600];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	journal_path(s, path, sizeof(path), "");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t je;
		json_t *rec;
		char *sep;

		if (line_key(line, key, sizeof(key))) {
			log_warn("state: skipping a bad journal line");
			continue;
		}
		if (n >= 16 && !memcmp(line + n - 16, "\"deleted\":true}\n", 16)) {
			if ((sep = strchr(key, '/')) && strchr(sep + 1, '/')) {
				char *nm = strchr(sep + 1, '/');
				*sep = *nm = 0;
				store_del(s, k8s_kind_from_arg(key), sep + 1, nm + 1);
			}
			continue;
		}
		/* a torn last line (a crash mid-write) fails here */
		rec = json_loadb(line, (size_t)n, 0, &je);
		load_record(s, rec, key);
		json_decref(rec);
	}
	free(line);
	fclose(f);
	return 0;
}

/* The layout before the journal: one file per object. Read, then removed
 * once a snapshot holds them. */
static int load_legacy(struct store *s, bool *found)
{
	char path[600];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/objects", s->dir);
	d = opendir(path);
	if (!d)
		return 0;
	*found = true;
	while ((de = readdir(d))) {
		char file[1200];
		size_t n = strlen(de->d_name);
		json_error_t je;
		json_t *rec;

		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		rec = json_load_file(file, 0, &je);
		load_record(s, rec, file);
		json_decref(rec);
	}
	closedir(d);
	return 0;
}

static void remove_legacy(struct store *s)
{
	char path[600];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/objects", s->dir);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(path);
}

int store_load(struct store *s)
{
	bool legacy = false;
	struct stat st;
	char path[600];

	s->loading = true; /* replayed, not written again */
	load_legacy(s, &legacy);
	if (load_journal(s)) {
		s->loading = false;
		return -1;
	}
	s->loading = false;
	store_forget_dirty(s);
	journal_path(s, path, sizeof(path), "");
	s->jbytes = stat(path, &st) ? 0 : (size_t)st.st_size;
	/* compact at start: the journal's garbage is read once per start */
	if ((legacy || s->jbytes > 2 * s->live + JOURNAL_SLACK) && !snapshot(s) && legacy)
		remove_legacy(s);
	trim_if_big(s);
	return journal_open(s);
}
