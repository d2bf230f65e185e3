#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate one set of N ClusterIP services x E endpoints in four forms.

  gen.py pt       N E OUT   podtrace: a JSON List of Services + EndpointSlices
  gen.py ipt      N E OUT   iptables-restore input, kube-proxy v1.30 layout
  gen.py nft      N E OUT   nft -f input, kube-proxy v1.31 nftables layout
  gen.py targets  N   OUT   the VIPs, one "ip port" a line, in rule order
  gen.py slice    I E EXTRA OUT   one EndpointSlice of service I (podtrace
                            JSON request line for the control socket) with
                            E + EXTRA endpoints

The same services in every form: service i (0-based) is bench/sNNNNNN, port
"http" 80/TCP -> 8080, ClusterIP vip(i) in 10.100.0.0/15 (inside the
10.96.0.0/12 service CIDR); its endpoints are addresses of 10.244.200.0/22,
which the backend netns answers on as a whole (a local route), so every
endpoint of every service answers.

One extra service, bench/iperf, 10.111.255.1:5201 -> 10.244.203.250:5201,
is the first of every set (the throughput comparison uses it).

The iptables layout is kube-proxy v1.30's (pkg/proxy/iptables/proxier.go):
filter KUBE-SERVICES/KUBE-EXTERNAL-SERVICES/KUBE-FORWARD/KUBE-NODEPORTS/
KUBE-PROXY-FIREWALL/KUBE-FIREWALL with the jumps from INPUT/FORWARD/OUTPUT;
nat KUBE-SERVICES (one rule per service port, in order, then the
KUBE-NODEPORTS addrtype rule last) -> KUBE-SVC-<hash> (KUBE-MARK-MASQ for
traffic from outside the cluster CIDR, then statistic random probability
1/n, 1/(n-1), ... per endpoint) -> KUBE-SEP-<hash> (KUBE-MARK-MASQ for
hairpin, DNAT), KUBE-POSTROUTING (mark check, xor, MASQUERADE
--random-fully), chain names hashed as kube-proxy does (sha256, base32, 16).

The nftables layout is kube-proxy v1.31's (pkg/proxy/nftables/proxier.go):
table ip kube-proxy, base chains filter-{prerouting,input,forward,output},
filter-output-post-dnat, nat-{prerouting,output,postrouting}; the
service-ips verdict map (ip . proto . port : goto service-<hash>-ns/name/
proto/port), cluster-ips set, no-endpoint-services/-nodeports maps,
service-endpoints-check, nodeport-endpoints-check, cluster-ips-check;
per service a chain with the masquerade mark rule and "numgen random mod n
vmap { i : goto endpoint-... }"; per endpoint a chain with the hairpin mark
and "meta l4proto tcp dnat to ip:port".
"""
import base64
import hashlib
import ipaddress
import json
import sys

NS = "bench"
PORT_NAME = "http"
SVC_PORT = 80
TARGET = 8080
CLUSTER_CIDR = "10.244.200.0/21"
SERVICE_CIDR = "10.96.0.0/12"
VIP_BASE = int(ipaddress.IPv4Address("10.100.0.0"))
EP_BASE = int(ipaddress.IPv4Address("10.244.200.0"))
EP_SPAN = 1022  # 10.244.200.1 .. 10.244.203.254 minus the iperf backend
IPERF = ("iperf", "10.111.255.1", 5201, "10.244.203.250", 5201)


def vip(i):
    return str(ipaddress.IPv4Address(VIP_BASE + 1 + i))


def ep(i, k):
    return str(ipaddress.IPv4Address(EP_BASE + 1 + (i * 10 + k) % EP_SPAN))


def name(i):
    return "s%06d" % i


def services(n, e):
    """(name, vip, port, [(ep_ip, ep_port)...]) in rule order."""
    yield (IPERF[0], IPERF[1], IPERF[2], [(IPERF[3], IPERF[4])])
    for i in range(n):
        yield (name(i), vip(i), SVC_PORT, [(ep(i, k), TARGET) for k in range(e)])


# ---- podtrace -------------------------------------------------------------

def pt_slice(svc, eps, pname=PORT_NAME):
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": svc + "-1", "namespace": NS,
                     "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "ports": [{"name": pname, "port": eps[0][1], "protocol": "TCP"}],
        "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a, _ in eps],
    }


def gen_pt(n, e, out):
    items = []
    for svc, ip, port, eps in services(n, e):
        items.append({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": svc, "namespace": NS},
            "spec": {"clusterIP": ip, "ports": [{"name": PORT_NAME, "port": port,
                                                 "targetPort": eps[0][1], "protocol": "TCP"}]},
        })
        items.append(pt_slice(svc, eps))
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, out, separators=(",", ":"))


# ---- kube-proxy iptables (v1.30) -------------------------------------------

def b32hash(s, n):
    return base64.b32encode(hashlib.sha256(s.encode()).digest()).decode()[:n]


def gen_ipt(n, e, out):
    w = out.write
    svcs = list(services(n, e))
    w("*filter\n")
    for c in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS",
              "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-PROXY-CANARY"):
        w(":%s - [0:0]\n" % c)
    # iptablesJumpChains (filter)
    w('-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL\n')
    w('-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS\n')
    w('-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES\n')
    w('-A INPUT -j KUBE-FIREWALL\n')
    w('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL\n')
    w('-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD\n')
    w('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n')
    w('-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES\n')
    w('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL\n')
    w('-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n')
    w('-A OUTPUT -j KUBE-FIREWALL\n')
    w('-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n')
    w('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n')
    w('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT\n')
    w('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n')
    w("COMMIT\n*nat\n")
    for c in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ",
              "KUBE-KUBELET-CANARY", "KUBE-PROXY-CANARY"):
        w(":%s - [0:0]\n" % c)
    chains = []
    for svc, ip, port, eps in svcs:
        spn = "%s/%s:%s" % (NS, svc, PORT_NAME)
        sc = "KUBE-SVC-" + b32hash(spn + "tcp", 16)
        seps = ["KUBE-SEP-" + b32hash(spn + "tcp" + "%s:%d" % (a, p), 16) for a, p in eps]
        chains.append((spn, sc, seps, ip, port, eps))
        w(":%s - [0:0]\n" % sc)
        for s in seps:
            w(":%s - [0:0]\n" % s)
    w('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n')
    w('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n')
    w('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING\n')
    w("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n")
    w("-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n")
    w('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully\n')
    w("-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n")
    for spn, sc, seps, ip, port, eps in chains:
        w('-A KUBE-SERVICES -m comment --comment "%s cluster IP" -m tcp -p tcp -d %s --dport %d -j %s\n'
          % (spn, ip, port, sc))
    for spn, sc, seps, ip, port, eps in chains:
        w('-A %s -m comment --comment "%s cluster IP" -m tcp -p tcp -d %s --dport %d ! -s %s -j KUBE-MARK-MASQ\n'
          % (sc, spn, ip, port, CLUSTER_CIDR))
        m = len(eps)
        for k, (s, (a, p)) in enumerate(zip(seps, eps)):
            if k < m - 1:
                w('-A %s -m comment --comment "%s -> %s:%d" -m statistic --mode random --probability %.10f -j %s\n'
                  % (sc, spn, a, p, 1.0 / (m - k), s))
            else:
                w('-A %s -m comment --comment "%s -> %s:%d" -j %s\n' % (sc, spn, a, p, s))
        for s, (a, p) in zip(seps, eps):
            w("-A %s -m comment --comment %s -s %s -j KUBE-MARK-MASQ\n" % (s, spn, a))
            w("-A %s -m comment --comment %s -m tcp -p tcp -j DNAT --to-destination %s:%d\n" % (s, spn, a, p))
    w('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n')
    w("COMMIT\n")


# ---- kube-proxy nftables (v1.31) --------------------------------------------

def hash_trunc(s):
    return b32hash(s, 8) + "-" + s


NFT_BASE = """add table ip kube-proxy { comment "rules for kube-proxy" ; }
add chain ip kube-proxy cluster-ips-check
add chain ip kube-proxy filter-forward { type filter hook forward priority -110 ; }
add chain ip kube-proxy filter-input { type filter hook input priority -110 ; }
add chain ip kube-proxy filter-output { type filter hook output priority -110 ; }
add chain ip kube-proxy filter-output-post-dnat { type filter hook output priority -90 ; }
add chain ip kube-proxy filter-prerouting { type filter hook prerouting priority -110 ; }
add chain ip kube-proxy firewall-check
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain ip kube-proxy services
add chain ip kube-proxy service-endpoints-check
add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }
add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { %(scidr)s } drop comment "Drop traffic to unallocated ClusterIPs"
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump firewall-check
add rule ip kube-proxy filter-output-post-dnat ct state new jump cluster-ips-check
add rule ip kube-proxy filter-prerouting ct state new jump firewall-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
"""


def gen_nft(n, e, out, chunk=0, path=None):
    """chunk > 0: the base in OUT, then every `chunk` services in OUT.1,
    OUT.2, ... (one nft transaction each: see the note in run.sh)."""
    w = out.write
    w(NFT_BASE % {"scidr": SERVICE_CIDR})
    part = 0
    for j, (svc, ip, port, eps) in enumerate(services(n, e)):
        if chunk and j % chunk == 0:
            part += 1
            out = open("%s.%d" % (path, part), "w")
            w = out.write
        base = "%s/%s/tcp/%s" % (NS, svc, PORT_NAME)
        sc = "service-" + hash_trunc(base)
        ecs = ["endpoint-" + hash_trunc(base + "__%s/%d" % (a, p)) for a, p in eps]
        w("add chain ip kube-proxy %s\n" % sc)
        for c, (a, p) in zip(ecs, eps):
            w("add chain ip kube-proxy %s\n" % c)
            w("add rule ip kube-proxy %s ip saddr %s jump mark-for-masquerade\n" % (c, a))
            w("add rule ip kube-proxy %s meta l4proto tcp dnat to %s:%d\n" % (c, a, p))
        w("add rule ip kube-proxy %s ip daddr %s tcp dport %d ip saddr != %s jump mark-for-masquerade\n"
          % (sc, ip, port, CLUSTER_CIDR))
        w("add rule ip kube-proxy %s numgen random mod %d vmap { %s }\n"
          % (sc, len(ecs), " , ".join("%d : goto %s" % (k, c) for k, c in enumerate(ecs))))
        w("add element ip kube-proxy cluster-ips { %s }\n" % ip)
        w("add element ip kube-proxy service-ips { %s . tcp . %d : goto %s }\n" % (ip, port, sc))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    what = a[0]
    if what in ("pt", "ipt"):
        n, e, path = int(a[1]), int(a[2]), a[3]
        with open(path, "w") as f:
            {"pt": gen_pt, "ipt": gen_ipt}[what](n, e, f)
    elif what == "nft":
        n, e, path = int(a[1]), int(a[2]), a[3]
        chunk = int(a[4]) if len(a) > 4 else 0
        with open(path, "w") as f:
            gen_nft(n, e, f, chunk, path)
        if chunk:
            print((n + chunk) // chunk)
    elif what == "targets":
        n, path = int(a[1]), a[2]
        with open(path, "w") as f:
            for i in range(n):
                f.write("%s %d\n" % (vip(i), SVC_PORT))
    elif what == "slice":
        # request lines for the endpoint-change tool: "<count> <json>\n",
        # alternating E+EXTRA and E endpoints, COUNT lines
        i, e, count, path = int(a[1]), int(a[2]), int(a[3]), a[4]
        svc = name(i)
        with open(path, "w") as f:
            for j in range(count):
                m = e + 1 if j % 2 == 0 else e
                eps = [(ep(i, k), TARGET) for k in range(m)]  # ep(i, e) is the extra one
                data = json.dumps(pt_slice(svc, eps), separators=(",", ":"))
                req = {"cmd": "apply", "source": "bench-epchange", "data": data}
                f.write("%d %s\n" % (m, json.dumps(req, separators=(",", ":"))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
