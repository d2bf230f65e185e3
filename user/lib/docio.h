/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Documents in and out: YAML (libyaml) and JSON (jansson) to and from
 * jansson values. Kubernetes objects are handled as JSON trees everywhere. */
#ifndef PT_DOCIO_H
#define PT_DOCIO_H

#include <stddef.h>
#include <jansson.h>

/* Decode every document in buf (YAML or JSON, multi-document, `List`
 * expanded) and append the objects to out (a JSON array). Empty documents
 * are skipped. On a syntax error returns -1 and writes a message naming the
 * line into err. */
int doc_decode(const char *buf, size_t len, json_t *out, char *err, size_t errlen);

/* Called with each object in order; obj is borrowed for the call. */
typedef void (*doc_fn)(void *arg, json_t *obj);

/* doc_decode one object at a time: fn sees the objects only once the whole
 * input parsed (a syntax error anywhere: -1 and nothing was called). JSON is
 * decoded item by item (a List's items one at a time, never the whole as a
 * tree); release, if set, is told which prefix of buf is not read again.
 * YAML is decoded whole. */
int doc_each(const char *buf, size_t len, doc_fn fn, void *arg,
	     void (*release)(void *arg, size_t upto), char *err, size_t errlen);

/* Emit v as block-style YAML into a malloc'd string (caller frees). */
char *doc_to_yaml(json_t *v);

#endif
