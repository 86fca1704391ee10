#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The arm64 per-call table (issue 22): builds the aarch64 seccomp filter of
# Docker's default profile on the host (tests/differential/seccomp-bpf.py
# ... aarch64, with the host's libseccomp), boots the arm64 bench kernel
# under icount and runs bench/guest/arm64.sh; writes bench/results/arm64.md.
#   bench/arm64.sh
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
cd "$SF_ROOT"
"$SF_ROOT/scripts/setup.sh" --arch arm64
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
mkdir -p "$SF_BUILD"
/usr/bin/python3 tests/differential/seccomp-bpf.py tests/fixtures/docker-default.json "$D" 6.12 \
  "$SF_BUILD/docker-aarch64.bpf" aarch64
out=$SF_BUILD/arm64-bench.out
qemu/run --arch arm64 --kernel bench --icount --timeout 900 -- sh bench/guest/arm64.sh | tee "$out"
{
  echo "# arm64 per-call cost (bench/arm64.sh)"
  echo
  echo "arm64 bench kernel (Linux 6.12, no debug options) under QEMU TCG icount"
  echo "(1 ns = 1 instruction), neoverse-n1, one vCPU, one boot: each row is"
  echo "sf-bench's median of 11 repeats of 20,000 calls, with min and max."
  echo "seccomp: Docker's default profile as libseccomp builds it for aarch64,"
  echo "installed by sf-bench; sysfence: the same profile applied live to the"
  echo "caller's cgroup. \"module loaded, unfiltered\": a task in a cgroup with"
  echo "no policy while another cgroup has one (the slow-path gating)."
  echo
  echo "| case | median | min | max |"
  echo "|---|---|---|---|"
  grep '^RESULT' "$out" | awk -F'|' '{printf "| %s | %s | %s | %s %s |\n", $3, $4, $5, $6, $7}'
} >bench/results/arm64.md
sf_log "wrote bench/results/arm64.md"
