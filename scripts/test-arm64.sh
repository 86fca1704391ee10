#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The arm64 guest suite (issue 22): sets up what arm64 needs (setup.sh
# --arch arm64), builds the arm64 kernel, module, manager and test programs,
# boots the arm64 kernel with the module loaded under qemu/run --arch arm64
# (TCG) and runs the arm64 guest tests (tests/guest/arm64/t-*.sh) with
# tests/guest/run.sh, as for x86_64: one TEST-RESULT line per test, any
# kernel bug report fails the run, last line "N passed, M failed", and the
# x86 guest tests that are architecture-independent (SHARED below). Before
# the guest boots it builds arm64/t-differential's seccomp filters with the
# host's libseccomp (tests/differential/arm64-filters.sh). Other
# guest tests can be named (t-NAME); most still build x86 policies or use
# x86 numbers (t-hostile-netlink and t-limits do).
#
#   scripts/test-arm64.sh [--kernel test|bench] [TEST...]
#
# The debug (test) kernel is the default; the bench kernel boots faster.
# Not yet part of scripts/test.sh (docs/testing.md says why).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SF_ROOT"

kernel=test
if [ "${1:-}" = --kernel ]; then
  kernel=${2:?--kernel needs test or bench}
  shift 2
fi
SHARED=(t-atomic-replace)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=($(cd tests/guest && ls arm64/t-*.sh | sed 's/\.sh$//') "${SHARED[@]}")
"$SF_ROOT/scripts/setup.sh" --arch arm64
# arm64/t-differential's seccomp filters, built here with the host's
# libseccomp for the kernel the guest boots (the guest cannot run the host
# root's x86 python3); every SF_* variable reaches the guest.
kdir=$("$SF_ROOT/scripts/build-kernel.sh" --arch arm64 "$kernel")
export SF_DIFF_ARM64=$SF_BUILD/differential-arm64
"$SF_ROOT/tests/differential/arm64-filters.sh" "$SF_DIFF_ARM64" "$(cat "$kdir/include/config/kernel.release")"
exec "$SF_ROOT/qemu/run" --arch arm64 --kernel "$kernel" --timeout 1200 -- sh tests/guest/run.sh "${tests[@]}"
