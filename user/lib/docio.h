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

/* Emit v as block-style YAML into a malloc'd string (caller frees). */
char *doc_to_yaml(json_t *v);

#endif
