# SPDX-License-Identifier: GPL-2.0
# Helpers for guest tests (busybox sh). A test is a script tests/guest/t-*.sh;
# it passes when it exits 0. Source this file from a test.

SF_KO=${SF_KO:-/lib/sysfence/sysfence.ko}

# fail MSG...: print why and end the test as failed.
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# module_loaded: true while sysfence.ko is loaded.
module_loaded() { [ -d /sys/module/sysfence ]; }

# kmemleak_scan: force a scan now and print any suspected leak (empty: none).
# kmemleak ignores objects younger than 5 s, so callers sleep that long first.
kmemleak_scan() {
  [ -w /sys/kernel/debug/kmemleak ] || fail "kmemleak is not available in this kernel"
  echo scan >/sys/kernel/debug/kmemleak
  cat /sys/kernel/debug/kmemleak
}
