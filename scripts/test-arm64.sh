#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The arm64 guest suite (issue 22): sets up what arm64 needs (setup.sh
# --arch arm64), builds the arm64 kernel, module, manager and test programs,
# boots the arm64 kernel with the module loaded under qemu/run --arch arm64
# (TCG) and runs the arm64 guest tests (tests/guest/arm64/t-*.sh) with
# tests/guest/run.sh, as for x86_64: one TEST-RESULT line per test, any
# kernel bug report fails the run, last line "N passed, M failed", and the
# guest tests of both architectures (an "# arm64: yes" header). Before the
# guest boots it builds arm64/t-differential's seccomp filters with the
# host's libseccomp (sf_arm64_diff_filters in lib.sh). Other
# guest tests can be named (t-NAME); those without the header build x86
# policies, use x86 numbers or test x86-only or architecture-independent
# userland.
#
#   scripts/test-arm64.sh [--kernel test|bench] [TEST...]
#
# The debug (test) kernel is the default; the bench kernel boots faster.
# scripts/test.sh runs the same tests in its arm64 guest, [a1]
# (scripts/guest-suite.sh); this runs them alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SF_ROOT"

kernel=test
if [ "${1:-}" = --kernel ]; then
  kernel=${2:?--kernel needs test or bench}
  shift 2
fi
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=($(cd tests/guest && ls arm64/t-*.sh | sed 's/\.sh$//') $(cd tests/guest && grep -l '^# arm64: *yes' t-*.sh | sed 's/\.sh$//'))
"$SF_ROOT/scripts/setup.sh" --arch arm64
sf_arm64_diff_filters "$kernel"
exec "$SF_ROOT/qemu/run" --arch arm64 --kernel "$kernel" --timeout 1200 -- sh tests/guest/run.sh "${tests[@]}"
