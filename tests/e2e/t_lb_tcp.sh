#!/usr/bin/env bash
# ClusterIP over TCP: every ready backend is reached and the spread is fair,
# from the host netns and from inside a pod; getpeername() shows the VIP.
source "$(dirname "$0")/lib.sh"
t_init lb-tcp
mk_pod a 1; mk_pod b 2; mk_pod c 3; mk_pod client 4
for p in a b c; do start_echo $p 8080; done
pt_start

{
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
	slice_yaml web web-1 IPv4 http 8080 "$(pod_ip a)" "$(pod_ip b)" "$(pod_ip c)"
} >"$T_DIR/web.yaml"
out=$(pt apply -f "$T_DIR/web.yaml")
expect_match "$out" '^service/web created' "apply reports the service"

N=3000
out=$(ptc --cgroup "$T_CG" -n $N --check-peer 10.96.0.10 80)
t_log "$out"
for p in a b c; do
	share=$(pct "$out" "$p:8080" $N)
	expect_ge "$share" 25 "host: backend $p gets >= 25% ($share%)"
	expect_le "$share" 42 "host: backend $p gets <= 42% ($share%)"
done
expect_eq "$(pt_count "$out" "total")" $N "host: $N attempts"
expect_match "$out" "^total" "ran"
[[ $out == *peer-mismatch* ]] && fail "getpeername shows the backend, not the VIP" || ok "getpeername() returns the VIP"
[[ $out == *err* ]] && fail "host: some connects failed" || ok "host: no connect failed"

# from inside a pod netns (the process is in the LB cgroup too)
out=$(in_pod client "$BUILD/tests/ptclient" --cgroup "$T_CG" -n 300 --check-peer 10.96.0.10 80)
t_log "$out"
for p in a b c; do
	expect_ge "$(pt_count "$out" "ok $p:8080")" 1 "pod: backend $p reached from a pod"
done
[[ $out == *err* || $out == *mismatch* ]] && fail "pod: errors" || ok "pod: all connects through the VIP"

# the counters the metrics will read
desc=$(pt describe svc web)
expect_match "$desc" "[Cc]onnections: *3300" "describe counts 3300 connections"

# a process outside the LB cgroup is not translated (the host is untouched):
# its connect to the VIP must not reach a backend. Nothing listens on the VIP,
# so a local probe to a pod address proves the path instead.
out=$(ptc -n 1 "$(pod_ip a)" 8080)
expect_match "$out" "^ok a:8080 1" "direct connect outside the cgroup still works"
t_done
