#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where a call's instructions go, function by function, in the bench kernel
# (issue 20: "where the remaining instructions go, measured"). For each
# case, two boots under icount with a QEMU plugin that counts the
# instructions of every translated block (bench/profile/insn-count.c):
# one making the call N times, one N/5 times; their difference, mapped to
# the guest's symbols, is every function's instructions per call.
#   bench/profile.sh [CASE...]   (default: every case below)
# Cases (bench/guest/profile.sh): getppid.bare getppid.sf personality.bare
# personality.sf open.bare open.sf open.rule; ".bare" is a caller under no
# policy with the module loaded, ".sf" one under Docker's default policy,
# open.rule one under a policy with a file path rule; replace.same and
# replace.distinct are live replaces of Docker's policy as the suite times
# them (two versions alternating; each a new version). N: SF_PROFILE_N
# (500000; the open cases a fifth, the replaces 2000). Writes
# bench/results/profile.md
# when every case ran.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
all=(getppid.bare getppid.sf personality.bare personality.sf open.bare open.sf open.rule replace.same replace.distinct)
[ $# -gt 0 ] || set -- "${all[@]}"
n=${SF_PROFILE_N:-500000}
out=$SF_BUILD/profile
mkdir -p "$out"
so=$out/insn-count.so
gcc -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror -o "$so" bench/profile/insn-count.c
scripts/build-initramfs.sh bench >/dev/null

# boot CASE N: counts and symbols of one boot in $out/CASE.N.{counts,kallsyms}
boot() {
  local c=$1 k=$2 log
  log=$(qemu/run --kernel bench --icount --no-build --timeout 600 --plugin "$so,out=$out/$c.$k.counts" \
    -- sh bench/guest/profile.sh "$c" "$k" 2>&1 >/dev/null) || { echo "$log" >&2; sf_die "profile: the boot for $c ($k calls) failed"; }
  local serial
  serial=$(sed -n 's/.*guest run: .*, log \(.*\)$/\1/p' <<<"$log" | tail -n 1)
  [ -n "$serial" ] || sf_die "profile: no run directory in qemu/run's output"
  cp "$(dirname "$serial")/kallsyms" "$out/$c.$k.kallsyms"
}
for c in "$@"; do
  case " ${all[*]} " in *" $c "*) ;; *) sf_die "unknown case '$c' (want one of: ${all[*]})" ;; esac
  hi=$n
  case $c in open.*) hi=$((n / 5)) ;; replace.*) hi=$((n / 250)) ;; esac
  lo=$((hi / 5))
  sf_log "profile: $c, $lo and $hi calls"
  boot "$c" "$lo"
  boot "$c" "$hi"
done
write=()
[ "$*" = "${all[*]}" ] && write=(--write bench/results/profile.md)
python3 bench/profile/report.py "$out" ${write[@]+"${write[@]}"} "$@"
