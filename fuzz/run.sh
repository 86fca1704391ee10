#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fuzz/run.sh TARGET SECONDS: runs one cargo-fuzz target (policy_wire or
# profiles) for SECONDS from the corpus in fuzz/corpus/TARGET. New inputs go
# to target/fuzz-corpus/TARGET; crashes to fuzz/artifacts/TARGET. After a
# long run, `cargo +nightly fuzz cmin TARGET` in fuzz/ (with the new inputs
# copied into the corpus) keeps the corpus small.
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET SECONDS} secs=${2:?usage: fuzz/run.sh TARGET SECONDS}
cd "$(dirname "$0")"
. ../scripts/lib.sh
export CARGO_BUILD_BUILD_DIR=$(sf_cargo_build_dir nightly)
work=../target/fuzz-corpus/$target
mkdir -p "$work"
exec cargo +nightly fuzz run "$target" "$work" "corpus/$target" -- \
  -max_total_time="$secs" -print_final_stats=1
