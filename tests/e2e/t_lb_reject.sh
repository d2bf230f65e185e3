#!/usr/bin/env bash
# No endpoint: connect() fails at once with ECONNREFUSED (kube-proxy's
# REJECT), UDP sendmsg fails too, and each rejection is counted.
source "$(dirname "$0")/lib.sh"
t_init lb-reject
pt_start
cat >"$T_DIR/empty.yaml" <<Y
apiVersion: v1
kind: Service
metadata: {name: empty}
spec:
  clusterIP: 10.96.3.1
  ports: [{name: t, port: 80}, {name: u, port: 53, protocol: UDP}]
Y
pt apply -f "$T_DIR/empty.yaml" >/dev/null || fail "apply"
start=$(date +%s%N)
out=$(ptc --cgroup "$T_CG" -n 20 --timeout-ms 3000 10.96.3.1 80)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "$(pt_count "$out" "err ECONNREFUSED")" 20 "TCP: 20 x ECONNREFUSED"
expect_le "$ms" 1500 "TCP: refused at once, not after a timeout (${ms} ms for 20)"
out=$(ptc --cgroup "$T_CG" --udp -n 7 --timeout-ms 3000 10.96.3.1 53)
expect_eq "$(pt_count "$out" "err ECONNREFUSED")" 7 "UDP sendmsg: 7 x ECONNREFUSED"
desc=$(pt describe svc empty)
t_log "$desc"
expect_match "$desc" "[Rr]ejections: *20" "20 TCP rejections counted"
expect_match "$desc" "[Rr]ejections: *7" "7 UDP rejections counted"
t_done
