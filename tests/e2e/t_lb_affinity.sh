#!/usr/bin/env bash
# sessionAffinity: ClientIP pins a client (its network namespace) to one
# backend, and the pin expires after timeoutSeconds without use.
source "$(dirname "$0")/lib.sh"
t_init lb-affinity
mk_pod a 1; mk_pod b 2; mk_pod c 3; mk_pod client 4
for p in a b c; do start_echo $p 8080; done
pt_start
{
	cat <<Y
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  clusterIP: 10.96.2.1
  ports: [{name: http, port: 80, targetPort: 8080}]
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 1}}
Y
	slice_yaml sticky sticky-1 IPv4 http 8080 "$(pod_ip a)" "$(pod_ip b)" "$(pod_ip c)"
} >"$T_DIR/s.yaml"
pt apply -f "$T_DIR/s.yaml" >/dev/null || fail "apply"

distinct() { grep -c '^ok ' <<<"$1"; }
out=$(ptc --cgroup "$T_CG" -n 200 10.96.2.1 80)
expect_eq "$(distinct "$out")" 1 "host netns: 200 connects go to one backend"
first=$(awk '/^ok /{print $2}' <<<"$out")
out=$(in_pod client "$BUILD/tests/ptclient" --cgroup "$T_CG" -n 200 10.96.2.1 80)
expect_eq "$(distinct "$out")" 1 "pod netns: pinned too (its own identity)"

# expiry: after >1 s idle the next connect is a fresh choice. Poll until a
# different backend shows up; with 3 backends that takes a few tries.
changed() {
	local o
	o=$(ptc --cgroup "$T_CG" -n 1 10.96.2.1 80)
	[[ $o != *"ok $first "* ]]
}
waited=0
if poll_until 30 changed; then ok "the pin expired and another backend was chosen"; else fail "affinity never expired"; fi

# without affinity the same client spreads
sed -i 's/sessionAffinity: ClientIP/sessionAffinity: None/; /sessionAffinityConfig/d' "$T_DIR/s.yaml"
pt apply -f "$T_DIR/s.yaml" >/dev/null || fail "re-apply"
out=$(ptc --cgroup "$T_CG" -n 200 10.96.2.1 80)
expect_eq "$(distinct "$out")" 3 "affinity None: all 3 backends used"
t_done
