#!/usr/bin/env bash
# BPF on the pod cgroup: kubernetes.io/egress-bandwidth and
# ingress-bandwidth hold a real TCP transfer (iperf3) to within 10% of 10M
# and 50M; the device allow-list refuses a block device with EPERM while
# /dev/null works.
source "$(dirname "$0")/lib.sh"
t_init pod-guard
command -v iperf3 >/dev/null || t_bail "iperf3 missing (make deps)"
pt_start
pod() { # NAME ANNOTATIONS COMMAND...
	local name=$1 ann=$2; shift 2
	local cmd=""
	for a in "$@"; do cmd+="\"$a\", "; done
	cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: $name, annotations: {$ann}}
spec:
  containers: [{name: c, image: x, command: [${cmd%, }]}]
Y
}
{
	pod sink "" iperf3 -s -p 5201
	pod eg10 "kubernetes.io/egress-bandwidth: 10M" sleep 1000
	pod eg50 "kubernetes.io/egress-bandwidth: 50M" sleep 1000
	pod in10 "kubernetes.io/ingress-bandwidth: 10M" sleep 1000
	pod in50 "kubernetes.io/ingress-bandwidth: 50M" sleep 1000
} >"$T_DIR/g.yaml"
pt apply -f "$T_DIR/g.yaml" >/dev/null || fail "apply"
for p in sink eg10 eg50 in10 in50; do poll_until 10 is_ready $p || { fail "$p not ready"; pt get pods; tail -30 "$T_DIR/podtraced.log"; t_bail "pods not ready"; }; done
sink=$(ptj pod sink 'd["status"]["podIP"]')
listening() { pt exec sink -- sh -c 'ss -ltn | grep -q :5201'; }
poll_until 10 listening || fail "iperf3 server not listening"

rate() { # POD [-R]: achieved bits/s of a 4 s transfer
	pt exec "$1" -- iperf3 -c "$sink" -p 5201 -t 4 -J ${2:-} 2>/dev/null |
		python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))'
}
check() { # POD LIMIT_BPS [-R] DESC
	local r
	r=$(rate "$1" "${3:-}")
	t_log "$4: $r bit/s for a $2 bit/s limit ($(( ${r:-0} * 100 / $2 ))%)"
	expect_ge "${r:-0}" $(( $2 * 90 / 100 )) "$4 >= 90% of the limit"
	expect_le "${r:-0}" $(( $2 * 110 / 100 )) "$4 <= 110% of the limit"
}
check eg10 10000000 "" "egress 10M"
check eg50 50000000 "" "egress 50M"
check in10 10000000 -R "ingress 10M"
check in50 50000000 -R "ingress 50M"

# devices: a block device is refused, /dev/null is not
# a block device the host itself can read, so EPERM can only come from us
blk=
for b in $(find /dev -maxdepth 1 -type b); do
	head -c1 "$b" >/dev/null 2>&1 && { blk=$b; break; }
done
if [[ -n $blk ]]; then
	err=$(pt exec eg10 -- head -c1 "$blk" 2>&1 >/dev/null); rc=$?
	expect_match "$err" "Operation not permitted" "reading $blk in a pod: EPERM"
	expect_eq "$rc" 1 "head fails"
else
	fail "no block device under /dev to test with"
fi
out=$(pt exec eg10 -- sh -c 'echo x > /dev/null && head -c 3 /dev/zero | wc -c')
expect_eq "$out" 3 "/dev/null and /dev/zero work"
curl_like=$(pt exec eg10 -- sh -c 'test -c /dev/urandom && head -c 4 /dev/urandom | wc -c')
expect_eq "$curl_like" 4 "/dev/urandom works"
for p in sink eg10 eg50 in10 in50; do pt delete pod $p --wait=false >/dev/null; done
for p in sink eg10 eg50 in10 in50; do poll_until 15 pod_gone $p || fail "$p not deleted"; done
t_done
