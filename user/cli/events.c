// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * events: the daemon's event stream (docs/events.md). One request line,
 * then newline-delimited JSON until {"type":"end"} (or, with -f, until the
 * user or the daemon stops it). The daemon sends every event; namespace,
 * pod, container and type are filtered here.
 *
 * Loss is never hidden: the counters of the opening "stream" record and
 * every "lost" record become warnings on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static const char events_usage[] =
    "Usage: podtrace events [-n NS | -A] [--pod REGEX] [-c CONTAINER] [--type exec,exit,...]\n"
    "                       [-f] [--since DURATION] [-o compact|wide|json]\n"
    "\n"
    "Print what podtrace saw of its pods: process events from the kernel (exec,\n"
    "exit, fork, oom, fatal signals, cgroup changes), the runtime's lifecycle\n"
    "stages and, with podtraced --connect-events, Service connections.\n"
    "\n"
    "Without -f, the daemon's history (the last 65536 events) newer than --since\n"
    "(default: all of it) is printed and the command ends. With -f, live events\n"
    "follow the history until interrupted. Events lost in the kernel, pushed out\n"
    "of the history or not delivered to a slow reader are reported on stderr.\n"
    "\n"
    "Types: exec, exit, fork, oom, signal, cgroup_mkdir, cgroup_rmdir,\n"
    "cgroup_attach, connect, reject, lifecycle.\n"
    "\n"
    "Flags:\n"
    "  -n, --namespace NS       only events of pods in NS (default \"default\")\n"
    "  -A, --all-namespaces     events of every namespace, and events not\n"
    "                           attributed to a pod (-n is then ignored)\n"
    "      --pod REGEX          only pods whose name matches the POSIX extended\n"
    "                           regular expression (anywhere: anchor with ^...$)\n"
    "  -c, --container NAME     only events of container NAME\n"
    "      --type LIST          only these types (comma-separated)\n"
    "  -f, --follow             go on with live events after the history\n"
    "      --since DURATION     only events newer than DURATION (30s, 5m, 1h30m)\n"
    "  -o, --output FORMAT      compact (default), wide or json (one object a line,\n"
    "                           as the daemon sent it)\n"
    "  -h, --help               show this help\n";

static const char *const known_types[] = {
    "exec",	    "exit",	     "fork",	"oom",	  "signal",    "cgroup_mkdir",
    "cgroup_rmdir", "cgroup_attach", "connect", "reject", "lifecycle",
};
#define N_TYPES (sizeof(known_types) / sizeof(known_types[0]))

enum ev_out { EV_COMPACT, EV_WIDE, EV_JSON };

struct events_args {
	const char *ns, *ctr;
	bool all, follow, have_pod_re;
	regex_t pod_re;
	bool types[N_TYPES]; /* all false: every type */
	bool any_type;
	long long since; /* seconds, 0: all the history */
	enum ev_out out;
	bool colour, utf8;
};

/* ---- flags ---- */

static int type_index(const char *name, size_t len)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (strlen(known_types[i]) == len && !strncmp(known_types[i], name, len))
			return (int)i;
	return -1;
}

static int parse_types(struct events_args *a, const char *list)
{
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");
		int t = type_index(p, n);

		if (n) { /* "exec," and "exec,,exit" are forgiven */
			if (t < 0)
				return usage_error("events", events_usage,
						   "unknown event type \"%.*s\" in --type", (int)n,
						   p);
			a->types[t] = true;
			a->any_type = true;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	if (!a->any_type)
		return usage_error("events", events_usage, "--type needs at least one type");
	return 0;
}

/* Go's time.ParseDuration, as kubectl's --since: "300ms", "1.5h", "1h30m".
 * Whole seconds rounded up (an event a fraction of a second too old is
 * better shown than lost); -1 when invalid or not positive. */
static long long parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	    {"ns", 1},	 {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
	    {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	  {"h", 3600e9},
	};
	double total = 0;

	if (*s == '+')
		s++;
	if (!*s || !strcmp(s, "0"))
		return -1;
	while (*s) {
		char *end;
		size_t best = 0;
		double v, mult = 0;

		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s || v < 0)
			return -1;
		/* strtod would take "1e3" or "0x10": Go wouldn't */
		for (const char *q = s; q < end; q++)
			if (!((*q >= '0' && *q <= '9') || *q == '.'))
				return -1;
		s = end;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			if (n > best && !strncmp(s, units[i].unit, n)) {
				best = n;
				mult = units[i].ns;
			}
		}
		if (!best)
			return -1; /* "5": Go wants a unit */
		s += best;
		total += v * mult;
	}
	if (total <= 0 || total > 1e9 * 1e12)
		return -1;
	return (long long)((total + 1e9 - 1) / 1e9);
}

/* ---- filtering ---- */

static bool wanted(const struct events_args *a, json_t *e)
{
	const char *ns = jstr(e, "namespace", NULL), *pod = jstr(e, "pod", NULL);
	const char *ctr = jstr(e, "container", NULL), *type = jstr(e, "type", "");

	if (!a->all && (!ns || strcmp(ns, a->ns)))
		return false;
	if (a->have_pod_re && (!pod || regexec(&a->pod_re, pod, 0, NULL, 0)))
		return false;
	if (a->ctr && (!ctr || strcmp(ctr, a->ctr)))
		return false;
	if (a->any_type) {
		int t = type_index(type, strlen(type));
		if (t < 0 || !a->types[t])
			return false;
	}
	return true;
}

/* ---- compact and wide lines ---- */

static const char *const sig_names[] = {
    [1] = "SIGHUP",	[2] = "SIGINT",	  [3] = "SIGQUIT",   [4] = "SIGILL",   [5] = "SIGTRAP",
    [6] = "SIGABRT",	[7] = "SIGBUS",	  [8] = "SIGFPE",    [9] = "SIGKILL",  [10] = "SIGUSR1",
    [11] = "SIGSEGV",	[12] = "SIGUSR2", [13] = "SIGPIPE",  [14] = "SIGALRM", [15] = "SIGTERM",
    [16] = "SIGSTKFLT", [17] = "SIGCHLD", [18] = "SIGCONT",  [19] = "SIGSTOP", [20] = "SIGTSTP",
    [21] = "SIGTTIN",	[22] = "SIGTTOU", [23] = "SIGURG",   [24] = "SIGXCPU", [25] = "SIGXFSZ",
    [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO",   [30] = "SIGPWR",
    [31] = "SIGSYS",
};

static void put_signal(FILE *f, long long sig)
{
	if (sig > 0 && sig < (long long)(sizeof(sig_names) / sizeof(sig_names[0])))
		fputs(sig_names[sig], f);
	else
		fprintf(f, "SIG%lld", sig);
}

static long long jint(json_t *e, const char *key)
{
	return (long long)json_integer_value(json_object_get(e, key));
}

/* Strings from a container go to a terminal: no control characters. */
static void put_safe(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* An argument as a shell would need it: quoted when empty or when it holds
 * blanks, quotes or shell syntax. */
static void put_arg(FILE *f, const char *s)
{
	if (*s && !s[strcspn(s, " \t\n'\"\\$`;&|<>()*?[]{}#~!")]) {
		put_safe(f, s);
		return;
	}
	fputc('\'', f);
	for (const char *p = s; *p; p++) {
		char one[2] = {*p, 0};
		if (*p == '\'')
			fputs("'\\''", f);
		else
			put_safe(f, one);
	}
	fputc('\'', f);
}

/* 850ms, 1.204s, 2m3s, 5h12m */
static void fmt_ns(long long ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000000)
		snprintf(buf, len, "%lldus", ns / 1000);
	else if (ns < 1000000000)
		snprintf(buf, len, "%lldms", ns / 1000000);
	else if (ns < 60000000000ll)
		snprintf(buf, len, "%.3fs", (double)ns / 1e9);
	else
		human_duration(ns / 1000000000, buf, len);
}

/* The event's "time" (RFC 3339, UTC, ns) in local time: "15:04:05.000"
 * (compact) or "2006-01-02T15:04:05.000000000-07:00" (wide). */
static void fmt_time(json_t *e, bool full, char *buf, size_t len)
{
	const char *ts = jstr(e, "time", ""), *dot = strchr(ts, '.');
	char frac[10] = "000000000", zone[8];
	struct tm tm;
	time_t t;
	size_t n = 0;

	if (parse_rfc3339(ts, &t) || !localtime_r(&t, &tm)) {
		snprintf(buf, len, full ? "%-35s" : "%-12s", "?");
		return;
	}
	if (dot)
		for (dot++; n < 9 && dot[n] >= '0' && dot[n] <= '9'; n++)
			frac[n] = dot[n];
	if (!full) {
		size_t k = strftime(buf, len, "%H:%M:%S", &tm);
		snprintf(buf + k, len - k, ".%.3s", frac);
		return;
	}
	size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm); /* +0200 -> +02:00 */
	snprintf(buf + k, len - k, ".%s%.3s:%s", frac, zone, zone + 3);
}

static const char *type_colour(const char *type, json_t *e)
{
	if (!strcmp(type, "exec"))
		return "\033[32m"; /* green */
	if (!strcmp(type, "exit"))
		return jint(e, "exitCode") || jint(e, "signal") ? "\033[31m" : "\033[2m";
	if (!strcmp(type, "signal"))
		return "\033[33m"; /* yellow */
	if (!strcmp(type, "oom"))
		return "\033[1;31m"; /* bold red */
	if (!strcmp(type, "fork"))
		return "\033[2m"; /* dim */
	if (!strcmp(type, "lifecycle"))
		return "\033[36m"; /* cyan */
	if (!strcmp(type, "connect"))
		return "\033[34m"; /* blue */
	if (!strcmp(type, "reject"))
		return "\033[35m"; /* magenta */
	return "\033[90m";	   /* cgroup_*, anything new: grey */
}

static void put_addr(FILE *f, json_t *a)
{
	const char *ip = jstr(a, "ip", "?");

	fprintf(f, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip, jint(a, "port"));
}

/* What matters of each type, after the attribution. with_pid: wide mode
 * prints the pid in the id columns already. */
static void put_details(FILE *f, json_t *e, const char *type, bool with_pid, bool utf8)
{
	char pid[32] = "";

	if (with_pid && json_object_get(e, "pid"))
		snprintf(pid, sizeof(pid), "%lld ", jint(e, "pid"));
	if (!strcmp(type, "exec")) {
		json_t *args = json_object_get(e, "args");
		size_t i;
		json_t *v;

		fputs(pid, f);
		put_safe(f, jstr(e, "binary", jstr(e, "comm", "?")));
		/* args[0] is the name the binary was run as: the path says it */
		json_array_foreach (args, i, v)
			if (i && json_is_string(v)) {
				fputc(' ', f);
				put_arg(f, json_string_value(v));
			}
		if (json_is_true(json_object_get(e, "argsTruncated")))
			fputs(utf8 ? " \xe2\x80\xa6" : " ...", f);
	} else if (!strcmp(type, "exit")) {
		char life[32];

		fputs(pid, f);
		put_safe(f, jstr(e, "comm", "?"));
		if (jint(e, "signal")) {
			fputs(" signal=", f);
			put_signal(f, jint(e, "signal"));
		} else {
			fprintf(f, " exit=%lld", jint(e, "exitCode"));
		}
		if (json_object_get(e, "lifetimeNs")) {
			fmt_ns(jint(e, "lifetimeNs"), life, sizeof(life));
			fprintf(f, " after %s", life);
		}
	} else if (!strcmp(type, "signal")) {
		put_signal(f, jint(e, "signal"));
		fprintf(f, " to %lld ", jint(e, "pid"));
		put_safe(f, jstr(e, "comm", "?"));
		fputs(" from ", f);
		put_safe(f, jstr(e, "senderComm", "?"));
		fprintf(f, "(%lld)", jint(e, "senderPid"));
	} else if (!strcmp(type, "oom")) {
		fputs(pid, f);
		put_safe(f, jstr(e, "comm", "?"));
		if (json_object_get(e, "anonRssKb"))
			fprintf(f, " anon-rss=%lldkB", jint(e, "anonRssKb"));
	} else if (!strcmp(type, "fork")) {
		fputs(pid, f);
		put_safe(f, jstr(e, "comm", "?"));
		fprintf(f, " -> %lld", jint(e, "childPid"));
	} else if (!strcmp(type, "lifecycle")) {
		/* the container is in the attribution already */
		const char *src = jstr(e, "stageSource", jstr(e, "source", ""));

		put_safe(f, jstr(e, "stage", "?"));
		if (*jstr(e, "detail", "")) {
			fputc(' ', f);
			put_safe(f, jstr(e, "detail", ""));
		}
		if (!strcmp(src, "kernel"))
			fputs(" (kernel)", f);
	} else if (!strcmp(type, "connect")) {
		put_safe(f, jstr(e, "service", "?"));
		fputs(" -> ", f);
		put_addr(f, json_object_get(e, "backend"));
	} else if (!strcmp(type, "reject")) {
		put_safe(f, jstr(e, "service", "?"));
		fputs(" (no endpoint)", f);
		if (json_object_get(e, "frontend")) {
			fputs(" for ", f);
			put_addr(f, json_object_get(e, "frontend"));
		}
	} else if (!strncmp(type, "cgroup_", 7)) {
		fputs(pid, f);
		put_safe(f, jstr(e, "path", "?"));
	} else {
		fputs(pid, f);
		put_safe(f, jstr(e, "comm", ""));
	}
}

/* ns/pod/container; cgroup:ID for what no pod claims. */
static void put_who(FILE *f, json_t *e)
{
	const char *ns = jstr(e, "namespace", ""), *pod = jstr(e, "pod", "");

	if (*pod) {
		put_safe(f, *ns ? ns : "-");
		fputc('/', f);
		put_safe(f, pod);
		if (*jstr(e, "container", "")) {
			fputc('/', f);
			put_safe(f, jstr(e, "container", ""));
		}
	} else if (json_object_get(e, "cgroupId")) {
		fprintf(f, "cgroup:%lld", jint(e, "cgroupId"));
	} else {
		fputc('-', f);
	}
}

static void print_event(const struct events_args *a, json_t *e)
{
	const char *type = jstr(e, "type", "?");
	bool wide = a->out == EV_WIDE;
	char when[64];

	fmt_time(e, wide, when, sizeof(when));
	printf("%s ", when);
	if (a->colour)
		fputs(type_colour(type, e), stdout);
	printf("%-9s", type);
	if (a->colour)
		fputs("\033[0m", stdout);
	putchar(' ');
	put_who(stdout, e);
	if (wide) {
		/* the ids the event has, "-" for the others */
		static const char *const ids[][2] = {
		    {"pid", "pid"}, {"ppid", "ppid"}, {"uid", "uid"}, {"cgroupId", "cgroup"}};
		for (size_t i = 0; i < 4; i++) {
			json_t *v = json_object_get(e, ids[i][0]);
			if (json_is_integer(v))
				printf(" %s=%lld", ids[i][1], (long long)json_integer_value(v));
		}
		if (*jstr(e, "node", ""))
			printf(" node=%s", jstr(e, "node", ""));
	}
	putchar(' ');
	put_details(stdout, e, type, !wide, a->utf8);
	putchar('\n');
}

/* ---- the stream ---- */

/* a finite answer has a deadline, as in client.c; -f waits forever */
static int dial_stream(bool follow)
{
	return client_dial(socket_path, follow ? 0 : 120);
}

static int send_request(int fd, const struct events_args *a)
{
	json_t *req = json_pack("{s:s,s:b,s:b,s:I}", "cmd", "events", "follow", a->follow, "all",
				!a->since, "sinceSeconds", (json_int_t)a->since);
	char *line = json_dumps(req, JSON_COMPACT);
	size_t len, off = 0;
	int rc = 0;

	json_decref(req);
	if (!line)
		return -1;
	len = strlen(line);
	line[len++] = '\n'; /* over the NUL: sent with its length */
	/* no shutdown(SHUT_WR) as client.c does: the daemon takes a half-closed
	 * connection for a subscriber that went away */
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	free(line);
	return rc;
}

enum line_rc { LINE_MORE, LINE_END, LINE_STDOUT_GONE };

static enum line_rc handle_line(const struct events_args *a, const char *line, size_t len)
{
	json_error_t je;
	json_t *e = json_loadb(line, len, 0, &je);
	const char *type = jstr(e, "type", NULL);
	enum line_rc rc = LINE_MORE;

	if (!type) {
		fprintf(stderr, "warning: bad record from podtraced: %s\n",
			e ? "not an object with a type" : je.text);
	} else if (!strcmp(type, "stream")) {
		long long k = jint(e, "lostKernel"), h = jint(e, "lostHistory");
		if (k > 0 || h > 0)
			fprintf(stderr,
				"warning: %lld events lost in the kernel ring buffer, %lld dropped "
				"from history\n",
				k, h);
	} else if (!strcmp(type, "lost")) {
		fprintf(stderr, "warning: %lld events not delivered to this client (too slow)\n",
			jint(e, "count"));
	} else if (!strcmp(type, "end")) {
		rc = LINE_END;
	} else if (wanted(a, e)) {
		if (a->out == EV_JSON) {
			fwrite(line, 1, len, stdout);
			putchar('\n');
		} else {
			print_event(a, e);
		}
		/* a stream: each event as it comes (a pipe would buffer) */
		if (fflush(stdout) || ferror(stdout))
			rc = LINE_STDOUT_GONE;
	}
	json_decref(e);
	return rc;
}

/* Is stdout a pipe whose reader has gone (`events -f | head`)? Noticed
 * without waiting for the next event to fail writing. */
static bool stdout_gone(short revents)
{
	return revents & (POLLERR | POLLHUP);
}

static int stream(const struct events_args *a)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	int fd = dial_stream(a->follow), rc = 1;
	bool ended = false;

	if (fd < 0) {
		fprintf(stderr, "podtrace: cannot reach podtraced at %s: %s\n", socket_path,
			strerror(errno));
		free(buf);
		return 1;
	}
	if (send_request(fd, a)) {
		fprintf(stderr, "podtrace: cannot send to podtraced at %s: %s\n", socket_path,
			strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = STDOUT_FILENO}};
		char *nl, *start;
		ssize_t n;

		if (poll(p, 2, a->follow ? -1 : 120000) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (stdout_gone(p[1].revents)) {
			rc = 0;
			goto out;
		}
		if (!p[0].revents) {
			fprintf(stderr, "podtrace: no reply from podtraced at %s: timed out\n",
				socket_path);
			goto out;
		}
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				goto out;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				fprintf(stderr, "podtrace: reading from podtraced at %s: %s\n",
					socket_path, strerror(errno));
			break;
		}
		len += (size_t)n;
		for (start = buf; (nl = memchr(start, '\n', len - (size_t)(start - buf)));
		     start = nl + 1) {
			enum line_rc r =
			    nl > start ? handle_line(a, start, (size_t)(nl - start)) : LINE_MORE;
			if (r == LINE_STDOUT_GONE) {
				rc = 0;
				goto out;
			}
			if (r == LINE_END) {
				ended = true;
				rc = 0;
				goto out;
			}
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
	}
	/* EOF: with -f the daemon went away; without, the end record is
	 * missing, so the history printed may be incomplete */
	if (!ended)
		fprintf(stderr, "podtrace: podtraced at %s closed the event stream%s\n",
			socket_path, a->follow ? "" : " before its end");
out:
	close(fd);
	free(buf);
	return rc;
}

bool cli_utf8(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};

	/* the first one set decides, as setlocale(LC_CTYPE, "") would */
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

static const struct option events_opts[] = {
    {"namespace", required_argument, NULL, 'n'},
    {"all-namespaces", no_argument, NULL, 'A'},
    {"pod", required_argument, NULL, 'p'},
    {"container", required_argument, NULL, 'c'},
    {"type", required_argument, NULL, 't'},
    {"follow", no_argument, NULL, 'f'},
    {"since", required_argument, NULL, 's'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_events(int argc, char **argv)
{
	struct events_args a = {.ns = "default"};
	const char *pod_re = NULL, *v;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:Ac:fo:h", events_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a.ns = flag_value(optarg);
			break;
		case 'A':
			a.all = true;
			break;
		case 'p':
			pod_re = optarg;
			break;
		case 'c':
			a.ctr = flag_value(optarg);
			break;
		case 't':
			if ((rc = parse_types(&a, optarg)))
				return rc;
			break;
		case 'f':
			a.follow = true;
			break;
		case 's':
			a.since = parse_duration(optarg);
			if (a.since < 0)
				return usage_error("events", events_usage,
						   "invalid argument \"%s\" for --since (want a "
						   "positive duration: 30s, 5m, 1h30m)",
						   optarg);
			break;
		case 'o':
			v = flag_value(optarg);
			if (!strcmp(v, "compact"))
				a.out = EV_COMPACT;
			else if (!strcmp(v, "wide"))
				a.out = EV_WIDE;
			else if (!strcmp(v, "json"))
				a.out = EV_JSON;
			else
				return usage_error(
				    "events", events_usage,
				    "unknown output format \"%s\" (compact, wide or json)", v);
			break;
		case 'h':
			fputs(events_usage, stdout);
			return 0;
		default:
			return bad_flag("events", events_usage, c, argv);
		}
	}
	if (optind < argc)
		return usage_error("events", events_usage, "unexpected argument \"%s\"",
				   argv[optind]);
	if (pod_re) {
		char msg[256];
		int e = regcomp(&a.pod_re, pod_re, REG_EXTENDED | REG_NOSUB);
		if (e) {
			regerror(e, &a.pod_re, msg, sizeof(msg));
			return usage_error("events", events_usage, "invalid --pod \"%s\": %s",
					   pod_re, msg);
		}
		a.have_pod_re = true;
	}
	a.colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	a.utf8 = cli_utf8();
	rc = stream(&a);
	if (a.have_pod_re)
		regfree(&a.pod_re);
	return rc;
}
