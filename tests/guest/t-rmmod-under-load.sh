# SPDX-License-Identifier: GPL-2.0
# budget: 180
# covers: kmod/ shared-abi/
# rmmod while filtered tasks storm syscalls: the probe detaches, callers in
# flight finish, everything is freed (the guest's leak check after its
# last test, tests/guest/run.sh, finds what is not) and every task is unfiltered.
. "$(dirname "$0")/lib.sh"
cg_new storm >/dev/null
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}\n' | apply storm
spawn_in_cg storm sf-hammer 2 8 >/dev/null &
h1=$!
spawn_in_cg storm sf-loop 110 1 >/tmp/storm.out &
h2=$!
sleep 2
rmmod sysfence || fail "rmmod under load failed"
module_loaded && fail "module still loaded"
# The still-running task is unfiltered now.
i=0
while [ "$(tail -n 1 /tmp/storm.out)" != "ok" ]; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || fail "the task stayed filtered after rmmod"
  sleep 0.1
done
expect_run "new task unfiltered" "ok" sh -c 'echo $$ >/sys/fs/cgroup/storm/cgroup.procs && sf-syscall 110 | cut -c1-2'
kill "$h2"
wait "$h1"
insmod "$SF_KO" || fail "insmod after rmmod failed"
expect_eq "policies after reload" "$(sysfence status --json | sed -E 's/.*"policies":([0-9]+).*/\1/')" "0"
rmdir /sys/fs/cgroup/storm
