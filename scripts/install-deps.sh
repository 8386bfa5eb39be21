#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages ninep needs to build and test, only when missing.
# Called by `make run` and `make test`; must be run as root on a fresh machine.
set -euo pipefail

# Build: compilers, CMake, the libraries ninep links (see README "Dependencies").
build_pkgs=(g++ clang clang-format clang-tidy libclang-rt-14-dev cmake ninja-build pkg-config
  libasio-dev libfmt-dev libcli11-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev openssl libmunge-dev nbdkit-plugin-dev libfuse3-dev)
# Test peers: diod (reference server and its clients), the Linux kernel client in a QEMU guest;
# python3 for the integration scripts' helpers (free ports, raw 9P peers, JSON checks), bc for
# bench/run.sh; munge (munged, for the MUNGE authentication tests against diod and ourselves);
# nbdkit and NBD's tools for the block plugin (nbdinfo/nbdcopy, qemu-img/qemu-io, fio's nbd
# engine); fuse3 (fusermount3), attr (setfattr/getfattr) and git for the `ninep mount` tests.
test_pkgs=(diod munge socat qemu-system-x86 qemu-system-data linux-image-amd64 busybox-static cpio xz-utils
  python3 bc nbdkit libnbd-bin qemu-utils fio fuse3 attr git)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: need root to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || true
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
