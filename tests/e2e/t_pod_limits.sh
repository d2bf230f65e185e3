#!/usr/bin/env bash
# cgroup enforcement: a 64Mi memory limit OOMKills (reason OOMKilled, exit
# code 137); a 200m CPU limit holds a busy loop to 0.18-0.22 CPU s per
# second; a fork loop stops at --pod-pids-limit; QoS class by the rules.
source "$(dirname "$0")/lib.sh"
t_init pod-limits
pt_start --backoff-base 30 --pod-pids-limit 64
cat >"$T_DIR/pods.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "tail /dev/zero"]
    resources: {limits: {memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: burner}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "while :; do :; done"]
    resources: {limits: {cpu: 200m, memory: 128Mi}, requests: {cpu: 200m, memory: 128Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: forker}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "for i in \$(seq 200); do sleep 300 & done; wait"]
    resources: {requests: {cpu: 100m}}
Y
pt apply -f "$T_DIR/pods.yaml" >/dev/null || fail "apply"

oomed() { [[ $(ptj pod hog 'd["status"]["containerStatuses"][0]["state"].get("terminated",{}).get("reason","")') == OOMKilled ]]; }
poll_until 20 oomed && ok "64Mi hog is OOMKilled" || fail "hog: $(ptj pod hog 'd["status"]["containerStatuses"][0]')"
expect_eq "$(ptj pod hog 'd["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]')" 137 "exit code 137"
expect_eq "$(pod_phase hog)" Failed "OOMKilled with restartPolicy Never: Failed"

poll_until 10 is_ready burner || fail "burner not ready"
cg=$(ctr_cg burner c)
u0=$(awk '/^usage_usec/ {print $2}' "$cg/cpu.stat"); t0=$(date +%s%N)
sleep 2 # the measurement window itself
u1=$(awk '/^usage_usec/ {print $2}' "$cg/cpu.stat"); t1=$(date +%s%N)
rate=$(( (u1 - u0) * 1000000 / ((t1 - t0) / 1000) ))   # micro-CPU-seconds per second
t_log "burner: $(( u1 - u0 )) us CPU in $(( (t1 - t0) / 1000000 )) ms = 0.$(printf %06d $rate) CPU s/s"
expect_ge "$rate" 180000 "200m limit: >= 0.18 CPU s per s"
expect_le "$rate" 220000 "200m limit: <= 0.22 CPU s per s"
expect_eq "$(ptj pod burner 'd["status"]["qosClass"]')" Guaranteed "limits == requests: Guaranteed"
expect_eq "$(ptj pod forker 'd["status"]["qosClass"]')" Burstable "requests only: Burstable"

pcg=$T_CG/podtrace/pod$(pod_uid forker)
pidsdir=/sys/fs/cgroup/pids/${pcg#/sys/fs/cgroup/unified/}
[[ -d $pidsdir ]] || pidsdir=$pcg
capped() { [[ $(cat "$pidsdir/pids.current") -ge 60 ]]; }
poll_until 10 capped || true
expect_eq "$(cat "$pidsdir/pids.max")" 64 "pids.max is the pod pids limit"
expect_le "$(cat "$pidsdir/pids.current")" 64 "the fork loop stops at 64 ($(cat "$pidsdir/pids.current"))"
logs=$(pt logs forker 2>&1)
expect_match "$logs" "fork|Resource temporarily unavailable|can't" "forks fail once at the limit"
for p in hog burner forker; do pt delete pod $p >/dev/null; done
for p in hog burner forker; do poll_until 10 pod_gone $p || fail "$p not deleted"; done
t_done
