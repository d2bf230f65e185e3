#!/usr/bin/env bash
# Exactly what kubectl writes (YAML and JSON, creationTimestamp: null,
# status, v1 Endpoints) is accepted and balanced.
source "$(dirname "$0")/lib.sh"
t_init kubectl
command -v kubectl >/dev/null || t_bail "kubectl missing (make deps)"
mk_pod a 1; mk_pod b 2
start_echo a 8080; start_echo b 8080
pt_start
kubectl create service clusterip kc --tcp=80:8080 --clusterip=10.96.8.1 --dry-run=client -o yaml >"$T_DIR/kc.yaml"
kubectl create service nodeport kn --tcp=80:8080 --node-port=30099 --dry-run=client -o json >"$T_DIR/kn.json"
expect_match "$(cat "$T_DIR/kc.yaml")" "creationTimestamp: null" "fixture is real kubectl output"
cat >"$T_DIR/ep.yaml" <<Y
apiVersion: v1
kind: Endpoints
metadata: {name: kc}
subsets:
- addresses: [{ip: $(pod_ip a)}, {ip: $(pod_ip b)}]
  ports: [{name: 80-8080, port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: kn}
subsets:
- addresses: [{ip: $(pod_ip b)}]
  notReadyAddresses: [{ip: $(pod_ip a)}]
  ports: [{name: 80-8080, port: 8080, protocol: TCP}]
Y
out=$(pt apply -f "$T_DIR/kc.yaml" && pt apply -f "$T_DIR/kn.json" && pt apply -f "$T_DIR/ep.yaml") || fail "apply: $out"
out=$(ptc --cgroup "$T_CG" -n 200 10.96.8.1 80)
expect_ge "$(pt_count "$out" "ok a:8080")" 40 "kubectl yaml service + Endpoints: a"
expect_ge "$(pt_count "$out" "ok b:8080")" 40 "kubectl yaml service + Endpoints: b"
out=$(ptc --cgroup "$T_CG" -n 50 127.0.0.1 30099)
expect_eq "$(pt_count "$out" "ok b:8080")" 50 "kubectl json NodePort: only the ready address"
# the same as a List, as kubectl get -o yaml writes it
pt get svc -o yaml >"$T_DIR/list.yaml"
expect_match "$(cat "$T_DIR/list.yaml")" "kind: List" "get -o yaml writes a List"
out=$(pt apply -f "$T_DIR/list.yaml")
expect_match "$out" "service/kc unchanged" "re-applying the List is a no-op"
t_done
