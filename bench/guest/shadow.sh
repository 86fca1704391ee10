# SPDX-License-Identifier: GPL-2.0
# Shadow policies' cost (issue 18), in one boot of the bench kernel under
# icount (guest ns = instructions). Run alone by bench/shadow.sh, or as part
# of bench/guest/suite.sh. Prints RESULT lines as suite.sh does:
#   RESULT|key|case|median|min|max|unit
# - getppid in a cgroup with Docker's default policy, with no shadow, with
#   a shadow that decides getppid alike (the shadowed call's extra lookup),
#   and with a shadow that would refuse it (every call counted in the
#   shadow's record, events rate-limited);
# - getppid of a caller with no policy while shadows exist elsewhere;
# - promote (swap the enforcing policy and the shadow) against replace,
#   request to the kernel's ACK, p50 / p99 / max.
set -e
ITER=${ITER:-20000}
REPS=${REPS:-11}
UPDATES=${UPDATES:-2000}
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
PROFILE=$SF_ROOT/tests/fixtures/docker-default.json
CG=/sys/fs/cgroup
sres() {
  _k=$1 _c=$2
  shift 2
  set -- $("$@")
  echo "RESULT|$_k|$_c|$2|$4|$6|$7"
}
# from_cg CGROUP KEY CASE CMD...: CMD's figures, run in CGROUP from a
# child that moves itself there (a task under a policy may not move back
# out, and the module refuses requests from filtered tasks, so this shell
# stays in shbare, which has no policy).
from_cg() {
  _cg=$1
  shift
  _k=$1 _c=$2
  shift 2
  sres "$_k" "$_c" sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$_cg" "$@"
}

[ -d /sys/module/sysfence ] || insmod "$SF_KO"
mkdir -p "$CG/shbare" "$CG/shdock"
sysfence policy apply --cgroup shdock --caps "$D" "$PROFILE" 2>/dev/null
echo $$ >"$CG/shbare/cgroup.procs"
sres shadow.unfiltered_none "getppid, module loaded, caller unfiltered, no shadow anywhere" sf-bench 110 "$ITER" "$REPS"
from_cg shdock shadow.enforcing_only "sysfence: getppid (allowed), no shadow" sf-bench 110 "$ITER" "$REPS"
# A shadow that decides getppid as the enforcing policy does.
sysfence policy apply --shadow --cgroup shdock --caps "$D" "$PROFILE" 2>/dev/null
from_cg shdock shadow.same "sysfence: getppid (allowed), shadow allows it too" sf-bench 110 "$ITER" "$REPS"
sres shadow.unfiltered "getppid, module loaded, caller unfiltered, a shadow elsewhere" sf-bench 110 "$ITER" "$REPS"
# A shadow that would refuse getppid: every call differs and is recorded.
printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 1}\n' |
  sysfence policy apply --shadow --cgroup shdock - 2>/dev/null
from_cg shdock shadow.differs "sysfence: getppid (allowed), shadow would refuse it (recorded)" sf-bench 110 "$ITER" "$REPS"
sysfence policy discard-shadow --cgroup shdock 2>/dev/null
from_cg shdock shadow.discarded "sysfence: getppid (allowed), after discard-shadow" sf-bench 110 "$ITER" "$REPS"

# Promote against replace: the same two Docker-default versions, a task
# running in the cgroup.
sh -c 'echo $$ >"$0/cgroup.procs" && exec sf-loop 39 50' "$CG/shdock" >/dev/null &
L=$!
for mode in replace promote; do
  flag=
  [ $mode = promote ] && flag=--promote
  _o=$(sysfence bench apply-latency --cgroup shdock --caps "$D" "$PROFILE" --count "$UPDATES" $flag)
  set -- $_o
  echo "RESULT|shadow.$mode.latency|sysfence: $mode a Docker-default policy, p50 / p99 / max|$2|$4|$6|$7"
  echo "RESULT|shadow.$mode.rate|sysfence: sustained ${mode}s per second|${14}|${14}|${14}|$mode/s"
done
kill "$L"
wait "$L" 2>/dev/null || true
sysfence policy discard-shadow --cgroup shdock 2>/dev/null || true
sysfence policy delete --cgroup shdock 2>/dev/null
echo $$ >"$CG/cgroup.procs"
rmdir "$CG/shbare" "$CG/shdock"
