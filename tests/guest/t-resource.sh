# SPDX-License-Identifier: GPL-2.0
# budget: 70
# covers: manager/src/policy/resource.rs manager/src/policy/native.rs manager/src/cli/policy.rs
# The SyscallPolicy resource: applied like any policy, audit mode logs what
# enforce mode refuses, a bad resource is refused naming the field and
# changes nothing, and a live policy exports back to a resource that
# decides every call alike.
. "$(dirname "$0")/lib.sh"

cg_new res >/dev/null
cat >/tmp/res.yaml <<'R'
apiVersion: sysfence.dev/v1alpha1
kind: SyscallPolicy
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  default: allow
  rules:
    - syscalls: [getppid]
      action: errno
      errno: 13
    - syscalls: [socket]
      action: errno
      errno: 97
      args: [{index: 0, op: eq, value: 40}]
R
sysfence policy apply --cgroup res /tmp/res.yaml 2>/dev/null || fail "applying the resource failed"
expect_run "enforce: getppid" "err 13" in_cg res sf-syscall 110
expect_run "enforce: socket(AF_VSOCK)" "err 97" in_cg res sf-syscall 41 40 1 0

# Audit mode: the same policy only logs.
sed 's/^  selector:/  mode: audit\n  selector:/' /tmp/res.yaml >/tmp/res-audit.yaml
sysfence policy apply --cgroup res /tmp/res-audit.yaml 2>/dev/null || fail "applying audit mode failed"
before=$(stat_of res logged)
out=$(in_cg res sf-syscall 110)
case "$out" in ok*) ;; *) fail "audit: getppid refused: $out" ;; esac
expect_eq "audit: logged" "$(stat_of res logged)" $((before + 1))

# A bad resource names the field and leaves the live policy alone.
sed 's/op: eq/op: equals/' /tmp/res.yaml >/tmp/res-bad.yaml
out=$(sysfence policy apply --cgroup res /tmp/res-bad.yaml 2>&1) && fail "a bad op was accepted"
echo "$out" | grep -q 'spec.rules\[1\].args\[0\].op: unknown variant `equals`' || fail "unclear error: $out"
sed 's/getppid/getppidd/' /tmp/res.yaml >/tmp/res-bad.yaml
out=$(sysfence policy apply --cgroup res /tmp/res-bad.yaml 2>&1) && fail "an unknown syscall was accepted"
echo "$out" | grep -q 'spec.rules\[0\]: unknown syscall `getppidd`' || fail "unclear error: $out"
sed 's/kind: SyscallPolicy/kind: NetworkPolicy/' /tmp/res.yaml >/tmp/res-bad.yaml
out=$(sysfence policy apply --cgroup res /tmp/res-bad.yaml 2>&1) && fail "a wrong kind was accepted"
echo "$out" | grep -q 'kind: `NetworkPolicy` is not SyscallPolicy' || fail "unclear error: $out"
sysfence policy diff --cgroup res /tmp/res-audit.yaml >/dev/null 2>&1 || fail "a refused resource changed the live policy"

# Export back: the live policy as a resource decides every call alike.
sysfence policy apply --cgroup res /tmp/res.yaml 2>/dev/null
sysfence policy export --cgroup res --format syscallpolicy --name web-export >/tmp/res-export.yaml || fail "export failed"
grep -q '^kind: SyscallPolicy' /tmp/res-export.yaml || fail "not a resource: $(cat /tmp/res-export.yaml)"
grep -q 'name: web-export' /tmp/res-export.yaml || fail "name not set"
sysfence policy diff --cgroup res /tmp/res-export.yaml >/tmp/res-diff 2>&1 || fail "exported resource differs: $(cat /tmp/res-diff)"
expect_eq "diff --json" "$(sysfence policy diff --json --cgroup res /tmp/res-export.yaml 2>/dev/null)" '{"only_file":[],"only_live":[]}'
sysfence policy export --cgroup res --format syscallpolicy --name Bad_Name >/dev/null 2>&1 && fail "an invalid name was exported"

sysfence policy delete --cgroup res 2>/dev/null
rmdir /sys/fs/cgroup/res
exit 0
