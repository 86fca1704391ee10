# SPDX-License-Identifier: GPL-2.0
# budget: 760
# covers: kmod/ shared-abi/ manager/src/policy/oci.rs manager/src/policy/native.rs manager/src/host/caps.rs manager/src/cli/offline/ tests/differential/ tests/guest/differential.sh
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
# diff_filter NAME PROFILE CAPS OUT: the filter of the host's libseccomp
# (python3-seccomp through the host root).
diff_filter() {
  chroot /host /usr/bin/python3 "${SF_ROOT#/host}/tests/differential/seccomp-bpf.py" "${SF_ROOT#/host}/$2" "$3" "$kernel" "$4" ||
    fail "$1: libseccomp could not build the filter"
}
. "$(dirname "$0")/differential.sh"
compare "docker-default, Docker's capabilities" tests/fixtures/docker-default.json "$D"
compare "docker-default, + CAP_SYS_ADMIN" tests/fixtures/docker-default.json "$D,CAP_SYS_ADMIN,CAP_SYS_PTRACE"
compare "docker-default, no capabilities" tests/fixtures/docker-default.json ""
compare "deny-list with ERRNO" tests/differential/profiles/denylist-errno.json ""
compare "kill, trap and errno" tests/differential/profiles/denylist-kill.json ""
one_per_child "kill, trap and errno"
compare "LOG by default" tests/differential/profiles/log.json ""
diff_summary
