// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * status: is the daemon healthy, what is attached where, and how full are
 * the maps (a full map means new services or backends get rejected).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char status_usage[] =
    "Usage: podtrace status [-o json|yaml]\n"
    "\n"
    "Show podtraced's health and version, where it attached (cgroup, bpffs),\n"
    "its BPF programs and links, how full each map is, the objects it holds and\n"
    "services whose programming failed.\n"
    "\n"
    "Flags:\n"
    "  -o, --output FORMAT   json or yaml (default: text)\n"
    "  -h, --help            show this help\n";

static void summary(json_t *st)
{
	struct tw *t = tw_new(TW_DESCRIBE);
	json_t *objs = json_object_get(st, "objects"), *v;
	const char *k;
	int n = 0;

	tw_printf(t, "Status:\t%s\n", jstr(st, "status", "unknown"));
	tw_printf(t, "Version:\t%s\n", jstr(st, "version", "unknown"));
	tw_printf(t, "PID:\t%lld\n", (long long)json_integer_value(json_object_get(st, "pid")));
	tw_printf(t, "Socket:\t%s\n", jstr(st, "socket", "?"));
	tw_printf(t, "Cgroup Root:\t%s\n", jstr(st, "cgroupRoot", "?"));
	tw_printf(t, "BPF FS:\t%s\n", jstr(st, "bpffs", "?"));
	json_object_foreach (objs, k, v)
		tw_printf(t, "%s\t%s\t%lld\n", n++ ? "" : "Objects:", k,
			  (long long)json_integer_value(v));
	if (!n)
		tw_printf(t, "Objects:\t<none>\n");
	tw_flush(t, stdout);
}

static void programs(json_t *progs)
{
	struct tw *t;
	size_t i;
	json_t *p;

	if (!json_array_size(progs)) {
		printf("\nPrograms: <none>\n");
		return;
	}
	printf("\nPrograms:\n");
	t = tw_new(TW_TABLE);
	tw_printf(t, "  NAME\tPROG ID\tLINK ID\n");
	json_array_foreach (progs, i, p)
		tw_printf(t, "  %s\t%lld\t%lld\n", jstr(p, "name", "?"),
			  (long long)json_integer_value(json_object_get(p, "id")),
			  (long long)json_integer_value(json_object_get(p, "linkId")));
	tw_flush(t, stdout);
}

static void maps(json_t *maps)
{
	struct tw *t;
	size_t i;
	json_t *m;

	if (!json_array_size(maps))
		return;
	printf("\nMaps:\n");
	t = tw_new(TW_TABLE);
	tw_printf(t, "  NAME\tENTRIES\tCAPACITY\tFILL\n");
	json_array_foreach (maps, i, m) {
		long long used = (long long)json_integer_value(json_object_get(m, "entries"));
		long long cap = (long long)json_integer_value(json_object_get(m, "capacity"));

		double pct = cap > 0 ? (double)used * 100.0 / (double)cap : 0;

		tw_printf(t, "  %s\t%lld\t%lld\t", jstr(m, "name", "?"), used, cap);
		if (cap <= 0)
			tw_printf(t, "-\n");
		else if (used && pct < 0.1)
			tw_printf(t, "<0.1%%\n"); /* "0.0%" would read as empty */
		else
			tw_printf(t, "%.1f%%\n", pct);
	}
	tw_flush(t, stdout);
}

/* Services the daemon holds but could not program (e.g. a full map). */
static void programming_errors(json_t *errs)
{
	struct tw *t;
	const char *k;
	json_t *v;

	if (!json_object_size(errs)) {
		printf("\nProgramming Errors: <none>\n");
		return;
	}
	printf("\nProgramming Errors:\n");
	t = tw_new(TW_TABLE);
	tw_printf(t, "  SERVICE\tERROR\n");
	json_object_foreach (errs, k, v)
		tw_printf(t, "  %s\t%s\n", k, json_string_value(v) ?: "?");
	tw_flush(t, stdout);
}

static const struct option status_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_status(int argc, char **argv)
{
	enum out_fmt out = OUT_TABLE;
	json_t *st;
	int c, rc = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:h", status_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (parse_output(flag_value(optarg), &out) || out == OUT_WIDE)
				return usage_error(
				    "status", status_usage,
				    "unknown output format \"%s\" (want json or yaml)", optarg);
			break;
		case 'h':
			fputs(status_usage, stdout);
			return 0;
		default:
			return bad_flag("status", status_usage, c, argv);
		}
	}
	if (optind < argc)
		return usage_error("status", status_usage, "unexpected argument \"%s\"",
				   argv[optind]);
	st = client_call(json_pack("{s:s}", "cmd", "status"));
	if (!st)
		return 1;
	if (out == OUT_JSON)
		rc = print_json(st);
	else if (out == OUT_YAML)
		rc = print_yaml(st);
	else {
		summary(st);
		programs(json_object_get(st, "programs"));
		maps(json_object_get(st, "maps"));
		programming_errors(json_object_get(st, "programmingErrors"));
	}
	json_decref(st);
	return rc ? 1 : 0;
}
