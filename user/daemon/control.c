// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The control socket: one JSON request line in, one JSON response out.
 * Commands are a dispatch table; each returns a JSON object (which holds
 * "error" on failure).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "runtime.h"

#define MAX_REQ (256u << 20)

static json_t *err_obj(const char *fmt, const char *a)
{
	char buf[512];

	snprintf(buf, sizeof(buf), fmt, a);
	return json_pack("{s:s}", "error", buf);
}

/* The descriptor that came with the request being served (SCM_RIGHTS), or
 * -1: `apply` passes the file itself rather than its text. */
static int req_fd = -1;
/* A reply a command wrote as text itself (apply's results), or NULL. */
static char *raw_reply;

/* {"results":<text>} as the reply; the command returns NULL. */
static json_t *reply_results(char *text)
{
	static const char pre[] = "{\"results\":";
	size_t n = strlen(text), p = sizeof(pre) - 1;
	/* wrapped in place, with room for "}\n": no second copy of a reply
	 * that is megabytes after a big apply */
	char *r = realloc(text, p + n + 3);

	if (!r) {
		free(text);
		return err_obj("%s", "out of memory");
	}
	memmove(r + p, r, n);
	memcpy(r, pre, p);
	strcpy(r + p + n, "}");
	raw_reply = r;
	return NULL;
}

/* Only a memfd sealed against writes and shrinking is mapped: a file that
 * is truncated while mapped would kill the daemon with SIGBUS, and one that
 * changes would be decoded half old, half new. */
static bool sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 &&
	       (seals & (F_SEAL_SHRINK | F_SEAL_WRITE)) == (F_SEAL_SHRINK | F_SEAL_WRITE);
}

/* Any other file descriptor (another client): read it, then apply. */
static json_t *apply_unsealed(struct daemon *d, const char *src, int fd, size_t size, bool del)
{
	char *buf = malloc(size + 1);
	size_t got = 0;
	ssize_t n;
	json_t *r;

	if (!buf)
		return err_obj("%s", "out of memory");
	while (got < size && (n = pread(fd, buf + got, size - got, (off_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return err_obj("%s: cannot read the file", src);
		}
		got += (size_t)n;
	}
	buf[got] = 0;
	r = reply_results(d_apply_text(d, src, buf, got, del));
	free(buf);
	return r;
}

/* The file is mapped, not read: decoding it item by item, the daemon only
 * ever holds a window of it (d_apply_mapped drops the pages behind). */
static json_t *apply_fd(struct daemon *d, const char *src, int fd, bool del)
{
	struct stat st;
	char *res;
	void *map;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return err_obj("%s: not a regular file", src);
	if (!st.st_size)
		return reply_results(d_apply_text(d, src, "", 0, del));
	if (!sealed(fd))
		return apply_unsealed(d, src, fd, (size_t)st.st_size, del);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return err_obj("%s: cannot map the file", src);
	res = d_apply_mapped(d, src, map, (size_t)st.st_size, del);
	munmap(map, (size_t)st.st_size);
	return reply_results(res);
}

static json_t *cmd_apply(struct daemon *d, json_t *req)
{
	const char *src = json_string_value(json_object_get(req, "source")) ?: "<stdin>";
	const char *data = json_string_value(json_object_get(req, "data"));
	bool del = json_is_true(json_object_get(req, "delete"));

	if (!data && req_fd >= 0)
		return apply_fd(d, src, req_fd, del);
	if (!data)
		return err_obj("%s", "missing data");
	return reply_results(
	    d_apply_text(d, src, data, json_string_length(json_object_get(req, "data")), del));
}

static enum k8s_kind req_kind(json_t *req)
{
	const char *k = json_string_value(json_object_get(req, "kind"));

	return k ? k8s_kind_from_arg(k) : K_UNKNOWN;
}

static const char *req_ns(json_t *req)
{
	const char *ns = json_string_value(json_object_get(req, "namespace"));

	return ns && *ns ? ns : "default";
}

static json_t *cmd_delete(struct daemon *d, json_t *req)
{
	enum k8s_kind k = req_kind(req);
	const char *name = json_string_value(json_object_get(req, "name"));
	char err[512];

	if (json_object_get(req, "data") || req_fd >= 0)
		return cmd_apply(d, req);
	if (k == K_UNKNOWN || !name)
		return err_obj("%s", "delete needs a kind and a name");
	if (d_delete(d, k, req_ns(req), name, err, sizeof(err)))
		return err_obj("%s", err);
	return json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "results", "kind", k8s_kind_name(k),
			 "namespace", req_ns(req), "name", name, "action", "deleted");
}

/* Pods are shown with their live status (copies: the store keeps specs). */
static void with_status(struct daemon *d, json_t *items)
{
	size_t i;
	json_t *o;

	json_array_foreach (items, i, o) {
		json_t *c = json_deep_copy(o);
		json_object_set_new(c, "status", runtime_status(d, o));
		json_array_set_new(items, i, c);
	}
}

static json_t *cmd_get(struct daemon *d, json_t *req)
{
	enum k8s_kind k = req_kind(req);
	const char *name = json_string_value(json_object_get(req, "name"));
	bool all = json_is_true(json_object_get(req, "all"));
	json_t *o;

	if (k == K_UNKNOWN)
		return err_obj("the server doesn't have a resource type \"%s\"",
			       json_string_value(json_object_get(req, "kind")) ?: "");
	if (name) {
		o = store_get(&d->store, k, req_ns(req), name);
		if (!o) {
			char buf[400];
			snprintf(buf, sizeof(buf), "%s \"%s\" not found in namespace %s",
				 k8s_kind_name(k), name, req_ns(req));
			return err_obj("%s", buf);
		}
		o = json_pack("{s:[O]}", "items", o);
	} else {
		o = json_pack("{s:o}", "items", store_list(&d->store, k, all ? NULL : req_ns(req)));
	}
	if (k == K_POD)
		with_status(d, json_object_get(o, "items"));
	return o;
}

static json_t *fe_json(const struct lb_fe *f)
{
	struct ipaddr ip = {.family = f->key.family};
	char a[64], buf[128];
	static const char *const kinds[] = {"", "ClusterIP", "NodePort", "ExternalIP"};

	memcpy(ip.a, f->key.addr, sizeof(ip.a));
	snprintf(buf, sizeof(buf), "%s%s%s:%u/%s", f->key.family == 6 ? "[" : "",
		 f->kind == PT_FE_NODE_PORT ? (f->key.family == 6 ? "::" : "0.0.0.0")
					    : ip_str(&ip, a, sizeof(a)),
		 f->key.family == 6 ? "]" : "", ntohs(f->key.port),
		 f->key.proto == IPPROTO_UDP ? "UDP" : "TCP");
	return json_pack("{s:s,s:s}", "address", buf, "kind", kinds[f->kind % 4]);
}

/* The programmed state of a service, with counters from the maps. */
static json_t *lb_json(struct daemon *d, const char *owner)
{
	json_t *ports = json_array();

	for (const struct lb_rec *r = lb_owner_recs(&d->lb, owner); r; r = r->next) {
		uint64_t st[3] = {0};
		json_t *fes = json_array(), *bes = json_array();
		char a[64];

		dp_percpu_sum(&d->dp, LBM_SVC_STATS, r->svc_id, st, 3);
		for (int i = 0; i < r->n_fe; i++)
			json_array_append_new(fes, fe_json(&r->fe[i]));
		for (int i = 0; i < r->n_be; i++) {
			uint64_t sel = 0;
			dp_percpu_sum(&d->dp, LBM_BE_STATS, r->be[i].id, &sel, 1);
			json_array_append_new(
			    bes, json_pack("{s:s,s:i,s:i,s:i,s:b}", "address",
					   ip_str(&r->be[i].addr, a, sizeof(a)), "port",
					   r->be[i].port, "id", r->be[i].id, "selected",
					   (json_int_t)sel, "terminating", r->be[i].terminating));
		}
		json_array_append_new(
		    ports, json_pack("{s:s,s:i,s:i,s:o,s:o,s:i,s:i,s:i}", "key", r->key, "svcId",
				     r->svc_id, "count", r->count, "frontends", fes, "backends",
				     bes, "connections", (json_int_t)st[0], "rejections",
				     (json_int_t)st[1], "lookupFailures", (json_int_t)st[2]));
	}
	return ports;
}

static json_t *cmd_describe(struct daemon *d, json_t *req)
{
	json_t *res = cmd_get(d, req), *obj, *out;
	char owner[300];

	if (json_object_get(res, "error") || req_kind(req) != K_SERVICE) {
		if (!json_object_get(res, "error") && req_kind(req) == K_POD) {
			out = json_pack("{s:O}", "object",
					json_array_get(json_object_get(res, "items"), 0));
			json_decref(res);
			return out;
		}
		return res;
	}
	obj = json_array_get(json_object_get(res, "items"), 0);
	snprintf(owner, sizeof(owner), "%s/%s", k8s_namespace(obj), k8s_name(obj));
	out =
	    json_pack("{s:O,s:o,s:o}", "object", obj, "lb", lb_json(d, owner), "endpointSlices",
		      store_slices(&d->store, k8s_namespace(obj), k8s_name(obj)) ?: json_object());
	if (json_object_get(d->lb_errors, owner))
		json_object_set(out, "error_programming", json_object_get(d->lb_errors, owner));
	json_decref(res);
	return out;
}

static json_t *map_fill(const char *name, uint32_t used, uint32_t cap)
{
	return json_pack("{s:s,s:i,s:i}", "name", name, "entries", used, "capacity", cap);
}

static json_t *cmd_status(struct daemon *d, json_t *req)
{
	struct dp_prog_info pi[16];
	struct timespec now;
	json_t *progs = json_array(), *maps = json_array();
	int n = dp_progs(&d->dp, pi, 16);

	(void)req;
	for (int i = 0; i < n; i++)
		json_array_append_new(progs, json_pack("{s:s,s:i,s:i}", "name", pi[i].name, "id",
						       pi[i].id, "linkId", pi[i].link_id));
	json_array_append_new(maps, map_fill("pt_frontend", d->lb.n_fe, d->o.max_frontends));
	json_array_append_new(maps, map_fill("pt_svc", d->lb.svc_ids.used, d->o.max_services));
	json_array_append_new(maps, map_fill("pt_backend", d->lb.be_ids.used, d->o.max_backends));
	json_array_append_new(maps, map_fill("pt_slot", d->lb.be_ids.used, d->o.max_backends));
	clock_gettime(CLOCK_MONOTONIC, &now);
	return json_pack(
	    "{s:s,s:s,s:i,s:s,s:s,s:s,s:o,s:o,s:{s:i,s:i},s:O}", "status", "ok", "version",
	    PT_VERSION, "pid", (int)getpid(), "cgroupRoot", d->o.cgroup_root, "bpffs", d->o.bpffs,
	    "socket", d->o.socket, "programs", progs, "maps", maps, "objects", "Service",
	    (int)store_count(&d->store, K_SERVICE), "EndpointSlice",
	    (int)store_count(&d->store, K_ENDPOINTSLICE), "programmingErrors", d->lb_errors);
}

static json_t *cmd_status_full(struct daemon *d, json_t *req)
{
	json_t *s = cmd_status(d, req);

	json_object_set_new(s, "events", events_stats());
	json_object_set_new(json_object_get(s, "objects"), "Pod",
			    json_integer((json_int_t)store_count(&d->store, K_POD)));
	return s;
}

/* Where a container lives, for `podtrace exec` and `podtrace logs`: the
 * CLI (root, same host) enters it or reads its log itself. */
static json_t *cmd_container(struct daemon *d, json_t *req)
{
	char err[512];
	json_t *r = runtime_container_info(
	    d, req_ns(req), json_string_value(json_object_get(req, "name")) ?: "",
	    json_string_value(json_object_get(req, "container")), err, sizeof(err));

	return r ? r : err_obj("%s", err);
}

static json_t *cmd_timeline(struct daemon *d, json_t *req)
{
	char err[512];
	json_t *r =
	    runtime_timeline(d, req_ns(req), json_string_value(json_object_get(req, "name")) ?: "",
			     err, sizeof(err));

	return r ? r : err_obj("%s", err);
}

static json_t *cmd_top(struct daemon *d, json_t *req)
{
	(void)req;
	return metrics_top(d);
}

static json_t *cmd_version(struct daemon *d, json_t *req)
{
	(void)d;
	(void)req;
	return json_pack("{s:s}", "version", PT_VERSION);
}

static const struct {
	const char *name;
	json_t *(*fn)(struct daemon *d, json_t *req);
} cmds[] = {
    {"apply", cmd_apply},	  {"delete", cmd_delete},      {"get", cmd_get},
    {"describe", cmd_describe},	  {"status", cmd_status_full}, {"version", cmd_version},
    {"container", cmd_container}, {"timeline", cmd_timeline},  {"top", cmd_top},
};

static json_t *dispatch(struct daemon *d, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	for (size_t i = 0; cmd && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, cmd))
			return cmds[i].fn(d, req);
	return err_obj("unknown command \"%s\"", cmd ? cmd : "");
}

/* A client connection: the request is read and the response written
 * without blocking the loop. */
struct client {
	struct watch w;
	char *in, *out;
	size_t in_len, in_cap, out_len, out_off;
	int fd_in; /* passed with the request, or -1 */
};

static struct watch listen_w = {.fd = -1};
static const char *sock_path;

static void client_close(struct daemon *d, struct client *c)
{
	loop_del(d, &c->w);
	close(c->w.fd);
	if (c->fd_in >= 0)
		close(c->fd_in);
	free(c->in);
	free(c->out);
	free(c);
}

static void client_flush(struct daemon *d, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->w.fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			loop_mod(d, &c->w, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(d, c);
}

/* `events`: the connection becomes a stream subscriber (events.c). */
static bool stream_request(struct daemon *d, struct client *c, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_int_t since = json_integer_value(json_object_get(req, "sinceSeconds"));
	uint64_t now = events_now_ns(), from = 0;

	if (!cmd || strcmp(cmd, "events"))
		return false;
	if (json_is_true(json_object_get(req, "all")))
		from = 1;
	else if (since > 0)
		from = now > (uint64_t)since * 1000000000ull ? now - (uint64_t)since * 1000000000ull
							     : 1;
	loop_del(d, &c->w);
	events_subscribe(c->w.fd, from, json_is_true(json_object_get(req, "follow")), from != 0);
	if (c->fd_in >= 0)
		close(c->fd_in);
	free(c->in);
	free(c);
	return true;
}

static void client_request(struct daemon *d, struct client *c)
{
	json_error_t je;
	json_t *req = json_loadb(c->in, c->in_len, 0, &je);

	if (req && stream_request(d, c, req)) {
		json_decref(req);
		return;
	}
	req_fd = c->fd_in;
	json_t *resp = req ? dispatch(d, req) : err_obj("bad request: %s", je.text);
	req_fd = -1;

	c->out = raw_reply ?: json_dumps(resp, JSON_COMPACT);
	raw_reply = NULL;
	if (!c->out)
		c->out = strdup("{\"error\":\"cannot encode the response\"}");
	c->out_len = strlen(c->out);
	c->out = realloc(c->out, c->out_len + 1);
	c->out[c->out_len++] = '\n';
	json_decref(req);
	json_decref(resp);
	client_flush(d, c);
}

/* read(), keeping a descriptor the client passed along (SCM_RIGHTS). */
static ssize_t recv_fd(struct client *c, char *buf, size_t len)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	ssize_t n = recvmsg(c->w.fd, &mh, MSG_CMSG_CLOEXEC);

	for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		if (c->fd_in >= 0)
			close(c->fd_in);
		memcpy(&c->fd_in, CMSG_DATA(cm), sizeof(int));
	}
	return n;
}

static void client_event(struct daemon *d, struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)w;

	if (c->out) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			client_flush(d, c);
		return;
	}
	for (;;) {
		if (c->in_len + 1 >= c->in_cap) {
			if (c->in_cap >= MAX_REQ) {
				client_close(d, c);
				return;
			}
			c->in = realloc(c->in, c->in_cap = c->in_cap ? c->in_cap * 2 : 65536);
		}
		ssize_t n = recv_fd(c, c->in + c->in_len, c->in_cap - c->in_len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (c->in_len)
				client_request(d, c); /* EOF ends the request too */
			else
				client_close(d, c);
			return;
		}
		c->in_len += (size_t)n;
		if (c->in[c->in_len - 1] == '\n') {
			client_request(d, c);
			return;
		}
	}
}

static void accept_event(struct daemon *d, struct watch *w, uint32_t events)
{
	(void)events;
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		c->w.fd = fd;
		c->fd_in = -1;
		c->w.fn = client_event;
		if (loop_add(d, &c->w, EPOLLIN)) {
			close(fd);
			free(c);
		}
	}
}

int control_init(struct daemon *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = d->o.socket;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		log_err("control socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chmod(path, 0600);
	listen_w.fd = fd;
	listen_w.fn = accept_event;
	sock_path = path;
	return loop_add(d, &listen_w, EPOLLIN);
}

void control_fini(struct daemon *d)
{
	if (listen_w.fd < 0)
		return;
	loop_del(d, &listen_w);
	close(listen_w.fd);
	unlink(sock_path);
}
