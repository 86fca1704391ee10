# SPDX-License-Identifier: GPL-2.0
# budget: 120
# covers: kmod/ shared-abi/ manager/src/policy/
# The gate on arm64 (issue 22), in an arm64 guest (scripts/test-arm64.sh):
# a running aarch64 process's policy set, changed and removed live; Docker's
# default profile decides both arm64 ABIs (aarch64 and AArch32, whose
# set_tls, an ARM private call, it allows); a policy naming only aarch64
# kills an AArch32 program at its first call (badAbi); errno, kill-process
# and trap actions on aarch64.
. "$(dirname "$0")/../lib.sh"
[ "$(uname -m)" = aarch64 ] || fail "an arm64 test, run on $(uname -m)"
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
cg_new arm >/dev/null
inside() { sh -c 'echo $$ >/sys/fs/cgroup/arm/cgroup.procs && exec "$@"' sh "$@"; }
pol() { printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: %s}\n' "$1" | apply arm; }

mark "live change"
out=/tmp/arm-live.out
inside sf-loop getppid 10 >"$out" &
loop=$!
wait_for() {
  i=0
  while [ "$(tail -n 1 "$out")" != "$1" ]; do
    i=$((i + 1))
    [ "$i" -lt 200 ] || { kill "$loop"; fail "the running process never saw '$1' (last: '$(tail -n 1 "$out")')"; }
    sleep 0.1
  done
}
wait_for "ok"
pol errno && wait_for "err 1"
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' | apply arm
wait_for "err 13"
pol allow && wait_for "ok"
sysfence policy delete --cgroup arm 2>/dev/null || fail "delete failed"
kill "$loop"
wait "$loop" 2>/dev/null
expect_eq "transitions" "$(uniq <"$out" | tr '\n' ' ')" "ok err 1 err 13 ok "

mark "Docker's profile, both ABIs"
sysfence policy apply --cgroup arm --caps "$D" "$SF_ROOT/tests/fixtures/docker-default.json" 2>/dev/null ||
  fail "Docker's profile was not applied"
expect_eq "aarch64 sethostname" "$(inside hostname sf-arm64 2>&1)" "hostname: sethostname: Operation not permitted"
expect_eq "AArch32 sethostname" "$(inside busybox-armhf hostname sf-arm64 2>&1)" "hostname: sethostname: Operation not permitted"
# An AArch32 program starts with set_tls (0x0f0005), which the profile allows.
expect_eq "AArch32 program" "$(inside busybox-armhf echo runs 2>&1)" "runs"
expect_eq "aarch64 program" "$(inside sf-syscall getppid 2>&1 | cut -d' ' -f1)" "ok"

mark "badAbi"
printf 'default: allow\nabis: [aarch64]\nrules:\n  - {syscalls: [sethostname], action: errno}\n' | apply arm
rc=0
inside busybox-armhf echo "must not run" >/tmp/arm-bad.out 2>&1 || rc=$?
expect_eq "AArch32 under an aarch64-only policy (exit code)" "$rc" 159
grep -q "must not run" /tmp/arm-bad.out && fail "an AArch32 program ran under an aarch64-only policy"
expect_eq "aarch64 under it" "$(inside sf-syscall getppid 2>&1 | cut -d' ' -f1)" "ok"

mark "actions"
pol kill-process
rc=0
inside sf-syscall getppid >/dev/null 2>&1 || rc=$?
expect_eq "kill-process (exit code)" "$rc" 159
pol trap
rc=0
inside sf-syscall getppid >/dev/null 2>&1 || rc=$?
expect_eq "trap with no handler (exit code)" "$rc" 159
pol log
expect_eq "log lets it run" "$(inside sf-syscall getppid 2>&1 | cut -d' ' -f1)" "ok"
sysfence policy delete --cgroup arm 2>/dev/null || fail "delete failed"
expect_eq "no policy" "$(inside sf-syscall getppid 2>&1 | cut -d' ' -f1)" "ok"
rmdir /sys/fs/cgroup/arm
