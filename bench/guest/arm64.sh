# SPDX-License-Identifier: GPL-2.0
# The arm64 rows of the per-call table (issue 22), in one arm64 bench-kernel
# boot under icount (bench/arm64.sh runs it): aarch64 calls with no module,
# under real seccomp with Docker's default profile (the aarch64 filter
# libseccomp builds, made on the host by bench/arm64.sh: the arm64 guest
# cannot run the host's python) and under sysfence with the same profile.
# Prints "RESULT|key|case|median|min|max|unit" lines as bench/guest/suite.sh.
set -e
ITER=${ITER:-20000}
REPS=${REPS:-11}
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
CG=/sys/fs/cgroup
BPF=$SF_ROOT/target/sysfence/docker-aarch64.bpf
[ -f "$BPF" ] || { echo "no $BPF: run bench/arm64.sh" >&2; exit 1; }
res() {
  _k=$1 _c=$2
  shift 2
  set -- $("$@")
  echo "RESULT|$_k|$_c|$2|$4|$6|$7"
}
# getppid 173, personality 92, socket 198, mount 40 (aarch64).
rows() { # KEY-PREFIX LABEL SF-BENCH-PREFIX...
  _p=$1 _l=$2
  shift 2
  res "$_p.getppid" "$_l: getppid" "$@" 173 "$ITER" "$REPS"
  res "$_p.socket" "$_l: socket(AF_INET), argument rule" "$@" 198 "$ITER" "$REPS" 2 0xffff 0
  res "$_p.personality" "$_l: personality(0), argument rule" "$@" 92 "$ITER" "$REPS" 0
  res "$_p.mount" "$_l: mount (denied when filtered)" "$@" 40 "$ITER" "$REPS"
}
rmmod sysfence 2>/dev/null || true
mkdir -p "$CG/bare" "$CG/dock"
echo $$ >"$CG/bare/cgroup.procs"
rows base "no module" sf-bench
rows seccomp "seccomp" sf-bench --seccomp "$BPF"
insmod "$SF_KO"
sysfence policy apply --cgroup dock --caps "$D" "$SF_ROOT/tests/fixtures/docker-default.json" 2>/dev/null
res module.getppid "module loaded, unfiltered caller: getppid" sf-bench 173 "$ITER" "$REPS"
# Last: a task under a policy cannot move back out (containment).
echo $$ >"$CG/dock/cgroup.procs"
rows sysfence "sysfence" sf-bench
