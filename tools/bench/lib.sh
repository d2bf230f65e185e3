# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of tools/bench/run.sh: the cleanup registry, podtraced instances,
# the benchmark network, result records. Everything created is named ptb-*
# and undone by b_cleanup (EXIT trap), on success and failure alike:
#   netns ptb-*, host links ptb-*, cgroups $CG2/ptb-$$ (and the v1 mirrors
#   of the daemons' pod cgroups), bpffs /sys/fs/bpf/ptb-$$-*, temp dir
#   /tmp/ptb-*, every process (all started inside $B_CG, killed with
#   cgroup.kill), the pods' netns/veths (ptp-<uid>/ptv<uid>, by uid), a
#   tracefs mount if we made it, net.ipv4.ip_forward if a daemon changed it.

B_NETNS=()	# netns we created
B_LINKS=()	# host links we created
B_UIDS=()	# uids of the pods of our daemons
B_DAEMONS=()	# names of running daemons
B_TRACEFS=	# 1 if we mounted tracefs
declare -gA D_PID=() D_SOCK=() D_BPFFS=() D_CG=() D_MPORT=() D_STATE=()

b_log() { printf '[bench %(%T)T] %s\n' -1 "$*" >&2; }
b_warn() { printf '[bench %(%T)T] WARNING: %s\n' -1 "$*" >&2; B_WARN+=("$*"); }
b_err() { printf '[bench %(%T)T] ERROR: %s\n' -1 "$*" >&2; B_ERRS+=("$*"); }

now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t * 1000)); }

# poll_until TIMEOUT_S cmd...: every 20 ms until cmd succeeds (0) or timeout (1)
poll_until() {
	local end=$(($(now_ns) + ${1%.*} * 1000000000))
	shift
	until "$@"; do
		(($(now_ns) >= end)) && return 1
		sleep 0.02
	done
}

# ---- results -------------------------------------------------------------

# rec CMP 'k=v k=v ...' ['k=v ...']: one JSON line in $RES. Numbers stay
# numbers, nan/none -> null, anything else a string.
rec() {
	local cmp=$1 out kv k v
	shift
	out="{\"cmp\":\"$cmp\""
	# shellcheck disable=SC2048 # split "k=v k=v" on purpose
	for kv in $*; do
		k=${kv%%=*}
		v=${kv#*=}
		if [[ $v =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
			out+=",\"$k\":$v"
		elif [[ $v == nan || $v == none || $v == -nan || -z $v ]]; then
			out+=",\"$k\":null"
		else
			out+=",\"$k\":\"${v//\"/}\""
		fi
	done
	echo "$out}" >>"$RES"
}

# ---- processes and cgroups -------------------------------------------------

# "$INCG" CGDIR cmd...: run cmd as a member of the cgroup (mkdir -p'd). A
# script, not a function: "$INCG" ... & gives the command's own pid in $!,
# and timeout(1) can run it.
incg_install() {
	printf '%s\n' '#!/bin/sh' 'mkdir -p "$1" && echo $$ >"$1/cgroup.procs" && shift && exec "$@"' >"$1"
	chmod +x "$1"
}

# The v1 hierarchies mirror our cgroup2 paths on hybrid hosts (the daemons
# put their pods' limits there).
_cg_v1_dirs() {
	local d
	[[ $CG2 == /sys/fs/cgroup ]] && return 0
	for d in /sys/fs/cgroup/*/"${B_CG##*/}"; do
		[[ -d $d && $d != "$B_CG" ]] && echo "$d"
	done
}

# cg_kill DIR: kill everything in the cgroup subtree, wait until empty.
cg_kill() {
	local cg=$1 procs i
	[[ -d $cg ]] || return 0
	for ((i = 0; i < 250; i++)); do
		procs=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
		[[ -z $procs ]] && return 0
		if [[ " $procs " == *" $$ "* || " $procs " == *" $BASHPID "* ]]; then
			echo $$ >"$CG2/cgroup.procs"	# never ourselves
		fi
		if [[ -e $cg/cgroup.kill ]]; then
			echo 1 >"$cg/cgroup.kill" 2>/dev/null
		else
			# shellcheck disable=SC2086
			kill -9 $procs 2>/dev/null
		fi
		sleep 0.02
	done
	echo "processes left in $cg: $procs" >&2
	return 1
}

cg_rmtree() { [[ -d $1 ]] && find "$1" -depth -type d -exec rmdir {} + 2>/dev/null; [[ ! -d $1 ]]; }

# ---- netns and links ------------------------------------------------------

ns_add() {
	B_NETNS+=("$1")
	ip netns add "$1" && ip -n "$1" link set lo up
}

ns_del() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086
	[[ -n $pids ]] && kill -9 $pids 2>/dev/null
	ip netns del "$1" 2>/dev/null
	return 0
}

# in_ns NS cmd...: nsenter, not "ip netns exec" (that remounts /sys and
# hides the cgroup2 and bpffs mounts).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# ---- podtraced instances ----------------------------------------------------

pt() { local n=$1; shift; "$PTBIN/podtrace" --socket "${D_SOCK[$n]}" "$@"; }

_free_port() {
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# d_start NAME [FLAGS...]: a podtraced of our own: state, socket, pins,
# cgroup root ($B_CG/NAME/root: the LB programs and the pods are there;
# the daemon itself runs in $B_CG/NAME/proc, outside its attach point).
d_start() {
	local n=$1 dir=$B_DIR/d-$1 port
	shift
	mkdir -p "$dir/state" "$B_CG/$n/root" "$B_CG/$n/proc" || return 1
	if [[ -z ${D_MPORT[$n]:-} ]]; then
		port=$(_free_port $((19469 + ${#D_MPORT[@]} * 7))) || return 1
		D_MPORT[$n]=$port
	fi
	D_SOCK[$n]=$dir/sock
	D_BPFFS[$n]=/sys/fs/bpf/ptb-$$-$n
	D_CG[$n]=$B_CG/$n
	# shellcheck disable=SC2034 # read by run.sh
	D_STATE[$n]=$dir/state
	rm -f "$dir/sock"
	"$INCG" "$B_CG/$n/proc" "$PTBIN/podtraced" --state-dir "$dir/state" --socket "$dir/sock" \
		--bpffs "${D_BPFFS[$n]}" --cgroup-root "$B_CG/$n/root" \
		--service-cidr 10.96.0.0/12 --pod-cidr "$POD_CIDR" \
		--metrics-listen "127.0.0.1:${D_MPORT[$n]}" "$@" >>"$dir/log" 2>&1 &
	D_PID[$n]=$!
	[[ " ${B_DAEMONS[*]} " == *" $n "* ]] || B_DAEMONS+=("$n")
	if ! poll_until 20 pt "$n" status >/dev/null 2>&1; then
		tail -20 "$dir/log" >&2
		b_err "podtraced $n did not come up"
		return 1
	fi
	poll_until 10 curl -sf "http://127.0.0.1:${D_MPORT[$n]}/readyz" -o /dev/null || true
}

# d_term NAME: SIGTERM and reap (pods and pins stay).
d_term() {
	local n=$1 pid=${D_PID[$1]:-} i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	D_PID[$n]=
	return 0
}

# d_restart NAME [FLAGS...]: same state, pins and cgroup root; pods are
# re-adopted (their shims outlive the daemon).
d_restart() {
	local n=$1
	shift
	d_term "$n"
	d_start "$n" "$@"
}

# d_hwm NAME: the daemon's peak RSS in kB (VmHWM).
d_hwm() { awk '/^VmHWM/ {print $2}' "/proc/${D_PID[$1]}/status" 2>/dev/null || echo none; }

# d_metrics NAME: a /metrics scrape on stdout.
d_metrics() { curl -sf --max-time 60 "http://127.0.0.1:${D_MPORT[$1]}/metrics"; }

# d_track_pods NAME: remember our pods' uids (their netns/veths are named
# after them) for cleanup.
d_track_pods() {
	local u
	for u in $(pt "$1" get pods -A -o json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for o in d.get("items", [d] if d.get("kind") == "Pod" else []):
    print(o["metadata"]["uid"])'); do
		[[ " ${B_UIDS[*]} " == *" $u "* ]] || B_UIDS+=("$u")
	done
}

# d_stop NAME: delete its pods, stop it, unpin, remove its cgroups.
d_stop() {
	local n=$1
	[[ -n ${D_SOCK[$n]:-} ]] || return 0
	if [[ -n ${D_PID[$n]:-} ]] && kill -0 "${D_PID[$n]}" 2>/dev/null; then
		d_track_pods "$n"
		if [[ -n $(pt "$n" get pods -A 2>/dev/null | tail -n +2) ]]; then
			timeout 120 python3 "$HERE/ptctl.py" --socket "${D_SOCK[$n]}" delete-pods >/dev/null 2>&1 ||
				b_warn "$n: pods not deleted cleanly"
		fi
	fi
	d_term "$n"
	"$PTBIN/podtraced" --bpffs "${D_BPFFS[$n]}" --cleanup >/dev/null 2>&1
	rm -rf "${D_BPFFS[$n]}" 2>/dev/null
	_pods_net_cleanup
	cg_kill "${D_CG[$n]}"
	cg_rmtree "${D_CG[$n]}"
	local v1
	for v1 in $(_cg_v1_dirs); do cg_rmtree "$v1/$n"; done
	D_SOCK[$n]=
}

# netns ptp-<uid:12> and veth ptv<uid:8> of every pod we made, if left
_pods_net_cleanup() {
	local u
	for u in "${B_UIDS[@]}"; do
		[[ -e /run/netns/ptp-${u:0:12} ]] && ns_del "ptp-${u:0:12}"
		ip link show "ptv${u:0:8}" >/dev/null 2>&1 && ip link del "ptv${u:0:8}" 2>/dev/null
	done
	return 0
}

# ---- cleanup ----------------------------------------------------------------

b_cleanup() {
	local n ns l left='' v1 rc=0
	[[ -n ${_B_CLEANED:-} ]] && return 0
	_B_CLEANED=1
	disown -a 2>/dev/null
	trap '' INT TERM HUP
	for n in "${B_DAEMONS[@]}"; do d_stop "$n"; done
	[[ -n ${B_CG:-} ]] && { cg_kill "$B_CG"; cg_rmtree "$B_CG"; }
	for v1 in $(_cg_v1_dirs); do cg_rmtree "$v1"; done
	_pods_net_cleanup
	for l in "${B_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	for ns in "${B_NETNS[@]}"; do ns_del "$ns"; done
	# shellcheck disable=SC2010
	for l in $(ls /sys/fs/bpf 2>/dev/null | grep "^ptb-$$-"); do rm -rf "/sys/fs/bpf/$l"; done
	if [[ -n $B_TRACEFS ]]; then umount /sys/kernel/tracing 2>/dev/null; fi
	if [[ -n ${B_FWD0:-} && $(sysctl -n net.ipv4.ip_forward) != "$B_FWD0" ]]; then
		sysctl -qw "net.ipv4.ip_forward=$B_FWD0"
	fi
	[[ -n ${B_DIR:-} && -d $B_DIR && -z ${BENCH_KEEP:-} ]] && rm -rf "$B_DIR"

	[[ -n ${B_CG:-} && -e $B_CG ]] && left+=" cgroup:$B_CG"
	for v1 in $(_cg_v1_dirs); do left+=" cgroup:$v1"; done
	for ns in "${B_NETNS[@]}"; do [[ -e /run/netns/$ns ]] && left+=" netns:$ns"; done
	for n in "${B_UIDS[@]}"; do [[ -e /run/netns/ptp-${n:0:12} ]] && left+=" netns:ptp-${n:0:12}"; done
	for l in "${B_LINKS[@]}"; do ip link show "$l" >/dev/null 2>&1 && left+=" link:$l"; done
	# shellcheck disable=SC2010
	for l in $(ls /sys/fs/bpf 2>/dev/null | grep "^ptb-$$-"); do left+=" bpffs:$l"; done
	if [[ -n $left ]]; then
		echo "[bench] LEFT BEHIND:$left" >&2
		rc=1
	fi
	return $rc
}

# ---- the benchmark network -------------------------------------------------
#
#   ptb-be   backends: 10.244.200.0/22 is local (a "local" route: every
#            address answers), echo-id on 8080 (TCP) replies "be:8080",
#            iperf3 -s on 5201.
#   ptb-cd   client for "direct" and podtrace (the LB cgroup decides)
#   ptb-ci-N / ptb-cn-N   clients with kube-proxy's iptables / nftables
#            rules for N services (their tables only)
#   each client netns: veth ptb-cK <-> ptb-bK (in ptb-be), 10.244.204.0/30s,
#   default route to the backend side. No traffic leaves these netns.

net_backend() {
	local ready=$B_DIR/echo-be.ready
	ns_add ptb-be || return 1
	ip -n ptb-be route add local 10.244.200.0/22 dev lo || return 1
	"$INCG" "$B_CG/aux" nsenter --net=/run/netns/ptb-be -- "$PTBIN/echo-id" --id be \
		--port 8080 --ready-file "$ready" >"$B_DIR/echo-be.log" 2>&1 &
	"$INCG" "$B_CG/aux" nsenter --net=/run/netns/ptb-be -- iperf3 -s -p 5201 >"$B_DIR/iperf-be.log" 2>&1 &
	poll_until 5 test -e "$ready" || { b_err "echo-id in ptb-be did not start"; return 1; }
	poll_until 5 eval "in_ns ptb-be ss -Hltn 'sport = :5201' | grep -q ." ||
		{ b_err "iperf3 in ptb-be did not start"; return 1; }
}

# net_link NS IDX: veth between client NS and ptb-be, 10.244.204.(4*IDX)/30
net_link() {
	local ns=$1 i=$2 a b
	a=10.244.204.$((4 * i + 1))
	b=10.244.204.$((4 * i + 2))
	ip link add "ptb-c$i" netns "$ns" type veth peer name "ptb-b$i" netns ptb-be &&
		ip -n "$ns" addr add "$a/30" dev "ptb-c$i" &&
		ip -n ptb-be addr add "$b/30" dev "ptb-b$i" &&
		ip -n "$ns" link set "ptb-c$i" up &&
		ip -n ptb-be link set "ptb-b$i" up &&
		ip -n "$ns" route add default via "$b"
}
