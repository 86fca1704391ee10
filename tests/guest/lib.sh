# SPDX-License-Identifier: GPL-2.0
# Helpers for guest tests (busybox sh). A test is a script tests/guest/t-*.sh;
# it passes when it exits 0. Source this file from a test.

SF_KO=${SF_KO:-/lib/sysfence/sysfence.ko}

# The machine, which is also the name of its native ABI in policies and
# events: x86_64 or aarch64. Tests name syscalls (sf-syscall getppid) or
# take their numbers from nr, never an architecture's numbers.
ARCH=$(uname -m)
# nr NAME: the number of syscall NAME in the native ABI.
nr() { sf-syscall --nr "$1"; }
# The compat ABI (ia32 on x86_64, arm on arm64; getppid is 64 in both),
# and the native ABI's AUDIT_ARCH_ value (seccomp's siginfo and filters).
case $ARCH in
  x86_64) COMPAT_ABI=ia32 AUDIT_ARCH=0xc000003e ;;
  aarch64) COMPAT_ABI=arm AUDIT_ARCH=0xc00000b7 ;;
  *) COMPAT_ABI=none AUDIT_ARCH=none ;;
esac

# compat_getppid CGROUP: getppid through the compat ABI, from a new process
# in CGROUP: on x86_64 sf-syscall's int $0x80, on arm64 an AArch32
# program (the armhf busybox's shell, which sets $PPID from getppid as it
# starts, so a refusal shows as -ERRNO in 32 bits). Prints "ok", "err
# ERRNO" or, when the process died of a signal, "signal SIG".
compat_getppid() {
  case $ARCH in
    x86_64) _out=$(in_cg "$1" sf-syscall --abi ia32 getppid 2>/dev/null) ;;
    aarch64) _out=$(in_cg "$1" busybox-armhf sh -c 'echo $PPID' 2>/dev/null) ;;
    *) fail "no compat ABI on $ARCH" ;;
  esac
  _rc=$?
  if [ "$_rc" -gt 128 ]; then
    echo "signal $((_rc - 128))"
    return
  fi
  _n=${_out#ok }
  case $_n in
    '' | *[!0-9]*) echo "$_out" ;; # "err ERRNO", or anything else as it is
    *) if [ "$_n" -lt 4294963200 ]; then echo ok; else echo "err $((4294967296 - _n))"; fi ;;
  esac
}

# mark WHAT: print how far into the test WHAT was reached, so that a slow
# test shows where its time goes.
SF_T0=$(date +%s)
mark() { echo "$(basename "$0" .sh): $1 at $(($(date +%s) - SF_T0)) s"; }

# fail MSG...: print why and end the test as failed.
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# wait_subscribed PID: return once process PID (a `sysfence events`
# started in the background) holds a generic netlink socket that has joined
# a multicast group, i.e. the kernel delivers events to it; fail if it ends
# first or is not listening within 30 s. A fixed sleep is not enough in a
# loaded guest. (/proc/net/netlink shows the first 32 groups of each socket;
# sysfence's group is among the first few a kernel assigns.)
wait_subscribed() {
  _w=0
  while [ "$_w" -lt 300 ]; do
    kill -0 "$1" 2>/dev/null || fail "the events subscriber $1 ended before it was listening"
    _inodes=$(ls -l /proc/"$1"/fd 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p')
    for _i in $_inodes; do
      awk -v i="$_i" '$2 == 16 && $4 != "00000000" && $10 == i { f = 1 } END { exit !f }' /proc/net/netlink && return 0
    done
    sleep 0.1
    _w=$((_w + 1))
  done
  fail "the events subscriber $1 was not listening after 30 s"
}

# wait_line FILE PATTERN WHAT: return once the last line of FILE (the
# output of a workload started in the background) matches PATTERN; fail
# naming WHAT if it does not within 30 s. For "the workload now sees the
# new answer" checks, where a fixed sleep is not enough in a loaded guest.
wait_line() {
  _w=0
  until tail -n 1 "$1" 2>/dev/null | grep -q "$2"; do
    [ "$_w" -lt 300 ] || fail "$3: $(tail -n 3 "$1" 2>/dev/null)"
    sleep 0.1
    _w=$((_w + 1))
  done
}

# wait_for WHAT CMD...: return once CMD succeeds (tried every 0.2 s); fail
# naming WHAT if it has not within 30 s.
wait_for() {
  _wf_what=$1
  shift
  _wf_n=0
  until "$@"; do
    [ "$_wf_n" -lt 150 ] || fail "waited 30 s for $_wf_what"
    sleep 0.2
    _wf_n=$((_wf_n + 1))
  done
}

# events_pending CG [BASE]: how many of CG's eventful decisions (denied,
# logged, trapped, killed) are not yet counted as an event sent or
# dropped (docs/ABI.md, "Events"), less BASE (the
# same difference taken before, for a cgroup whose earlier decisions had no
# subscriber). The call that makes an event returns before the ring's work
# item multicasts it and counts it sent, so counters read right after a
# burst lag; `wait_for "..." events_settled CG BASE` waits for them, once
# the calls have returned (an event is queued before its decision is
# counted). Refused moves out of a contained cgroup count as denied
# without an event: not for a cgroup that has them.
events_pending() {
  _j=$(sysfence stats --cgroup "$1" --json)
  _n() { echo "$_j" | sed -E "s/.*\"$1\":([0-9]+).*/\1/"; }
  echo $(($(_n denied) + $(_n logged) + $(_n trapped) + $(_n killed) - $(_n events_sent) - $(_n events_dropped) - ${2:-0}))
}
events_settled() { [ "$(events_pending "$@")" -le 0 ]; }

# module_loaded: true while sysfence.ko is loaded.
module_loaded() { [ -d /sys/module/sysfence ]; }

# cg_new NAME: create (or reuse) a cgroup under /sys/fs/cgroup; prints its path.
cg_new() {
  mkdir -p "/sys/fs/cgroup/$1" || fail "cannot create cgroup $1"
  echo "/sys/fs/cgroup/$1"
}

# in_cg NAME CMD...: run CMD as a new process inside cgroup NAME.
in_cg() {
  _cg=$1
  shift
  sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# spawn_in_cg NAME CMD... &: like in_cg, for background jobs only: the
# background shell becomes CMD, so $! is CMD's pid (kill and wait work).
spawn_in_cg() {
  _cg=$1
  shift
  exec sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$_cg" "$@"
}

# apply NAME: set cgroup NAME's policy from standard input (YAML).
apply() { sysfence policy apply --cgroup "$1" - 2>/dev/null || fail "applying a policy to $1 failed"; }

# expect_run WHAT WANT CMD...: CMD's output must be WANT.
expect_run() {
  _what=$1 _want=$2
  shift 2
  _got=$("$@" 2>&1)
  [ "$_got" = "$_want" ] || fail "$_what: got '$_got', want '$_want'"
}

# expect_signal WHAT SIGNAL CMD...: CMD must die of SIGNAL (a number).
expect_signal() {
  _what=$1 _sig=$2
  shift 2
  "$@" >/dev/null 2>&1
  _rc=$?
  [ "$_rc" = $((128 + _sig)) ] || fail "$_what: exit status $_rc, want death by signal $_sig"
}

# stat_of NAME FIELD: one counter of cgroup NAME's policy.
stat_of() { sysfence stats --cgroup "$1" --json | sed -E "s/.*\"$2\":([0-9]+).*/\1/"; }

# host_env_up: make the host root (/host, read-only over 9p) a place where
# host programs that need a live system run with `chroot /host`: the
# guest's proc, sysfs, cgroup2 and dev there, and a tmpfs over /run (not
# over /tmp: a checkout there, as CI's may be, would disappear under it).
# host_env_down undoes it.
_hmounted() { grep -q " $1 " /proc/mounts; }
host_env_up() {
  _hmounted /host/proc || mount -t proc proc /host/proc || fail "mount /host/proc"
  _hmounted /host/sys || mount -t sysfs sysfs /host/sys || fail "mount /host/sys"
  _hmounted /host/sys/fs/cgroup || mount -t cgroup2 cgroup2 /host/sys/fs/cgroup || fail "mount /host/sys/fs/cgroup"
  _hmounted /host/dev || mount -o bind /dev /host/dev || fail "mount /host/dev"
  case $SF_ROOT/ in /host/run/*) fail "the checkout is under /run, which host_env_up hides" ;; esac
  _hmounted /host/run || mount -t tmpfs tmpfs /host/run || fail "mount /host/run"
}
host_env_down() {
  for _d in /host/run /host/dev /host/sys/fs/cgroup /host/sys /host/proc; do
    _hmounted $_d && { umount $_d || umount -l $_d; }
  done
  return 0
}
