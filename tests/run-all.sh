#!/usr/bin/env bash
# `make test`: unit tests, then kernel end-to-end tests, then a check that
# nothing was left behind. The last line is the total.
set -u
cd "$(dirname "$0")/.." || exit 1
[[ $EUID -eq 0 ]] || { echo "make test must run as root (BPF, cgroups, netns)" >&2; exit 1; }
rc=0
unit_out=$(bash tests/run-unit.sh 2>&1); urc=$?
echo "$unit_out"
up=$(grep -oE '\[  PASSED  \] [0-9]+' <<<"$unit_out" | awk '{s+=$4} END {print s+0}')
uf=$(grep -oE '\[  FAILED  \] [0-9]+ test' <<<"$unit_out" | awk '{s+=$4} END {print s+0}')
[[ $urc -ne 0 && $uf -eq 0 ]] && uf=1
e2e_out=$(bash tests/run-e2e.sh 2>&1); erc=$?
echo "$e2e_out"
line=$(tail -1 <<<"$e2e_out")
ep=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+'); ef=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
[[ $erc -ne 0 && ${ef:-0} -eq 0 ]] && ef=1
# the bench harness at its smallest size: checks that it works, not speed
echo "=== bench: make bench QUICK=1"
bench_out=$(QUICK=1 timeout 600 bash tools/bench/run.sh 2>&1); brc=$?
echo "$bench_out" | tail -25 | sed 's/^/    /'
bp=0 bf=0
if [[ $brc -eq 0 ]]; then bp=1; else bf=1; echo "    bench harness failed (exit $brc)"; fi
# nothing may be left behind by the suite
left=$(ip netns list 2>/dev/null | grep -cE '^(pt-[0-9]|ptp-|ptb-)' ; true)
lv=$(ip -o link show 2>/dev/null | grep -cE ': (ptv|pth)' ; true)
lp=$(pgrep -x podtraced | wc -l)
ls_=$(pgrep -x pt-shim | wc -l)
lb=$(ls /sys/fs/bpf 2>/dev/null | grep -cE '^(pt-test|ptb-)' ; true)
lc=$(ls -d /sys/fs/cgroup/*/pt-test-* /sys/fs/cgroup/*/ptb-* 2>/dev/null | wc -l)
leak=0
if [[ $left -ne 0 || $lv -ne 0 || $lp -ne 0 || $ls_ -ne 0 || $lb -ne 0 || $lc -ne 0 ]]; then
	echo "LEAK: netns=$left veth=$lv podtraced=$lp shims=$ls_ pins=$lb cgroups=$lc"; leak=1
fi
[[ $urc -ne 0 || $erc -ne 0 || $leak -ne 0 || $bf -ne 0 ]] && rc=1
echo "unit: $up passed, $uf failed; e2e: ${ep:-0} passed, ${ef:-0} failed; bench harness: $bp passed, $bf failed; leaks: $leak"
echo "$((up + ${ep:-0} + bp)) passed, $((uf + ${ef:-0} + bf + leak)) failed"
exit $rc
