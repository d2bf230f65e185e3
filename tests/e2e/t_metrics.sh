#!/usr/bin/env bash
# /metrics with pods, services and traffic: promtool's lint passes; a real
# Prometheus server scrapes it and PromQL returns the bytes a pod sent
# (within 5%) and a service's rejections; a deleted pod's series vanish.
source "$(dirname "$0")/lib.sh"
t_init metrics
command -v promtool >/dev/null && command -v prometheus >/dev/null || t_bail "prometheus missing (make deps)"
MPORT=19469 PPORT=19090
PT_METRICS=127.0.0.1:$MPORT pt_start
cat >"$T_DIR/m.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: sink, labels: {app: sink}}
spec:
  containers: [{name: s, image: x, command: ["$BUILD/tests/echo-id", "--discard", "--id", "sink", "--port", "9000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: sender}
spec:
  containers: [{name: c, image: x, command: [sleep, "1000"]}]
---
apiVersion: v1
kind: Service
metadata: {name: sink}
spec:
  clusterIP: 10.96.12.1
  selector: {app: sink}
  ports: [{port: 9000}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  clusterIP: 10.96.12.2
  ports: [{port: 80}]
Y
pt apply -f "$T_DIR/m.yaml" >/dev/null || fail "apply"
for p in sink sender; do poll_until 10 is_ready $p || fail "$p not ready"; done
BYTES=20000000
got=$(pt exec sender -- bash -c "exec 3<>/dev/tcp/10.96.12.1/9000; head -c $BYTES /dev/zero >&3; shutdown() { :; }; exec 3>&-" 2>&1; echo rc=$?)
t_log "sender: $got"
ptc --cgroup "$T_CG" -n 4 10.96.12.2 80 >/dev/null

top=$(pt top --once --interval 0.5)
t_log "$top"
expect_match "$top" "^NAME +CPU\(cores\) +MEMORY\(bytes\) +RX/s +TX/s" "top: header"
expect_match "$top" "^sender " "top: the sender pod"
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T_DIR/scrape.txt" || fail "scrape"
lint=$(promtool check metrics <"$T_DIR/scrape.txt" 2>&1); rc=$?
expect_eq "$rc" 0 "promtool check metrics passes (lint on): $lint"
expect_eq "$lint" "" "no lint finding"
expect_match "$(cat "$T_DIR/scrape.txt")" '^podtrace_pod_network_transmit_bytes_total\{namespace="default",pod="sender"\}' "per-pod series present"
expect_match "$(curl -sf "http://127.0.0.1:$MPORT/healthz")" ok "/healthz"
expect_match "$(curl -sf "http://127.0.0.1:$MPORT/readyz")" ok "/readyz"

# a real Prometheus on loopback
mkdir -p "$T_DIR/prom"
cat >"$T_DIR/prom/prometheus.yml" <<Y
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: podtrace
  static_configs: [{targets: ["127.0.0.1:$MPORT"]}]
Y
prometheus --config.file="$T_DIR/prom/prometheus.yml" --storage.tsdb.path="$T_DIR/prom/data" \
	--web.listen-address=127.0.0.1:$PPORT >"$T_DIR/prom/log" 2>&1 &
t_track_pid $!
q() { curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys
try:
    r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")
except Exception:
    print("")'; }
have() { [[ -n $(q "$1") ]]; }
poll_until 30 have 'podtrace_pod_network_transmit_bytes_total{pod="sender"}' && ok "Prometheus scraped podtrace" || fail "no data in Prometheus: $(tail -3 "$T_DIR/prom/log")"
tx=$(q 'podtrace_pod_network_transmit_bytes_total{pod="sender"}')
tx=${tx%.*}
t_log "PromQL: sender transmitted $tx bytes for $BYTES sent"
expect_ge "$tx" $(( BYTES * 95 / 100 )) "PromQL bytes >= 95% of what the pod sent"
expect_le "$tx" $(( BYTES * 105 / 100 )) "PromQL bytes <= 105% of what the pod sent"
rej=$(q 'podtrace_service_rejections_total{service="nobody"}')
expect_eq "${rej%.*}" 4 "PromQL: 4 rejections of the service without endpoints"

# every query of the Grafana dashboard is valid PromQL for this Prometheus
bad=$(python3 - "$BUILD/../tools/grafana/podtrace.json" "$PPORT" <<'PYQ'
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
bad = []
for p in d["panels"]:
    for t in p.get("targets", []):
        q = t["expr"].replace("$namespace", ".*")
        url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": q}))
        try:
            r = json.load(urllib.request.urlopen(url))
            if r.get("status") != "success": bad.append(q)
        except Exception as e:
            bad.append(q + " (" + str(e) + ")")
print("\n".join(bad))
PYQ
)
expect_eq "$bad" "" "all Grafana dashboard queries parse in Prometheus"

pt delete pod sender >/dev/null
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T_DIR/scrape2.txt"
grep -q 'pod="sender"' "$T_DIR/scrape2.txt" && fail "deleted pod's series still there" || ok "a deleted pod's series are gone on the next scrape"
grep -q 'pod="sink"' "$T_DIR/scrape2.txt" && ok "other pods remain" || fail "sink series missing"
pt delete pod sink >/dev/null
t_done
