#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of lib.sh, echo-id and ptclient; needs no daemon.
#
#   tests/e2e/selftest.sh	runs the inner test twice as a child, once to
#				the end and once interrupted by SIGINT in the
#				middle, and checks each left nothing behind.
#   tests/e2e/selftest.sh --inner [interrupt]
#				the inner test alone.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

inner() {
	local mode=$1 ip port m out want

	t_init selftest-inner
	[[ -x $BUILD/tests/echo-id && -x $BUILD/tests/ptclient ]] ||
		t_bail "build $BUILD/tests/{echo-id,ptclient} first"

	mk_pod a 1
	mk_pod b 2
	start_echo b 8080 9090

	# Things only the generic cleanup can find: a process in $T_CG, an
	# untracked process in a pod, and a "daemon" pin directory.
	sh -c "echo \$\$ >'$T_CG/cgroup.procs' && exec sleep 600" &
	nsenter --net="/run/netns/$(pod_ns a)" sleep 600 &
	mkdir "$T_BPFFS" && mkdir "$T_BPFFS/maps"
	if command -v bpftool >/dev/null; then
		bpftool map create "$T_BPFFS/maps/m" type array key 4 \
			value 4 entries 1 name pt_selftest || fail "pin a map"
	fi
	# Tell the outer test what to look for afterwards.
	if [[ -n ${PT_SELFTEST_STATE:-} ]]; then
		echo "$$ $ECHO_PID $T_DIR" >"$PT_SELFTEST_STATE"
	fi
	poll_until 2 grep -q . "$T_CG/cgroup.procs" || fail "sleeper in T_CG"

	if [[ $mode == interrupt ]]; then
		kill -INT $$
		fail "still running after SIGINT"
	fi

	for ip in "$(pod_ip b)" "$(pod_ip6 b)"; do
		for port in 8080 9090; do
			# --check-peer alone means TCP
			for m in --check-peer --udp --udp-connected; do
				want=$(printf 'ok b:%s 5\ntotal 5' "$port")
				out=$(ptc --cgroup "$T_CG" $m -n 5 "$ip" $port)
				expect_eq "$out" "$want" "host -> $ip $port $m"
				out=$(in_pod a "$BUILD/tests/ptclient" \
					--cgroup "$T_CG" $m -n 5 "$ip" "$port")
				expect_eq "$out" "$want" "pod a -> $ip $port $m"
			done
		done
		out=$(ptc --cgroup "$T_CG" -n 3 "$ip" 7070)
		expect_eq "$out" $'err ECONNREFUSED 3\ntotal 3' \
			"host -> $ip closed tcp port"
		out=$(in_pod a "$BUILD/tests/ptclient" --udp-connected -n 2 \
			"$ip" 7070)
		expect_eq "$out" $'err ECONNREFUSED 2\ntotal 2' \
			"pod a -> $ip closed udp port (connected)"
		# unconnected UDP never sees the ICMP error: a timeout
		out=$(ptc --udp --timeout-ms 100 "$ip" 7070)
		expect_eq "$out" $'err ETIMEDOUT 1\ntotal 1' \
			"host -> $ip closed udp port (unconnected)"
	done

	# volume: thousands of connections, quickly
	out=$(ptc --cgroup "$T_CG" -n 3000 "$(pod_ip b)" 8080)
	expect_eq "$(pt_count "$out" "ok b:8080")" 3000 "3000 tcp connections"
	expect_eq "$(pt_count "$out" total)" 3000 "pt_count total"
	expect_eq "$(pt_count "$out" "err ECONNREFUSED")" 0 "pt_count absent"

	# the assertion helpers themselves
	expect_ge 5 5 "expect_ge equal"
	expect_le 4 5 "expect_le less"
	expect_match $'x\nok b:8080 2\ntotal 2' '^ok b:8080 [0-9]+$' \
		"expect_match any line"
	_t_now
	local t0=$_T_NOW
	poll_until 0.2 false && fail "poll_until false succeeded"
	_t_now
	expect_le $((_T_NOW - t0)) 1000 "poll_until times out on time"
	poll_until 1 true || fail "poll_until true"
	# deferred last runs first: the file must not survive
	t_defer "rm -f /tmp/pt-selftest-defer-$$"
	t_defer "touch /tmp/pt-selftest-defer-$$"
	t_done
}

# One child run in mode $1; then verify it cleaned up after itself.
outer_run() {
	local mode=$1 state=$T_DIR/state-$1 log=$T_DIR/log-$1 pid rc
	local e_pid dir v f0=$T_FAIL

	# Foreground: a background job would start with SIGINT ignored, and
	# bash can't trap a signal that was ignored when it started.
	PT_SELFTEST_STATE=$state bash "${BASH_SOURCE[0]}" --inner "$mode" \
		>"$log" 2>&1
	rc=$?
	sed 's/^/#   | /' "$log"
	if [[ $mode == interrupt ]]; then
		expect_eq "$rc" 130 "$mode: exit status 130"
		expect_match "$(cat "$log")" '^# selftest-inner: interrupted' \
			"$mode: trap saw SIGINT"
	else
		expect_eq "$rc" 0 "$mode: exit status 0"
		expect_match "$(cat "$log")" '^[1-9][0-9]* passed, 0 failed$' \
			"$mode: summary line"
	fi

	read -r pid e_pid dir <"$state" || fail "$mode: no state file"
	expect_eq "$(ip netns list | grep -c "^pt-$pid-")" 0 "$mode: no netns"
	for v in a b; do
		v=pth$(printf '%s' "$pid-$v" | md5sum | cut -c1-8)
		ip link show "$v" >/dev/null 2>&1 && fail "$mode: veth $v left"
	done
	[[ -e /sys/fs/bpf/pt-test-$pid ]] && fail "$mode: bpffs dir left"
	[[ -e $CG2_ROOT/pt-test-$pid ]] && fail "$mode: cgroup left"
	[[ -e $dir ]] && fail "$mode: T_DIR $dir left"
	[[ -e /tmp/pt-selftest-defer-$pid ]] && fail "$mode: defer order"
	kill -0 "$e_pid" 2>/dev/null && fail "$mode: echo-id still alive"
	expect_eq "$(sysctl -n net.ipv4.ip_forward)" "$fwd4" \
		"$mode: ip_forward restored"
	expect_eq "$(sysctl -n net.ipv6.conf.all.forwarding)" "$fwd6" \
		"$mode: ipv6 forwarding restored"
	((T_FAIL == f0)) && ok "$mode: nothing left behind"
}

if [[ ${1:-} == --inner ]]; then
	inner "${2:-normal}"
fi

t_init selftest
fwd4=$(sysctl -n net.ipv4.ip_forward)
fwd6=$(sysctl -n net.ipv6.conf.all.forwarding)
outer_run normal
outer_run interrupt
t_done
