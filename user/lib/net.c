// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net.h"

int ip_parse(const char *s, struct ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return -1;
	if (inet_pton(AF_INET, s, &out->a[0]) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->family = 6;
		return 0;
	}
	return -1;
}

const char *ip_str(const struct ipaddr *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

bool ip_eq(const struct ipaddr *x, const struct ipaddr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, sizeof(x->a));
}

int ip_cmp(const struct ipaddr *x, const struct ipaddr *y)
{
	if (x->family != y->family)
		return x->family - y->family;
	return memcmp(x->a, y->a, sizeof(x->a));
}

int cidr_parse(const char *s, struct cidr *out)
{
	char buf[64], *slash, *end;
	long bits;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	if (ip_parse(buf, &out->base))
		return -1;
	bits = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || bits < 0 || bits > (out->base.family == 4 ? 32 : 128))
		return -1;
	out->bits = (int)bits;
	/* clear host bits */
	for (int i = 0; i < 4; i++) {
		int lo = i * 32, keep = out->bits - lo;
		uint32_t mask = keep >= 32  ? 0xffffffffu
				: keep <= 0 ? 0
					    : ~((1u << (32 - keep)) - 1);
		out->base.a[i] = htonl(ntohl(out->base.a[i]) & mask);
	}
	return 0;
}

bool cidr_contains(const struct cidr *c, const struct ipaddr *ip)
{
	if (ip->family != c->base.family)
		return false;
	for (int i = 0; i < 4; i++) {
		int keep = c->bits - i * 32;
		uint32_t mask = keep >= 32  ? 0xffffffffu
				: keep <= 0 ? 0
					    : ~((1u << (32 - keep)) - 1);
		if ((ntohl(ip->a[i]) & mask) != ntohl(c->base.a[i]))
			return false;
	}
	return true;
}

uint32_t cidr_size(const struct cidr *c)
{
	int host = (c->base.family == 4 ? 32 : 128) - c->bits;

	return host >= 24 ? 1u << 24 : 1u << host;
}

struct ipaddr cidr_nth(const struct cidr *c, uint32_t n)
{
	struct ipaddr ip = c->base;
	int last = c->base.family == 4 ? 0 : 3;

	/* offsets are < 2^24, so only the last word changes */
	ip.a[last] = htonl(ntohl(ip.a[last]) + n);
	return ip;
}

uint32_t cidr_offset(const struct cidr *c, const struct ipaddr *ip)
{
	int last = c->base.family == 4 ? 0 : 3;

	/* only the window of cidr_size() addresses is numbered */
	for (int i = 0; i < last; i++)
		if (ip->a[i] != c->base.a[i])
			return UINT32_MAX;
	uint32_t off = ntohl(ip->a[last]) - ntohl(c->base.a[last]);
	return off < cidr_size(c) ? off : UINT32_MAX;
}

const char *cidr_str(const struct cidr *c, char *buf, size_t len)
{
	char ip[64];

	snprintf(buf, len, "%s/%d", ip_str(&c->base, ip, sizeof(ip)), c->bits);
	return buf;
}
