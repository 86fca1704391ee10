#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The guest suite: builds the test kernel, module and initramfs (or takes
# them from the cache), then runs the guest tests in two debug guests side
# by side, then the bench guest [b1] and the arm64 guest [a1] (at most two
# guests at once), and prints every line they print, marked with their guest:
#   [gN] TEST-RESULT PASS|FAIL NAME SECONDS budget=B share=P%
# Then, from the guests' logs: "GUEST-TEST-FAIL guest/NAME" for each failed
# test, "GUEST-FAIL WHAT" for a guest that timed out, died or whose kernel
# log shows a bug report (one more failure each), and last
# "GUEST-SUMMARY N passed, M failed" (the tests). Exits non-zero if
# anything failed.
#
#   scripts/guest-suite.sh [--quick] [--list] [GUEST-TEST...]
#
# --list prints which tests would run in which guest, and runs nothing.
#
# Guests: the tests are spread over SF_GUESTS guests (2) run side by side,
# each with 2 vCPUs, by their budgets: longest first, each to the guest
# with the least budget so far. Emulated vCPUs are host threads, so two
# guests keep both host cores busy where one guest running one test at a
# time mostly uses one. Guest lines are marked [g1], [g2], ...
#
# Kernels: every test runs on the debug (test) kernel, except those with a
# "# kernel: bench" header: the real container engines' tests, whose work
# is the engines' own userland (Go runtimes, python), ran 4 to 12 times
# slower on the debug kernel (docs/testing.md). They run in one more guest,
# [b1], on the bench kernel, started when a debug guest ends (at most two
# guests at once); that kernel still fails the
# run on BUG, WARNING and Oops, and the module paths they reach are tested
# on the debug kernel by the other tests.
#
# arm64: the tests of tests/guest/arm64/ and those with an "# arm64: yes"
# header run once more in one arm64 guest, [a1], on the arm64 debug kernel
# (qemu/run --arch arm64, TCG): started, like [b1], when a guest before it
# ends. A named test (scripts/guest-suite.sh t-NAME) runs there too when it
# is an arm64 test; SF_ARM64=0 leaves the arm64 guest out.
#
# Time: each test has a budget ("# budget:" header, tests/guest/run.sh), and
# a guest may take the sum of its tests' budgets plus 120 s for boot and
# shutdown (SF_GUEST_TIMEOUT=S sets it instead).
#
# --quick picks only the tests that the changes can affect: a test whose own
# file changed, a test in which a changed file's name appears (a helper it
# sources, a test program of tests/progs it runs; a change to what all those
# programs share picks every test that runs one), or a test with a
# "# covers:" prefix that a changed path starts with. Changes are counted
# from SF_QUICK_BASE (default: origin/main if there is one, else HEAD),
# committed or not.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SF_ROOT"
mkdir -p "$SF_BUILD"

quick=0 list=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --list) list=1; shift ;;
    *) break ;;
  esac
done

budget_of() { # TEST: its budget in seconds (as tests/guest/run.sh reads it)
  local b
  [ -z "${SF_TEST_TIMEOUT:-}" ] || { echo "$SF_TEST_TIMEOUT"; return; }
  b=$(sed -n 's/^# budget: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
  echo "${b:-120}"
}
kernel_of() { # TEST: the kernel it runs on (test, or bench by its header)
  local k
  k=$(sed -n 's/^# kernel: *\([a-z]*\).*/\1/p' "$1" | head -n 1)
  echo "${k:-test}"
}
on_arm64() { # TEST: true if it runs in the arm64 guest too
  case $1 in tests/guest/arm64/*) return 0 ;; esac
  grep -q '^# arm64: *yes' "$1"
}
changed_files() { # what differs from the --quick base, committed or not
  local base
  base=${SF_QUICK_BASE:-$(git rev-parse -q --verify origin/main || echo HEAD)}
  { git diff --name-only "$base" --; git ls-files --others --exclude-standard; } | sort -u
}
affected() { # TEST CHANGED-FILE...: true if the change can affect TEST
  local t=$1 f covers p needle
  shift
  covers=$(sed -n 's/^# covers: *//p' "$t")
  for f in "$@"; do
    [ "$f" = "$t" ] && return 0
    case $f in tests/guest/t-*.sh) continue ;; esac # another test's own file
    case $f in
      tests/progs/src/bin/*.rs) needle=$(basename "$f" .rs) ;; # the program's name
      tests/progs/*) needle=sf- ;; # shared by every test program
      *) needle=$(basename "$f") ;;
    esac
    grep -qF -- "$needle" "$t" && return 0
    for p in $covers; do case $f in "$p"*) return 0 ;; esac; done
  done
  return 1
}

rc=0
tests=()
if [ $# -gt 0 ]; then
  for t in "$@"; do
    case $t in arm64/*) t=tests/guest/${t%.sh}.sh ;; *) t=tests/guest/$(basename "${t%.sh}").sh ;; esac
    if [ -f "$t" ]; then tests+=("$t"); else echo "GUEST-FAIL guest/$(basename "$t" .sh) (no such test)"; rc=1; fi
  done
elif [ "$quick" = 1 ]; then
  mapfile -t changed < <(changed_files)
  for t in tests/guest/t-*.sh tests/guest/arm64/t-*.sh; do affected "$t" "${changed[@]}" && tests+=("$t"); done
  sf_log "quick: ${#changed[@]} changed file(s); guest tests they can affect: ${tests[*]:-none}"
else
  tests=(tests/guest/t-*.sh tests/guest/arm64/t-*.sh)
fi
[ ${#tests[@]} -gt 0 ] || exit "$rc"

if [ "$list" = 1 ]; then
  for t in "${tests[@]}"; do
    case $t in tests/guest/arm64/*) ;; *) echo "$(basename "$t" .sh) $(kernel_of "$t")" ;; esac
    [ "${SF_ARM64:-1}" = 0 ] || ! on_arm64 "$t" || echo "${t#tests/guest/} arm64"
  done
  exit "$rc"
fi

guests=${SF_GUESTS:-2}
declare -A lane_tests=() lane_budget=() lane_kernel=() lane_arch=()
for l in $(seq 1 "$guests"); do lane_budget[g$l]=0; done
# The arm64 guest's tests, in their own order.
if [ "${SF_ARM64:-1}" != 0 ]; then
  for t in "${tests[@]}"; do
    on_arm64 "$t" || continue
    lane_tests[a1]+="${t#tests/guest/} "
    lane_budget[a1]=$((${lane_budget[a1]:-0} + $(budget_of "$t")))
    lane_kernel[a1]=test lane_arch[a1]=arm64
  done
fi
# b1 starts when a debug guest ends (below): g1 starts with b1's budget as
# if b1's tests were its own, so that it is given less (the split that
# made g1 and g2 end within a minute of each other). a1 is not counted:
# b1 (448 s against a1's 377 at d84ea1a) starts when the first debug
# guest ends, a1 when the next guest does.
bench_total=0
for t in "${tests[@]}"; do
  [ "$(kernel_of "$t")" != bench ] || bench_total=$((bench_total + $(budget_of "$t")))
done
[ "$guests" -lt 2 ] || lane_budget[g1]=$bench_total
while read -r b t; do
  case $t in tests/guest/arm64/*) continue ;; esac
  if [ "$(kernel_of "$t")" = bench ]; then
    best=b1 lane_kernel[b1]=bench
  else
    best=g1
    for l in "${!lane_budget[@]}"; do
      case $l in g*) [ "${lane_budget[$l]}" -lt "${lane_budget[$best]}" ] && best=$l ;; esac
    done
    lane_kernel[$best]=test
  fi
  lane_tests[$best]+="$(basename "$t") "
  lane_budget[$best]=$((${lane_budget[$best]:-0} + b))
done < <(for t in "${tests[@]}"; do echo "$(budget_of "$t") $t"; done | sort -k1,1nr -k2)
# g1's own budget, now that the assignment is done.
[ "$guests" -lt 2 ] || lane_budget[g1]=$((lane_budget[g1] - bench_total))

# build_images KIND: the kernel (built, or taken from the cache), module
# and initramfs that lanes of KIND boot: test or bench (x86_64), or arm64
# (its test kernel, and arm64/t-differential's filters, built on the host:
# SF_DIFF_ARM64). Prints GUEST-FAIL and fails if one cannot be made.
build_images() {
  local k=$1
  case $k in
    arm64)
      sf_log "guest: building the arm64 test kernel, module and initramfs"
      if ! { scripts/setup.sh --arch arm64 && scripts/build-initramfs.sh --arch arm64 test; } 2>&1 >/dev/null | tee "$SF_BUILD/initramfs-arm64-test.log" >&2; then
        echo "GUEST-FAIL guest/build-arm64-test (see $SF_BUILD/initramfs-arm64-test.log)"
        return 1
      fi
      sf_arm64_diff_filters test || { echo "GUEST-FAIL guest/arm64-diff-filters"; return 1; }
      ;;
    *)
      sf_log "guest: building the $k kernel, module and initramfs"
      # Its progress lines (a kernel build prints one every 30 s) as they come.
      if ! scripts/build-initramfs.sh "$k" 2>&1 >/dev/null | tee "$SF_BUILD/initramfs-$k.log" >&2; then
        echo "GUEST-FAIL guest/build-$k (see $SF_BUILD/initramfs-$k.log)"
        return 1
      fi
      ;;
  esac
}

declare -A lane_pid=() lane_timeout=()
# start_lane LANE: boot LANE's guest with its tests, in the background.
start_lane() {
  local l=$1 log=$SF_BUILD/guest-$1.log
  lane_timeout[$l]=${SF_GUEST_TIMEOUT:-$((${lane_budget[$l]} + 120))}
  sf_log "guest $l (${lane_arch[$l]:+${lane_arch[$l]} }${lane_kernel[$l]} kernel, timeout ${lane_timeout[$l]} s): ${lane_tests[$l]}"
  : >"$log"
  # shellcheck disable=SC2086 # the test list is words
  {
    start=$SECONDS
    qemu/run --no-build --arch "${lane_arch[$l]:-x86_64}" --kernel "${lane_kernel[$l]}" --timeout "${lane_timeout[$l]}" -- sh tests/guest/run.sh ${lane_tests[$l]} >>"$log" 2>&1
    echo "$? $((SECONDS - start))" >"$SF_BUILD/guest-$l.rc"
  } &
  lane_pid[$l]=$!
  # Every line as it comes, marked with its guest.
  tail -n +1 -s 0.5 --pid="${lane_pid[$l]}" -F "$log" 2>/dev/null | sed -u "s/^/[$l] /" &
}
t0=$SECONDS
# The debug guests first, side by side; the bench guest [b1] when the
# first of them ends, the arm64 guest [a1] when the next one does (the
# longer first, so that the two end closer together). Three guests at
# once on two host cores starved the bench guest's vCPUs (a 60 s RCU stall
# in ctr's page faults, containers taking 96 s to start, a recording that
# ended before its traffic): at most two guests run at a time.
# The debug guests' images are made first and those guests start; the
# bench and arm64 guests' images are made while they run (seconds, when
# scripts/test.sh has built their kernels and modules in the background).
# A lane whose images cannot be made does not run: its GUEST-FAIL counts
# one failure.
debug_lanes=()
for l in "${!lane_tests[@]}"; do case $l in g*) debug_lanes+=("$l") ;; esac; done
[ ${#debug_lanes[@]} -eq 0 ] || build_images test || exit 1
running=()
for l in "${debug_lanes[@]}"; do start_lane "$l"; running+=("${lane_pid[$l]}"); done
for l in b1 a1; do
  [ -n "${lane_tests[$l]:-}" ] || continue
  kind=bench
  [ "$l" = b1 ] || kind=arm64
  build_images "$kind" || { rc=1; unset "lane_tests[$l]"; }
done
for l in b1 a1; do
  [ -n "${lane_tests[$l]:-}" ] || continue
  while [ ${#running[@]} -ge "$guests" ] && [ ${#running[@]} -ge 2 ]; do
    wait -n -p gone "${running[@]}"
    mapfile -t running < <(for p in "${running[@]}"; do [ "$p" = "$gone" ] || echo "$p"; done)
  done
  start_lane "$l"
  running+=("${lane_pid[$l]}")
done
wait
gp=0 gf=0
for l in "${!lane_tests[@]}"; do
  read -r grc secs <"$SF_BUILD/guest-$l.rc" || { grc=255 secs=0; }
  log=$SF_BUILD/guest-$l.log
  n=$(grep -c '^TEST-RESULT ' "$log")
  p=$(grep -c '^TEST-RESULT PASS ' "$log")
  gp=$((gp + p)) gf=$((gf + n - p))
  grep '^TEST-RESULT FAIL ' "$log" | while read -r _ _ name _; do echo "GUEST-TEST-FAIL guest/${lane_arch[$l]:+${lane_arch[$l]}/}$name"; done
  case $grc in
    0) ;;
    1) [ "$n" -gt 0 ] || { echo "GUEST-FAIL guest/$l (no test ran)"; rc=1; } ;;
    124) echo "GUEST-FAIL guest/$l (timed out)"; rc=1 ;;
    125) echo "GUEST-FAIL guest/$l kernel log (bug report or guest died; see $log)"; rc=1 ;;
    *) echo "GUEST-FAIL guest/$l (runner exit $grc)"; rc=1 ;;
  esac
  [ "$grc" = 0 ] || rc=1
  sf_log "guest $l: ${secs} s of its ${lane_timeout[$l]} s timeout ($((secs * 100 / ${lane_timeout[$l]}))%), $p passed, $((n - p)) failed"
done
sf_log "guest suite: $((SECONDS - t0)) s"
echo "GUEST-SUMMARY $gp passed, $gf failed"
exit "$rc"
