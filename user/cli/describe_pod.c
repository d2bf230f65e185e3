// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * describe pod: kubectl describe's text for a Pod (kubectl's describePod in
 * k8s.io/kubectl/pkg/describe), from the spec and the live status that the
 * daemon's runtime reports. There are no events to show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "k8s.h"

static long long jint_or(json_t *v, const char *dotted, long long dflt)
{
	json_t *n = jpath(v, dotted);

	return json_is_integer(n) ? (long long)json_integer_value(n) : dflt;
}

/* A quantity ("500m", 1, 0.5) or an int-or-string port, as written. */
static void scalar(FILE *f, json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), f);
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%g", json_real_value(v));
}

static char *scalar_str(json_t *v)
{
	size_t len;
	char *out;
	FILE *f = open_memstream(&out, &len);

	scalar(f, v);
	fclose(f);
	return out;
}

/* kubectl's "%v" of a []string: "[a b c]" */
static void go_list(FILE *f, json_t *arr)
{
	size_t i;
	json_t *v;

	fputc('[', f);
	json_array_foreach (arr, i, v)
		fprintf(f, "%s%s", i ? " " : "", json_string_value(v) ?: "");
	fputc(']', f);
}

/* kubectl's DescribeProbe, with the API server's defaults filled in. */
static char *probe_line(json_t *p)
{
	json_t *h = json_object_get(p, "httpGet"), *tcp = json_object_get(p, "tcpSocket");
	json_t *grpc = json_object_get(p, "grpc"), *ex = json_object_get(p, "exec");
	size_t len;
	char *out;
	FILE *f = open_memstream(&out, &len);

	if (ex) {
		fputs("exec ", f);
		go_list(f, json_object_get(ex, "command"));
	} else if (h) {
		const char *scheme = jstr(h, "scheme", "HTTP"), *host = jstr(h, "host", "");
		const char *path = jstr(h, "path", "");
		char *port = scalar_str(json_object_get(h, "port"));
		bool v6 = strchr(host, ':');

		fputs("http-get ", f);
		for (const char *s = scheme; *s; s++)
			fputc(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s, f);
		fprintf(f, "://%s%s%s%s%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "",
			*port ? ":" : "", port, *path && *path != '/' ? "/" : "", path);
		free(port);
	} else if (tcp) {
		char *port = scalar_str(json_object_get(tcp, "port"));
		fprintf(f, "tcp-socket %s:%s", jstr(tcp, "host", ""), port);
		free(port);
	} else if (grpc) {
		fprintf(f, "grpc <pod>:%lld %s", jint_or(grpc, "port", 0),
			jstr(grpc, "service", ""));
	} else {
		fputs("unknown", f);
	}
	fprintf(f, " delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld",
		jint_or(p, "initialDelaySeconds", 0), jint_or(p, "timeoutSeconds", 1),
		jint_or(p, "periodSeconds", 10), jint_or(p, "successThreshold", 1),
		jint_or(p, "failureThreshold", 3));
	fclose(f);
	return out;
}

/* "8080/TCP, 53/UDP" (host: the hostPort, 0 when unset) */
static char *ports_str(json_t *ports, bool host)
{
	size_t i, len;
	json_t *p;
	char *out;
	FILE *f = open_memstream(&out, &len);

	json_array_foreach (ports, i, p)
		fprintf(f, "%s%lld/%s", i ? ", " : "",
			jint_or(p, host ? "hostPort" : "containerPort", 0),
			jstr(p, "protocol", "TCP"));
	fclose(f);
	return out;
}

static void ports_line(struct tw *t, json_t *c, bool host)
{
	char *s = ports_str(json_object_get(c, "ports"), host);

	if (strchr(s, ','))
		tw_printf(t, "    %s:\t%s\n", host ? "Host Ports" : "Ports", s);
	else
		tw_printf(t, "    %s:\t%s\n", host ? "Host Port" : "Port", *s ? s : "<none>");
	free(s);
}

static void lines_of(struct tw *t, const char *indent, const char *s)
{
	for (;;) {
		size_t n = strcspn(s, "\n");
		tw_printf(t, "%s%.*s\n", indent, (int)n, s);
		if (!s[n])
			break;
		s += n + 1;
	}
}

static void command_lines(struct tw *t, json_t *c)
{
	static const char *const keys[] = {"command", "args"}, *const titles[] = {"Command",
										  "Args"};
	size_t i;
	json_t *v;

	for (int k = 0; k < 2; k++) {
		json_t *arr = json_object_get(c, keys[k]);
		if (!json_array_size(arr))
			continue;
		tw_printf(t, "    %s:\n", titles[k]);
		json_array_foreach (arr, i, v)
			lines_of(t, "      ", json_string_value(v) ?: "");
	}
}

/* kubectl's describeStatus: one ContainerState. */
static void state_lines(struct tw *t, const char *title, json_t *state)
{
	json_t *run = json_object_get(state, "running"), *wait = json_object_get(state, "waiting");
	json_t *term = json_object_get(state, "terminated");
	char when[64];

	if (run) {
		tw_printf(t, "    %s:\tRunning\n", title);
		fmt_rfc1123z(jstr(run, "startedAt", NULL), when, sizeof(when));
		tw_printf(t, "      Started:\t%s\n", when);
	} else if (term) {
		tw_printf(t, "    %s:\tTerminated\n", title);
		if (*jstr(term, "reason", ""))
			tw_printf(t, "      Reason:\t%s\n", jstr(term, "reason", ""));
		if (*jstr(term, "message", ""))
			tw_printf(t, "      Message:\t%s\n", jstr(term, "message", ""));
		tw_printf(t, "      Exit Code:\t%lld\n", jint_or(term, "exitCode", 0));
		if (jint_or(term, "signal", 0) > 0)
			tw_printf(t, "      Signal:\t%lld\n", jint_or(term, "signal", 0));
		fmt_rfc1123z(jstr(term, "startedAt", NULL), when, sizeof(when));
		tw_printf(t, "      Started:\t%s\n", when);
		fmt_rfc1123z(jstr(term, "finishedAt", NULL), when, sizeof(when));
		tw_printf(t, "      Finished:\t%s\n", when);
	} else {
		tw_printf(t, "    %s:\tWaiting\n", title);
		if (wait && *jstr(wait, "reason", ""))
			tw_printf(t, "      Reason:\t%s\n", jstr(wait, "reason", ""));
	}
}

static void resource_lines(struct tw *t, json_t *c)
{
	static const char *const paths[] = {"resources.limits", "resources.requests"};
	static const char *const titles[] = {"Limits", "Requests"};

	for (int k = 0; k < 2; k++) {
		json_t *m = jpath(c, paths[k]);
		size_t n;
		const char **names = sorted_keys(m, &n);

		if (n)
			tw_printf(t, "    %s:\n", titles[k]);
		for (size_t i = 0; i < n; i++) {
			char *q = scalar_str(json_object_get(m, names[i]));
			tw_printf(t, "      %s:\t%s\n", names[i], q);
			free(q);
		}
		free(names);
	}
}

static void probe_lines(struct tw *t, json_t *c)
{
	static const char *const keys[] = {"livenessProbe", "readinessProbe", "startupProbe"};
	static const char *const titles[] = {"Liveness", "Readiness", "Startup"};

	for (int k = 0; k < 3; k++) {
		json_t *p = json_object_get(c, keys[k]);
		if (!p)
			continue;
		char *s = probe_line(p);
		tw_printf(t, "    %s:\t%s\n", titles[k], s);
		free(s);
	}
}

static void env_lines(struct tw *t, json_t *c)
{
	json_t *env = json_object_get(c, "env"), *e;
	size_t i;

	tw_printf(t, "    Environment:%s\n", json_array_size(env) ? "" : "\t<none>");
	json_array_foreach (env, i, e) {
		const char *name = jstr(e, "name", "");
		const char *v = jstr(e, "value", ""),
			   *fp = jstr(e, "valueFrom.fieldRef.fieldPath", NULL);

		if (json_object_get(e, "valueFrom")) {
			if (fp)
				tw_printf(t, "      %s:\t (%s:%s)\n", name,
					  jstr(e, "valueFrom.fieldRef.apiVersion", "v1"), fp);
			else
				tw_printf(t, "      %s:\t<set from valueFrom>\n", name);
			continue;
		}
		for (int first = 1;; first = 0) {
			size_t n = strcspn(v, "\n");
			if (first)
				tw_printf(t, "      %s:\t%.*s\n", name, (int)n, v);
			else
				tw_printf(t, "      \t%.*s\n", (int)n, v);
			if (!v[n])
				break;
			v += n + 1;
		}
	}
}

static int cmp_mount(const void *a, const void *b)
{
	return strcmp(jstr(*(json_t *const *)a, "mountPath", ""),
		      jstr(*(json_t *const *)b, "mountPath", ""));
}

static void mount_lines(struct tw *t, json_t *c)
{
	json_t *mounts = json_object_get(c, "volumeMounts");
	size_t n = json_array_size(mounts);
	json_t **m = calloc(n + 1, sizeof(*m));

	for (size_t i = 0; i < n; i++)
		m[i] = json_array_get(mounts, i);
	qsort(m, n, sizeof(*m), cmp_mount);
	tw_printf(t, "    Mounts:%s\n", n ? "" : "\t<none>");
	for (size_t i = 0; i < n; i++) {
		const char *sub = jstr(m[i], "subPath", "");
		tw_printf(t, "      %s from %s (%s", jstr(m[i], "mountPath", ""),
			  jstr(m[i], "name", ""),
			  json_is_true(json_object_get(m[i], "readOnly")) ? "ro" : "rw");
		if (*sub)
			tw_printf(t, ",path=\"%s\"", sub);
		tw_printf(t, ")\n");
	}
	free(m);
}

static json_t *status_of(json_t *statuses, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach (statuses, i, s)
		if (!strcmp(jstr(s, "name", ""), name))
			return s;
	return NULL;
}

/* kubectl's describeContainers */
static void container_lines(struct tw *t, const char *title, json_t *ctrs, json_t *statuses)
{
	size_t i;
	json_t *c;

	tw_printf(t, "%s:%s\n", title, json_array_size(ctrs) ? "" : " <none>");
	json_array_foreach (ctrs, i, c) {
		json_t *st = status_of(statuses, jstr(c, "name", ""));

		tw_printf(t, "  %s:\n", jstr(c, "name", ""));
		if (st && *jstr(st, "containerID", ""))
			tw_printf(t, "    Container ID:\t%s\n", jstr(st, "containerID", ""));
		tw_printf(t, "    Image:\t%s\n", jstr(c, "image", ""));
		if (st && *jstr(st, "imageID", ""))
			tw_printf(t, "    Image ID:\t%s\n", jstr(st, "imageID", ""));
		ports_line(t, c, false);
		ports_line(t, c, true);
		command_lines(t, c);
		if (st) {
			state_lines(t, "State", json_object_get(st, "state"));
			if (jpath(st, "lastState.terminated"))
				state_lines(t, "Last State", json_object_get(st, "lastState"));
			tw_printf(t, "    Ready:\t%s\n",
				  json_is_true(json_object_get(st, "ready")) ? "True" : "False");
			tw_printf(t, "    Restart Count:\t%lld\n", jint_or(st, "restartCount", 0));
		}
		resource_lines(t, c);
		probe_lines(t, c);
		env_lines(t, c);
		mount_lines(t, c);
	}
}

static void volume_lines(struct tw *t, json_t *vols)
{
	size_t i;
	json_t *v;

	if (!json_array_size(vols)) {
		tw_printf(t, "Volumes:\t<none>\n");
		return;
	}
	tw_printf(t, "Volumes:\n");
	json_array_foreach (vols, i, v) {
		json_t *ed = json_object_get(v, "emptyDir");

		tw_printf(t, "  %s:\n", jstr(v, "name", ""));
		if (ed) {
			char *limit = scalar_str(json_object_get(ed, "sizeLimit"));
			tw_printf(t, "    Type:\tEmptyDir (a temporary directory that shares a "
				     "pod's lifetime)\n");
			tw_printf(t, "    Medium:\t%s\n", jstr(ed, "medium", ""));
			tw_printf(t, "    SizeLimit:\t%s\n", *limit ? limit : "<unset>");
			free(limit);
		} else {
			tw_printf(t, "    Type:\t<unknown>\n");
		}
	}
}

static void toleration_lines(struct tw *t, json_t *tols)
{
	size_t i;
	json_t *o;

	tw_printf(t, "Tolerations:\t");
	json_array_foreach (tols, i, o) {
		const char *key = jstr(o, "key", ""), *val = jstr(o, "value", "");
		const char *eff = jstr(o, "effect", "");

		tw_printf(t, "%s%s", i ? "\t" : "", key);
		if (*val)
			tw_printf(t, "=%s", val);
		if (*eff)
			tw_printf(t, ":%s", eff);
		if (!strcmp(jstr(o, "operator", ""), "Exists") && !*val)
			tw_printf(t, "%sop=Exists", *key || *eff ? " " : "");
		if (json_is_integer(json_object_get(o, "tolerationSeconds")))
			tw_printf(t, " for %llds", jint_or(o, "tolerationSeconds", 0));
		tw_printf(t, "\n");
	}
	if (!json_array_size(tols))
		tw_printf(t, "<none>\n");
}

static void pod_lines(struct tw *t, json_t *pod)
{
	json_t *spec = json_object_get(pod, "spec"), *st = json_object_get(pod, "status"), *c, *ip;
	const char *node = jstr(spec, "nodeName", ""), *host = jstr(st, "hostIP", "");
	const char *del = jstr(pod, "metadata.deletionTimestamp", NULL);
	char when[64];
	size_t i;

	tw_printf(t, "Name:\t%s\n", k8s_name(pod));
	tw_printf(t, "Namespace:\t%s\n", k8s_namespace(pod));
	if (json_is_integer(json_object_get(spec, "priority")))
		tw_printf(t, "Priority:\t%lld\n", jint_or(spec, "priority", 0));
	if (*jstr(spec, "priorityClassName", ""))
		tw_printf(t, "Priority Class Name:\t%s\n", jstr(spec, "priorityClassName", ""));
	if (*jstr(spec, "serviceAccountName", ""))
		tw_printf(t, "Service Account:\t%s\n", jstr(spec, "serviceAccountName", ""));
	/* no Node objects: the node is this host, known by its address */
	if (*node)
		tw_printf(t, "Node:\t%s/%s\n", node, host);
	else
		tw_printf(t, "Node:\t%s\n", *host ? host : "<none>");
	if (jstr(st, "startTime", NULL)) {
		fmt_rfc1123z(jstr(st, "startTime", NULL), when, sizeof(when));
		tw_printf(t, "Start Time:\t%s\n", when);
	}
	labels_multiline(t, "Labels", jpath(pod, "metadata.labels"));
	annotations_multiline(t, jpath(pod, "metadata.annotations"));
	if (del) {
		fmt_since(del, when, sizeof(when));
		tw_printf(t, "Status:\tTerminating (lasts %s)\n", when);
		tw_printf(t, "Termination Grace Period:\t%llds\n",
			  jint_or(pod, "metadata.deletionGracePeriodSeconds",
				  jint_or(spec, "terminationGracePeriodSeconds", 30)));
	} else {
		tw_printf(t, "Status:\t%s\n", jstr(st, "phase", ""));
	}
	if (*jstr(st, "reason", ""))
		tw_printf(t, "Reason:\t%s\n", jstr(st, "reason", ""));
	if (*jstr(st, "message", ""))
		tw_printf(t, "Message:\t%s\n", jstr(st, "message", ""));
	tw_printf(t, "IP:\t%s\n", jstr(st, "podIP", ""));
	if (!json_array_size(json_object_get(st, "podIPs")))
		tw_printf(t, "IPs:\t<none>\n");
	else
		tw_printf(t, "IPs:\n");
	json_array_foreach (json_object_get(st, "podIPs"), i, ip)
		tw_printf(t, "  IP:\t%s\n", jstr(ip, "ip", ""));
	if (*jstr(st, "nominatedNodeName", ""))
		tw_printf(t, "NominatedNodeName:\t%s\n", jstr(st, "nominatedNodeName", ""));
	if (json_array_size(json_object_get(spec, "initContainers")))
		container_lines(t, "Init Containers", json_object_get(spec, "initContainers"),
				json_object_get(st, "initContainerStatuses"));
	container_lines(t, "Containers", json_object_get(spec, "containers"),
			json_object_get(st, "containerStatuses"));
	if (json_array_size(json_object_get(st, "conditions"))) {
		tw_printf(t, "Conditions:\n  Type\tStatus\n");
		json_array_foreach (json_object_get(st, "conditions"), i, c)
			tw_printf(t, "  %s \t%s \n", jstr(c, "type", ""), jstr(c, "status", ""));
	}
	volume_lines(t, json_object_get(spec, "volumes"));
	tw_printf(t, "QoS Class:\t%s\n", jstr(st, "qosClass", ""));
	labels_multiline(t, "Node-Selectors", json_object_get(spec, "nodeSelector"));
	toleration_lines(t, json_object_get(spec, "tolerations"));
}

int describe_pod(const char *ns, const char *name, int *shown)
{
	json_t *resp = client_call_named(json_pack("{s:s,s:s,s:s,s:s}", "cmd", "describe", "kind",
						   "pod", "namespace", ns, "name", name),
					 "pods", name);
	struct tw *t;

	if (!resp)
		return 1;
	if ((*shown)++)
		printf("\n\n");
	t = tw_new(TW_DESCRIBE);
	pod_lines(t, json_object_get(resp, "object"));
	tw_flush(t, stdout);
	json_decref(resp);
	return 0;
}
