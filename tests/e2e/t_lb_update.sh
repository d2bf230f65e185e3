#!/usr/bin/env bash
# Endpoint changes: a backend removed from the slice gets no new connection;
# not-ready endpoints are skipped; with no ready endpoint, serving and
# terminating ones are used (KEP-1669).
source "$(dirname "$0")/lib.sh"
t_init lb-update
mk_pod a 1; mk_pod b 2; mk_pod c 3
for p in a b c; do start_echo $p 8080; done
pt_start
svc() {
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.4.1
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
}
apply() { { svc; slice_yaml web web-1 IPv4 http 8080 "$@"; } >"$T_DIR/w.yaml"; pt apply -f "$T_DIR/w.yaml" >/dev/null; }

apply "$(pod_ip a)" "$(pod_ip b)" "$(pod_ip c)" || fail "apply"
out=$(ptc --cgroup "$T_CG" -n 300 10.96.4.1 80)
expect_ge "$(pt_count "$out" "ok c:8080")" 1 "c is a backend"

apply "$(pod_ip a)" "$(pod_ip b)" || fail "apply without c"
out=$(ptc --cgroup "$T_CG" -n 500 10.96.4.1 80)
expect_eq "$(pt_count "$out" "ok c:8080")" 0 "removed backend c gets no new connection"
expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8080") )) 500 "all 500 to a and b"

apply "$(pod_ip a)" "$(pod_ip b):nr" "$(pod_ip c):nr" || fail "apply not-ready"
out=$(ptc --cgroup "$T_CG" -n 200 10.96.4.1 80)
expect_eq "$(pt_count "$out" "ok a:8080")" 200 "only the ready endpoint a is used"

apply "$(pod_ip a):nr" "$(pod_ip b):term" "$(pod_ip c):term" || fail "apply terminating"
out=$(ptc --cgroup "$T_CG" -n 200 10.96.4.1 80)
expect_eq $(( $(pt_count "$out" "ok b:8080") + $(pt_count "$out" "ok c:8080") )) 200 "no ready endpoint: serving+terminating b and c take the traffic"
expect_eq "$(pt_count "$out" "ok a:8080")" 0 "not-serving a gets nothing"

apply "$(pod_ip a):nr" || fail "apply none"
out=$(ptc --cgroup "$T_CG" -n 5 10.96.4.1 80)
expect_eq "$(pt_count "$out" "err ECONNREFUSED")" 5 "nothing serving: ECONNREFUSED"

# under continuous connects, an endpoint change never produces a failure
apply "$(pod_ip a)" "$(pod_ip b)" "$(pod_ip c)"
ptc --cgroup "$T_CG" -n 4000 10.96.4.1 80 >"$T_DIR/bg.out" &
bg=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	apply "$(pod_ip a)" "$(pod_ip b)"
	apply "$(pod_ip b)" "$(pod_ip c)"
	apply "$(pod_ip a)" "$(pod_ip b)" "$(pod_ip c)"
done
wait $bg
out=$(cat "$T_DIR/bg.out")
t_log "$out"
[[ $out == *err* ]] && fail "connect failures during endpoint churn" || ok "0 failures under endpoint churn"
t_done
