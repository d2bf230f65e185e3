// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The control socket round trip: one compact JSON line out, then the whole
 * response (one JSON object) until the daemon closes the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "cli.h"

/* The daemon serves one request at a time from its event loop; a big
 * apply takes a while, a wedged daemon should not hang scripts forever. */
#define REPLY_TIMEOUT_S 120

int client_dial(const char *path, int timeout_s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_s};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (timeout_s)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Everything until EOF, NUL-terminated; NULL with errno on a read error. */
static char *recv_all(int fd, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap), *nb;

	*len = 0;
	for (;;) {
		ssize_t n;
		if (*len + 1 >= cap) {
			if (!(nb = realloc(buf, cap *= 2)))
				break;
			buf = nb;
		}
		n = read(fd, buf + *len, cap - *len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			buf[*len] = 0;
			return buf;
		}
		*len += (size_t)n;
	}
	int e = errno;
	free(buf);
	errno = e;
	return NULL;
}

/* The first byte of the request carries pass_fd (SCM_RIGHTS) along. */
static int send_fd(int fd, const char *buf, size_t len, int pass_fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	if (pass_fd < 0)
		return send_all(fd, buf, len);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return -1;
	return send_all(fd, buf + 1, len - 1);
}

json_t *client_try(json_t *req, char *err, size_t errlen)
{
	return client_try_fd(req, -1, err, errlen);
}

json_t *client_try_fd(json_t *req, int pass_fd, char *err, size_t errlen)
{
	char *line = json_dumps(req, JSON_COMPACT), *reply = NULL;
	json_t *resp = NULL;
	json_error_t je;
	size_t len;
	int fd = client_dial(socket_path, REPLY_TIMEOUT_S);

	if (fd < 0) {
		snprintf(err, errlen, "cannot reach podtraced at %s: %s", socket_path,
			 strerror(errno));
		goto out;
	}
	if (!line || send_fd(fd, line, strlen(line), pass_fd) || send_all(fd, "\n", 1)) {
		snprintf(err, errlen, "cannot send to podtraced at %s: %s", socket_path,
			 line ? strerror(errno) : "request too large");
		goto out;
	}
	/* the daemon reads up to the newline: tell it nothing more comes */
	shutdown(fd, SHUT_WR);
	reply = recv_all(fd, &len);
	if (!reply) {
		snprintf(err, errlen, "no reply from podtraced at %s: %s", socket_path,
			 errno == EAGAIN ? "timed out" : strerror(errno));
		goto out;
	}
	if (!len) {
		snprintf(err, errlen, "podtraced at %s closed the connection without a reply",
			 socket_path);
		goto out;
	}
	resp = json_loadb(reply, len, 0, &je);
	if (!json_is_object(resp)) {
		snprintf(err, errlen, "bad reply from podtraced at %s: %s", socket_path,
			 resp ? "not a JSON object" : je.text);
		json_decref(resp);
		resp = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(line);
	free(reply);
	return resp;
}

json_t *client_call(json_t *req)
{
	return client_call_fd(req, -1);
}

json_t *client_call_fd(json_t *req, int pass_fd)
{
	char err[1024];
	json_t *resp = client_try_fd(req, pass_fd, err, sizeof(err));
	const char *msg;

	json_decref(req);
	if (!resp) {
		fprintf(stderr, "podtrace: %s\n", err);
		return NULL;
	}
	msg = json_string_value(json_object_get(resp, "error"));
	if (msg) {
		fprintf(stderr, "Error from server: %s\n", msg);
		json_decref(resp);
		return NULL;
	}
	return resp;
}

json_t *client_call_named(json_t *req, const char *resource, const char *name)
{
	char err[1024];
	json_t *resp = client_try(req, err, sizeof(err));
	const char *msg;

	json_decref(req);
	if (!resp) {
		fprintf(stderr, "podtrace: %s\n", err);
		return NULL;
	}
	msg = json_string_value(json_object_get(resp, "error"));
	if (msg && strstr(msg, " not found"))
		fprintf(stderr, "Error from server (NotFound): %s \"%s\" not found\n", resource,
			name);
	else if (msg)
		fprintf(stderr, "Error from server: %s\n", msg);
	if (msg) {
		json_decref(resp);
		return NULL;
	}
	return resp;
}
