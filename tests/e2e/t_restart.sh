#!/usr/bin/env bash
# kill -9 of the daemon: the pinned dataplane keeps balancing while it is
# down; after restart it re-adopts the maps (same ids), the state dir
# restores the objects and allocations, and changes work again.
source "$(dirname "$0")/lib.sh"
t_init restart
mk_pod a 1; mk_pod b 2; mk_pod c 3
for p in a b c; do start_echo $p 8080; done
pt_start
{
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
	slice_yaml web web-1 IPv4 http 8080 "$(pod_ip a)" "$(pod_ip b)"
} >"$T_DIR/web.yaml"
pt apply -f "$T_DIR/web.yaml" >/dev/null || fail "apply"
vip=$(pt get svc web -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["clusterIP"])')
expect_match "$vip" '^10\.' "clusterIP allocated: $vip"
ids_before=$(pt describe svc web | grep -iE 'svc id|backend' | tr -s ' ')

pt_kill9
out=$(ptc --cgroup "$T_CG" -n 300 "$vip" 80)
t_log "daemon down: $out"
expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8080") )) 300 "daemon down: still balanced (300/300)"
expect_ge "$(pt_count "$out" "ok b:8080")" 60 "daemon down: both backends used"

pt_start
vip2=$(pt get svc web -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["clusterIP"])')
expect_eq "$vip2" "$vip" "the allocated clusterIP survives the restart"
ids_after=$(pt describe svc web | grep -iE 'svc id|backend' | tr -s ' ' | sed 's/selected.*//')
expect_eq "$(sed 's/selected.*//' <<<"$ids_before")" "$ids_after" "re-adopted: same svc id and backend ids"
out=$(ptc --cgroup "$T_CG" -n 300 "$vip" 80)
expect_eq $(( $(pt_count "$out" "ok a:8080") + $(pt_count "$out" "ok b:8080") )) 300 "after restart: balanced"
n_links=$(ls "$T_BPFFS/links" | wc -l)
expect_eq "$n_links" 8 "8 links pinned, none duplicated"
n_progs=$(bpftool cgroup show "$T_CG" 2>/dev/null | grep -c pt_)
expect_eq "$n_progs" 8 "8 programs attached to the cgroup after restart (not 16)"

# changes after the restart
{ sed -n '1,/^---/p' "$T_DIR/web.yaml" | sed '$d'; slice_yaml web web-1 IPv4 http 8080 "$(pod_ip c)"; } >"$T_DIR/web2.yaml"
pt apply -f "$T_DIR/web2.yaml" >/dev/null || fail "apply after restart"
out=$(ptc --cgroup "$T_CG" -n 50 "$vip" 80)
expect_eq "$(pt_count "$out" "ok c:8080")" 50 "after restart: an endpoint change applies"

# a service deleted while the daemon is down disappears from the maps on start
pt_kill9
# (the store is one journal: drop the service's lines, as if it never was)
sed -i '/^{"k":"Service\/default\/web"/d' "$T_DIR"/state/objects.journal
pt_start
out=$(pt get svc 2>&1)
expect_match "$out" "No resources" "service gone from the store"
n=$(bpftool map dump pinned "$T_BPFFS/maps/pt_frontend" | grep -c '"key"' || true)
expect_eq "$n" 0 "stale frontend removed from the map on start"
t_done
