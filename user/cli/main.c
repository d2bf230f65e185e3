// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podtrace: talk to podtraced over its control socket, kubectl-style. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

const char *socket_path;

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
    {"apply", cmd_apply, "Create or update Pods, Services and EndpointSlices from files"},
    {"delete", cmd_delete, "Delete objects by file or by kind and name"},
    {"get", cmd_get, "List Pods, Services or EndpointSlices"},
    {"describe", cmd_describe, "Show a Pod, or a Service and how its socket LB is programmed"},
    {"logs", cmd_logs, "Print (or follow) the log of a container in a Pod"},
    {"exec", cmd_exec, "Run a command in a container of a Pod"},
    {"events", cmd_events, "Print (or follow) process, lifecycle and connection events of Pods"},
    {"timeline", cmd_timeline, "Show where a Pod's startup time went, stage by stage"},
    {"top", cmd_top, "Show CPU, memory and network rates of pods"},
    {"status", cmd_status, "Show daemon health, BPF programs and map fill"},
    {"version", cmd_version, "Print the client and server versions"},
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: podtrace [--socket PATH] COMMAND [ARGS]\n"
		   "\n"
		   "Control podtraced, the podtrace node agent.\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n"
		   "Global flags (anywhere on the line):\n"
		   "  --socket PATH   podtraced control socket (default: $PODTRACE_SOCKET,\n"
		   "                  else " DEF_SOCKET ")\n"
		   "  -h, --help      show this help\n"
		   "\n"
		   "Run 'podtrace COMMAND --help' for the flags of a command.\n");
}

int usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	size_t first = strcspn(usage, "\n");
	va_list ap;

	fprintf(stderr, "podtrace %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%.*s\nRun 'podtrace %s --help' for more.\n", (int)first, usage, cmd);
	return EXIT_USAGE;
}

int bad_flag(const char *cmd, const char *usage, int c, char **argv)
{
	extern int optind, optopt;
	/* getopt leaves the offending word just before optind, except for an
	 * unknown letter inside a group like -xyz */
	const char *word = argv[optind - 1];

	if (c == ':')
		return usage_error(cmd, usage, "flag needs an argument: %s", word);
	if (optopt && word[0] == '-' && word[1] != '-')
		return usage_error(cmd, usage, "unknown shorthand flag: '%c'", optopt);
	return usage_error(cmd, usage, "unknown flag: %s", word);
}

const char *flag_value(const char *arg)
{
	return arg[0] == '=' ? arg + 1 : arg;
}

int parse_output(const char *s, enum out_fmt *out)
{
	static const char *const names[] = {"", "wide", "json", "yaml"};

	for (int i = 1; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum out_fmt)i;
			return 0;
		}
	return -1;
}

/* --socket is global and may sit anywhere (before "--"): take it out of
 * argv so that the subcommands' getopt never sees it. */
static int take_socket_flag(int *argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strncmp(argv[i], "--socket=", 9)) {
			socket_path = argv[i] + 9;
		} else if (!strcmp(argv[i], "--socket")) {
			if (i + 1 == *argc) {
				fprintf(stderr, "podtrace: flag needs an argument: --socket\n");
				return -1;
			}
			socket_path = argv[++i];
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	const char *env = getenv("PODTRACE_SOCKET");

	/* a daemon that goes away mid-request is an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if (take_socket_flag(&argc, argv))
		return EXIT_USAGE;
	if (!socket_path || !*socket_path)
		socket_path = env && *env ? env : DEF_SOCKET;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return 0;
	}
	/* "podtrace help get" is "podtrace get --help" */
	if (!strcmp(argv[1], "help") && (c = find_cmd(argv[2])))
		return c->fn(2, (char *[]){argv[2], "--help", NULL});
	c = find_cmd(argv[1]);
	if (!c) {
		fprintf(stderr, "podtrace: unknown %s \"%s\"\nRun 'podtrace --help' for usage.\n",
			argv[1][0] == '-' ? "flag" : "command",
			!strcmp(argv[1], "help") ? argv[2] : argv[1]);
		return EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
