#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds sysfence.ko against the cached guest kernel of a flavor.
#
#   scripts/build-module.sh [test|bench]     prints the path of sysfence.ko
#
# The build runs in a copy of kmod/ and shared-abi/ per flavor under
# target/sysfence/, so the source tree stays clean and a module built for one
# kernel can never be reused for the other.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-test}
kdir=$("$SF_ROOT/scripts/build-kernel.sh" "$flavor")
work=$SF_BUILD/kmod-$flavor
mkdir -p "$work/kmod" "$work/shared-abi/src"
# rsync-like copy that keeps mtimes, so Kbuild rebuilds only what changed.
cp -p "$SF_ROOT"/kmod/* "$work/kmod/"
cp -p "$SF_ROOT"/shared-abi/src/*.rs "$work/shared-abi/src/"
# A module built against another tree must not be reused.
if [ "$(cat "$work/.kdir" 2>/dev/null)" != "$kdir" ]; then
  make -s -C "$work/kmod" KDIR="$kdir" clean >/dev/null 2>&1 || true
  echo "$kdir" >"$work/.kdir"
fi
if ! make -C "$work/kmod" KDIR="$kdir" LLVM=1 modules >"$work/build.log" 2>&1; then
  grep -E -A12 '^(warning|error)(\[|:)|Error|undefined' "$work/build.log" | head -n 120 >&2
  sf_die "module build failed against $kdir"
fi
# Warnings in our code are errors for us.
if grep -qE '^(warning|error)(\[|:)' "$work/build.log"; then
  grep -E -A12 '^(warning|error)(\[|:)' "$work/build.log" | head -n 80 >&2
  sf_die "module build printed warnings (listed above)"
fi
sf_log "module ($flavor): $work/kmod/sysfence.ko"
echo "$work/kmod/sysfence.ko"
