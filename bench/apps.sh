#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Real applications side by side (issue 20): Debian's nginx (wrk),
# redis-server (redis-benchmark) and PostgreSQL (pgbench) in the guest,
# bare, under seccomp with Docker's default profile, and under sysfence
# with the same profile, a recorded one and a path rule
# (bench/guest/apps.sh). One boot of the bench kernel under icount (guest
# time counts instructions, one vCPU) per application. Alone, or from
# bench/run.sh. Writes bench/results/apps.md and apps.json (an application
# not run this time keeps its previous entry) and the README's short
# summary between its apps markers.
# Knobs: APPS ("nginx redis postgres"), APP_RUNS (5), APP_SECONDS (1, wrk),
# APP_REQUESTS (5000, redis-benchmark per test), APP_TRANSACTIONS (250,
# pgbench per client), APP_CASES.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apps=${APPS:-nginx redis postgres}
out=bench/results
mkdir -p "$out"
log=$(mktemp)
env_args=()
for v in APP_RUNS APP_SECONDS APP_REQUESTS APP_TRANSACTIONS APP_CASES; do
  [ -n "${!v:-}" ] && env_args+=("$v=${!v}")
done
build=()
for a in $apps; do
  sf_log "apps: $a (one boot)"
  qemu/run --kernel bench --icount --no-module --timeout "${APPS_TIMEOUT:-1800}" "${build[@]}" -- \
    env "${env_args[@]}" sh bench/guest/apps.sh "$a" | tee -a "$log"
  grep -q "^APPS-DONE $a\$" "$log" || sf_die "the $a bench did not finish (log: $log)"
  # The images are built once per invocation.
  build=(--no-build)
done
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- bench kmod manager shared-abi tests/progs || commit="$commit+changes"
python3 bench/apps-report.py "$log" "$out" README.md "$commit"
sf_log "results: $out/apps.md, $out/apps.json; README summary updated (log: $log)"
