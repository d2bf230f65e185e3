// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The daemon's one event loop: every fd it waits on is a struct watch. */
#include <sys/epoll.h>
#include "daemon.h"

int loop_add(struct daemon *d, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_mod(struct daemon *d, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(d->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_del(struct daemon *d, struct watch *w)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}
