# SPDX-License-Identifier: GPL-2.0
# budget: 730
# covers: kmod/ shared-abi/
# Generated and mutated netlink requests (sf-nlfuzz): every one answered,
# every policy-set answered exactly as the shared engine predicts, the
# module responsive afterwards, another cgroup's policy untouched, and no
# leak for kmemleak (the guest's leak check after its last test,
# tests/guest/run.sh). SF_FUZZ_COUNT sets the number of requests (CI:
# 5,000; the closing note of issue 7 reports a million).
. "$(dirname "$0")/lib.sh"
count=${SF_FUZZ_COUNT:-5000}
cg_new fuzz >/dev/null
cg_new keep >/dev/null
apply keep <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
before=$(sysfence policy get --cgroup keep --json)
id=$(stat -c %i /sys/fs/cgroup/fuzz)
start=$(date +%s)
out=$(sf-nlfuzz "$id" "$count" "${SF_FUZZ_SEED:-12345}") || fail "sf-nlfuzz: $out"
echo "$out in $(( $(date +%s) - start )) s"
sysfence status >/dev/null || fail "the module does not answer after the fuzzing"
expect_eq "the other cgroup's policy" "$(sysfence policy get --cgroup keep --json)" "$before"
expect_run "still enforced" "err 13" in_cg keep sf-syscall 110
sysfence policy delete --cgroup fuzz 2>/dev/null
sysfence policy delete --cgroup keep 2>/dev/null || fail "delete failed"
rmdir /sys/fs/cgroup/fuzz /sys/fs/cgroup/keep
