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

struct srec {
	enum k8s_kind kind;
	const char *source;	     /* interned */
	unsigned char *z;	     /* compact text, deflated (Services, EndpointSlices) */
	uint32_t zlen, len;	     /* deflated and text sizes; zlen 0: z is the text */
	json_t *tree;		     /* Pods */
	void *pack;		     /* struct svc_pack / struct slice_pack */
	const char *ns, *name, *svc; /* into names; svc: a slice's service */
	char names[];
};

/* A service's EndpointSlices: records and their packs, side by side so
 * that the LB gets an array of packs without building one. */
struct slice_set {
	int n, cap;
	struct srec **recs;
	const struct slice_pack **packs;
};

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
	s->jfd = -1;
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
	free(r->z);
	json_decref(r->tree);
	free(r->pack);
	free(r);
}

/* ---- the slice index ---- */
static void index_slice(struct store *s, struct srec *r, bool add)
{
	char key[300];
	struct slice_set *set;

	if (!r->svc)
		return;
	snprintf(key, sizeof(key), "%s/%s", r->ns, r->svc);
	set = hmap_gets(&s->slices, key);
	if (add) {
		if (!set)
			hmap_puts(&s->slices, key, set = calloc(1, sizeof(*set)));
		if (set->n == set->cap) {
			set->cap = set->cap ? set->cap * 2 : 2;
			set->recs = realloc(set->recs, (size_t)set->cap * sizeof(*set->recs));
			set->packs = realloc(set->packs, (size_t)set->cap * sizeof(*set->packs));
		}
		set->recs[set->n] = r;
		set->packs[set->n++] = r->pack;
		return;
	}
	for (int i = 0; set && i < set->n; i++) {
		if (set->recs[i] != r)
			continue;
		set->recs[i] = set->recs[--set->n];
		set->packs[i] = set->packs[set->n];
		break;
	}
	if (set && !set->n) {
		hmap_dels(&s->slices, key);
		free(set->recs);
		free(set->packs);
		free(set);
	}
}

void store_fini(struct store *s)
{
	struct hmap_ent *e, *tmp;

	store_flush(s);
	hmap_foreach (&s->objs, e, tmp)
		rec_free(e->val);
	hmap_foreach (&s->slices, e, tmp) {
		struct slice_set *set = e->val;
		free(set->recs);
		free(set->packs);
		free(set);
	}
	hmap_foreach (&s->sources, e, tmp)
		free(e->val);
	hmap_free(&s->objs);
	hmap_free(&s->slices);
	hmap_free(&s->sources);
	hmap_free(&s->dirty);
	json_decref(s->scratch);
	if (s->jfd >= 0)
		close(s->jfd);
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
	if (deflateInit2(&z.d, 1, Z_DEFLATED, -ZWBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
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
	r->ns = memcpy(r->names, ns, nl);
	r->name = memcpy(r->names + nl, name, ml);
	if (svc)
		r->svc = memcpy(r->names + nl + ml, svc, sl);
	if (k == K_POD) {
		r->tree = json_incref(obj);
		return r;
	}
	rec_pack_text(r, json_dumps(obj, JSON_COMPACT) ?: strdup("{}"));
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

	if (r->tree)
		return json_incref(r->tree);
	text = rec_text(r);
	if (!text) {
		log_err("store: a stored %s %s/%s does not inflate", k8s_kind_name(r->kind), r->ns,
			r->name);
		return NULL;
	}
	return json_loadb(text, r->len, 0, &je);
}

static void mark_dirty(struct store *s, const char *key)
{
	hmap_puts(&s->dirty, key, (void *)1);
	s->changes++;
}

int store_put(struct store *s, json_t *obj, const char *source)
{
	enum k8s_kind k = k8s_kind_of(obj);
	struct srec *r = rec_new(s, obj, source), *old;
	char key[600];

	obj_key(k, r->ns, r->name, key, sizeof(key));
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
	/* written behind (store_flush): the maps first, the disk after */
	mark_dirty(s, key);
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
	mark_dirty(s, key);
	return 0;
}

json_t *store_get(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	struct srec *r = find(s, k, ns, name);
	json_t *o;

	if (!r)
		return NULL;
	if (r->tree)
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
	svc_unpack(r->pack, r->ns, r->name, out);
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
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
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
		if (r->kind != k || (ns && strcmp(ns, r->ns)))
			continue;
		if (*n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[(*n)++] = r;
	}
	qsort(v, *n, sizeof(*v), by_ns_name);
	return v;
}

json_t *store_list(struct store *s, enum k8s_kind k, const char *ns)
{
	size_t n;
	struct srec **v = collect(s, k, ns, &n);
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, rec_tree(v[i]));
	free(v);
	return out;
}

json_t *store_list_selecting(struct store *s, const char *ns)
{
	size_t n;
	struct srec **v = collect(s, K_SERVICE, ns, &n);
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		if (v[i]->pack && ((struct svc_pack *)v[i]->pack)->has_selector)
			json_array_append_new(out, rec_tree(v[i]));
	free(v);
	return out;
}

json_t *store_refs(struct store *s, enum k8s_kind k, const char *prefix)
{
	size_t n;
	struct srec **v = collect(s, k, NULL, &n);
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		if (!prefix || !strncmp(v[i]->source, prefix, strlen(prefix)))
			json_array_append_new(
			    out, json_pack("[s,s,s]", v[i]->ns, v[i]->name, v[i]->source));
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
		json_object_set_new(out, set->recs[i]->name, rec_tree(set->recs[i]));
	return out;
}

const struct slice_pack *const *store_slice_packs(struct store *s, const char *ns, const char *svc,
						  int *n)
{
	struct slice_set *set = slice_set(s, ns, svc);

	*n = set ? set->n : 0;
	return set ? set->packs : NULL;
}

/* ---- the journal ---- */
/* One line per change; the key first, so that a reader finds it without
 * decoding the object. */
static void put_line(FILE *f, const char *key, const struct srec *r)
{
	if (!r) {
		fprintf(f, "{\"k\":\"%s\",\"deleted\":true}\n", key);
		return;
	}
	fprintf(f, "{\"k\":\"%s\",\"source\":%s,\"object\":", key, quoted(r->source));
	const char *text = r->tree ? NULL : rec_text(r);

	if (r->tree)
		json_dumpf(r->tree, f, JSON_COMPACT);
	else
		fwrite(text ?: "{}", 1, text ? r->len : 2, f);
	fputs("}\n", f);
}

static void journal_path(struct store *s, char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s/" JOURNAL "%s", s->dir, suffix);
}

static int journal_open(struct store *s)
{
	char path[600];
	struct stat st;

	if (s->jfd >= 0)
		return 0;
	journal_path(s, path, sizeof(path), "");
	s->jfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (s->jfd < 0) {
		log_err("journal %s: %s", path, strerror(errno));
		return -1;
	}
	s->jbytes = fstat(s->jfd, &st) ? 0 : (size_t)st.st_size;
	return 0;
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
		obj_key(r->kind, r->ns, r->name, key, sizeof(key));
		put_line(f, key, r);
	}
	bad = fflush(f) || fsync(fileno(f));
	if (fclose(f) || bad || rename(tmp, path))
		goto fail;
	if (s->jfd >= 0)
		close(s->jfd);
	s->jfd = -1;
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

/* The turn's changes, appended through a stdio buffer: a big apply's
 * journal never sits in memory whole. */
static void append_dirty(struct store *s)
{
	struct hmap_ent *e, *tmp;
	int fd = journal_open(s) ? -1 : dup(s->jfd);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
	long end;

	if (!f) {
		log_err("journal: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	setvbuf(f, NULL, _IOFBF, 256 << 10);
	hmap_foreach (&s->dirty, e, tmp) {
		char key[600];
		memcpy(key, e->key, e->klen);
		key[e->klen] = 0;
		put_line(f, key, hmap_gets(&s->objs, key));
	}
	if (fflush(f))
		log_err("journal: %s", strerror(errno));
	end = ftell(f);
	if (end > 0)
		s->jbytes = (size_t)end;
	fclose(f);
}

void store_flush(struct store *s)
{
	json_array_clear(s->scratch);
	if (s->dirty.n) {
		append_dirty(s);
		/* a fresh set: clearing walks every bucket the set ever grew to */
		store_forget_dirty(s);
		if (s->jbytes > 2 * s->live + JOURNAL_SLACK)
			snapshot(s);
	}
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

	load_legacy(s, &legacy);
	if (load_journal(s))
		return -1;
	store_forget_dirty(s);
	journal_path(s, path, sizeof(path), "");
	s->jbytes = stat(path, &st) ? 0 : (size_t)st.st_size;
	/* compact at start: the journal's garbage is read once per start */
	if ((legacy || s->jbytes > 2 * s->live + JOURNAL_SLACK) && !snapshot(s) && legacy)
		remove_legacy(s);
	trim_if_big(s);
	return journal_open(s);
}
