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
/* One request, one response. NULL when the daemon can't be reached or
 * answered garbage; err says why. Does not look at "error". */
json_t *client_try(json_t *req, char *err, size_t errlen);
/* client_try, reporting failures (unreachable, "error" in the response) on
 * stderr. Takes ownership of req. NULL on any failure. */
json_t *client_call(json_t *req);

/* table.c: kubectl-like text output */
struct tw; /* a text/tabwriter clone: cells end with '\t' */
struct tw *tw_new(int minwidth, int padding);
void tw_printf(struct tw *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Align, write to out, free t. */
void tw_flush(struct tw *t, FILE *out);
#define TW_TABLE 6, 3	 /* kubectl get */
#define TW_DESCRIBE 0, 2 /* kubectl describe */

json_t *jpath(json_t *v, const char *dotted); /* "spec.clusterIP" */
const char *jstr(json_t *v, const char *dotted, const char *dflt);
void fmt_age(json_t *obj, char *buf, size_t len);
void human_duration(long long secs, char *buf, size_t len);
/* {"a":"b","c":"d"} -> "a=b,c=d" (sorted), "<none>" when empty. Malloc'd. */
char *fmt_labels(json_t *map);
/* Strings of an array joined with sep; dflt when there are none. Malloc'd. */
char *join_strings(json_t *arr, const char *sep, const char *dflt);
int print_json(json_t *v);
int print_yaml(json_t *v);

/* subcommands */
int cmd_apply(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
