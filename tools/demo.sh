#!/usr/bin/env bash
# make demo: podtraced in the foreground on examples/ (two pods of the
# built-in runtime behind a ClusterIP and a NodePort Service). Ctrl-C stops
# the pods, then the daemon, and removes everything. DEMO_SECONDS=N stops
# by itself after N seconds.
set -u
cd "$(dirname "$0")/.."
[[ $EUID -eq 0 ]] || { echo "make demo must run as root" >&2; exit 1; }
BUILD=$PWD/build
DEMO=/tmp/podtrace-demo
BPFFS=/sys/fs/bpf/podtrace
SOCK=/run/podtrace/podtraced.sock
DPID=

cleanup() {
	trap '' INT TERM
	if [[ -n $DPID ]] && kill -0 "$DPID" 2>/dev/null; then
		# pods outlive the daemon by design: stop them first
		for f in examples/*.yaml examples/*.json; do
			"$BUILD/podtrace" --socket "$SOCK" delete -f "$f" >/dev/null 2>&1
		done
		for _ in $(seq 100); do
			[[ -z $("$BUILD/podtrace" --socket "$SOCK" get pods -A 2>/dev/null | tail -n +2) ]] && break
			sleep 0.1
		done
		kill "$DPID"; wait "$DPID" 2>/dev/null
	fi
	"$BUILD/podtraced" --bpffs "$BPFFS" --cleanup
	rm -rf "$DEMO"
	echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$DEMO"
cat <<MSG

podtrace demo: the daemon runs examples/ (watched: edit a file and it
re-applies). In another shell:

  build/podtrace get pods -o wide     # two pods of the built-in runtime
  build/podtrace get svc
  curl -s http://10.96.0.80/          # ClusterIP: answered by web-1 or web-2
  curl -s http://127.0.0.1:30080/     # NodePort from the host
  build/podtrace describe pod web-1   # status, limits, QoS
  build/podtrace describe svc web     # backends and per-backend counters
  build/podtrace logs web-2 -c setup
  build/podtrace exec web-1 -- ip addr

Ctrl-C to stop (the pods are deleted and everything is removed).

MSG
# containers find podtrace-echo on the daemon's PATH (there are no images)
# its own session: Ctrl-C in the terminal reaches this script only, whose
# cleanup deletes the pods before it stops the daemon (a daemon stopped
# first would leave the pods running, by design)
PATH=$BUILD:$PATH setsid "$BUILD/podtraced" --manifests "$PWD/examples" --state-dir "$DEMO/state" \
	--bpffs "$BPFFS" --socket "$SOCK" &
DPID=$!
if [[ -n ${DEMO_SECONDS:-} ]]; then
	sleep "$DEMO_SECONDS"
else
	wait "$DPID"
fi
