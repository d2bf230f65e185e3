#!/usr/bin/env bash
# Run the cmocka unit test binaries: those given as arguments, or every
# build/tests/test_* when none is given. Each binary's own output is shown
# as is (cmocka's "[  PASSED  ] N test(s)." / "[  FAILED  ]" lines included);
# the exit status is non-zero if any binary failed, crashed or is missing.
#
#   UNIT_VALGRIND=1   run each binary under valgrind (memory errors fail it)
#   UNIT_TIMEOUT=N    seconds allowed per binary (default 300)
set -u
cd "$(dirname "$0")/.." || exit 1

bins=("$@")
if [[ ${#bins[@]} -eq 0 ]]; then
	shopt -s nullglob
	for b in build/tests/test_*; do
		[[ -f $b && -x $b ]] && bins+=("$b")
	done
	shopt -u nullglob
fi
if [[ ${#bins[@]} -eq 0 ]]; then
	echo "run-unit: no unit test binaries (build them with: make unit)" >&2
	exit 1
fi

wrap=()
if [[ ${UNIT_VALGRIND:-0} != 0 ]]; then
	if command -v valgrind >/dev/null; then
		wrap=(valgrind -q --error-exitcode=99 --leak-check=no)
	else
		echo "run-unit: UNIT_VALGRIND set but valgrind is not installed" >&2
	fi
fi
# line-buffered stdout so cmocka's stdout and stderr stay in order
command -v stdbuf >/dev/null && wrap=(stdbuf -oL -eL "${wrap[@]}")

failed=()
for b in "${bins[@]}"; do
	name=$(basename "$b")
	echo "=== $name"
	if [[ ! -x $b ]]; then
		echo "run-unit: $b: missing or not executable"
		failed+=("$name (missing)")
		continue
	fi
	timeout "${UNIT_TIMEOUT:-300}" "${wrap[@]}" "$b" 2>&1
	rc=$?
	if [[ $rc -ne 0 ]]; then
		why="exit $rc"
		((rc == 124)) && why="timed out"
		((rc == 99)) && [[ ${UNIT_VALGRIND:-0} != 0 ]] && why="valgrind errors"
		((rc > 128 && rc != 124)) && why="killed by signal $((rc - 128))"
		echo "run-unit: $name failed ($why)"
		failed+=("$name ($why)")
	fi
done

echo "=== unit: ${#bins[@]} binaries, ${#failed[@]} failed"
for f in "${failed[@]}"; do
	echo "    failed: $f"
done
[[ ${#failed[@]} -eq 0 ]]
