// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podtrace top: per pod CPU, memory and network rates, refreshing. The
 * daemon gives the same counters /metrics exports; rates are the
 * difference between two samples. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static const char *const usage_top =
    "Usage: podtrace top [-n NS | -A] [--interval SECONDS] [--once]";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *sample(void)
{
	json_t *r = client_call(json_pack("{s:s}", "cmd", "top"));

	return r ? json_incref(json_object_get(r, "pods")) : NULL;
}

static json_t *find(json_t *pods, json_t *p)
{
	size_t i;
	json_t *q;

	json_array_foreach (pods, i, q)
		if (json_equal(json_object_get(q, "namespace"), json_object_get(p, "namespace")) &&
		    json_equal(json_object_get(q, "pod"), json_object_get(p, "pod")))
			return q;
	return NULL;
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_real(v) ? json_real_value(v) : (double)json_integer_value(v);
}

static void bytes_str(double b, char *buf, size_t len)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB"};
	int i = 0;

	while (b >= 1024 && i < 3) {
		b /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f%s" : "%.0f%s", b, u[i]);
}

static void show(json_t *a, json_t *b, double dt, const char *ns, bool all)
{
	struct tw *t = tw_new(TW_TABLE);
	size_t i;
	json_t *p;

	tw_printf(t, "%sNAME\tCPU(cores)\tMEMORY(bytes)\tRX/s\tTX/s\t\n", all ? "NAMESPACE\t" : "");
	json_array_foreach (b, i, p) {
		json_t *o = find(a, p);
		const char *pns = json_string_value(json_object_get(p, "namespace"));
		char mem[32], rx[32], tx[32];
		double cpu = 0, rxr = 0, txr = 0;

		if (!all && strcmp(pns, ns))
			continue;
		if (o && dt > 0) {
			cpu = (num(p, "cpuSeconds") - num(o, "cpuSeconds")) / dt;
			rxr = (num(p, "rxBytes") - num(o, "rxBytes")) / dt;
			txr = (num(p, "txBytes") - num(o, "txBytes")) / dt;
		}
		bytes_str(num(p, "memoryWorkingSet"), mem, sizeof(mem));
		bytes_str(rxr, rx, sizeof(rx));
		bytes_str(txr, tx, sizeof(tx));
		if (all)
			tw_printf(t, "%s\t", pns);
		tw_printf(t, "%s\t%.0fm\t%s\t%s\t%s\t\n",
			  json_string_value(json_object_get(p, "pod")), cpu * 1000, mem, rx, tx);
	}
	tw_flush(t, stdout);
}

int cmd_top(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"namespace", 1, 0, 'n'}, {"all-namespaces", 0, 0, 'A'}, {"interval", 1, 0, 'i'},
	    {"once", 0, 0, '1'},      {"help", 0, 0, 'h'},	     {0, 0, 0, 0},
	};
	const char *ns = "default";
	double interval = 2;
	bool all = false, once = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:Ah", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			ns = flag_value(optarg);
			break;
		case 'A':
			all = true;
			break;
		case 'i':
			interval = atof(flag_value(optarg));
			break;
		case '1':
			once = true;
			break;
		case 'h':
			printf("%s\n\nPer pod CPU, memory and network rates, refreshed every "
			       "interval\n"
			       "(the counters /metrics exports). --once prints one table after one "
			       "interval.\n",
			       usage_top);
			return 0;
		default:
			return bad_flag("top", usage_top, c, argv);
		}
	}
	if (interval < 0.1)
		return usage_error("top", usage_top, "--interval must be at least 0.1");
	json_t *a = sample();
	double ta = now_s();
	if (!a)
		return 1;
	for (;;) {
		struct timespec ts = {(time_t)interval,
				      (long)((interval - (time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
		json_t *b = sample();
		double tb = now_s();
		if (!b) {
			json_decref(a);
			return 1;
		}
		if (!once && isatty(1))
			fputs("\033[H\033[2J", stdout);
		show(a, b, tb - ta, ns, all);
		fflush(stdout);
		json_decref(a);
		a = b;
		ta = tb;
		if (once)
			break;
	}
	json_decref(a);
	return 0;
}
