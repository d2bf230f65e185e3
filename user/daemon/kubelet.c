// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pods that kubelet and containerd made: their cgroups are recognised by
 * path, for both cgroup drivers,
 *
 *   systemd:  kubepods.slice/kubepods-burstable.slice/
 *             kubepods-burstable-pod<uid_with_underscores>.slice/
 *             cri-containerd-<id>.scope
 *             (Guaranteed pods sit directly under kubepods.slice)
 *   cgroupfs: kubepods/burstable/pod<uid>/<id>   (or kubepods/pod<uid>/<id>)
 *
 * under --cgroup-root: at start (already existing pods) and then from the
 * trace plane's cgroup_mkdir events. Such a pod's cgroups join pt_cgroup,
 * so its processes are traced, and are attributed to namespace/name when a
 * Pod object with that uid is known, else to the uid.
 */
#include <dirent.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "daemon.h"
#include "log.h"
#include "runtime.h"

/* "kubepods-burstable-pod1234_5678.slice" or "pod1234-5678" -> the uid */
static bool pod_uid_of(const char *name, char *uid, size_t len)
{
	/* "kubepods" has a "pod" too: try every occurrence */
	for (const char *p = strstr(name, "pod"); p; p = strstr(p + 1, "pod")) {
		const char *u = p + 3;
		size_t n = 0;

		while (u[n] && (isxdigit((unsigned char)u[n]) || u[n] == '_' || u[n] == '-'))
			n++;
		if (n < 32 || n >= len || (u[n] && strcmp(u + n, ".slice")))
			continue;
		for (size_t i = 0; i < n; i++)
			uid[i] = u[i] == '_' ? '-' : u[i];
		uid[n] = 0;
		return true;
	}
	return false;
}

/* "cri-containerd-<id>.scope", "docker-<id>.scope" or "<id>" -> short id */
static bool ctr_id_of(const char *name, char *id, size_t len)
{
	const char *p = strrchr(name, '-');
	size_t n;

	p = p ? p + 1 : name;
	n = strcspn(p, ".");
	if (n < 12)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	snprintf(id, len, "%.12s", p);
	return true;
}

static struct hmap pods; /* uid -> (uintptr_t) pod_id + 1 */

static void attribute(struct daemon *d, const char *uid, uint64_t cgid, const char *ctr,
		      uint32_t pod_id, bool is_pod)
{
	json_t *list = store_list(&d->store, K_POD, NULL), *o;
	const char *ns = "", *name = uid;
	size_t i;

	json_array_foreach (list, i, o) {
		const char *u =
		    json_string_value(json_object_get(json_object_get(o, "metadata"), "uid"));
		if (u && !strcmp(u, uid)) {
			ns = k8s_namespace(o);
			name = k8s_name(o);
		}
	}
	events_cgroup_add(cgid, ns, name, uid, ctr);
	podguard_register(d, cgid, pod_id, is_pod);
	json_decref(list);
}

static void add_pod_dir(struct daemon *d, const char *dir, const char *uid)
{
	uintptr_t id = (uintptr_t)hmap_gets(&pods, uid);
	struct stat st;
	struct dirent *de;
	DIR *dd;

	if (stat(dir, &st))
		return;
	if (!id) {
		uint32_t pid;
		if (runtime_pod_id_alloc(&pid))
			return;
		id = pid + 1;
		hmap_puts(&pods, uid, (void *)id);
		log_info("kubelet pod %s recognised at %s", uid, dir);
	}
	attribute(d, uid, (uint64_t)st.st_ino, NULL, (uint32_t)(id - 1), true);
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		char *sub, cid[16];
		if (de->d_type != DT_DIR || !ctr_id_of(de->d_name, cid, sizeof(cid)) ||
		    asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (!stat(sub, &st))
			attribute(d, uid, (uint64_t)st.st_ino, cid, (uint32_t)(id - 1), false);
		free(sub);
	}
	if (dd)
		closedir(dd);
}

/* Walk a kubepods tree (depth-limited: root / qos / pod / container). */
static void scan(struct daemon *d, const char *dir, int depth)
{
	struct dirent *de;
	DIR *dd = opendir(dir);
	struct stat st;

	if (!dd)
		return;
	if (!stat(dir, &st))
		events_watch_root((uint64_t)st.st_ino);
	while ((de = readdir(dd))) {
		char *sub, uid[64];
		if (de->d_type != DT_DIR || de->d_name[0] == '.' ||
		    asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			continue;
		if (pod_uid_of(de->d_name, uid, sizeof(uid)))
			add_pod_dir(d, sub, uid);
		else if (depth < 2 && strstr(de->d_name, "kubepods"))
			scan(d, sub, depth + 1);
		else if (depth <= 1 &&
			 (!strcmp(de->d_name, "burstable") || !strcmp(de->d_name, "besteffort")))
			scan(d, sub, depth + 1);
		free(sub);
	}
	closedir(dd);
}

void kubelet_scan(struct daemon *d)
{
	char dir[600];
	static const char *const roots[] = {"kubepods.slice", "kubepods"};
	struct stat st;

	/* mkdirs anywhere below the root are reported: a kubepods tree may
	 * appear after the daemon */
	if (!stat(d->o.cgroup_root, &st))
		events_watch_root((uint64_t)st.st_ino);
	for (int i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", d->o.cgroup_root, roots[i]);
		scan(d, dir, 0);
	}
}

/* A cgroup_mkdir below a watched root: path is relative to the cgroup2
 * mount, e.g. "/kubepods/burstable/pod<uid>/<id>". */
void kubelet_mkdir(struct daemon *d, const char *path)
{
	if (strstr(path, "kubepods"))
		kubelet_scan(d);
}
