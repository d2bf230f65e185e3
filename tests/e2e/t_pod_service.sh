#!/usr/bin/env bash
# A Service selecting two pods balances over both, from the host and from a
# third pod; a pod failing readiness drops out of the endpoints and gets no
# new connection; deleting a pod under continuous connects fails none.
source "$(dirname "$0")/lib.sh"
t_init pod-service
pt_start
pod() {
	cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: $2}}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: srv
    image: echo
    command: ["$BUILD/tests/echo-id", "--id", "$1", "--port", "8080"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      exec: {command: [sh, -c, "test ! -e $T_DIR/unready-$1"]}
      periodSeconds: 1
      timeoutSeconds: 5
      failureThreshold: 1
Y
}
{
	pod web-a web; pod web-b web
	cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: c, image: busybox, command: [sleep, "1000"]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.10.1
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
Y
} >"$T_DIR/all.yaml"
pt apply -f "$T_DIR/all.yaml" >/dev/null || fail "apply"
for p in web-a web-b client; do poll_until 10 is_ready $p || fail "$p not ready"; done
both() { local o; o=$(ptc --cgroup "$T_CG" -n 100 10.96.10.1 80); [[ $(pt_count "$o" "ok web-a:8080") -gt 0 && $(pt_count "$o" "ok web-b:8080") -gt 0 ]]; }
poll_until 5 both && ok "endpoints follow the pods" || fail "not both"
out=$(ptc --cgroup "$T_CG" -n 400 10.96.10.1 80)
expect_ge "$(pct "$out" web-a:8080 400)" 30 "host: web-a gets its share"
expect_ge "$(pct "$out" web-b:8080 400)" 30 "host: web-b gets its share"
out=$(pt exec client -- "$BUILD/tests/ptclient" -n 200 10.96.10.1 80)
t_log "from the client pod: $out"
expect_ge "$(pt_count "$out" "ok web-a:8080")" 40 "pod -> Service reaches web-a"
expect_ge "$(pt_count "$out" "ok web-b:8080")" 40 "pod -> Service reaches web-b"

touch "$T_DIR/unready-web-b"
unready() { [[ $(pod_ready web-b) == False ]]; }
poll_until 10 unready && ok "web-b turns not ready" || fail "web-b still ready"
only_a() { local o; o=$(ptc --cgroup "$T_CG" -n 100 10.96.10.1 80); [[ $(pt_count "$o" "ok web-a:8080") -eq 100 ]]; }
poll_until 5 only_a && ok "not-ready web-b gets no new connections" || fail "web-b still chosen"
rm -f "$T_DIR/unready-web-b"
poll_until 20 both && ok "web-b back after readiness returns" || fail "web-b never back"

# continuous connects while web-a is deleted: none may fail
ptc --cgroup "$T_CG" -n 6000 10.96.10.1 80 >"$T_DIR/cont.out" &
bg=$!
pt delete pod web-a >/dev/null
wait $bg
out=$(cat "$T_DIR/cont.out")
t_log "$out"
[[ $out == *err* ]] && fail "connects failed while a pod was deleted" || ok "0 failed connects while deleting a pod"
poll_until 10 pod_gone web-a || fail "web-a not gone"
out=$(ptc --cgroup "$T_CG" -n 50 10.96.10.1 80)
expect_eq "$(pt_count "$out" "ok web-b:8080")" 50 "after delete only web-b"
for p in web-b client; do pt delete pod $p >/dev/null; done
for p in web-b client; do poll_until 10 pod_gone $p || fail "$p not deleted"; done
t_done
