#!/usr/bin/env bash
# UDP through a ClusterIP: request/reply where the reply's source is the VIP
# (recvmsg), connected sockets see the VIP as peer (getpeername), and an
# unconnected socket can talk to two services at once.
source "$(dirname "$0")/lib.sh"
t_init lb-udp
mk_pod a 1; mk_pod b 2; mk_pod client 3
start_echo a 5353; start_echo b 5353 5454
pt_start
{
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  clusterIP: 10.96.0.53
  ports: [{name: dns, port: 53, targetPort: 5353, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: other}
spec:
  clusterIP: 10.96.0.54
  ports: [{name: o, port: 54, targetPort: 5454, protocol: UDP}]
Y
	slice_yaml dns dns-1 IPv4 dns 5353 "$(pod_ip a)" "$(pod_ip b)"
	slice_yaml other other-1 IPv4 o 5454 "$(pod_ip b)"
} >"$T_DIR/dns.yaml"
pt apply -f "$T_DIR/dns.yaml" >/dev/null || fail "apply"

out=$(ptc --cgroup "$T_CG" --udp -n 200 10.96.0.53 53)
t_log "$out"
expect_ge "$(pt_count "$out" "ok a:5353")" 40 "unconnected UDP reaches a"
expect_ge "$(pt_count "$out" "ok b:5353")" 40 "unconnected UDP reaches b"
[[ $out == *peer-mismatch* ]] && fail "a reply came from the backend, not the VIP" || ok "every reply's source is the VIP"
[[ $out == *err* ]] && fail "UDP errors" || ok "no UDP error"

out=$(ptc --cgroup "$T_CG" --udp-connected -n 100 10.96.0.53 53)
[[ $out == *peer-mismatch* || $out == *err* ]] && fail "connected UDP: $out" || ok "connected UDP: peer and replies are the VIP"

out=$(in_pod client "$BUILD/tests/ptclient" --cgroup "$T_CG" --udp -n 50 10.96.0.54 54)
expect_eq "$(pt_count "$out" "ok b:5454")" 50 "from a pod: the second service answers"
[[ $out == *peer-mismatch* ]] && fail "pod: reply source" || ok "pod: reply source is the VIP"

t_done
