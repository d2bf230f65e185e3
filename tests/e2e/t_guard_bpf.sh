#!/usr/bin/env bash
# The guard plane on a pod cgroup, without the daemon: build/tests/guardctl
# drives user/daemon/guard.c over the pinned maps and links.
#  (a) egress limit: a real iperf3 transfer from a container cgroup holds
#      10 and 50 Mbit/s within 10%, paced by TCP (sockops sets the
#      connection's max pacing rate): no refusal, no retransmit; UDP is
#      policed (refusals counted); re-attaching re-uses the pinned links;
#  (b) ingress limit (iperf3 -R): the same;
#  (c) the device allow-list: a block device is EPERM, /dev/null etc. work;
#  (d) the pod counters match iperf3's byte counts (5%);
#  (e) detach removes the links: traffic is unlimited again.
# All traffic stays between two test netns pods.
source "$(dirname "$0")/lib.sh"
t_init guard-bpf
command -v iperf3 >/dev/null || t_bail "iperf3 missing (make deps)"
GC=$BUILD/tests/guardctl
[[ -x $GC ]] || t_bail "$GC missing (make)"

POD=$T_CG/pod		# the pod cgroup
CTR=$POD/c1		# a container cgroup in it
ID=7			# pod id: index into pt_bw / pt_pod_stats
KEY=pod-uid-7		# pin dir name: links/pods/$KEY
LINKS=$T_BPFFS/links/pods/$KEY
mkdir -p "$CTR" || t_bail "mkdir $CTR"
t_defer "'$GC' detach '$T_BPFFS' '$KEY'"
mk_pod srv 61; mk_pod cli 62
SRV=$(pod_ip srv)

# in_cg CGDIR cmd...: run cmd as a member of the cgroup (host netns).
in_cg() { sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$@"; }

# gctl ARGS...: guardctl against this test's bpffs.
gctl() { "$GC" "$1" "$T_BPFFS" "${@:2}"; }

# stat_of STATS KEY: a value of `guardctl stats`.
stat_of() { sed -n "s/^$2=//p" <<<"$1"; }

# jq_ FILE EXPR: a number from iperf3's JSON (d = the document).
jq_() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(eval(sys.argv[2])))' "$1" "$2" 2>/dev/null || echo none
}

# xfer NAME IPERF3_ARGS...: a fresh one-shot iperf3 server in pod srv and the
# client in the container cgroup, in pod cli's netns. JSON in $T_DIR/NAME.json.
# T_TCP_CC=cubic (etc.) overrides the system's TCP congestion control.
_PORT=5300
xfer() {
	local name=$1 port=$((++_PORT))
	shift
	bg_in_pod srv iperf3 -s -1 -B "$SRV" -p $port >"$T_DIR/$name-srv.log" 2>&1
	poll_until 5 eval "in_pod srv ss -Hltn 'sport = :$port' | grep -q ." ||
		t_bail "iperf3 server for $name did not start"
	# the client's TCP state 1 s in (ss -ti: pacing rate, retransmits)
	(sleep 1 && in_pod cli ss -tin "dst $SRV" >"$T_DIR/$name-ss.txt" 2>&1) &
	in_cg "$CTR" nsenter --net="/run/netns/$(pod_ns cli)" -- \
		iperf3 -c "$SRV" -p $port -J ${T_TCP_CC:+-C "$T_TCP_CC"} "$@" \
		>"$T_DIR/$name.json" 2>&1
	wait $!
	if [[ $(jq_ "$T_DIR/$name.json" 'd["end"]["sum_received"]["bytes"]') == none ]]; then
		head -c 2000 "$T_DIR/$name.json" | sed 's/^/#   /'
		fail "$name: iperf3 failed"
		return 1
	fi
}

# rate_ok NAME LIMIT_MBIT: sum_received within 10% of the limit.
rate_ok() {
	local bps kbit lim=$(($2 * 1000))

	bps=$(jq_ "$T_DIR/$1.json" 'd["end"]["sum_received"]["bits_per_second"]')
	kbit=$((bps / 1000))
	t_log "$1: $(awk -v k="$kbit" -v l="$lim" 'BEGIN { printf "%.2f Mbit/s (%+.1f%% of the limit)", k / 1000, (k / l - 1) * 100 }')"
	expect_ge "$kbit" $((lim * 90 / 100)) "$1: >= 90% of $2 Mbit/s ($kbit kbit/s)"
	expect_le "$kbit" $((lim * 110 / 100)) "$1: <= 110% of $2 Mbit/s ($kbit kbit/s)"
}

# within5 A B DESC: A within 5% of B (B > 0).
within5() {
	local a=$1 b=$2

	if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]] && ((b > 0 && a * 100 >= b * 95 && a * 100 <= b * 105)); then
		ok "$3 ($a vs $b)"
	else
		fail "$3 ($a vs $b)"
	fi
}

link_id() { bpftool link show pinned "$LINKS/$1" 2>/dev/null | sed -n 's/^\([0-9]*\):.*/\1/p'; }
n_progs() { bpftool cgroup show "$POD" 2>/dev/null | grep -c guard_; }

# ---- (a) egress, (d) counters ------------------------------------------------------------
gctl attach "$KEY" "$POD" $ID 10M 0 || t_bail "guardctl attach"
for l in egress ingress dev sockops; do
	[[ -e $LINKS/$l ]] && ok "link $l pinned" || fail "link $l pinned at $LINKS/$l"
done
expect_eq "$(n_progs)" 4 "4 programs attached to the pod cgroup"
ids=$(for l in egress ingress dev sockops; do link_id $l; done)

gctl reset $ID
xfer eg10 -t 4 && rate_ok eg10 10
st=$(gctl stats $ID)
t_log "$(tr '\n' ' ' <<<"$st")"
within5 "$(stat_of "$st" bytes_egress)" "$(jq_ "$T_DIR/eg10.json" 'd["end"]["sum_received"]["bytes"]')" \
	"eg10: bytes_egress matches the bytes iperf3 received"
# paced by TCP: the policer has nothing to refuse, TCP nothing to resend
expect_le "$(stat_of "$st" drops_bw_egress)" 2 "eg10: paced, (almost) nothing refused (drops_bw_egress)"
expect_le "$(jq_ "$T_DIR/eg10.json" 'd["end"]["sum_sent"]["retransmits"]')" 2 "eg10: paced, no retransmits"
# ss -tin: "pacing_rate <current>bps/<max>bps"; max = 10M x 1448 / (1448 + 52)
maxpace=$(sed -n 's|.*pacing_rate [0-9]*bps/\([0-9]*\)bps.*|\1|p' "$T_DIR/eg10-ss.txt" | tail -1)
t_log "eg10: max pacing rate ${maxpace:-none} bit/s"
expect_ge "${maxpace:-0}" 9500000 "eg10: the connection's max pacing rate is set (the limit less the headers)"
expect_le "${maxpace:-0}" 9700000 "eg10: ... and not above it"

# UDP is not paced: the policer holds it and counts its refusals
gctl reset $ID
xfer eg10u -u -b 30M -t 4 && rate_ok eg10u 10
st=$(gctl stats $ID)
t_log "$(tr '\n' ' ' <<<"$st")"
expect_ge "$(stat_of "$st" drops_bw_egress)" 1 "eg10u: UDP refusals counted (drops_bw_egress)"

# again with 50M: adopts the pinned links, swaps the programs in
gctl attach "$KEY" "$POD" $ID 50M 0 || t_bail "guardctl re-attach"
expect_eq "$(for l in egress ingress dev sockops; do link_id $l; done)" "$ids" "re-attach keeps the pinned links (same link ids)"
expect_eq "$(n_progs)" 4 "still 4 programs attached (not 8)"
gctl reset $ID
xfer eg50 -t 4 && rate_ok eg50 50
st=$(gctl stats $ID)
t_log "$(tr '\n' ' ' <<<"$st")"

within5 "$(stat_of "$st" bytes_egress)" "$(jq_ "$T_DIR/eg50.json" 'd["end"]["sum_received"]["bytes"]')" \
	"eg50: bytes_egress matches the bytes iperf3 received"
b=$(stat_of "$st" bytes_egress) p=$(stat_of "$st" packets_egress)
expect_ge "$p" $((b / 1600)) "eg50: packets_egress counts wire packets ($p for $b bytes)"
expect_ge "$(stat_of "$st" bytes_ingress)" 1 "eg50: the ACKs are counted as ingress"

# ---- (b) ingress, (d) counters ---------------------------------------------
# -n (4 s worth): the sender stops at exactly that many bytes, so the
# counter can be compared (with -t, data queued at the sender keeps
# arriving after iperf3 stops counting).
for lim in 10 50; do
	gctl attach "$KEY" "$POD" $ID 0 ${lim}M || t_bail "guardctl attach (ingress)"
	gctl reset $ID
	n=$((lim * 4 * 1000000 / 8))
	xfer in$lim -R -n $n || continue
	rate_ok in$lim $lim
	st=$(gctl stats $ID)
	t_log "$(tr '\n' ' ' <<<"$st")"
	expect_ge "$(stat_of "$st" drops_bw_ingress)" 1 "in$lim: policer drops counted (drops_bw_ingress)"
	within5 "$(stat_of "$st" bytes_ingress)" "$(jq_ "$T_DIR/in$lim.json" 'd["end"]["sum_received"]["bytes"]')" \
		"in$lim: bytes_ingress matches the bytes iperf3 received"
	b=$(stat_of "$st" bytes_ingress) p=$(stat_of "$st" packets_ingress)
	expect_ge "$p" $((b / 1600)) "in$lim: packets_ingress counts wire packets ($p for $b bytes)"
	expect_ge "$(stat_of "$st" packets_egress)" 1 "in$lim: the ACKs are counted as egress"
done

# ---- (c) devices -------------------------------------------------------------
# a block device root can read outside the pod: /dev/vda, else the first one
blk=
for b in /dev/vda $(find /dev -maxdepth 1 -type b | sort); do
	[[ -b $b ]] && head -c1 "$b" >/dev/null 2>&1 && { blk=$b; break; }
done
[[ -n $blk ]] || t_bail "no block device under /dev that root can read"
gctl reset $ID
out=$(in_cg "$POD" head -c1 "$blk" 2>&1 >/dev/null)
expect_match "$out" "Operation not permitted" "pod: reading $blk is refused (EPERM)"
out=$(in_cg "$CTR" head -c1 /dev/kmsg 2>&1 >/dev/null)
expect_match "$out" "Operation not permitted" "container: /dev/kmsg (char 1:11) is refused"
in_cg "$POD" head -c1 /dev/null && ok "pod: /dev/null opens" || fail "pod: /dev/null opens"
expect_eq "$(in_cg "$POD" dd if=/dev/zero bs=1 count=1 2>/dev/null | wc -c)" 1 "pod: dd from /dev/zero works"
expect_eq "$(in_cg "$CTR" head -c4 /dev/urandom | wc -c)" 4 "container: /dev/urandom works"
# mknod of any device is allowed (runc's "c *:* m" and "b *:* m"), using it is not
mm=$(printf '%d %d' "0x$(stat -c %t "$blk")" "0x$(stat -c %T "$blk")")
# shellcheck disable=SC2086 # major minor
in_cg "$POD" mknod "$T_DIR/blk" b $mm && ok "pod: mknod of a block device is allowed" ||
	fail "pod: mknod of a block device is allowed"
out=$(in_cg "$POD" head -c1 "$T_DIR/blk" 2>&1 >/dev/null)
expect_match "$out" "Operation not permitted" "pod: ... but opening the node is refused"
st=$(gctl stats $ID)
expect_ge "$(stat_of "$st" dev_denied)" 3 "dev_denied counts the refusals ($(stat_of "$st" dev_denied))"
head -c1 "$blk" >/dev/null 2>&1 && ok "outside the pod $blk still reads" || fail "outside the pod $blk still reads"

# ---- a pod cgroup re-created under the same key: the stale pins are replaced
rmdir "$CTR" "$POD" && mkdir -p "$CTR" || t_bail "re-create $POD"
gctl attach "$KEY" "$POD" $ID 10M 10M || t_bail "guardctl attach (new cgroup)"
new_ids=$(for l in egress ingress dev sockops; do link_id $l; done)
[[ $new_ids != "$ids" && $(wc -w <<<"$new_ids") == 4 ]] && ok "new cgroup: stale links replaced" ||
	fail "new cgroup: stale links replaced (old: $ids, now: $new_ids)"
expect_eq "$(n_progs)" 4 "new cgroup: 4 programs attached"
out=$(in_cg "$POD" head -c1 "$blk" 2>&1 >/dev/null)
expect_match "$out" "Operation not permitted" "new cgroup: the device list applies"

# ---- (e) detach ------------------------------------------------------------------
gctl detach "$KEY" || fail "guardctl detach"
[[ -e $LINKS ]] && fail "detach: $LINKS removed" || ok "detach: $LINKS removed"
expect_eq "$(n_progs)" 0 "detach: no program left on the pod cgroup"
out=$(in_cg "$POD" head -c1 "$blk" 2>&1 >/dev/null) && ok "detach: $blk readable in the pod again" ||
	fail "detach: $blk readable in the pod again: $out"
for d in eg in; do
	[[ $d == in ]] && set -- -R || set --
	xfer free-$d -t 2 "$@" || continue
	mbit=$(($(jq_ "$T_DIR/free-$d.json" 'd["end"]["sum_received"]["bits_per_second"]') / 1000000))
	expect_ge "$mbit" 100 "detach: $d unlimited again ($mbit Mbit/s, the limit was 10)"
done
gctl detach "$KEY" && ok "detach again: nothing to do, no error" || fail "detach is idempotent"
t_done
