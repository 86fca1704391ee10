# SPDX-License-Identifier: GPL-2.0
# budget: 240
# covers: kmod/ shared-abi/ manager/src/status.rs manager/src/client.rs
# sysfence.ko loads, logs its version, and unloads cleanly, 100 times over,
# leaving nothing behind that kmemleak can find.
. "$(dirname "$0")/lib.sh"

rounds=${SF_LOAD_ROUNDS:-100}
# Objects allocated before this test are not its business.
echo clear >/sys/kernel/debug/kmemleak || fail "kmemleak is not available"
module_loaded && { rmmod sysfence || fail "initial rmmod failed"; }
dmesg -c >/dev/null # count only this test's own load and unload messages

i=0
while [ "$i" -lt "$rounds" ]; do
  insmod "$SF_KO" || fail "insmod failed in round $i"
  module_loaded || fail "module not listed after insmod in round $i"
  rmmod sysfence || fail "rmmod failed in round $i"
  module_loaded && fail "module still listed after rmmod in round $i"
  i=$((i + 1))
done

loads=$(dmesg | grep -c 'sysfence: loaded: version ')
unloads=$(dmesg | grep -c 'sysfence: unloaded')
expect_eq "load messages" "$loads" "$rounds"
expect_eq "unload messages" "$unloads" "$rounds"
dmesg | grep -m1 'sysfence: loaded: version 0\.1\.0, netlink family sysfence v3' >/dev/null ||
  fail "the load message does not carry the version"

# kmemleak only reports objects older than 5 s; scan twice to settle.
sleep 6
kmemleak_scan >/dev/null
leaks=$(kmemleak_scan)
[ -z "$leaks" ] || { echo "$leaks"; fail "kmemleak reports leaks after $rounds load/unload rounds"; }

# Without the module every command says so in one sentence, with exit
# status 3 (status too); nothing is half done.
out=$(sysfence policy list 2>&1)
expect_eq "exit status without the module" "$?" 3
echo "$out" | grep -q '^sysfence: the sysfence kernel module is not loaded: load it' || fail "unclear: $out"
expect_eq "lines of the message" "$(echo "$out" | wc -l)" 1
sysfence status >/dev/null
expect_eq "status without the module" "$?" 3
sysfence status --json | grep -q '"module_loaded":false' || fail "status --json without the module"

# Leave the module loaded, as the next test expects it.
insmod "$SF_KO" || fail "final insmod failed"
echo "$rounds load/unload rounds, no leak"
