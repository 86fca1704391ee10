# SPDX-License-Identifier: GPL-2.0
# budget: 60
# covers: kmod/ manager/src/cli/top.rs manager/src/cli/events.rs
# sysfence top: the cgroup whose tasks try rare, refused calls ranks first;
# counts are per interval; rare calls are named; ordinary calls are not.
. "$(dirname "$0")/lib.sh"

cg_new quiet >/dev/null
cg_new noisy >/dev/null
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: log}\n' | apply quiet
printf 'default: allow\nrules:\n  - {syscalls: [mount, bpf], action: errno, errno: 1}\n  - {syscalls: [getpid], action: errno, errno: 1, abis: [ia32]}\n' | apply noisy
spawn_in_cg quiet sf-loop 110 50 >/dev/null &
q=$!
spawn_in_cg noisy sf-loop 165 50 >/dev/null &
n1=$!
spawn_in_cg noisy sh -c 'while :; do sf-syscall --abi ia32 20; sf-syscall 321; sleep 0.2; done' >/dev/null 2>&1 &
n2=$!
sleep 1
sysfence top --json --interval 3 -n 2 >/tmp/top.json 2>/tmp/top.err || fail "top failed: $(cat /tmp/top.err)"
kill "$q" "$n1" "$n2"
wait "$q" "$n1" "$n2" 2>/dev/null
expect_eq "refreshes" "$(wc -l </tmp/top.json)" 2
last=$(tail -n 1 /tmp/top.json)
noisy=$(stat -c %i /sys/fs/cgroup/noisy)
quiet=$(stat -c %i /sys/fs/cgroup/quiet)
echo "$last" | grep -q "^{\"interval_s\":3.0,\"cgroups\":\[{\"cgroup_id\":$noisy,\"name\":\"/noisy\"" \
  || fail "the noisy cgroup is not ranked first: $last"
echo "$last" | grep -q "{\"cgroup_id\":$quiet,\"name\":\"/quiet\",\"denied\":0," || fail "quiet row wrong: $last"
echo "$last" | grep -q '"rare":{[^}]*"bpf":[0-9]' || fail "bpf not reported as rare: $last"
echo "$last" | grep -q '"rare":{[^}]*"ia32:getpid":[0-9]' || fail "the ia32 call not reported: $last"
echo "$last" | grep -q '"rare":{[^}]*"mount":[0-9]' || fail "mount not reported as rare: $last"
# getppid is ordinary: logged, but not rare.
echo "$last" | grep -q "\"cgroup_id\":$quiet,[^}]*\"rare\":{}" || fail "an ordinary call counted as rare: $last"
# Per interval: 3 s at one mount per 50 ms is about 60, never the total.
d=$(echo "$last" | sed -E 's/.*"name":"\/noisy","denied":([0-9]+).*/\1/')
[ "$d" -ge 20 ] && [ "$d" -le 140 ] || fail "noisy denied $d in one 3 s interval"

# The table, for people.
sysfence top --interval 0.5 -n 1 >/tmp/top.txt || fail "top (table) failed"
grep -q "CGROUP-ID" /tmp/top.txt || fail "no table header: $(cat /tmp/top.txt)"
grep -q "/noisy" /tmp/top.txt || fail "no row for noisy: $(cat /tmp/top.txt)"
sysfence top --interval 0 -n 1 >/dev/null 2>&1 && fail "a zero interval was accepted"
sysfence policy delete --cgroup quiet 2>/dev/null
sysfence policy delete --cgroup noisy 2>/dev/null
rmdir /sys/fs/cgroup/quiet /sys/fs/cgroup/noisy
exit 0
