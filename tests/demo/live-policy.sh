# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest (see scripts/demo.sh): a container-like workload in
# its own cgroup gets Docker's default seccomp profile, unchanged, while it
# runs; the profile's denial shows up in `sysfence events`; the rule is
# relaxed live and the call succeeds; the policy is removed. The workload is
# never restarted.
set -e
step() { printf '\n== %s\n' "$*"; }
step "kernel $(uname -r), $(dmesg | grep -o 'sysfence: loaded.*' | tail -n 1)"
sysfence status

cg=/sys/fs/cgroup/demo-container
mkdir -p "$cg"
# The workload: a shell that sets the host name (sethostname(2), which
# Docker's profile refuses without CAP_SYS_ADMIN) twice a second and says
# what happened. It is started once and never restarted.
sh -c 'echo $$ >'"$cg"'/cgroup.procs
  while :; do
    if out=$(hostname demo-container 2>&1); then echo "   [workload pid $$] sethostname -> ok"
    else echo "   [workload pid $$] sethostname -> ${out##*: }"; fi
    sleep 0.5
  done' &
worker=$!
sleep 1.2
step "the workload runs in cgroup $(stat -c %i "$cg") ($(cat /proc/$worker/cgroup)), unfiltered"
sleep 1

docker_caps=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
step "sysfence policy apply --cgroup demo-container --caps <Docker's> tests/fixtures/docker-default.json"
sysfence events --cgroup "$cg" --count 2 --duration 5 >/tmp/demo-events &
ev=$!
sleep 0.5
sysfence policy apply --cgroup demo-container --caps "$docker_caps" tests/fixtures/docker-default.json
sleep 1.5
step "events the kernel reported meanwhile (sysfence events)"
wait "$ev" || true
cat /tmp/demo-events

step "relax it live: the same profile with sethostname allowed"
sed 's/"accept",/"accept", "sethostname",/' tests/fixtures/docker-default.json >/tmp/relaxed.json
sysfence policy diff --cgroup demo-container --caps "$docker_caps" /tmp/relaxed.json || true
sysfence policy apply --cgroup demo-container --caps "$docker_caps" /tmp/relaxed.json
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
