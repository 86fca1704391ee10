#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark suite in one command: builds the bench kernel and module if
# needed, boots it under QEMU's icount (guest ns = instructions, one vCPU),
# runs bench/guest/suite.sh (sysfence, real seccomp with the same Docker
# profile, no module; live update; scale), then writes bench/results/
# (results.json, results.md, chart.png), the full table in bench/README.md
# and the summary in README.md.
# Options are passed to the guest as environment: SCALE="1 100", ITER, REPS,
# UPDATES, MACRO_REPS (defaults in bench/guest/suite.sh). Then the real
# applications (bench/apps.sh, one boot each): APPS="nginx redis postgres"
# (APPS=none skips them), APP_RUNS, APP_SECONDS, APP_REQUESTS, APP_CASES.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
out=bench/results
mkdir -p "$out"
log=$(mktemp)
env_args=()
for v in SCALE ITER REPS UPDATES MACRO_REPS; do
  [ -n "${!v:-}" ] && env_args+=("$v=${!v}")
done
qemu/run --kernel bench --icount --timeout "${BENCH_TIMEOUT:-5400}" -- \
  env "${env_args[@]}" sh bench/guest/suite.sh | tee "$log"
grep -q '^SUITE-DONE' "$log" || sf_die "the suite did not finish (log: $log)"
# The chart needs matplotlib: a venv in the cache, made once.
venv=$SF_CACHE/bench-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q matplotlib==3.9.2
fi
"$venv/bin/python" bench/report.py "$log" "$out" bench/README.md README.md
sf_log "results: $out/results.json, $out/results.md, $out/chart.png; tables in bench/README.md and README.md updated"
[ "${APPS:-}" = none ] || bench/apps.sh
