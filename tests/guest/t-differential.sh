# SPDX-License-Identifier: GPL-2.0
# budget: 320
# covers: kmod/ shared-abi/ manager/src/oci.rs manager/src/policy.rs manager/src/caps.rs manager/src/offline/ tests/differential/
# The same semantics as seccomp, proven differentially: a battery of raw
# syscalls (every x86_64 syscall, argument-dependent calls, ia32 calls) runs
# once under real seccomp (the filter libseccomp builds from a profile, as
# runc does) and once under sysfence with the same profile; every outcome
# (errno, success, signal) must match. Docker's default profile with three
# capability sets, and deny-list (ERRNO), kill and LOG profiles. For a
# sample of each battery's calls, the offline `sysfence policy test` must
# predict what sysfence did: errno N as `err N`, a kill or trap as death by
# SIGSYS, allow and log as the call's outcome with no filter at all.
. "$(dirname "$0")/lib.sh"
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
kernel=$(uname -r)
cg_new diff >/dev/null
total=0
runs=0
bad=0
predicted=0
mispredicted=0
# The battery unfiltered: what an allowed call gives.
sf-battery none >/tmp/none.out || fail "battery without a filter failed"
# The calls policy test is asked about (line prefixes of the battery).
cat >/tmp/sample.pat <<'EOF'
x86_64 getppid(
x86_64 mount(
x86_64 reboot(
x86_64 ptrace(
x86_64 chroot(
x86_64 setns(
x86_64 keyctl(
x86_64 ioctl(
x86_64 clone3(
x86_64 socket(0x1,
x86_64 socket(0xa,
x86_64 socket(0x28,
x86_64 personality(0x8,
x86_64 personality(0x1,
x86_64 personality(0xffffffff,
x86_64 clone(0x20010000,
x86_64 clone(0x10000,
ia32 getpid(
ia32 mount(
ia32 ptrace(
ia32 socket(0x28,
ia32 socketcall(0x1,
ia32 socketcall(0x3,
ia32 ipc(0x17,
ia32 personality(0x1,
EOF
# predict NAME PROFILE CAPS: `sysfence policy test` on the sample of the
# battery's calls, against what the battery saw under sysfence.
predict() {
  grep -F -f /tmp/sample.pat /tmp/sysfence.out >/tmp/sample.out
  n=0
  while IFS= read -r line; do
    call=${line%% => *}
    got=${line##* => }
    abi=${call%% *}
    rest=${call#* }
    name=${rest%%(*}
    args=$(echo "${rest#*(}" | tr -d ')' | tr ',' ' ')
    # shellcheck disable=SC2086 # the arguments are words
    out=$(sysfence policy test --caps "$3" --kernel "$kernel" --abi "$abi" --json "$2" -- "$name" $args 2>/dev/null) ||
      fail "$1: sysfence policy test failed on $call"
    act=$(echo "$out" | sed -n 's/.*"action":"\([^"]*\)".*/\1/p')
    case $act in
      errno*) want="err $(echo "$act" | tr -dc 0-9)" ;;
      kill-process | kill-thread | trap) want="sig 31" ;;
      allow | log) want=$(grep -F "$call => " /tmp/none.out | head -n 1 | sed 's/.* => //') ;;
      *) fail "$1: policy test gave '$out' for $call" ;;
    esac
    if [ "$got" != "$want" ]; then
      echo "$1: policy test says $act for $call, so '$want', but sysfence gave '$got'"
      mispredicted=$((mispredicted + 1))
    fi
    n=$((n + 1))
  done </tmp/sample.out
  [ "$n" -ge 20 ] || fail "$1: only $n sample calls found in the battery"
  predicted=$((predicted + n))
}
# compare NAME PROFILE CAPS
compare() {
  chroot /host /usr/bin/python3 "${SF_ROOT#/host}/tests/differential/seccomp-bpf.py" "${SF_ROOT#/host}/$2" "$3" "$kernel" /tmp/filter.bpf ||
    fail "$1: libseccomp could not build the filter"
  sf-battery seccomp /tmp/filter.bpf >/tmp/seccomp.out || fail "$1: battery under seccomp failed"
  sysfence policy apply --cgroup diff --caps "$3" "$2" 2>/dev/null || fail "$1: sysfence could not apply the profile"
  sf-battery cgroup /sys/fs/cgroup/diff >/tmp/sysfence.out || fail "$1: battery under sysfence failed"
  predict "$1" "$2" "$3"
  n=$(wc -l </tmp/seccomp.out)
  # Calls whose int arguments carry high bits: seccomp compares all 64 bits,
  # the kernel reads 32, and so does sysfence (docs/ABI.md, "Argument
  # widths"): listed in tests/differential/width-differences, shown apart.
  for f in seccomp sysfence; do
    grep -v -F -f "$SF_ROOT/tests/differential/width-differences" /tmp/$f.out >/tmp/$f.cmp
  done
  grep -F -f "$SF_ROOT/tests/differential/width-differences" /tmp/seccomp.out /tmp/sysfence.out |
    sed "s|^/tmp/||; s|^|$1: at the kernel's width: |"
  if ! diff /tmp/seccomp.cmp /tmp/sysfence.cmp >/tmp/diff.out; then
    echo "$1: outcomes differ (< seccomp, > sysfence):"
    cat /tmp/diff.out
    bad=$((bad + 1))
  fi
  denied=$(grep -vc '=> ok$' /tmp/seccomp.out)
  echo "$1: $n calls compared, $denied not plain successes"
  total=$((total + n))
  runs=$((runs + 1))
}
compare "docker-default, Docker's capabilities" tests/fixtures/docker-default.json "$D"
compare "docker-default, + CAP_SYS_ADMIN" tests/fixtures/docker-default.json "$D,CAP_SYS_ADMIN,CAP_SYS_PTRACE"
compare "docker-default, no capabilities" tests/fixtures/docker-default.json ""
compare "deny-list with ERRNO" tests/differential/profiles/denylist-errno.json ""
compare "kill, trap and errno" tests/differential/profiles/denylist-kill.json ""
# sf-battery makes its calls one after the other in a child, a new child
# after each call that kills one; its calls are chosen to leave nothing
# behind, so each must be decided as in a child of its own. Checked on the
# profile with kills and traps, where children are replaced mid-battery.
sf-battery --one-per-child seccomp /tmp/filter.bpf >/tmp/seccomp.one || fail "battery, one child per call, failed"
diff /tmp/seccomp.one /tmp/seccomp.out || fail "one child per call (<) and the batched battery (>) disagree"
echo "kill, trap and errno: one child per call gives the same $(wc -l </tmp/seccomp.one) outcomes"
compare "LOG by default" tests/differential/profiles/log.json ""
echo "$runs profiles, $total calls compared, $bad profiles with mismatches"
echo "sysfence policy test: $predicted calls predicted, $mispredicted wrong"
sysfence policy delete --cgroup diff 2>/dev/null
rmdir /sys/fs/cgroup/diff
[ "$bad" = 0 ] || fail "sysfence and seccomp disagree (diffs above)"
[ "$mispredicted" = 0 ] || fail "sysfence policy test mispredicted $mispredicted calls (above)"
