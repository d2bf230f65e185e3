// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * doc_to_yaml: what it writes reads back as the same value (with our own
 * decoder), and reads back as strings in kubectl too.
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

/* decode(to_yaml(v)) == v; consumes v */
static void round_trip_at(json_t *v, const char *file, int line)
{
	char err[256] = "", *y, *want, *got;
	json_t *out = json_array();

	assert_non_null(v);
	y = doc_to_yaml(v);
	if (!y) {
		print_error("doc_to_yaml returned NULL\n");
		_fail(file, line);
	}
	if (doc_decode(y, strlen(y), out, err, sizeof(err))) {
		print_error("output does not decode: %s\n---\n%s\n", err, y);
		_fail(file, line);
	}
	if (json_array_size(out) != 1 || !json_equal(json_array_get(out, 0), v)) {
		want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		got = json_dumps(json_array_size(out) == 1 ? json_array_get(out, 0) : out,
				 JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		print_error("round trip changed the value\n want %s\n  got %s\n yaml:\n%s\n", want,
			    got, y);
		free(want);
		free(got);
		_fail(file, line);
	}
	free(y);
	json_decref(out);
	json_decref(v);
}
#define round_trip(v) round_trip_at((v), __FILE__, __LINE__)

/* strings every YAML reader would otherwise take for another type */
static const char *const tricky[] = {
    "80",
    "0",
    "-5",
    "+5",
    "1.5",
    "1e3",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    "true",
    "false",
    "True",
    "FALSE",
    "null",
    "Null",
    "NULL",
    "~",
    "",
    "10.96.0.1",
    "1.2.3",
    "80-8080",
    "2024-05-02T09:12:44Z",
    "None",
    "-",
    " leading",
    "trailing ",
    "a: b",
    "a #b",
    "#c",
    "- x",
    "? q",
    "'single'",
    "\"double\"",
    "*alias",
    "&anchor",
    "!tag",
    "%pct",
    "@at",
    "`bt",
    "{x}",
    "[y]",
    ",",
    "|",
    ">",
    "line1\nline2",
    "line1\nline2\n",
    "tab\there",
    "héllo ✓",
    "k8s.io/name",
    "--",
    "---",
    "...",
    "<<",
};

static void test_string_scalars(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		/* as a value, a list item, and on its own */
		round_trip(json_pack("{s:s}", "v", tricky[i]));
		round_trip(json_pack("{s:[s,s]}", "l", tricky[i], tricky[i]));
		round_trip(json_string(tricky[i]));
	}
}

static void test_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++)
		round_trip(json_pack("{s:s}", tricky[i], "v"));
}

static void test_typed_scalars(void **state)
{
	(void)state;
	round_trip(json_pack("{s:i,s:i,s:I,s:I,s:b,s:b,s:n,s:f,s:f,s:f}", "port", 80, "zero", 0,
			     "neg", (json_int_t)-123456789012LL, "big",
			     (json_int_t)9007199254740993LL, "t", 1, "f", 0, "n", "half", 0.5,
			     "quarter", -0.25, "huge", 1e300));
	/* a number and the string of it side by side */
	round_trip(json_pack("{s:i,s:s,s:b,s:s,s:n,s:s}", "n", 80, "s", "80", "b", 1, "bs", "true",
			     "z", "zs", "null"));
}

static void test_structures(void **state)
{
	(void)state;
	/* empty map and list, at the top and nested */
	round_trip(json_object());
	round_trip(json_array());
	round_trip(
	    json_pack("{s:{},s:[],s:{s:{}},s:[{}],s:[[]]}", "em", "el", "deep", "x", "lm", "ll"));
	/* nested lists */
	round_trip(json_pack("{s:[[i,[s,[]]],[[[s]]],{s:[n,b]}]}", "l", 1, "80", "x", "k", 0));
	/* list of maps with lists */
	round_trip(
	    json_pack("[{s:s,s:[i,i]},{s:[{s:s}]}]", "a", "true", "b", 1, 2, "c", "d", "null"));
}

/* A Service as the daemon stores and prints it. */
static void test_service_object(void **state)
{
	(void)state;
	const char *svc =
	    "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
	    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\","
	    "\"uid\":\"6b0b1a43-52a6-4b7e-9d1e-2f0b7c3f9a11\",\"resourceVersion\":\"198\","
	    "\"creationTimestamp\":\"2024-05-02T09:12:44Z\","
	    "\"labels\":{\"app\":\"web\",\"kubernetes.io/name\":\"web\",\"version\":\"2\"},"
	    "\"annotations\":{\"note\":\"multi\\nline\\n\",\"enabled\":\"true\",\"empty\":\"\"}},"
	    "\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"10.96.0.10\","
	    "\"clusterIPs\":[\"10.96.0.10\",\"fd00:10:96::a\"],\"ipFamilies\":[\"IPv4\",\"IPv6\"],"
	    "\"ports\":[{\"name\":\"80-8080\",\"port\":80,\"targetPort\":8080,\"protocol\":\"TCP\","
	    "\"nodePort\":30080},"
	    "{\"name\":\"dns\",\"port\":53,\"targetPort\":\"dns\",\"protocol\":\"UDP\","
	    "\"nodePort\":30053}],"
	    "\"selector\":{\"app\":\"web\"},\"sessionAffinity\":\"None\"},"
	    "\"status\":{\"loadBalancer\":{}}}";
	json_error_t je;
	json_t *v = json_loads(svc, 0, &je);

	if (!v)
		fail_msg("fixture: %s", je.text);
	round_trip(v);
}

/* Real numbers keep their value. */
static void test_reals_keep_precision(void **state)
{
	(void)state;
	round_trip(json_pack("{s:f}", "weight", 0.123456789));
	round_trip(json_pack("{s:f}", "pi", 3.141592653589793));
}

/* kubectl reads YAML with YAML 1.1 rules (sigs.k8s.io/yaml over go-yaml):
 * yes/no/on/off/y/n are booleans and .inf/.nan floats there, so kubectl
 * itself quotes such strings (`kubectl create configmap x
 * --from-literal=a=yes -o yaml` prints `a: "yes"`). Output meant to be fed
 * back to kubectl must quote them too. */
static void test_yaml11_specials_quoted(void **state)
{
	(void)state;
	static const char *const specials[] = {"yes", "no", "on",  "off",  "y",	    "n",    "Yes",
					       "NO",  "On", "OFF", ".inf", "-.inf", ".nan", ".NaN"};
	int bad = 0;

	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		json_t *v = json_pack("{s:s}", "v", specials[i]);
		char *y = doc_to_yaml(v), plain[32];

		snprintf(plain, sizeof(plain), "v: %s\n", specials[i]);
		if (!y || strstr(y, plain)) {
			print_error("\"%s\" written unquoted: %s", specials[i], y ? y : "(null)\n");
			bad++;
		}
		free(y);
		json_decref(v);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_string_scalars),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_typed_scalars),
	    cmocka_unit_test(test_structures),
	    cmocka_unit_test(test_service_object),
	    cmocka_unit_test(test_reals_keep_precision),
	    cmocka_unit_test(test_yaml11_specials_quoted),
	};

	return cmocka_run_group_tests_name("yaml_out", tests, NULL, NULL);
}
