# SPDX-License-Identifier: GPL-2.0
# budget: 260
# covers: kmod/ shared-abi/src/proto.rs manager/src/cli/status.rs
# Policies follow their cgroup's life (issue 19): a policy goes when its
# cgroup is removed, counted in `status`, and nothing else goes with it.
# 1,000 cgroups get a policy and are removed, a hundred of them with a
# running task killed through cgroup.kill first, as runtimes remove a
# container: 0 policies are left (one mkdir and one rmdir for the
# thousand: a process per cgroup took 80 s each way here; leaks: the
# guest's kmemleak check after its last test). A
# shadow-only entry goes too; a parent's policy stays when its child's
# cgroup goes. Removal racing with the set of a policy leaves no stale
# policy (the set is refused instead).
. "$(dirname "$0")/lib.sh"
n=${SF_LIFECYCLE_N:-1000}
info() { sysfence status --json | sed -nE "s/.*\"$1\":([0-9]+).*/\1/p"; }
# settle WANT: wait (at most 30 s) until the module holds WANT policies.
settle() {
  _i=0
  while [ "$(info policies)" != "$1" ] && [ "$_i" -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
  [ "$(info policies)" = "$1" ]
}
p0=$(info policies)
f0=$(info policies_freed)
[ -n "$p0" ] && [ -n "$f0" ] || fail "status --json has no policies/policies_freed: $(sysfence status --json)"

# A thousand cgroups, a task in every tenth (a subshell that moves itself
# there and waits), then a policy on each from one process.
# (No command substitution per cgroup: each is a fork, slow here.)
mkfifo /tmp/lc.fifo
mkdir -p /sys/fs/cgroup/lc
# dirs PREFIX COUNT: the paths PREFIX0 .. PREFIX(COUNT-1), for one mkdir or
# rmdir (a process per cgroup, a fork each, is slow on this kernel).
dirs() {
  _d= _i=0
  while [ "$_i" -lt "$2" ]; do _d="$_d $1$_i"; _i=$((_i + 1)); done
  echo "$_d"
}
mkdir $(dirs /sys/fs/cgroup/lc/c "$n") || fail "cannot create the $n cgroups"
i=7
while [ "$i" -lt "$n" ]; do
  (echo 0 >"/sys/fs/cgroup/lc/c$i/cgroup.procs" && read -r _ </tmp/lc.fifo) &
  i=$((i + 10))
done
ids=$(stat -c %i /sys/fs/cgroup/lc/c[0-9]* | tr '\n' , | sed 's/,$//')
mark "$n cgroups, $((n / 10)) tasks"
sf-flip "$ids" 0 >/dev/null || fail "setting $n policies failed"
[ "$(info policies)" = "$((p0 + n))" ] || fail "want $((p0 + n)) policies, status says $(info policies)"
mark "$n policies set"
# One of them is filtered: its task's policy refuses getppid with EACCES.
case $(in_cg lc/c7 sf-syscall 110 2>&1) in "err 13"*) ;; *) fail "lc/c7 is not filtered: $(in_cg lc/c7 sf-syscall 110 2>&1)" ;; esac

# Remove them as a runtime does: kill the tasks, wait, rmdir.
i=7
while [ "$i" -lt "$n" ]; do echo 1 >"/sys/fs/cgroup/lc/c$i/cgroup.kill"; i=$((i + 10)); done
wait
mark "$((n / 10)) tasks killed"
rmdir $(dirs /sys/fs/cgroup/lc/c "$n") || fail "cannot remove the $n cgroups"
mark "$n cgroups removed"
settle "$p0" || fail "$(($(info policies) - p0)) of $n policies outlived their cgroups"
expect_eq "policies freed with their cgroup" "$(info policies_freed)" "$((f0 + n))"
sysfence status | grep -q "^freed: *$((f0 + n)) policies with their cgroup" || fail "status does not show the freed count: $(sysfence status)"
mark "all $n freed"

# A shadow on a cgroup without an enforcing policy goes with it too.
cg_new lc/shadowed >/dev/null
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 1}\n' >/tmp/lc.yaml
sysfence policy apply --cgroup lc/shadowed --shadow /tmp/lc.yaml 2>/dev/null || fail "setting a shadow failed"
[ "$(info policies)" = "$((p0 + 1))" ] || fail "the shadow is not an entry"
rmdir /sys/fs/cgroup/lc/shadowed
settle "$p0" || fail "a shadow-only entry outlived its cgroup"

# A parent keeps its policy when its child goes; then it goes too.
cg_new lc/parent/child >/dev/null
apply lc/parent </tmp/lc.yaml
apply lc/parent/child </tmp/lc.yaml
rmdir /sys/fs/cgroup/lc/parent/child
settle "$((p0 + 1))" || fail "removing a child took more than its own policy: $(sysfence policy list)"
sysfence policy get --cgroup lc/parent >/dev/null 2>&1 || fail "the parent lost its policy with its child"
rmdir /sys/fs/cgroup/lc/parent
settle "$p0" || fail "the parent's policy outlived it"

# The race: policies replaced as fast as one process can while their
# cgroups are removed one by one. Each request either lands before the
# removal (and its policy goes with the cgroup) or is refused, by the
# lookup or by the check after publishing ("removed-during-set").
round=0 during=0
while [ "$round" -lt 5 ]; do
  mkdir $(dirs /sys/fs/cgroup/lc/r 20) || fail "cannot create the race's cgroups"
  ids=$(stat -c %i /sys/fs/cgroup/lc/r[0-9]* | tr '\n' , | sed 's/,$//')
  sf-flip --gone-ok "$ids" 30 >/tmp/lc.flip 2>&1 &
  flip=$!
  sleep 0.5
  rmdir $(dirs /sys/fs/cgroup/lc/r 20) || fail "cannot remove the race's cgroups"
  wait "$flip" || fail "sf-flip failed: $(cat /tmp/lc.flip)"
  grep -q "^gone 20 " /tmp/lc.flip || fail "sf-flip did not see all 20 cgroups go: $(cat /tmp/lc.flip)"
  during=$((during + $(sed -n 's/^gone 20 removed-during-set //p' /tmp/lc.flip)))
  settle "$p0" || fail "$(($(info policies) - p0)) policies outlived cgroups removed while being replaced"
  round=$((round + 1))
done
echo "removal raced with replaces in 5 rounds of 20 cgroups: none left behind ($during refused by the check after publishing)"

rmdir /sys/fs/cgroup/lc
rm -f /tmp/lc.fifo
mark done
