# SPDX-License-Identifier: GPL-2.0
# budget: 100
# covers: manager/src/policy/oci.rs manager/src/policy/native.rs manager/src/host/caps.rs manager/src/cli/policy.rs
# Docker's default seccomp profile, applied unchanged: its decisions as real
# syscall outcomes, its capability conditions (from --caps or from a task in
# the cgroup), export back to OCI JSON, and clear errors.
. "$(dirname "$0")/lib.sh"
docker=tests/fixtures/docker-default.json
DOCKER_CAPS=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE
cg_new oci >/dev/null

# An empty cgroup and no --caps: the conditions cannot be evaluated.
out=$(sysfence policy apply --cgroup oci $docker 2>&1) && fail "applied without knowing the capabilities"
echo "$out" | grep -q -- '--caps' || fail "unclear error without capabilities: $out"

# Docker's capability set.
sysfence policy apply --cgroup oci --caps "$DOCKER_CAPS" $docker 2>/tmp/oci.err || fail "import failed: $(cat /tmp/oci.err)"
grep -q "left out by their conditions" /tmp/oci.err || fail "skipped rules not reported: $(cat /tmp/oci.err)"
expect_run "getppid" "ok" sh -c 'echo $$ >/sys/fs/cgroup/oci/cgroup.procs && sf-syscall 110 | cut -c1-2'
expect_run "socket(AF_VSOCK)" "err 1" in_cg oci sf-syscall 41 40 1 0
in_cg oci sf-syscall 41 2 1 0 | grep -q '^ok ' || fail "socket(AF_INET) must be allowed"
expect_run "personality(0)" "ok 0" in_cg oci sf-syscall 135 0
expect_run "personality(1)" "err 1" in_cg oci sf-syscall 135 1
expect_run "mount" "err 1" in_cg oci sf-syscall 165 0 0 0 0 0
expect_run "clone3 is ENOSYS" "err 38" in_cg oci sf-syscall 435 0 0
expect_run "clone(CLONE_NEWUSER)" "err 1" in_cg oci sf-syscall 56 0x10000011
expect_run "ia32 mount" "err 1" in_cg oci sf-syscall --abi ia32 21 0 0 0 0 0
in_cg oci sf-syscall --abi ia32 20 | grep -q '^ok ' || fail "ia32 getpid must be allowed"

# Export, re-import: the kernel holds the same policy.
sysfence policy export --cgroup oci >/tmp/exported.json || fail "export failed"
grep -q '"defaultAction": "SCMP_ACT_ERRNO"' /tmp/exported.json || fail "export is not an OCI profile"
sysfence policy apply --cgroup oci --caps '' /tmp/exported.json 2>/tmp/oci.err || fail "re-import of the export failed: $(cat /tmp/oci.err)"
expect_eq "export, re-import, export" "$(sysfence policy export --cgroup oci)" "$(cat /tmp/exported.json)"
expect_run "socket(AF_VSOCK) after re-import" "err 1" in_cg oci sf-syscall 41 40 1 0

# With CAP_SYS_ADMIN (read from the task in the cgroup: root has it), mount
# and clone3 are the kernel's to answer.
sleep 60 &
holder=$!
echo "$holder" >/sys/fs/cgroup/oci/cgroup.procs
sysfence policy apply --cgroup oci $docker 2>/dev/null || fail "import with the task's capabilities failed"
out=$(in_cg oci sf-syscall 165 0 0 0 0 0)
[ "$out" != "err 1" ] || fail "mount still refused by the profile with CAP_SYS_ADMIN"
out=$(in_cg oci sf-syscall 435 0 0)
[ "$out" != "err 38" ] || fail "clone3 still ENOSYS with CAP_SYS_ADMIN"
kill "$holder"

# Unsupported actions and unknown names.
printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}' >/tmp/notify.json
out=$(sysfence policy apply --cgroup oci --caps '' /tmp/notify.json 2>&1) && fail "SCMP_ACT_NOTIFY was accepted"
echo "$out" | grep -q 'syscalls\[0\].*SCMP_ACT_NOTIFY' || fail "NOTIFY error unclear: $out"
printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getppid","frobnicate"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}' >/tmp/unknown.json
out=$(sysfence policy apply --cgroup oci --caps '' /tmp/unknown.json 2>&1) || fail "a profile with an unknown name failed: $out"
echo "$out" | grep -q 'frobnicate' || fail "unknown name not reported: $out"
expect_run "known names still apply" "err 13" in_cg oci sf-syscall 110

# policy diff: live policy against a file, decision by decision.
sysfence policy diff --cgroup oci --caps '' /tmp/unknown.json >/tmp/diff.out 2>/dev/null
expect_eq "diff of the same policy" "$?" 0
sed 's/"errnoRet":13/"errnoRet":14/' /tmp/unknown.json >/tmp/changed.json
sysfence policy diff --cgroup oci --caps '' /tmp/changed.json >/tmp/diff.out 2>/dev/null
expect_eq "diff of a changed policy" "$?" 4
expect_eq "diff lines" "$(cat /tmp/diff.out)" "- x86_64 getppid: errno(13)
+ x86_64 getppid: errno(14)"

sysfence policy delete --cgroup oci 2>/dev/null || fail "delete failed"
wait "$holder" 2>/dev/null
rmdir /sys/fs/cgroup/oci
