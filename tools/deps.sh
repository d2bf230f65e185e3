#!/usr/bin/env bash
# Idempotent dependency step for `make test` / `make demo`: installs the
# Debian packages podtrace needs, only when something is missing.
set -euo pipefail
# to build and run
NEED=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcgroup-dev
      libyaml-dev libjansson-dev libmicrohttpd-dev libcmocka-dev iproute2
      make gcc pkg-config python3 curl)
# to test and benchmark against peers (installed when the archive has them)
WANT=(kubectl iperf3 prometheus libbpf-tools gnuplot-nox iptables nftables)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}
mapfile -t need < <(missing "${NEED[@]}")
mapfile -t want < <(missing "${WANT[@]}")
[[ ${#need[@]} -eq 0 && ${#want[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages: ${need[*]} ${want[*]} (run as root to install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${need[*]} ${want[*]}" >&2
apt-get update -qq
if [[ ${#need[@]} -gt 0 ]]; then
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for p in "${want[@]}"; do
	apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
		echo "deps: optional package $p is not available; tests that need it are skipped" >&2
done
exit 0
