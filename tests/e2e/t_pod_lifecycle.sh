#!/usr/bin/env bash
# Init containers run in order before the containers; postStart and preStop
# run around start and stop; the grace period is honoured; phases and
# conditions go through the right states.
source "$(dirname "$0")/lib.sh"
t_init pod-lifecycle
pt_start --backoff-base 0.2
ev=$T_DIR/events
: >"$ev"
stamp() { echo "sh -c 'echo $1 \$(date +%s%N) >> $ev; ${2:-true}'"; }
cat >"$T_DIR/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: life}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - {name: init-a, image: busybox, command: [sh, -c, "echo init-a \$(date +%s%N) >> $ev; sleep 0.3"]}
  - {name: init-b, image: busybox, command: [sh, -c, "echo init-b \$(date +%s%N) >> $ev"]}
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "echo main \$(date +%s%N) >> $ev; trap 'echo term \$(date +%s%N) >> $ev; exit 0' TERM; while :; do sleep 0.05; done"]
    lifecycle:
      postStart: {exec: {command: [sh, -c, "echo poststart \$(date +%s%N) >> $ev"]}}
      preStop: {exec: {command: [sh, -c, "echo prestop \$(date +%s%N) >> $ev"]}}
  - name: second
    image: busybox
    command: [sh, -c, "echo second \$(date +%s%N) >> $ev; exec sleep 1000"]
Y
pt apply -f "$T_DIR/pod.yaml" >/dev/null || fail "apply"
phase=$(pod_phase life)
expect_match "$phase" "Pending|Running" "first phase Pending (or already Running): $phase"
poll_until 10 is_ready life && ok "pod becomes Ready" || fail "pod never Ready: $(pod_phase life)"
expect_eq "$(pod_phase life)" Running "phase Running"
# line number of each event: the init containers first, in order; then main;
# its postStart (which, as in Kubernetes, runs alongside main's entrypoint);
# the second container only once main's postStart is done
at() { grep -n "^$1 " "$ev" | head -1 | cut -d: -f1; }
expect_eq "$(at init-a)" 1 "init-a first"
expect_eq "$(at init-b)" 2 "init-b second"
expect_ge "$(at main)" 3 "main after the init containers"
expect_ge "$(at poststart)" 3 "postStart after the init containers"
expect_eq "$(at second)" 5 "the second container starts after main's postStart"
conds=$(ptj pod life '" ".join(c["type"]+"="+c["status"] for c in d["status"]["conditions"])')
expect_eq "$conds" "Initialized=True Ready=True ContainersReady=True PodScheduled=True" "conditions"
expect_eq "$(ptj pod life 'd["status"]["qosClass"]')" BestEffort "qosClass BestEffort"
expect_match "$(ptj pod life 'd["status"]["podIP"]')" '^10\.244\.' "podIP set"
expect_eq "$(ptj pod life 'd["status"]["initContainerStatuses"][1]["state"]["terminated"]["reason"]')" Completed "init container status Completed"

start=$(date +%s%N)
pt delete pod life >/dev/null || fail "delete"
poll_until 10 pod_gone life && ok "pod deleted" || fail "pod not gone"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
order=$(awk '{print $1}' "$ev" | tr '\n' ' ')
expect_match "$order" "prestop term" "preStop runs, then SIGTERM reaches main"
# 'second' ignores nothing but has no handler: sleep dies on SIGTERM at once
expect_le "$ms" 4000 "stopped within the grace period ($ms ms)"

# grace period honoured: a container ignoring SIGTERM is killed after 1 s, not before
cat >"$T_DIR/stubborn.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox, command: [sh, -c, "trap '' TERM; while :; do sleep 0.05; done"]}
Y
pt apply -f "$T_DIR/stubborn.yaml" >/dev/null
poll_until 10 is_ready stubborn || fail "stubborn not ready"
start=$(date +%s%N)
pt delete pod stubborn --wait=false >/dev/null
expect_eq "$(ptj pod stubborn 'd["metadata"].get("deletionTimestamp") is not None')" True "deletionTimestamp set while terminating"
poll_until 10 pod_gone stubborn && ok "killed after the grace period" || fail "never killed"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_ge "$ms" 950 "SIGKILL not before the 1 s grace period ($ms ms)"
expect_le "$ms" 3000 "SIGKILL soon after the grace period ($ms ms)"

# Succeeded / Failed
cat >"$T_DIR/jobs.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: ok-job}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [sh, -c, "exit 0"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: bad-job}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [sh, -c, "exit 3"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: bad-init}
spec:
  restartPolicy: Never
  initContainers: [{name: i, image: busybox, command: [sh, -c, "exit 1"]}]
  containers: [{name: c, image: busybox, command: [sh, -c, "echo never >> $ev"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: retry-init}
spec:
  restartPolicy: OnFailure
  initContainers: [{name: i, image: busybox, command: [sh, -c, "exit 1"]}]
  containers: [{name: c, image: busybox, command: [sleep, "100"]}]
Y
pt apply -f "$T_DIR/jobs.yaml" >/dev/null
poll_until 10 is_phase ok-job Succeeded && ok "exit 0 with Never: Succeeded" || fail "ok-job: $(pod_phase ok-job)"
poll_until 10 is_phase bad-job Failed && ok "exit 3 with Never: Failed" || fail "bad-job: $(pod_phase bad-job)"
expect_eq "$(ptj pod bad-job 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]')" 3 "exit code 3 reported"
poll_until 10 is_phase bad-init Failed && ok "failing init container with Never: pod Failed" || fail "bad-init: $(pod_phase bad-init)"
[[ $(grep -c never "$ev") -eq 0 ]] && ok "containers never start after a failed init" || fail "container ran"
restarted() { [[ $(ptj pod retry-init 'd["status"]["initContainerStatuses"][0]["restartCount"]') -ge 2 ]]; }
poll_until 10 restarted && ok "failing init container with OnFailure is restarted" || fail "no init restart"
expect_eq "$(pod_phase retry-init)" Pending "pod stays Pending while init fails"
for p in ok-job bad-job bad-init retry-init; do pt delete pod $p >/dev/null; done
for p in ok-job bad-job bad-init retry-init; do poll_until 10 pod_gone $p || fail "$p not deleted"; done
t_done
