#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the arm64 differential's seccomp filters on the host, before the
# arm64 guest boots (its host root's python3 is an x86 program): for each
# case of tests/differential/arm64-cases.sh, in order, OUT/N.json (the
# profile both filters are made from) and OUT/N.bpf (the aarch64 filter
# libseccomp builds from it, seccomp-bpf.py ... aarch64), and OUT/kernel
# (the release minKernel was compared with, which must be the guest's).
# scripts/test-arm64.sh runs it and passes OUT to the guest as
# SF_DIFF_ARM64.
#
#   tests/differential/arm64-filters.sh OUT KERNEL-RELEASE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: arm64-filters.sh OUT KERNEL-RELEASE}
release=${2:?usage: arm64-filters.sh OUT KERNEL-RELEASE}
rm -rf "$out"
mkdir -p "$out"
n=0
diff_case() { # NAME PROFILE CAPS [arm64]
  n=$((n + 1))
  if [ "${4:-}" = arm64 ]; then
    /usr/bin/python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
p["architectures"] = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
json.dump(p, open(sys.argv[2], "w"), indent=2)' "$root/$2" "$out/$n.json"
  else
    cp "$root/$2" "$out/$n.json"
  fi
  /usr/bin/python3 "$here/seccomp-bpf.py" "$out/$n.json" "$3" "$release" "$out/$n.bpf" aarch64 ||
    { echo "arm64-filters.sh: libseccomp could not build the filter of '$1'" >&2; exit 1; }
}
. "$here/arm64-cases.sh"
echo "$release" >"$out/kernel"
echo "$n" >"$out/cases"
