# SPDX-License-Identifier: GPL-2.0
# First figure (issue 3): instructions per allowed getppid with no module,
# with the module loaded (caller unfiltered), and inside a filtered cgroup,
# in one boot. Run with: bench/first-getppid.sh (icount: guest ns = instructions).
set -e
ITER=${ITER:-20000}
REPS=${REPS:-15}
run() { printf '%-58s %s\n' "$1" "$(shift; "$@")"; }
# in_cg CGROUP CMD...: CMD run in CGROUP, from a child that moves itself
# there (a task under a policy may not move back out: containment).
in_cg() { _c=$1; shift; sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$_c" "$@"; }

rmmod sysfence 2>/dev/null || true
run "getppid, no module loaded" sf-bench 110 "$ITER" "$REPS"
run "ia32 getpid, no module loaded" sf-bench --abi ia32 20 "$ITER" "$REPS"
insmod "$SF_KO"
run "getppid, module loaded, caller unfiltered" sf-bench 110 "$ITER" "$REPS"
mkdir -p /sys/fs/cgroup/bench
# A policy the size of a container's: 40 errno rules and an argument rule,
# getppid allowed by default.
{
  echo "default: allow"
  echo "rules:"
  echo "  - {syscalls: [mount, umount2, pivot_root, swapon, swapoff, reboot, kexec_load, init_module, finit_module, delete_module, acct, settimeofday, clock_settime, adjtimex, sethostname, setdomainname, iopl, ioperm, create_module, quotactl, lookup_dcookie, perf_event_open, bpf, userfaultfd, fanotify_init, name_to_handle_at, open_by_handle_at, kcmp, add_key, request_key, keyctl, uselib, vhangup, nfsservctl, get_kernel_syms, query_module, move_mount, fsopen, fsmount, setns], action: errno, errno: 1}"
  echo "  - {syscalls: [personality], action: errno, errno: 1, args: [{index: 0, op: ne, value: 0}]}"
} | sysfence policy apply --cgroup bench - 2>/dev/null
run "getppid, caller unfiltered, a policy on another cgroup" sf-bench 110 "$ITER" "$REPS"
mkdir -p /sys/fs/cgroup/other
run "getppid, caller in an unfiltered sibling cgroup" in_cg other sf-bench 110 "$ITER" "$REPS"
run "getppid, in a filtered cgroup (allowed)" in_cg bench sf-bench 110 "$ITER" "$REPS"
run "personality(0), argument rule (allowed)" in_cg bench sf-bench 135 "$ITER" "$REPS" 0
run "ia32 getpid, in a filtered cgroup (allowed)" in_cg bench sf-bench --abi ia32 20 "$ITER" "$REPS"
run "mount, denied with EPERM" in_cg bench sf-bench 165 "$ITER" "$REPS"
sysfence policy delete --cgroup bench 2>/dev/null
rmdir /sys/fs/cgroup/bench /sys/fs/cgroup/other
