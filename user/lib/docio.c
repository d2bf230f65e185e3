// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "docio.h"

/* ---- YAML scalars: the YAML 1.2 core schema, as sigs.k8s.io/yaml reads
 * them for Kubernetes (plain scalars may be null, bool, int or float). ---- */
static json_t *plain_scalar(const char *s, size_t len)
{
	char *end;

	if (!len || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (isdigit((unsigned char)s[0]) ||
	    ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))) {
		int base = 10;
		const char *p = s;

		if (!strncmp(s, "0x", 2))
			base = 16, p = s + 2;
		else if (!strncmp(s, "0o", 2))
			base = 8, p = s + 2;
		errno = 0;
		long long v = strtoll(p, &end, base);
		if (*p && !*end && !errno)
			return json_integer(v);
		errno = 0;
		double d = strtod(s, &end);
		if (!*end && !errno)
			return json_real(d);
	}
	return json_stringn(s, len);
}

struct anchors {
	json_t *by_name; /* anchor -> value, for aliases */
};

static json_t *parse_node(yaml_parser_t *p, yaml_event_t *ev, struct anchors *a, char *err,
			  size_t errlen);

static int next_event(yaml_parser_t *p, yaml_event_t *ev, char *err, size_t errlen)
{
	if (yaml_parser_parse(p, ev))
		return 0;
	snprintf(err, errlen, "YAML syntax error at line %zu: %s", p->problem_mark.line + 1,
		 p->problem ? p->problem : "?");
	return -1;
}

static void remember(struct anchors *a, const yaml_char_t *anchor, json_t *v)
{
	if (anchor && v)
		json_object_set(a->by_name, (const char *)anchor, v);
}

static json_t *parse_seq(yaml_parser_t *p, struct anchors *a, char *err, size_t errlen)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	for (;;) {
		if (next_event(p, &ev, err, errlen))
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		json_t *item = parse_node(p, &ev, a, err, errlen);
		if (!item)
			goto fail;
		json_array_append_new(arr, item);
	}
fail:
	json_decref(arr);
	return NULL;
}

static json_t *parse_map(yaml_parser_t *p, struct anchors *a, char *err, size_t errlen)
{
	json_t *obj = json_object();
	json_t *explicit = json_object(); /* keys written out, not merged */
	yaml_event_t ev;

	for (;;) {
		if (next_event(p, &ev, err, errlen))
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			json_decref(explicit);
			return obj;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			snprintf(err, errlen, "line %zu: only scalar mapping keys are supported",
				 ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			goto fail;
		}
		char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_event_delete(&ev);
		if (next_event(p, &ev, err, errlen)) {
			free(key);
			goto fail;
		}
		json_t *val = parse_node(p, &ev, a, err, errlen);
		if (!val) {
			free(key);
			goto fail;
		}
		if (!strcmp(key, "<<") && json_is_object(val)) {
			/* merge key: keys already present win */
			const char *k;
			json_t *v;
			json_object_foreach (val, k, v) {
				if (!json_object_get(obj, k))
					json_object_set_new(obj, k, json_deep_copy(v));
			}
			json_decref(val);
		} else if (json_object_get(explicit, key)) {
			snprintf(err, errlen, "line %zu: mapping key \"%s\" already defined",
				 p->mark.line + 1, key);
			json_decref(val);
			free(key);
			goto fail;
		} else {
			json_object_set_new(explicit, key, json_true());
			json_object_set_new(obj, key, val);
		}
		free(key);
	}
fail:
	json_decref(explicit);
	json_decref(obj);
	return NULL;
}

/* Consumes ev. */
static json_t *parse_node(yaml_parser_t *p, yaml_event_t *ev, struct anchors *a, char *err,
			  size_t errlen)
{
	json_t *v = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t n = ev->data.scalar.length;
		const char *tag = (const char *)ev->data.scalar.tag;

		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && !strcmp(tag, YAML_STR_TAG)))
			v = json_stringn(s, n);
		else
			v = plain_scalar(s, n);
		remember(a, ev->data.scalar.anchor, v);
		break;
	}
	case YAML_SEQUENCE_START_EVENT: {
		yaml_char_t *anchor = ev->data.sequence_start.anchor;
		anchor = anchor ? (yaml_char_t *)strdup((char *)anchor) : NULL;
		yaml_event_delete(ev);
		v = parse_seq(p, a, err, errlen);
		remember(a, anchor, v);
		free(anchor);
		return v;
	}
	case YAML_MAPPING_START_EVENT: {
		yaml_char_t *anchor = ev->data.mapping_start.anchor;
		anchor = anchor ? (yaml_char_t *)strdup((char *)anchor) : NULL;
		yaml_event_delete(ev);
		v = parse_map(p, a, err, errlen);
		remember(a, anchor, v);
		free(anchor);
		return v;
	}
	case YAML_ALIAS_EVENT:
		v = json_object_get(a->by_name, (const char *)ev->data.alias.anchor);
		if (v) /* a copy: changing one use must not change the other */
			v = json_deep_copy(v);
		else
			snprintf(err, errlen, "line %zu: unknown alias *%s",
				 ev->start_mark.line + 1, (const char *)ev->data.alias.anchor);
		break;
	default:
		snprintf(err, errlen, "line %zu: unexpected YAML event", ev->start_mark.line + 1);
	}
	yaml_event_delete(ev);
	return v;
}

/* A `List` (kubectl get -o yaml) contributes its items. */
static void append_doc(json_t *out, json_t *doc)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *items = json_object_get(doc, "items");

	if (kind && strlen(kind) >= 4 && !strcmp(kind + strlen(kind) - 4, "List") &&
	    json_is_array(items)) {
		size_t i;
		json_t *it;
		json_array_foreach (items, i, it)
			append_doc(out, json_incref(it));
		json_decref(doc);
		return;
	}
	if (json_is_null(doc)) {
		json_decref(doc);
		return;
	}
	json_array_append_new(out, doc);
}

static int decode_yaml(const char *buf, size_t len, json_t *out, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = -1;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (next_event(&p, &ev, err, errlen))
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			rc = 0;
			break;
		}
		if (ev.type != YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		yaml_event_delete(&ev);
		struct anchors a = {.by_name = json_object()};
		if (next_event(&p, &ev, err, errlen)) {
			json_decref(a.by_name);
			break;
		}
		json_t *doc = parse_node(&p, &ev, &a, err, errlen);
		json_decref(a.by_name);
		if (!doc)
			break;
		append_doc(out, doc);
		if (next_event(&p, &ev, err, errlen)) /* DOCUMENT_END */
			break;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* JSON: one or more concatenated values. */
static int decode_json(const char *buf, size_t len, json_t *out, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < len) {
		while (off < len && isspace((unsigned char)buf[off]))
			off++;
		if (off == len)
			break;
		json_error_t je;
		json_t *doc =
		    json_loadb(buf + off, len - off, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
		if (!doc) {
			int line = je.line;
			for (size_t i = 0; i < off; i++)
				line += buf[i] == '\n';
			snprintf(err, errlen, "JSON syntax error at line %d: %s", line, je.text);
			return -1;
		}
		off += je.position;
		append_doc(out, doc);
	}
	return 0;
}

int doc_decode(const char *buf, size_t len, json_t *out, char *err, size_t errlen)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '['))
		return decode_json(buf, len, out, err, errlen);
	return decode_yaml(buf, len, out, err, errlen);
}

/* ---- YAML out ---- */
static int looks_like_date(const char *s);
static int emit_scalar(yaml_emitter_t *e, const char *s, int plain_ok)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	/* a string that would read back as another type gets quoted */
	if (!plain_ok)
		style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
				     style);
	return yaml_emitter_emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, json_t *v)
{
	yaml_event_t ev;
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *val;
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return -1;
		json_object_foreach (v, k, val) {
			if (emit_scalar(e, k, 1) != 1 || emit_value(e, val))
				return -1;
		}
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev) ? 0 : -1;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *val;
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return -1;
		json_array_foreach (v, i, val)
			if (emit_value(e, val))
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev) ? 0 : -1;
	}
	case JSON_STRING: {
		const char *s = json_string_value(v);
		json_t *probe = plain_scalar(s, strlen(s));
		/* YAML 1.1 readers take 2006-01-02... for a timestamp */
		int plain = json_is_string(probe) && !looks_like_date(s);
		json_decref(probe);
		return emit_scalar(e, s, plain) ? 0 : -1;
	}
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return emit_scalar(e, num, 1) ? 0 : -1;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		return emit_scalar(e, num, 1) ? 0 : -1;
	case JSON_TRUE:
		return emit_scalar(e, "true", 1) ? 0 : -1;
	case JSON_FALSE:
		return emit_scalar(e, "false", 1) ? 0 : -1;
	default:
		return emit_scalar(e, "null", 1) ? 0 : -1;
	}
}

/* YAML 1.1 readers (kubectl, PyYAML) take these for booleans/floats */
static int yaml11_special(const char *s)
{
	static const char *const w[] = {"y",   "n",    "yes",	"no",	 "on",
					"off", ".inf", "-.inf", "+.inf", ".nan"};
	char low[8];
	size_t n = strlen(s);

	if (n >= sizeof(low))
		return 0;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (!strcmp(low, w[i]))
			return 1;
	return 0;
}

static int looks_like_date(const char *s)
{
	if (yaml11_special(s))
		return 1;
	return strlen(s) >= 10 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[3]) &&
	       s[4] == '-' && s[7] == '-';
}

static int write_buf(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

char *doc_to_yaml(json_t *v)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int ok;

	if (!f)
		return NULL;
	yaml_emitter_initialize(&e);
	yaml_emitter_set_output(&e, write_buf, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	ok = yaml_emitter_emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	ok = ok && yaml_emitter_emit(&e, &ev);
	ok = ok && !emit_value(&e, v);
	yaml_document_end_event_initialize(&ev, 1);
	ok = ok && yaml_emitter_emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	ok = ok && yaml_emitter_emit(&e, &ev);
	yaml_emitter_delete(&e);
	fclose(f);
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}
