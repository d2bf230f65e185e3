// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The node's addresses in pt_node_addr: NodePort answers on them, and an
 * externalIP is only translated when it is one of them (CVE-2020-8554).
 * Kept current from rtnetlink address notifications.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "daemon.h"
#include "log.h"

static void sync_addrs(struct daemon *d)
{
	struct ifaddrs *ifa, *i;
	struct pt_addr_key k, next, *prev = NULL;
	struct pt_addr_key want[256];
	int n = 0;
	uint8_t one = 1;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i && n < 256; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		memset(&want[n], 0, sizeof(want[n]));
		if (i->ifa_addr->sa_family == AF_INET) {
			want[n].family = 4;
			want[n].addr[0] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			want[n].family = 6;
			memcpy(want[n].addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			n++;
		}
	}
	freeifaddrs(ifa);
	for (int j = 0; j < n; j++)
		bpf_map_update_elem(d->dp.node_addr_fd, &want[j], &one, BPF_ANY);
	/* drop addresses that went away */
	while (!bpf_map_get_next_key(d->dp.node_addr_fd, prev, &next)) {
		bool keep = false;
		for (int j = 0; j < n && !keep; j++)
			keep = !memcmp(&want[j], &next, sizeof(next));
		k = next;
		if (!keep)
			bpf_map_delete_elem(d->dp.node_addr_fd, &k);
		prev = &k;
	}
}

int nodeaddr_init(struct daemon *d)
{
	struct sockaddr_nl sa = {
	    .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	sync_addrs(d);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		log_warn("rtnetlink: %s (node addresses will not follow changes)", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void nodeaddr_event(struct daemon *d, int fd)
{
	char buf[8192];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	sync_addrs(d);
}
