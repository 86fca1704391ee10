# SPDX-License-Identifier: GPL-2.0
# The benchmark suite, in one boot of the bench kernel under icount (guest
# ns = instructions). Prints one line per figure:
#   RESULT|key|case|median|min|max|unit
# which bench/run.sh turns into bench/results/ and the tables in
# bench/README.md and README.md.
# Sizes: SCALE="1 100 1000 10000", ITER, REPS, UPDATES, MACRO_REPS.
set -e
ITER=${ITER:-20000}
REPS=${REPS:-11}
UPDATES=${UPDATES:-2000}
MACRO_REPS=${MACRO_REPS:-21}
SCALE=${SCALE:-1 100 1000 10000}
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
PROFILE=$SF_ROOT/tests/fixtures/docker-default.json
CG=/sys/fs/cgroup

# res KEY CASE CMD...: run CMD (an sf-bench), print its figures as a RESULT.
res() {
  _k=$1 _c=$2
  shift 2
  _o=$("$@")
  # "median M min A max B UNIT over ..." or "p50 P p99 Q max M UNIT ..."
  set -- $_o
  echo "RESULT|$_k|$_c|$2|$4|$6|$7"
}
cg_enter() { echo $$ >"$CG/$1/cgroup.procs"; }
cg_leave() { echo $$ >"$CG/cgroup.procs"; }
# in_cg CGROUP CMD...: CMD run in CGROUP, from a child that moves itself
# there: a task under a policy may not move back out (containment), so the
# suite's own shell stays in cgroups without one.
in_cg() { _c=$1; shift; sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$_c" "$@"; }
# macro [--in-cg CGROUP] [SF-BENCH-OPTION...]: the macro workload's runs.
macro() {
  _pre=
  [ "$1" = --in-cg ] && { _pre="in_cg $2"; shift 2; }
  $_pre sf-bench "$@" --run-cpu "$MACRO_REPS" -- sh -c 'for i in 1 2 3 4 5 6; do ls /bin | wc -l >/dev/null; cat /etc/passwd | head -n 3 >/dev/null; echo x >/tmp/macro.$i; rm /tmp/macro.$i; sf-obj connect inet 127.0.0.1 9 >/dev/null; done'
}
mres() { _k=$1 _c=$2; shift 2; set -- $(macro "$@"); echo "RESULT|$_k|$_c|$2|$4|$6|$7"; }
echo x >/tmp/bench-file

# The filter libseccomp builds from Docker's profile, as runc does.
chroot /host /usr/bin/python3 "${SF_ROOT#/host}/tests/differential/seccomp-bpf.py" \
  "${SF_ROOT#/host}/tests/fixtures/docker-default.json" "$D" "$(uname -r)" /tmp/docker.bpf
S="--seccomp /tmp/docker.bpf"

rmmod sysfence 2>/dev/null || true
# Every case runs in a cgroup of its own, as a container does (the root
# cgroup skips memory accounting, which would flatter the cases run there):
# the baseline and seccomp in "bare", which never gets a policy.
mkdir -p "$CG/bare"
cg_enter bare
res base.getppid "getppid, no module" sf-bench 110 "$ITER" "$REPS"
res base.ia32 "ia32 getpid, no module" sf-bench --abi ia32 20 "$ITER" "$REPS"
res base.socket "socket(AF_INET), no module" sf-bench 41 "$ITER" "$REPS" 2 0xffff 0
res base.personality "personality(0), no module" sf-bench 135 "$ITER" "$REPS" 0
res base.open "open+close, no module" sf-bench --open /tmp/bench-file 5000 "$REPS"
mres base.macro "macro workload, no module"

# seccomp with Docker's profile, the way runc installs it.
res seccomp.getppid "seccomp: getppid (allowed)" sf-bench $S 110 "$ITER" "$REPS"
res seccomp.socket "seccomp: socket(AF_INET), argument rule (allowed)" sf-bench $S 41 "$ITER" "$REPS" 2 0xffff 0
res seccomp.personality "seccomp: personality(0), argument rule (allowed)" sf-bench $S 135 "$ITER" "$REPS" 0
res seccomp.mount "seccomp: mount (denied)" sf-bench $S 165 "$ITER" "$REPS"
res seccomp.ia32 "seccomp: ia32 getpid (allowed)" sf-bench $S --abi ia32 20 "$ITER" "$REPS"
res seccomp.open "seccomp: open+close" sf-bench $S --open /tmp/bench-file 5000 "$REPS"
mres seccomp.macro "seccomp: macro workload" $S
res seccomp.install "seccomp: installing the filter (a running container cannot)" sf-bench --seccomp-install /tmp/docker.bpf 200
cg_leave

insmod "$SF_KO"
mkdir -p "$CG/dock" "$CG/other"
sysfence policy apply --cgroup dock --caps "$D" "$PROFILE" 2>/dev/null
cg_enter bare
res mod.unfiltered "getppid, module loaded, caller unfiltered (a policy elsewhere)" sf-bench 110 "$ITER" "$REPS"
res mod.unfiltered_open "open+close, module loaded, caller unfiltered" sf-bench --open /tmp/bench-file 5000 "$REPS"
cg_leave
res sf.getppid "sysfence: getppid (allowed)" in_cg dock sf-bench 110 "$ITER" "$REPS"
res sf.socket "sysfence: socket(AF_INET), argument rule (allowed)" in_cg dock sf-bench 41 "$ITER" "$REPS" 2 0xffff 0
res sf.personality "sysfence: personality(0), argument rule (allowed)" in_cg dock sf-bench 135 "$ITER" "$REPS" 0
res sf.mount "sysfence: mount (denied)" in_cg dock sf-bench 165 "$ITER" "$REPS"
res sf.ia32 "sysfence: ia32 getpid (allowed)" in_cg dock sf-bench --abi ia32 20 "$ITER" "$REPS"
res sf.open "sysfence: open+close" in_cg dock sf-bench --open /tmp/bench-file 5000 "$REPS"
mres sf.macro "sysfence: macro workload" --in-cg dock
# Nested: Docker's profile on the parent, a small policy on the child.
mkdir -p "$CG/dock/inner"
printf 'default: allow\nrules:\n  - {syscalls: [sethostname], action: errno}\n' | sysfence policy apply --cgroup dock/inner - 2>/dev/null
res sf.nested "sysfence: getppid, policies at two levels" in_cg dock/inner sf-bench 110 "$ITER" "$REPS"
# An object path rule (native policy: OCI profiles have none).
printf 'default: allow\nobjects:\n  files:\n    - {prefix: /etc/secret, action: errno, errno: 13}\n' | sysfence policy apply --cgroup other - 2>/dev/null
res sf.open_rule "sysfence: open+close with an active path rule" in_cg other sf-bench --open /tmp/bench-file 5000 "$REPS"
# What the object hooks cost a task under no object rule while they are on.
cg_enter bare
res mod.unfiltered_open_hooks "open+close, caller unfiltered, a path rule in force elsewhere" sf-bench --open /tmp/bench-file 5000 "$REPS"
cg_leave
sysfence policy delete --cgroup other 2>/dev/null

# Live update of a running container's Docker-default policy.
sh -c 'echo $$ >"$0/cgroup.procs" && exec sf-loop 39 50' "$CG/dock" >/dev/null &
L=$!
_o=$(sysfence bench apply-latency --cgroup dock --caps "$D" "$PROFILE" --count "$UPDATES")
set -- $_o
echo "RESULT|update.latency|sysfence: replace a Docker-default policy, p50 / p99 / max|$2|$4|$6|$7"
echo "RESULT|update.rate|sysfence: sustained replaces per second|${14}|${14}|${14}|replaces/s"
# The same, each replace a version not sent before: none is one the module
# compiled lately (store::compile remembers a few), so each compiles.
_o=$(sysfence bench apply-latency --cgroup dock --caps "$D" "$PROFILE" --count "$UPDATES" --distinct)
set -- $_o
echo "RESULT|update.distinct.latency|sysfence: replace a Docker-default policy, each a new version, p50 / p99 / max|$2|$4|$6|$7"
echo "RESULT|update.distinct.rate|sysfence: sustained replaces per second, each a new version|${14}|${14}|${14}|replaces/s"
kill "$L"
wait "$L" 2>/dev/null || true
sysfence policy delete --cgroup dock/inner 2>/dev/null
sysfence policy delete --cgroup dock 2>/dev/null
rmdir "$CG/dock/inner" "$CG/dock"

# Shadow policies (issue 18): a shadowed call, promote against replace.
sh "$(dirname "$0")/shadow.sh"

# Scale: N cgroups, each with its own Docker-default-sized policy, and N
# sharing one.
slab() { sed -n 's/^Slab: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
# scale N [--distinct] [BATCH]: policies set in batches of BATCH (256:
# policy-set-batch, one table version each), or one request each (1).
scale() {
  _n=$1 _mode=$2 _lab=${2:+distinct} _b=${3:-256}
  _lab=${_lab:-identical}
  _key=$_lab
  [ "$_b" = 1 ] && _key=$_lab.single _lab="$_lab (one request each)"
  mkdir -p "$CG/scale"
  i=0
  while [ "$i" -lt "$_n" ]; do mkdir -p "$CG/scale/c$i"; i=$((i + 1)); done
  _s0=$(slab)
  _o=$(sysfence bench load "$CG/scale" "$PROFILE" --caps "$D" --count "$_n" $_mode --batch "$_b")
  _s1=$(slab)
  set -- $_o
  echo "RESULT|scale.load.$_n.$_key|load $_n $_lab policies, seconds|$5|$5|$5|s"
  [ -z "$_mode" ] || echo "RESULT|scale.encode.$_n.$_key|of which encoding $_n $_lab policies in the manager, seconds|${13}|${13}|${13}|s"
  _m=$(( (_s1 - _s0) * 1024 / _n ))
  echo "RESULT|scale.mem.$_n.$_key|kernel slab per policy, $_n $_lab policies|$_m|$_m|$_m|bytes"
  res "scale.getppid.$_n.$_key" "sysfence: getppid among $_n $_lab policies" in_cg scale/c0 sf-bench 110 "$ITER" "$REPS"
  sysfence bench load "$CG/scale" "$PROFILE" --caps "$D" --count "$_n" --remove
  rmdir "$CG/scale"
}
for n in $SCALE; do scale "$n" --distinct; done
scale "$(echo $SCALE | awk '{print $NF}')" ""
scale "$(echo $SCALE | awk '{print $NF}')" --distinct 1
echo "SUITE-DONE"
