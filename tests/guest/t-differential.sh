# SPDX-License-Identifier: GPL-2.0
# budget: 760
# covers: kmod/ shared-abi/ manager/src/policy/oci.rs manager/src/policy/native.rs manager/src/host/caps.rs manager/src/cli/offline/ tests/differential/
# The same semantics as seccomp, proven differentially: a battery of raw
# syscalls (every x86_64 syscall, argument-dependent calls, ia32 calls) runs
# once under real seccomp (the filter libseccomp builds from a profile, as
# runc does) and once under sysfence with the same profile; every outcome
# (errno, success, signal) must match. Docker's default profile with three
# capability sets, and deny-list (ERRNO), kill and LOG profiles. For each
# battery's calls, the offline `sysfence policy test` must predict what
# sysfence did: errno N as `err N`, a kill or trap as death by SIGSYS,
# allow and log as the call's outcome with no filter at all.
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
# predict NAME PROFILE CAPS: `sysfence policy test` on every call of the
# battery (one invocation, --calls), against what the battery saw under
# sysfence; the battery's calls come in the same order every run.
predict() {
  sed 's/ => .*//; s/[(,)]/ /g' /tmp/sysfence.out >/tmp/calls.txt
  sysfence policy test --caps "$3" --kernel "$kernel" --json --calls /tmp/calls.txt "$2" >/tmp/test.out 2>/dev/null ||
    fail "$1: sysfence policy test failed"
  awk -v what="$1" '
    FILENAME == ARGV[1] { o = $0; sub(/.* => /, "", o); none[FNR] = o; next }
    FILENAME == ARGV[2] { a = $0; sub(/.*"action":"/, "", a); sub(/".*/, "", a); act[FNR] = a; next }
    {
      call = $0; sub(/ => .*/, "", call); got = $0; sub(/.* => /, "", got); a = act[FNR]
      if (a ~ /^errno/) { want = a; gsub(/[^0-9]/, "", want); want = "err " want }
      else if (a ~ /^(kill-process|kill-thread|trap)$/) want = "sig 31"
      else if (a ~ /^(allow|log)$/) want = none[FNR]
      else want = "(no answer)"
      if (got != want) { printf "%s: policy test says %s for %s, so %s, but sysfence gave %s\n", what, a, call, want, got; bad++ }
      n++
    }
    END { printf "%d %d\n", n, bad }' /tmp/none.out /tmp/test.out /tmp/sysfence.out >/tmp/predict.out
  sed '$d' /tmp/predict.out
  read -r p_calls p_wrong <<EOF
$(tail -n 1 /tmp/predict.out)
EOF
  [ "$p_calls" -eq "$(wc -l </tmp/sysfence.out)" ] || fail "$1: policy test answered for $p_calls of $(wc -l </tmp/sysfence.out) calls"
  predicted=$((predicted + p_calls))
  mispredicted=$((mispredicted + p_wrong))
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
