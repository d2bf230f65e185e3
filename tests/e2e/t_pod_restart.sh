#!/usr/bin/env bash
# kill -9 of the daemon leaves pods running; after restart they are
# re-adopted; deleting them then cleans everything up.
source "$(dirname "$0")/lib.sh"
t_init pod-restart
pt_start
cat >"$T_DIR/p.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: keep, labels: {app: keep}}
spec:
  containers:
  - {name: srv, image: echo, command: ["$BUILD/tests/echo-id", "--id", "keep", "--port", "8080"]}
---
apiVersion: v1
kind: Service
metadata: {name: keep}
spec:
  clusterIP: 10.96.11.1
  selector: {app: keep}
  ports: [{port: 80, targetPort: 8080}]
Y
pt apply -f "$T_DIR/p.yaml" >/dev/null
poll_until 10 is_ready keep || fail "not ready"
ip=$(ptj pod keep 'd["status"]["podIP"]'); uid=$(pod_uid keep)
answers() { [[ $(ptc --cgroup "$T_CG" -n 5 10.96.11.1 80) == *"ok keep:8080 5"* ]]; }
answers && ok "pod answers through its Service" || fail "no answer"
ptc --cgroup "$T_CG" -n 4000 10.96.11.1 80 >"$T_DIR/cont.out" &
bg=$!
pt_kill9
answers && ok "daemon dead: the pod still runs and answers" || fail "pod died with the daemon"
pt_start
wait $bg
expect_eq "$(pt_count "$(cat "$T_DIR/cont.out")" "ok keep:8080")" 4000 "4000 connects across kill -9 and restart: none failed"
poll_until 5 is_ready keep && ok "re-adopted: Ready" || fail "not re-adopted: $(pod_phase keep)"
expect_eq "$(ptj pod keep 'd["status"]["podIP"]')" "$ip" "same pod IP"
expect_eq "$(pod_uid keep)" "$uid" "same uid"
expect_eq "$(ptj pod keep 'd["status"]["containerStatuses"][0]["restartCount"]')" 0 "not restarted"
answers && ok "still answers after the restart" || fail "no answer after restart"
pt delete pod keep >/dev/null
poll_until 10 pod_gone keep && ok "deleted" || fail "not deleted"
ns="ptp-${uid:0:12}"
[[ -e /run/netns/$ns ]] && fail "netns $ns left" || ok "netns removed"
[[ -d $T_CG/podtrace/pod$uid ]] && fail "cgroup left" || ok "cgroup removed"
[[ -d /sys/fs/cgroup/memory/${T_CG##*/}/podtrace/pod$uid ]] && fail "v1 memory cgroup left" || ok "v1 cgroups removed"
ip link show "ptv${uid:0:8}" >/dev/null 2>&1 && fail "veth left" || ok "veth removed"
t_done
