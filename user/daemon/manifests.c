// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --manifests DIR: static manifests, like kubelet's static pod directory.
 * Each file's objects carry the source "manifest:<path>". A changed file is
 * re-applied and the objects it no longer holds are deleted; a removed file
 * deletes its objects. A file that does not parse changes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "daemon.h"
#include "docio.h"
#include "log.h"

static int ino_fd = -1;

int manifests_fd(void)
{
	return ino_fd;
}

static bool is_manifest(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       (n > 5 && !strcmp(name + n - 5, ".json"));
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len + 4096 > cap)
			buf = realloc(buf, cap = cap * 2 + 4096);
		size_t n = fread(buf + *len, 1, cap - *len - 1, f);
		*len += n;
		if (!n)
			break;
	}
	fclose(f);
	buf[*len] = 0;
	return buf;
}

static bool same_object(enum k8s_kind k, json_t *ref, json_t *b)
{
	return !strcmp(k8s_kind_name(k), json_string_value(json_object_get(b, "kind")) ?: "") &&
	       !strcmp(json_string_value(json_array_get(ref, 0)), k8s_namespace(b)) &&
	       !strcmp(json_string_value(json_array_get(ref, 1)), k8s_name(b));
}

/* Delete stored objects that came from source and are not in keep. */
static void prune(struct daemon *d, const char *source, json_t *keep)
{
	const enum k8s_kind kinds[] = {K_SERVICE, K_ENDPOINTSLICE};
	char err[256];

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_t *l = store_refs(&d->store, kinds[k], source), *o, *x;
		size_t i, j;

		json_array_foreach (l, i, o) {
			const char *ns = json_string_value(json_array_get(o, 0));
			const char *name = json_string_value(json_array_get(o, 1));
			bool kept = false;

			if (strcmp(json_string_value(json_array_get(o, 2)), source))
				continue;
			json_array_foreach (keep, j, x)
				kept |= same_object(kinds[k], o, x);
			if (kept)
				continue;
			log_info("%s: %s %s/%s removed from the manifest", source,
				 k8s_kind_name(kinds[k]), ns, name);
			d_delete(d, kinds[k], ns, name, err, sizeof(err));
		}
		json_decref(l);
	}
}

/* Endpoints are stored as the EndpointSlices they convert to. */
static json_t *expand_endpoints(json_t *docs)
{
	size_t i, n = json_array_size(docs);

	for (i = 0; i < n; i++) {
		json_t *o = json_array_get(docs, i);
		if (k8s_kind_of(o) == K_ENDPOINTS) {
			json_t *sl = k8s_endpoints_to_slices(o);
			json_array_extend(docs, sl);
			json_decref(sl);
		}
	}
	return docs;
}

static void load_file(struct daemon *d, const char *name)
{
	char path[1024], source[1100], err[512];
	size_t len, i;
	json_t *docs = json_array(), *res, *r;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", d->o.manifests, name);
	snprintf(source, sizeof(source), "manifest:%s", path);
	buf = read_file(path, &len);
	if (!buf) {
		prune(d, source, docs); /* gone */
		json_decref(docs);
		return;
	}
	if (doc_decode(buf, len, docs, err, sizeof(err))) {
		log_err("%s: %s (file ignored, previous objects kept)", path, err);
		goto out;
	}
	res = d_apply(d, source, buf, len, false);
	json_array_foreach (res, i, r) {
		if (json_object_get(r, "error"))
			log_err("%s", json_string_value(json_object_get(r, "error")));
		else if (strcmp(json_string_value(json_object_get(r, "action")) ?: "", "unchanged"))
			log_info("%s: %s %s/%s %s", path,
				 json_string_value(json_object_get(r, "kind")),
				 json_string_value(json_object_get(r, "namespace")),
				 json_string_value(json_object_get(r, "name")),
				 json_string_value(json_object_get(r, "action")));
	}
	json_decref(res);
	prune(d, source, expand_endpoints(docs));
out:
	free(buf);
	json_decref(docs);
}

/* Objects of manifest files that vanished while the daemon was down. */
static void prune_missing_files(struct daemon *d)
{
	const enum k8s_kind kinds[] = {K_SERVICE, K_ENDPOINTSLICE};
	char err[256];

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_t *l = store_refs(&d->store, kinds[k], "manifest:"), *o;
		size_t i;

		json_array_foreach (l, i, o) {
			const char *src = json_string_value(json_array_get(o, 2));
			if (access(src + 9, F_OK) == 0)
				continue;
			d_delete(d, kinds[k], json_string_value(json_array_get(o, 0)),
				 json_string_value(json_array_get(o, 1)), err, sizeof(err));
		}
		json_decref(l);
	}
}

void manifests_rescan(struct daemon *d)
{
	struct dirent **ents;
	int n;

	if (!d->o.manifests)
		return;
	n = scandir(d->o.manifests, &ents, NULL, alphasort);
	if (n < 0) {
		log_warn("manifests %s: %s", d->o.manifests, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (is_manifest(ents[i]->d_name))
			load_file(d, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	prune_missing_files(d);
}

int manifests_init(struct daemon *d)
{
	if (!d->o.manifests)
		return 0;
	ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino_fd < 0 ||
	    inotify_add_watch(ino_fd, d->o.manifests,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0) {
		log_err("watch %s: %s", d->o.manifests, strerror(errno));
		return -1;
	}
	manifests_rescan(d);
	return 0;
}

void manifests_event(struct daemon *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->len && is_manifest(ev->name))
				load_file(d, ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
}
