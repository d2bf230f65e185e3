#!/usr/bin/env bash
# make demo: two demo "pods" (network namespaces serving HTTP), then
# podtraced in the foreground on examples/. Ctrl-C stops it and removes
# everything it made. DEMO_SECONDS=N stops by itself after N seconds.
set -u
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "make demo must run as root" >&2; exit 1; }
BUILD=$PWD/build
DEMO=/tmp/podtrace-demo
BPFFS=/sys/fs/bpf/podtrace
PIDS=()

cleanup() {
	trap '' INT TERM
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$BUILD/podtraced" --bpffs "$BPFFS" --cleanup
	for i in 1 2; do
		ip netns pids pt-demo-$i 2>/dev/null | xargs -r kill -9
		ip link del ptdemo$i 2>/dev/null
		ip netns del pt-demo-$i 2>/dev/null
	done
	sysctl -qw net.ipv4.ip_forward="$OLD_FWD"
	rm -rf "$DEMO"
	echo "demo: cleaned up"
}
OLD_FWD=$(sysctl -n net.ipv4.ip_forward)
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DEMO"
sysctl -qw net.ipv4.ip_forward=1
for i in 1 2; do
	ns=pt-demo-$i
	ip netns add $ns
	ip link add ptdemo$i type veth peer name eth0 netns $ns
	ip addr add 10.244.$i.1/24 dev ptdemo$i
	ip link set ptdemo$i up
	ip -n $ns addr add 10.244.$i.2/24 dev eth0
	ip -n $ns link set lo up
	ip -n $ns link set eth0 up
	ip -n $ns route add default via 10.244.$i.1
	# a tiny HTTP server answering with its identity
	ip netns exec $ns "$BUILD/tests/echo-id" --http --port 8080 \
		--id "hello from demo pod $i (10.244.$i.2)" >"$DEMO/pod$i.log" 2>&1 &
	PIDS+=($!)
done

cat <<MSG

podtrace demo: pods at 10.244.1.2 and 10.244.2.2 serve HTTP on :8080.
The daemon applies examples/ (watched: edit a file and it re-applies).
In another shell:

  build/podtrace get svc
  curl -s http://10.96.0.80/        # ClusterIP: answered by pod 1 or 2
  curl -s http://127.0.0.1:30080/   # NodePort from the host
  build/podtrace describe svc web   # backends and per-backend counters
  build/podtrace status

Ctrl-C to stop (everything is removed).

MSG
"$BUILD/podtraced" --manifests "$PWD/examples" --state-dir "$DEMO/state" --bpffs "$BPFFS" &
PIDS+=($!)
if [[ -n ${DEMO_SECONDS:-} ]]; then
	sleep "$DEMO_SECONDS"
else
	wait "${PIDS[-1]}"
fi
