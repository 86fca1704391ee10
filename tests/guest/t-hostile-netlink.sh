# SPDX-License-Identifier: GPL-2.0
# budget: 60
# arm64: yes
# covers: kmod/ shared-abi/
# Hostile input: every class of malformed request is refused with its
# extended-ack message (or errno), and changes nothing: a batch with one
# bad item sets none of its items.
. "$(dirname "$0")/lib.sh"
cg_new hostile >/dev/null
id=$(stat -c %i /sys/fs/cgroup/hostile)
apply hostile <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
before_get=$(sysfence policy get --cgroup hostile --json)
before_list=$(sysfence policy list --json)

sf-nlraw "$id" >/tmp/hostile.out || fail "sf-nlraw failed"
cat >/tmp/hostile.want <<'W'
empty-set errno=22 msg=missing cgroup id attribute
truncated-attribute errno=22 msg=truncated attribute
short-header errno=22 msg=truncated attribute
length-below-header errno=22 msg=truncated attribute
unknown-attribute errno=22 msg=unknown attribute
repeated-cgroup errno=22 msg=attribute repeated
cgroup-wrong-size errno=22 msg=attribute must be an 8-byte u64
net-byteorder errno=22 msg=network byte order is not supported
cgroup-flagged-nested errno=22 msg=attribute has the wrong nested flag
missing-policy errno=22 msg=missing policy attribute
missing-cgroup errno=22 msg=missing cgroup id attribute
policy-not-nested errno=22 msg=attribute has the wrong nested flag
stats-in-a-set errno=22 msg=attribute not valid in this request
no-default errno=22 msg=policy needs a default action
bad-default-action errno=22 msg=unknown action, or errno above 4095
errno-out-of-range errno=22 msg=unknown action, or errno above 4095
repeated-default errno=22 msg=attribute repeated
unknown-policy-attribute errno=22 msg=unknown attribute
unknown-abi errno=22 msg=unknown ABI
abi-twice errno=22 msg=ABI described twice
abi-without-id errno=22 msg=ABI section needs an ABI id
syscall-out-of-range errno=22 msg=syscall number out of range (0-1023)
syscall-huge errno=22 msg=syscall number out of range (0-1023)
rule-without-action errno=22 msg=rule needs a syscall number and an action
rule-bad-action errno=22 msg=unknown action, or errno above 4095
arg-index-6 errno=22 msg=argument index out of range (0-5)
arg-op-0 errno=22 msg=unknown comparison operator
arg-op-99 errno=22 msg=unknown comparison operator
masked-eq-without-mask errno=22 msg=masked-eq needs a second value
second-value-on-eq errno=22 msg=only masked-eq takes a second value
seven-comparisons errno=22 msg=more than 6 argument comparisons in a rule
deep-nesting errno=22 msg=attribute has the wrong nested flag
too-many-rules errno=22 msg=too many rules (the limit is 2048)
no-such-cgroup errno=2 msg=no cgroup with this id
root-cgroup errno=22 msg=refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included
delete-with-policy errno=22 msg=attribute not valid in this request
get-without-cgroup errno=22 msg=missing cgroup id attribute
stats-truncated errno=22 msg=truncated attribute
batch-empty errno=22 msg=an empty batch
batch-not-items errno=22 msg=a batch holds only batch items
batch-item-without-policy errno=22 msg=a batch item needs a cgroup id and a policy
batch-bad-second-policy errno=22 msg=attribute has the wrong nested flag
batch-cgroup-twice errno=22 msg=a cgroup is named twice in the batch
batch-no-such-cgroup errno=2 msg=no cgroup with this id
batch-root-cgroup errno=22 msg=refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included
unknown-command errno=95 msg=-
event-command errno=95 msg=-
W
if ! diff -u /tmp/hostile.want /tmp/hostile.out; then
  fail "a malformed request was not refused as it must be (diff above: - want, + got)"
fi
echo "$(wc -l </tmp/hostile.out) malformed request classes refused"

# Nothing changed: the same policy, the same table, still enforced.
expect_eq "policy after hostile input" "$(sysfence policy get --cgroup hostile --json)" "$before_get"
expect_eq "policy table after hostile input" "$(sysfence policy list --json)" "$before_list"
expect_run "still enforced" "err 13" in_cg hostile sf-syscall getppid
sysfence policy delete --cgroup hostile 2>/dev/null || fail "delete failed"
rmdir /sys/fs/cgroup/hostile
