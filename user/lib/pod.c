// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pod.h"

/* ---- quantities ---- */
static const struct {
	const char *sfx;
	long double mul;
} sfxs[] = {
    {"Ki", 1024.0L},
    {"Mi", 1048576.0L},
    {"Gi", 1073741824.0L},
    {"Ti", 1099511627776.0L},
    {"Pi", 1125899906842624.0L},
    {"Ei", 1152921504606846976.0L},
    {"n", 1e-9L},
    {"u", 1e-6L},
    {"m", 1e-3L},
    {"k", 1e3L},
    {"M", 1e6L},
    {"G", 1e9L},
    {"T", 1e12L},
    {"P", 1e15L},
    {"E", 1e18L},
    {"", 1.0L},
};

static int qty_parse(const char *s, long double *out)
{
	char *end;
	long double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	v = strtold(s, &end);
	if (end == s || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(sfxs) / sizeof(sfxs[0]); i++) {
		if (!strcmp(end, sfxs[i].sfx)) {
			*out = v * sfxs[i].mul;
			return 0;
		}
	}
	return -1;
}

int64_t qty_milli(const char *s)
{
	long double v;

	return qty_parse(s, &v) ? -1 : (int64_t)ceill(v * 1000.0L);
}

int64_t qty_bytes(const char *s)
{
	long double v;

	return qty_parse(s, &v) ? -1 : (int64_t)ceill(v);
}

/* A quantity may be a JSON string or number. */
static const char *qty_str(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%.9Lg", (long double)json_real_value(v));
		return buf;
	}
	return NULL;
}

/* ---- validation ---- */
/* Fields that would change behaviour and podtrace cannot honour: refused
 * by name rather than silently ignored. */
static const char *const refused_spec[] = {
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "hostUsers",
    "shareProcessNamespace",
    "runtimeClassName",
    "ephemeralContainers",
    "resourceClaims",
    "os",
};
static const char *const refused_ctr[] = {
    "volumeDevices",
    "resizePolicy",
    "restartPolicy",
};

static void check_quantity(json_t *v, const char *path, bool cpu, struct errs *e)
{
	char buf[64];
	const char *s = qty_str(v, buf, sizeof(buf));

	if (!s || (cpu ? qty_milli(s) : qty_bytes(s)) < 0)
		errs_add(e, path,
			 "Invalid value: \"%s\": quantities must match the regular expression "
			 "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
			 s ? s : "?");
}

static void check_resources(json_t *res, const char *base, struct errs *e)
{
	static const char *const kinds[] = {"requests", "limits"};
	char path[256];

	for (int k = 0; k < 2; k++) {
		json_t *m = json_object_get(res, kinds[k]);
		const char *key;
		json_t *v;

		json_object_foreach (m, key, v) {
			snprintf(path, sizeof(path), "%s.resources.%s[%s]", base, kinds[k], key);
			if (strcmp(key, "cpu") && strcmp(key, "memory") &&
			    strcmp(key, "ephemeral-storage"))
				errs_add(
				    e, path,
				    "Unsupported value: \"%s\": podtrace enforces cpu and memory",
				    key);
			else
				check_quantity(v, path, !strcmp(key, "cpu"), e);
		}
	}
	json_t *lim = json_object_get(json_object_get(res, "limits"), "cpu");
	json_t *req = json_object_get(json_object_get(res, "requests"), "cpu");
	char b1[64], b2[64];
	if (lim && req && qty_milli(qty_str(req, b1, 64)) > qty_milli(qty_str(lim, b2, 64))) {
		snprintf(path, sizeof(path), "%s.resources.requests", base);
		errs_add(e, path, "Invalid value: \"%s\": must be less than or equal to cpu limit",
			 qty_str(req, b1, 64));
	}
}

static bool strings(json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach (a, i, v)
		if (!json_is_string(v))
			return false;
	return true;
}

static void check_exec(json_t *h, const char *path, struct errs *e)
{
	json_t *cmd = json_object_get(json_object_get(h, "exec"), "command");

	if (!json_is_array(cmd) || !json_array_size(cmd))
		errs_add(e, path, "Required value: exec.command");
	else if (!strings(cmd))
		errs_add(e, path, "Invalid value: exec.command must be a list of strings");
}

static void check_probe(json_t *p, const char *path, struct errs *e)
{
	int n = !!json_object_get(p, "exec") + !!json_object_get(p, "tcpSocket") +
		!!json_object_get(p, "httpGet");
	char sub[400];

	if (!p || json_is_null(p))
		return;
	if (json_object_get(p, "grpc"))
		errs_add(e, path, "Unsupported value: grpc probes are not supported by podtrace");
	else if (n != 1)
		errs_add(e, path,
			 "Invalid value: must specify exactly one of exec, tcpSocket, httpGet");
	if (json_object_get(p, "exec")) {
		snprintf(sub, sizeof(sub), "%s.exec.command", path);
		check_exec(p, sub, e);
	}
	static const char *const ints[] = {"initialDelaySeconds", "periodSeconds", "timeoutSeconds",
					   "successThreshold", "failureThreshold"};
	for (size_t i = 0; i < 5; i++) {
		json_t *v = json_object_get(p, ints[i]);
		snprintf(sub, sizeof(sub), "%s.%s", path, ints[i]);
		if (v && (!json_is_integer(v) || json_integer_value(v) < (i ? 1 : 0)))
			errs_add(e, sub, "Invalid value: must be an integer >= %d", i ? 1 : 0);
	}
}

static void check_mounts(json_t *c, const char *base, json_t *volumes, struct errs *e)
{
	char path[400];
	size_t i, j;
	json_t *m, *v;

	json_array_foreach (json_object_get(c, "volumeMounts"), i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *at = json_string_value(json_object_get(m, "mountPath"));
		bool found = false;

		json_array_foreach (volumes, j, v)
			found |= name && json_string_value(json_object_get(v, "name")) &&
				 !strcmp(name, json_string_value(json_object_get(v, "name")));
		snprintf(path, sizeof(path), "%s.volumeMounts[%zu].name", base, i);
		if (!found)
			errs_add(e, path, "Not found: \"%s\"", name ? name : "");
		snprintf(path, sizeof(path), "%s.volumeMounts[%zu].mountPath", base, i);
		if (!at || at[0] != '/')
			errs_add(e, path, "Invalid value: must be an absolute path");
	}
}

static void check_container(json_t *c, const char *base, bool init, json_t *names, struct errs *e)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	json_t *cmd = json_object_get(c, "command");
	json_t *lc = json_object_get(c, "lifecycle");
	json_t *sc = json_object_get(c, "securityContext");
	char path[300];

	snprintf(path, sizeof(path), "%s.name", base);
	if (!name || !*name)
		errs_add(e, path, "Required value");
	else if (!dns1123_label(name))
		errs_add(e, path, "Invalid value: \"%s\": must be a DNS-1123 label", name);
	else if (json_object_get(names, name))
		errs_add(e, path, "Duplicate value: \"%s\"", name);
	else
		json_object_set_new(names, name, json_true());
	snprintf(path, sizeof(path), "%s.command", base);
	if (!json_is_array(cmd) || !json_array_size(cmd))
		errs_add(e, path,
			 "Required value: podtrace runs no images: command must name a program on "
			 "the host");
	else if (!strings(cmd))
		errs_add(e, path, "Invalid value: must be a list of strings");
	json_t *args = json_object_get(c, "args");
	snprintf(path, sizeof(path), "%s.args", base);
	if (args && (!json_is_array(args) || !strings(args)))
		errs_add(e, path, "Invalid value: must be a list of strings");
	for (size_t i = 0; i < sizeof(refused_ctr) / sizeof(refused_ctr[0]); i++) {
		if (!json_object_get(c, refused_ctr[i]))
			continue;
		snprintf(path, sizeof(path), "%s.%s", base, refused_ctr[i]);
		errs_add(e, path, "Forbidden: not supported by podtrace");
	}
	if (json_is_true(json_object_get(sc, "privileged"))) {
		snprintf(path, sizeof(path), "%s.securityContext.privileged", base);
		errs_add(e, path, "Forbidden: privileged containers are not supported by podtrace");
	}
	check_resources(json_object_get(c, "resources"), base, e);
	if (json_object_get(lc, "postStart")) {
		snprintf(path, sizeof(path), "%s.lifecycle.postStart", base);
		check_exec(json_object_get(lc, "postStart"), path, e);
	}
	if (json_object_get(lc, "preStop")) {
		snprintf(path, sizeof(path), "%s.lifecycle.preStop", base);
		check_exec(json_object_get(lc, "preStop"), path, e);
	}
	static const char *const probes[] = {"readinessProbe", "livenessProbe", "startupProbe"};
	for (int i = 0; i < 3; i++) {
		json_t *p = json_object_get(c, probes[i]);
		snprintf(path, sizeof(path), "%s.%s", base, probes[i]);
		if (p && init)
			errs_add(e, path, "Forbidden: may not be set for init containers");
		else
			check_probe(p, path, e);
	}
}

void pod_validate(json_t *obj, struct errs *e)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *names = json_object();
	const char *rp;
	char path[128];
	size_t i;
	json_t *c, *v;

	if (!json_is_object(spec)) {
		errs_add(e, "spec", "Required value");
		goto out;
	}
	for (i = 0; i < sizeof(refused_spec) / sizeof(refused_spec[0]); i++) {
		v = json_object_get(spec, refused_spec[i]);
		if (v && !json_is_false(v) && !json_is_null(v)) {
			snprintf(path, sizeof(path), "spec.%s", refused_spec[i]);
			errs_add(e, path, "Forbidden: not supported by podtrace");
		}
	}
	if (!json_array_size(json_object_get(spec, "containers")))
		errs_add(e, "spec.containers", "Required value");
	if (json_array_size(json_object_get(spec, "containers")) > POD_MAX_CTRS ||
	    json_array_size(json_object_get(spec, "initContainers")) > POD_MAX_CTRS)
		errs_add(e, "spec.containers", "Too many: at most %d containers", POD_MAX_CTRS);
	json_array_foreach (json_object_get(spec, "initContainers"), i, c) {
		snprintf(path, sizeof(path), "spec.initContainers[%zu]", i);
		check_container(c, path, true, names, e);
		check_mounts(c, path, json_object_get(spec, "volumes"), e);
	}
	json_array_foreach (json_object_get(spec, "containers"), i, c) {
		snprintf(path, sizeof(path), "spec.containers[%zu]", i);
		check_container(c, path, false, names, e);
		check_mounts(c, path, json_object_get(spec, "volumes"), e);
	}
	rp = json_string_value(json_object_get(spec, "restartPolicy"));
	if (rp && strcmp(rp, "Always") && strcmp(rp, "OnFailure") && strcmp(rp, "Never"))
		errs_add(e, "spec.restartPolicy",
			 "Unsupported value: \"%s\": supported values: \"Always\", \"Never\", "
			 "\"OnFailure\"",
			 rp);
	v = json_object_get(spec, "terminationGracePeriodSeconds");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		errs_add(e, "spec.terminationGracePeriodSeconds", "Invalid value: must be >= 0");
	json_array_foreach (json_object_get(spec, "volumes"), i, v) {
		snprintf(path, sizeof(path), "spec.volumes[%zu]", i);
		if (!json_object_get(v, "emptyDir"))
			errs_add(
			    e, path,
			    "Unsupported value: only emptyDir volumes are supported by podtrace");
	}
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	static const char *const bw[] = {"kubernetes.io/egress-bandwidth",
					 "kubernetes.io/ingress-bandwidth"};
	for (int k = 0; k < 2; k++) {
		const char *s = json_string_value(json_object_get(ann, bw[k]));
		snprintf(path, sizeof(path), "metadata.annotations[%s]", bw[k]);
		if (s && qty_bytes(s) <= 0)
			errs_add(e, path,
				 "Invalid value: \"%s\": must be a positive quantity (bits/s)", s);
	}
out:
	json_decref(names);
}

/* ---- view ---- */
static int64_t res_val(json_t *c, const char *kind, const char *what)
{
	json_t *v = json_object_get(json_object_get(json_object_get(c, "resources"), kind), what);
	char buf[64];
	const char *s = qty_str(v, buf, sizeof(buf));

	if (!s)
		return 0;
	return !strcmp(what, "cpu") ? qty_milli(s) : qty_bytes(s);
}

/* A named probe port resolves through the container's ports. */
static uint16_t probe_port(json_t *port, json_t *ports)
{
	size_t i;
	json_t *p;

	if (json_is_integer(port))
		return (uint16_t)json_integer_value(port);
	json_array_foreach (ports, i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));
		if (n && json_string_value(port) && !strcmp(n, json_string_value(port)))
			return (uint16_t)json_integer_value(json_object_get(p, "containerPort"));
	}
	return 0;
}

static void probe_view(json_t *j, json_t *ports, struct probe *p)
{
	json_t *h;

	memset(p, 0, sizeof(*p));
	if (!j || json_is_null(j))
		return;
	if ((h = json_object_get(j, "exec"))) {
		p->type = PROBE_EXEC;
		p->command = json_object_get(h, "command");
	} else if ((h = json_object_get(j, "tcpSocket"))) {
		p->type = PROBE_TCP;
	} else if ((h = json_object_get(j, "httpGet"))) {
		p->type = PROBE_HTTP;
		p->path = json_string_value(json_object_get(h, "path"));
		if (!p->path)
			p->path = "/";
	}
	if (h && p->type != PROBE_EXEC) {
		p->port = probe_port(json_object_get(h, "port"), ports);
		p->host = json_string_value(json_object_get(h, "host"));
	}
	p->initial_delay_s = (int)json_integer_value(json_object_get(j, "initialDelaySeconds"));
	p->period_s = json_is_integer(json_object_get(j, "periodSeconds"))
			  ? (int)json_integer_value(json_object_get(j, "periodSeconds"))
			  : 10;
	p->timeout_s = json_is_integer(json_object_get(j, "timeoutSeconds"))
			   ? (int)json_integer_value(json_object_get(j, "timeoutSeconds"))
			   : 1;
	p->success_threshold = json_is_integer(json_object_get(j, "successThreshold"))
				   ? (int)json_integer_value(json_object_get(j, "successThreshold"))
				   : 1;
	p->failure_threshold = json_is_integer(json_object_get(j, "failureThreshold"))
				   ? (int)json_integer_value(json_object_get(j, "failureThreshold"))
				   : 3;
}

static void ctr_view(json_t *c, struct container *v)
{
	json_t *lc = json_object_get(c, "lifecycle");

	memset(v, 0, sizeof(*v));
	v->name = json_string_value(json_object_get(c, "name"));
	v->image = json_string_value(json_object_get(c, "image"));
	v->workdir = json_string_value(json_object_get(c, "workingDir"));
	v->command = json_object_get(c, "command");
	v->args = json_object_get(c, "args");
	v->env = json_object_get(c, "env");
	v->ports = json_object_get(c, "ports");
	v->mounts = json_object_get(c, "volumeMounts");
	v->cpu_req_m = res_val(c, "requests", "cpu");
	v->cpu_lim_m = res_val(c, "limits", "cpu");
	v->mem_req = res_val(c, "requests", "memory");
	v->mem_lim = res_val(c, "limits", "memory");
	/* a limit without a request defaults the request, as the API server */
	if (!json_object_get(json_object_get(json_object_get(c, "resources"), "requests"), "cpu"))
		v->cpu_req_m = v->cpu_lim_m;
	if (!json_object_get(json_object_get(json_object_get(c, "resources"), "requests"),
			     "memory"))
		v->mem_req = v->mem_lim;
	v->post_start =
	    json_object_get(json_object_get(json_object_get(lc, "postStart"), "exec"), "command");
	v->pre_stop =
	    json_object_get(json_object_get(json_object_get(lc, "preStop"), "exec"), "command");
	probe_view(json_object_get(c, "readinessProbe"), v->ports, &v->readiness);
	probe_view(json_object_get(c, "livenessProbe"), v->ports, &v->liveness);
	probe_view(json_object_get(c, "startupProbe"), v->ports, &v->startup);
}

int pod_view(json_t *obj, struct pod *p)
{
	json_t *spec = json_object_get(obj, "spec");
	json_t *md = json_object_get(obj, "metadata");
	json_t *ann = json_object_get(md, "annotations");
	const char *rp = json_string_value(json_object_get(spec, "restartPolicy"));
	json_t *g = json_object_get(spec, "terminationGracePeriodSeconds");
	const char *bw;
	size_t i;
	json_t *c;

	memset(p, 0, sizeof(*p));
	p->ns = k8s_namespace(obj);
	p->name = k8s_name(obj);
	p->uid = json_string_value(json_object_get(md, "uid"));
	p->labels = json_object_get(md, "labels");
	json_array_foreach (json_object_get(spec, "initContainers"), i, c)
		if (p->n_init < POD_MAX_CTRS)
			ctr_view(c, &p->init[p->n_init++]);
	json_array_foreach (json_object_get(spec, "containers"), i, c)
		if (p->n_ctr < POD_MAX_CTRS)
			ctr_view(c, &p->ctr[p->n_ctr++]);
	p->restart = !rp || !strcmp(rp, "Always") ? RESTART_ALWAYS
		     : !strcmp(rp, "OnFailure")	  ? RESTART_ON_FAILURE
						  : RESTART_NEVER;
	p->grace_s = json_is_integer(g) ? json_integer_value(g) : 30;
	bw = json_string_value(json_object_get(ann, "kubernetes.io/egress-bandwidth"));
	p->egress_bps = bw ? (uint64_t)qty_bytes(bw) : 0;
	bw = json_string_value(json_object_get(ann, "kubernetes.io/ingress-bandwidth"));
	p->ingress_bps = bw ? (uint64_t)qty_bytes(bw) : 0;
	p->volumes = json_object_get(spec, "volumes");
	return 0;
}

/* The Kubernetes rules (pkg/apis/core/v1/helper/qos): Guaranteed when every
 * container has cpu and memory limits equal to its requests; BestEffort
 * when none has any; Burstable otherwise. Init containers count too. */
enum qos_class pod_qos(const struct pod *p)
{
	bool any = false, all_guaranteed = true;

	for (int k = 0; k < 2; k++) {
		const struct container *cs = k ? p->init : p->ctr;
		int n = k ? p->n_init : p->n_ctr;

		for (int i = 0; i < n; i++) {
			const struct container *c = &cs[i];
			if (c->cpu_req_m || c->cpu_lim_m || c->mem_req || c->mem_lim)
				any = true;
			if (!c->cpu_lim_m || !c->mem_lim || c->cpu_req_m != c->cpu_lim_m ||
			    c->mem_req != c->mem_lim)
				all_guaranteed = false;
		}
	}
	if (!any)
		return QOS_BEST_EFFORT;
	return all_guaranteed ? QOS_GUARANTEED : QOS_BURSTABLE;
}

const char *qos_name(enum qos_class q)
{
	return q == QOS_GUARANTEED ? "Guaranteed" : q == QOS_BURSTABLE ? "Burstable" : "BestEffort";
}

bool selector_matches(json_t *selector, json_t *labels)
{
	const char *k;
	json_t *v;

	if (!json_is_object(selector) || !json_object_size(selector))
		return false;
	json_object_foreach (selector, k, v) {
		json_t *l = json_object_get(labels, k);
		if (!json_is_string(l) || !json_equal(l, v))
			return false;
	}
	return true;
}
