#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest test driver: runs every tests/guest/t-*.sh (or those named on the
# command line), each in its own shell with a time limit, and prints
#   TEST-RESULT PASS|FAIL NAME SECONDS
# per test and a last line "N passed, M failed". A test also fails when the
# kernel log gains a bug report (qemu/splat-patterns) while it runs.
here=$(cd "$(dirname "$0")" && pwd)
patterns=$here/../../qemu/splat-patterns
# Each test's limit: t-agent, the longest, takes about 600 s on the emulated
# debug kernel (containerd, five containers, the agent).
per_test_timeout=${SF_TEST_TIMEOUT:-900}
grep -v '^#' "$patterns" >/tmp/splat-patterns

if [ $# -gt 0 ]; then
  tests=$(for t in "$@"; do echo "$here/$t"; done)
else
  tests=$(ls "$here"/t-*.sh)
fi
passed=0 failed=0
for t in $tests; do
  name=$(basename "$t" .sh)
  # Consume the log so far; the serial console keeps the whole log anyway.
  dmesg -c >/dev/null
  start=$(date +%s)
  echo "=== $name"
  timeout -s KILL "$per_test_timeout" sh "$t"
  rc=$?
  secs=$(($(date +%s) - start))
  dmesg -c >/tmp/dmesg.new
  if grep -E -f /tmp/splat-patterns /tmp/dmesg.new >/tmp/dmesg.splat; then
    echo "kernel log reported a bug during $name:"
    cat /tmp/dmesg.new
    rc=99
  fi
  [ "$rc" = 137 ] && echo "$name: killed after ${per_test_timeout}s"
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "TEST-RESULT PASS $name $secs"
  else
    failed=$((failed + 1))
    echo "TEST-RESULT FAIL $name $secs"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
