/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The object store: every applied object (JSON, as defaulted) with its
 * source ("cli" or "manifest:<path>"), persisted one file per object under
 * <state-dir>/objects so that a restart restores them, allocations included.
 */
#ifndef PT_STORE_H
#define PT_STORE_H

#include <jansson.h>
#include "k8s.h"

struct store {
	char dir[512];
	json_t *objs;	/* "Kind/ns/name" -> {"object":..,"source":..} */
	json_t *slices; /* "ns/svc" -> {slice name: slice} */
	size_t count[8]; /* objects per kind */
	json_t *dirty;	 /* keys changed since the last store_flush */
};

int store_init(struct store *s, const char *state_dir);
void store_fini(struct store *s);
/* Call cb for every persisted object (used once at start). */
int store_load(struct store *s, void (*cb)(void *arg, json_t *obj, const char *source), void *arg);

json_t *store_get(struct store *s, enum k8s_kind k, const char *ns, const char *name);
const char *store_source(struct store *s, enum k8s_kind k, const char *ns, const char *name);
/* Takes a reference to obj. Persisted by the next store_flush. */
int store_put(struct store *s, json_t *obj, const char *source);
/* Write changed objects to the state dir: once per loop turn, after the
 * maps were programmed and the replies queued. */
void store_flush(struct store *s);
/* After loading: what is on disk needs no rewrite. */
void store_forget_dirty(struct store *s);
int store_del(struct store *s, enum k8s_kind k, const char *ns, const char *name);
/* New array of the objects of a kind (ns NULL: all namespaces), sorted by
 * namespace then name. */
json_t *store_list(struct store *s, enum k8s_kind k, const char *ns);
/* Borrowed object {slice name: slice} for a service, or NULL. */
json_t *store_slices(struct store *s, const char *ns, const char *svc);
size_t store_count(struct store *s, enum k8s_kind k);

#endif
