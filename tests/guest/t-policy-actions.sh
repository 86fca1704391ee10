# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: kmod/ shared-abi/ manager/src/policy/native.rs
# Every action, as a real syscall outcome, inside the target cgroup and not
# outside it; ia32 and x32 entry, numbers with high bits, argument rules.
. "$(dirname "$0")/lib.sh"
cg_new act >/dev/null
SIGSYS=31

# ERRNO, and nothing outside the cgroup.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
expect_run "errno inside" "err 13" in_cg act sf-syscall 110
expect_run "outside the cgroup" "ok $$" sf-syscall 110
# The kernel dispatches the low 32 bits of rax: high bits must not dodge the rule.
expect_run "high bits in rax" "err 13" in_cg act sf-syscall 0x100000006e
# ia32 entry cannot get around a rule written by name.
expect_run "ia32 getppid" "err 13" in_cg act sf-syscall --abi ia32 64
in_cg act sf-syscall 39 | grep -q '^ok ' || fail "other calls must stay allowed"

# LOG allows and counts.
before=$(stat_of act logged)
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: log}
P
in_cg act sf-syscall 110 | grep -q '^ok ' || fail "log must allow the call"
after=$(stat_of act logged)
[ "$after" -gt "$before" ] || fail "logged counter did not move ($before -> $after)"

# TRAP: SIGSYS to a process that does not handle it.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: trap}
P
expect_signal "trap" $SIGSYS in_cg act sf-syscall 110
# ... with seccomp's siginfo to a process that handles it: SYS_SECCOMP,
# the syscall, AUDIT_ARCH_X86_64, the call address; the call returns ENOSYS.
expect_run "trap siginfo" "sigsys code=1 syscall=110 arch=0xc000003e errno=0 addr_ok=1 ret=-38" in_cg act sf-sigsys 110

# KILL_PROCESS: dies of SIGSYS even with other threads.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: kill-process}
P
expect_signal "kill-process" $SIGSYS in_cg act sf-syscall 110
expect_signal "kill-process, threaded" $SIGSYS in_cg act sf-threads 110

# KILL_THREAD: only the calling thread dies; a lone thread takes the process.
apply act <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: kill-thread}
P
expect_run "kill-thread keeps the main thread" "thread done
main alive" in_cg act sf-threads --result 110
expect_signal "kill-thread, single thread" $SIGSYS in_cg act sf-syscall 110

# A policy naming only x86_64 denies every ia32 call, and x32 numbers.
apply act <<'P'
default: allow
abis: [x86_64]
P
in_cg act sf-syscall 39 | grep -q '^ok ' || fail "x86_64 must stay allowed"
expect_signal "ia32 under an x86_64-only policy" $SIGSYS in_cg act sf-syscall --abi ia32 20
expect_signal "x32 number under an x86_64-only policy" $SIGSYS in_cg act sf-syscall 0x4000006e
apply act <<'P'
default: allow
abis: [x86_64]
badAbi: errno
P
# badAbi errno without a value is EPERM (1).
expect_run "badAbi errno" "err 1" in_cg act sf-syscall --abi ia32 20

# Arguments: socket(AF_VSOCK) refused, socket(AF_INET) allowed; masked-eq on
# clone flags (CLONE_NEWNS = 0x20000).
apply act <<'P'
default: allow
rules:
  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}
  - {syscalls: [clone], action: errno, errno: 1, args: [{index: 0, op: masked-eq, value: 0x20000, valueTwo: 0x20000}]}
P
expect_run "socket(AF_VSOCK)" "err 97" in_cg act sf-syscall 41 40 1 0
in_cg act sf-syscall 41 2 1 0 | grep -q '^ok ' || fail "socket(AF_INET) must be allowed"
expect_run "clone(CLONE_NEWNS)" "err 1" in_cg act sf-syscall 56 0x20011
# clone(SIGCHLD) without CLONE_NEWNS is a fork: both processes print "ok".
[ "$(in_cg act sf-syscall 56 17 | grep -c '^ok ')" = 2 ] || fail "clone(SIGCHLD) must be allowed"

sysfence policy delete --cgroup act 2>/dev/null || fail "delete failed"
expect_run "after delete" "err 38" in_cg act sf-syscall 5000
rmdir /sys/fs/cgroup/act
