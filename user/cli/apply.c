// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * apply and delete. Files go to the daemon as text: it decodes, validates
 * and reports per object, so the client stays a thin pipe and error
 * messages (file, object, field path) come from one place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "k8s.h"

static const char apply_usage[] =
    "Usage: podtrace apply -f FILE|DIR|- [-f ...]\n"
    "\n"
    "Create or update Pods, Services, EndpointSlices and Endpoints from YAML or JSON\n"
    "(multi-document and List allowed). A directory applies every *.yaml, *.yml\n"
    "and *.json directly in it, in name order, one file at a time; - reads stdin.\n"
    "\n"
    "Flags:\n"
    "  -f, --filename PATH   file, directory or - (repeatable)\n"
    "  -h, --help            show this help\n";

static const char delete_usage[] =
    "Usage: podtrace delete (-f FILE|DIR|- | pod|svc|endpointslice NAME... [-n NS]) "
    "[--wait=false]\n"
    "\n"
    "Delete the objects named in files, or objects by kind and name. Pods stop\n"
    "gracefully (preStop, SIGTERM, SIGKILL after the grace period); as kubectl,\n"
    "delete waits until they are gone unless --wait=false.\n"
    "\n"
    "Flags:\n"
    "  -f, --filename PATH   file, directory or - (repeatable)\n"
    "  -n, --namespace NS    namespace of NAME (default \"default\")\n"
    "      --wait[=BOOL]     wait for deleted Pods to be gone (default true)\n"
    "  -h, --help            show this help\n";

/* What a run over several files adds up to. */
struct tally {
	int objects, errors;
	json_t *pods; /* [namespace, name] of the Pods deleted, or NULL */
};

/* kubectl's resource names: lowercase kind, plus the group when not core. */
static const char *resource(const char *kind)
{
	static const struct {
		const char *kind, *res;
	} known[] = {
	    {"Service", "service"},
	    {"EndpointSlice", "endpointslice.discovery.k8s.io"},
	    {"Endpoints", "endpoints"},
	    {"Pod", "pod"},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i].kind, kind))
			return known[i].res;
	return kind;
}

static void print_results(json_t *results, struct tally *t)
{
	size_t i;
	json_t *r;

	json_array_foreach (results, i, r) {
		const char *err = jstr(r, "error", NULL);
		const char *res = resource(jstr(r, "kind", ""));
		const char *name = jstr(r, "name", "");
		const char *action = jstr(r, "action", "");

		if (err) {
			fprintf(stderr, "error: %s\n", err);
			t->errors++;
		} else if (!strcmp(action, "deleted")) {
			printf("%s \"%s\" deleted\n", res, name);
			if (t->pods && !strcmp(jstr(r, "kind", ""), "Pod"))
				json_array_append_new(
				    t->pods,
				    json_pack("[s,s]", jstr(r, "namespace", "default"), name));
		} else {
			printf("%s/%s %s\n", res, name, action);
		}
		t->objects++;
	}
}

/* The input copied into a sealed memfd, which the daemon maps: sealed against
 * writes and shrinking, so the daemon's mapping can neither change under it
 * nor fault (SIGBUS) when a file is truncated while it is being applied. */
static int to_memfd(int in)
{
	int m = memfd_create("podtrace-apply", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char buf[65536];
	ssize_t n;

	/* a regular file: copied in the kernel; a pipe or tty: read */
	while (m >= 0 && (n = sendfile(m, in, NULL, 1 << 30)) > 0)
		;
	while (m >= 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(m, buf, (size_t)n) != n) {
			int e = errno;
			close(m);
			errno = e;
			m = -1;
		}
	}
	if (m >= 0 &&
	    fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		int e = errno;
		close(m);
		errno = e;
		m = -1;
	}
	return m;
}

/* The input as a sealed memfd, for the daemon to map (nothing is copied
 * through the socket); -1 with errno set. */
static int open_input(const char *path)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0, m;

	if (fd < 0)
		return -1;
	m = to_memfd(fd);
	if (fd) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return m;
}

static void send_file(const char *path, bool del, struct tally *t)
{
	const char *source = strcmp(path, "-") ? path : "<stdin>";
	int fd = open_input(path);
	json_t *req, *resp;

	if (fd < 0) {
		fprintf(stderr, "error: %s: %s\n", source, strerror(errno));
		t->errors++;
		return;
	}
	req = json_pack("{s:s,s:s}", "cmd", "apply", "source", source);
	if (del)
		json_object_set_new(req, "delete", json_true());
	resp = client_call_fd(req, fd);
	close(fd);
	if (!resp) {
		t->errors++;
		return;
	}
	print_results(json_object_get(resp, "results"), t);
	json_decref(resp);
}

static bool manifest_name(const char *name)
{
	static const char *const exts[] = {".yaml", ".yml", ".json"};
	size_t n = strlen(name);

	for (int i = 0; i < 3; i++) {
		size_t e = strlen(exts[i]);
		if (n > e && !strcmp(name + n - e, exts[i]))
			return true;
	}
	return false;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	/* byte order, not the locale's: the same order on every host */
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_manifests(const struct dirent *de)
{
	return de->d_name[0] != '.' && manifest_name(de->d_name);
}

static void send_dir(const char *dir, bool del, struct tally *t)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, only_manifests, by_name);
	size_t dl = strlen(dir);

	if (n < 0) {
		fprintf(stderr, "error: %s: %s\n", dir, strerror(errno));
		t->errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		char *path;
		struct stat st;

		if (asprintf(&path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
			     ents[i]->d_name) < 0)
			abort();
		/* a directory called x.yaml is not a manifest */
		if (!stat(path, &st) && S_ISREG(st.st_mode))
			send_file(path, del, t);
		free(path);
		free(ents[i]);
	}
	free(ents);
}

static void send_path(const char *path, bool del, struct tally *t)
{
	struct stat st;

	if (strcmp(path, "-") && !stat(path, &st) && S_ISDIR(st.st_mode))
		send_dir(path, del, t);
	else
		send_file(path, del, t);
}

/* Is the Pod still there? -1 when the daemon can't tell. */
static int pod_exists(const char *ns, const char *name)
{
	char err[1024];
	json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "cmd", "get", "kind", "pods", "namespace", ns,
				"name", name);
	json_t *resp = client_try(req, err, sizeof(err));
	const char *msg = json_string_value(json_object_get(resp, "error"));
	int rc = !resp ? -1 : msg ? (strstr(msg, " not found") ? 0 : -1) : 1;

	json_decref(req);
	json_decref(resp);
	return rc;
}

/* kubectl delete --wait: return once every deleted Pod has terminated and
 * left the store. Ctrl-C ends the waiting, not the deletion. */
static int wait_pods_gone(json_t *pods)
{
	size_t i;
	json_t *p;

	json_array_foreach (pods, i, p) {
		const char *ns = json_string_value(json_array_get(p, 0));
		const char *name = json_string_value(json_array_get(p, 1));
		int rc;

		while ((rc = pod_exists(ns, name)) == 1)
			usleep(100 * 1000);
		if (rc < 0) {
			fprintf(stderr,
				"error: lost track of pod \"%s\" while waiting for it to go\n",
				name);
			return 1;
		}
	}
	return 0;
}

static int send_paths(const char **paths, int n, bool del, bool wait)
{
	struct tally t = {.pods = wait ? json_array() : NULL};
	int rc;

	for (int i = 0; i < n; i++)
		send_path(paths[i], del, &t);
	if (!t.objects && !t.errors) {
		fprintf(stderr, "error: no objects passed to %s\n", del ? "delete" : "apply");
		json_decref(t.pods);
		return 1;
	}
	rc = t.errors ? 1 : 0;
	if (t.pods && wait_pods_gone(t.pods))
		rc = 1;
	json_decref(t.pods);
	return rc;
}

static const struct option apply_opts[] = {
    {"filename", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option delete_opts[] = {
    {"filename", required_argument, NULL, 'f'},
    {"namespace", required_argument, NULL, 'n'},
    {"wait", optional_argument, NULL, 'w'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_apply(int argc, char **argv)
{
	const char **files = calloc((size_t)argc, sizeof(*files));
	int nf = 0, c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":f:h", apply_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files[nf++] = flag_value(optarg);
			break;
		case 'h':
			free(files);
			fputs(apply_usage, stdout);
			return 0;
		default:
			free(files);
			return bad_flag("apply", apply_usage, c, argv);
		}
	}
	if (optind < argc)
		rc = usage_error("apply", apply_usage, "unexpected argument \"%s\"", argv[optind]);
	else if (!nf)
		rc = usage_error("apply", apply_usage, "-f FILE is required");
	else
		rc = send_paths(files, nf, false, false);
	free(files);
	return rc;
}

static int delete_named(const char *kind, const char *ns, char **names, int n, bool wait)
{
	bool pod = k8s_kind_from_arg(kind) == K_POD;
	struct tally t = {.pods = pod && wait ? json_array() : NULL};
	int rc;

	for (int i = 0; i < n; i++) {
		const char *name = pod ? pod_arg_name(names[i]) : names[i];
		json_t *req = json_pack("{s:s,s:s,s:s,s:s}", "cmd", "delete", "kind", kind,
					"namespace", ns, "name", name);
		json_t *resp = pod ? client_call_named(req, "pods", name) : client_call(req);

		if (!resp) {
			t.errors++;
			continue;
		}
		print_results(json_object_get(resp, "results"), &t);
		json_decref(resp);
	}
	rc = t.errors ? 1 : 0;
	if (t.pods && wait_pods_gone(t.pods))
		rc = 1;
	json_decref(t.pods);
	return rc;
}

int cmd_delete(int argc, char **argv)
{
	const char **files = calloc((size_t)argc, sizeof(*files));
	const char *ns = NULL, *w;
	int nf = 0, c, rc;
	bool wait = true;
	enum k8s_kind k;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":f:n:h", delete_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files[nf++] = flag_value(optarg);
			break;
		case 'n':
			ns = flag_value(optarg);
			break;
		case 'w':
			w = optarg ? optarg : "true";
			if (strcmp(w, "true") && strcmp(w, "false")) {
				free(files);
				return usage_error(
				    "delete", delete_usage,
				    "invalid argument \"%s\" for --wait (want true or false)", w);
			}
			wait = !strcmp(w, "true");
			break;
		case 'h':
			free(files);
			fputs(delete_usage, stdout);
			return 0;
		default:
			free(files);
			return bad_flag("delete", delete_usage, c, argv);
		}
	}
	if (nf) {
		if (optind < argc)
			rc = usage_error("delete", delete_usage,
					 "-f and names can't be mixed (\"%s\")", argv[optind]);
		else if (ns)
			/* the files say where their objects live */
			rc = usage_error("delete", delete_usage, "-n can't be used with -f");
		else
			rc = send_paths(files, nf, true, wait);
		free(files);
		return rc;
	}
	free(files);
	if (optind == argc)
		return usage_error("delete", delete_usage,
				   "a kind and a name, or -f, are required");
	k = k8s_kind_from_arg(argv[optind]);
	if (k != K_SERVICE && k != K_ENDPOINTSLICE && k != K_POD)
		return usage_error("delete", delete_usage,
				   "unknown resource type \"%s\" (want pod, svc or endpointslice)",
				   argv[optind]);
	if (optind + 1 == argc)
		return usage_error("delete", delete_usage, "a name is required");
	return delete_named(argv[optind], ns ? ns : "default", argv + optind + 1, argc - optind - 1,
			    wait);
}
