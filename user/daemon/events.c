// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The event stream: ring buffer records (trace plane, LB connect events)
 * and the runtime's own lifecycle records, enriched with pod, namespace,
 * container, labels and node, kept in a bounded history for --since, and
 * written to every subscribed CLI client.
 *
 * Nothing is lost silently: kernel reserve failures are read from pt_lost,
 * events pushed out of the history are counted, and a subscriber too slow
 * to keep up is told how many events it missed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "trace.h"

#define HISTORY 65536 /* events kept for --since */

struct cgref {
	char ns[64], pod[256], uid[64], ctr[64];
	uint64_t execs;
};

struct sub {
	struct watch w;
	char *buf;
	size_t len, off;
	uint64_t missed;
	uint64_t cursor;  /* next history sequence number to send */
	uint64_t since;	  /* only history newer than this (ns) */
	uint64_t stop_at; /* without follow: the head when it subscribed */
	bool follow, closing;
	struct sub *next;
};

static struct {
	struct daemon *d;
	struct trace t;
	bool trace_ok;
	struct watch rb, drain;
	bool backlog;	      /* the last drain stopped at RB_BUDGET */
	int64_t mono_to_real; /* ns */
	struct hmap cg;	      /* cgroup id -> struct cgref */
	char *hist[HISTORY];
	uint64_t hist_ts[HISTORY];
	uint64_t head, dropped_history;
	uint64_t count[16], kernel_records;
	struct sub *subs;
} ev;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void time_str(uint64_t mono, char *buf, size_t len)
{
	int64_t real = (int64_t)mono + ev.mono_to_real;
	time_t s = (time_t)(real / 1000000000);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09lldZ", base, (long long)(real % 1000000000));
}

/* ---- attribution ---- */
void events_cgroup_add(uint64_t cgid, const char *ns, const char *pod, const char *uid,
		       const char *ctr)
{
	struct cgref *r = calloc(1, sizeof(*r));

	snprintf(r->ns, sizeof(r->ns), "%s", ns ? ns : "");
	snprintf(r->pod, sizeof(r->pod), "%s", pod ? pod : "");
	snprintf(r->uid, sizeof(r->uid), "%s", uid ? uid : "");
	snprintf(r->ctr, sizeof(r->ctr), "%s", ctr ? ctr : "");
	free(hmap_put(&ev.cg, &cgid, sizeof(cgid), r));
}

void events_cgroup_del(uint64_t cgid)
{
	free(hmap_del(&ev.cg, &cgid, sizeof(cgid)));
}

uint64_t events_execs(uint64_t cgid)
{
	struct cgref *r = hmap_get(&ev.cg, &cgid, sizeof(cgid));

	return r ? r->execs : 0;
}

static void attribute(json_t *e, uint64_t cgid)
{
	struct cgref *r = hmap_get(&ev.cg, &cgid, sizeof(cgid));
	json_t *pod;

	json_object_set_new(e, "cgroupId", json_integer((json_int_t)cgid));
	if (!r)
		return;
	json_object_set_new(e, "namespace", json_string(r->ns));
	json_object_set_new(e, "pod", json_string(r->pod));
	json_object_set_new(e, "podUID", json_string(r->uid));
	if (r->ctr[0])
		json_object_set_new(e, "container", json_string(r->ctr));
	pod = *r->ns ? store_get(&ev.d->store, K_POD, r->ns, r->pod) : NULL;
	json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
	if (labels)
		json_object_set(e, "labels", labels);
}

/* ---- history and subscribers ---- */
static void sub_close(struct sub *s)
{
	struct sub **pp;

	for (pp = &ev.subs; *pp && *pp != s; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = s->next;
	loop_del(ev.d, &s->w);
	close(s->w.fd);
	free(s->buf);
	free(s);
}

#define SUB_CHUNK (1u << 20) /* refill the socket buffer a megabyte at a time */

static void sub_append(struct sub *s, const char *line, size_t n)
{
	if (s->off && s->off == s->len)
		s->off = s->len = 0;
	s->buf = realloc(s->buf, s->len + n);
	memcpy(s->buf + s->len, line, n);
	s->len += n;
}

/* Move history into the client's buffer, a chunk at a time: a subscriber
 * reads the stream at its own pace through the history ring. One that
 * falls so far behind that the ring overwrote what it had not read yet is
 * told how many events it missed. */
static void sub_fill(struct sub *s)
{
	uint64_t end = s->follow ? ev.head : s->stop_at;
	uint64_t oldest = ev.head > HISTORY ? ev.head - HISTORY : 0;

	if (s->cursor < oldest) {
		s->missed += oldest - s->cursor;
		s->cursor = oldest;
	}
	if (s->missed) {
		char note[96];
		int k = snprintf(note, sizeof(note),
				 "{\"type\":\"lost\",\"source\":\"stream\",\"count\":%llu}\n",
				 (unsigned long long)s->missed);
		s->missed = 0;
		sub_append(s, note, (size_t)k);
	}
	while (s->cursor < end && s->len - s->off < SUB_CHUNK) {
		uint64_t slot = s->cursor % HISTORY;
		if (ev.hist[slot] && ev.hist_ts[slot] >= s->since)
			sub_append(s, ev.hist[slot], strlen(ev.hist[slot]));
		s->cursor++;
	}
	if (!s->follow && s->cursor >= end && !s->closing) {
		sub_append(s, "{\"type\":\"end\"}\n", 15);
		s->closing = true; /* once drained */
	}
}

static void sub_flush(struct sub *s)
{
	for (;;) {
		while (s->off < s->len) {
			ssize_t n = write(s->w.fd, s->buf + s->off, s->len - s->off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				loop_mod(ev.d, &s->w, EPOLLOUT | EPOLLRDHUP);
				return;
			}
			if (n <= 0) {
				sub_close(s);
				return;
			}
			s->off += (size_t)n;
		}
		s->off = s->len = 0;
		if (s->closing) {
			sub_close(s);
			return;
		}
		sub_fill(s);
		if (s->len == 0)
			break;
	}
	loop_mod(ev.d, &s->w, EPOLLRDHUP);
}

static void publish(json_t *e, uint64_t mono)
{
	char *line = json_dumps(e, JSON_COMPACT);
	size_t n;
	uint64_t slot = ev.head % HISTORY;

	if (!line)
		return;
	n = strlen(line);
	line = realloc(line, n + 2);
	line[n++] = '\n';
	line[n] = 0;
	if (ev.hist[slot])
		ev.dropped_history++;
	free(ev.hist[slot]);
	ev.hist[slot] = line;
	ev.hist_ts[slot] = mono;
	ev.head++;
	/* followers that are caught up get it now; the others when their
	 * socket drains */
	for (struct sub *s = ev.subs, *next; s; s = next) {
		next = s->next;
		if (s->follow && s->off == s->len)
			sub_flush(s);
	}
}

/* A daemon-side record (lifecycle stages, probe failures, restarts). */
void events_emit(const char *type, const char *ns, const char *pod, const char *ctr, json_t *fields)
{
	json_t *e = fields ? json_deep_copy(fields) : json_object();
	uint64_t now = json_is_integer(json_object_get(e, "tsNs"))
			   ? (uint64_t)json_integer_value(json_object_get(e, "tsNs"))
			   : mono_ns();
	char ts[48];

	time_str(now, ts, sizeof(ts));
	json_object_set_new(e, "time", json_string(ts));
	json_object_set_new(e, "tsNs", json_integer((json_int_t)now));
	json_object_set_new(e, "type", json_string(type));
	/* a stage's own source (kernel-stamped or not) is stageSource */
	if (json_object_get(e, "source"))
		json_object_set(e, "stageSource", json_object_get(e, "source"));
	json_object_set_new(e, "source", json_string("daemon"));
	json_object_set_new(e, "namespace", json_string(ns));
	json_object_set_new(e, "pod", json_string(pod));
	if (ctr)
		json_object_set_new(e, "container", json_string(ctr));
	if (ev.d->node_ip[0])
		json_object_set_new(e, "node", json_string(ev.d->node_ip));
	publish(e, now);
	json_decref(e);
}

/* ---- kernel records ---- */
static json_t *args_json(const struct pt_event_exec *x)
{
	json_t *a = json_array();
	size_t off = 0, len = x->args_len < PT_ARGS_MAX ? x->args_len : PT_ARGS_MAX;

	while (off < len) {
		size_t n = strnlen(x->args + off, len - off);
		json_array_append_new(a, json_stringn(x->args + off, n));
		off += n + 1;
	}
	return a;
}

static json_t *decode(const void *rec, size_t len)
{
	const struct pt_event_hdr *h = rec;
	json_t *e = json_object();
	char ts[48];

	if (len < sizeof(*h))
		return NULL;
	time_str(h->ts_ns, ts, sizeof(ts));
	json_object_set_new(e, "time", json_string(ts));
	json_object_set_new(e, "tsNs", json_integer((json_int_t)h->ts_ns));
	json_object_set_new(e, "type", json_string(trace_event_name(h->type)));
	json_object_set_new(e, "source", json_string("kernel"));
	json_object_set_new(e, "pid", json_integer(h->pid));
	attribute(e, h->cgroup_id);
	if (ev.d->node_ip[0])
		json_object_set_new(e, "node", json_string(ev.d->node_ip));
	switch (h->type) {
	case PT_EV_EXEC: {
		const struct pt_event_exec *x = rec;
		/* exec records come at their used length */
		if (len < PT_EXEC_FIXED_SIZE || len < PT_EXEC_FIXED_SIZE + x->args_len)
			break;
		json_object_set_new(e, "ppid", json_integer(x->ppid));
		json_object_set_new(e, "uid", json_integer(x->uid));
		json_object_set_new(e, "comm",
				    json_stringn(x->comm, strnlen(x->comm, PT_COMM_LEN)));
		json_object_set_new(e, "binary",
				    json_stringn(x->filename, strnlen(x->filename, PT_PATH_MAX)));
		json_object_set_new(e, "args", args_json(x));
		json_object_set_new(e, "argsTruncated", json_boolean(x->args_truncated));
		break;
	}
	case PT_EV_EXIT: {
		const struct pt_event_exit *x = rec;
		if (len < sizeof(*x))
			break;
		json_object_set_new(e, "ppid", json_integer(x->ppid));
		json_object_set_new(e, "comm",
				    json_stringn(x->comm, strnlen(x->comm, PT_COMM_LEN)));
		json_object_set_new(e, "exitCode", json_integer(x->exit_code));
		json_object_set_new(e, "signal", json_integer(x->signal));
		json_object_set_new(e, "lifetimeNs", json_integer((json_int_t)x->lifetime_ns));
		break;
	}
	case PT_EV_FORK: {
		const struct pt_event_fork *x = rec;
		if (len < sizeof(*x))
			break;
		json_object_set_new(e, "childPid", json_integer(x->child_pid));
		json_object_set_new(e, "comm",
				    json_stringn(x->comm, strnlen(x->comm, PT_COMM_LEN)));
		break;
	}
	case PT_EV_OOM: {
		const struct pt_event_oom *x = rec;
		if (len < sizeof(*x))
			break;
		json_object_set_new(e, "comm",
				    json_stringn(x->comm, strnlen(x->comm, PT_COMM_LEN)));
		json_object_set_new(e, "anonRssKb", json_integer((json_int_t)x->anon_rss_kb));
		break;
	}
	case PT_EV_SIGNAL: {
		const struct pt_event_signal *x = rec;
		if (len < sizeof(*x))
			break;
		json_object_set_new(e, "signal", json_integer(x->sig));
		json_object_set_new(e, "senderPid", json_integer(x->sender_pid));
		json_object_set_new(e, "comm",
				    json_stringn(x->comm, strnlen(x->comm, PT_COMM_LEN)));
		json_object_set_new(
		    e, "senderComm",
		    json_stringn(x->sender_comm, strnlen(x->sender_comm, PT_COMM_LEN)));
		break;
	}
	case PT_EV_CGROUP_MKDIR:
	case PT_EV_CGROUP_RMDIR:
	case PT_EV_CGROUP_ATTACH: {
		const struct pt_event_cgroup *x = rec;
		if (len < sizeof(*x))
			break;
		json_object_set_new(e, "path",
				    json_stringn(x->path, strnlen(x->path, PT_PATH_MAX)));
		break;
	}
	case PT_EV_CONNECT:
	case PT_EV_REJECT: {
		const struct pt_event_connect *x = rec;
		struct ipaddr ip = {.family = x->family};
		char a[64];
		if (len < sizeof(*x))
			break;
		memcpy(ip.a, x->addr, sizeof(ip.a));
		json_object_set_new(e, "service", json_string(lb_service_of(&ev.d->lb, x->svc_id)));
		json_object_set_new(e, h->type == PT_EV_CONNECT ? "backend" : "frontend",
				    json_pack("{s:s,s:i}", "ip", ip_str(&ip, a, sizeof(a)), "port",
					      (int)(((x->port & 0xff) << 8) | (x->port >> 8))));
		json_object_set_new(e, "protocol", json_string(x->proto == 17 ? "UDP" : "TCP"));
		break;
	}
	}
	return e;
}

/* Records handled per loop turn: a storm must not starve the control
 * socket or the stream clients (the rest stays in the ring, which is
 * level-triggered in epoll). */
#define RB_BUDGET 2048

static int on_record(void *ctx, const void *rec, size_t len)
{
	const struct pt_event_hdr *h = rec;
	int *budget = ctx;
	json_t *e;

	if (len < sizeof(*h))
		return 0;
	ev.kernel_records++;
	if (h->type < 16)
		ev.count[h->type]++;
	if (h->type == PT_EV_EXEC) {
		struct cgref *r = hmap_get(&ev.cg, &h->cgroup_id, sizeof(h->cgroup_id));
		if (r)
			r->execs++;
	}
	runtime_kernel_event(ev.d, rec, len);
	if (h->type == PT_EV_CGROUP_MKDIR && len >= sizeof(struct pt_event_cgroup)) {
		const struct pt_event_cgroup *x = rec;
		char path[PT_PATH_MAX + 1];
		snprintf(path, sizeof(path), "%.*s", PT_PATH_MAX, x->path);
		kubelet_mkdir(ev.d, path);
	}
	e = decode(rec, len);
	if (e) {
		publish(e, h->ts_ns);
		json_decref(e);
	}
	return --*budget > 0 ? 0 : -1; /* -1: this one is consumed, stop here */
}

/*
 * Batching: the kernel wakes the ring's reader only when a record is
 * committed at the position the reader has caught up to, i.e. the first
 * record after a drain. Draining at once on that wakeup means one wakeup (a
 * self-IPI, a VM exit here, and a context switch) per record. Instead the
 * first wakeup takes the ring off epoll and arms a one-shot timer; records
 * committed meanwhile find the reader behind and wake nobody; the timer
 * drains them all at once. Events arrive up to RB_DELAY_MS late, in order,
 * with their kernel timestamps. Under a backlog (a drain stopped at
 * RB_BUDGET) the ring is drained every loop turn, as before.
 */
#define RB_DELAY_MS 10

static void rb_drain(void)
{
	int budget = RB_BUDGET;

	trace_poll(&ev.t, on_record, &budget);
	ev.backlog = budget <= 0;
}

static void rb_event(struct daemon *d, struct watch *w, uint32_t events)
{
	struct itimerspec its = {.it_value.tv_nsec = RB_DELAY_MS * 1000000l};

	(void)w;
	(void)events;
	/* timer first: the ring is never off epoll without a drain to come */
	if (ev.backlog || ev.drain.fd < 0 || timerfd_settime(ev.drain.fd, 0, &its, NULL) ||
	    loop_mod(d, &ev.rb, 0))
		rb_drain();
}

static void drain_event(struct daemon *d, struct watch *w, uint32_t events)
{
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("events: drain timer: %s", strerror(errno));
	rb_drain();
	/* the timer is only armed with the ring off epoll: put it back
	 * (level-triggered: a backlog reports again at once) */
	loop_mod(d, &ev.rb, EPOLLIN);
}

/* Everything the kernel has written so far, now: counters and new
 * subscribers must not be up to RB_DELAY_MS behind. */
static void drain_now(void)
{
	if (ev.trace_ok)
		rb_drain();
}

/* ---- subscribers (control socket clients asking for a stream) ---- */
static void sub_event(struct daemon *d, struct watch *w, uint32_t events)
{
	struct sub *s = (struct sub *)w;

	(void)d;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		sub_close(s);
		return;
	}
	if (events & EPOLLOUT)
		sub_flush(s);
}

/* Hand a client over to the stream: history newer than since_ns first
 * (0 = none), then live events if follow, else close. */
void events_subscribe(int fd, uint64_t since_ns, bool follow, bool history)
{
	struct sub *s = calloc(1, sizeof(*s));
	char hdr[256];
	int n;

	drain_now();
	s->w.fd = fd;
	s->w.fn = sub_event;
	s->follow = follow;
	s->since = since_ns;
	s->stop_at = ev.head;
	/* without history: start at the head (live only) */
	s->cursor = history ? (ev.head > HISTORY ? ev.head - HISTORY : 0) : ev.head;
	loop_add(ev.d, &s->w, EPOLLRDHUP);
	s->next = ev.subs;
	ev.subs = s;
	n = snprintf(hdr, sizeof(hdr),
		     "{\"type\":\"stream\",\"lostKernel\":%llu,\"lostHistory\":%llu}\n",
		     (unsigned long long)(ev.trace_ok ? trace_lost(&ev.t) : 0),
		     (unsigned long long)ev.dropped_history);
	sub_append(s, hdr, (size_t)n);
	sub_flush(s);
}

uint64_t events_now_ns(void)
{
	return mono_ns();
}

uint64_t events_lost_kernel(void)
{
	return ev.trace_ok ? trace_lost(&ev.t) : 0;
}

void events_counts(uint64_t *received, uint64_t *lost_history, uint64_t *by_type, int n)
{
	drain_now();
	*received = ev.kernel_records;
	*lost_history = ev.dropped_history;
	for (int i = 0; i < n && i < 16; i++)
		by_type[i] = ev.count[i];
}

json_t *events_stats(void)
{
	json_t *by;

	drain_now();
	by = json_object();
	for (unsigned t = 1; t < 16; t++)
		if (ev.count[t])
			json_object_set_new(by, trace_event_name(t),
					    json_integer((json_int_t)ev.count[t]));
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:o}", "tracing", ev.trace_ok, "received",
			 (json_int_t)ev.kernel_records, "lostKernel",
			 (json_int_t)(ev.trace_ok ? trace_lost(&ev.t) : 0), "missedKernel",
			 (json_int_t)(ev.trace_ok ? trace_missed(&ev.t) : 0), "lostHistory",
			 (json_int_t)ev.dropped_history, "byType", by);
}

int events_init(struct daemon *d)
{
	struct timespec m, r;

	ev.d = d;
	ev.drain.fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	ev.mono_to_real = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000ll + (r.tv_nsec - m.tv_nsec);
	if (!d->o.trace)
		return 0;
	if (trace_open(&ev.t, d->o.bpffs)) {
		log_err("trace plane: cannot load the tracepoint programs");
		return -1;
	}
	ev.trace_ok = true;
	ev.rb.fd = trace_fd(&ev.t);
	ev.rb.fn = rb_event;
	ev.drain.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.drain.fn = drain_event;
	if (ev.drain.fd >= 0 && loop_add(d, &ev.drain, EPOLLIN)) {
		close(ev.drain.fd);
		ev.drain.fd = -1; /* no batching: drain on every wakeup */
	}
	return loop_add(d, &ev.rb, EPOLLIN);
}

int events_watch_root(uint64_t cgid)
{
	return ev.trace_ok ? trace_watch_root(&ev.t, cgid, true) : 0;
}

bool events_tracing(void)
{
	return ev.trace_ok;
}
