# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: kmod/ shared-abi/ manager/src/kernel/
# Only an admin outside every filtered cgroup may change policies; other
# network namespaces cannot even find the family.
. "$(dirname "$0")/lib.sh"
cg_new perm >/dev/null
cg_new jail >/dev/null
p='default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}'
echo "$p" | apply perm

# Non-root: refused with EPERM, and nothing changes.
out=$(echo "$p" | su -s /bin/sh nobody -c 'sysfence policy delete --cgroup 12345' 2>&1) && fail "non-root changed a policy"
echo "$out" | grep -q 'Operation not permitted' || fail "non-root refusal not EPERM: $out"
# Reading is privileged too (policies and counters are security
# configuration: CAP_SYS_ADMIN), and so are the events; status is not.
for cmd in "policy list" "policy get --cgroup perm" "stats --cgroup perm"; do
  out=$(su -s /bin/sh nobody -c "sysfence $cmd" 2>&1) && fail "nobody ran 'sysfence $cmd': $out"
  echo "$out" | grep -qi 'not permitted' || fail "nobody's '$cmd' refusal not EPERM: $out"
done
out=$(su -s /bin/sh nobody -c 'timeout 5 sysfence events --count 1' 2>&1) && fail "nobody subscribed to the events: $out"
echo "$out" | grep -q 'CAP_SYS_ADMIN' || fail "nobody's events refusal unclear: $out"
su -s /bin/sh nobody -c 'sysfence status' >/dev/null 2>&1 || fail "status refused to nobody"
# A policy on the root cgroup would lock the operator out: refused by the
# manager, and by the module past it (t-hostile-netlink, `root-cgroup`).
out=$(echo 'default: allow' | sysfence policy apply --cgroup / - 2>&1) && fail "a policy on the root cgroup was accepted"
echo "$out" | grep -q 'root cgroup' || fail "the manager's root cgroup refusal unclear: $out"
# Extended acks on the errors, as root: ENOENT and EINVAL with their
# messages (the kernel log is checked for any warning by the runner).
out=$(sysfence policy get --cgroup 424242 2>&1) && fail "a missing policy was found"
echo "$out" | grep -q 'has no policy' || fail "ENOENT reply unclear: $out"
# A root task inside a filtered cgroup: refused, whatever it targets.
echo 'default: allow' | apply jail
out=$(in_cg jail sysfence policy delete --cgroup perm 2>&1) && fail "a filtered task deleted a policy"
echo "$out" | grep -q 'itself under a sysfence policy' || fail "filtered caller refusal unclear: $out"
out=$(echo 'default: allow' | in_cg jail sysfence policy apply --cgroup jail - 2>&1) && fail "a filtered task loosened its own policy"
expect_run "policy intact" "err 13" in_cg perm sf-syscall 110
# Another network namespace: the family does not exist there.
out=$(unshare -n sysfence status 2>&1) && fail "the family is visible from another network namespace"
echo "$out" | grep -q 'initial network namespace' || fail "netns refusal unclear: $out"
# Bad targets are clear errors.
out=$(echo "$p" | sysfence policy apply --cgroup no/such/cgroup - 2>&1) && fail "a missing cgroup path was accepted"
echo "$out" | grep -q 'no/such/cgroup' || fail "missing cgroup error unclear: $out"
out=$(echo "$p" | sysfence policy apply --cgroup 999999999 - 2>&1) && fail "a missing cgroup id was accepted"
echo "$out" | grep -q 'no cgroup has id 999999999' || fail "missing cgroup id error unclear: $out"

sysfence policy delete --cgroup perm 2>/dev/null
sysfence policy delete --cgroup jail 2>/dev/null
rmdir /sys/fs/cgroup/perm /sys/fs/cgroup/jail
