#!/usr/bin/env bash
# CrashLoopBackOff: restarts of a crashing container come after growing
# delays (base doubled each time, as kubelet; the base is 0.2 s here).
source "$(dirname "$0")/lib.sh"
t_init pod-backoff
pt_start --backoff-base 0.2
log=$T_DIR/starts
cat >"$T_DIR/crash.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers: [{name: c, image: busybox, command: [sh, -c, "date +%s%N >> $log; exit 2"]}]
Y
pt apply -f "$T_DIR/crash.yaml" >/dev/null
five() { [[ $(wc -l <"$log" 2>/dev/null || echo 0) -ge 5 ]]; }
poll_until 20 five && ok "5 starts" || fail "only $(wc -l <"$log") starts"
mapfile -t t <"$log"
d1=$(( (t[2] - t[1]) / 1000000 )); d2=$(( (t[3] - t[2]) / 1000000 )); d3=$(( (t[4] - t[3]) / 1000000 ))
t_log "intervals: $d1 $d2 $d3 ms"
expect_ge "$d2" $(( d1 * 3 / 2 )) "backoff grows ($d1 -> $d2 ms)"
expect_ge "$d3" $(( d2 * 3 / 2 )) "backoff grows ($d2 -> $d3 ms)"
expect_ge "$d1" 350 "second delay is about 2 x base ($d1 ms)"
st=$(ptj pod crash 'd["status"]["containerStatuses"][0]')
expect_match "$st" "CrashLoopBackOff|'terminated'" "waiting in CrashLoopBackOff (or just exited)"
expect_ge "$(ptj pod crash 'd["status"]["containerStatuses"][0]["restartCount"]')" 4 "restartCount counted"
expect_eq "$(pod_phase crash)" Running "phase stays Running during CrashLoopBackOff"
pt delete pod crash >/dev/null
poll_until 10 pod_gone crash || fail "not deleted"
t_done
