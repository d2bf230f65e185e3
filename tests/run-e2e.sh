#!/usr/bin/env bash
# Run the kernel end-to-end tests (tests/e2e/t_*.sh, or those named), one
# after the other: they use fixed pod addresses. Each script cleans up after
# itself; this runner only adds up the results.
set -u
cd "$(dirname "$0")/e2e" || exit 1
scripts=("$@")
[[ ${#scripts[@]} -eq 0 ]] && scripts=(selftest.sh t_*.sh)
pass=0 fail=0 failed=()
for s in "${scripts[@]}"; do
	s=${s#tests/e2e/}
	echo "=== e2e: $s"
	out=$(timeout 300 bash "$s" 2>&1); rc=$?
	echo "$out" | sed 's/^/    /'
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [[ $rc -ne 0 ]]; then
		failed+=("$s")
		[[ ${f:-0} -eq 0 ]] && fail=$((fail + 1))
	fi
done
echo
echo "e2e scripts failed: ${#failed[@]} ${failed[*]}"
echo "e2e: $pass passed, $fail failed"
[[ ${#failed[@]} -eq 0 ]]
