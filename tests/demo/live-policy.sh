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
# The workload: a shell that calls uname(2) twice a second and says what
# happened. It is started once and never restarted.
sh -c 'echo $$ >'"$cg"'/cgroup.procs
  while :; do
    if out=$(uname -n 2>&1); then echo "   [workload pid $$] uname -> ok ($out)"
    else echo "   [workload pid $$] uname -> $out"; fi
    sleep 0.5
  done' &
worker=$!
sleep 1.2
step "the workload runs in cgroup $(stat -c %i "$cg") ($(cat /proc/$worker/cgroup)), unfiltered"
sleep 1

step "sysfence policy apply: deny uname with EPERM, allow everything else"
cat >/tmp/deny-uname.yaml <<'P'
default: allow
rules:
  - {syscalls: [uname], action: errno, errno: 1}
P
cat /tmp/deny-uname.yaml
sysfence events --cgroup "$cg" --count 2 --duration 5 >/tmp/demo-events &
ev=$!
sleep 0.5
sysfence policy apply --cgroup demo-container /tmp/deny-uname.yaml
sleep 1.5
step "events the kernel reported meanwhile (sysfence events)"
wait "$ev" || true
cat /tmp/demo-events

step "change it live: log uname instead of denying it"
printf 'default: allow\nrules:\n  - {syscalls: [uname], action: log}\n' | sysfence policy apply --cgroup demo-container -
sleep 1.5
step "counters of the policy (sysfence stats)"
sysfence stats --cgroup demo-container

step "sysfence policy delete: back to unfiltered"
sysfence policy delete --cgroup demo-container
sleep 1.2
kill -0 "$worker" && echo "   the same workload process ($worker) ran through every change"
kill "$worker"
wait "$worker" 2>/dev/null || true
rmdir "$cg"
