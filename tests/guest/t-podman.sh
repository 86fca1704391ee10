# SPDX-License-Identifier: GPL-2.0
# budget: 300
# kernel: bench
# covers: manager/src/host/target.rs manager/src/cli/hook.rs manager/src/cli/record.rs manager/src/policy/runtime_base.rs
# Podman (Debian's podman 4.3, through the host root) as users run it:
# - a running `podman run -d` container, by name: a live policy refuses
#   its loop and `podman exec`, events name it, `podman rm -f` frees it;
# - sysfence's OCI hook in a hooks.d directory (--hooks-dir): a container
#   with the annotation sysfence.dev/policy runs under that policy from its
#   first instruction, one without it runs unfiltered, and the policy goes
#   at poststop;
# - a profile recorded from a running container runs the same workload as
#   Podman's seccomp profile, under crun and under runc, and as the
#   linux.seccomp of plain runc and crun bundles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
. "$(dirname "$0")/docker.sh"
host_env_up
host_sysfence
trap 'chroot $HR sh -c "$PODMAN rm -af -t 0" >/dev/null 2>&1; engine_mounts_down; host_env_down' EXIT
podman_up
mark "podman stores ready, image imported"
p() { chroot $HR $PODMAN "$@"; }
policies() { sysfence status --json | sed -nE 's/.*"policies":([0-9]+).*/\1/p'; }
p0=$(policies)

# A container whose loop reports what getppid gets (docker.sh).
mkdir -p "$HR$SF_VOL"
p run -d --name sf-pod --network none -v "$SF_VOL:/vol" sftest/busybox:1 sh -c "$SF_LOOP" >/tmp/pm.id 2>&1 || fail "podman run failed: $(cat /tmp/pm.id)"
wait_last "ok 1" "before any policy"
mkdir -p "$HR/run/sf-policies"
cat >"$HR/run/sf-policies/deny-getppid.yaml" <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
P
sysfence policy apply --container sf-pod "/run/sf-policies/deny-getppid.yaml" || fail "apply by container name failed"
wait_last "err 13" "after the policy"
case $(p exec sf-pod sf-syscall 110) in "err 13"*) ;; *) fail "podman exec is not filtered: $(p exec sf-pod sf-syscall 110)" ;; esac
sysfence events --container sf-pod --json --count 1 --duration 20 >/tmp/pm.ev || fail "events failed"
grep -q '"container_name":"sf-pod"' /tmp/pm.ev || fail "the event does not name the container: $(cat /tmp/pm.ev)"
p rm -f -t 0 sf-pod >/dev/null || fail "podman rm -f failed"
i=0
until [ "$(policies)" = "$p0" ]; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || fail "sf-pod's policy outlived it: $(sysfence policy list)"
  sleep 0.1
done
mark "live policy by name, exec refused, event names sf-pod, podman rm -f freed it"

# The hook in a hooks.d directory, run for every container; the
# annotation picks the policy.
mkdir -p "$HR/run/sf-hooks"
cat >"$HR/run/sf-hooks/sysfence.json" <<J
{"version": "1.0.0",
 "hook": {"path": "$SYSFENCE", "args": ["sysfence", "oci-hook", "--policy-dir", "/run/sf-policies", "--state-dir", "/run/sf-hook-state"]},
 "when": {"always": true},
 "stages": ["createRuntime", "poststop"]}
J
out=$(p --hooks-dir /run/sf-hooks run --rm --network none sftest/busybox:1 sf-syscall 110 2>&1)
case $out in "ok "*) ;; *) fail "without the annotation: '$out', want ok" ;; esac
out=$(p --hooks-dir /run/sf-hooks run --rm --network none --annotation sysfence.dev/policy=deny-getppid sftest/busybox:1 sf-syscall 110 2>&1)
case $out in "err 13"*) ;; *) fail "with the annotation, the first call: '$out', want err 13" ;; esac
[ "$(policies)" = "$p0" ] || fail "the hook's policy outlived its container: $(sysfence policy list)"
mark "hooks.d: annotation filters from the first call, none without it, freed at poststop"

# Record a running container; run the workload under the profile.
work='i=0; while [ $i -lt 5 ]; do ls / >/dev/null; mkdir -p /tmp/d && rmdir /tmp/d; sf-syscall 39 >/dev/null; i=$((i+1)); done; echo WORKED'
p run -d --name sf-rec --network none sftest/busybox:1 sh -c "while :; do $work; sleep 0.2; done" >/dev/null || fail "podman run sf-rec failed"
sysfence record --container sf-rec --duration 3 -o "/run/rec.json" 2>/tmp/rec.err || fail "record failed: $(cat /tmp/rec.err)"
for rt in crun runc; do
  out=$(p run --rm --runtime "$rt" --network none --security-opt seccomp=/run/rec.json sftest/busybox:1 sh -c "$work" 2>&1)
  case $out in *WORKED*) ;; *) fail "podman --runtime $rt under the recorded profile: $out" ;; esac
done
for rt in runc crun; do
  make_bundle "/run/rt-$rt" sh -c "$work"
  for _a in ls mkdir rmdir; do ln -sf busybox "$HR/run/rt-$rt/rootfs/bin/$_a"; done
  chroot $HR python3 - "/run/rt-$rt/config.json" /run/rec.json <<'PY' || fail "editing config.json failed"
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["seccomp"] = json.load(open(sys.argv[2]))
c["process"]["noNewPrivileges"] = False
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
  out=$(chroot $HR "$rt" run -b "/run/rt-$rt" "rec-$rt" 2>&1)
  chroot $HR "$rt" delete -f "rec-$rt" >/dev/null 2>&1
  case $out in *WORKED*) ;; *) fail "$rt with the recorded profile as linux.seccomp: $out" ;; esac
done
mark "record -> podman (crun, runc) and plain runc, crun with the recorded profile: the workload runs"
