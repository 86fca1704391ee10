# SPDX-License-Identifier: GPL-2.0
# budget: 60
# arm64: yes
# covers: kmod/ shared-abi/
# One running process sees its policy change, live, with no restart:
# allow, deny (errno 1), errno 13, log, allow; then delete restores it.
. "$(dirname "$0")/lib.sh"
cg_new live >/dev/null
out=/tmp/live.out
spawn_in_cg live sf-loop getppid 10 >"$out" &
loop=$!

# wait_for WANT: the loop's latest outcome becomes WANT within 20 s.
wait_for() {
  i=0
  while [ "$(tail -n 1 "$out")" != "$1" ]; do
    i=$((i + 1))
    [ "$i" -lt 200 ] || { kill "$loop"; fail "the running process never saw '$1' (last: '$(tail -n 1 "$out")')"; }
    sleep 0.1
  done
}
pol() { printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: %s}\n' "$1" | apply live; }

wait_for "ok"
pol allow && wait_for "ok"
pol errno && wait_for "err 1"
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply live
wait_for "err 13"
pol log && wait_for "ok"
pol allow && wait_for "ok"
pol errno && wait_for "err 1"
sysfence policy delete --cgroup live 2>/dev/null || fail "delete failed"
wait_for "ok"
kill -0 "$loop" || fail "the process did not survive the changes"
kill "$loop"
wait "$loop" 2>/dev/null
# Same process all along: exactly the transitions above, in order.
expect_eq "transitions" "$(tr '\n' ' ' <"$out")" "ok err 1 err 13 ok err 1 ok "
rmdir /sys/fs/cgroup/live
