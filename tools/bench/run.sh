#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench [QUICK=1]: podtrace side by side with kube-proxy (iptables and
# nftables layouts), execsnoop and tc tbf on this box. See tools/bench/README.md.
#
#   QUICK=1        every comparison at its smallest size (< 3 min): checks
#                  the harness; the report goes to build/bench/ (docs/ is
#                  left alone)
#   BENCH_OUT=DIR  where benchmarks.md and bench/*.png go (default: docs/,
#                  or build/bench/ with QUICK=1)
#   BENCH_ONLY="lb trace pods bw"   run only these phases
#   BENCH_KEEP=1   keep the temp dir (/tmp/ptb-*) with the raw results
#   BENCH_BW_RATES="10M 1G", BENCH_BW_REPS=N   the bandwidth phase's rates
#                  and repetitions (default: 10M x 3 with QUICK=1, else
#                  10M 100M 1G x 5)
#
# Exit status: 0 when every phase ran and every backend answered (targets
# missed or not), 1 when a phase could not run.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build
QUICK=${QUICK:-0}
[[ $QUICK == 0 || -z $QUICK ]] && QUICK=0 || QUICK=1
# shellcheck disable=SC2034 # used by lib.sh
B_ERRS=() B_WARN=()
# shellcheck source=tools/bench/lib.sh
source "$HERE/lib.sh"

[[ $EUID -eq 0 ]] || { echo "make bench must run as root (BPF, cgroups, netns)" >&2; exit 1; }
for c in iperf3 iptables-restore nft tc python3 curl nsenter; do
	command -v "$c" >/dev/null || { echo "bench: $c missing (make deps)" >&2; exit 1; }
done
for f in podtraced podtrace tests/echo-id; do
	[[ -x $BUILD/$f ]] || { echo "bench: $BUILD/$f missing (make all)" >&2; exit 1; }
done

# ---- sizes ----------------------------------------------------------------
REPS=5			# interleaved repetitions of every comparison
EP=10			# endpoints per service
# shellcheck disable=SC2034 # used by lib.sh
POD_CIDR=10.244.206.0/23	# our daemons' pods (inside 10.244.200.0/21)
if ((QUICK)); then
	NS=(100); LAT_CONN=300; EPCHANGES=40; IPERF_T=1; EXECS=2000; TRACE_REPS=5
	START_PODS=10; MET_PODS=20; MET_SVCS=100; BW_RATES=(10M); BW_T=2; BW_REPS=3
else
	NS=(100 1000 10000 100000); LAT_CONN=2000; EPCHANGES=200; IPERF_T=3; EXECS=20000
	TRACE_REPS=5; START_PODS=50; MET_PODS=200; MET_SVCS=10000; BW_RATES=(10M 100M 1G)
	BW_T=6; BW_REPS=5
fi
# BENCH_BW_RATES="100M 1G" / BENCH_BW_REPS=N: a bandwidth run of another size
# (a full one holds the machine ~10 min)
[[ -n ${BENCH_BW_RATES:-} ]] && read -r -a BW_RATES <<<"$BENCH_BW_RATES"
BW_REPS=${BENCH_BW_REPS:-$BW_REPS}
# Sizes the kube-proxy layouts cannot be loaded at in this run's budget
# (see docs/benchmarks.md, "What could not be measured"):
IPT_PROG_MAX=10000	# iptables-restore of N x 10: quadratic past this
NFT_MAX=10000		# nft -f of N x 10 in one transaction: quadratic
IPT_LAT_BIG_EP=1	# beyond IPT_PROG_MAX: latency ruleset with 1 endpoint/service
ONLY=${BENCH_ONLY:-lb trace pods bw}
[[ -n ${BENCH_NS:-} ]] && read -ra NS <<<"$BENCH_NS"	# e.g. BENCH_NS="100 10000"
[[ -n ${BENCH_LAT_CONN:-} ]] && LAT_CONN=$BENCH_LAT_CONN
[[ -n ${BENCH_EXECS:-} ]] && EXECS=$BENCH_EXECS
REPS=${BENCH_REPS:-$REPS}	# investigation runs only: the report wants >= 5

# ---- set-up ---------------------------------------------------------------
if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then CG2=/sys/fs/cgroup; else CG2=/sys/fs/cgroup/unified; fi
[[ $(stat -fc %T "$CG2" 2>/dev/null) == cgroup2fs ]] || { echo "bench: no cgroup2 at $CG2" >&2; exit 1; }
B_DIR=$(mktemp -d /tmp/ptb-XXXXXX) || exit 1
B_CG=$CG2/ptb-$$
# shellcheck disable=SC2034 # restored by b_cleanup (the daemons turn forwarding on)
B_FWD0=$(sysctl -n net.ipv4.ip_forward)
RES=$B_DIR/results.jsonl
BIN=$B_DIR/bin
trap 'b_cleanup; exit $?' EXIT
trap 'b_log interrupted; exit 130' INT
trap 'b_log terminated; exit 143' TERM
mkdir -p "$B_CG/plain" "$B_CG/aux" "$BIN" || exit 1
: >"$RES"
T_START=$(date +%s)
b_log "QUICK=$QUICK sizes: N=${NS[*]} reps=$REPS; temp $B_DIR; cgroup $B_CG"

# podtrace's binaries, frozen for the run (the tree may be rebuilt meanwhile)
PTBIN=$B_DIR/pt
mkdir -p "$PTBIN" && cp "$BUILD/podtraced" "$BUILD/podtrace" "$BUILD/tests/echo-id" "$PTBIN/" || exit 1
# the bench's own tools, built here
INCG=$BIN/incg
incg_install "$INCG"
CC=${CC:-cc}
for t in connlat udpprobe forkexec; do
	$CC -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BIN/$t" "$HERE/$t.c" || exit 1
done
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -I"$ROOT/include" -o "$BIN/epchange" "$HERE/epchange.c" -lbpf || exit 1

# the environment, for the report
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel=$(uname -r)"
	echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "cpus=$(nproc)"
	echo "mem_gb=$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)"
	echo "iptables=$(iptables -V 2>/dev/null)"
	echo "nft=$(nft -v 2>/dev/null)"
	echo "iperf3=$(iperf3 -v 2>/dev/null | head -1)"
	echo "podtrace=$("$PTBIN/podtraced" --version 2>/dev/null)"
	echo "quick=$QUICK"
	echo "tcp_cc=$(sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null)"
	echo "root_progs=$(bpftool cgroup show "$CG2" 2>/dev/null | tail -n +2 | wc -l)"
	echo "lat_conn=$LAT_CONN"; echo "ep=$EP"; echo "iperf_t=$IPERF_T"; echo "bw_t=$BW_T"
	echo "met_pods=$MET_PODS"; echo "met_svcs=$MET_SVCS"; echo "execs=$EXECS"
} >"$B_DIR/env.txt"

# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "nan"}'; }
# kv KEY "k=v k=v": the value
kv() { local x; for x in $2; do [[ ${x%%=*} == "$1" ]] && { echo "${x#*=}"; return; }; done; echo nan; }

# ===========================================================================
# 1-4. Service load balancing: connect latency, throughput, programming
#      time, endpoint change, daemon memory; per N.
# ===========================================================================

# lb_conn NS CG TARGETS PICK: one connlat run, "k=v ..." on stdout
lb_conn() {
	timeout 600 nsenter --net="/run/netns/$1" -- "$BIN/connlat" --cgroup "$2" -n "$LAT_CONN" \
		--warmup 50 --pick "$4" --expect be:8080 --seed "$RANDOM" "$3" 2>>"$B_DIR/connlat.err"
}

# lb_check NS CG TARGETS PICK WHAT: every connect of a short run answered
lb_check() {
	local out
	out=$(timeout 60 nsenter --net="/run/netns/$1" -- "$BIN/connlat" --cgroup "$2" -n 50 \
		--warmup 0 --pick "$4" --expect be:8080 "$3" 2>&1)
	if [[ $(kv ok "$out") != 50 || $(kv bad "$out") != 0 || $(kv err "$out") != 0 ]]; then
		b_err "$5: backends did not all answer: $out"
		return 1
	fi
}

# lb_pt_cold N R: a fresh daemon, cold apply of N x EP; leaves it running
lb_pt_cold() {
	local n=$1 r=$2 d=lb$1-$2 t0 t1 hwm0 hwm flags=() rs
	if ((n > 10000)); then
		flags=(--max-services 131072 --max-frontends 131072 --max-backends 1100000)
	fi
	d_start "$d" --no-trace "${flags[@]}" || return 1
	hwm0=$(d_hwm "$d")
	t0=$(now_ns)
	if ! timeout 900 "$PTBIN/podtrace" --socket "${D_SOCK[$d]}" apply -f "$B_DIR/pt-$n.json" >"$B_DIR/apply-$d.out" 2>&1; then
		b_err "podtrace apply of $n services failed: $(grep -m3 -i error "$B_DIR/apply-$d.out")"
		return 1
	fi
	t1=$(now_ns)
	# the daemon writes its state behind the reply: once it answers again,
	# that is done, and its peak RSS includes it
	pt "$d" status >/dev/null 2>&1
	hwm=$(d_hwm "$d")
	rs=$(d_metrics "$d" | awk '/^podtrace_reconcile_duration_seconds_sum/ {print $2}')
	rec prog "svcs=$n rep=$r tool=pt wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b-a)/1e9}') reconcile_s=${rs:-nan}"
	rec mem "svcs=$n rep=$r hwm_kb=$hwm idle_hwm_kb=$hwm0 state_kb=$(du -sk "${D_STATE[$d]}" | cut -f1)"
}

# lb_kp_cold KIND N R: kube-proxy rules (ipt|nft) into a fresh netns
lb_kp_cold() {
	local kind=$1 n=$2 r=$3 ns=ptb-$1-$2-$3 file cmd out
	ns_add "$ns" || return 1
	if [[ $kind == ipt ]]; then file=$B_DIR/ipt-$n.txt; cmd=(iptables-restore); else file=$B_DIR/nft-$n.txt; cmd=(nft -f "$file"); fi
	/usr/bin/time -o "$B_DIR/$ns.time" -f "wall_s=%e rss_kb=%M" timeout 1800 \
		nsenter --net="/run/netns/$ns" -- "${cmd[@]}" <"$file" >/dev/null 2>"$B_DIR/$ns.err"
	out=$(tail -1 "$B_DIR/$ns.time")
	if [[ $out != wall_s=* ]] || grep -qi error "$B_DIR/$ns.err"; then
		b_err "$kind load of $n services failed: $(head -c 300 "$B_DIR/$ns.err") $out"
		return 1
	fi
	rec prog "svcs=$n rep=$r tool=$kind $out"
}

# kp_del NS: flush the rules here (synchronously) before the netns goes:
# the kernel tears a big ruleset down in a worker, which would run during
# the next measurement otherwise. iptables-nft tables are nf_tables too.
kp_del() {
	timeout 600 nsenter --net="/run/netns/$1" -- nft flush ruleset 2>/dev/null
	ns_del "$1"
}

lb_phase() {
	local n r i d mode order picks cgpt nsi nsn out have_ipt have_nft ok=1 li=0
	local first=${NS[0]}
	net_backend || return 1
	ns_add ptb-cd && net_link ptb-cd 0 || { b_err "client netns"; return 1; }
	python3 - "$B_DIR/backends.txt" <<'PY'
import ipaddress, sys
with open(sys.argv[1], "w") as f:
    for k in range(1, 1023):
        f.write("%s 8080\n" % ipaddress.IPv4Address(int(ipaddress.IPv4Address("10.244.200.0")) + k))
PY
	lb_check ptb-cd "$B_CG/plain" "$B_DIR/backends.txt" random "direct" || return 1

	# warm-up, not recorded: first use of nf_tables / nat / conntrack here
	python3 "$HERE/gen.py" ipt 10 1 "$B_DIR/ipt-w.txt" && python3 "$HERE/gen.py" nft 10 1 "$B_DIR/nft-w.txt"
	ns_add ptb-warm && in_ns ptb-warm iptables-restore <"$B_DIR/ipt-w.txt" && in_ns ptb-warm nft -f "$B_DIR/nft-w.txt"
	ns_del ptb-warm

	for n in "${NS[@]}"; do
		b_log "LB: N=$n: generating $n services x $EP endpoints"
		python3 "$HERE/gen.py" pt "$n" "$EP" "$B_DIR/pt-$n.json" || return 1
		python3 "$HERE/gen.py" targets "$n" "$B_DIR/targets-$n.txt" || return 1
		have_ipt=0 have_nft=0
		((n <= IPT_PROG_MAX)) && { python3 "$HERE/gen.py" ipt "$n" "$EP" "$B_DIR/ipt-$n.txt" || return 1; have_ipt=1; }
		((n <= NFT_MAX)) && { python3 "$HERE/gen.py" nft "$n" "$EP" "$B_DIR/nft-$n.txt" || return 1; have_nft=1; }

		# -- 3/4. cold programming + memory, interleaved (order rotates)
		for ((r = 1; r <= REPS; r++)); do
			b_log "LB: N=$n: cold programming, rep $r/$REPS"
			case $((r % 3)) in
			1) order="pt ipt nft" ;; 2) order="ipt nft pt" ;; *) order="nft pt ipt" ;;
			esac
			for mode in $order; do
				case $mode in
				pt) lb_pt_cold "$n" "$r" || return 1
				    ((r < REPS)) && d_stop "lb$n-$r" ;;
				ipt) ((have_ipt)) || continue
				     lb_kp_cold ipt "$n" "$r" || return 1
				     ((r < REPS)) && kp_del "ptb-ipt-$n-$r" ;;
				nft) ((have_nft)) || continue
				     lb_kp_cold nft "$n" "$r" || return 1
				     ((r < REPS)) && kp_del "ptb-nft-$n-$r" ;;
				esac
			done
		done
		d=lb$n-$REPS
		cgpt=${D_CG[$d]}/root/cli
		mkdir -p "$cgpt"
		nsi=ptb-ipt-$n-$REPS
		nsn=ptb-nft-$n-$REPS
		if ((!have_ipt)); then
			# past IPT_PROG_MAX: a latency-only ruleset with fewer endpoints
			b_log "LB: N=$n: iptables ruleset with $IPT_LAT_BIG_EP endpoint(s)/service for the latency runs"
			python3 "$HERE/gen.py" ipt "$n" "$IPT_LAT_BIG_EP" "$B_DIR/ipt-$n-lat.txt" || return 1
			ns_add "$nsi" || return 1
			/usr/bin/time -o "$B_DIR/$nsi.time" -f "wall_s=%e rss_kb=%M" timeout 1800 \
				nsenter --net="/run/netns/$nsi" -- iptables-restore <"$B_DIR/ipt-$n-lat.txt" 2>"$B_DIR/$nsi.err"
			out=$(tail -1 "$B_DIR/$nsi.time")
			[[ $out == wall_s=* ]] && { rec progbig "svcs=$n tool=ipt ep=$IPT_LAT_BIG_EP $out"; have_ipt=2; } ||
				b_warn "iptables latency ruleset for $n: $out $(head -c 200 "$B_DIR/$nsi.err")"
		fi
		# fresh link names each N: a deleted netns takes its veths lazily
		((have_ipt)) && { net_link "$nsi" $((li += 1)) || return 1; }
		((have_nft)) && { net_link "$nsn" $((li += 1)) || return 1; }

		# every path answers before anything is timed
		lb_check ptb-cd "$cgpt" "$B_DIR/targets-$n.txt" random "podtrace N=$n" || return 1
		((have_ipt)) && { lb_check "$nsi" "$B_CG/plain" "$B_DIR/targets-$n.txt" last "iptables N=$n" || return 1; }
		((have_nft)) && { lb_check "$nsn" "$B_CG/plain" "$B_DIR/targets-$n.txt" random "nftables N=$n" || return 1; }

		# -- 1. connect latency, interleaved
		for ((r = 1; r <= REPS; r++)); do
			b_log "LB: N=$n: connect latency, rep $r/$REPS"
			for mode in direct pt pt_last ipt ipt_first ipt_last nft nft_last; do
				case $mode in
				direct) out=$(lb_conn ptb-cd "$B_CG/plain" "$B_DIR/backends.txt" random) ;;
				pt) out=$(lb_conn ptb-cd "$cgpt" "$B_DIR/targets-$n.txt" random) ;;
				pt_last) out=$(lb_conn ptb-cd "$cgpt" "$B_DIR/targets-$n.txt" last) ;;
				ipt*) ((have_ipt)) || continue
				      picks=random; [[ $mode == ipt_first ]] && picks=first; [[ $mode == ipt_last ]] && picks=last
				      out=$(lb_conn "$nsi" "$B_CG/plain" "$B_DIR/targets-$n.txt" $picks) ;;
				nft*) ((have_nft)) || continue
				      picks=random; [[ $mode == nft_last ]] && picks=last
				      out=$(lb_conn "$nsn" "$B_CG/plain" "$B_DIR/targets-$n.txt" $picks) ;;
				esac
				if [[ $(kv bad "$out") != 0 || $(kv err "$out") != 0 ]]; then
					b_err "latency $mode N=$n: failed connects or wrong replies: $out"
					ok=0
				fi
				rec lat "svcs=$n rep=$r mode=$mode ep=$([[ $mode == ipt* && $have_ipt == 2 ]] && echo "$IPT_LAT_BIG_EP" || echo "$EP") $out"
			done
		done

		# -- 3b. one endpoint change until visible in the BPF map
		b_log "LB: N=$n: $EPCHANGES endpoint changes"
		i=$((n / 2))
		python3 "$HERE/gen.py" slice "$i" "$EP" "$EPCHANGES" "$B_DIR/ep-$n.reqs" || return 1
		d_metrics "$d" >"$B_DIR/m0-$n.txt"
		# The poller and the daemon on different CPUs: a poller woken on the
		# daemon's CPU delays it by a scheduler slice (~3 ms here), which
		# would be measured instead of the daemon.
		pin=()
		if (($(nproc) >= 2)); then
			taskset -pc 0 "${D_PID[$d]}" >/dev/null && pin=(taskset -c $(($(nproc) - 1)))
		fi
		out=$(timeout 300 "${pin[@]}" "$BIN/epchange" --socket "${D_SOCK[$d]}" --bpffs "${D_BPFFS[$d]}" \
			--vip "$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import gen; print(gen.vip($i))")" \
			--port 80 --gap-ms 5 "$B_DIR/ep-$n.reqs" 2>&1)
		((${#pin[@]})) && taskset -pc "0-$(($(nproc) - 1))" "${D_PID[$d]}" >/dev/null
		d_metrics "$d" >"$B_DIR/m1-$n.txt"
		if [[ $(kv n "$out") != "$EPCHANGES" || $(kv errors "$out") != 0 ]]; then
			b_err "endpoint changes N=$n: $out"
			ok=0
		fi
		rec epchg "svcs=$n $out $(python3 "$HERE/ptctl.py" hist "$B_DIR/m0-$n.txt" "$B_DIR/m1-$n.txt" podtrace_endpoint_programming_latency_seconds | sed 's/^/hist_/; s/ / hist_/g')"

		# -- 2. established-connection throughput through a VIP (smallest N)
		if [[ $n == "$first" ]]; then
			for ((r = 1; r <= REPS; r++)); do
				b_log "LB: throughput, rep $r/$REPS"
				for mode in direct pt ipt nft; do
					case $mode in
					direct) out=$(timeout 60 "$INCG" "$B_CG/plain" nsenter --net=/run/netns/ptb-cd -- iperf3 -c 10.244.203.250 -p 5201 -t "$IPERF_T" -J 2>&1) ;;
					pt) out=$(timeout 60 "$INCG" "$cgpt" nsenter --net=/run/netns/ptb-cd -- iperf3 -c 10.111.255.1 -p 5201 -t "$IPERF_T" -J 2>&1) ;;
					ipt) ((have_ipt)) || continue
					     out=$(timeout 60 "$INCG" "$B_CG/plain" nsenter --net="/run/netns/$nsi" -- iperf3 -c 10.111.255.1 -p 5201 -t "$IPERF_T" -J 2>&1) ;;
					nft) ((have_nft)) || continue
					     out=$(timeout 60 "$INCG" "$B_CG/plain" nsenter --net="/run/netns/$nsn" -- iperf3 -c 10.111.255.1 -p 5201 -t "$IPERF_T" -J 2>&1) ;;
					esac
					out=$(python3 -c '
import json, sys
try:
    d = json.loads(sys.stdin.read())
    print("gbps=%.3f retr=%d" % (d["end"]["sum_received"]["bits_per_second"] / 1e9, d["end"]["sum_sent"].get("retransmits", 0)))
except Exception as e:
    print("gbps=nan retr=nan")' <<<"$out")
					[[ $(kv gbps "$out") == nan ]] && { b_err "iperf3 $mode failed"; ok=0; }
					rec tput "svcs=$n rep=$r mode=$mode $out"
				done
			done
		fi

		d_stop "$d"
		((have_ipt)) && kp_del "$nsi"
		((have_nft)) && kp_del "$nsn"
		rm -f "$B_DIR"/{pt,ipt,nft}-"$n"*.{json,txt} "$B_DIR/ipt-$n-lat.txt"
	done
	((ok))
}

# ===========================================================================
# 5. Tracing overhead: fork+exec of /bin/true in a pod; podtrace off / on,
#    execsnoop on. One daemon restarted between modes (pods survive it).
# ===========================================================================
trace_phase() {
	local d=trace r mode out cg st0 st1 espid lost got ok=1 i prev cur
	d_start "$d" --no-trace || return 1
	python3 "$HERE/ptctl.py" --socket "${D_SOCK[$d]}" batch --count 1 --prefix storm --cmd "sleep 100000" || { b_err "storm pod"; return 1; }
	d_track_pods "$d"
	cg=$B_CG/$d/root/podtrace/pod$(pt "$d" get pod storm000 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["uid"])')/c
	[[ -d $cg ]] || { b_err "storm pod cgroup $cg missing"; return 1; }
	if ! mountpoint -q /sys/kernel/tracing; then
		mount -t tracefs tracefs /sys/kernel/tracing && B_TRACEFS=1
	fi
	for ((r = 1; r <= TRACE_REPS; r++)); do
		for mode in off pt execsnoop; do
			if [[ $mode == execsnoop ]] && ! command -v execsnoop >/dev/null; then
				((r == 1)) && b_warn "execsnoop (libbpf-tools) not installed: its runs are skipped"
				continue
			fi
			b_log "tracing: rep $r/$TRACE_REPS, $mode"
			case $mode in
			off) d_restart "$d" --no-trace || return 1 ;;
			pt) d_restart "$d" || return 1 ;;
			execsnoop)
				d_restart "$d" --no-trace || return 1
				# -c: the pod's cgroup, as podtrace only traces pods
				"$INCG" "$B_CG/aux" stdbuf -oL execsnoop -c "${cg%/*}" >"$B_DIR/es-$r.out" 2>"$B_DIR/es-$r.err" &
				espid=$!
				poll_until 15 grep -q PCOMM "$B_DIR/es-$r.out" || { b_err "execsnoop did not start: $(head -c 300 "$B_DIR/es-$r.err")"; ok=0; } ;;
			esac
			st0=$(pt "$d" status -o json 2>/dev/null)
			out=$(timeout 600 "$PTBIN/podtrace" --socket "${D_SOCK[$d]}" exec storm000 -- "$BIN/forkexec" --workers 2 "$EXECS" 2>&1 | tail -1)
			[[ $out == execs=* && $(kv failed "$out") == 0 ]] || { b_err "forkexec ($mode): $out"; ok=0; }
			lost=0 got=nan
			case $mode in
			pt)
				# wait until the daemon has drained the ring buffer
				prev=-1
				for ((i = 0; i < 100; i++)); do
					cur=$(pt "$d" status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"]["received"])')
					[[ $cur == "$prev" ]] && break
					prev=$cur
					sleep 0.2
				done
				st1=$(pt "$d" status -o json)
				read -r got lost <<<"$(python3 -c '
import json, sys
a = json.loads(sys.argv[1]) if sys.argv[1] else {"events": {}}
b = json.loads(sys.argv[2])
ea, eb = a.get("events", {}), b["events"]
print(eb.get("byType", {}).get("exec", 0) - ea.get("byType", {}).get("exec", 0),
      eb.get("lostKernel", 0) - ea.get("lostKernel", 0) + eb.get("missedKernel", 0) - ea.get("missedKernel", 0))' "$st0" "$st1")" ;;
			execsnoop)
				sleep 1
				kill -INT "$espid" 2>/dev/null; wait "$espid" 2>/dev/null
				got=$(grep -c 'true' "$B_DIR/es-$r.out")
				lost=$(grep -oiE 'lost [0-9]+' "$B_DIR/es-$r.err" | awk '{s+=$2} END {print s+0}')
				[[ $got -gt 0 ]] || { b_err "execsnoop saw nothing: $(head -c 300 "$B_DIR/es-$r.err")"; ok=0; } ;;
			esac
			rec trace "rep=$r mode=$mode $out seen=$got lost=$lost"
		done
	done
	d_restart "$d" --no-trace >/dev/null 2>&1
	d_stop "$d"
	if [[ -n $B_TRACEFS ]]; then umount /sys/kernel/tracing && B_TRACEFS=; fi
	((ok))
}

# ===========================================================================
# 7-8. Pod startup, then /metrics with MET_PODS pods and MET_SVCS services.
# ===========================================================================
pods_phase() {
	local d=pods out t0 t1 r i ok=1
	d_start "$d" || return 1
	d_metrics "$d" >"$B_DIR/ps0.txt"
	b_log "pods: $START_PODS pods, create -> Ready, one after the other"
	python3 "$HERE/ptctl.py" --socket "${D_SOCK[$d]}" startup --count "$START_PODS" --prefix start \
		>"$B_DIR/startup.txt" 2>"$B_DIR/startup.err" || { b_err "pod startup: $(tail -3 "$B_DIR/startup.err")"; ok=0; }
	d_track_pods "$d"
	i=0
	while read -r out; do
		i=$((i + 1))
		rec startup "pod=$i $out"
	done <"$B_DIR/startup.txt"
	d_metrics "$d" >"$B_DIR/ps1.txt"
	rec startuphist "$(python3 "$HERE/ptctl.py" hist "$B_DIR/ps0.txt" "$B_DIR/ps1.txt" podtrace_pod_startup_duration_seconds)"

	b_log "metrics: $MET_PODS pods"
	python3 "$HERE/ptctl.py" --socket "${D_SOCK[$d]}" batch --count $((MET_PODS - START_PODS)) \
		--prefix met >/dev/null 2>"$B_DIR/batch.err" || { b_err "metrics pods: $(tail -3 "$B_DIR/batch.err")"; d_track_pods "$d"; return 1; }
	d_track_pods "$d"
	for ((r = 1; r <= REPS; r++)); do
		out=$(curl -s -o "$B_DIR/scrape.txt" -w 'time_s=%{time_total} bytes=%{size_download}' "http://127.0.0.1:${D_MPORT[$d]}/metrics")
		rec metrics "rep=$r state=pods $out series=$(grep -vc '^#' "$B_DIR/scrape.txt")"
	done
	b_log "metrics: + $MET_SVCS services x $EP endpoints"
	python3 "$HERE/gen.py" pt "$MET_SVCS" "$EP" "$B_DIR/met-svcs.json" &&
		timeout 600 "$PTBIN/podtrace" --socket "${D_SOCK[$d]}" apply -f "$B_DIR/met-svcs.json" >/dev/null ||
		{ b_err "metrics services apply"; return 1; }
	for ((r = 1; r <= REPS; r++)); do
		out=$(curl -s -o "$B_DIR/scrape.txt" -w 'time_s=%{time_total} bytes=%{size_download}' "http://127.0.0.1:${D_MPORT[$d]}/metrics")
		rec metrics "rep=$r state=pods+svcs $out series=$(grep -vc '^#' "$B_DIR/scrape.txt")"
	done
	if command -v promtool >/dev/null; then
		promtool check metrics <"$B_DIR/scrape.txt" >"$B_DIR/promtool.txt" 2>&1 && out=ok || out=fail
		rec promtool "result=$out"
	fi
	d_stop "$d"
	((ok))
}

# ===========================================================================
# 6. Bandwidth: podtrace's cgroup_skb limiter vs tc tbf as the CNI bandwidth
#    plugin sets it up, pod egress, at each rate.
# ===========================================================================
bw_phase() {
	local d=bw rate r mode out pod lim veth ifb=ptb-ifb0 p burst lbytes ok=1 idle
	local srv=10.244.205.2
	ns_add ptb-bws || return 1
	B_LINKS+=(ptb-bws)
	ip link add ptb-bws type veth peer name ptb-bws0 netns ptb-bws &&
		ip addr add 10.244.205.1/30 dev ptb-bws && ip link set ptb-bws up &&
		ip -n ptb-bws addr add "$srv/30" dev ptb-bws0 && ip -n ptb-bws link set ptb-bws0 up &&
		ip -n ptb-bws route add default via 10.244.205.1 || { b_err "bw server netns"; return 1; }
	"$INCG" "$B_CG/aux" nsenter --net=/run/netns/ptb-bws -- iperf3 -s -p 5301 >"$B_DIR/iperf-bws.log" 2>&1 &
	"$INCG" "$B_CG/aux" nsenter --net=/run/netns/ptb-bws -- "$PTBIN/echo-id" --id bws --port 9000 \
		--ready-file "$B_DIR/bws.ready" >"$B_DIR/echo-bws.log" 2>&1 &
	poll_until 5 test -e "$B_DIR/bws.ready" || { b_err "echo-id in ptb-bws"; return 1; }
	poll_until 5 eval "in_ns ptb-bws ss -Hltn 'sport = :5301' | grep -q ." || { b_err "iperf3 in ptb-bws"; return 1; }

	d_start "$d" --no-trace || return 1
	for rate in "${BW_RATES[@]}"; do
		python3 "$HERE/ptctl.py" --socket "${D_SOCK[$d]}" batch --count 1 --prefix "bwpt-${rate,,}-" \
			--annotation "kubernetes.io/egress-bandwidth=$rate" >/dev/null || { b_err "bw pod $rate"; return 1; }
	done
	python3 "$HERE/ptctl.py" --socket "${D_SOCK[$d]}" batch --count 1 --prefix bwtbf- >/dev/null || { b_err "tbf pod"; return 1; }
	d_track_pods "$d"
	veth=ptv$(pt "$d" get pod bwtbf-000 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["uid"][:8])')
	ip link show "$veth" >/dev/null 2>&1 || { b_err "veth $veth of the tbf pod"; return 1; }
	# the CNI bandwidth plugin's egress set-up (ifb_creator.go): ingress qdisc
	# on the host veth, u32 match-all mirred redirect to an ifb, tbf on the ifb
	B_LINKS+=("$ifb")
	ip link add "$ifb" type ifb && ip link set "$ifb" mtu "$(cat "/sys/class/net/$veth/mtu")" up &&
		tc qdisc add dev "$veth" handle ffff: ingress &&
		tc filter add dev "$veth" parent ffff: protocol all prio 1 u32 match u32 0 0 \
			flowid 1:1 action mirred egress redirect dev "$ifb" || { b_err "ifb set-up"; return 1; }

	# bwrun POD: probe + iperf3 in the pod, "k=v ..." on stdout
	bwrun() {
		local p=$1 tag=$2
		timeout $((BW_T + 45)) "$PTBIN/podtrace" --socket "${D_SOCK[$d]}" exec "$p" -- sh -c \
			"'$BIN/udpprobe' --interval-ms 10 --duration-s $((BW_T + 2)) --skip-s 2.5 '$srv' 9000 >'$B_DIR/probe-$tag' &
			 iperf3 -c '$srv' -p 5301 -t $BW_T -O 2 -J --get-server-output >'$B_DIR/iperf-$tag.json' 2>&1; wait" >/dev/null 2>&1
		python3 - "$B_DIR/iperf-$tag.json" "$B_DIR/probe-$tag" <<'PY'
import json, sys
import statistics
try:
    d = json.load(open(sys.argv[1]))
    bps = d["end"]["sum_received"]["bits_per_second"]
    retr = d["end"]["sum_sent"].get("retransmits", 0)
except Exception:
    bps, retr = "nan", "nan"
import re
try:  # the receiver's 1-s intervals after the omitted ones (the server's text)
    mult = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
    # whole 1-s intervals only: with -O the server also prints odd partial ones
    iv = [float(m.group(3)) * mult[m.group(4)] for m in re.finditer(
        r"^\[\s*\d+\]\s+([\d.]+)-([\d.]+)\s+sec\s+[\d.]+ \w?Bytes\s+([\d.]+) ([KMG]?)bits/sec\s*$",
        d["server_output_text"], re.M) if 0.9 <= float(m.group(2)) - float(m.group(1)) <= 1.1]
    steady, worst = statistics.median(iv), min(iv)
except Exception:
    steady, worst = "nan", "nan"
p = open(sys.argv[2]).read().split() if sys.argv[2] else []
print("bps=%s steady_bps=%s worst_bps=%s retr=%s %s" % (bps, steady, worst, retr, " ".join(x.replace("_us", "_load_us") if "_us" in x else x for x in p)))
PY
	}
	for rate in "${BW_RATES[@]}"; do
		lim=$(python3 -c "print(int(float('${rate%?}') * {'K':1e3,'M':1e6,'G':1e9}['${rate: -1}']))")
		pod=bwpt-${rate,,}-000
		for ((r = 1; r <= BW_REPS; r++)); do
			for mode in pt tbf_cni tbf_matched; do
				b_log "bandwidth: $rate rep $r/$BW_REPS $mode"
				case $mode in
				pt) p=$pod ;;
				tbf_cni)
					# containerd passes EgressBurst = MaxUint32 bits; the plugin's
					# buffer() / limit() arithmetic (uint32 ticks) as in ifb_creator.go
					read -r burst lbytes <<<"$(python3 - "$lim" <<'PY'
import sys
rate = int(sys.argv[1]) // 8                 # bytes/s
burst = (2**32 - 1) // 8                     # burstInBits / 8
tick = 1000 / 64                             # /proc/net/psched: t2us / us2t
us = int(burst * 1e6 / rate) & 0xffffffff    # uint32(...)
ticks = int(us * tick) & 0xffffffff          # time2Tick: uint32(float64)
eff = int(ticks / tick * rate / 1e6)         # the bytes tc needs for those ticks
limit = (int(rate * 25000 / 1e6) + burst) & 0xffffffff
print(max(eff, 65536), limit)
PY
)"
					tc qdisc replace dev "$ifb" root handle 1: tbf rate "${lim}bit" burst "$burst" limit "$lbytes" || { b_err "tbf $rate"; return 1; }
					p=bwtbf-000 ;;
				tbf_matched)
					# the same bucket depth as podtrace's (250 ms at the rate, >= 128 KiB)
					burst=$(( lim / 8 / 4 > 131072 ? lim / 8 / 4 : 131072 ))
					lbytes=$(( lim / 8 * 25 / 1000 + burst ))
					tc qdisc replace dev "$ifb" root handle 1: tbf rate "${lim}bit" burst "$burst" limit "$lbytes" || { b_err "tbf $rate"; return 1; }
					p=bwtbf-000 ;;
				esac
				idle=$(timeout 20 "$PTBIN/podtrace" --socket "${D_SOCK[$d]}" exec "$p" -- "$BIN/udpprobe" --interval-ms 10 --duration-s 1 "$srv" 9000 2>/dev/null)
				out=$(bwrun "$p" "$mode-$rate-$r")
				[[ $(kv bps "$out") == nan ]] && { b_err "iperf3 $mode $rate failed: $(head -c 300 "$B_DIR/iperf-$mode-$rate-$r.json")"; ok=0; }
				rec bw "rate=$rate limit_bps=$lim rep=$r mode=$mode $out idle_p50_us=$(kv p50_us "$idle") idle_p99_us=$(kv p99_us "$idle") tbf_burst=${burst:-0}"
				burst=
			done
		done
	done
	d_stop "$d"
	ip link del "$ifb" 2>/dev/null
	((ok))
}

# ===========================================================================
phase() {
	local name=$1 t0
	t0=$(date +%s)
	shift
	[[ " $ONLY " == *" $name "* ]] || return 0
	b_log "=== phase $name"
	if ! "$@"; then
		b_err "phase $name did not complete"
	fi
	rec phase "name=$name seconds=$(($(date +%s) - t0))"
}

phase lb lb_phase
phase trace trace_phase
phase pods pods_phase
phase bw bw_phase

rec total "seconds=$(($(date +%s) - T_START)) errors=${#B_ERRS[@]}"
if ((QUICK)); then OUT=${BENCH_OUT:-$BUILD/bench}; else OUT=${BENCH_OUT:-$ROOT/docs}; fi
mkdir -p "$OUT/bench" "$BUILD/bench"
# the raw results stay next to the build, not in docs/
cp "$RES" "$BUILD/bench/results-$( ((QUICK)) && echo quick || echo full).jsonl" 2>/dev/null
cp "$B_DIR/env.txt" "$BUILD/bench/env-$( ((QUICK)) && echo quick || echo full).txt" 2>/dev/null
python3 "$HERE/report.py" --results "$RES" --env "$B_DIR/env.txt" --out "$OUT" \
	--errors "$(printf '%s\n' "${B_ERRS[@]}")" || b_err "report"
b_log "report: $OUT/benchmarks.md ($(($(date +%s) - T_START)) s)"
if ((${#B_ERRS[@]})); then
	b_log "harness errors: ${#B_ERRS[@]}"
	printf '  %s\n' "${B_ERRS[@]}" >&2
	exit 1
fi
exit 0
