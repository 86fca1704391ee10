# SPDX-License-Identifier: GPL-2.0
# budget: 90
# arm64: yes
# covers: kmod/ shared-abi/src/proto.rs
# Containment (issue 17): a task under a policy can never move itself or
# another task to a cgroup where fewer policies apply, by any route, with
# no rule written by anyone. Each route is first shown to work from a
# cgroup without a policy (the kernel allows it to root), then refused
# under one; moves inside the filtered subtree keep working.
. "$(dirname "$0")/lib.sh"

cgr=/sys/fs/cgroup
for c in box box/sub free other plain dom dom/t1 dom/t2; do mkdir -p "$cgr/$c"; done
echo threaded >"$cgr/dom/t1/cgroup.type"
echo threaded >"$cgr/dom/t2/cgroup.type"
deny_getppid='default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}'
echo "$deny_getppid" | apply box
echo "$deny_getppid" | apply other

# --- Each route works without a policy ------------------------------------
mark "routes without a policy"
# (`move $$` in an exec'd sh -c moves the program itself.)
expect_run "cgroup.procs write from an unfiltered cgroup" "ok" \
  in_cg plain sh -c 'exec sf-attack move $$ /sys/fs/cgroup/free/cgroup.procs'
expect_run "clone3(CLONE_INTO_CGROUP) from an unfiltered cgroup" "ok 0" \
  in_cg plain sf-attack clone-into "$cgr/free" getuid
expect_run "the same with an O_PATH descriptor" "ok 0" \
  in_cg plain sf-attack clone-into "$cgr/free" --opath getuid

# --- Under a policy: every route refused ------------------------------------
mark "routes under a policy"
out=$(in_cg box sh -c 'sf-attack move $$ /sys/fs/cgroup/free/cgroup.procs; sf-syscall getppid')
expect_eq "cgroup.procs write to an unfiltered cgroup" "$out" "err 1
err 13"
out=$(in_cg box sh -c 'sf-attack move $$ /sys/fs/cgroup/cgroup.procs; sf-syscall getppid')
expect_eq "cgroup.procs write to the root cgroup" "$out" "err 1
err 13"
expect_run "clone3(CLONE_INTO_CGROUP) to an unfiltered cgroup" "err 1" \
  in_cg box sf-attack clone-into "$cgr/free" getppid
expect_run "the same with an O_PATH descriptor" "err 1" \
  in_cg box sf-attack clone-into "$cgr/free" --opath getppid
# Another name for the cgroup files: a second cgroup2 mount (what a chroot
# or a container's own mount also gives).
mkdir -p /tmp/cgx
mount -t cgroup2 none /tmp/cgx || fail "cannot mount cgroup2 again"
out=$(in_cg box sh -c 'sf-attack move $$ /tmp/cgx/free/cgroup.procs; sf-syscall getppid')
expect_eq "cgroup.procs through a second cgroup2 mount" "$out" "err 1
err 13"
expect_run "clone3 through a second mount's descriptor" "err 1" \
  in_cg box sf-attack clone-into /tmp/cgx/free --opath getppid
# A descriptor opened by an unfiltered process and inherited.
out=$(in_cg box sh -c '{ echo $$ >&3 && echo moved; } 2>/dev/null; sf-syscall getppid' 3>"$cgr/free/cgroup.procs")
expect_eq "a write to an inherited cgroup.procs descriptor" "$out" "err 13"
umount /tmp/cgx
# cgroup.threads inside one threaded domain: t1 has a policy, t2 not. The
# kernel lets a thread move between them; containment does not.
expect_run "cgroup.threads move without a policy" "ok" \
  in_cg dom/t1 sh -c 'exec sf-attack move $$ /sys/fs/cgroup/dom/t2/cgroup.threads'
echo "$deny_getppid" | apply dom/t1
out=$(in_cg dom/t1 sh -c 'exec sf-attack move $$ /sys/fs/cgroup/dom/t2/cgroup.threads')
expect_eq "cgroup.threads move out of a threaded cgroup's policy" "$out" "err 1"
sysfence policy delete --cgroup dom/t1 2>/dev/null

# Moving another task: a task of another filtered container, out of its
# policy, or into the mover's own subtree (where the other's policy would
# no longer apply).
sleep 60 &
victim=$!
echo "$victim" >"$cgr/other/cgroup.procs"
expect_run "moving another container's task to an unfiltered cgroup" "err 1" \
  in_cg box sf-attack move "$victim" "$cgr/free/cgroup.procs"
expect_run "moving another container's task into the mover's subtree" "err 1" \
  in_cg box sf-attack move "$victim" "$cgr/box/sub/cgroup.procs"
grep -qx "$victim" "$cgr/other/cgroup.procs" || fail "the victim left its cgroup"

# --- What keeps working -------------------------------------------------------
mark "moves that keep the policies"
out=$(in_cg box sh -c 'sf-attack move $$ /sys/fs/cgroup/box/sub/cgroup.procs; sf-syscall getppid')
expect_eq "a move into a sub-cgroup of the filtered one" "$out" "ok
err 13"
out=$(in_cg box/sub sh -c 'sf-attack move $$ /sys/fs/cgroup/box/cgroup.procs; sf-syscall getppid')
expect_eq "back from the sub-cgroup (the same policies apply)" "$out" "ok
err 13"
expect_run "clone3 into a sub-cgroup" "err 13" in_cg box sf-attack clone-into "$cgr/box/sub" --opath getppid
# With a policy of its own on the sub-cgroup, leaving it loses that one.
echo 'default: allow' | apply box/sub
before=$(stat_of box/sub denied)
expect_run "out of a sub-cgroup with its own policy" "err 1" \
  in_cg box/sub sh -c 'exec sf-attack move $$ /sys/fs/cgroup/box/cgroup.procs'
expect_eq "the refusal counted as denied in the mover's policy" "$(stat_of box/sub denied)" "$((before + 1))"
# The operator moves anything: here the victim, out of its policy.
echo "$victim" >"$cgr/free/cgroup.procs" || fail "the operator could not move a filtered task"
kill "$victim"
wait "$victim" 2>/dev/null
# Once the policy is gone, the task is free to go.
sysfence policy delete --cgroup box/sub
sysfence policy delete --cgroup box
expect_run "after the policy is deleted" "ok" \
  in_cg box sh -c 'exec sf-attack move $$ /sys/fs/cgroup/free/cgroup.procs'
dmesg | grep -q 'refused moving' || fail "no refusal in the kernel log"

sysfence policy delete --cgroup other
for c in box/sub box free other plain dom/t1 dom/t2 dom; do rmdir "$cgr/$c" 2>/dev/null; done
echo "t-contain: every route out refused, moves inside allowed"
