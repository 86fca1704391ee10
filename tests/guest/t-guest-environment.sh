# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: qemu/ scripts/build-initramfs.sh
# The guest gives tests what the harness promises: cgroup2, tracefs, the host
# root over 9p with working host tools, a writable run directory, the static
# programs, and both syscall entry paths.
. "$(dirname "$0")/lib.sh"

grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || fail "cgroup2 is not mounted"
[ -f /sys/kernel/tracing/events/raw_syscalls/sys_enter/format ] || fail "tracefs lacks raw_syscalls/sys_enter"
[ -f "$SF_ROOT/Cargo.toml" ] || fail "the repository is not visible at $SF_ROOT"
touch "$SF_RUN/probe" && rm "$SF_RUN/probe" || fail "the run directory $SF_RUN is not writable"

# A dynamically linked host tool runs through the host root.
out=$(chroot /host python3 -c 'import os; print(os.getppid() > 0)') || fail "host python3 did not run"
expect_eq "host python3" "$out" "True"

# The static manager runs.
sysfence --version | grep -q '^sysfence ' || fail "sysfence --version failed"

# Raw syscalls through both entry paths reach the kernel: getppid is 110 on
# x86_64 and 64 on ia32, and both must name this shell.
expect_eq "x86_64 getppid" "$(sf-syscall 110)" "ok $$"
expect_eq "ia32 getppid" "$(sf-syscall --abi ia32 64)" "ok $$"
# An unknown syscall number is ENOSYS (38) on both.
expect_eq "x86_64 nr 5000" "$(sf-syscall 5000)" "err 38"
expect_eq "ia32 nr 5000" "$(sf-syscall --abi ia32 5000)" "err 38"

# A child cgroup can be created and joined (what container runtimes do).
mkdir /sys/fs/cgroup/sf-env-test || fail "cannot create a cgroup"
sh -c 'echo $$ >/sys/fs/cgroup/sf-env-test/cgroup.procs && grep -q "^0::/sf-env-test$" /proc/self/cgroup' ||
  fail "cannot join a cgroup"
rmdir /sys/fs/cgroup/sf-env-test || fail "cannot remove the cgroup"
