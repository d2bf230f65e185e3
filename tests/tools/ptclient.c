// SPDX-License-Identifier: GPL-2.0
/*
 * ptclient: connection-attempt counter for podtrace e2e tests.
 *
 *   ptclient [--cgroup DIR] [--udp | --udp-connected] [-n COUNT]
 *            [--timeout-ms MS] [--check-peer] [--src-check] ADDR PORT
 *
 * Makes COUNT independent attempts (fresh socket each) and prints one line
 * per distinct outcome, sorted, then the total:
 *
 *   ok <reply> <count>             reply line received (newline stripped)
 *   err <ERRNO_NAME> <count>       attempt failed (timeouts: ETIMEDOUT)
 *   peer-mismatch <addr:port> <count>
 *                                  getpeername() or the UDP reply source
 *                                  differed from ADDR:PORT ([v6]:port)
 *   total <COUNT>
 *
 * Every attempt yields exactly one ok/err line; peer-mismatch lines come
 * on top of them. Exit 0 if it ran, 1 on setup failure, 2 on usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct outcome {
	char *key;
	long count;
};

static struct outcome *outs;
static size_t nouts, capouts;

static struct sockaddr_storage target;
static socklen_t target_len;

static void usage(void)
{
	fprintf(stderr, "usage: ptclient [--cgroup DIR] [--udp | --udp-connected] "
			"[-n COUNT]\n"
			"                [--timeout-ms MS] [--check-peer] "
			"[--src-check] ADDR PORT\n");
	exit(2);
}

static void record(const char *kind, const char *what)
{
	char key[600];
	size_t i;

	snprintf(key, sizeof(key), "%s %s", kind, what);
	for (i = 0; i < nouts; i++) {
		if (!strcmp(outs[i].key, key)) {
			outs[i].count++;
			return;
		}
	}
	if (nouts == capouts) {
		capouts = capouts ? 2 * capouts : 16;
		outs = realloc(outs, capouts * sizeof(*outs));
		if (!outs)
			abort();
	}
	outs[nouts].key = strdup(key);
	if (!outs[nouts].key)
		abort();
	outs[nouts++].count = 1;
}

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	/*
	 * A blocking connect() that hits SO_SNDTIMEO fails with EINPROGRESS,
	 * and a recv() that hits SO_RCVTIMEO with EAGAIN: both are timeouts.
	 */
	case EINPROGRESS:
	case EAGAIN:
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case ECONNABORTED:
		return "ECONNABORTED";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EHOSTDOWN:
		return "EHOSTDOWN";
	case ENETDOWN:
		return "ENETDOWN";
	case EPERM:
		return "EPERM";
	case EACCES:
		return "EACCES";
	case EADDRNOTAVAIL:
		return "EADDRNOTAVAIL";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EINVAL:
		return "EINVAL";
	case ENOENT:
		return "ENOENT";
	case EPIPE:
		return "EPIPE";
	case EMSGSIZE:
		return "EMSGSIZE";
	case ENOBUFS:
		return "ENOBUFS";
	case ENOMEM:
		return "ENOMEM";
	case EMFILE:
		return "EMFILE";
	case ENOTCONN:
		return "ENOTCONN";
	case EISCONN:
		return "EISCONN";
	case EDESTADDRREQ:
		return "EDESTADDRREQ";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EPROTO:
		return "EPROTO";
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

static void fmt_addr(const struct sockaddr *sa, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(s->sin6_port));
	} else {
		snprintf(out, len, "family%d", sa->sa_family);
	}
}

/* Compares family, address and port only (not flowinfo/scope). */
static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
	return 0;
}

/* Records a peer-mismatch unless @sa is the target; returns 1 if recorded. */
static int check_addr(const struct sockaddr *sa, const char *skip)
{
	char s[INET6_ADDRSTRLEN + 16];

	if (same_addr(sa, (const struct sockaddr *)&target))
		return 0;
	fmt_addr(sa, s, sizeof(s));
	if (skip && !strcmp(skip, s))
		return 0; /* same mismatch already counted for this attempt */
	record("peer-mismatch", s);
	return 1;
}

/* getpeername() check; keeps the text of a mismatch in @seen. */
static void check_peer(int fd, char *seen, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(seen, len, "getpeername:%s", errname(errno));
		record("peer-mismatch", seen);
		return;
	}
	if (check_addr((struct sockaddr *)&ss, NULL))
		fmt_addr((struct sockaddr *)&ss, seen, len);
}

/* Reply text as a single token: first line, no blanks or control chars. */
static void record_reply(char *buf, ssize_t n)
{
	ssize_t i;

	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	for (i = 0; buf[i]; i++)
		if (buf[i] <= ' ' || buf[i] == 0x7f)
			buf[i] = '?';
	record("ok", buf[0] ? buf : "-");
}

static void attempt(int type, int udp_connect, int check, int src_check, const struct timeval *tv)
{
	char buf[512], seen[INET6_ADDRSTRLEN + 32] = "";
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n, got = 0;
	int fd;

	fd = socket(target.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		record("err", errname(errno));
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, sizeof(*tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, sizeof(*tv)))
		goto err;

	if (type == SOCK_STREAM || udp_connect) {
		if (connect(fd, (struct sockaddr *)&target, target_len))
			goto err;
		if (check)
			check_peer(fd, seen, sizeof(seen));
	}

	if (type == SOCK_STREAM) {
		/* Read up to the first newline or EOF. */
		while ((size_t)got < sizeof(buf) - 1) {
			n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				goto err;
			if (n == 0)
				break;
			got += n;
			if (memchr(buf + got - n, '\n', n))
				break;
		}
		if (!got) {
			record("err", "EOF"); /* closed without a reply */
			goto out;
		}
		record_reply(buf, got);
		goto out;
	}

	if (udp_connect)
		n = send(fd, "x", 1, 0);
	else
		n = sendto(fd, "x", 1, 0, (struct sockaddr *)&target, target_len);
	if (n < 0)
		goto err;
	do
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		goto err;
	if (src_check)
		check_addr((struct sockaddr *)&from, seen[0] ? seen : NULL);
	record_reply(buf, n);
	goto out;
err:
	record("err", errname(errno));
out:
	close(fd);
}

static void join_cgroup(const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	/* fclose() flushes, and that is where the kernel can say no */
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		fprintf(stderr, "ptclient: joining cgroup %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static long parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static int cmp_outcome(const void *a, const void *b)
{
	return strcmp(((const struct outcome *)a)->key, ((const struct outcome *)b)->key);
}

int main(int argc, char **argv)
{
	int udp = 0, udp_connect = 0, check = 0, src_check = 0;
	const char *cgroup = NULL;
	long count = 1, timeout_ms = 2000, i;
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai;
	struct in_addr v4;
	struct timeval tv;
	int ai_err, type;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--udp"))
			udp = 1;
		else if (!strcmp(a, "--udp-connected"))
			udp_connect = 1;
		else if (!strcmp(a, "--check-peer"))
			check = 1;
		else if (!strcmp(a, "--src-check"))
			src_check = 1;
		else if (i + 1 >= argc)
			usage();
		else if (!strcmp(a, "--cgroup"))
			cgroup = argv[++i];
		else if (!strcmp(a, "-n"))
			count = parse_num(argv[++i], 1, 100000000);
		else if (!strcmp(a, "--timeout-ms"))
			timeout_ms = parse_num(argv[++i], 1, 3600000);
		else
			usage();
	}
	if (argc - i != 2 || (udp && udp_connect))
		usage();
	parse_num(argv[i + 1], 0, 65535);

	type = (udp || udp_connect) ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_socktype = type;
	/*
	 * Plain dotted quads only: getaddrinfo() would also take inet_aton()
	 * shorthands like "10.1" and send traffic somewhere unintended.
	 */
	hints.ai_family = inet_pton(AF_INET, argv[i], &v4) == 1 ? AF_INET : AF_INET6;
	ai_err = getaddrinfo(argv[i], argv[i + 1], &hints, &ai);
	if (ai_err) {
		fprintf(stderr, "ptclient: bad address %s: %s\n", argv[i], gai_strerror(ai_err));
		exit(2);
	}
	memcpy(&target, ai->ai_addr, ai->ai_addrlen);
	target_len = ai->ai_addrlen;
	freeaddrinfo(ai);

	/* An unconnected UDP reply's source is always checked (see --udp). */
	if (udp)
		src_check = 1;
	/* connected UDP always reports getpeername() */
	if (udp_connect)
		check = 1;

	if (cgroup)
		join_cgroup(cgroup);

	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	for (i = 0; i < count; i++)
		attempt(type, udp_connect, check, src_check, &tv);

	qsort(outs, nouts, sizeof(*outs), cmp_outcome);
	for (i = 0; i < (long)nouts; i++)
		printf("%s %ld\n", outs[i].key, outs[i].count);
	printf("total %ld\n", count);
	return 0;
}
