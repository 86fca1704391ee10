#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Shadow policies' cost alone (bench/guest/shadow.sh, also part of
# bench/run.sh): one boot of the bench kernel under icount, one vCPU.
# Writes bench/results/shadow.md. ITER, REPS, UPDATES shrink a run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
log=$(mktemp)
env_args=()
for v in ITER REPS UPDATES; do
  [ -n "${!v:-}" ] && env_args+=("$v=${!v}")
done
qemu/run --kernel bench --icount --timeout 1800 -- env "${env_args[@]}" sh bench/guest/shadow.sh | tee "$log"
grep -q '^RESULT|shadow.promote.rate' "$log" || sf_die "the shadow bench did not finish (log: $log)"
{
  echo "# Shadow policies: cost (bench kernel, icount, $(date -u +%Y-%m-%d))"
  echo
  echo "Made by \`bench/shadow.sh\` (\`bench/guest/shadow.sh\`), one boot, one vCPU."
  echo "Per-call figures are instructions per call (median of the repeats, min, max);"
  echo "promote and replace are microseconds of guest time from request to the kernel's ACK, and their three columns are p50, p99 and max."
  echo
  echo "| case | median | min | max | unit |"
  echo "|---|---:|---:|---:|---|"
  grep '^RESULT|' "$log" | awk -F'|' '{printf "| %s | %s | %s | %s | %s |\n", $3, $4, $5, $6, $7}'
} >bench/results/shadow.md
sf_log "results: bench/results/shadow.md"
