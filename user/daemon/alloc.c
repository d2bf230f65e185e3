// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"

int alloc_init(struct alloc *a, const struct k8s_ctx *ctx)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < ctx->n_svc_cidr; i++) {
		a->cidr[i] = ctx->svc_cidr[i];
		/* neither the network address nor the last one is handed out */
		if (idpool_init(&a->ip[i], 1, cidr_size(&a->cidr[i]) - 1))
			return -1;
	}
	a->n = ctx->n_svc_cidr;
	a->np_min = ctx->np_min;
	return idpool_init(&a->ports, 0, (uint32_t)(ctx->np_max - ctx->np_min) + 1);
}

static char *owner_of(struct alloc *a, const char *what)
{
	return hmap_gets(&a->owner, what);
}

static void set_owner(struct alloc *a, const char *what, const char *owner)
{
	free(hmap_puts(&a->owner, what, strdup(owner)));
}

static int pool_of(struct alloc *a, const struct ipaddr *ip)
{
	for (int i = 0; i < a->n; i++)
		if (cidr_contains(&a->cidr[i], ip))
			return i;
	return -1;
}

static int take_ip(void *ctx, const char *owner, int family, struct ipaddr *out)
{
	struct alloc *a = ctx;
	char key[80], buf[64];
	uint32_t off;

	for (int i = 0; i < a->n; i++) {
		if (family && a->cidr[i].base.family != family)
			continue;
		if (idpool_get(&a->ip[i], &off))
			return -1;
		*out = cidr_nth(&a->cidr[i], off);
		snprintf(key, sizeof(key), "ip:%s", ip_str(out, buf, sizeof(buf)));
		set_owner(a, key, owner);
		return 0;
	}
	return -1;
}

static int claim_ip(void *ctx, const char *owner, const struct ipaddr *ip)
{
	struct alloc *a = ctx;
	char key[80], buf[64];
	int p = pool_of(a, ip);
	char *cur;

	if (p < 0)
		return -1;
	snprintf(key, sizeof(key), "ip:%s", ip_str(ip, buf, sizeof(buf)));
	cur = owner_of(a, key);
	if (cur)
		return strcmp(cur, owner) ? -1 : 0;
	/* an address beyond the numbered window is tracked by owner only */
	uint32_t off = cidr_offset(&a->cidr[p], ip);
	if (off != UINT32_MAX && idpool_take(&a->ip[p], off))
		return -1;
	set_owner(a, key, owner);
	return 0;
}

static int take_port(void *ctx, const char *owner, uint16_t *out)
{
	struct alloc *a = ctx;
	uint32_t off;
	char key[32];

	if (idpool_get(&a->ports, &off))
		return -1;
	*out = (uint16_t)(a->np_min + off);
	snprintf(key, sizeof(key), "port:%u", *out);
	set_owner(a, key, owner);
	return 0;
}

static int claim_port(void *ctx, const char *owner, uint16_t port)
{
	struct alloc *a = ctx;
	char key[32], *cur;

	snprintf(key, sizeof(key), "port:%u", port);
	cur = owner_of(a, key);
	if (cur)
		return strcmp(cur, owner) ? -1 : 0;
	if (port < a->np_min || idpool_take(&a->ports, port - a->np_min))
		return -1;
	set_owner(a, key, owner);
	return 0;
}

struct svc_alloc alloc_ops(struct alloc *a)
{
	return (struct svc_alloc){
	    .ctx = a,
	    .family0 = a->n ? a->cidr[0].base.family : 4,
	    .ip = take_ip,
	    .node_port = take_port,
	    .claim_ip = claim_ip,
	    .claim_port = claim_port,
	};
}

static void owner_str(json_t *svc, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", k8s_namespace(svc), k8s_name(svc));
}

void alloc_claim_svc(struct alloc *a, json_t *svc)
{
	struct service s;
	char owner[300];

	if (!svc)
		return;
	owner_str(svc, owner, sizeof(owner));
	svc_view(svc, &s);
	for (int i = 0; i < s.n_ips; i++)
		claim_ip(a, owner, &s.ips[i]);
	for (int i = 0; i < s.n_ports; i++)
		if (s.ports[i].node_port)
			claim_port(a, owner, s.ports[i].node_port);
}

void alloc_release_svc(struct alloc *a, json_t *svc)
{
	struct service s;
	char owner[300], key[80], buf[64], *cur;

	if (!svc)
		return;
	owner_str(svc, owner, sizeof(owner));
	svc_view(svc, &s);
	for (int i = 0; i < s.n_ips; i++) {
		int p = pool_of(a, &s.ips[i]);
		snprintf(key, sizeof(key), "ip:%s", ip_str(&s.ips[i], buf, sizeof(buf)));
		cur = owner_of(a, key);
		if (p < 0 || !cur || strcmp(cur, owner))
			continue;
		free(hmap_dels(&a->owner, key));
		if (cidr_offset(&a->cidr[p], &s.ips[i]) != UINT32_MAX)
			idpool_put(&a->ip[p], cidr_offset(&a->cidr[p], &s.ips[i]));
	}
	for (int i = 0; i < s.n_ports; i++) {
		uint16_t np = s.ports[i].node_port;
		snprintf(key, sizeof(key), "port:%u", np);
		cur = owner_of(a, key);
		if (!np || !cur || strcmp(cur, owner))
			continue;
		free(hmap_dels(&a->owner, key));
		idpool_put(&a->ports, np - a->np_min);
	}
}
