// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "store.h"

static void obj_key(enum k8s_kind k, const char *ns, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s", k8s_kind_name(k), ns, name);
}

/* Names and namespaces are DNS-1123: no '_', so the file name is
 * unambiguous. */
static void obj_file(struct store *s, enum k8s_kind k, const char *ns, const char *name, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/objects/%s_%s_%s.json", s->dir, k8s_kind_name(k), ns, name);
}

int store_init(struct store *s, const char *state_dir)
{
	char path[600];

	snprintf(s->dir, sizeof(s->dir), "%s", state_dir);
	s->objs = json_object();
	s->slices = json_object();
	s->dirty = json_object();
	snprintf(path, sizeof(path), "%s", state_dir);
	if (mkdir(path, 0700) && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/objects", state_dir);
	if (mkdir(path, 0700) && errno != EEXIST)
		goto fail;
	return 0;
fail:
	log_err("state dir %s: %s", path, strerror(errno));
	return -1;
}

void store_fini(struct store *s)
{
	store_flush(s);
	json_decref(s->objs);
	json_decref(s->slices);
	json_decref(s->dirty);
}

static void index_slice(struct store *s, json_t *obj, bool add)
{
	const char *svc = slice_service(obj);
	char key[300];
	json_t *set;

	if (!svc)
		return;
	snprintf(key, sizeof(key), "%s/%s", k8s_namespace(obj), svc);
	set = json_object_get(s->slices, key);
	if (add) {
		if (!set) {
			set = json_object();
			json_object_set_new(s->slices, key, set);
		}
		json_object_set(set, k8s_name(obj), obj);
	} else if (set) {
		json_object_del(set, k8s_name(obj));
		if (!json_object_size(set))
			json_object_del(s->slices, key);
	}
}

json_t *store_get(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	char key[600];

	obj_key(k, ns, name, key, sizeof(key));
	return json_object_get(json_object_get(s->objs, key), "object");
}

const char *store_source(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	char key[600];

	obj_key(k, ns, name, key, sizeof(key));
	return json_string_value(json_object_get(json_object_get(s->objs, key), "source"));
}

static void unindex(struct store *s, enum k8s_kind k, json_t *old)
{
	if (old && k == K_ENDPOINTSLICE)
		index_slice(s, old, false);
}

int store_put(struct store *s, json_t *obj, const char *source)
{
	enum k8s_kind k = k8s_kind_of(obj);
	char key[600];
	json_t *rec;

	obj_key(k, k8s_namespace(obj), k8s_name(obj), key, sizeof(key));
	unindex(s, k, store_get(s, k, k8s_namespace(obj), k8s_name(obj)));
	rec = json_pack("{s:O,s:s}", "object", obj, "source", source);
	if (!json_object_get(s->objs, key) && k < 8)
		s->count[k]++;
	json_object_set_new(s->objs, key, rec);
	if (k == K_ENDPOINTSLICE)
		index_slice(s, obj, true);
	/* written behind (store_flush): the maps first, the disk after */
	json_object_set_new(s->dirty, key, json_true());
	return 0;
}

static int persist(struct store *s, json_t *rec)
{
	json_t *obj = json_object_get(rec, "object");
	char path[1200], tmp[1300];

	obj_file(s, k8s_kind_of(obj), k8s_namespace(obj), k8s_name(obj), path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(rec, tmp, JSON_COMPACT) || rename(tmp, path)) {
		log_err("persist %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void store_flush(struct store *s)
{
	const char *key;
	json_t *v;

	json_object_foreach(s->dirty, key, v)
	{
		json_t *rec = json_object_get(s->objs, key);
		if (rec)
			persist(s, rec);
	}
	/* a fresh object: clearing walks every bucket the set ever grew to */
	json_decref(s->dirty);
	s->dirty = json_object();
}

void store_forget_dirty(struct store *s)
{
	json_decref(s->dirty);
	s->dirty = json_object();
}

int store_del(struct store *s, enum k8s_kind k, const char *ns, const char *name)
{
	char key[600], path[1200];
	json_t *old = store_get(s, k, ns, name);

	if (!old)
		return -1;
	unindex(s, k, old);
	obj_key(k, ns, name, key, sizeof(key));
	json_object_del(s->dirty, key);
	json_object_del(s->objs, key);
	if (k < 8 && s->count[k])
		s->count[k]--;
	obj_file(s, k, ns, name, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		log_warn("remove %s: %s", path, strerror(errno));
	return 0;
}

static int by_ns_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(k8s_namespace(x), k8s_namespace(y));

	return c ? c : strcmp(k8s_name(x), k8s_name(y));
}

json_t *store_list(struct store *s, enum k8s_kind k, const char *ns)
{
	size_t n = 0, cap = 64;
	json_t **v = malloc(cap * sizeof(*v)), *rec, *out = json_array();
	const char *key;
	char prefix[300];

	snprintf(prefix, sizeof(prefix), "%s/", k8s_kind_name(k));
	json_object_foreach (s->objs, key, rec) {
		json_t *o = json_object_get(rec, "object");
		if (strncmp(key, prefix, strlen(prefix)) || (ns && strcmp(ns, k8s_namespace(o))))
			continue;
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = o;
	}
	qsort(v, n, sizeof(*v), by_ns_name);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

size_t store_count(struct store *s, enum k8s_kind k)
{
	return k < 8 ? s->count[k] : 0;
}

json_t *store_slices(struct store *s, const char *ns, const char *svc)
{
	char key[300];

	snprintf(key, sizeof(key), "%s/%s", ns, svc);
	return json_object_get(s->slices, key);
}

int store_load(struct store *s, void (*cb)(void *arg, json_t *obj, const char *source), void *arg)
{
	char path[600];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/objects", s->dir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char file[1200];
		size_t n = strlen(de->d_name);
		json_error_t je;
		json_t *rec;

		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		rec = json_load_file(file, 0, &je);
		if (!rec || !json_is_object(json_object_get(rec, "object"))) {
			log_warn("state: skipping unreadable %s: %s", file, je.text);
			json_decref(rec);
			continue;
		}
		cb(arg, json_object_get(rec, "object"),
		   json_string_value(json_object_get(rec, "source")) ?: "cli");
		json_decref(rec);
	}
	closedir(d);
	return 0;
}
