#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds sysfence.ko against the cached guest kernel of a flavor.
#
#   scripts/build-module.sh [--arch x86_64|arm64] [test|bench]
#                                       prints the path of sysfence.ko
#
# The build runs in a copy of kmod/ and shared-abi/ per flavor under
# target/sysfence/, so the source tree stays clean and a module built for one
# kernel can never be reused for the other.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=x86_64
if [ "${1:-}" = --arch ]; then
  arch=${2:?--arch needs x86_64 or arm64}
  shift 2
fi
flavor=${1:-test}
kdir=$("$SF_ROOT/scripts/build-kernel.sh" --arch "$arch" "$flavor")
# x86_64 keeps its old names (kmod-test, kmod-bench); Kbuild needs ARCH
# for anything else (LLVM=1 cross-compiles without a CROSS_COMPILE).
work=$SF_BUILD/kmod-$flavor
kbuild=(LLVM=1)
if [ "$arch" != x86_64 ]; then
  work=$SF_BUILD/kmod-$arch-$flavor
  kbuild+=(ARCH="$arch")
fi
mkdir -p "$work/kmod" "$work/shared-abi/src"
# One build per copy at a time: scripts/test.sh builds each guest's module
# in the background, after its kernel, and the guest suite's own call
# waits here.
exec 8>"$work.lock"
flock 8
# rsync-like copy that keeps mtimes, so Kbuild rebuilds only what changed.
cp -p "$SF_ROOT"/kmod/* "$work/kmod/"
cp -p "$SF_ROOT"/shared-abi/src/*.rs "$work/shared-abi/src/"
# A module built against another tree must not be reused.
if [ "$(cat "$work/.kdir" 2>/dev/null)" != "$kdir" ]; then
  make -s -C "$work/kmod" KDIR="$kdir" "${kbuild[@]}" clean >/dev/null 2>&1 || true
  echo "$kdir" >"$work/.kdir"
fi
if ! make -C "$work/kmod" KDIR="$kdir" "${kbuild[@]}" modules >"$work/build.log" 2>&1; then
  grep -E -A12 '^(warning|error)(\[|:)|Error|undefined' "$work/build.log" | head -n 120 >&2
  sf_die "module build failed against $kdir"
fi
# Warnings in our code are errors for us.
if grep -qE '^(warning|error)(\[|:)' "$work/build.log"; then
  grep -E -A12 '^(warning|error)(\[|:)' "$work/build.log" | head -n 80 >&2
  sf_die "module build printed warnings (listed above)"
fi
sf_log "module ($arch $flavor): $work/kmod/sysfence.ko"
echo "$work/kmod/sysfence.ko"
