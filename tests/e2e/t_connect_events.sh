#!/usr/bin/env bash
# --connect-events: the socket LB puts client pod -> service -> backend
# "connect" events, and "reject" when there is no endpoint, in the same
# stream as the pods' process events.
source "$(dirname "$0")/lib.sh"
t_init connect-events
pt_start --connect-events
cat >"$T_DIR/p.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: srv, labels: {app: srv}}
spec:
  containers: [{name: s, image: x, command: ["$BUILD/tests/echo-id", "--id", "srv", "--port", "8080"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: cli}
spec:
  containers: [{name: c, image: x, command: [sleep, "1000"]}]
---
apiVersion: v1
kind: Service
metadata: {name: srv}
spec:
  clusterIP: 10.96.13.1
  selector: {app: srv}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: none}
spec:
  clusterIP: 10.96.13.2
  ports: [{port: 80}]
Y
pt apply -f "$T_DIR/p.yaml" >/dev/null
for p in srv cli; do poll_until 10 is_ready $p || fail "$p not ready"; done
ip=$(ptj pod srv 'd["status"]["podIP"]')
pt exec cli -- "$BUILD/tests/ptclient" -n 3 10.96.13.1 80 >/dev/null
pt exec cli -- "$BUILD/tests/ptclient" -n 2 10.96.13.2 80 >/dev/null
ev() { pt events -o json --pod '^cli$' "$@" 2>/dev/null; }
have() { [[ $(ev --type connect | grep -c '"service":"default/srv/80/TCP/v4"') -ge 3 ]]; }
poll_until 5 have && ok "3 connect events from the client pod" || fail "connect events: $(ev)"
line=$(ev --type connect | head -1)
expect_match "$line" "\"backend\":\\{\"ip\":\"$ip\",\"port\":8080\\}" "the chosen backend"
expect_match "$line" '"container":"c"' "attributed to the client container"
expect_eq "$(ev --type reject | grep -c '"service":"default/none/80/TCP/v4"')" 2 "2 reject events (no endpoint)"
expect_ge "$(ev --type exec | grep -c ptclient)" 2 "process events in the same stream"
for p in srv cli; do pt delete pod $p >/dev/null; done
t_done
