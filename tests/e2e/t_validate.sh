#!/usr/bin/env bash
# Bad input: the error names the file, the object and the field path; the
# other objects of the file still apply; nothing of a rejected object
# reaches the maps; the daemon stays up.
source "$(dirname "$0")/lib.sh"
t_init validate
pt_start
cat >"$T_DIR/mixed.yaml" <<'Y'
apiVersion: v1
kind: Service
metadata: {name: good}
spec:
  clusterIP: 10.96.5.1
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: bad-port}
spec:
  clusterIP: 10.96.5.2
  ports: [{port: 70000}]
---
apiVersion: v1
kind: Service
metadata: {name: sctp}
spec:
  ports: [{port: 80, protocol: SCTP}]
---
apiVersion: v1
kind: Service
metadata: {name: out-of-range}
spec:
  clusterIP: 192.168.1.1
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: Bad_Name}
spec:
  ports: [{port: 80}]
Y
out=$(pt apply -f "$T_DIR/mixed.yaml" 2>"$T_DIR/err"); rc=$?
err=$(cat "$T_DIR/err")
t_log "$err"
expect_eq "$rc" 1 "exit code 1 when an object is rejected"
expect_match "$out" "service/good created" "the good service still applies"
expect_match "$err" "mixed.yaml: Service default/bad-port: spec.ports\[0\].port" "error names file, object and field (port)"
expect_match "$err" "Service default/sctp: spec.ports\[0\].protocol: SCTP is not supported" "SCTP: clear not-supported error"
expect_match "$err" "out-of-range: spec.clusterIP: .*not in the valid range" "clusterIP outside the CIDR"
expect_match "$err" "Bad_Name: metadata.name" "invalid name"
n=$(bpftool map dump pinned "$T_BPFFS/maps/pt_frontend" | grep -c '"key"' || true)
expect_eq "$n" 1 "only the good service has a frontend in the map"
out=$(pt get svc bad-port 2>&1)
expect_match "$out" "not found" "rejected object not stored"

printf 'kind: Service\n  bad: [\n' >"$T_DIR/syntax.yaml"
err=$(pt apply -f "$T_DIR/syntax.yaml" 2>&1 >/dev/null)
expect_match "$err" "syntax.yaml: YAML syntax error at line" "syntax error names file and line"
pt status >/dev/null && ok "daemon still up" || fail "daemon died"

# usage errors exit 2
pt get 2>/dev/null; expect_eq $? 2 "usage error: exit 2"
pt get svc nope >/dev/null 2>&1; expect_eq $? 1 "not found: exit 1"
t_done
