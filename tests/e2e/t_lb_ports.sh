#!/usr/bin/env bash
# Named targetPort resolved per endpoint through the EndpointSlice ports, and
# a multi-port service where each port has its own backends.
source "$(dirname "$0")/lib.sh"
t_init lb-ports
mk_pod a 1; mk_pod b 2
start_echo a 8080 9090; start_echo b 8181 9191
pt_start
cat >"$T_DIR/multi.yaml" <<Y
apiVersion: v1
kind: Service
metadata: {name: multi}
spec:
  clusterIP: 10.96.1.1
  ports:
  - {name: web, port: 80, targetPort: http}
  - {name: admin, port: 81, targetPort: 9090}
---
# pod a serves "http" on 8080, pod b on 8181: one slice per port set
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: multi-a, labels: {kubernetes.io/service-name: multi}}
addressType: IPv4
ports: [{name: web, port: 8080}, {name: admin, port: 9090}]
endpoints: [{addresses: ["$(pod_ip a)"]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: multi-b, labels: {kubernetes.io/service-name: multi}}
addressType: IPv4
ports: [{name: web, port: 8181}, {name: admin, port: 9191}]
endpoints: [{addresses: ["$(pod_ip b)"]}]
Y
pt apply -f "$T_DIR/multi.yaml" >/dev/null || fail "apply"
out=$(ptc --cgroup "$T_CG" -n 200 10.96.1.1 80)
t_log "$out"
expect_ge "$(pt_count "$out" "ok a:8080")" 50 "port 80 -> a on its own 8080"
expect_ge "$(pt_count "$out" "ok b:8181")" 50 "port 80 -> b on its own 8181"
expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8181") )) 200 "port 80: all 200 on the named port"
out=$(ptc --cgroup "$T_CG" -n 200 10.96.1.1 81)
t_log "$out"
expect_eq $(( $(pt_count "$out" "ok a:9090") + $(pt_count "$out" "ok b:9191") )) 200 "port 81: all 200 on the admin ports"
expect_ge "$(pt_count "$out" "ok b:9191")" 50 "port 81 reaches b's admin port"
t_done
