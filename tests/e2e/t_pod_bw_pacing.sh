#!/usr/bin/env bash
# kubernetes.io/egress-bandwidth on a runtime pod, seen from outside:
#  - the pod's TCP connection has its max pacing rate set to the limit less
#    the headers (ss -tin in the pod's netns), so TCP paces itself;
#  - one iperf3 stream at 100M gets 0.93-1.02 of the limit with no
#    retransmissions (iperf3's count and Tcp RetransSegs of the pod's netns)
#    and no refusal by the policer;
#  - a UDP ping from the same pod during the transfer waits behind nothing:
#    its median RTT stays within 1 ms of the idle one (tbf adds ~3 ms here);
#  - four parallel streams are still held to the limit (the policer is the
#    aggregate limit; their retransmits are logged, not asserted).
# All traffic stays between two pods of the test's daemon.
source "$(dirname "$0")/lib.sh"
t_init pod-bw-pacing
command -v iperf3 >/dev/null || t_bail "iperf3 missing (make deps)"
PT_METRICS=127.0.0.1:$((19400 + $$ % 500))
pt_start
LIM=100000000
cat >"$T_DIR/p.yaml" <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: sink}
spec:
  containers:
  - {name: iperf, image: x, command: [iperf3, -s, -p, "5201"]}
  - {name: echo, image: x, command: [$BUILD/tests/echo-id, --id, sink, --port, "9000"]}
---
apiVersion: v1
kind: Pod
metadata: {name: eg, annotations: {kubernetes.io/egress-bandwidth: 100M}}
spec:
  containers: [{name: c, image: x, command: [sleep, "1000"]}]
Y
pt apply -f "$T_DIR/p.yaml" >/dev/null || t_bail "apply"
for p in sink eg; do poll_until 10 is_ready $p || { pt get pods; tail -30 "$T_DIR/podtraced.log"; t_bail "$p not ready"; }; done
sink=$(ptj pod sink 'd["status"]["podIP"]')
uid=$(pod_uid eg) ns=ptp-${uid:0:12}
[[ -e /run/netns/$ns ]] || t_bail "no netns $ns for pod eg"
listening() { pt exec sink -- sh -c 'ss -ltn | grep -q :5201'; }
poll_until 10 listening || t_bail "iperf3 server not listening"

# retrans: Tcp RetransSegs of the pod's netns
retrans() {
	nsenter --net="/run/netns/$ns" -- awk '/^Tcp:/ { if (h) { print $13; exit } h = 1 }' /proc/net/snmp
}
# drops: the pod's egress bandwidth drops from /metrics
drops() {
	curl -s "http://$PT_METRICS/metrics" |
		awk '/^podtrace_pod_bandwidth_drops_total\{.*pod="eg".*direction="egress"/ { print $2 }'
}
# udp_rtt_p50: median RTT in us of 40 stop-and-wait datagrams to echo-id
udp_rtt_p50() {
	pt exec eg -- python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
r = []
for i in range(40):
    t = time.perf_counter(); s.sendto(b"p", (sys.argv[1], 9000))
    try:
        s.recv(64); r.append((time.perf_counter() - t) * 1e6)
    except socket.timeout:
        pass
    time.sleep(0.02)
r.sort(); print(int(r[len(r) // 2]) if r else 999999)' "$sink"
}

idle=$(udp_rtt_p50)
r0=$(retrans) d0=$(drops)
pt exec eg -- iperf3 -c "$sink" -p 5201 -t 4 -J >"$T_DIR/one.json" 2>&1 &
ip=$!
sleep 1.5
nsenter --net="/run/netns/$ns" -- ss -tin "dst $sink" >"$T_DIR/ss.txt"
loaded=$(udp_rtt_p50)
wait $ip
r1=$(retrans) d1=$(drops)
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(eval(sys.argv[2])))' "$1" "$2" 2>/dev/null || echo none; }
bps=$(jq_ "$T_DIR/one.json" 'd["end"]["sum_received"]["bits_per_second"]')
ir=$(jq_ "$T_DIR/one.json" 'd["end"]["sum_sent"]["retransmits"]')
t_log "one stream: $bps bit/s ($((${bps/none/0} * 1000 / LIM)) per mille), iperf3 retransmits $ir," \
	"RetransSegs +$((r1 - r0)), drops +$((${d1:-0} - ${d0:-0})), UDP RTT p50 idle $idle us, loaded $loaded us"
expect_ge "${bps/none/0}" $((LIM * 93 / 100)) "one stream: >= 0.93 of the limit"
expect_le "${bps/none/0}" $((LIM * 102 / 100)) "one stream: <= 1.02 of the limit"
expect_eq "$ir" 0 "one stream: no retransmits (iperf3)"
expect_le $((r1 - r0)) 2 "one stream: Tcp RetransSegs of the pod's netns (almost) unchanged"
expect_le $((${d1:-0} - ${d0:-0})) 2 "one stream: (almost) nothing refused by the policer"
maxpace=$(sed -n 's|.*pacing_rate [0-9]*bps/\([0-9]*\)bps.*|\1|p' "$T_DIR/ss.txt" | sort -n | tail -1)
expect_ge "${maxpace:-0}" $((LIM * 95 / 100)) "ss -tin: max pacing rate set ($maxpace bit/s)"
expect_le "${maxpace:-0}" "$LIM" "ss -tin: max pacing rate within the limit"
expect_le "$loaded" $((idle + 1000)) "UDP RTT under load within 1 ms of idle ($idle -> $loaded us)"

pt exec eg -- iperf3 -c "$sink" -p 5201 -t 3 -P 4 -J >"$T_DIR/four.json" 2>&1
bps=$(jq_ "$T_DIR/four.json" 'd["end"]["sum_received"]["bits_per_second"]')
t_log "four streams: $bps bit/s, retransmits $(jq_ "$T_DIR/four.json" 'd["end"]["sum_sent"]["retransmits"]')"
expect_ge "${bps/none/0}" $((LIM * 80 / 100)) "four streams: >= 0.80 of the limit"
expect_le "${bps/none/0}" $((LIM * 110 / 100)) "four streams: <= 1.10 of the limit (the policer)"

for p in sink eg; do pt delete pod $p --wait=false >/dev/null; done
for p in sink eg; do poll_until 15 pod_gone $p || fail "$p not deleted"; done
t_done
