#!/usr/bin/env bash
# The trace plane and the event stream: an exec in a pod gives one exec
# event with the right pod, container, binary and args; exits carry codes
# and signals; OOM is seen; host processes produce nothing; execsnoop (a
# peer) sees exactly the same execs; a kubelet-style cgroup tree is
# attributed to its pod uid; the timeline shows the startup stages.
source "$(dirname "$0")/lib.sh"
t_init events
pt_start --backoff-base 30
cat >"$T_DIR/p.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: tr, labels: {app: tr}}
spec:
  initContainers: [{name: prep, image: x, command: [sh, -c, "sleep 0.2"]}]
  containers:
  - name: main
    image: x
    command: [sleep, "1000"]
    lifecycle: {postStart: {exec: {command: [sh, -c, "sleep 0.3"]}}}
---
apiVersion: v1
kind: Pod
metadata: {name: oomer}
spec:
  restartPolicy: Never
  containers: [{name: c, image: x, command: [sh, -c, "sleep 1; tail /dev/zero"], resources: {limits: {memory: 32Mi}}}]
Y
pt apply -f "$T_DIR/p.yaml" >/dev/null || fail "apply"
poll_until 10 is_ready tr || fail "tr not ready"
ev() { pt events -o json "$@" 2>/dev/null; }
jq_count() { python3 -c "import json,sys
n=0
for l in sys.stdin:
    try: e=json.loads(l)
    except Exception: continue
    if $1: n+=1
print(n)"; }

pt exec tr -- /bin/echo hello world >/dev/null
one() { [[ $(ev --pod '^tr$' --type exec | jq_count 'e.get("binary")=="/bin/echo"') -ge 1 ]]; }
poll_until 5 one || fail "no exec event for /bin/echo"
line=$(ev --pod '^tr$' --type exec | grep '"/bin/echo"')
expect_eq "$(grep -c . <<<"$line")" 1 "exactly one exec event for the exec"
expect_match "$line" '"namespace":"default"' "attributed: namespace"
expect_match "$line" '"pod":"tr"' "attributed: pod"
expect_match "$line" '"container":"main"' "attributed: container"
expect_match "$line" '"args":\["/bin/echo","hello","world"\]' "argv"
expect_match "$line" '"labels":\{"app":"tr"\}' "labels"

# argv is bounded, and the cut is marked
long=$(printf 'x%.0s' $(seq 1500))
pt exec tr -- /bin/echo "$long" >/dev/null
trunc() { [[ $(ev --pod '^tr$' --type exec | jq_count 'e.get("binary")=="/bin/echo" and e.get("argsTruncated") is True') -ge 1 ]]; }
poll_until 5 trunc && ok "a 1500-byte argv is truncated and marked" || fail "no truncation mark"
# --since keeps only recent history
expect_eq "$(pt events -o json --pod '^tr$' --since 1h | jq_count 'e.get("binary")=="/bin/echo" and e["args"][1:]==["hello","world"]')" 1 "--since 1h includes the exec"
sleep 2 # let the exec age past the window asked for next
expect_eq "$(pt events -o json --pod '^tr$' --since 1s | jq_count 'e.get("binary")=="/bin/echo" and e["args"][1:]==["hello","world"]')" 0 "--since 1s excludes it"

pt exec tr -- sh -c 'exit 7'
code() { [[ $(ev --pod '^tr$' --type exit | jq_count 'e.get("exitCode")==7 and e.get("comm")=="sh"') -ge 1 ]]; }
poll_until 5 code && ok "exit event carries exit code 7" || fail "no exit code 7"

pid=$(pt exec tr -- sh -c 'sleep 100 >/dev/null 2>&1 & echo $!')
kill -9 "$pid"
killed() { [[ $(ev --pod '^tr$' | jq_count "e.get('pid')==$pid and ((e['type']=='signal' and e.get('signal')==9) or (e['type']=='exit' and e.get('signal')==9))") -ge 2 ]]; }
poll_until 5 killed && ok "kill -9: signal event and exit with signal 9" || fail "no SIGKILL events for $pid"

oomed() { [[ $(ptj pod oomer 'd["status"]["containerStatuses"][0]["state"].get("terminated",{}).get("reason","")') == OOMKilled ]]; }
poll_until 20 oomed && ok "OOMKilled status" || fail "oomer not OOMKilled"
expect_ge "$(ev --pod oomer --type oom | jq_count 'e["type"]=="oom"')" 1 "an oom event"

# host processes outside pods produce no events
before=$(ev -A | jq_count 'True')
for i in $(seq 20); do /bin/true; done
sleep 0.5 # nothing to poll for: we check that nothing arrives
after=$(ev -A | jq_count 'True')
expect_eq "$after" "$before" "20 host execs: no event"

# peer check against execsnoop (libbpf-tools), on the container's cgroup
if command -v execsnoop >/dev/null; then
	if ! mountpoint -q /sys/kernel/tracing; then
		mount -t tracefs nodev /sys/kernel/tracing && t_defer "umount /sys/kernel/tracing"
	fi
	cg=$(ctr_cg tr main)
	stdbuf -oL execsnoop -c "$cg" >"$T_DIR/snoop" 2>&1 &
	snoop=$!
	t_track_pid $snoop
	up() { grep -q PCOMM "$T_DIR/snoop"; }
	poll_until 10 up || fail "execsnoop did not start: $(cat "$T_DIR/snoop")"
	from=$(($(date +%s%N) / 1000000))
	N=300
	pt exec tr -- sh -c "i=0; while [ \$i -lt $N ]; do /bin/true; i=\$((i+1)); done"
	seen() { [[ $(grep -c '^true ' "$T_DIR/snoop") -ge $N ]]; }
	poll_until 10 seen || true
	kill -INT $snoop; wait $snoop 2>/dev/null
	mine=$(ev --pod '^tr$' --type exec | python3 -c "import json,sys
for l in sys.stdin:
    e=json.loads(l)
    if e.get('binary')=='/bin/true': print(e['pid'])" | sort -n)
	theirs=$(awk '$1=="true" {print $2}' "$T_DIR/snoop" | sort -n)
	expect_eq "$(wc -l <<<"$mine")" $N "podtrace saw $N execs of /bin/true"
	expect_eq "$mine" "$theirs" "podtrace and execsnoop saw exactly the same execs (pids)"
else
	fail "execsnoop (libbpf-tools) missing: make deps"
fi

# kubelet-style trees, systemd and cgroupfs drivers
uid1=11111111-2222-3333-4444-555555555555; uid2=66666666-7777-8888-9999-aaaaaaaaaaaa
sd=$T_CG/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid1//-/_}.slice/cri-containerd-0123456789abcdef0123.scope
cf=$T_CG/kubepods/besteffort/pod$uid2/fedcba9876543210fedc
mkdir -p "$sd" "$cf"
t_defer "rmdir '$sd' '${sd%/*}' '${sd%/*/*}' '${sd%/*/*/*}' '$cf' '${cf%/*}' '${cf%/*/*}' '${cf%/*/*/*}'"
run_in() { bash -c "echo \$\$ > '$1/cgroup.procs'; exec /bin/echo kubelet-pod" >/dev/null; }
attributed() {
	run_in "$1"
	[[ $(ev -A --type exec | jq_count "e.get('podUID')=='$2' and e.get('binary')=='/bin/echo'") -ge 1 ]]
}
poll_until 5 attributed "$sd" "$uid1" && ok "systemd-driver pod cgroup attributed to uid $uid1" || fail "systemd tree not recognised"
poll_until 5 attributed "$cf" "$uid2" && ok "cgroupfs-driver pod cgroup attributed to uid $uid2" || fail "cgroupfs tree not recognised"
line=$(ev -A --type exec | grep "$uid1" | head -1)
expect_match "$line" '"container":"0123456789ab"' "container id from the scope name"

# the timeline of tr: stages in order, with plausible durations
tl=$(pt timeline pod tr -o json)
order=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(' '.join(s['stage']+('/'+s['container'] if s.get('container') else '') for s in d['stages']))" "$tl")
t_log "$order"
expect_match "$order" "^SandboxCreated CreateContainer/prep PreStart/prep .*StartContainer/prep .*Exited/prep CreateContainer/main PreStart/main .*StartContainer/main .*PostStartHookDone/main .*Ready/main" "stages in order"
dur=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); s={x['stage']+'/'+x.get('container',''):x['tsNs'] for x in d['stages']}; print(int((s['PostStartHookDone/main']-s['StartContainer/main'])/1e6), int((s['Exited/prep']-s['StartContainer/prep'])/1e6))" "$tl")
read -r hook init <<<"$dur"
expect_ge "$hook" 250 "postStart took ~0.3 s ($hook ms)"
expect_le "$hook" 2000 "postStart took ~0.3 s ($hook ms)"
expect_ge "$init" 150 "init took ~0.2 s ($init ms)"
out=$(pt timeline pod tr)
expect_match "$out" "PostStartHookDone" "text timeline"
for p in tr oomer; do pt delete pod $p >/dev/null; done
t_done
