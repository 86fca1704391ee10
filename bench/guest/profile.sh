# SPDX-License-Identifier: GPL-2.0
# One run of bench/profile.sh: the suite's set-up (Docker's default policy
# on cgroup dock, for open.rule a path rule on cgroup other, the caller of
# the "bare" cases in cgroup bare), the kernel's symbols written to the run directory
# (/sf/kallsyms), then CASE's call made N times by one sf-bench. The QEMU
# plugin counts the whole boot; bench/profile.sh subtracts a run of the
# same case with fewer calls, which leaves the calls alone.
#   qemu/run --kernel bench --icount --plugin ... -- sh bench/guest/profile.sh CASE N
set -e
case_=$1 n=$2
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
CG=/sys/fs/cgroup
echo x >/tmp/bench-file
lsmod | grep -q sysfence || insmod "$SF_KO"
mkdir -p "$CG/bare" "$CG/dock" "$CG/other"
sysfence policy apply --cgroup dock --caps "$D" "$SF_ROOT/tests/fixtures/docker-default.json" 2>/dev/null
# The path rule only for the case that measures it: while one is in
# force, the object hooks run for every task.
[ "$case_" != open.rule ] ||
  printf 'default: allow\nobjects:\n  files:\n    - {prefix: /etc/secret, action: errno, errno: 13}\n' |
  sysfence policy apply --cgroup other - 2>/dev/null
echo 0 >/proc/sys/kernel/kptr_restrict
cat /proc/kallsyms >/sf/kallsyms
# Each case as bench/guest/suite.sh runs it (sf-bench NR ITER REPS ARGS).
case $case_ in
  getppid.bare) cg=bare; set -- 110 "$n" 1 ;;
  getppid.sf) cg=dock; set -- 110 "$n" 1 ;;
  personality.bare) cg=bare; set -- 135 "$n" 1 0 ;;
  personality.sf) cg=dock; set -- 135 "$n" 1 0 ;;
  open.bare) cg=bare; set -- --open /tmp/bench-file "$n" 1 ;;
  open.sf) cg=dock; set -- --open /tmp/bench-file "$n" 1 ;;
  open.rule) cg=other; set -- --open /tmp/bench-file "$n" 1 ;;
  replace.same | replace.distinct)
    # A live replace of dock's policy, as bench/guest/suite.sh times it
    # (alternating two versions, or each a new one that compiles).
    more=
    [ "$case_" = replace.distinct ] && more=--distinct
    exec sysfence bench apply-latency --cgroup dock --caps "$D" "$SF_ROOT/tests/fixtures/docker-default.json" --count "$n" $more >/dev/null ;;
  *) echo "profile.sh: unknown case '$case_'" >&2; exit 2 ;;
esac
sh -c 'echo $$ >"$0/cgroup.procs" && exec sf-bench "$@"' "$CG/$cg" "$@"
