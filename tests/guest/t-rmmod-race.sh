# SPDX-License-Identifier: GPL-2.0
# budget: 120
# covers: kmod/
# rmmod and insmod raced against policy set and delete (issue 17): a policy
# change in flight while the module unloads must not leave a probe or hook
# registered, free anything twice or leak. Two churners set and delete a
# policy with object rules (which attach and detach the hooks) without
# pause while the module is unloaded and loaded again, round after round;
# after each unload no sysfence kprobe may remain.
. "$(dirname "$0")/lib.sh"

rounds=${SF_RACE_ROUNDS:-20}
echo clear >/sys/kernel/debug/kmemleak || fail "kmemleak is not available"
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
rm -f /tmp/race.stop
churn &
c1=$!
churn &
c2=$!
# A workload in the cgroup keeps the gate and the hooks busy.
in_cg race sf-obj storm 600 /tmp/race.yaml 9 >/dev/null 2>&1 &
load=$!

i=0
while [ "$i" -lt "$rounds" ]; do
  n=0
  until rmmod sysfence 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -lt 50 ] || fail "rmmod kept failing in round $i"
    sleep 0.1
  done
  if grep -E 'security_|cgroup_attach_task|sched_cgroup_fork' /sys/kernel/debug/kprobes/list 2>/dev/null; then
    fail "kprobes left registered after rmmod in round $i"
  fi
  insmod "$SF_KO" || fail "insmod failed in round $i"
  sleep 0.2
  i=$((i + 1))
done
touch /tmp/race.stop
wait "$c1" "$c2"
kill "$load" 2>/dev/null
wait "$load" 2>/dev/null
mark "$rounds rounds"
sysfence policy delete --cgroup race >/dev/null 2>&1
rmdir /sys/fs/cgroup/race
rm -f /tmp/race.yaml /tmp/race.stop

sleep 6
kmemleak_scan >/dev/null
leaks=$(kmemleak_scan)
[ -z "$leaks" ] || { echo "$leaks"; fail "kmemleak reports leaks after the races"; }
echo "t-rmmod-race: $rounds unloads raced against policy changes, nothing left behind"
