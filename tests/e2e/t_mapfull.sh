#!/usr/bin/env bash
# A full map gives a clear error and the services in place keep working.
source "$(dirname "$0")/lib.sh"
t_init mapfull
mk_pod a 1
start_echo a 8080
pt_start --max-services 4
for i in 1 2 3; do
	{ cat <<Y
apiVersion: v1
kind: Service
metadata: {name: s$i}
spec:
  clusterIP: 10.96.7.$i
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
	slice_yaml s$i s$i-1 IPv4 http 8080 "$(pod_ip a)"; } >"$T_DIR/s$i.yaml"
	pt apply -f "$T_DIR/s$i.yaml" >/dev/null || fail "apply s$i"
done
cat >"$T_DIR/s4.yaml" <<Y
apiVersion: v1
kind: Service
metadata: {name: s4}
spec:
  clusterIP: 10.96.7.4
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
err=$(pt apply -f "$T_DIR/s4.yaml" 2>&1 >/dev/null); rc=$?
t_log "$err"
expect_eq "$rc" 1 "apply into a full map fails"
expect_match "$err" "s4.yaml: Service default/s4: map pt_svc is full: 3 of 3" "error names the map and its fill"
out=$(pt get svc s4 2>&1)
expect_match "$out" "not found" "rejected service not stored"
for i in 1 2 3; do
	out=$(ptc --cgroup "$T_CG" -n 10 10.96.7.$i 80)
	expect_eq "$(pt_count "$out" "ok a:8080")" 10 "s$i still works"
done
pt delete svc s1 >/dev/null || fail "delete"
pt apply -f "$T_DIR/s4.yaml" >/dev/null && ok "after a delete there is room again" || fail "s4 after delete"
t_done
