# SPDX-License-Identifier: GPL-2.0
# budget: 180
# kernel: bench
# covers: kmod/ shared-abi/ manager/src/cli/hook.rs manager/src/cli/record.rs manager/src/host/target.rs
# The OCI runtime hook with real runtimes from Debian's packages, run
# through the host root (chroot /host): runc and crun run a busybox bundle
# with the hook, and containerd runs an image imported from a tarball built
# here. In each the container's first calls are under the policy while the
# runtime's own set-up (mounts, pivot_root) is not, and a live change
# reaches the running container; a profile recorded from the containerd
# container runs the workload again as `ctr run --seccomp-profile`. On the
# bench kernel (the runtimes' Go and C userland ran 4 to 12 times slower on
# the debug kernel); the kernel side the hook relies on (arm on exec,
# failing closed) is t-oci-hook's, on the debug kernel.
. "$(dirname "$0")/lib.sh"

HOOK=/tmp/hook
mkdir -p "$HOOK/policies"
cat >"$HOOK/policies/deny-getppid.yaml" <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P

# --- Real runtimes, through the host root --------------------------------
host_env_up
. "$(dirname "$0")/containers.sh"
mkdir -p $HR/run/sysfence-test/policies
cp "$HOOK/policies/deny-getppid.yaml" $HR/run/sysfence-test/policies/
# Records the calls the container's program makes, and refuses getppid.
cat >$HR/run/sysfence-test/policies/record.yaml <<'P'
default: allow
record: true
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P

# hooked_bundle DIR ARGS...: a busybox bundle running ARGS, with the hook
# for createRuntime and poststop and the annotation naming the record policy.
hooked_bundle() {
  _b=$1
  shift
  make_bundle "$_b" "$@"
  chroot $HR python3 - "$_b/config.json" "$SYSFENCE" <<'PY' || fail "adding the hook failed"
import json, sys
path, sysfence = sys.argv[1], sys.argv[2]
c = json.load(open(path))
hook = {"path": sysfence, "args": ["sysfence", "oci-hook", "--policy-dir", "/run/sysfence-test/policies"]}
c["hooks"] = {"createRuntime": [hook], "poststop": [hook]}
c.setdefault("annotations", {})["sysfence.dev/policy"] = "record"
c["linux"]["cgroupsPath"] = "/sysfence-oci/" + path.split("/")[-2]
json.dump(c, open(path, "w"), indent=1)
PY
}

# seen_of CGROUP: the syscalls recorded under its policy.
seen_of() { sysfence stats --cgroup "$1" --json; }

# check_runtime NAME CMD: run a bundle with runtime CMD (runc or crun).
check_runtime() {
  _n=$1 _rt=$2
  _b=/run/sysfence-test/$_n
  hooked_bundle "$_b" sh -c 'sf-syscall 110; while :; do sf-syscall 110; sleep 0.2; done'
  chroot $HR sh -c "cd $_b && $_rt --root /run/$_n-state create $_n" >/tmp/$_n.out 2>&1 ||
    fail "$_n create failed: $(cat /tmp/$_n.out)"
  _cg=sysfence-oci/$_n
  sysfence policy list | grep -q "waiting for exec" || fail "$_n: the policy is not waiting after create"
  chroot $HR sh -c "cd $_b && $_rt --root /run/$_n-state start $_n" >/tmp/$_n.start 2>&1 ||
    fail "$_n start failed: $(cat /tmp/$_n.start)"
  wait_line /tmp/$_n.out '^\(ok\|err\) ' "$_n: the container printed no answer"
  st=$(seen_of $_cg)
  echo "$st" | grep -q '"execve"' || fail "$_n: the container's calls were not recorded: $st"
  echo "$st" | grep -qE '"(pivot_root|mount|sethostname)"' &&
    fail "$_n: the runtime's set-up ran under the policy: $st"
  # The container's output (its stdio is the create command's): its very
  # first getppid was refused.
  out=$(grep -m 1 -E '^(ok|err) ' /tmp/$_n.out)
  expect_eq "$_n: the container's first getppid" "$out" "err 13"
  # A live change reaches the running container.
  sed 's/errno: 13/errno: 14/' $HR/run/sysfence-test/policies/deny-getppid.yaml >/tmp/$_n.p14
  # Timed: the whole `sysfence policy apply` command, start to exit (the
  # kernel's ACK), which is when the container's next call is under it.
  t=$(sf-bench --run 5 -- sysfence policy apply --cgroup "$_cg" /tmp/$_n.p14) || fail "$_n: live apply failed"
  echo "$_n: live change, sysfence policy apply: $t"
  wait_line /tmp/$_n.out '^err 14$' "$_n: the running container did not get the new policy"
  chroot $HR sh -c "$_rt --root /run/$_n-state kill $_n KILL" 2>/dev/null
  sleep 1
  chroot $HR sh -c "$_rt --root /run/$_n-state delete -f $_n" >/dev/null 2>&1 || fail "$_n delete failed"
  sysfence policy get --cgroup "$_cg" >/dev/null 2>&1 && fail "$_n: poststop left the policy"
  echo "$_n: first calls under the policy, set-up not, live change in force"
}

for rt in ${SF_OCI_RUNTIMES-runc crun}; do
  check_runtime $rt $rt
done

# --- containerd, with ctr, running an image imported from a tarball -------
# The image: an OCI archive built here (busybox and sf-syscall in one
# layer), imported and unpacked by containerd. `ctr run` cannot add hooks
# to the spec it builds from an image, so the container runs from a spec
# file (the bundle's config.json, hooks and annotation included) whose root
# is the image's unpacked rootfs (`ctr images mount`). Its cgroup is
# NAMESPACE/ID, as ctr names it, and its id 64 hex digits, as containerd
# makes them, so `--container` finds it.
CID=c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0
B=/run/sysfence-test/ctr
hooked_bundle $B sh -c 'sf-syscall 110; while :; do sf-syscall 110; sleep 0.2; done'
containerd_up
chroot $HR $CTR images ls -q | grep -qx sysfence.test/busybox:1 || fail "the image is not there: $(chroot $HR $CTR images ls)"
mkdir -p $HR$B/mnt
chroot $HR $CTR images mount --snapshotter native --rw sysfence.test/busybox:1 $B/mnt >/tmp/ctr.mount 2>&1 ||
  fail "ctr images mount failed: $(cat /tmp/ctr.mount)"
[ -x $HR$B/mnt/bin/sf-syscall ] || fail "the image's rootfs lacks sf-syscall"
chroot $HR python3 - $B $CID <<'PY' || fail "editing the spec failed"
import json, sys
b = sys.argv[1]
c = json.load(open(b + "/config.json"))
c["root"]["path"] = b + "/mnt"
c["linux"]["cgroupsPath"] = "/sftest/" + sys.argv[2]
json.dump(c, open(b + "/config.json", "w"), indent=1)
PY
# Attached (in the background), so that the container's output reaches us.
chroot $HR $CTR run --config $B/config.json $CID >/tmp/ctr.out 2>&1 &
ctrrun=$!
i=0
until grep -q -E '^(ok|err) ' /tmp/ctr.out; do
  kill -0 $ctrrun 2>/dev/null || fail "ctr run ended: $(cat /tmp/ctr.out)"
  i=$((i + 1))
  [ $i -lt 60 ] || fail "the container printed nothing in 60 s: $(cat /tmp/ctr.out)"
  sleep 1
done
st=$(seen_of sftest/$CID)
echo "$st" | grep -q '"execve"' || fail "containerd: the container's calls were not recorded: $st"
echo "$st" | grep -qE '"(pivot_root|mount|sethostname)"' && fail "containerd: the runtime's set-up ran under the policy: $st"
expect_eq "containerd: the container's first getppid" "$(grep -m 1 -E '^(ok|err) ' /tmp/ctr.out)" "err 13"
sed 's/errno: 13/errno: 14/' $HR/run/sysfence-test/policies/deny-getppid.yaml >/tmp/ctr.p14
t=$(sf-bench --run 5 -- sysfence policy apply --container $(echo $CID | cut -c1-12) /tmp/ctr.p14) || fail "containerd: live apply by container id failed"
echo "containerd: live change, sysfence policy apply --container: $t"
pid=$(chroot $HR $CTR task ls | awk -v id=$CID '$1 == id {print $2}')
[ -n "$pid" ] || fail "no task for $CID: $(chroot $HR $CTR task ls)"
expect_eq "containerd: a new process in the container, after the change" \
  "$(chroot $HR $CTR task exec --exec-id probe $CID sf-syscall 110 2>&1)" "err 14"
# The record round trip with containerd: a profile recorded from the
# running container (with runc's runtime base, containerd's runtime) runs
# the same workload as the seccomp profile of a new `ctr run`.
record_start /tmp/ctr.rec --container $(echo $CID | cut -c1-12) -o /run/sysfence-test/ctr-rec.json
sleep 2
record_stop /tmp/ctr.rec
grep -q '"comment": "runtime base' $HR/run/sysfence-test/ctr-rec.json || fail "containerd: the recorded profile does not mark the runtime's calls"
out=$(chroot $HR $CTR run --rm --snapshotter native --seccomp --seccomp-profile /run/sysfence-test/ctr-rec.json \
  sysfence.test/busybox:1 sf-rec sh -c 'sf-syscall 110; sleep 0.2; sf-syscall 110; echo WORKED' 2>&1)
case $out in *WORKED*) ;; *) fail "containerd: the workload under its recorded profile failed: $out" ;; esac
echo "containerd: record -> ctr run --seccomp-profile: the workload runs"
chroot $HR $CTR task kill -s KILL $CID >/dev/null 2>&1
wait $ctrrun 2>/dev/null
chroot $HR $CTR task delete $CID >/dev/null 2>&1
chroot $HR $CTR containers delete $CID >/dev/null 2>&1 || fail "ctr containers delete failed"
expect_eq "containerd: policies after poststop" "$(sysfence policy list --json)" "[]"
echo "containerd: first calls under the policy, set-up not, live change in force"
chroot $HR $CTR images unmount $B/mnt >/dev/null 2>&1 || umount $HR$B/mnt 2>/dev/null
containerd_down
host_env_down
exit 0
