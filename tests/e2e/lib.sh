# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: GPL-2.0
#
# Library for podtrace e2e tests. Each test is a standalone bash script
# tests/e2e/t_*.sh run as root:
#
#	source "$(dirname "$0")/lib.sh"
#	t_init my-test
#	mk_pod a 1; mk_pod b 2
#	start_echo b 8080
#	out=$(ptc --cgroup "$T_CG" -n 10 "$(pod_ip b)" 8080)
#	expect_eq "$(pt_count "$out" "ok b:8080")" 10 "all replies from b"
#	t_done
#
# Everything a test creates through this library (netns, veths, cgroup,
# bpffs dir, processes, host sysctls, temp dir) is undone by t_cleanup,
# which runs from an EXIT trap: on success, failure, set -u errors, Ctrl-C
# and SIGTERM alike. Pods use fixed addresses (10.244.INDEX.0/24), so e2e
# tests must not run concurrently with overlapping pod indexes.

BUILD=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build

T_PASS=0
T_FAIL=0
T_DEFERS=()	# cleanup commands, run in reverse order
T_PIDS=()	# processes to kill -9 on cleanup
T_NETNS=()	# netns names we created
T_VETHS=()	# host-side veth names we created
T_SYSCTLS=()	# "key=old-value" to restore, in reverse order
declare -gA T_POD_NS=() T_POD_IP=() T_POD_IP6=() T_POD_VETH=() T_ECHO_PID=()
ECHO_PID=	# pid of the most recent start_echo

t_log() { echo "# $*"; }

# Milliseconds since the epoch in $_T_NOW (no fork; locale-proof).
_t_now() {
	local t=${EPOCHREALTIME//[!0-9]/}

	_T_NOW=$((10#$t / 1000))
}

# "1.5" -> 1500: seconds (integer or decimal) to milliseconds.
_t_s2ms() {
	local s=$1 i f=000

	i=${s%%.*}
	[[ $s == *.* ]] && f="${s#*.}000"
	echo $((10#${i:-0} * 1000 + 10#${f:0:3}))
}

# poll_until TIMEOUT_S cmd...: rerun cmd every 20 ms until it succeeds (0)
# or TIMEOUT_S passes (1). cmd's output is not redirected.
poll_until() {
	local deadline

	_t_now
	deadline=$((_T_NOW + $(_t_s2ms "$1")))
	shift
	while :; do
		"$@" && return 0
		_t_now
		((_T_NOW >= deadline)) && return 1
		sleep 0.02
	done
}

# ---- assertions ----------------------------------------------------------

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok $((T_PASS + T_FAIL)) - $*"
}

fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $((T_PASS + T_FAIL)) - $*"
	return 1
}

_t_show() { printf '%s' "$1" | sed 's/^/#     /'; echo; }

# expect_eq ACTUAL EXPECTED DESC (string equality)
expect_eq() {
	[[ $1 == "$2" ]] && { ok "$3"; return; }
	fail "$3"
	echo "#   got:"; _t_show "$1"
	echo "#   want:"; _t_show "$2"
	return 1
}

# expect_ge A B DESC: integers, A >= B. expect_le: A <= B.
_t_cmp() {
	local op=$1 a=$2 b=$3 desc=$4 r=1

	if [[ $a =~ ^-?[0-9]+$ && $b =~ ^-?[0-9]+$ ]]; then
		case $op in
		'>=') ((a >= b)) && r=0 ;;
		'<=') ((a <= b)) && r=0 ;;
		esac
	fi
	((r == 0)) && { ok "$desc"; return; }
	fail "$desc (want '$a' $op '$b')"
}
expect_ge() { _t_cmp '>=' "$1" "$2" "$3"; }
expect_le() { _t_cmp '<=' "$1" "$2" "$3"; }

# expect_match STRING REGEX DESC: some line of STRING matches the ERE.
expect_match() {
	grep -qE -- "$2" <<<"$1" && { ok "$3"; return; }
	fail "$3 (no line matches /$2/)"
	_t_show "$1"
	return 1
}

# Prints "N passed, M failed" and exits (cleanup runs from the EXIT trap).
t_done() {
	echo "$T_PASS passed, $T_FAIL failed"
	((T_FAIL == 0 && T_PASS > 0)) && exit 0
	exit 1
}

# Setup went wrong: count a failure and stop here.
t_bail() {
	fail "BAIL OUT: $*"
	t_done
}

# ---- ptclient output helpers --------------------------------------------

# ptc ARGS...: run ptclient (from the host; add --cgroup "$T_CG" for hooks).
ptc() { "$BUILD/tests/ptclient" "$@"; }

# pt_count OUTPUT "ok b:8080" -> that line's count, 0 if absent.
pt_count() {
	local line rest

	while IFS= read -r line; do
		rest=${line#"$2 "}
		if [[ $rest != "$line" && $rest =~ ^[0-9]+$ ]]; then
			echo "$rest"
			return
		fi
	done <<<"$1"
	echo 0
}

# ---- setup / cleanup -----------------------------------------------------

# t_init NAME: must be called first, at the top level of the test script.
t_init() {
	set -u
	T_NAME=${1:?t_init NAME}
	if [[ $EUID -ne 0 ]]; then
		echo "# $T_NAME: must run as root" >&2
		exit 1
	fi
	# An exit from a signal trap runs the EXIT trap, hence t_cleanup.
	trap '_t_exit_trap' EXIT
	trap 'echo "# $T_NAME: interrupted" >&2; exit 130' INT
	trap 'echo "# $T_NAME: terminated" >&2; exit 143' TERM
	trap 'exit 129' HUP

	if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
		CG2_ROOT=/sys/fs/cgroup
	else
		CG2_ROOT=/sys/fs/cgroup/unified
	fi
	[[ $(stat -fc %T "$CG2_ROOT" 2>/dev/null) == cgroup2fs ]] ||
		t_bail "no cgroup2 mount at $CG2_ROOT"

	# what podtraced may create for its pods, to remove what it leaves
	T_NS_BEFORE=" $(ip netns list 2>/dev/null | awk '{print $1}' | tr '\n' ' ') "
	T_LINK_BEFORE=" $(ip -o link show 2>/dev/null | awk -F': ' '{sub("@.*","",$2); print $2}' | tr '\n' ' ') "
	T_DIR=$(mktemp -d /tmp/pt-e2e.XXXX) || t_bail "mktemp"
	T_CG=$CG2_ROOT/pt-test-$$
	mkdir "$T_CG" || t_bail "mkdir $T_CG"
	T_BPFFS=/sys/fs/bpf/pt-test-$$	# the daemon creates it
	T_SOCK=$T_DIR/podtraced.sock
	t_log "$T_NAME: dir $T_DIR cgroup $T_CG"
}

# t_defer "cmd ...": eval'ed by t_cleanup, last deferred first.
t_defer() { T_DEFERS+=("$*"); }

# t_track_pid PID: kill -9 it on cleanup.
t_track_pid() { T_PIDS+=("$@"); }

# t_sysctl KEY VALUE: set a host sysctl; the first old value is restored.
t_sysctl() {
	local old

	old=$(sysctl -n "$1") || return 1
	if [[ " ${T_SYSCTLS[*]} " != *" $1="* ]]; then
		T_SYSCTLS+=("$1=$old")
	fi
	sysctl -qw "$1=$2"
}

# Kill everything in cgroup $1 (recursively) and wait until it is empty.
_t_cg_kill() {
	local cg=$1 f pid deadline

	# Never kill ourselves: move this shell out if someone put it there.
	if find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null |
		grep -qx -e "$$" -e "$BASHPID"; then
		echo "$$" >"$CG2_ROOT/cgroup.procs"
	fi
	_t_now
	deadline=$((_T_NOW + 5000))
	while :; do
		f=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
		[[ -z $f ]] && return 0
		# cgroup.kill (5.14+) also catches processes forking right now.
		if [[ -e $cg/cgroup.kill ]]; then
			echo 1 >"$cg/cgroup.kill" 2>/dev/null
		else
			for pid in $f; do kill -9 "$pid" 2>/dev/null; done
		fi
		_t_now
		if ((_T_NOW >= deadline)); then
			echo "# t_cleanup: processes stuck in $cg: $f" >&2
			return 1
		fi
		sleep 0.02
	done
}

t_cleanup() {
	local i pid pids ns v kv deadline left=

	[[ -n ${_T_CLEANED:-} ]] && return 0
	_T_CLEANED=1
	trap '' INT TERM HUP	# a second Ctrl-C must not cut cleanup short

	for ((i = ${#T_DEFERS[@]} - 1; i >= 0; i--)); do
		eval "${T_DEFERS[i]}" >/dev/null 2>&1 || true
	done

	for pid in "${T_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null	# reap our own children
	done
	# No "Killed" job notices for untracked jobs killed below.
	disown -a

	if [[ -n ${T_CG:-} && -d $T_CG ]]; then
		_t_cg_kill "$T_CG"
		# children first; -depth lists them before their parents
		find "$T_CG" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
	# pods' v1 controller cgroups (hybrid hosts) mirror the cgroup2 path
	if [[ -n ${T_CG:-} && $CG2_ROOT != /sys/fs/cgroup ]]; then
		local v1
		for v1 in /sys/fs/cgroup/*/"${T_CG##*/}"; do
			[[ -d $v1 && $v1 != "$T_CG" ]] || continue
			find "$v1" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	fi
	[[ -n ${T_BPFFS:-} ]] && rm -rf "$T_BPFFS"

	# pods of the daemon under test: netns ptp-<uid>, host veth ptv<uid>
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^ptp-/ {print $1}'); do
		[[ ${T_NS_BEFORE:-} == *" $ns "* ]] || T_NETNS+=("$ns")
	done
	for v in $(ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^ptv/ {sub("@.*","",$2); print $2}'); do
		[[ ${T_LINK_BEFORE:-} == *" $v "* ]] || T_VETHS+=("$v")
	done
	# A netns lives on while a process is in it: kill those first.
	for ns in "${T_NETNS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # a list of pids
		[[ -n $pids ]] && kill -9 $pids 2>/dev/null
	done
	for v in "${T_VETHS[@]}"; do
		ip link del "$v" 2>/dev/null
	done
	for ns in "${T_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done

	for ((i = ${#T_SYSCTLS[@]} - 1; i >= 0; i--)); do
		kv=${T_SYSCTLS[i]}
		sysctl -qw "$kv" 2>/dev/null
	done

	[[ -n ${T_DIR:-} && -d $T_DIR ]] && rm -rf "$T_DIR"

	# Say loudly if anything survived.
	_t_now
	deadline=$((_T_NOW + 2000))
	for pid in "${T_PIDS[@]}"; do
		while kill -0 "$pid" 2>/dev/null; do
			_t_now
			if ((_T_NOW >= deadline)); then
				left+=" pid:$pid"
				break
			fi
			sleep 0.02
		done
	done
	[[ -n ${T_CG:-} && -e $T_CG ]] && left+=" cgroup:$T_CG"
	[[ -n ${T_BPFFS:-} && -e $T_BPFFS ]] && left+=" bpffs:$T_BPFFS"
	for ns in "${T_NETNS[@]}"; do
		[[ -e /run/netns/$ns ]] && left+=" netns:$ns"
	done
	for v in "${T_VETHS[@]}"; do
		ip link show "$v" >/dev/null 2>&1 && left+=" veth:$v"
	done
	if [[ -n $left ]]; then
		echo "# t_cleanup: LEFT BEHIND:$left" >&2
		return 1
	fi
	return 0
}

_t_exit_trap() {
	local rc=$?

	t_cleanup || { ((rc == 0)) && rc=1; }
	exit "$rc"
}

# ---- pods ----------------------------------------------------------------

# mk_pod NAME INDEX (0..255): netns pt-$$-NAME with eth0 = 10.244.INDEX.2/24
# and fd00:10:244:INDEX::2/64, gateway .1/::1 on the host-side veth.
mk_pod() {
	local name=$1 idx=$2 ns veth p4 p6

	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || t_bail "mk_pod: bad name '$name'"
	if [[ ! $idx =~ ^[0-9]+$ ]] || ((idx > 255)); then
		t_bail "mk_pod: bad index '$idx'"
	fi
	[[ -z ${T_POD_NS[$name]:-} ]] || t_bail "mk_pod: $name exists"
	ns=pt-$$-$name
	# IFNAMSIZ is 16: "pth" + 8 hex digits of a hash of pid and name.
	veth=pth$(printf '%s' "$$-$name" | md5sum | cut -c1-8)
	p4=10.244.$idx
	p6=fd00:10:244:$idx

	if ! t_sysctl net.ipv4.ip_forward 1 ||
		! t_sysctl net.ipv6.conf.all.forwarding 1; then
		t_bail "mk_pod: enabling forwarding"
	fi

	# Register before creating, so a half-made pod is cleaned up too.
	T_NETNS+=("$ns")
	T_VETHS+=("$veth")
	T_POD_NS[$name]=$ns
	T_POD_VETH[$name]=$veth
	T_POD_IP[$name]=$p4.2
	T_POD_IP6[$name]=$p6::2

	# accept_dad=0 on both ends: until the link-local address passes DAD
	# the host can't send neighbour solicitations for forwarded packets.
	# shellcheck disable=SC2015 # t_bail doesn't return
	ip netns add "$ns" &&
		ip link add "$veth" type veth peer name eth0 netns "$ns" &&
		sysctl -qw "net.ipv6.conf.$veth.accept_dad=0" &&
		in_pod "$name" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
		ip addr add "$p4.1/24" dev "$veth" &&
		ip addr add "$p6::1/64" dev "$veth" nodad &&
		ip link set "$veth" up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$p4.2/24" dev eth0 &&
		ip -n "$ns" addr add "$p6::2/64" dev eth0 nodad &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" route add default via "$p4.1" &&
		ip -n "$ns" -6 route add default via "$p6::1" ||
		t_bail "mk_pod $name $idx failed"
}

_t_pod() {
	local -n _map=$1

	if [[ -z ${_map[$2]:-} ]]; then
		echo "# no pod '$2'" >&2
		return 1
	fi
	echo "${_map[$2]}"
}
pod_ip() { _t_pod T_POD_IP "$1"; }
pod_ip6() { _t_pod T_POD_IP6 "$1"; }
pod_ns() { _t_pod T_POD_NS "$1"; }
pod_veth() { _t_pod T_POD_VETH "$1"; }

# in_pod NAME cmd...: run cmd in the pod's netns. nsenter rather than
# "ip netns exec": the latter remounts /sys, hiding the cgroup2 and bpffs
# mounts (so ptclient --cgroup would fail inside a pod).
in_pod() {
	local ns

	ns=$(pod_ns "$1") || return 1
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# bg_in_pod NAME cmd...: in_pod in the background, killed on cleanup; its
# pid (the command's own, not a subshell's) is in $BG_PID.
bg_in_pod() {
	local ns

	ns=$(pod_ns "$1") || t_bail "bg_in_pod: no pod $1"
	shift
	nsenter --net="/run/netns/$ns" -- "$@" &
	BG_PID=$!
	T_PIDS+=("$BG_PID")
}

# start_echo NAME PORT...: echo-id in pod NAME (outside $T_CG so the hooks
# under test don't touch it), reply id = $ECHO_ID or NAME. Sets $ECHO_PID
# and T_ECHO_PID[NAME]; log in $T_DIR/echo-NAME-N.log.
start_echo() {
	local name=$1 ns ready log pid p args=()

	shift
	ns=$(pod_ns "$name") || t_bail "start_echo: no pod $name"
	for p; do args+=(--port "$p"); done
	_T_ECHO_N=$((${_T_ECHO_N:-0} + 1))
	ready=$T_DIR/echo-$name-$_T_ECHO_N.ready
	log=$T_DIR/echo-$name-$_T_ECHO_N.log
	# A plain command, not a function: $! is then echo-id's own pid.
	nsenter --net="/run/netns/$ns" -- "$BUILD/tests/echo-id" \
		--id "${ECHO_ID:-$name}" "${args[@]}" --ready-file "$ready" \
		>"$log" 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	ECHO_PID=$pid
	T_ECHO_PID[$name]=$pid
	# Also stop early if it died (e.g. port in use).
	poll_until 5 eval "[[ -e '$ready' ]] || ! kill -0 $pid 2>/dev/null"
	if [[ ! -e $ready ]]; then
		cat "$log" >&2
		t_bail "start_echo $name $*: not ready"
	fi
}

# ---- podtraced / podtrace ----------------------------------------------------

# pt ARGS...: the CLI against this test's daemon.
pt() { "$BUILD/podtrace" --socket "$T_SOCK" "$@"; }

# pt_start [FLAGS...]: start podtraced isolated in this test's cgroup, pins,
# state dir and socket; wait until it answers. PT_PID is its pid.
pt_start() {
	mkdir -p "$T_DIR/state"
	rm -f "$T_SOCK"
	"$BUILD/podtraced" --state-dir "$T_DIR/state" --socket "$T_SOCK" \
		--bpffs "$T_BPFFS" --cgroup-root "$T_CG" \
		--service-cidr 10.96.0.0/12 --service-cidr fd00:10:96::/112 \
		--pod-cidr 10.244.128.0/17 --metrics-listen "${PT_METRICS:-}" \
		"$@" >>"$T_DIR/podtraced.log" 2>&1 &
	PT_PID=$!
	t_track_pid "$PT_PID"
	if ! poll_until 10 pt status >/dev/null 2>&1; then
		cat "$T_DIR/podtraced.log" >&2
		t_bail "podtraced did not come up"
	fi
}

# pt_kill9: kill the daemon the hard way and reap it.
pt_kill9() {
	kill -9 "$PT_PID" 2>/dev/null
	wait "$PT_PID" 2>/dev/null
	return 0
}

# pt_log: the daemon's log so far (for failure messages).
pt_log() { cat "$T_DIR/podtraced.log"; }

# svc_yaml NAME CLUSTER_IP PORT TARGET [EXTRA_SPEC_YAML]: a Service document.
# slice_yaml SVC SLICE FAMILY(IPv4|IPv6) PORTNAME PORT ADDR...: an
# EndpointSlice with ready endpoints. "ADDR:nr" marks an endpoint not ready,
# "ADDR:term" serving+terminating.
slice_yaml() {
	local svc=$1 name=$2 fam=$3 pname=$4 port=$5 a ip st
	shift 5
	cat <<Y
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name
  labels: {kubernetes.io/service-name: $svc}
addressType: $fam
ports: [{name: "$pname", port: $port, protocol: TCP}, {name: "$pname", port: $port, protocol: UDP}]
endpoints:
Y
	for a in "$@"; do
		ip=${a%%:[a-z]*}
		st=${a##*:}
		[[ $a == "$ip" ]] && st=ready
		case $st in
		nr) echo "- {addresses: [\"$ip\"], conditions: {ready: false, serving: false, terminating: false}}" ;;
		term) echo "- {addresses: [\"$ip\"], conditions: {ready: false, serving: true, terminating: true}}" ;;
		*) echo "- {addresses: [\"$ip\"], conditions: {ready: true}}" ;;
		esac
	done
}

# Share of replies from ID in a ptclient output, in percent.
pct() { echo $(( $(pt_count "$1" "ok $2") * 100 / $3 )); }

# ptj KIND NAME PYEXPR: a field of `podtrace get KIND NAME -o json`, with
# the object as d, e.g. ptj pod web 'd["status"]["podIP"]'.
ptj() {
	pt get "$1" "$2" -o json 2>/dev/null |
		python3 -c "import json,sys
try:
    d=json.load(sys.stdin); print($3)
except Exception:
    print('')"
}

# pod_phase NAME, pod_ready NAME (True/False), pod_uid NAME
pod_phase() { ptj pod "$1" 'd["status"]["phase"]'; }
pod_ready() { ptj pod "$1" '[c["status"] for c in d["status"]["conditions"] if c["type"]=="Ready"][0]'; }
pod_uid() { ptj pod "$1" 'd["metadata"]["uid"]'; }
# is_phase NAME PHASE: for poll_until
is_phase() { [[ $(pod_phase "$1") == "$2" ]]; }
is_ready() { [[ $(pod_ready "$1") == True ]]; }
pod_gone() { ! pt get pod "$1" >/dev/null 2>&1; }
# the cgroup2 dir of a container of a runtime pod
ctr_cg() { echo "$T_CG/podtrace/pod$(pod_uid "$1")/$2"; }
