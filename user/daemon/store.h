/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The object store: every applied object (as defaulted) with its source
 * ("cli", "controller" or "manifest:<path>").
 *
 * Memory: a Service or EndpointSlice is kept as its compact JSON text,
 * deflated with a preset dictionary, plus a packed view of what the load
 * balancer reads (k8s.h: svc_pack, slice_pack): a stored object costs a
 * fraction of its JSON size, not the ~14x of a jansson tree; trees are
 * decoded on demand. Pods stay trees: the runtime holds and updates them.
 *
 * Disk: one journal, <state-dir>/objects.journal, one JSON line per change
 * ({"k":"Kind/ns/name","source":..,"object":..} or {"k":..,"deleted":true}),
 * buffered as objects are stored, written out once per loop turn, and
 * rewritten as a snapshot when mostly garbage. The older layout (objects/<Kind>_<ns>_<name>.json)
 * is read and migrated on start.
 */
#ifndef PT_STORE_H
#define PT_STORE_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "hmap.h"
#include "k8s.h"

struct store {
	char dir[512];
	struct hmap objs;		 /* "Kind/ns/name" -> struct srec */
	struct hmap slices;		 /* "ns/svc" -> struct slice_set */
	struct hmap sources;		 /* interned source strings */
	struct hmap dirty;		 /* keys changed since the last store_flush */
	size_t count[8];		 /* objects per kind */
	json_t *scratch;		 /* trees lent by store_get, freed by store_flush */
	FILE *jf;			 /* the journal, appended to; NULL until opened */
	bool loading;			 /* replaying the journal: nothing to write */
	size_t jbytes, live;		 /* journal size; bytes a snapshot would take */
	size_t changes;			 /* objects written since the last trim */
	const struct slice_pack **packs; /* store_slice_packs' answer */
	int packs_cap;
};

int store_init(struct store *s, const char *state_dir);
void store_fini(struct store *s);
/* Read the state dir into the store (used once at start). */
int store_load(struct store *s);

/* Borrowed until the end of the loop turn (store_flush); NULL if absent.
 * Pods are the stored tree itself. */
json_t *store_get(struct store *s, enum k8s_kind k, const char *ns, const char *name);
/* The same as a new reference: for loops that would pile up store_get's. */
json_t *store_fetch(struct store *s, enum k8s_kind k, const char *ns, const char *name);
const char *store_source(struct store *s, enum k8s_kind k, const char *ns, const char *name);
/* Stores a copy (Pods: a reference). Persisted by the next store_flush. */
int store_put(struct store *s, json_t *obj, const char *source);
/* Append the changes to the journal: once per loop turn, after the maps
 * were programmed and the replies queued. */
void store_flush(struct store *s);
/* After loading: what is on disk needs no rewrite. */
void store_forget_dirty(struct store *s);
int store_del(struct store *s, enum k8s_kind k, const char *ns, const char *name);
/* New array of the objects of a kind (ns NULL: all namespaces), sorted by
 * namespace then name. */
json_t *store_list(struct store *s, enum k8s_kind k, const char *ns);
/* New array of the Services of ns that have a selector, sorted. */
json_t *store_list_selecting(struct store *s, const char *ns);
/* New array of [namespace, name, source] of a kind's objects whose source
 * starts with prefix (NULL: all): cheap, nothing is decoded. */
json_t *store_refs(struct store *s, enum k8s_kind k, const char *prefix);
/* New object {slice name: slice} of a service's EndpointSlices, or NULL. */
json_t *store_slices(struct store *s, const char *ns, const char *svc);
/* The packed views of a service's EndpointSlices (*n of them; the array is
 * valid until the next call, the packs until the slices change). */
const struct slice_pack *const *store_slice_packs(struct store *s, const char *ns, const char *svc,
						  int *n);
/* The typed view of a stored Service; -1 if absent. */
int store_svc(struct store *s, const char *ns, const char *name, struct service *out);
size_t store_count(struct store *s, enum k8s_kind k);

#endif
