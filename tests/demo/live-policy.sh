# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest (see scripts/demo.sh): a container-like workload in
# its own cgroup, whose syscall policy is set, changed and removed while it
# runs, with no restart.
set -e
step() { printf '\n== %s\n' "$*"; }
step "kernel $(uname -r), $(dmesg | grep -o 'sysfence: loaded.*' | tail -n 1)"
sysfence status

cg=/sys/fs/cgroup/demo-container
mkdir -p "$cg"
# The workload: a shell that creates (and removes) a directory twice a
# second and says what happened. It is started once and never restarted.
sh -c 'echo $$ >'"$cg"'/cgroup.procs
  while :; do
    if out=$(mkdir /tmp/demo-dir 2>&1); then rmdir /tmp/demo-dir; echo "   [workload pid $$] mkdir -> ok"
    else echo "   [workload pid $$] mkdir -> ${out##*: }"; fi
    sleep 0.5
  done' &
worker=$!
sleep 1.2
step "the workload runs in cgroup $(stat -c %i "$cg") ($(cat /proc/$worker/cgroup)), unfiltered"
sleep 1

step "sysfence policy apply: deny mkdir with EPERM, allow everything else"
cat >/tmp/deny-mkdir.yaml <<'P'
default: allow
rules:
  - {syscalls: [mkdir, mkdirat], action: errno, errno: 1}
P
cat /tmp/deny-mkdir.yaml
sysfence events --cgroup "$cg" --count 2 --duration 5 >/tmp/demo-events &
ev=$!
sleep 0.5
sysfence policy apply --cgroup demo-container /tmp/deny-mkdir.yaml
sleep 1.5
step "events the kernel reported meanwhile (sysfence events)"
wait "$ev" || true
cat /tmp/demo-events

step "change it live: log mkdir instead of denying it"
printf 'default: allow\nrules:\n  - {syscalls: [mkdir, mkdirat], action: log}\n' | sysfence policy apply --cgroup demo-container -
sleep 1.5
step "counters of the policy (sysfence stats)"
sysfence stats --cgroup demo-container

step "sysfence policy delete: back to unfiltered"
sysfence policy delete --cgroup demo-container
sleep 1.2
kill -0 "$worker" && echo "   the same workload process ($worker) ran through every change"
echo 1 >"$cg/cgroup.kill" # the workload and whatever it is running
wait "$worker" 2>/dev/null || true
while [ -n "$(cat "$cg/cgroup.procs")" ]; do sleep 0.1; done
rmdir "$cg"
