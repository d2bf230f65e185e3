#!/usr/bin/env bash
# Probes: httpGet and tcpSocket readiness make a pod Ready; a failing
# liveness probe restarts the container; a startup probe holds the others
# back until it passes.
source "$(dirname "$0")/lib.sh"
t_init pod-probes
pt_start --backoff-base 0.2
cat >"$T_DIR/p.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: http}
spec:
  containers:
  - name: web
    image: x
    command: ["$BUILD/tests/echo-id", "--http", "--id", "http", "--port", "8080"]
    ports: [{name: web, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /healthz, port: web}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: tcp}
spec:
  containers:
  - name: srv
    image: x
    command: ["$BUILD/tests/echo-id", "--id", "tcp", "--port", "9090"]
    readinessProbe: {tcpSocket: {port: 9090}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: closed}
spec:
  containers:
  - name: c
    image: x
    command: [sleep, "1000"]
    readinessProbe: {tcpSocket: {port: 9999}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  containers:
  - name: c
    image: x
    command: [sleep, "1000"]
    livenessProbe: {exec: {command: [sh, -c, "test -e $T_DIR/alive"]}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  containers:
  - name: c
    image: x
    command: [sleep, "1000"]
    startupProbe: {exec: {command: [test, -e, "$T_DIR/started"]}, periodSeconds: 1, failureThreshold: 30}
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
Y
pt apply -f "$T_DIR/p.yaml" >/dev/null || fail "apply"
poll_until 10 is_ready http && ok "httpGet readiness (named port): Ready" || fail "http not ready"
poll_until 10 is_ready tcp && ok "tcpSocket readiness: Ready" || fail "tcp not ready"
sleep 2 # the probe runs every second; give the closed port two chances to (wrongly) pass
expect_eq "$(pod_ready closed)" False "tcpSocket on a closed port: not Ready"
expect_eq "$(pod_phase closed)" Running "but Running"

restarted() { [[ $(ptj pod live 'd["status"]["containerStatuses"][0]["restartCount"]') -ge 1 ]]; }
poll_until 15 restarted && ok "failing liveness probe restarts the container" || fail "no restart"
expect_ge "$(pt events -o json --pod '^live$' --type lifecycle | grep -c ProbeFailed)" 1 "ProbeFailed in the stream"

expect_eq "$(ptj pod slow 'd["status"]["containerStatuses"][0]["started"]')" False "startup probe pending: not started"
expect_eq "$(pod_ready slow)" False "readiness waits for the startup probe"
touch "$T_DIR/started"
poll_until 10 is_ready slow && ok "after the startup probe passes, readiness runs: Ready" || fail "slow never ready"
expect_eq "$(ptj pod slow 'd["status"]["containerStatuses"][0]["started"]')" True "started"
for p in http tcp closed live slow; do pt delete pod $p --wait=false >/dev/null; done
for p in http tcp closed live slow; do poll_until 15 pod_gone $p || fail "$p not deleted"; done
t_done
