#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The whole test suite, from a fresh Debian 12 machine to a verdict:
#   1. set-up (scripts/setup.sh, idempotent),
#   2. host tests: cargo fmt --check for the workspace and rustfmt --check
#      for the module (not a Cargo crate), and cargo test,
#   3. the guest suite (tests/guest/t-*.sh) in QEMU with the module
#      loaded: two guests side by side on the debug kernel, the real
#      container engines' tests in a third on the bench kernel, and the
#      arm64 tests in an arm64 guest on the arm64 debug kernel, all built
#      or taken from the cache (scripts/guest-suite.sh; SF_ARM64=0 leaves
#      arm64 out).
# The last line is "N passed, M failed"; the exit status is non-zero if
# anything failed, including a kernel bug report in the guest's log.
#
#   scripts/test.sh [GUEST-TEST...]    (names like t-module-load-unload.sh)
#   scripts/test.sh --quick            the development lane: host tests
#                                      without fuzzing, then only the guest
#                                      tests that what changed can affect
#                                      (how they are picked: see
#                                      scripts/guest-suite.sh); CI runs all
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SF_ROOT"
mkdir -p "$SF_BUILD"
t0=$SECONDS
passed=0 failed=0
failures=()
record() { # record PASS|FAIL NAME
  if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$2"); fi
}

quick=0
case ${1:-} in
  -h | --help)
    sed -n '3,/^set -uo pipefail/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  --quick)
    quick=1
    shift
    ;;
  -*)
    echo "scripts/test.sh: unknown option $1 (--help lists the options)" >&2
    exit 2
    ;;
esac

arm64=${SF_ARM64:-1}
"$SF_ROOT/scripts/setup.sh" $([ "$arm64" = 0 ] || echo --arch arm64) || { echo "0 passed, 1 failed"; exit 1; }

# The kernels take most of a run on a machine without them cached (13 min
# each on 2 cores): both start building now, beside the host tests, whose
# compiles and single-threaded test runs leave cores idle, and beside each
# other's serial phases (Rust core, vmlinux links). The guest suite's own
# build calls wait for them (build-kernel.sh's lock); one that failed here
# is retried there and reports its error.
# The bench build and the arm64 test build start once the test build has
# extracted the source tree they share (the x86_64 builder extracts it
# without a lock: two at once wreck it).
# Each kernel's module follows it in the same job, and the guest suite
# then finds it built (build-module.sh waits for a build of the same
# copy): built while the debug guests booted, the bench and arm64 modules
# slowed those boots from 22 to 64 s.
if [ "$quick" = 0 ] && [ $# -eq 0 ]; then
  (
    scripts/build-kernel.sh test && scripts/build-module.sh test
  ) >"$SF_BUILD/kernel-test.log" 2>&1 &
  first=$!
  src=$SF_CACHE/src/linux-$(sf_kernel_pkg_version)
  (
    while [ ! -f "$src/.sysfence-extracted" ] && kill -0 "$first" 2>/dev/null; do sleep 2; done
    scripts/build-kernel.sh bench && scripts/build-module.sh bench
  ) >"$SF_BUILD/kernel-bench.log" 2>&1 &
  if [ "$arm64" != 0 ]; then
    (
      while [ ! -f "$src/.sysfence-extracted" ] && kill -0 "$first" 2>/dev/null; do sleep 2; done
      scripts/build-kernel.sh --arch arm64 test && scripts/build-module.sh --arch arm64 test
    ) >"$SF_BUILD/kernel-arm64-test.log" 2>&1 &
  fi
  sf_log "kernels and modules: checked, or built when not cached, in the background ($SF_BUILD/kernel-*.log)"
  # The guests' static programs too, x86_64 then arm64, built while the
  # host tests run: cargo test's compiles and single-threaded test binaries
  # leave a core idle much of the time (cargo test locks the debug build,
  # the x86_64 one its triple's release and the host's release, where
  # build scripts and proc-macros go; the arm64 one has a build directory
  # of its own, build-initramfs.sh); the guest suite's builds find them
  # built, or wait on cargo's lock for the one still running.
  (
    scripts/build-initramfs.sh --userspace-only >"$SF_BUILD/userspace-x86_64.log" 2>&1
    [ "$arm64" = 0 ] || scripts/build-initramfs.sh --arch arm64 --userspace-only >"$SF_BUILD/userspace-arm64.log" 2>&1
  ) &
  # And both fuzz targets in one build (their own target directory under
  # fuzz/), which `cargo fuzz run` below then finds up to date.
  (cd fuzz && CARGO_BUILD_BUILD_DIR=$(sf_cargo_build_dir nightly) exec cargo +nightly fuzz build) >"$SF_BUILD/fuzz-build.log" 2>&1 &
  fuzz_build=$!
fi

sf_log "host: cargo fmt --check"
if cargo fmt --all --check >/dev/null 2>&1; then record PASS host/fmt; else cargo fmt --all --check | head -n 20; record FAIL host/fmt; fi

# The module is built by Kbuild, not Cargo, so cargo fmt does not see it;
# rustfmt reads the same rustfmt.toml (default style, the kernel's).
sf_log "host: rustfmt --check kmod/*.rs"
if rustfmt --check --edition 2021 kmod/*.rs >/dev/null 2>&1; then record PASS host/fmt-kmod; else rustfmt --check --edition 2021 kmod/*.rs | head -n 20; record FAIL host/fmt-kmod; fi

sf_log "host: cargo test --workspace"
log=$SF_BUILD/cargo-test.log
cargo test --workspace --all-targets --color never >"$log" 2>&1
rc=$?
hp=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | paste -sd+ | bc)
hf=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | paste -sd+ | bc)
passed=$((passed + ${hp:-0})) failed=$((failed + ${hf:-0}))
grep -E '^test .* FAILED$' "$log" | sed 's/^test /host: /' >&2
if [ "$rc" -ne 0 ] && [ "${hf:-0}" -eq 0 ]; then
  tail -n 30 "$log" >&2
  record FAIL "host/cargo-test (exit $rc, see $log)"
fi
sf_log "host: ${hp:-0} passed, ${hf:-0} failed ($((SECONDS - t0))s so far)"

# Coverage-guided fuzzing, briefly (fuzz/run.sh runs one target longer):
# each target from the corpus kept in fuzz/corpus, new inputs to a scratch
# directory so the checkout stays clean.
fuzz_targets=(policy_wire profiles)
[ "$quick" = 0 ] || fuzz_targets=()
# A failed background build is not reported here: fuzz/run.sh builds again
# and fails with the compiler's message.
[ -z "${fuzz_build:-}" ] || wait "$fuzz_build"
# The targets run side by side: each is one process on one core.
declare -A fuzz_pid=()
for target in "${fuzz_targets[@]}"; do
  sf_log "host: cargo fuzz run $target (${SF_FUZZ_SECONDS:-20} s)"
  fuzz/run.sh "$target" "${SF_FUZZ_SECONDS:-20}" >"$SF_BUILD/fuzz-$target.log" 2>&1 &
  fuzz_pid[$target]=$!
done
for target in "${fuzz_targets[@]}"; do
  if wait "${fuzz_pid[$target]}"; then
    record PASS "host/fuzz-$target"
    grep -E '^Done [0-9]+ runs' "$SF_BUILD/fuzz-$target.log" | sed "s/^/  $target: /" >&2
  else
    tail -n 30 "$SF_BUILD/fuzz-$target.log" >&2
    record FAIL "host/fuzz-$target"
  fi
done

# The guest suite (scripts/guest-suite.sh): its tests count one each, and
# a guest that timed out, died or logged a kernel bug counts once more.
glog=$SF_BUILD/guest-suite.log
scripts/guest-suite.sh $([ "$quick" = 1 ] && echo --quick) "$@" 2>&1 | tee "$glog"
read -r gp gf < <(sed -n 's/^GUEST-SUMMARY \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$glog")
passed=$((passed + ${gp:-0})) failed=$((failed + ${gf:-0}))
while read -r _ name; do failures+=("$name"); done < <(grep '^GUEST-TEST-FAIL ' "$glog")
while read -r _ what; do record FAIL "$what"; done < <(grep '^GUEST-FAIL ' "$glog")

# Installing on a real host (README, "On a real host"), from what the guest
# suite just built: the module into a staging root, check-host.sh on its
# kernel tree and on one without Rust, the .deb from the static binary
# (about 10 s; a check whose input was not built is skipped, and said).
sf_log "host: install checks (scripts/test-install.sh)"
ilog=$SF_BUILD/test-install.log
scripts/test-install.sh >"$ilog.out" 2>"$ilog"
irc=$?
sed 's/^/  /' "$ilog.out" >&2
while read -r verdict name _; do
  case $verdict in PASS | FAIL) record "$verdict" "$name" ;; esac
done <"$ilog.out"
if [ "$irc" -ne 0 ]; then
  tail -n 30 "$ilog" >&2
  grep -q '^FAIL ' "$ilog.out" || record FAIL "host/install (exit $irc, see $ilog)"
fi

# guest_reasons LOG: why each failed guest test failed (its last "FAIL:"
# line, a kill at its budget or a kernel report), one line each, so that
# the end of the output says it.
guest_reasons() {
  awk '
    match($0, /^\[[a-z0-9]+\] /) {
      lane = substr($0, 2, RLENGTH - 3); rest = substr($0, RLENGTH + 1)
      if (rest ~ /^=== t-/) why[lane] = ""
      else if (rest ~ /^FAIL: |killed at its budget|^kernel log reported a bug/) why[lane] = rest
      else if (rest ~ /^TEST-RESULT FAIL /) {
        split(rest, f, " ")
        w = (why[lane] == "") ? "no reason printed (the guest log has its output)" : why[lane]
        print "  guest/" f[3] ": " substr(w, 1, 400)
      }
    }' "$1"
}

sf_log "total time $((SECONDS - t0))s"
[ ${#failures[@]} -eq 0 ] || printf '  failed: %s\n' "${failures[@]}"
[ "${gf:-0}" = 0 ] || guest_reasons "$glog"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
