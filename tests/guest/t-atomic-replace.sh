# SPDX-License-Identifier: GPL-2.0
# budget: 75
# arm64: yes
# covers: kmod/ shared-abi/
# Threads hammer two syscalls (one with an argument rule) while the policy
# flips between two versions thousands of times: every call is answered by
# one version or the other (errno 13 or 14), never by no policy, a mix or
# anything else.
. "$(dirname "$0")/lib.sh"
cg_new atomic >/dev/null
id=$(stat -c %i /sys/fs/cgroup/atomic)
secs=${SF_ATOMIC_SECS:-10}
want=${SF_ATOMIC_REPLACES:-2500}
sf-flip "$id" 0 >/dev/null || fail "cannot set the first version" # version A

rm -f /tmp/hammer.stop
spawn_in_cg atomic sf-hammer 2 900 /tmp/hammer.stop >/tmp/hammer.out &
hammer=$!
sleep 1
# At least $secs seconds and $want replaces, however slow the machine.
out=$(sf-flip "$id" "$secs" "$want") || fail "replacing failed: $out"
flips=${out#replaces }
touch /tmp/hammer.stop
wait "$hammer" || fail "sf-hammer failed"
read -r _ calls _ e13 _ e14 _ other </tmp/hammer.out
echo "$flips replaces while 2 threads made $calls calls: $e13 x errno 13, $e14 x errno 14, $other other"
[ "$flips" -ge "$want" ] || fail "only $flips replaces happened (want $want)"
[ "$calls" -gt 0 ] || fail "no calls were made"
[ "$other" = 0 ] || fail "$other calls got an outcome neither policy version gives"
[ "$e13" -gt 0 ] && [ "$e14" -gt 0 ] || fail "the flips were not observed by the running threads"
sysfence policy delete --cgroup atomic 2>/dev/null
rmdir /sys/fs/cgroup/atomic
