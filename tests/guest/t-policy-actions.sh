# SPDX-License-Identifier: GPL-2.0
# budget: 90
# arm64: yes
# covers: kmod/ shared-abi/ manager/src/policy/native.rs
# Every action, as a real syscall outcome, inside the target cgroup and not
# outside it; the compat ABI (ia32 on x86_64, AArch32 on arm64), x32
# numbers (x86_64 only: arm64 has no third ABI), numbers with high bits,
# argument rules. Runs on x86_64 and arm64 (scripts/test-arm64.sh).
. "$(dirname "$0")/lib.sh"
cg_new act >/dev/null
SIGSYS=31

# ERRNO, and nothing outside the cgroup.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
expect_run "errno inside" "err 13" in_cg act sf-syscall getppid
expect_run "outside the cgroup" "ok $$" sf-syscall getppid
# The kernel dispatches the low 32 bits of the number (rax on x86_64, x8
# on arm64): high bits must not dodge the rule.
expect_run "high bits in the number" "err 13" in_cg act sf-syscall $(((1 << 36) + $(nr getppid)))
# The compat ABI cannot get around a rule written by name.
expect_eq "$COMPAT_ABI getppid" "$(compat_getppid act)" "err 13"
in_cg act sf-syscall getpid | grep -q '^ok ' || fail "other calls must stay allowed"

# LOG allows and counts.
before=$(stat_of act logged)
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: log}
P
in_cg act sf-syscall getppid | grep -q '^ok ' || fail "log must allow the call"
after=$(stat_of act logged)
[ "$after" -gt "$before" ] || fail "logged counter did not move ($before -> $after)"

# TRAP: SIGSYS to a process that does not handle it.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: trap}
P
expect_signal "trap" $SIGSYS in_cg act sf-syscall getppid
# ... with seccomp's siginfo to a process that handles it: SYS_SECCOMP,
# the syscall, the AUDIT_ARCH_ value, the call address; the call returns
# ENOSYS.
expect_run "trap siginfo" "sigsys code=1 syscall=$(nr getppid) arch=$AUDIT_ARCH errno=0 addr_ok=1 ret=-38" \
  in_cg act sf-sigsys getppid

# KILL_PROCESS: dies of SIGSYS even with other threads.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: kill-process}
P
expect_signal "kill-process" $SIGSYS in_cg act sf-syscall getppid
expect_signal "kill-process, threaded" $SIGSYS in_cg act sf-threads getppid

# KILL_THREAD: only the calling thread dies; a lone thread takes the process.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: kill-thread}
P
expect_run "kill-thread keeps the main thread" "thread done
main alive" in_cg act sf-threads --result getppid
expect_signal "kill-thread, single thread" $SIGSYS in_cg act sf-syscall getppid

# A policy naming only the native ABI denies every compat call (and on
# x86_64 x32 numbers).
apply act <<P
default: allow
abis: [$ARCH]
P
in_cg act sf-syscall getpid | grep -q '^ok ' || fail "$ARCH must stay allowed"
expect_eq "$COMPAT_ABI under an $ARCH-only policy" "$(compat_getppid act)" "signal $SIGSYS"
if [ "$ARCH" = x86_64 ]; then
  expect_signal "x32 number under an x86_64-only policy" $SIGSYS in_cg act sf-syscall 0x4000006e
fi
apply act <<P
default: allow
abis: [$ARCH]
badAbi: errno
P
# badAbi errno without a value is EPERM (1).
if [ "$ARCH" = x86_64 ]; then
  expect_eq "badAbi errno" "$(compat_getppid act)" "err 1"
else
  # An AArch32 program gets EPERM from its first call (set_tls) on, so it
  # cannot start: it dies of its own fault, not of SIGSYS, and its
  # refused calls are counted as denied, none as killed.
  denied=$(stat_of act denied) killed=$(stat_of act killed)
  out=$(compat_getppid act)
  [ "$out" != "signal $SIGSYS" ] && [ "$out" != ok ] || fail "badAbi errno: the AArch32 program got '$out'"
  [ "$(stat_of act denied)" -gt "$denied" ] || fail "badAbi errno: no refused call counted"
  expect_eq "badAbi errno: nothing killed" "$(stat_of act killed)" "$killed"
fi

# Arguments: socket(AF_VSOCK) refused, socket(AF_INET) allowed; masked-eq on
# clone flags (CLONE_NEWNS = 0x20000).
apply act <<'P'
default: allow
rules:
  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}
  - {syscalls: [clone], action: errno, errno: 1, args: [{index: 0, op: masked-eq, value: 0x20000, valueTwo: 0x20000}]}
P
expect_run "socket(AF_VSOCK)" "err 97" in_cg act sf-syscall socket 40 1 0
in_cg act sf-syscall socket 2 1 0 | grep -q '^ok ' || fail "socket(AF_INET) must be allowed"
expect_run "clone(CLONE_NEWNS)" "err 1" in_cg act sf-syscall clone 0x20011
# clone(SIGCHLD) without CLONE_NEWNS is a fork: both processes print "ok".
[ "$(in_cg act sf-syscall clone 17 | grep -c '^ok ')" = 2 ] || fail "clone(SIGCHLD) must be allowed"

sysfence policy delete --cgroup act 2>/dev/null || fail "delete failed"
expect_run "after delete" "err 38" in_cg act sf-syscall 5000
rmdir /sys/fs/cgroup/act
