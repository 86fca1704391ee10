# SPDX-License-Identifier: GPL-2.0
# budget: 650
# covers: kmod/ shared-abi/ manager/src/policy/oci.rs manager/src/policy/native.rs manager/src/host/caps.rs manager/src/cli/offline/ tests/differential/ tests/guest/differential.sh tests/progs/aarch32/
# The differential on arm64 (issue 22), in an arm64 guest
# (scripts/test-arm64.sh): sf-battery (every aarch64 syscall with invalid
# arguments, socket/personality/clone calls by value, and every AArch32
# `arm` syscall likewise, ARM's private calls included, made by the
# AArch32 sf-call32, which enters the filter itself) runs under the
# aarch64 filter libseccomp builds
# from a profile and under sysfence with the same profile; every outcome
# must match, and `sysfence policy test` must predict sysfence's. The
# filters are built on the host before the guest boots
# (tests/differential/arm64-filters.sh, which scripts/test-arm64.sh runs:
# the host root's python3 is an x86 program) for the cases of
# tests/differential/arm64-cases.sh; the comparison is the x86 test's
# (tests/guest/differential.sh).
. "$(dirname "$0")/../lib.sh"
[ "$(uname -m)" = aarch64 ] || fail "an arm64 test, run on $(uname -m)"
[ -n "${SF_DIFF_ARM64:-}" ] || fail "no SF_DIFF_ARM64: run through scripts/test-arm64.sh, which builds the filters"
dir=/host$SF_DIFF_ARM64
[ -f "$dir/cases" ] || fail "no filters in $dir (tests/differential/arm64-filters.sh)"
expect_eq "the kernel the filters were built for" "$(cat "$dir/kernel")" "$(uname -r)"
# diff_filter NAME PROFILE CAPS OUT: the filter built on the host for
# this case (PROFILE is its copy there).
diff_filter() { cp "${2%.json}.bpf" "$4" || fail "$1: no filter from the host"; }
. "$(dirname "$0")/../differential.sh"
expect_eq "AArch32 calls in the battery" "$(grep -c '^arm ' /tmp/none.out)" "$(sf-battery list | grep -c '^arm ')"
grep -q '^arm ' /tmp/none.out || fail "the battery made no AArch32 call"
case_n=0
diff_case() {
  case_n=$((case_n + 1))
  mark "$1"
  compare "$1" "$dir/$case_n.json" "$3"
  # The profile with kills and traps: children are replaced mid-battery.
  [ "$1" != "kill, trap and errno" ] || one_per_child "$1"
}
. "$SF_ROOT/tests/differential/arm64-cases.sh"
expect_eq "cases compared" "$case_n" "$(cat "$dir/cases")"
echo "aarch64 calls per battery: $(grep -c '^aarch64 ' /tmp/none.out), arm: $(grep -c '^arm ' /tmp/none.out)"
diff_summary
