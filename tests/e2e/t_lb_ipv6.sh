#!/usr/bin/env bash
# IPv6 ClusterIP, and a dual-stack service (clusterIPs of both families)
# whose v4 and v6 frontends each reach the backends of their family.
source "$(dirname "$0")/lib.sh"
t_init lb-ipv6
mk_pod a 1; mk_pod b 2
start_echo a 8080; start_echo b 8080
pt_start
{
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: v6}
spec:
  ipFamilies: [IPv6]
  clusterIP: fd00:10:96::10
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: dual}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  ports: [{name: http, port: 80, targetPort: 8080}, {name: dns, port: 53, targetPort: 8080, protocol: UDP}]
Y
	slice_yaml v6 v6-1 IPv6 http 8080 "$(pod_ip6 a)" "$(pod_ip6 b)"
	slice_yaml dual dual-v4 IPv4 http 8080 "$(pod_ip a)"
	slice_yaml dual dual-v6 IPv6 http 8080 "$(pod_ip6 b)"
} >"$T_DIR/v6.yaml"
sed -i 's/{name: "http", port: 8080, protocol: UDP}/{name: "dns", port: 8080, protocol: UDP}/' "$T_DIR/v6.yaml"
pt apply -f "$T_DIR/v6.yaml" >/dev/null || fail "apply"

out=$(ptc --cgroup "$T_CG" -n 200 --check-peer fd00:10:96::10 80)
t_log "$out"
expect_ge "$(pt_count "$out" "ok a:8080")" 40 "v6 VIP reaches a"
expect_ge "$(pt_count "$out" "ok b:8080")" 40 "v6 VIP reaches b"
[[ $out == *mismatch* || $out == *err* ]] && fail "v6: $out" || ok "v6: getpeername is the VIP, no error"

json=$(pt get svc dual -o json)
ip4=$(python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["spec"]["clusterIPs"][0])' <<<"$json")
ip6=$(python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["spec"]["clusterIPs"][1])' <<<"$json")
expect_match "$ip4" '^10\.9[6-9]|^10\.1[01][0-9]\.' "dual: an IPv4 clusterIP allocated ($ip4)"
expect_match "$ip6" '^fd00:10:96::' "dual: an IPv6 clusterIP allocated ($ip6)"
out=$(ptc --cgroup "$T_CG" -n 50 "$ip4" 80)
expect_eq "$(pt_count "$out" "ok a:8080")" 50 "dual v4 frontend -> the v4 endpoint"
out=$(ptc --cgroup "$T_CG" -n 50 "$ip6" 80)
expect_eq "$(pt_count "$out" "ok b:8080")" 50 "dual v6 frontend -> the v6 endpoint"
out=$(ptc --cgroup "$T_CG" --udp -n 20 "$ip6" 53)
expect_eq "$(pt_count "$out" "ok b:8080")" 20 "dual v6 UDP, reply from the VIP"
[[ $out == *mismatch* ]] && fail "v6 UDP reply source" || ok "v6 UDP reply source is the VIP"
t_done
