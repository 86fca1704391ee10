# SPDX-License-Identifier: GPL-2.0
# budget: 150
# arm64: yes
# covers: kmod/ shared-abi/ manager/src/cli/bench.rs
# The limits, each hit: the policy count, rules per policy and the size of
# one policy are refused with a message that names the limit, nothing is
# half applied, and no allocation failure or OOM splat appears (run.sh
# checks the kernel log). The event rate limit is hit in t-events.
#
# The policy count is hit twice: at a limit of 64 set with the module's
# max_policies parameter (its range checked at load), and, with
# SF_LIMITS_FULL=1, at the default 65,536 (about 65,536 cgroups; minutes on
# the emulated debug kernel).
. "$(dirname "$0")/lib.sh"

reload() {
  rmmod sysfence 2>/dev/null || fail "rmmod failed"
  insmod "$SF_KO" "$@" || fail "insmod $* failed"
}
max_of() { sysfence status --json | sed -E 's/.*"max_policies":([0-9]+).*/\1/'; }
count_of() { sysfence status --json | sed -E 's/.*"policies":([0-9]+).*/\1/'; }

cat >/tmp/lim.yaml <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P

# max_policies outside 1-65536: the module does not load, and says why.
rmmod sysfence || fail "rmmod failed"
for bad in 0 65537; do
  insmod "$SF_KO" max_policies=$bad 2>/dev/null && fail "loaded with max_policies=$bad"
  dmesg | tail -n 20 | grep -q "max_policies=$bad: it must be 1-65536" ||
    fail "no reason logged for max_policies=$bad"
done

# At a limit of 64: the 65th policy is refused, clearly, and changes nothing.
insmod "$SF_KO" max_policies=64 || fail "insmod max_policies=64 failed"
expect_eq "limit reported by status" "$(max_of)" 64
mkdir /sys/fs/cgroup/lim
# Batches (policy-set-batch): 60 policies in batches of 16; then one
# batch that would pass the limit is refused whole, the replacements it
# holds included; then a batch that fits.
sysfence bench load /sys/fs/cgroup/lim /tmp/lim.yaml --count 60 --distinct --batch 16 >/dev/null ||
  fail "loading 60 policies in batches failed"
expect_eq "policies after batches" "$(count_of)" 60
out=$(sysfence bench load /sys/fs/cgroup/lim /tmp/lim.yaml --count 68 --batch 68 2>&1) &&
  fail "a batch past the limit was accepted"
echo "$out" | grep -q "policy limit reached" || fail "unclear error for a batch past the limit: $out"
expect_eq "policies after the refused batch" "$(count_of)" 60
sysfence policy get --cgroup lim/c0 | grep -q sethostname ||
  fail "the refused batch replaced c0's distinct policy"
sysfence bench load /sys/fs/cgroup/lim /tmp/lim.yaml --count 64 --distinct --batch 64 >/dev/null ||
  fail "loading 64 policies failed"
expect_eq "policies at the limit" "$(count_of)" 64
expect_run "a batch's policy in force" "err 13" in_cg lim/c63 sf-syscall getppid
cg_new over >/dev/null
out=$(sysfence policy apply --cgroup over /tmp/lim.yaml 2>&1) && fail "a 65th policy was accepted"
echo "$out" | grep -q "policy limit reached (the module's max_policies; see sysfence status)" ||
  fail "unclear error for the 65th policy: $out"
expect_eq "policies after the refusal" "$(count_of)" 64
sysfence policy get --cgroup over >/dev/null 2>&1 && fail "the refused policy is there"
case $(in_cg over sf-syscall getppid) in ok*) ;; *) fail "the cgroup over is filtered" ;; esac
# Replacing a policy at the limit is not adding one.
id0=$(stat -c %i /sys/fs/cgroup/lim/c0)
sed 's/errno: 13/errno: 14/' /tmp/lim.yaml | sysfence policy apply --cgroup "$id0" - ||
  fail "replacing a policy at the limit failed"
expect_run "the replaced policy" "err 14" in_cg lim/c0 sf-syscall getppid
# Deleting one makes room.
sysfence policy delete --cgroup "$id0" || fail "delete failed"
sysfence policy apply --cgroup over /tmp/lim.yaml || fail "no room after a delete"
expect_run "the new policy" "err 13" in_cg over sf-syscall getppid
sysfence policy delete --cgroup over
sysfence bench load /sys/fs/cgroup/lim /tmp/lim.yaml --count 64 --remove
rmdir /sys/fs/cgroup/lim
expect_eq "policies after cleanup" "$(count_of)" 0

# The default limit, 65,536, reached for real.
reload
expect_eq "default limit" "$(max_of)" 65536
if [ "${SF_LIMITS_FULL:-0}" = 1 ]; then
  mkdir /sys/fs/cgroup/full
  start=$(date +%s)
  sysfence bench load /sys/fs/cgroup/full /tmp/lim.yaml --count 65536 || fail "loading 65,536 policies failed"
  echo "65,536 policies loaded in $(($(date +%s) - start)) s; slab: $(grep -E '^Slab:' /proc/meminfo)"
  out=$(sysfence policy apply --cgroup over /tmp/lim.yaml 2>&1) && fail "policy 65,537 was accepted"
  echo "$out" | grep -q "policy limit reached" || fail "unclear error for policy 65,537: $out"
  expect_eq "policies at the limit" "$(count_of)" 65536
  expect_run "a policy among 65,536 decides" "err 13" in_cg full/c65535 sf-syscall getppid
  reload
  expect_eq "all gone after a reload" "$(count_of)" 0
  start=$(date +%s)
  sysfence bench load /sys/fs/cgroup/full /tmp/lim.yaml --count 65536 --remove
  echo "65,536 cgroups removed in $(($(date +%s) - start)) s"
  rmdir /sys/fs/cgroup/full
fi

# Rules per policy: 2,049 is one too many; the live policy stays.
apply over </tmp/lim.yaml
{
  echo "default: allow"
  echo "abis: [$ARCH]"
  echo "rules:"
  i=0
  while [ $i -lt 2049 ]; do echo "  - {syscalls: [read], action: errno, errno: 1}"; i=$((i + 1)); done
} >/tmp/lim-rules.yaml
out=$(sysfence policy apply --cgroup over /tmp/lim-rules.yaml 2>&1) && fail "2,049 rules were accepted"
echo "$out" | grep -q "too many rules (the limit is 2048)" || fail "unclear error for 2,049 rules: $out"
sysfence policy diff --cgroup over /tmp/lim.yaml >/dev/null || fail "the live policy changed"

# Size: a policy is one netlink attribute, so at most 64 KiB encoded.
{
  echo "default: allow"
  echo "abis: [$ARCH]"
  echo "rules:"
  i=0
  while [ $i -lt 1500 ]; do
    echo "  - {syscalls: [socket], action: errno, errno: 1, args: [{index: 0, op: eq, value: $i}, {index: 1, op: eq, value: 1}]}"
    i=$((i + 1))
  done
} >/tmp/lim-size.yaml
out=$(sysfence policy apply --cgroup over /tmp/lim-size.yaml 2>&1) && fail "a policy over 64 KiB was accepted"
echo "$out" | grep -q "policy too large: it encodes to more than 65531 bytes (1500 rules)" ||
  fail "unclear error for a policy over 64 KiB: $out"
sysfence policy diff --cgroup over /tmp/lim.yaml >/dev/null || fail "the live policy changed"
sysfence policy delete --cgroup over
rmdir /sys/fs/cgroup/over
exit 0
