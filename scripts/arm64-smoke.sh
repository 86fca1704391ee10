#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks the arm64 guest's contract, without the module: boots the arm64
# kernel of a flavor under qemu/run --arch arm64 and checks that the guest is
# aarch64, the cross-built manager and test programs run, an armhf (AArch32)
# busybox runs through COMPAT, stdout, stderr and exit codes come back,
# --timeout gives 124, and --icount gives the same median twice (bench).
#
#   scripts/arm64-smoke.sh [test|bench]     (default: bench, the faster boot)
#
# Prints one line per check and exits non-zero if any failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-bench}
run=("$SF_ROOT/qemu/run" --arch arm64 --kernel "$flavor" --without-module)
failed=0
check() { # NAME WANT GOT
  if [ "$2" = "$3" ]; then
    echo "ok   $1"
  else
    printf 'FAIL %s: want %q, got %q\n' "$1" "$2" "$3"
    failed=1
  fi
}
timed() { # runs "$@", leaving its exit code in $rc and seconds in $secs
  local start=$SECONDS
  rc=0
  "$@" || rc=$?
  secs=$((SECONDS - start))
}

out=$SF_BUILD/arm64-smoke.out
timed "${run[@]}" -- sh -c 'uname -m; sysfence --version >/dev/null && echo manager ok
  busybox-armhf echo hello from AArch32; sf-syscall 173; echo to-stderr >&2; exit 7' >"$out" 2>"$out.err"
echo "boot and run: ${secs}s"
check "exit code" 7 "$rc"
check "uname -m" aarch64 "$(sed -n 1p "$out")"
check "cross-built sysfence --version" "manager ok" "$(sed -n 2p "$out")"
check "armhf busybox (COMPAT)" "hello from AArch32" "$(sed -n 3p "$out")"
line=$(sed -n 4p "$out")
check "sf-syscall 173 (getppid through svc #0): $line" ok "${line%% *}"
check "stderr" to-stderr "$(grep -x to-stderr "$out.err" || true)"

timed "${run[@]}" --no-build --timeout 15 -- sleep 600 >/dev/null 2>&1
check "--timeout 15 (${secs}s)" 124 "$rc"

# The median: a repeat that an interrupt lands in (the host's 9p and
# console I/O is not in step with the guest's instruction count) can be
# a few instructions longer in one boot than in the next. Only the bench
# kernel is held to the digit: the debug kernel's own work (lockdep, KASAN,
# kmemleak) moved the median by 0.2 of 10,160 between two boots.
icount() { "${run[@]}" --no-build --icount -- sf-bench 173 2000 5 2>/dev/null; }
a=$(icount) b=$(icount)
echo "icount, getppid: $a / $b"
[ "$flavor" = bench ] && check "--icount median repeats to the digit" "${a%% min*}" "${b%% min*}"
[ "$failed" = 0 ] || sf_die "arm64 guest: some checks failed (above)"
sf_log "arm64 guest ($flavor kernel): all checks passed"
