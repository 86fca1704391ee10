# SPDX-License-Identifier: GPL-2.0
# budget: 700
# covers: kmod/ shared-abi/ manager/src/cli/status.rs manager/src/kernel/
# sysfence.ko loads, logs its version, and unloads cleanly, 100 times over,
# and 12 more times while policy changes race the unload, leaving nothing
# behind that kmemleak can find (the guest's leak check after its last
# test, tests/guest/run.sh, fails the run on a leak from any of its tests).
. "$(dirname "$0")/lib.sh"

rounds=${SF_LOAD_ROUNDS:-100}
module_loaded && { rmmod sysfence || fail "initial rmmod failed"; }
dmesg -c >/dev/null # count only this test's own load and unload messages

i=0
while [ "$i" -lt "$rounds" ]; do
  insmod "$SF_KO" || fail "insmod failed in round $i"
  module_loaded || fail "module not listed after insmod in round $i"
  rmmod sysfence || fail "rmmod failed in round $i"
  module_loaded && fail "module still listed after rmmod in round $i"
  i=$((i + 1))
done

# rmmod and insmod raced against policy set and delete (issue 17): a change
# in flight while the module unloads must not leave a probe or hook
# registered, free anything twice or leak (the guest's leak check covers
# these rounds too). Two churners set and delete a policy with object rules
# (which attach and detach the hooks) without pause, a third with pauses
# longer than the delayed removal of unused hooks (so that it runs too),
# and two workloads storm opens and connects in the cgroup, one of a file
# the rule refuses (refused calls return through the module's stub, which
# unload must wait for), while the module goes and comes back; after each
# unload no sysfence kprobe or object hook may remain.
race_rounds=${SF_RACE_ROUNDS:-12}
insmod "$SF_KO" || fail "insmod failed before the races"
cg_new race >/dev/null
cat >/tmp/race.yaml <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
objects:
  files:
    - {prefix: /tmp/race-secret, access: [read], action: errno, errno: 13}
P
churn() {
  while [ ! -e /tmp/race.stop ]; do
    sysfence policy apply --cgroup race /tmp/race.yaml >/dev/null 2>&1
    sysfence policy delete --cgroup race >/dev/null 2>&1
  done
}
slow_churn() {
  while [ ! -e /tmp/race.stop ]; do
    sysfence policy apply --cgroup race /tmp/race.yaml >/dev/null 2>&1
    sleep 1
    sysfence policy delete --cgroup race >/dev/null 2>&1
    sleep 2.5
  done
}
rm -f /tmp/race.stop
echo secret >/tmp/race-secret
churn &
c1=$!
churn &
c2=$!
slow_churn &
c3=$!
(spawn_in_cg race sf-obj storm 600 /tmp/race.yaml 9 >/dev/null 2>&1) &
load=$!
(spawn_in_cg race sf-obj storm 600 /tmp/race-secret 9 >/dev/null 2>&1) &
load2=$!
i=0
while [ "$i" -lt "$race_rounds" ]; do
  n=0
  until rmmod sysfence 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -lt 50 ] || fail "rmmod kept failing in race round $i"
    sleep 0.1
  done
  if grep -E 'cgroup_attach_task|sched_cgroup_fork' /sys/kernel/debug/kprobes/list 2>/dev/null; then
    fail "kprobes left registered after rmmod in race round $i"
  fi
  if grep -E '^security_' /sys/kernel/tracing/enabled_functions; then
    fail "object hooks left on after rmmod in race round $i"
  fi
  insmod "$SF_KO" || fail "insmod failed in race round $i"
  sleep 0.2
  i=$((i + 1))
done
touch /tmp/race.stop
wait "$c1" "$c2" "$c3"
kill "$load" "$load2" 2>/dev/null
wait "$load" "$load2" 2>/dev/null
sysfence policy delete --cgroup race >/dev/null 2>&1
rmdir /sys/fs/cgroup/race
rm -f /tmp/race.yaml /tmp/race.stop /tmp/race-secret
rmmod sysfence || fail "rmmod after the races failed"
mark "$race_rounds race rounds"
rounds=$((rounds + race_rounds + 1))

loads=$(dmesg | grep -c 'sysfence: loaded: version ')
unloads=$(dmesg | grep -c 'sysfence: unloaded')
expect_eq "load messages" "$loads" "$rounds"
expect_eq "unload messages" "$unloads" "$rounds"
fv=$(sed -nE 's/^pub const FAMILY_VERSION: u8 = ([0-9]+);/\1/p' "$SF_ROOT/shared-abi/src/proto.rs")
dmesg | grep -m1 "sysfence: loaded: version 0\.1\.0, netlink family sysfence v$fv" >/dev/null ||
  fail "the load message does not carry the version (family v$fv, from proto.rs)"

# Without the module every command says so in one sentence, with exit
# status 3 (status too); nothing is half done.
out=$(sysfence policy list 2>&1)
expect_eq "exit status without the module" "$?" 3
echo "$out" | grep -q '^sysfence: the sysfence kernel module is not loaded: load it' || fail "unclear: $out"
expect_eq "lines of the message" "$(echo "$out" | wc -l)" 1
sysfence status >/dev/null
expect_eq "status without the module" "$?" 3
sysfence status --json | grep -q '"module_loaded":false' || fail "status --json without the module"

# Leave the module loaded, as the next test expects it.
insmod "$SF_KO" || fail "final insmod failed"
echo "$rounds load/unload rounds, no leak"
