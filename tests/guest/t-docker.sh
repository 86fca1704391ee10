# SPDX-License-Identifier: GPL-2.0
# budget: 480
# kernel: bench
# covers: manager/src/host/target.rs manager/src/cli/events.rs manager/src/cli/record.rs manager/src/policy/runtime_base.rs kmod/sysfence_release.c kmod/release.rs
# Docker (Debian's dockerd 20.10, through the host root) as users run it:
# - a running `docker run -d` container, named by its name and by an id
#   prefix, gets a policy live: its loop and `docker exec` are refused,
#   events name the container, stats count, a relaxed policy applies live;
# - Docker's own seccomp profile stays in force and answers first (a call
#   both refuse gets Docker's EPERM, not sysfence's errno);
# - `docker rm -f` of three filtered containers leaves no policy behind;
# - a profile recorded from a running container runs the same workload
#   under `docker run --security-opt seccomp=`: with the runtime base that
#   `record` adds, and not without it (runc's init dies).
# On the bench kernel: each docker client call takes tens of seconds on
# the debug kernel (docs/testing.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/containers.sh"
. "$(dirname "$0")/docker.sh"
host_env_up
host_sysfence
trap 'docker_down; engine_mounts_down; host_env_down' EXIT
docker_up
mark "dockerd up, image imported"
d() { chroot $HR $DOCKER "$@"; }

# A container whose loop reports what getppid gets (docker.sh).
mkdir -p "$HR$SF_VOL"
id=$(d run -d --name sf-web --network none -v "$SF_VOL:/vol" sftest/busybox:1 sh -c "$SF_LOOP") || fail "docker run failed"
wait_last "ok 1" "before any policy"

cat >/tmp/dk.yaml <<'P'
default: allow
rules:
  - {syscalls: [getppid], action: errno, errno: 13}
  - {syscalls: [acct], action: errno, errno: 13}
P
sysfence policy apply --container sf-web /tmp/dk.yaml || fail "apply by container name failed"
wait_last "err 13" "after the policy"
case $(d exec sf-web sf-syscall 110) in "err 13"*) ;; *) fail "docker exec is not filtered: $(d exec sf-web sf-syscall 110)" ;; esac
sysfence events --container sf-web --json --count 1 --duration 20 >/tmp/dk.ev || fail "events failed"
grep -q '"container_name":"sf-web"' /tmp/dk.ev || fail "the event does not name the container: $(cat /tmp/dk.ev)"
grep -q "\"container\":\"$id\"" /tmp/dk.ev || fail "the event does not carry the container id: $(cat /tmp/dk.ev)"
denied=$(sysfence stats --container "$(echo "$id" | cut -c1-12)" --json | sed -nE 's/.*"denied":([0-9]+).*/\1/p')
[ "${denied:-0}" -gt 0 ] || fail "stats by id prefix count no denial: $(sysfence stats --container "$(echo "$id" | cut -c1-12)" --json)"
mark "live policy by name: loop and exec refused, event names sf-web, stats by id prefix"

# Docker's seccomp answers first: acct is refused by both (Docker's
# default profile without CAP_SYS_PACCT: EPERM), and the task sees EPERM.
case $(d exec sf-web sf-syscall 163 0) in "err 1"*) ;; *) fail "acct under Docker's seccomp: $(d exec sf-web sf-syscall 163 0), want Docker's EPERM" ;; esac
# Unconfined, sysfence's own errno shows.
d run -d --name sf-unconf --network none --security-opt seccomp=unconfined sftest/busybox:1 sleep 600 >/dev/null || fail "docker run unconfined failed"
sysfence policy apply --container sf-unconf /tmp/dk.yaml || fail "apply to sf-unconf failed"
case $(d exec sf-unconf sf-syscall 163 0) in "err 13"*) ;; *) fail "acct without Docker's seccomp: $(d exec sf-unconf sf-syscall 163 0), want sysfence's errno 13" ;; esac
mark "Docker's seccomp first (EPERM), sysfence's errno without it"

# Relaxed live.
printf 'default: allow\n' | sysfence policy apply --container sf-web - || fail "relaxing failed"
wait_last "ok 1" "after relaxing"

# Three filtered containers removed: no policy left.
p0=$(sysfence status --json | sed -nE 's/.*"policies":([0-9]+).*/\1/p')
d run -d --name sf-extra --network none sftest/busybox:1 sleep 600 >/dev/null || fail "docker run sf-extra failed"
sysfence policy apply --container sf-extra /tmp/dk.yaml || fail "apply to sf-extra failed"
[ "$(sysfence status --json | sed -nE 's/.*"policies":([0-9]+).*/\1/p')" = "$((p0 + 1))" ] || fail "sf-extra has no policy"
d rm -f sf-web sf-unconf sf-extra >/dev/null || fail "docker rm -f failed"
i=0
until [ "$(sysfence status --json | sed -nE 's/.*"policies":([0-9]+).*/\1/p')" = "$((p0 - 2))" ]; do
  i=$((i + 1))
  [ "$i" -lt 100 ] || fail "policies left after docker rm -f: $(sysfence policy list)"
  sleep 0.1
done
mark "docker rm -f of three filtered containers: their policies are gone"

# Record a running container, then run the same workload under the
# recorded profile as Docker's seccomp profile.
work='i=0; while [ $i -lt 5 ]; do ls / >/dev/null; mkdir -p /tmp/d && rmdir /tmp/d; sf-syscall 39 >/dev/null; i=$((i+1)); done; echo WORKED'
d run -d --name sf-rec --network none sftest/busybox:1 sh -c "while :; do $work; sleep 0.2; done" >/dev/null || fail "docker run sf-rec failed"
sysfence record --container sf-rec --duration 3 -o "/run/rec.json" 2>/tmp/rec.err || fail "record failed: $(cat /tmp/rec.err)"
sysfence record --container sf-rec --duration 3 --runtime-base none -o "/run/rec-bare.json" 2>/tmp/rec.err || fail "record --runtime-base none failed: $(cat /tmp/rec.err)"
grep -q '"comment": "runtime base' "$HR/run/rec.json" || fail "the recorded profile does not mark the runtime's calls: $(cat "$HR/run/rec.json")"
out=$(d run --rm --network none --security-opt seccomp=/run/rec.json sftest/busybox:1 sh -c "$work" 2>&1)
case $out in *WORKED*) ;; *) fail "the workload under its recorded profile failed: $out" ;; esac
if out=$(d run --rm --network none --security-opt seccomp=/run/rec-bare.json sftest/busybox:1 sh -c "$work" 2>&1); then
  case $out in *WORKED*) fail "without the runtime base the container started anyway: the base is not needed?" ;; esac
fi
echo "without the runtime base: $(echo "$out" | tail -n 1 | cut -c1-160)"
mark "record -> docker run --security-opt seccomp=: runs with the runtime base, fails without"
