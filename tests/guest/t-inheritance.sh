# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: kmod/ shared-abi/
# Children of fork, vfork, clone, clone3, threads and programs after execve stay
# under the cgroup's policy; nested cgroups: every policy on the path
# applies and the strictest action wins.
. "$(dirname "$0")/lib.sh"
cg_new pod >/dev/null
cg_new pod/ctr >/dev/null

printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply pod
# The policy is on the parent cgroup; the task runs in the child.
expect_run "fork/vfork/clone/clone3/thread" "fork err 13
vfork err 13
clone err 13
clone3 err 13
thread err 13" in_cg pod/ctr sf-inherit
# execve: the shell execs sf-syscall inside the cgroup.
expect_run "after execve" "err 13" in_cg pod/ctr sh -c 'exec sf-syscall 110'

# A stricter child policy adds to the parent's: both apply.
printf 'default: allow\nrules:\n  - {syscalls: [getpid], action: errno, errno: 1}\n' | apply pod/ctr
expect_run "parent's rule in the child" "err 13" in_cg pod/ctr sf-syscall 110
expect_run "child's own rule" "err 1" in_cg pod/ctr sf-syscall 39
expect_run "child's rule not in the parent" "ok" sh -c 'echo $$ >/sys/fs/cgroup/pod/cgroup.procs && sf-syscall 39 | cut -c1-2'
# The child cannot loosen the parent: allow in the child, errno in the parent.
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: allow}\n' | apply pod/ctr
expect_run "child cannot loosen" "err 13" in_cg pod/ctr sf-syscall 110
# The strictest action wins across levels: kill in the parent beats errno.
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: kill-process}\n' | apply pod
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply pod/ctr
expect_signal "strictest across levels" 31 in_cg pod/ctr sf-syscall 110

sysfence policy delete --cgroup pod/ctr 2>/dev/null && sysfence policy delete --cgroup pod 2>/dev/null || fail "delete failed"
rmdir /sys/fs/cgroup/pod/ctr /sys/fs/cgroup/pod
