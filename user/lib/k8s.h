/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kubernetes objects: the kinds podtrace understands, their validation (as
 * the API server does it) and typed views over the JSON tree. Objects stay
 * JSON (jansson) so that unknown fields survive a round trip; the typed
 * views below are derived from them and never stored.
 */
#ifndef PT_K8S_H
#define PT_K8S_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "net.h"

enum k8s_kind {
	K_UNKNOWN = 0,
	K_SERVICE,
	K_ENDPOINTSLICE,
	K_ENDPOINTS, /* converted to an EndpointSlice on input */
	K_POD,
};

const char *k8s_kind_name(enum k8s_kind k);
/* "svc", "services", "Service" ... -> kind; K_UNKNOWN if none. */
enum k8s_kind k8s_kind_from_arg(const char *s);
enum k8s_kind k8s_kind_of(json_t *obj);

/* Validation errors: "field.path: message" lines. */
struct errs {
	char **msg;
	int n;
};
void errs_add(struct errs *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void errs_free(struct errs *e);
/* Join as "a; b; c" into buf. */
void errs_join(const struct errs *e, char *buf, size_t len);

const char *k8s_name(json_t *obj);
const char *k8s_namespace(json_t *obj); /* "default" when absent */
/* "Service default/web" */
void k8s_ref(json_t *obj, char *buf, size_t len);

bool dns1123_label(const char *s);
bool dns1123_subdomain(const char *s);
bool dns1035_label(const char *s);

/* Check apiVersion/kind/metadata and the kind's spec. Checks that depend on
 * daemon configuration (CIDR membership) go through ctx. */
struct k8s_ctx {
	struct cidr svc_cidr[2]; /* v4 and/or v6 */
	int n_svc_cidr;
	uint16_t np_min, np_max;
};
int k8s_validate(json_t *obj, const struct k8s_ctx *ctx, struct errs *e);

/* v1 Endpoints -> array of discovery.k8s.io/v1 EndpointSlice objects. */
json_t *k8s_endpoints_to_slices(json_t *ep);

/* ---- Service view ---- */
#define SVC_MAX_PORTS 64
#define SVC_MAX_IPS 2
#define SVC_MAX_EXT 16

enum svc_type { SVC_CLUSTER_IP, SVC_NODE_PORT, SVC_LOAD_BALANCER, SVC_EXTERNAL_NAME };

struct svc_port {
	const char *name; /* "" when unnamed */
	uint8_t proto;	  /* IPPROTO_* */
	uint16_t port;
	uint16_t node_port;	 /* 0 = none */
	uint16_t target_num;	 /* 0 when named */
	const char *target_name; /* NULL when numeric */
};

struct service {
	const char *ns, *name;
	enum svc_type type;
	bool headless;
	struct ipaddr ips[SVC_MAX_IPS];
	int n_ips;
	struct ipaddr ext[SVC_MAX_EXT];
	int n_ext;
	struct svc_port ports[SVC_MAX_PORTS];
	int n_ports;
	bool affinity;
	uint32_t affinity_timeout;
	json_t *selector; /* borrowed; NULL when none */
};

/* Fill a view of a validated Service (strings are borrowed from obj). */
int svc_view(json_t *obj, struct service *s);

/* API server defaulting on create: allocate clusterIP(s) and nodePorts that
 * are missing, keeping those of prev (the stored version) when present. The
 * allocators are callbacks so unit tests and the daemon share the logic. */
struct svc_alloc {
	void *ctx;
	int family0; /* the first configured service CIDR's family */
	/* take a free address / port for owner "ns/name" */
	int (*ip)(void *ctx, const char *owner, int family, struct ipaddr *out);
	int (*node_port)(void *ctx, const char *owner, uint16_t *out);
	/* claim a requested one; fails when another owner holds it */
	int (*claim_ip)(void *ctx, const char *owner, const struct ipaddr *ip);
	int (*claim_port)(void *ctx, const char *owner, uint16_t port);
};
int svc_default(json_t *obj, json_t *prev, const struct svc_alloc *a, struct errs *e);

/* ---- EndpointSlice view and backend selection ---- */
struct backend {
	struct ipaddr addr;
	uint16_t port;
	bool terminating;
};

/* The service an EndpointSlice belongs to (label
 * kubernetes.io/service-name), or NULL. */
const char *slice_service(json_t *slice);

/* Backends of one service port for one address family across slices
 * (a JSON array), following kube-proxy: ready endpoints; when none is
 * ready, serving+terminating ones (KEP-1669). A named targetPort resolves
 * per slice through the slice's ports. Returns the count written to out
 * (at most max), deduplicated and sorted for a stable slot layout. */
int select_backends(const struct service *s, const struct svc_port *sp, int family, json_t *slices,
		    struct backend *out, int max);

/* ---- Packed views: what the LB needs of a stored object ----
 * The store keeps Services and EndpointSlices as compact JSON text; a
 * packed view is the part the load balancer reads on every sync, so that
 * programming a service decodes no JSON. One allocation each (free()),
 * strings inside it. */
struct svc_pack {
	uint8_t type, headless, affinity, has_selector;
	uint8_t n_ips, n_ext, n_ports;
	uint32_t affinity_timeout;
	struct ipaddr ips[SVC_MAX_IPS];
	struct ipaddr *ext;
	struct svc_port *ports; /* name/target_name point into the block */
};
struct svc_pack *svc_pack(json_t *svc);
/* A view as svc_view() gives it (selector NULL: see has_selector); its
 * strings are borrowed from p, ns and name. */
void svc_unpack(const struct svc_pack *p, const char *ns, const char *name, struct service *s);

struct slice_port {
	const char *name; /* "" when unnamed */
	uint8_t proto;
	uint16_t port; /* 0 when absent */
};

/* An endpoint's conditions, the API defaults applied; SLICE_ADDR: it has an
 * address of the slice's family (kube-proxy uses the first one). */
#define SLICE_READY 1
#define SLICE_SERVING 2
#define SLICE_TERMINATING 4
#define SLICE_ADDR 8

struct slice_pack {
	int family; /* addressType: 4, 6, or 0 (FQDN or unknown) */
	int n_ports, n_eps;
	struct slice_port *ports;
	uint8_t *cond;	/* per endpoint */
	uint32_t *addr; /* per endpoint, 1 word (IPv4) or 4 (IPv6): ipaddr.a */
};
/* Endpoint i's address (family 0 when it has none). */
void slice_ep_addr(const struct slice_pack *p, int i, struct ipaddr *out);
struct slice_pack *slice_pack(json_t *slice);
/* select_backends() over packed slices. */
int select_backends_packed(const struct svc_port *sp, int family,
			   const struct slice_pack *const *slices, int n, struct backend *out,
			   int max);

#endif
