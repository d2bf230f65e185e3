// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * doc_each (JSON item by item) against doc_decode (one tree): the same
 * objects in the same order for every input, nothing at all on a syntax
 * error, and the caller told which prefix it may drop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "docio.h"

struct got {
	json_t *objs;
	size_t released;
};

static void collect(void *arg, json_t *obj)
{
	json_array_append(((struct got *)arg)->objs, obj);
}

static void release(void *arg, size_t upto)
{
	struct got *g = arg;

	/* per pass (the check, then the decode): upto grows */
	if (upto > g->released)
		g->released = upto;
}

/* doc_each must agree with doc_decode, success or failure. */
static void same_as_tree(const char *in)
{
	json_t *want = json_array();
	struct got g = {.objs = json_array()};
	char e1[256] = "", e2[256] = "";
	int r1 = doc_decode(in, strlen(in), want, e1, sizeof(e1));
	int r2 = doc_each(in, strlen(in), collect, &g, release, e2, sizeof(e2));

	if (r1 != r2 || (!r1 && !json_equal(want, g.objs)) || (r1 && strcmp(e1, e2)))
		fail_msg("input %s: tree %d (%s) / each %d (%s)", in, r1, e1, r2, e2);
	if (r1)
		assert_int_equal(json_array_size(g.objs), 0);
	json_decref(want);
	json_decref(g.objs);
}

static void test_lists(void **state)
{
	(void)state;
	same_as_tree("{\"kind\":\"List\",\"items\":[{\"kind\":\"Service\",\"a\":1},"
		     "{\"kind\":\"Pod\",\"b\":[1,2,{\"c\":null}]}]}");
	/* kubectl -o json: items before kind */
	same_as_tree("{\"apiVersion\":\"v1\",\"items\":[{\"kind\":\"Service\"},{\"x\":\"y\"}],"
		     "\"kind\":\"List\",\"metadata\":{}}");
	same_as_tree("{\"kind\":\"ServiceList\",\"items\":[]}");
	same_as_tree(
	    "{\"kind\":\"List\",\"items\":[null,{\"kind\":\"List\",\"items\":[{\"n\":1}]}]}");
	/* not a List: the object itself */
	same_as_tree("{\"kind\":\"Service\",\"items\":[{\"a\":1}]}");
	same_as_tree("{\"items\":[{\"a\":1}]}");
	same_as_tree("{\"kind\":\"List\",\"items\":{\"a\":1}}");
	/* a repeated key: the last one counts */
	same_as_tree("{\"kind\":\"List\",\"items\":[{\"a\":1}],\"items\":[{\"b\":2}]}");
	same_as_tree("{\"kind\":\"List\",\"items\":[{\"a\":1}],\"kind\":\"Service\"}");
	same_as_tree("{\"kind\":\"List\",\"items\":[{\"a\":1}],\"items\":3}");
}

static void test_streams(void **state)
{
	(void)state;
	same_as_tree("{\"a\":1}\n{\"b\":2}\r\n\t {\"kind\":\"List\",\"items\":[{\"c\":3}]} ");
	same_as_tree("{\"a\":1}{\"b\":2}");
	same_as_tree("[{\"a\":1},{\"b\":2}]");
	same_as_tree("{}");
	same_as_tree("  \n");
	same_as_tree("{\"a\":-0.5e+10,\"b\":[true,false,null],\"c\":\"x\\\"y\\u00e9\\n\"}");
	same_as_tree("{\"kind\":\"Li\\u0073t\",\"items\":[{\"a\":1}]}");
	same_as_tree("{\"a\":\"h\xc3\xa9llo\"}");
	same_as_tree("{\"a\":123456789012345678901234567890}");
	same_as_tree("{\"a\":1e999}");
}

static void test_errors(void **state)
{
	(void)state;
	same_as_tree("{\"kind\":\"List\",\"items\":[{\"a\":1},{\"b\":]}");
	same_as_tree("{\"kind\":\"List\",\"items\":[{\"a\":1}]} {\"b\":");
	same_as_tree("{\"a\":1,}");
	same_as_tree("{\"a\":01}");
	same_as_tree("{\"a\":\"\\x\"}");
	same_as_tree("{\"a\":\"\\u0000\"}");
	same_as_tree("{\"a\":\"\xff\"}");
	same_as_tree("{\"a\":tru}");
	same_as_tree("{\"a\":1} x");
	same_as_tree("[1,2");
	same_as_tree("{\"a\":\"ctl\x01\"}");
}

/* The prefix handed back is behind everything decoded so far. */
static void test_release(void **state)
{
	size_t n = 100000, len;
	char *buf = malloc(n * 40 + 64), *p = buf;
	struct got g = {.objs = json_array()};
	char err[256];

	(void)state;
	p += sprintf(p, "{\"kind\":\"List\",\"items\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{\"kind\":\"Service\",\"i\":%zu}", i ? "," : "", i);
	p += sprintf(p, "]}");
	len = (size_t)(p - buf);
	assert_int_equal(doc_each(buf, len, collect, &g, release, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(g.objs), n);
	assert_true(g.released > len / 2);
	json_decref(g.objs);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_streams),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
