#!/usr/bin/env bash
# --manifests DIR is watched (inotify): a new file applies, an edit updates,
# a removed file deletes its objects.
source "$(dirname "$0")/lib.sh"
t_init manifests
mk_pod a 1; mk_pod b 2
start_echo a 8080; start_echo b 8080
mkdir -p "$T_DIR/manifests"
pt_start --manifests "$T_DIR/manifests"
write() {
	{ cat <<Y
apiVersion: v1
kind: Service
metadata: {name: static}
spec:
  clusterIP: 10.96.6.1
  ports: [{name: http, port: 80, targetPort: 8080}]
Y
	slice_yaml static static-1 IPv4 http 8080 "$@"; } >"$T_DIR/tmp.yaml"
	mv "$T_DIR/tmp.yaml" "$T_DIR/manifests/static.yaml"
}
reaches() { [[ $(ptc --cgroup "$T_CG" -n 20 10.96.6.1 80) == *"ok $1:8080 20"* ]]; }
write "$(pod_ip a)"
poll_until 5 reaches a && ok "new manifest file applied" || fail "manifest not applied"
write "$(pod_ip b)"
poll_until 5 reaches b && ok "edited manifest re-applied" || fail "edit not applied"
gone() { pt get svc static >/dev/null 2>&1 && return 1 || return 0; }
rm "$T_DIR/manifests/static.yaml"
poll_until 5 gone && ok "removed manifest deletes its objects" || fail "objects remain"
t_done
