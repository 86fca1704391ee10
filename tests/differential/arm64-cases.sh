# SPDX-License-Identifier: GPL-2.0
# The arm64 differential's profiles, one `diff_case NAME PROFILE CAPS
# [arm64]` a line, in order. Sourced by tests/differential/arm64-filters.sh
# on the host, which builds each case's seccomp filter (the guest cannot
# run the host's x86 python3-seccomp), and by tests/guest/arm64/
# t-differential.sh in the guest, which compares each. `arm64` replaces the
# profile's `architectures` (x86 ones in the deny-lists) with
# SCMP_ARCH_AARCH64 and SCMP_ARCH_ARM. As written, a deny-list describes
# only aarch64 on arm64, and both filters kill every AArch32 call as a bad
# ABI: compared once (7 December 2026, 0 mismatches), but each of the 411
# calls then takes a process of its own, 177 s on the debug kernel, so the
# case is left out (arm64/t-gate checks the bad ABI kill).
D=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
diff_case "docker-default, Docker's capabilities" tests/fixtures/docker-default.json "$D"
diff_case "docker-default, + CAP_SYS_ADMIN" tests/fixtures/docker-default.json "$D,CAP_SYS_ADMIN,CAP_SYS_PTRACE"
diff_case "docker-default, no capabilities" tests/fixtures/docker-default.json ""
diff_case "deny-list with ERRNO" tests/differential/profiles/denylist-errno.json "" arm64
diff_case "kill, trap and errno" tests/differential/profiles/denylist-kill.json "" arm64
diff_case "LOG by default" tests/differential/profiles/log.json "" arm64
