#!/usr/bin/env bash
# Storm: 20000 execs in a pod as fast as the box allows. The exec events
# delivered plus every loss counter (kernel ring buffer, stream) add up to
# the execs done. The rate and the losses are printed.
source "$(dirname "$0")/lib.sh"
t_init events-storm
pt_start
cat >"$T_DIR/p.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: storm}
spec:
  containers: [{name: c, image: x, command: [sleep, "1000"]}]
Y
pt apply -f "$T_DIR/p.yaml" >/dev/null
poll_until 10 is_ready storm || fail "not ready"
N=${STORM_N:-20000}
pt events -f -o json --pod '^storm$' --type exec >"$T_DIR/stream" 2>"$T_DIR/stream.err" &
sp=$!
t_track_pid $sp
lost0=$(pt status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"]["lostKernel"])')
start=$(date +%s%N)
# two workers, like the two cores
pt exec storm -- sh -c "w() { i=0; while [ \$i -lt $((N / 2)) ]; do /bin/true; i=\$((i+1)); done; }; w & w; wait"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
count() { grep -c '"/bin/true"' "$T_DIR/stream"; }
# delivered: the stream has caught up with what the daemon received
dexec() { pt status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"]["byType"].get("exec",0))'; }
settled() { local a b c1 c2; a=$(dexec); c1=$(count); sleep 0.5; b=$(dexec); c2=$(count); [[ $a == "$b" && $c1 == "$c2" && $c2 -gt 0 ]]; }
poll_until 60 settled || true
got=$(count)
kill $sp; wait $sp 2>/dev/null
lost=$(( $(pt status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"]["lostKernel"])') - lost0 ))
slost=$(python3 -c "import json,sys
n=0
for l in open('$T_DIR/stream'):
    e=json.loads(l)
    if e.get('type')=='lost': n+=e['count']
print(n)")
t_log "$N execs in $ms ms = $(( N * 1000 / (ms ? ms : 1) )) exec/s; delivered $got, lost in kernel $lost (all types), lost in stream $slost"
expect_ge $(( got + lost + slost )) $N "delivered + lost >= execs done (nothing silently lost)"
expect_le "$got" $N "no phantom events"
if (( lost + slost == 0 )); then expect_eq "$got" $N "no loss reported: every exec delivered"; fi
expect_eq "$lost" 0 "zero kernel loss at this rate"
pt delete pod storm >/dev/null
t_done
