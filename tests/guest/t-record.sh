# SPDX-License-Identifier: GPL-2.0
# budget: 90
# covers: kmod/ manager/src/cli/record.rs manager/src/policy/oci.rs manager/src/cli/run.rs
# sysfence record: learn what a running workload calls, write a minimal OCI
# profile; the same workload replays under it, a call it never made is
# refused, the container's own policy is back afterwards, and the learning
# makes no events.
. "$(dirname "$0")/lib.sh"

# The workload: files, a directory listing, a pipe, fork and exec, an
# x86_64 getppid (110) and an ia32 getpid (20).
cat >/tmp/work.sh <<'W'
cat /proc/self/status >/dev/null
ls / >/dev/null
echo hello | wc -c >/dev/null
sf-syscall 110 >/dev/null
sf-syscall --abi ia32 20 >/dev/null
W
cg_new rec >/dev/null
rm -f /tmp/rec.stop
spawn_in_cg rec sh -c 'while [ ! -e /tmp/rec.stop ]; do sh /tmp/work.sh || echo "workload failed" >>/tmp/rec.err; sleep 0.2; done' &
w=$!
# A thread that entered a call before the recording and sleeps through it
# (pause, 34): never seen entering it, it is added from /proc/TID/syscall,
# else the profile would refuse the call the next time it is made.
spawn_in_cg rec sf-syscall 34 &
paused=$!
sysfence events --json --cgroup rec --duration 4 >/tmp/rec.events &
ev=$!
wait_subscribed "$ev"
# --runtime-base none: the profile is replayed by `sysfence run`, where no
# container runtime runs under it (t-docker and t-podman test the base).
sysfence record --cgroup rec --duration 3 --runtime-base none -o /tmp/rec.json --json >/tmp/rec.out 2>/tmp/rec.log \
  || fail "record failed: $(cat /tmp/rec.log)"
wait "$ev"
kill "$paused"
touch /tmp/rec.stop
wait "$w"
[ -e /tmp/rec.err ] && fail "the workload failed while recorded: $(cat /tmp/rec.err)"
expect_eq "events while recording" "$(cat /tmp/rec.events)" ""
expect_eq "policy after recording a cgroup that had none" "$(sysfence policy list --json)" "[]"
grep -q '"getppid"' /tmp/rec.out || fail "getppid not recorded: $(cat /tmp/rec.out)"
grep -q '"ia32":\[[^]]*"getpid"' /tmp/rec.out || fail "ia32 getpid not recorded: $(cat /tmp/rec.out)"
grep -q '"execve"' /tmp/rec.out || fail "execve not recorded: $(cat /tmp/rec.out)"
grep -q '"blocked":{"x86_64":\[[^]]*"pause"' /tmp/rec.out || fail "the call a thread slept in is not added: $(cat /tmp/rec.out)"
grep -q '"pause"' /tmp/rec.json || fail "pause is not in the profile"
grep -q '"sched_yield"' /tmp/rec.out && fail "a call never made was recorded: $(cat /tmp/rec.out)"
grep -q '"x32"' /tmp/rec.out && fail "x32 recorded though never used: $(cat /tmp/rec.out)"
grep -q '"defaultAction": "SCMP_ACT_ERRNO"' /tmp/rec.json || fail "not an OCI profile: $(head -5 /tmp/rec.json)"
grep -q 'SCMP_ARCH_X86"' /tmp/rec.json || fail "the ia32 ABI is missing from the profile"
grep -q 'SCMP_ARCH_X32' /tmp/rec.json && fail "x32 in the profile though never used"

# Replay: the same workload runs under the profile, from its first instruction.
sysfence run --policy /tmp/rec.json -- sh /tmp/work.sh >/tmp/replay.out 2>&1 \
  || fail "the workload failed under its recorded profile: $(cat /tmp/replay.out)"
# What it never did is refused with EPERM: sched_yield (24), and on ia32
# too (158). (An OCI profile's names hold for every ABI it lists, so a name
# recorded on one ABI is allowed on each.)
expect_run "sched_yield outside the profile" "ok 0" sf-syscall 24
expect_run "sched_yield under the profile" "err 1" sysfence run --policy /tmp/rec.json -- sf-syscall 24
expect_run "ia32 sched_yield under the profile" "err 1" sysfence run --policy /tmp/rec.json -- sf-syscall --abi ia32 158

# Recording under an existing policy: what it refuses is not learned, and
# the policy is back, byte for byte, afterwards.
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply rec
sysfence policy get --cgroup rec >/tmp/rec.before
rm -f /tmp/rec.stop
spawn_in_cg rec sh -c 'while [ ! -e /tmp/rec.stop ]; do sf-syscall 110 >/dev/null; sf-syscall 39 >/dev/null; sleep 0.1; done' &
w=$!
sysfence record --cgroup rec --duration 2 --runtime-base none -o /tmp/rec2.json --json >/tmp/rec2.out 2>/dev/null || fail "second record failed"
touch /tmp/rec.stop
wait "$w"
sysfence policy get --cgroup rec >/tmp/rec.after
cmp -s /tmp/rec.before /tmp/rec.after || fail "the policy was not restored: $(cat /tmp/rec.after)"
grep -q '"getpid"' /tmp/rec2.out || fail "getpid not recorded: $(cat /tmp/rec2.out)"
grep -q '"getppid"' /tmp/rec2.out && fail "a refused call was recorded: $(cat /tmp/rec2.out)"

# Ctrl-C ends a recording early; the profile is still written and the
# policy restored.
rm -f /tmp/rec3.json
sysfence record --cgroup rec --duration 600 -o /tmp/rec3.json 2>/tmp/rec3.err &
r=$!
# Its "recording cgroup ..." line comes once the handler is in place (a
# Ctrl-C before that ends it the default way, as any program).
wait_line /tmp/rec3.err "recording cgroup" "the recording to start"
kill -INT "$r"
wait "$r" || fail "record did not end cleanly on SIGINT"
[ -s /tmp/rec3.json ] || fail "no profile written after SIGINT"
sysfence policy get --cgroup rec >/tmp/rec.after
cmp -s /tmp/rec.before /tmp/rec.after || fail "the policy was not restored after SIGINT"

# Bad input changes nothing.
sysfence record --cgroup rec --duration 0 -o /tmp/x.json 2>/dev/null && fail "a zero duration was accepted"
sysfence record --cgroup /sys/fs/cgroup/no-such -o /tmp/x.json --duration 1 2>/dev/null && fail "a missing cgroup was accepted"
[ -e /tmp/x.json ] && fail "a profile was written for bad input"
sysfence policy delete --cgroup rec 2>/dev/null
rmdir /sys/fs/cgroup/rec
exit 0
