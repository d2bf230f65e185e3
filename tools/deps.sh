#!/usr/bin/env bash
# Idempotent dependency step for `make test` / `make demo`: installs the Debian
# packages podtrace needs to build and test, only when something is missing.
set -euo pipefail
PKGS=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcgroup-dev
      libyaml-dev libjansson-dev libmicrohttpd-dev libcmocka-dev iproute2
      iperf3 prometheus libbpf-tools kubectl gnuplot-nox python3 make gcc pkg-config)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]} (run as root to install)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
