# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: kmod/ shared-abi/
# Only tasks under a policy take the syscall slow path, yet every way a
# task comes under a policy filters it from its next call: a policy set on a
# cgroup whose tasks already run, a running multi-threaded process moved in
# from outside, a child created into it with clone3(CLONE_INTO_CGROUP), a
# nested cgroup made later; and another syscall tracer (ftrace) still sees
# every task.
. "$(dirname "$0")/lib.sh"

cg_new slow >/dev/null
# 1. Tasks already running in the cgroup when its first policy arrives.
spawn_in_cg slow sf-loop 110 20 >/tmp/slow1.out &
l=$!
wait_line /tmp/slow1.out '^ok' "loop not running"
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply slow
wait_line /tmp/slow1.out 'err 13' "a task running before the first policy is not filtered"
kill "$l"
wait "$l" 2>/dev/null

# 2. A running process with threads, moved in from outside; every thread.
rm -f /tmp/slow-go
sf-obj threads 4 /tmp/slow-go 110 >/tmp/slow2.out &
t=$!
sleep 0.5
echo "$t" >/sys/fs/cgroup/slow/cgroup.procs || fail "cannot move the process"
touch /tmp/slow-go
wait "$t"
expect_eq "threads filtered after the move" "$(grep -c 'err 13' /tmp/slow2.out)" 4

# 3. clone3(CLONE_INTO_CGROUP) from an unfiltered parent: the child's first
# call is filtered.
expect_run "clone into a filtered cgroup" "err 13" sf-obj clone-into /sys/fs/cgroup/slow 110
expect_run "clone into the root" "ok" sf-obj clone-into /sys/fs/cgroup 110

# 4. A nested cgroup created later, and a task moving into it.
cg_new slow/inner >/dev/null
expect_run "nested, created after the policy" "err 13" in_cg slow/inner sf-syscall 110

# 5. Unfiltered tasks stay unfiltered (and correct).
expect_run "outside" "ok" sf-obj clone-into /sys/fs/cgroup 110

# 6. Another tracer of sys_enter sees every task within about a second.
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs nodev "$T" 2>/dev/null
[ -w "$T/events/raw_syscalls/sys_enter/enable" ] || fail "tracefs raw_syscalls not available"
echo >"$T/trace"
echo 1 >"$T/events/raw_syscalls/sys_enter/enable"
sleep 2.5
sf-bench 39 1000 1 >/dev/null
echo 0 >"$T/events/raw_syscalls/sys_enter/enable"
grep -q 'sf-bench.*sys_enter: NR 39' "$T/trace" || fail "ftrace missed the syscalls of an unfiltered task: $(grep -c sys_enter "$T/trace") lines"
dmesg | grep -q 'another syscall tracer is active' || fail "the module did not notice the other tracer"
# ...and filtering still holds.
expect_run "filtered with ftrace on" "err 13" in_cg slow sf-syscall 110

sysfence policy delete --cgroup slow 2>/dev/null
rmdir /sys/fs/cgroup/slow/inner /sys/fs/cgroup/slow
# The module was left in "every task" mode: reload it for the next tests.
rmmod sysfence && insmod "$SF_KO" || fail "reload failed"
exit 0
