#!/usr/bin/env bash
# NodePort from the host via 127.0.0.1 and the node's own address; an
# externalIP is translated only when it is local (CVE-2020-8554 guard).
source "$(dirname "$0")/lib.sh"
t_init lb-nodeport
mk_pod a 1; mk_pod b 2; mk_pod direct 3
start_echo a 8080; start_echo b 8080; start_echo direct 80
# a local address on this node for the externalIP case
ip addr add 10.250.0.1/32 dev "$(pod_veth a)" || t_bail "addr"
t_defer "ip addr del 10.250.0.1/32 dev $(pod_veth a)"
pt_start
{
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: np}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
  externalIPs: [10.250.0.1, $(pod_ip direct)]
---
apiVersion: v1
kind: Service
metadata: {name: auto}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
	slice_yaml np np-1 IPv4 http 8080 "$(pod_ip a)" "$(pod_ip b)"
	slice_yaml auto auto-1 IPv4 http 8080 "$(pod_ip b)"
} >"$T_DIR/np.yaml"
pt apply -f "$T_DIR/np.yaml" >/dev/null || fail "apply"

out=$(ptc --cgroup "$T_CG" -n 100 127.0.0.1 30080)
expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8080") )) 100 "127.0.0.1:30080 reaches the backends"
node_ip=$(ip -4 -o addr show scope global | awk '$2 !~ /^pth/ {sub("/.*","",$4); print $4; exit}')
if [[ -n $node_ip ]]; then
	out=$(ptc --cgroup "$T_CG" -n 100 "$node_ip" 30080)
	expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8080") )) 100 "node address $node_ip:30080 reaches the backends"
fi
out=$(ptc --cgroup "$T_CG" -n 50 10.250.0.1 80)
expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8080") )) 50 "local externalIP is translated"
out=$(ptc --cgroup "$T_CG" -n 20 "$(pod_ip direct)" 80)
expect_eq "$(pt_count "$out" "ok direct:80")" 20 "non-local externalIP is left alone (CVE-2020-8554)"

np=$(pt get svc auto -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["ports"][0]["nodePort"])')
expect_ge "$np" 30000 "auto nodePort allocated in range ($np)"
expect_le "$np" 32767 "auto nodePort allocated in range ($np)"
out=$(ptc --cgroup "$T_CG" -n 20 127.0.0.1 "$np")
expect_eq "$(pt_count "$out" "ok b:8080")" 20 "allocated nodePort works"
t_done
