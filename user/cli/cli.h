/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * podtrace, the command line client of podtraced. One file per subcommand;
 * they share the socket round trip (client.c) and the output helpers
 * (table.c). Subcommands return the process exit code.
 */
#ifndef PT_CLI_H
#define PT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <jansson.h>

#define EXIT_USAGE 2
#define DEF_SOCKET "/run/podtrace/podtraced.sock"

/* main.c */
extern const char *socket_path;
/* Print "podtrace CMD: <msg>", the usage line and a hint to stderr;
 * returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* getopt returned '?' or ':' (optstring starts with ':'): say which flag. */
int bad_flag(const char *cmd, const char *usage, int c, char **argv);
/* optarg, minus the "=" of pflag's "-o=json" form that kubectl users type. */
const char *flag_value(const char *optarg);
/* The `-n NS` and `-o FMT` flags that several subcommands share. */
enum out_fmt { OUT_TABLE, OUT_WIDE, OUT_JSON, OUT_YAML };
int parse_output(const char *s, enum out_fmt *out);

/* client.c */
/* Connect to the daemon's socket; timeout_s 0 = reads may wait forever. */
int client_dial(const char *path, int timeout_s);
/* One request, one response. NULL when the daemon can't be reached or
 * answered garbage; err says why. Does not look at "error". */
json_t *client_try(json_t *req, char *err, size_t errlen);
/* client_try, reporting failures (unreachable, "error" in the response) on
 * stderr. Takes ownership of req. NULL on any failure. */
json_t *client_call(json_t *req);
/* The same, passing a descriptor along with the request (apply's file). */
json_t *client_try_fd(json_t *req, int pass_fd, char *err, size_t errlen);
json_t *client_call_fd(json_t *req, int pass_fd);
/* client_call for requests about one named object of a kind: a "not found"
 * from the daemon is printed as kubectl does, `Error from server
 * (NotFound): pods "x" not found` (resource is the plural, "pods"). */
json_t *client_call_named(json_t *req, const char *resource, const char *name);

/* table.c: kubectl-like text output */
struct tw; /* a text/tabwriter clone: cells end with '\t' */
struct tw *tw_new(int minwidth, int padding);
void tw_printf(struct tw *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Align, write to out, free t. */
void tw_flush(struct tw *t, FILE *out);
#define TW_TABLE 6, 3	 /* kubectl get */
#define TW_DESCRIBE 0, 2 /* kubectl describe */

json_t *jpath(json_t *v, const char *dotted); /* "spec.clusterIP" */
const char *jstr(json_t *v, const char *dotted, const char *dflt);
void fmt_age(json_t *obj, char *buf, size_t len);
/* RFC 3339 ("2024-05-01T10:00:00Z") to seconds; -1 when unparsable. */
int parse_rfc3339(const char *s, time_t *out);
/* Seconds since an RFC 3339 time as human_duration; "<unknown>" if bad. */
void fmt_since(const char *ts, char *buf, size_t len);
void human_duration(long long secs, char *buf, size_t len);
/* {"a":"b","c":"d"} -> "a=b,c=d" (sorted), "<none>" when empty. Malloc'd. */
char *fmt_labels(json_t *map);
/* Strings of an array joined with sep; dflt when there are none. Malloc'd. */
char *join_strings(json_t *arr, const char *sep, const char *dflt);
int print_json(json_t *v);
int print_yaml(json_t *v);

/* describe.c: kubectl describe's building blocks */
/* Keys of a JSON object, sorted; NULL-terminated, caller frees the array. */
const char **sorted_keys(json_t *obj, size_t *n);
void labels_multiline(struct tw *t, const char *title, json_t *labels);
void annotations_multiline(struct tw *t, json_t *ann);

/* pods.c: Pods as kubectl shows them */
struct pod_summary {
	int ready, total, restarts;
	char status[128]; /* the STATUS column */
};
/* kubectl's printPod: READY, STATUS and RESTARTS of a Pod with status. */
void pod_summarize(json_t *pod, struct pod_summary *s);
/* "pod/NAME" and "pods/NAME" (kubectl's TYPE/NAME form) -> NAME. */
const char *pod_arg_name(const char *arg);
/* The Pod with its status; NULL after printing kubectl's error. */
json_t *pod_fetch(const char *ns, const char *name);
bool pod_phase_terminal(json_t *pod);
/* The container that `logs` and `exec` use when -c is not given: the
 * kubectl.kubernetes.io/default-container annotation, else the first one.
 * Prints kubectl's "Defaulted container" note when there was a choice. */
const char *pod_default_container(json_t *pod);
/* The spec of container NAME (init containers too), or NULL. */
json_t *pod_container_spec(json_t *pod, const char *name, bool *init);
/* Ask the daemon where container ctr (NULL: the default) lives:
 * {"container","log","netns","cgroups","running"}. NULL after printing
 * kubectl's error. */
json_t *pod_container_info(const char *ns, const char *name, const char *ctr);
/* RFC 1123 with numeric zone in local time, as kubectl describe prints
 * times ("Mon, 02 Jan 2006 15:04:05 -0700"); "" when ts is bad. */
void fmt_rfc1123z(const char *ts, char *buf, size_t len);
int describe_pod(const char *ns, const char *name, int *shown);

/* events.c */
/* Can the terminal show UTF-8 (LC_ALL, LC_CTYPE or LANG says so)? */
bool cli_utf8(void);

/* subcommands */
int cmd_apply(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
