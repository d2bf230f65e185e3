// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prometheus text format: label escaping, families, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "promtext.h"

static void test_escape(void **state)
{
	char out[128];

	(void)state;
	prom_escape("plain", out, sizeof(out));
	assert_string_equal(out, "plain");
	prom_escape("say \"hi\"", out, sizeof(out));
	assert_string_equal(out, "say \\\"hi\\\"");
	prom_escape("back\\slash", out, sizeof(out));
	assert_string_equal(out, "back\\\\slash");
	prom_escape("two\nlines", out, sizeof(out));
	assert_string_equal(out, "two\\nlines");
	prom_escape("all \\ \" \n", out, sizeof(out));
	assert_string_equal(out, "all \\\\ \\\" \\n");
	/* truncation never splits an escape or overflows */
	char small[6];
	prom_escape("\"\"\"\"", small, sizeof(small));
	assert_string_equal(small, "\\\"\\\"");
}

static char *render_sample(const char *const *labels, double v)
{
	struct prom p;
	size_t len;

	assert_int_equal(prom_open(&p), 0);
	prom_family(&p, "x_total", "counter", "A test.");
	prom_sample(&p, "x_total", labels, v);
	return prom_close(&p, &len);
}

static void test_sample_labels(void **state)
{
	const char *const l[] = {"pod", "we\"ird\npod\\", "namespace", "ns", NULL};
	char *s;

	(void)state;
	s = render_sample(l, 42);
	assert_string_equal(s, "# HELP x_total A test.\n# TYPE x_total counter\n"
			       "x_total{pod=\"we\\\"ird\\npod\\\\\",namespace=\"ns\"} 42\n");
	free(s);
	s = render_sample(NULL, 0.5);
	assert_non_null(strstr(s, "\nx_total 0.5\n"));
	free(s);
}

static void test_histogram(void **state)
{
	static const double b[] = {0.1, 1};
	struct prom_hist h;
	struct prom p;
	size_t len;
	char *s;

	(void)state;
	hist_init(&h, b, 2);
	hist_observe(&h, 0.05);
	hist_observe(&h, 0.5);
	hist_observe(&h, 5);
	assert_int_equal(prom_open(&p), 0);
	prom_hist(&p, "lat_seconds", NULL, &h);
	s = prom_close(&p, &len);
	assert_non_null(strstr(s, "lat_seconds_bucket{le=\"0.1\"} 1\n"));
	assert_non_null(strstr(s, "lat_seconds_bucket{le=\"1\"} 2\n")); /* cumulative */
	assert_non_null(strstr(s, "lat_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(s, "lat_seconds_sum 5.55\n"));
	assert_non_null(strstr(s, "lat_seconds_count 3\n"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_sample_labels),
	    cmocka_unit_test(test_histogram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
