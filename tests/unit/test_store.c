// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The object store: compact records, the slice index and packed views, the
 * journal (append, delete, torn tail, snapshot) and the migration from one
 * file per object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "store.h"

static const char svc_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"10.96.0.10\",\"selector\":{\"app\":"
    "\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080,\"protocol\":"
    "\"TCP\"}]}}";

static json_t *slice(const char *name, const char *ip, bool ready)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:s,s:[{s:s,s:i,s:s}],s:[{s:[s],s:{s:b}}]}",
			 "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata",
			 "name", name, "namespace", "default", "labels",
			 "kubernetes.io/service-name", "web", "addressType", "IPv4", "ports",
			 "name", "http", "port", 8080, "protocol", "TCP", "endpoints", "addresses",
			 ip, "conditions", "ready", ready);
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pt-store-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void put_json(struct store *s, const char *text, const char *source)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);

	assert_non_null(o);
	store_put(s, o, source);
	json_decref(o);
}

static int backends(struct store *s, struct backend *be)
{
	struct service svc;
	int n;
	const struct slice_pack *const *p = store_slice_packs(s, "default", "web", &n);

	assert_int_equal(store_svc(s, "default", "web", &svc), 0);
	return select_backends_packed(&svc.ports[0], 4, p, n, be, 16);
}

static void test_round_trip(void **state)
{
	struct store s;
	struct backend be[16];
	json_t *sl = slice("web-1", "10.244.0.1", true), *sl2 = slice("web-2", "10.244.0.2", true);
	json_t *o, *want;

	(void)state;
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	put_json(&s, svc_json, "manifest:/x \"q\".yaml");
	store_put(&s, sl, "cli");
	store_put(&s, sl2, "cli");
	assert_int_equal(backends(&s, be), 2);
	assert_int_equal(be[0].port, 8080);
	store_flush(&s);
	store_del(&s, K_ENDPOINTSLICE, "default", "web-2");
	assert_int_equal(backends(&s, be), 1);
	store_flush(&s);
	store_fini(&s);

	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	assert_int_equal(store_count(&s, K_SERVICE), 1);
	assert_int_equal(store_count(&s, K_ENDPOINTSLICE), 1);
	assert_string_equal(store_source(&s, K_SERVICE, "default", "web"),
			    "manifest:/x \"q\".yaml");
	o = store_fetch(&s, K_ENDPOINTSLICE, "default", "web-1");
	assert_true(json_equal(o, sl));
	json_decref(o);
	assert_null(store_get(&s, K_ENDPOINTSLICE, "default", "web-2"));
	want = json_loads(svc_json, 0, NULL);
	assert_true(json_equal(store_get(&s, K_SERVICE, "default", "web"), want));
	json_decref(want);
	o = store_list_selecting(&s, "default");
	assert_int_equal(json_array_size(o), 1);
	json_decref(o);
	assert_int_equal(backends(&s, be), 1);
	store_fini(&s);
	json_decref(sl);
	json_decref(sl2);
}

/* A crash mid-append leaves a partial last line: it is skipped. */
static void test_torn_tail(void **state)
{
	struct store s;
	char path[128];
	FILE *f;

	(void)state;
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	put_json(&s, svc_json, "cli");
	store_fini(&s);
	snprintf(path, sizeof(path), "%s/objects.journal", dir);
	f = fopen(path, "a");
	fputs("{\"k\":\"EndpointSlice/default/web-1\",\"source\":\"cli\",\"object\":{\"ap", f);
	fclose(f);
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	assert_int_equal(store_count(&s, K_SERVICE), 1);
	assert_int_equal(store_count(&s, K_ENDPOINTSLICE), 0);
	store_fini(&s);
}

/* The old layout is read, written as a journal and removed. */
static void test_legacy(void **state)
{
	struct store s;
	char path[160];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/objects", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/objects/Service_default_web.json", dir);
	f = fopen(path, "w");
	fprintf(f, "{\"object\":%s,\"source\":\"cli\"}", svc_json);
	fclose(f);
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	assert_int_equal(store_count(&s, K_SERVICE), 1);
	store_fini(&s);
	snprintf(path, sizeof(path), "%s/objects", dir);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	assert_int_equal(store_count(&s, K_SERVICE), 1);
	store_fini(&s);
}

/* Rewrites of one object grow the journal; a snapshot keeps it bounded. */
static void test_snapshot(void **state)
{
	struct store s;
	char path[128];
	struct stat st;
	json_t *sl = slice("web-1", "10.244.0.1", true);

	(void)state;
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	for (int i = 0; i < 40000; i++) {
		json_object_set_new(json_object_get(sl, "metadata"), "generation", json_integer(i));
		store_put(&s, sl, "cli");
		store_flush(&s);
	}
	store_fini(&s);
	snprintf(path, sizeof(path), "%s/objects.journal", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 6 << 20);
	assert_int_equal(store_init(&s, dir), 0);
	assert_int_equal(store_load(&s), 0);
	json_t *o = store_get(&s, K_ENDPOINTSLICE, "default", "web-1");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation")),
	    39999);
	store_fini(&s);
	json_decref(sl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
