# SPDX-License-Identifier: GPL-2.0
# budget: 120
# arm64: yes
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
expect_run "after execve" "err 13" in_cg pod/ctr sh -c 'exec sf-syscall getppid'

# A stricter child policy adds to the parent's: both apply.
printf 'default: allow\nrules:\n  - {syscalls: [getpid], action: errno, errno: 1}\n' | apply pod/ctr
expect_run "parent's rule in the child" "err 13" in_cg pod/ctr sf-syscall getppid
expect_run "child's own rule" "err 1" in_cg pod/ctr sf-syscall getpid
expect_run "child's rule not in the parent" "ok" sh -c 'echo $$ >/sys/fs/cgroup/pod/cgroup.procs && sf-syscall getpid | cut -c1-2'
# The child cannot loosen the parent: allow in the child, errno in the parent.
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: allow}\n' | apply pod/ctr
expect_run "child cannot loosen" "err 13" in_cg pod/ctr sf-syscall getppid
# The strictest action wins across levels: kill in the parent beats errno.
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: kill-process}\n' | apply pod
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply pod/ctr
expect_signal "strictest across levels" 31 in_cg pod/ctr sf-syscall getppid

# Policies at several levels share one fast path: the allow bitmaps of
# the path's policies ANDed, made when a policy changes. A stale one would
# let through what a policy above now refuses: each change above the
# container must reach it at once, the container's calls cached on the
# fast path meanwhile.
allow_all='default: allow\nrules:\n  - {syscalls: [mount], action: errno, errno: 1}\n'
deny_ppid='default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n'
printf "$allow_all" | apply pod
printf "$allow_all" | apply pod/ctr
a0=$(stat_of pod/ctr allowed) p0=$(stat_of pod allowed)
expect_run "both allow: fast path" "ok" sh -c 'echo $$ >/sys/fs/cgroup/pod/ctr/cgroup.procs && sf-syscall --repeat 1000 getppid | cut -c1-2'
a1=$(stat_of pod/ctr allowed) p1=$(stat_of pod allowed)
[ $((a1 - a0)) -ge 1000 ] || fail "the container's policy counted $((a1 - a0)) allowed calls, want the 1000 getppid"
expect_eq "calls both allow are counted by the deepest policy only" "$((p1 - p0))" 0
printf "$deny_ppid" | apply pod
expect_run "a refusal set above reaches the cached path" "err 13" in_cg pod/ctr sf-syscall getppid
printf "$allow_all" | apply pod
expect_run "relaxed above: allowed again" "ok" sh -c 'echo $$ >/sys/fs/cgroup/pod/ctr/cgroup.procs && sf-syscall getppid | cut -c1-2'
printf "$deny_ppid" | apply pod
sysfence policy delete --cgroup pod 2>/dev/null || fail "delete failed"
expect_run "the policy above deleted: the container's alone" "ok" sh -c 'echo $$ >/sys/fs/cgroup/pod/ctr/cgroup.procs && sf-syscall getppid | cut -c1-2'
printf "$deny_ppid" | apply pod
expect_run "a new policy above" "err 13" in_cg pod/ctr sf-syscall getppid
# Three levels, the refusal in the middle one, the call from the deepest.
cg_new pod/ctr/sub >/dev/null
printf "$allow_all" | apply pod
printf "$deny_ppid" | apply pod/ctr
printf "$allow_all" | apply pod/ctr/sub
expect_run "three levels: the middle refuses" "err 13" in_cg pod/ctr/sub sf-syscall getppid
printf "$allow_all" | apply pod/ctr
expect_run "three levels: all allow" "ok" sh -c 'echo $$ >/sys/fs/cgroup/pod/ctr/sub/cgroup.procs && sf-syscall getppid | cut -c1-2'
printf "$deny_ppid" | apply pod
expect_run "three levels: the top refuses" "err 13" in_cg pod/ctr/sub sf-syscall getppid
expect_run "the top's mount rule still answers below" "err 1" in_cg pod/ctr/sub sf-syscall mount
sysfence policy delete --cgroup pod/ctr/sub 2>/dev/null || fail "delete failed"
rmdir /sys/fs/cgroup/pod/ctr/sub

# The fast path's shortcuts (one-comparison "allow" rules, as Docker's
# personality values) are a policy's own: alone, the container's policy
# (Docker's profile) lets personality(0) go at once and refuses
# personality(1); under a pod that refuses personality they must not let
# it through (a flat has none), and with the pod's refusal gone they
# answer again.
sysfence policy delete --cgroup pod 2>/dev/null || fail "delete failed"
sysfence policy apply --cgroup pod/ctr --caps "" tests/fixtures/docker-default.json 2>/dev/null ||
  fail "applying Docker's profile failed"
expect_run "shortcut alone: personality(0)" "ok 0" in_cg pod/ctr sf-syscall personality 0
expect_run "shortcut alone: personality(1)" "err 1" in_cg pod/ctr sf-syscall personality 1
printf 'default: allow\nrules:\n  - {syscalls: [personality], action: errno, errno: 13}\n' | apply pod
expect_run "the pod refuses: the shortcut below does not hold" "err 13" in_cg pod/ctr sf-syscall personality 0
expect_run "the pod refuses: personality(8)" "err 13" in_cg pod/ctr sf-syscall personality 8
sysfence policy delete --cgroup pod 2>/dev/null || fail "delete failed"
expect_run "the pod's refusal gone: the shortcut again" "ok 0" in_cg pod/ctr sf-syscall personality 0

sysfence policy delete --cgroup pod/ctr 2>/dev/null || fail "delete failed"
rmdir /sys/fs/cgroup/pod/ctr /sys/fs/cgroup/pod
