// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pods as kubectl shows them, shared by get, describe, logs and exec: the
 * STATUS column (kubectl's pkg/printers/internalversion printPod), the
 * default container choice and the daemon's container look-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static long long jint_of(json_t *v, const char *dotted)
{
	return (long long)json_integer_value(jpath(v, dotted));
}

/* An init container with restartPolicy Always is a sidecar (KEP-753). */
static bool restartable_init(json_t *pod, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach (jpath(pod, "spec.initContainers"), i, c)
		if (!strcmp(jstr(c, "name", ""), name))
			return !strcmp(jstr(c, "restartPolicy", ""), "Always");
	return false;
}

static bool has_condition(json_t *pod, const char *type, const char *status)
{
	size_t i;
	json_t *c;

	json_array_foreach (jpath(pod, "status.conditions"), i, c)
		if (!strcmp(jstr(c, "type", ""), type) && !strcmp(jstr(c, "status", ""), status))
			return true;
	return false;
}

bool pod_phase_terminal(json_t *pod)
{
	const char *phase = jstr(pod, "status.phase", "");

	return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
}

/* A terminated state without a reason: "Signal:9" or "ExitCode:3". */
static void terminated_code(char *buf, size_t len, const char *prefix, json_t *term)
{
	long long sig = jint_of(term, "signal");

	if (sig)
		snprintf(buf, len, "%sSignal:%lld", prefix, sig);
	else
		snprintf(buf, len, "%sExitCode:%lld", prefix, jint_of(term, "exitCode"));
}

/* The init containers' part of printPod; true while the pod initializes. */
static bool init_status(json_t *pod, struct pod_summary *s, int *sidecar_restarts)
{
	size_t n_init = json_array_size(jpath(pod, "spec.initContainers")), i;
	json_t *c;

	json_array_foreach (jpath(pod, "status.initContainerStatuses"), i, c) {
		json_t *term = jpath(c, "state.terminated");
		const char *wait = jstr(c, "state.waiting.reason", "");
		bool sidecar = restartable_init(pod, jstr(c, "name", ""));

		s->restarts += (int)jint_of(c, "restartCount");
		if (sidecar)
			*sidecar_restarts += (int)jint_of(c, "restartCount");
		if (term && !jint_of(term, "exitCode"))
			continue;
		if (sidecar && json_is_true(json_object_get(c, "started"))) {
			s->ready += json_is_true(json_object_get(c, "ready"));
			continue;
		}
		if (term && *jstr(term, "reason", ""))
			snprintf(s->status, sizeof(s->status), "Init:%s", jstr(term, "reason", ""));
		else if (term)
			terminated_code(s->status, sizeof(s->status), "Init:", term);
		else if (*wait && strcmp(wait, "PodInitializing"))
			snprintf(s->status, sizeof(s->status), "Init:%s", wait);
		else
			snprintf(s->status, sizeof(s->status), "Init:%zu/%zu", i, n_init);
		return true;
	}
	return false;
}

void pod_summarize(json_t *pod, struct pod_summary *s)
{
	const char *phase = jstr(pod, "status.phase", "");
	int sidecar_restarts = 0;
	size_t i, n;
	json_t *c;

	memset(s, 0, sizeof(*s));
	s->total = (int)json_array_size(jpath(pod, "spec.containers"));
	json_array_foreach (jpath(pod, "spec.initContainers"), i, c)
		s->total += !strcmp(jstr(c, "restartPolicy", ""), "Always");
	snprintf(s->status, sizeof(s->status), "%s", jstr(pod, "status.reason", phase));
	json_array_foreach (jpath(pod, "status.conditions"), i, c)
		if (!strcmp(jstr(c, "type", ""), "PodScheduled") &&
		    !strcmp(jstr(c, "reason", ""), "SchedulingGated"))
			snprintf(s->status, sizeof(s->status), "SchedulingGated");

	if (!init_status(pod, s, &sidecar_restarts) || has_condition(pod, "Initialized", "True")) {
		json_t *cs = jpath(pod, "status.containerStatuses");
		bool running = false;

		s->restarts = sidecar_restarts;
		/* backwards: the first container's reason wins */
		for (n = json_array_size(cs); n-- > 0;) {
			json_t *term;
			const char *wait;

			c = json_array_get(cs, n);
			term = jpath(c, "state.terminated");
			wait = jstr(c, "state.waiting.reason", "");
			s->restarts += (int)jint_of(c, "restartCount");
			if (*wait)
				snprintf(s->status, sizeof(s->status), "%s", wait);
			else if (term && *jstr(term, "reason", ""))
				snprintf(s->status, sizeof(s->status), "%s",
					 jstr(term, "reason", ""));
			else if (term)
				terminated_code(s->status, sizeof(s->status), "", term);
			else if (json_is_true(json_object_get(c, "ready")) &&
				 jpath(c, "state.running")) {
				running = true;
				s->ready++;
			}
		}
		/* a pod with a container still running is not Completed */
		if (!strcmp(s->status, "Completed") && running)
			snprintf(s->status, sizeof(s->status), "%s",
				 has_condition(pod, "Ready", "True") ? "Running" : "NotReady");
	}

	if (jpath(pod, "metadata.deletionTimestamp") &&
	    !strcmp(jstr(pod, "status.reason", ""), "NodeLost"))
		snprintf(s->status, sizeof(s->status), "Unknown");
	else if (jpath(pod, "metadata.deletionTimestamp") && !pod_phase_terminal(pod))
		snprintf(s->status, sizeof(s->status), "Terminating");
}

const char *pod_arg_name(const char *arg)
{
	if (!strncmp(arg, "pod/", 4))
		return arg + 4;
	if (!strncmp(arg, "pods/", 5))
		return arg + 5;
	if (!strncmp(arg, "po/", 3))
		return arg + 3;
	return arg;
}

json_t *pod_fetch(const char *ns, const char *name)
{
	json_t *resp = client_call_named(json_pack("{s:s,s:s,s:s,s:s}", "cmd", "get", "kind",
						   "pods", "namespace", ns, "name", name),
					 "pods", name);
	json_t *pod;

	if (!resp)
		return NULL;
	pod = json_incref(json_array_get(json_object_get(resp, "items"), 0));
	json_decref(resp);
	if (!pod)
		fprintf(stderr, "Error from server (NotFound): pods \"%s\" not found\n", name);
	return pod;
}

json_t *pod_container_spec(json_t *pod, const char *name, bool *init)
{
	static const char *const lists[] = {"spec.containers", "spec.initContainers"};
	size_t i;
	json_t *c;

	for (int l = 0; l < 2; l++)
		json_array_foreach (jpath(pod, lists[l]), i, c)
			if (!strcmp(jstr(c, "name", ""), name)) {
				if (init)
					*init = l == 1;
				return c;
			}
	return NULL;
}

/* kubectl's "a, b, setup (init)" */
static void all_container_names(json_t *pod, FILE *f)
{
	size_t i;
	json_t *c;
	int n = 0;

	json_array_foreach (jpath(pod, "spec.containers"), i, c)
		fprintf(f, "%s%s", n++ ? ", " : "", jstr(c, "name", ""));
	json_array_foreach (jpath(pod, "spec.initContainers"), i, c)
		fprintf(f, "%s%s (init)", n++ ? ", " : "", jstr(c, "name", ""));
}

const char *pod_default_container(json_t *pod)
{
	/* annotation keys hold dots: no jpath() */
	const char *ann = json_string_value(json_object_get(
	    jpath(pod, "metadata.annotations"), "kubectl.kubernetes.io/default-container"));
	json_t *ctrs = jpath(pod, "spec.containers");

	if (ann && pod_container_spec(pod, ann, NULL))
		return ann;
	if (!json_array_size(ctrs))
		return NULL;
	if (json_array_size(ctrs) > 1 || json_array_size(jpath(pod, "spec.initContainers"))) {
		fprintf(stderr, "Defaulted container \"%s\" out of: ",
			jstr(json_array_get(ctrs, 0), "name", ""));
		all_container_names(pod, stderr);
		fputc('\n', stderr);
	}
	return jstr(json_array_get(ctrs, 0), "name", NULL);
}

json_t *pod_container_info(const char *ns, const char *name, const char *ctr)
{
	json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", "container", "namespace", ns, "name", name);
	char err[1024];
	json_t *resp;
	const char *msg;

	if (ctr)
		json_object_set_new(req, "container", json_string(ctr));
	resp = client_try(req, err, sizeof(err));
	json_decref(req);
	if (!resp) {
		fprintf(stderr, "podtrace: %s\n", err);
		return NULL;
	}
	msg = json_string_value(json_object_get(resp, "error"));
	if (msg && strstr(msg, " not found"))
		fprintf(stderr, "Error from server (NotFound): pods \"%s\" not found\n", name);
	else if (msg && strstr(msg, "is not valid for pod"))
		fprintf(stderr, "error: %s\n", msg);
	else if (msg)
		fprintf(stderr, "Error from server: %s\n", msg);
	if (msg || !jstr(resp, "log", NULL) || !jstr(resp, "netns", NULL)) {
		if (!msg)
			fprintf(stderr, "podtrace: the daemon's container reply lacks log/netns\n");
		json_decref(resp);
		return NULL;
	}
	return resp;
}

void fmt_rfc1123z(const char *ts, char *buf, size_t len)
{
	time_t t;
	struct tm tm;

	if (!ts || parse_rfc3339(ts, &t) || !localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm))
		snprintf(buf, len, "%s", "");
}
