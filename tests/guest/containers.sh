# SPDX-License-Identifier: GPL-2.0
# Container plumbing for guest tests (sourced after lib.sh and host_env_up):
# Debian's runc, crun and containerd run through the host root
# (`chroot /host`), with bundles and state on the tmpfs over /host/run.
#
#   make_bundle DIR ARGS...   a busybox bundle at /host/DIR whose process
#                             runs ARGS (busybox, sf-syscall in its rootfs)
#   containerd_up             containerd on /run/containerd, and the image
#                             sysfence.test/busybox:1 imported into the
#                             namespace sftest from an OCI archive built
#                             from a bundle's rootfs (oci-image.py)
#   containerd_down
# $CTR is the ctr command line for that namespace (run it with chroot $HR).

HR=/host
SYSFENCE=${SF_ROOT#/host}/target/x86_64-unknown-linux-musl/release/sysfence
SFSYSCALL=${SF_ROOT#/host}/target/x86_64-unknown-linux-musl/release/sf-syscall
CTR="ctr --address /run/containerd/containerd.sock -n sftest"
# Docker's default profile (host view) and Docker's default capability
# set: the profile as Docker applies it.
DOCKER_PROFILE=${SF_ROOT#/host}/tests/fixtures/docker-default.json
DOCKER_CAPS=CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE

# host_sysfence: from here on, `sysfence` runs as on a real host, in the
# host root, where the engines' stores are (container names resolve).
host_sysfence() { sysfence() { chroot $HR $SYSFENCE "$@"; }; }

# record_start ERR ARGS...: `sysfence record ARGS...` in the background
# (pid in $rec_pid), returning once the recording is in force; record_stop
# ERR ends it with SIGINT, as Ctrl-C does, and waits for the profile. A
# recording that covers a workload must end when the workload has, not at
# a fixed --duration: a loaded guest can take longer than planned.
record_start() {
  _re=$1
  shift
  chroot $HR $SYSFENCE record --duration 600 "$@" 2>"$_re" &
  rec_pid=$!
  _i=0
  until grep -q "recording cgroup" "$_re"; do
    _i=$((_i + 1))
    [ $_i -lt 300 ] && kill -0 $rec_pid 2>/dev/null || fail "record did not start: $(cat "$_re")"
    sleep 0.1
  done
}
record_stop() {
  kill -INT $rec_pid
  wait $rec_pid || fail "recording failed: $(cat "$1")"
}

# events_start FILE: `sysfence events --json` into FILE (its errors in
# FILE.err, its pid in $ev_pid), returning once the reader is listening
# (wait_subscribed, lib.sh: the manager itself in the background, not the
# host_sysfence function's subshell, so that $ev_pid holds the socket).
# events_stop ends it.
events_start() {
  chroot $HR $SYSFENCE events --json --duration 600 >"$1" 2>"$1.err" &
  ev_pid=$!
  wait_subscribed $ev_pid
}
events_stop() {
  kill $ev_pid 2>/dev/null
  wait $ev_pid 2>/dev/null
}

# events_wait FILE PATTERN WHAT: waits up to 10 s for a line of FILE
# matching PATTERN (grep), else fails naming WHAT, with a tally of what
# came, by program and call, and the reader's errors.
events_wait() {
  _i=0
  until grep -q "$2" "$1"; do
    _i=$((_i + 1))
    [ $_i -lt 20 ] || fail "no event names $3: got $(sed -n 's/.*"comm":"\([^"]*\)".*"syscall":"\([^"]*\)".*/\1 \2/p' "$1" | sort | uniq -c | tr '\n' ';') $(cat "$1.err")"
    sleep 0.5
  done
}

make_bundle() {
  _b=$1
  shift
  mkdir -p "$HR$_b/rootfs/bin" "$HR$_b/rootfs/proc" "$HR$_b/rootfs/dev" "$HR$_b/rootfs/sys" "$HR$_b/rootfs/tmp"
  cp /bin/busybox "$HR$_b/rootfs/bin/busybox"
  for _a in sh sleep cat echo; do ln -sf busybox "$HR$_b/rootfs/bin/$_a"; done
  cp "$HR$SFSYSCALL" "$HR$_b/rootfs/bin/sf-syscall"
  chroot $HR sh -c "cd $_b && rm -f config.json && runc spec" || fail "runc spec failed"
  chroot $HR python3 - "$_b/config.json" "$@" <<'PY' || fail "editing config.json failed"
import json, sys
path, args = sys.argv[1], sys.argv[2:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["root"]["readonly"] = False
json.dump(c, open(path, "w"), indent=1)
PY
}

containerd_up() {
  _img=/run/sysfence-test/image
  make_bundle $_img true
  chroot $HR python3 "${SF_ROOT#/host}/tests/guest/oci-image.py" $_img/rootfs $_img/image.tar sysfence.test/busybox:1 ||
    fail "building the image archive failed"
  mkdir -p $HR/run/containerd
  chroot $HR containerd --root /run/containerd-root --state /run/containerd \
    --address /run/containerd/containerd.sock >/tmp/containerd.log 2>&1 &
  CTRD_PID=$!
  _i=0
  until chroot $HR $CTR version >/dev/null 2>&1; do
    _i=$((_i + 1))
    [ $_i -lt 60 ] || fail "containerd did not start: $(tail -n 20 /tmp/containerd.log)"
    sleep 1
  done
  chroot $HR $CTR images import --snapshotter native $_img/image.tar >/tmp/ctr.import 2>&1 ||
    fail "ctr images import failed: $(cat /tmp/ctr.import)"
}

containerd_down() {
  kill "$CTRD_PID" 2>/dev/null
  wait "$CTRD_PID" 2>/dev/null
  return 0
}
