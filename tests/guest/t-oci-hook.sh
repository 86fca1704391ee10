# SPDX-License-Identifier: GPL-2.0
# budget: 240
# covers: kmod/ shared-abi/ manager/src/cli/hook.rs
# The OCI runtime hook (issue 8): the kernel side it relies on, with the
# hook fed a runtime's state by hand: a policy set to start at the cgroup's
# next exec leaves the tasks already there unfiltered, starts for the whole
# cgroup when one of them completes an exec, shows as waiting until then,
# and a hook error fails closed. The hook under real runtimes (runc, crun,
# containerd) is t-oci-runtimes, on the bench kernel.
. "$(dirname "$0")/lib.sh"

HOOK=/tmp/hook
mkdir -p "$HOOK/policies"
cat >"$HOOK/policies/deny-getppid.yaml" <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
state() { printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%s,"bundle":"%s","annotations":{%s}}' "$@"; }
hook() { sysfence oci-hook --policy-dir "$HOOK/policies" --state-dir "$HOOK/state"; }

# --- Arm on exec, without a runtime -------------------------------------
cg_new hk >/dev/null
mkdir -p "$HOOK/bundle"
echo '{}' >"$HOOK/bundle/config.json"
# Two processes already in the cgroup, spinning without syscalls, then
# calling getppid: one ends before anything execs in the cgroup, one after.
# (6 and 14 s: the hook, the guest's first run of the manager, took over 2 s
# to read the first one's cgroup in a loaded run.)
spawn_in_cg hk sf-syscall --spin-ms 6000 110 >/tmp/hk.early &
early=$!
spawn_in_cg hk sf-syscall --spin-ms 14000 110 >/tmp/hk.late &
late=$!
sleep 1
state c1 creating "$early" "$HOOK/bundle" '"sysfence.dev/policy":"deny-getppid"' | hook ||
  fail "the hook refused a good state"
sysfence policy list | grep -q "waiting for exec" || fail "the policy does not show as waiting: $(sysfence policy list)"
wait "$early"
expect_eq "a task of the cgroup before any exec" "$(cut -d' ' -f1 /tmp/hk.early)" ok
expect_run "the first exec in the cgroup starts the policy" "err 13" in_cg hk sf-syscall 110
sysfence policy list | grep -q "in force" || fail "the policy did not start: $(sysfence policy list)"
wait "$late"
expect_eq "a task already there, after the exec" "$(cat /tmp/hk.late)" "err 13"
# A live apply without the flag is in force at once; poststop removes the
# policy the hook set.
state c1 stopped 0 "$HOOK/bundle" '' | hook || fail "poststop failed"
sysfence policy get --cgroup hk >/dev/null 2>&1 && fail "poststop left the policy"
[ -e "$HOOK/state/c1" ] && fail "poststop left its record"
# An exec in a sub-cgroup of the armed cgroup starts the policy too (the
# armed cgroup's whole subtree is the container).
cg_new hk/sub >/dev/null
spawn_in_cg hk sleep 30 &
sub_sleeper=$!
state c2 creating "$sub_sleeper" "$HOOK/bundle" '"sysfence.dev/policy":"deny-getppid"' | hook ||
  fail "the hook refused a good state (c2)"
expect_run "the first exec, in a sub-cgroup, starts the policy" "err 13" in_cg hk/sub sf-syscall 110
sysfence policy list | grep -q "in force" || fail "an exec in a sub-cgroup did not start the policy: $(sysfence policy list)"
state c2 stopped 0 "$HOOK/bundle" '' | hook || fail "poststop failed (c2)"
kill "$sub_sleeper" 2>/dev/null
wait "$sub_sleeper" 2>/dev/null
rmdir /sys/fs/cgroup/hk/sub

# Fails closed, saying why: an unknown policy, a path outside the policy
# directory by name, a missing pid, a bad id, garbage on stdin.
spawn_in_cg hk sleep 30 &
sleeper=$!
expect_refused() {
  _want=$1
  shift
  out=$(state "$@" | hook 2>&1) && fail "the hook accepted: $*"
  echo "$out" | grep -q "$_want" || fail "unclear hook error for $*: $out"
}
expect_refused "no policy nope.yaml, nope.yml, nope.json or nope in $HOOK/policies" c2 creating "$sleeper" "$HOOK/bundle" '"sysfence.dev/policy":"nope"'
expect_refused "give an absolute path or a policy name" c2 creating "$sleeper" "$HOOK/bundle" '"sysfence.dev/policy":"../../etc/passwd"'
expect_refused "the state has no pid" c2 creating 0 "$HOOK/bundle" '"sysfence.dev/policy":"deny-getppid"'
expect_refused "unusable container id" ../x creating "$sleeper" "$HOOK/bundle" '"sysfence.dev/policy":"deny-getppid"'
out=$(echo 'not json' | hook 2>&1) && fail "the hook accepted garbage"
echo "$out" | grep -q "not OCI state JSON" || fail "unclear: $out"
echo "default: sometimes" >"$HOOK/policies/bad.yaml"
expect_refused "unknown variant" c2 creating "$sleeper" "$HOOK/bundle" '"sysfence.dev/policy":"bad"'
expect_eq "nothing applied by refused hooks" "$(sysfence policy list --json)" "[]"
# Without the annotation: nothing to do.
state c3 creating "$sleeper" "$HOOK/bundle" '' | hook || fail "the hook failed without an annotation"
expect_eq "no annotation, no policy" "$(sysfence policy list --json)" "[]"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
rmdir /sys/fs/cgroup/hk

exit 0
