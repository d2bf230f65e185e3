// SPDX-License-Identifier: GPL-2.0
/*
 * echo-id: tiny backend for podtrace e2e tests.
 *
 *   echo-id --id NAME --port P [--port P ...] [--ready-file F]
 *
 * Listens on every port over TCP and UDP on [::] with IPV6_V6ONLY=0, so
 * both IPv4 and IPv6 clients reach it. TCP: each accepted connection gets
 * "NAME:P\n" (P = the listening port that accepted it) and is closed.
 * UDP: each datagram is answered with "NAME:P\n" from the same socket and
 * from the address it was sent to. The ready file is created once every
 * socket is listening. SIGTERM/SIGINT end it cleanly (exit 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 64
#define BACKLOG 4096

struct lsock {
	int fd;
	int udp;
	int port;
};

static struct lsock socks[2 * MAX_PORTS];
static int nsocks;
static const char *id;
static int http;    /* --http: answer one HTTP request instead (demo backends) */
static int discard; /* --discard: read until EOF, then reply with the count */

static void usage(void)
{
	fprintf(stderr, "usage: echo-id --id NAME --port P [--port P ...] "
			"[--ready-file F] [--http | --discard]\n");
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "echo-id: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int parse_port(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 1 || v > 65535)
		usage();
	return (int)v;
}

static int open_listener(int port, int udp)
{
	struct sockaddr_in6 sa = {
	    .sin6_family = AF_INET6,
	    .sin6_port = htons(port),
	    .sin6_addr = IN6ADDR_ANY_INIT,
	};
	int type = (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
	int zero = 0, one = 1;
	int fd;

	fd = socket(AF_INET6, type, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("setsockopt");
	/*
	 * Learn each datagram's destination address so the reply leaves from
	 * it, even when the pod has several addresses. On a dual-stack socket
	 * this also reports IPv4 destinations (as v4-mapped addresses).
	 */
	if (udp && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))
		die("setsockopt IPV6_RECVPKTINFO");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "echo-id: bind %s port %d: %s\n", udp ? "udp" : "tcp", port,
			strerror(errno));
		exit(1);
	}
	if (!udp && listen(fd, BACKLOG))
		die("listen");
	return fd;
}

static void write_ready(const char *path)
{
	char tmp[4096], buf[32];
	int fd, n;

	/* write + rename so a reader never sees a half-written file */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die("ready file");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open ready file");
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, n) != n || close(fd) || rename(tmp, path))
		die("write ready file");
}

/* Read the request head (bounded by a 1 s timeout), reply with the id. */
static void serve_http(int c, const char *body)
{
	struct timeval tv = {.tv_sec = 1};
	char req[4096], resp[1024];
	size_t got = 0;
	int n;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t r = recv(c, req + got, sizeof(req) - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     strlen(body), body);
	if (send(c, resp, (size_t)n, MSG_NOSIGNAL) != n)
		perror("echo-id: send");
	close(c);
}

/* A sink for bulk transfers (metrics and bandwidth tests). Blocking: one
 * transfer at a time is all the tests need. */
static void serve_discard(int c)
{
	char buf[65536], reply[64];
	unsigned long long total = 0;
	ssize_t r;
	int n;

	fcntl(c, F_SETFL, 0);
	while ((r = recv(c, buf, sizeof(buf), 0)) > 0)
		total += (unsigned long long)r;
	n = snprintf(reply, sizeof(reply), "%llu\n", total);
	if (send(c, reply, (size_t)n, MSG_NOSIGNAL) != n)
		perror("echo-id: send");
	close(c);
}

static void serve_tcp(struct lsock *l)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%s:%d\n", id, l->port);

	for (;;) {
		int c = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				perror("echo-id: accept");
			return;
		}
		if (http) {
			serve_http(c, msg);
			continue;
		}
		if (discard) {
			serve_discard(c);
			continue;
		}
		/* A fresh socket has room for a few bytes: no need to poll. */
		if (send(c, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
			perror("echo-id: send");
		close(c);
	}
}

static void serve_udp(struct lsock *l)
{
	char msg[512], buf[2048];
	int n = snprintf(msg, sizeof(msg), "%s:%d\n", id, l->port);

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} cb;
		struct sockaddr_in6 from;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {
		    .msg_name = &from,
		    .msg_namelen = sizeof(from),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = cb.buf,
		    .msg_controllen = sizeof(cb.buf),
		};
		struct in6_pktinfo *pi = NULL;
		struct cmsghdr *cm;

		if (recvmsg(l->fd, &mh, 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				perror("echo-id: recvmsg");
			return;
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO)
				pi = (struct in6_pktinfo *)CMSG_DATA(cm);

		/* Reply with the same control block: source := old dest. */
		iov.iov_base = msg;
		iov.iov_len = n;
		mh.msg_flags = 0;
		if (pi) {
			pi->ipi6_ifindex = 0; /* let routing pick the device */
			mh.msg_controllen = CMSG_SPACE(sizeof(*pi));
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(*pi));
			memmove(CMSG_DATA(cm), pi, sizeof(*pi));
		} else {
			mh.msg_control = NULL;
			mh.msg_controllen = 0;
		}
		if (sendmsg(l->fd, &mh, MSG_DONTWAIT) != n)
			perror("echo-id: sendmsg");
	}
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	int ports[MAX_PORTS], nports = 0;
	struct epoll_event ev;
	sigset_t mask;
	int ep, sfd, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--http")) {
			http = 1;
			continue;
		}
		if (!strcmp(argv[i], "--discard")) {
			discard = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--id"))
			id = argv[++i];
		else if (!strcmp(argv[i], "--port") && nports < MAX_PORTS)
			ports[nports++] = parse_port(argv[++i]);
		else if (!strcmp(argv[i], "--ready-file"))
			ready = argv[++i];
		else
			usage();
	}
	if (!id || !nports)
		usage();

	/* Signals arrive through a signalfd: no async handler races. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		die("sigprocmask");
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0)
		die("signalfd/epoll");
	ev.events = EPOLLIN;
	ev.data.u32 = (uint32_t)-1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev))
		die("epoll_ctl");

	for (i = 0; i < 2 * nports; i++) {
		struct lsock *l = &socks[nsocks];

		l->port = ports[i / 2];
		l->udp = i % 2;
		l->fd = open_listener(l->port, l->udp);
		ev.events = EPOLLIN;
		ev.data.u32 = nsocks++;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev))
			die("epoll_ctl");
	}
	if (ready)
		write_ready(ready);

	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			uint32_t k = evs[i].data.u32;

			if (k == (uint32_t)-1)
				goto out;
			if (socks[k].udp)
				serve_udp(&socks[k]);
			else
				serve_tcp(&socks[k]);
		}
	}
out:
	if (ready)
		unlink(ready);
	return 0;
}
