// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
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

/* ---- JSON item by item ----
 * A 10 MB List decoded as one jansson tree takes ~140 MB. Instead, a first
 * pass checks the syntax and finds where each document (or each item of a
 * List) starts and ends, without building anything; the second decodes one
 * item at a time. The check is conservative: whatever it cannot vouch for
 * jansson accepting (escapes of NUL or surrogates, non-ASCII bytes, huge
 * numbers, deep nesting, a syntax error) sends the input to the whole-tree
 * decoder, which gives jansson's own error message. */
struct seg {
	size_t off, len;
};

struct scan {
	const char *b;
	size_t len, pos;
	int depth;
	struct seg *segs;
	size_t n, cap;
	void (*release)(void *arg, size_t upto);
	void *arg;
	size_t released;
};

#define SCAN_MAX_DEPTH 512

static void ws(struct scan *s)
{
	while (s->pos < s->len && (s->b[s->pos] == ' ' || s->b[s->pos] == '\t' ||
				   s->b[s->pos] == '\n' || s->b[s->pos] == '\r'))
		s->pos++;
}

static int hexval(char c)
{
	return isxdigit((unsigned char)c)
		   ? (isdigit((unsigned char)c) ? c - '0' : (c | 32) - 'a' + 10)
		   : -1;
}

/* At '"': skip the string; *plain: no escapes in it. */
static int scan_string(struct scan *s, bool *plain)
{
	*plain = true;
	for (s->pos++; s->pos < s->len; s->pos++) {
		unsigned char c = (unsigned char)s->b[s->pos];

		if (c == '"') {
			s->pos++;
			return 0;
		}
		if (c < 0x20 || c >= 0x80)
			return -1;
		if (c != '\\')
			continue;
		*plain = false;
		if (++s->pos >= s->len)
			return -1;
		c = (unsigned char)s->b[s->pos];
		if (c == 'u') {
			int v = 0;
			for (int i = 1; i <= 4; i++) {
				int h = s->pos + (size_t)i < s->len
					    ? hexval(s->b[s->pos + (size_t)i])
					    : -1;
				if (h < 0)
					return -1;
				v = v * 16 + h;
			}
			if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
				return -1;
			s->pos += 4;
		} else if (!strchr("\"\\/bfnrt", c)) {
			return -1;
		}
	}
	return -1;
}

static int digits(struct scan *s)
{
	size_t start = s->pos;

	while (s->pos < s->len && isdigit((unsigned char)s->b[s->pos]))
		s->pos++;
	return (int)(s->pos - start);
}

/* JSON's number grammar; long ones are left to jansson (range checks). */
static int scan_number(struct scan *s)
{
	size_t start = s->pos;
	int n;

	if (s->b[s->pos] == '-')
		s->pos++;
	if (s->pos < s->len && s->b[s->pos] == '0')
		s->pos++;
	else if (!digits(s))
		return -1;
	if (s->pos < s->len && s->b[s->pos] == '.') {
		s->pos++;
		if (!digits(s))
			return -1;
	}
	if (s->pos < s->len && (s->b[s->pos] == 'e' || s->b[s->pos] == 'E')) {
		s->pos++;
		if (s->pos < s->len && (s->b[s->pos] == '+' || s->b[s->pos] == '-'))
			s->pos++;
		if (!(n = digits(s)) || n > 2)
			return -1;
	}
	return s->pos - start > 18 ? -1 : 0;
}

static int scan_value(struct scan *s, bool top);

static int scan_word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if (s->len - s->pos < n || memcmp(s->b + s->pos, w, n))
		return -1;
	s->pos += n;
	return 0;
}

static void add_seg(struct scan *s, size_t off, size_t end)
{
	if (s->n == s->cap)
		s->segs = realloc(s->segs, (s->cap = s->cap ? s->cap * 2 : 64) * sizeof(*s->segs));
	s->segs[s->n++] = (struct seg){off, end - off};
}

/* At '[': the items of a top-level List become segments when items is set. */
static int scan_array(struct scan *s, bool items)
{
	s->pos++;
	ws(s);
	if (s->pos < s->len && s->b[s->pos] == ']') {
		s->pos++;
		return 0;
	}
	for (;;) {
		size_t start;

		ws(s);
		start = s->pos;
		if (scan_value(s, false))
			return -1;
		if (items)
			add_seg(s, start, s->pos);
		ws(s);
		if (s->pos >= s->len)
			return -1;
		if (s->b[s->pos++] == ']')
			return 0;
		if (s->b[s->pos - 1] != ',')
			return -1;
	}
}

static bool is_list_kind(const char *k, size_t n)
{
	return n >= 4 && !memcmp(k + n - 4, "List", 4);
}

/* At '{'. At the top, a List's items (kind may come after items, as
 * kubectl writes it) replace the object as segments. */
static int scan_object(struct scan *s, bool top)
{
	size_t obj_start = s->pos, first_item = s->n;
	bool list = false, have_items = false;

	s->pos++;
	ws(s);
	if (s->pos < s->len && s->b[s->pos] == '}') {
		s->pos++;
		goto done;
	}
	for (;;) {
		size_t ks, ke, vs;
		bool plain, vplain;

		ws(s);
		if (s->pos >= s->len || s->b[s->pos] != '"')
			return -1;
		ks = s->pos + 1;
		if (scan_string(s, &plain))
			return -1;
		ke = s->pos - 1;
		ws(s);
		if (s->pos >= s->len || s->b[s->pos++] != ':')
			return -1;
		ws(s);
		vs = s->pos;
		bool is_kind = top && plain && ke - ks == 4 && !memcmp(s->b + ks, "kind", 4);
		bool is_items = top && plain && ke - ks == 5 && !memcmp(s->b + ks, "items", 5);
		if (is_items && vs < s->len && s->b[vs] == '[') {
			s->n = first_item; /* a repeated key: the last one counts */
			if (scan_array(s, true))
				return -1;
			have_items = true;
		} else {
			if (is_items)
				have_items = false, s->n = first_item;
			if (scan_value(s, false))
				return -1;
		}
		if (is_kind) {
			list = false;
			if (s->b[vs] == '"') {
				struct scan t = {.b = s->b, .len = s->len, .pos = vs};
				scan_string(&t, &vplain);
				/* an escaped kind is left to the whole-tree decoder */
				if (!vplain)
					return -1;
				list = is_list_kind(s->b + vs + 1, s->pos - vs - 2);
			}
		}
		ws(s);
		if (s->pos >= s->len)
			return -1;
		if (s->b[s->pos++] == '}')
			break;
		if (s->b[s->pos - 1] != ',')
			return -1;
	}
done:
	if (top && !(list && have_items)) {
		s->n = first_item;
		add_seg(s, obj_start, s->pos);
	}
	return 0;
}

static int scan_value(struct scan *s, bool top)
{
	int rc;

	if (s->pos >= s->len || ++s->depth > SCAN_MAX_DEPTH)
		return -1;
	switch (s->b[s->pos]) {
	case '{':
		rc = scan_object(s, top);
		break;
	case '[':
		rc = scan_array(s, false);
		break;
	case '"': {
		bool plain;
		rc = scan_string(s, &plain);
		break;
	}
	case 't':
		rc = scan_word(s, "true");
		break;
	case 'f':
		rc = scan_word(s, "false");
		break;
	case 'n':
		rc = scan_word(s, "null");
		break;
	default:
		rc = s->b[s->pos] == '-' || isdigit((unsigned char)s->b[s->pos]) ? scan_number(s)
										 : -1;
	}
	s->depth--;
	return rc;
}

/* Pages behind the cursor are not read again (mapped input: they can go). */
static void release_upto(struct scan *s, size_t upto)
{
	if (s->release && upto >= s->released + (256u << 10)) {
		s->release(s->arg, upto);
		s->released = upto;
	}
}

/* Pass one: segments of every top-level value; -1 when unsure. */
static int scan_all(struct scan *s)
{
	for (;;) {
		size_t start, first = s->n;

		ws(s);
		if (s->pos == s->len)
			return 0;
		start = s->pos;
		if (s->b[s->pos] == '{') {
			if (scan_object(s, true))
				return -1;
		} else {
			if (scan_value(s, false))
				return -1;
			s->n = first;
			add_seg(s, start, s->pos);
		}
		/* jansson needs a delimiter after a number or literal */
		if (s->pos < s->len && !strchr(" \t\r\n{[", s->b[s->pos]) &&
		    !strchr("}]\"", s->b[s->pos - 1]))
			return -1;
		release_upto(s, s->pos);
	}
}

/* Hand the objects of one decoded document to fn (a List expanded). */
static void emit(json_t *doc, doc_fn fn, void *arg)
{
	json_t *tmp = json_array(), *o;
	size_t i;

	append_doc(tmp, doc);
	json_array_foreach (tmp, i, o)
		fn(arg, o);
	json_decref(tmp);
}

static int each_segment(struct scan *s, doc_fn fn, void *arg, char *err, size_t errlen)
{
	s->released = 0;
	for (size_t i = 0; i < s->n; i++) {
		json_error_t je;
		json_t *doc =
		    json_loadb(s->b + s->segs[i].off, s->segs[i].len, JSON_DECODE_ANY, &je);

		if (!doc) { /* the scan let through what jansson refuses */
			snprintf(err, errlen, "JSON syntax error at offset %zu: %s", s->segs[i].off,
				 je.text);
			return -1;
		}
		emit(doc, fn, arg);
		release_upto(s, s->segs[i].off + s->segs[i].len);
	}
	return 0;
}

/* The whole input at once: YAML, and JSON the scan could not vouch for. */
static int each_whole(const char *buf, size_t len, doc_fn fn, void *arg, char *err, size_t errlen)
{
	json_t *docs = json_array(), *o;
	size_t i;

	if (doc_decode(buf, len, docs, err, errlen)) {
		json_decref(docs);
		return -1;
	}
	json_array_foreach (docs, i, o)
		fn(arg, o);
	json_decref(docs);
	return 0;
}

int doc_each(const char *buf, size_t len, doc_fn fn, void *arg,
	     void (*release)(void *arg, size_t upto), char *err, size_t errlen)
{
	struct scan s = {.b = buf, .len = len, .release = release, .arg = arg};
	size_t i = 0;
	int rc;

	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i == len || (buf[i] != '{' && buf[i] != '['))
		return each_whole(buf, len, fn, arg, err, errlen);
	if (scan_all(&s)) {
		free(s.segs);
		return each_whole(buf, len, fn, arg, err, errlen);
	}
	rc = each_segment(&s, fn, arg, err, errlen);
	free(s.segs);
	return rc;
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
