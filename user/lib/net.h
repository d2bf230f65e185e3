/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef PT_NET_H
#define PT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* family 4 or 6; a[] in network order, IPv4 in a[0] (matches the ABI). */
struct ipaddr {
	int family;
	uint32_t a[4];
};

struct cidr {
	struct ipaddr base;
	int bits;
};

int ip_parse(const char *s, struct ipaddr *out);
const char *ip_str(const struct ipaddr *ip, char *buf, size_t len);
bool ip_eq(const struct ipaddr *x, const struct ipaddr *y);
int ip_cmp(const struct ipaddr *x, const struct ipaddr *y);
int cidr_parse(const char *s, struct cidr *out);
bool cidr_contains(const struct cidr *c, const struct ipaddr *ip);
/* Number of host addresses usable in the CIDR, capped at 2^24. */
uint32_t cidr_size(const struct cidr *c);
/* The n-th address of the CIDR (0 = network address). */
struct ipaddr cidr_nth(const struct cidr *c, uint32_t n);
/* Offset of ip in c (inside the cidr_size() window), else UINT32_MAX. */
uint32_t cidr_offset(const struct cidr *c, const struct ipaddr *ip);
const char *cidr_str(const struct cidr *c, char *buf, size_t len);

#endif
