# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: kmod/ manager/src/cli/run.rs
# sysfence run: the policy is in force from the command's execve on, the
# exit status passes through, the transient cgroup is removed afterwards.
. "$(dirname "$0")/lib.sh"
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' >/tmp/run.yaml

expect_run "policy in force" "err 13" sysfence run --policy /tmp/run.yaml -- sf-syscall 110
sysfence run --policy /tmp/run.yaml -- sh -c 'exit 7'
expect_eq "exit status" "$?" 7
sysfence run -- sh -c 'kill -9 $$' 2>/dev/null
expect_eq "death by signal" "$?" 137
sysfence run -- /no/such/program 2>/dev/null
expect_eq "not found" "$?" 127
out=$(sysfence run --policy /tmp/missing.yaml -- true 2>&1)
expect_eq "sysfence's own failure" "$?" 125
echo "$out" | grep -q 'missing.yaml' || fail "unclear error: $out"

# From before the first instruction: the execve that starts the command is
# already decided by the policy (logged here).
printf 'default: allow\nrules:\n  - {syscalls: [execve], action: log}\n' >/tmp/log-exec.yaml
sysfence events --json --count 1 --duration 20 >/tmp/run-events &
sub=$!
wait_subscribed "$sub"
sysfence run --policy /tmp/log-exec.yaml -- sf-syscall 39 >/dev/null
wait "$sub" || fail "no event for the command's execve"
grep -q '"syscall":"execve"' /tmp/run-events || fail "the execve was not decided by the policy: $(cat /tmp/run-events)"

# A denied execve: the command never starts.
printf 'default: allow\nrules:\n  - {syscalls: [execve], action: errno, errno: 1}\n' >/tmp/no-exec.yaml
sysfence run --policy /tmp/no-exec.yaml -- sf-syscall 39 >/tmp/run.out 2>&1 && fail "a command started although execve was denied"
grep -q '^ok' /tmp/run.out && fail "the command ran: $(cat /tmp/run.out)"

# Live change of a running command's policy, through its transient cgroup;
# leftovers are killed and everything removed at the end.
# The command runs until the test lets it end (no fixed window: a loaded
# guest may take seconds to start it).
rm -f /tmp/live-run.stop /tmp/live-run.out
sysfence run --name live-run --policy /tmp/run.yaml -- \
  sh -c 'sf-loop getppid 20 & while [ ! -e /tmp/live-run.stop ]; do sleep 0.1; done; echo done' >/tmp/live-run.out &
r=$!
wait_line /tmp/live-run.out '^err 13' "not filtered"
grep -q '^ok' /tmp/live-run.out && fail "not filtered from the start: $(cat /tmp/live-run.out)"
printf 'default: allow\n' | sysfence policy apply --cgroup live-run - 2>/dev/null || fail "live change failed"
wait_line /tmp/live-run.out '^ok' "the live change was not seen"
touch /tmp/live-run.stop
wait "$r" || fail "the command failed"
grep -q '^done' /tmp/live-run.out || fail "the command did not end normally: $(cat /tmp/live-run.out)"
[ ! -e /sys/fs/cgroup/live-run ] || fail "the transient cgroup was not removed"
pidof sf-loop && fail "a leftover process survived the run"
ls /sys/fs/cgroup | grep -q sysfence-run- && fail "transient cgroups left behind: $(ls /sys/fs/cgroup)"
expect_eq "policies left" "$(sysfence policy list --json)" "[]"
