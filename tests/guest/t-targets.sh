# SPDX-License-Identifier: GPL-2.0
# budget: 130
# covers: manager/src/host/target.rs
# Targets: containers found by id prefix in the real cgroup layouts of
# Docker, containerd (Kubernetes and ctr), CRI-O, Podman and systemd-nspawn,
# under both cgroup drivers; --pid; ambiguity and absence are clear errors.
. "$(dirname "$0")/lib.sh"
hex() { printf '%s%s' "$1" 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef012' | cut -c1-64; }
U=0f3c4b2a_1d2e_4f60_8a9b_0c1d2e3f4a5b
layouts="
system.slice/docker-$(hex a1).scope
docker/$(hex a2)
kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$U.slice/cri-containerd-$(hex a3).scope
kubepods/burstable/pod$U/$(hex a4)
default/$(hex a5)
kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$U.slice/crio-$(hex a6).scope
kubepods/besteffort/pod$U/crio-$(hex a7)
machine.slice/libpod-$(hex a8).scope
libpod_parent/libpod-$(hex a9)
machine.slice/machine-web.scope
"
# conmon's cgroups sit next to the containers' and must never match.
extra="kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$U.slice/crio-conmon-$(hex a6).scope
machine.slice/libpod-conmon-$(hex a8).scope"
for l in $layouts $extra; do mkdir -p "/sys/fs/cgroup/$l" || fail "mkdir $l"; done

n=0
for l in $layouts; do
  case $l in */machine-web.scope) prefix=web ;; *) prefix=$(basename "$l" .scope | sed -E 's/^(docker|cri-containerd|crio|libpod)-//' | cut -c1-12) ;; esac
  printf 'default: allow\nrules:\n  - {syscalls: [getppid], action: errno, errno: 13}\n' >/tmp/p.yaml
  sysfence policy apply --container "$prefix" /tmp/p.yaml 2>/tmp/t.err || fail "$l: --container $prefix: $(cat /tmp/t.err)"
  want=$(stat -c %i "/sys/fs/cgroup/$l")
  sysfence policy list --json | grep -q "\"cgroup_id\":$want," || fail "$l: the policy is not on $want: $(sysfence policy list --json)"
  expect_run "$l: enforced" "err 13" in_cg "$l" sf-syscall 110
  sysfence policy delete --container "$prefix" 2>/dev/null || fail "$l: delete by container failed"
  n=$((n + 1))
done
echo "$n container layouts resolved by id prefix"

# --pid: the cgroup of a running process.
sleep 30 &
p=$!
echo "$p" >"/sys/fs/cgroup/docker/$(hex a2)/cgroup.procs"
sysfence policy apply --pid "$p" /tmp/p.yaml 2>/dev/null || fail "--pid failed"
expect_eq "--pid targets the process's cgroup" "$(sysfence policy list --json)" "[{\"cgroup_id\":$(stat -c %i "/sys/fs/cgroup/docker/$(hex a2)"),\"rules\":2,\"enforcing\":true,\"waiting_for_exec\":false}]"
sysfence policy delete --pid "$p" 2>/dev/null || fail "delete by --pid failed"
kill "$p"
wait "$p" 2>/dev/null

# Ambiguity: a1... and a2... share the prefix "a"; absence.
out=$(sysfence policy apply --container a /tmp/p.yaml 2>&1) && fail "an ambiguous prefix was accepted"
echo "$out" | grep -q 'containers match' || fail "ambiguity unclear: $out"
echo "$out" | grep -q "$(hex a1)" || fail "ambiguity does not list the candidates: $out"
out=$(sysfence policy apply --container 99999 /tmp/p.yaml 2>&1) && fail "a missing container was accepted"
echo "$out" | grep -q "no container with id prefix or name '99999'" || fail "absence unclear: $out"
out=$(sysfence policy apply --container "$(hex a1 | cut -c1-12)" --cgroup x /tmp/p.yaml 2>&1) && fail "two targets were accepted"
expect_eq "policies left" "$(sysfence policy list --json)" "[]"

for l in $layouts $extra; do
  d=/sys/fs/cgroup/$l
  while [ "$d" != /sys/fs/cgroup ]; do rmdir "$d" 2>/dev/null; d=$(dirname "$d"); done
done
