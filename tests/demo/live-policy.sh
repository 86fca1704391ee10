# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest (see scripts/demo.sh): a workload in its own cgroup,
# as a container runtime would place it, and the module's view of it.
set -e
echo "== kernel: $(uname -r), module: $(dmesg | grep -o 'sysfence: loaded.*' | tail -n 1)"
sysfence status

mkdir -p /sys/fs/cgroup/demo-container
sh -c 'echo $$ >/sys/fs/cgroup/demo-container/cgroup.procs; while :; do sf-syscall 110 >/dev/null; sleep 0.2; done' &
worker=$!
sleep 0.5
echo "== container cgroup id (what the kernel module keys policies by): $(stat -c %i /sys/fs/cgroup/demo-container)"
echo "== workload pid $worker runs in: $(cat /proc/$worker/cgroup)"
kill "$worker"
wait "$worker" 2>/dev/null || true
rmdir /sys/fs/cgroup/demo-container
