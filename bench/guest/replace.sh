# SPDX-License-Identifier: GPL-2.0
# Replace latency alone, in one boot of the bench kernel (a few seconds
# under icount): Docker's default policy replaced on a running cgroup, as
# bench/guest/suite.sh does, without and then with a child policy below
# it; each `sysfence bench apply-latency` alternating two versions (which
# the module remembers compiled) and with --distinct (each compiles).
#   qemu/run --kernel bench --icount -- sh bench/guest/replace.sh
# SF_N replaces per run (2000), SF_R runs of each (3); SF_ALT_KO=PATH
# (relative to the checkout) loads that module instead of the built one,
# to compare builds in the same guest.
set -e
N=${SF_N:-2000}
R=${SF_R:-3}
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
PROFILE=$SF_ROOT/tests/fixtures/docker-default.json
CG=/sys/fs/cgroup
if [ -n "$SF_ALT_KO" ]; then
  rmmod sysfence 2>/dev/null || true
  insmod "$SF_ROOT/$SF_ALT_KO"
fi
lsmod | grep -q sysfence || insmod "$SF_KO"
mkdir -p "$CG/dock"
sysfence policy apply --cgroup dock --caps "$D" "$PROFILE" 2>/dev/null
sh -c 'echo $$ >"$0/cgroup.procs" && exec sf-loop 39 50' "$CG/dock" >/dev/null &
L=$!
runs() {
  i=0
  while [ $i -lt "$R" ]; do
    echo "$1: $(sysfence bench apply-latency --cgroup dock --caps "$D" "$PROFILE" --count "$N" 2>/dev/null)"
    echo "$1, distinct: $(sysfence bench apply-latency --cgroup dock --caps "$D" "$PROFILE" --count "$N" --distinct 2>/dev/null)"
    i=$((i + 1))
  done
}
runs "no child"
mkdir -p "$CG/dock/inner"
printf 'default: allow\nrules:\n  - {syscalls: [sethostname], action: errno}\n' | sysfence policy apply --cgroup dock/inner - 2>/dev/null
runs "child"
kill "$L"
wait "$L" 2>/dev/null || true
sysfence policy delete --cgroup dock/inner 2>/dev/null
sysfence policy delete --cgroup dock 2>/dev/null
rmdir "$CG/dock/inner" "$CG/dock"
