#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest test driver: runs every tests/guest/t-*.sh (or those named on the
# command line), each in its own shell within its own time budget, and prints
#   TEST-RESULT PASS|FAIL NAME SECONDS budget=BUDGET share=PERCENT%
# per test, a table of the tests by their share of their budget, and a last
# line "N passed, M failed". A test also fails when the kernel log gains a
# bug report (qemu/splat-patterns) while it runs.
#
# Budgets: each test says how long it may take in a header line
#   # budget: SECONDS
# (120 when it does not). A test still running at its budget is killed and
# fails, so one slow test cannot eat the time of the whole guest run. A test
# should need at most half of its budget on the emulated debug kernel; the
# table flags those that need more. SF_TEST_TIMEOUT=S gives every test S
# seconds instead (long soaks by hand).
here=$(cd "$(dirname "$0")" && pwd)
patterns=$here/../../qemu/splat-patterns
grep -v '^#' "$patterns" >/tmp/splat-patterns

# budget_of TEST: its budget in seconds.
budget_of() {
  [ -n "${SF_TEST_TIMEOUT:-}" ] && { echo "$SF_TEST_TIMEOUT"; return; }
  _b=$(sed -n 's/^# budget: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
  echo "${_b:-120}"
}

if [ $# -gt 0 ]; then
  tests=$(for t in "$@"; do echo "$here/${t%.sh}.sh"; done)
else
  tests=$(ls "$here"/t-*.sh)
fi
passed=0 failed=0
: >/tmp/run.shares
for t in $tests; do
  name=$(basename "$t" .sh)
  [ -f "$t" ] || { echo "no test $t"; failed=$((failed + 1)); echo "TEST-RESULT FAIL $name 0 budget=0 share=0%"; continue; }
  budget=$(budget_of "$t")
  # Consume the log so far; the serial console keeps the whole log anyway.
  dmesg -c >/dev/null
  start=$(date +%s)
  echo "=== $name (budget ${budget} s)"
  # The test runs in a session of its own, so that at its end (or at its
  # budget) everything it left running is killed with it.
  setsid sh "$t" &
  pid=$!
  setsid sh -c 'sleep "$1" && kill -KILL "-$2" && echo "$3: killed at its budget of $1 s"' - "$budget" "$pid" "$name" 2>/dev/null &
  watchdog=$!
  wait "$pid"
  rc=$?
  kill -KILL "-$watchdog" 2>/dev/null
  kill -KILL "-$pid" 2>/dev/null
  secs=$(($(date +%s) - start))
  dmesg -c >/tmp/dmesg.new
  if grep -E -f /tmp/splat-patterns /tmp/dmesg.new >/tmp/dmesg.splat; then
    echo "kernel log reported a bug during $name:"
    cat /tmp/dmesg.new
    rc=99
  fi
  # A failed test may leave policies behind, or the module unloaded: the
  # next test gets a fresh module, as it would after a clean end.
  if [ "$rc" != 0 ] && { [ ! -e /sys/module/sysfence ] || rmmod sysfence; }; then
    insmod "${SF_KO:-/lib/sysfence/sysfence.ko}" || echo "$name: the module could not be loaded again after the test failed"
  fi
  share=$((secs * 100 / budget))
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    verdict=PASS
  else
    failed=$((failed + 1))
    verdict=FAIL
  fi
  echo "TEST-RESULT $verdict $name $secs budget=$budget share=$share%"
  echo "$share $name $secs $budget" >>/tmp/run.shares
done
# The guest's leak check (the kernel's own periodic scans are off,
# qemu/init): after the last test, for all of them. A leaked object stays
# unreferenced, so a leak left by any test of this guest fails the run
# here, as the kernel log's report of it does; the report's backtraces name
# the allocation. Two scans: kmemleak reports an unreferenced object only
# if its contents did not change since the scan before (mm/kmemleak.c: a
# first scan sees every object as changed and only notes its checksum), so
# a single scan reports nothing it has not seen before. (A scan takes 15 to
# 20 s of the emulated debug kernel: the six tests that scanned for
# themselves spent about four minutes of guest time on it.)
if [ -w /sys/kernel/debug/kmemleak ]; then
  sleep 5 # kmemleak ignores objects younger than 5 s
  echo scan >/sys/kernel/debug/kmemleak
  echo scan >/sys/kernel/debug/kmemleak
  leaks=$(cat /sys/kernel/debug/kmemleak)
  if [ -n "$leaks" ]; then
    echo "FAIL: kmemleak after this guest's tests ($(cut -d' ' -f2 /tmp/run.shares | tr '\n' ' ' | sed 's/ $//')):"
    echo "$leaks"
    failed=$((failed + 1))
  else
    echo "kmemleak: no leak after this guest's tests"
  fi
else
  echo "this kernel has no kmemleak: leaks not checked"
fi
echo "--- time per test, by share of its budget (over 50%: needs room)"
sort -rn /tmp/run.shares | while read -r share name secs budget; do
  flag=""
  [ "$share" -gt 50 ] && flag="  <- over half its budget"
  printf '%4s%%  %5s s of %5s s  %s%s\n' "$share" "$secs" "$budget" "$name" "$flag"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
