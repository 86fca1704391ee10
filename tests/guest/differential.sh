# SPDX-License-Identifier: GPL-2.0
# The differential's shared part (busybox sh), sourced after lib.sh by
# t-differential.sh (x86_64) and arm64/t-differential.sh: sf-battery under
# seccomp and under sysfence with the same profile, outcomes compared call
# for call, and the offline `sysfence policy test` predicting each of
# sysfence's outcomes. The test defines, before it calls compare,
#   diff_filter NAME PROFILE CAPS OUT: write the seccomp BPF libseccomp
#     builds from PROFILE with CAPS (for this guest's kernel) to OUT
# and ends with diff_summary.

# Docker's default capabilities.
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
kernel=$(uname -r)
cg_new diff >/dev/null
total=0
runs=0
bad=0
mismatched=0
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
  diff_filter "$1" "$2" "$3" /tmp/filter.bpf
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
    mismatched=$((mismatched + $(grep -c '^<' /tmp/diff.out)))
  fi
  denied=$(grep -vc '=> ok$' /tmp/seccomp.out)
  echo "$1: $n calls compared, $denied not plain successes"
  total=$((total + n))
  runs=$((runs + 1))
}
# one_per_child NAME: sf-battery makes its calls one after the other in a
# child, a new child after each call that kills one; its calls are chosen
# to leave nothing behind, so each must be decided as in a child of its
# own. Checked on the last profile compared (NAME), one with kills and
# traps, where children are replaced mid-battery.
one_per_child() {
  sf-battery --one-per-child seccomp /tmp/filter.bpf >/tmp/seccomp.one || fail "battery, one child per call, failed"
  diff /tmp/seccomp.one /tmp/seccomp.out || fail "one child per call (<) and the batched battery (>) disagree"
  echo "$1: one child per call gives the same $(wc -l </tmp/seccomp.one) outcomes"
}
# diff_summary: the counts; fails on any mismatch or misprediction.
diff_summary() {
  echo "$runs profiles, $total calls compared, $mismatched calls mismatched in $bad profiles"
  echo "sysfence policy test: $predicted calls predicted, $mispredicted wrong"
  sysfence policy delete --cgroup diff 2>/dev/null
  rmdir /sys/fs/cgroup/diff
  [ "$bad" = 0 ] || fail "sysfence and seccomp disagree (diffs above)"
  [ "$mispredicted" = 0 ] || fail "sysfence policy test mispredicted $mispredicted calls (above)"
}
