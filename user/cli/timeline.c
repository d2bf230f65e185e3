// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * timeline: a Pod's lifecycle stages (docs/events.md) with the time each
 * step took, as a bar chart: where did this pod's startup time go?
 *
 * The daemon keeps the stages in the order it recorded them; the
 * kernel-stamped ones (StartContainer, ProcessExit, OOMKill) can be
 * recorded after a later daemon stage, so rows are sorted by time. Both
 * clocks are CLOCK_MONOTONIC.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char timeline_usage[] =
    "Usage: podtrace timeline pod NAME [-n NS] [-o json|yaml]\n"
    "\n"
    "Show the lifecycle stages of a Pod (SandboxCreated, CreateContainer,\n"
    "StartContainer, PostStartHookDone, Ready, ...) in time order: when each\n"
    "happened after the first, how long the step to the next one took, as a\n"
    "bar chart, and whether the kernel or the daemon stamped it. A summary\n"
    "names the three steps that took most of the startup: from the first\n"
    "stage until every container had been Ready once (without a Ready stage:\n"
    "until the last stage). NAME may be written pod/NAME; `timeline NAME`\n"
    "works too.\n"
    "\n"
    "Flags:\n"
    "  -n, --namespace NS     namespace of the Pod (default \"default\")\n"
    "  -o, --output FORMAT    json or yaml: the daemon's answer as it is\n"
    "  -h, --help             show this help\n";

#define BAR_COLS 40
#define TOP_STEPS 3

struct stage {
	json_t *v;
	long long ts;
	size_t idx; /* order in the daemon's list: a stable sort */
};

static int cmp_stage(const void *a, const void *b)
{
	const struct stage *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The end of the startup: the first moment every container that reached
 * Ready at all had done it once. -1 without any Ready stage. */
static int startup_end(const struct stage *st, int n)
{
	int end = -1;

	for (int i = 0; i < n; i++) {
		const char *ctr = jstr(st[i].v, "container", "");
		bool first = true;

		if (strcmp(jstr(st[i].v, "stage", ""), "Ready"))
			continue;
		for (int j = 0; j < i && first; j++)
			first = strcmp(jstr(st[j].v, "stage", ""), "Ready") ||
				strcmp(jstr(st[j].v, "container", ""), ctr);
		if (first)
			end = i;
	}
	return end;
}

static void fmt_secs(long long ns, char *buf, size_t len)
{
	snprintf(buf, len, "%.3fs", (double)ns / 1e9);
}

/* A bar of cells/8 columns: full blocks and one of the eighths, or '#'
 * per column when the terminal can't show them. more: cut at the width. */
static void put_bar(struct tw *t, long long eighths, bool utf8, bool more)
{
	/* U+258F (one eighth) .. U+2589 (seven eighths) */
	static const char *const part[8] = {"",
					    "\xe2\x96\x8f",
					    "\xe2\x96\x8e",
					    "\xe2\x96\x8d",
					    "\xe2\x96\x8c",
					    "\xe2\x96\x8b",
					    "\xe2\x96\x8a",
					    "\xe2\x96\x89"};

	for (long long i = 0; i < eighths / 8; i++)
		tw_printf(t, "%s", utf8 ? "\xe2\x96\x88" : "#");
	if (utf8)
		tw_printf(t, "%s", part[eighths % 8]);
	else if (eighths % 8 >= 4)
		tw_printf(t, "#");
	if (more)
		tw_printf(t, "%s", utf8 ? "\xe2\x96\xb6" : ">");
}

static const char *step_name(json_t *v, char *buf, size_t len)
{
	const char *ctr = jstr(v, "container", "");

	snprintf(buf, len, "%s%s%s", jstr(v, "stage", "?"), *ctr ? " " : "", ctr);
	return buf;
}

static int show_timeline(json_t *resp)
{
	json_t *stages = json_object_get(resp, "stages"), *v;
	int n = (int)json_array_size(stages), end, top[TOP_STEPS], ntop = 0;
	struct stage *st = calloc((size_t)n + 1, sizeof(*st));
	long long total, scale = 0;
	bool utf8 = cli_utf8(), ready;
	char a[32], b[32], total_s[32], name[256], name2[256];
	struct tw *t;
	size_t i;

	json_array_foreach (stages, i, v)
		st[i] =
		    (struct stage){v, (long long)json_integer_value(json_object_get(v, "tsNs")), i};
	qsort(st, (size_t)n, sizeof(*st), cmp_stage);
	printf("Pod %s/%s (", jstr(resp, "namespace", "?"), jstr(resp, "pod", "?"));
	if (!n) {
		printf("no stages yet)\n");
		free(st);
		return 0;
	}
	end = startup_end(st, n);
	ready = end >= 0;
	if (!ready)
		end = n - 1;
	total = st[end].ts - st[0].ts;
	fmt_secs(total, total_s, sizeof(total_s));
	printf("%d stage%s, %s from %s to %s)\n\n", n, n == 1 ? "" : "s", total_s,
	       jstr(st[0].v, "stage", "?"), jstr(st[end].v, "stage", "?"));

	/* bars: scaled to the longest step of the startup, so that a pod that
	 * has run for hours still shows where its start went; a later step
	 * longer than that is cut (marked) */
	for (int pass = 0; pass < 2 && !scale; pass++) /* then all of them */
		for (int k = 0; k + 1 < n; k++)
			if ((pass || k < end) && st[k + 1].ts - st[k].ts > scale)
				scale = st[k + 1].ts - st[k].ts;
	t = tw_new(TW_TABLE);
	tw_printf(t, "OFFSET\tDURATION\tSTAGE\tCONTAINER\t%-*s\tSOURCE\tDETAIL\n", BAR_COLS, "");
	for (int k = 0; k < n; k++) {
		long long d = k + 1 < n ? st[k + 1].ts - st[k].ts : -1;

		fmt_secs(st[k].ts - st[0].ts, a, sizeof(a));
		if (d >= 0)
			fmt_secs(d, b, sizeof(b));
		tw_printf(t, "+%s\t%s\t%s\t%s\t", a, d >= 0 ? b : "-", jstr(st[k].v, "stage", "?"),
			  jstr(st[k].v, "container", ""));
		if (d > 0 && scale > 0) {
			long long e = (d * BAR_COLS * 8 + scale / 2) / scale;
			bool more = e > BAR_COLS * 8;

			if (more)
				e = BAR_COLS * 8;
			if (!e && utf8)
				e = 1; /* a sliver is not nothing */
			put_bar(t, e, utf8, more);
		}
		/* no trailing blanks when there is no detail */
		tw_printf(t, "\t%s", jstr(st[k].v, "source", "?"));
		if (*jstr(st[k].v, "detail", ""))
			tw_printf(t, "\t%s", jstr(st[k].v, "detail", ""));
		tw_printf(t, "\n");
	}
	tw_flush(t, stdout);

	/* the three longest steps of the startup, longest first */
	for (int r = 0; r < TOP_STEPS && total > 0; r++) {
		int best = -1;

		for (int k = 0; k < end; k++) {
			bool taken = false;
			for (int j = 0; j < ntop; j++)
				taken |= top[j] == k;
			if (!taken &&
			    (best < 0 || st[k + 1].ts - st[k].ts > st[best + 1].ts - st[best].ts))
				best = k;
		}
		if (best < 0)
			break;
		top[ntop++] = best;
	}
	if (!ntop) {
		free(st);
		return 0;
	}
	printf("\nWhere the %stime went (%s, %s to %s):\n", ready ? "startup " : "", total_s,
	       jstr(st[0].v, "stage", "?"), jstr(st[end].v, "stage", "?"));
	t = tw_new(TW_DESCRIBE);
	for (int j = 0; j < ntop; j++) {
		int k = top[j];
		long long d = st[k + 1].ts - st[k].ts;

		fmt_secs(d, b, sizeof(b));
		tw_printf(t, "  %5.1f%%\t%s\t%s -> %s\n", (double)d * 100.0 / (double)total, b,
			  step_name(st[k].v, name, sizeof(name)),
			  step_name(st[k + 1].v, name2, sizeof(name2)));
	}
	tw_flush(t, stdout);
	free(st);
	return 0;
}

static const struct option timeline_opts[] = {
    {"namespace", required_argument, NULL, 'n'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_timeline(int argc, char **argv)
{
	enum out_fmt out = OUT_TABLE;
	const char *ns = "default", *name;
	json_t *resp;
	int c, rc = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:o:h", timeline_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ns = flag_value(optarg);
			break;
		case 'o':
			if (parse_output(flag_value(optarg), &out) || out == OUT_WIDE)
				return usage_error("timeline", timeline_usage,
						   "unknown output format \"%s\" (json or yaml)",
						   flag_value(optarg));
			break;
		case 'h':
			fputs(timeline_usage, stdout);
			return 0;
		default:
			return bad_flag("timeline", timeline_usage, c, argv);
		}
	}
	/* timeline pod NAME | timeline pod/NAME | timeline NAME */
	if (optind < argc && (!strcmp(argv[optind], "pod") || !strcmp(argv[optind], "pods") ||
			      !strcmp(argv[optind], "po")))
		optind++;
	if (optind == argc)
		return usage_error("timeline", timeline_usage, "a pod name is required");
	if (argc - optind > 1)
		return usage_error("timeline", timeline_usage, "unexpected argument \"%s\"",
				   argv[optind + 1]);
	name = pod_arg_name(argv[optind]);
	if (!*name)
		return usage_error("timeline", timeline_usage, "a pod name is required");
	resp = client_call_named(
	    json_pack("{s:s,s:s,s:s}", "cmd", "timeline", "namespace", ns, "name", name), "pods",
	    name);
	if (!resp)
		return 1;
	if (out == OUT_JSON)
		rc = print_json(resp) ? 1 : 0;
	else if (out == OUT_YAML)
		rc = print_yaml(resp) ? 1 : 0;
	else
		rc = show_timeline(resp);
	json_decref(resp);
	return rc;
}
