# SPDX-License-Identifier: GPL-2.0
# Docker and Podman for guest tests (sourced after lib.sh and
# containers.sh): Debian's dockerd and podman run through the host root,
# with tmpfs over the directories they write (the host root is read-only
# here), the vfs storage driver and no networking set-up of their own.
#
#   docker_up           dockerd on /run/docker.sock, image sftest/busybox:1
#   docker_down
#   engine_mounts_down  undoes the mounts both make (tests share a guest)
#   podman_up           podman's stores on tmpfs, the same image
#   busybox_rootfs DIR  the image's files at /host/DIR (busybox, sf-syscall)
# $DOCKER and $PODMAN are the command lines (run them with chroot $HR).

# Debian's client by its path: a docker in /usr/local/bin (a newer CLI some
# hosts carry) comes first in PATH and is not the one Debian's dockerd ships.
DOCKER="/usr/bin/docker --host unix:///run/docker.sock"
PODMAN="podman --storage-driver vfs --cgroup-manager cgroupfs --events-backend none"

busybox_rootfs() {
  make_bundle "$1" true
  for _a in mkdir rmdir ls id; do ln -sf busybox "$HR$1/rootfs/bin/$_a"; done
}

# _tmpfs DIR: a tmpfs over /host/DIR (once).
_tmpfs() { _hmounted "$HR$1" || mount -t tmpfs tmpfs "$HR$1" || fail "mount tmpfs on $HR$1"; }
# _writable DIR: /host/DIR writable, its files kept (an overlay with its
# upper layer on a tmpfs), so that directories the host lacks (it never
# ran dockerd: no /var/lib/docker) can be made there. engine_mounts_down
# undoes these and _tmpfs's (later tests share the guest).
_writable() {
  _hmounted "$HR$1" && return 0
  _o=/tmp/ovl$(echo "$1" | tr / _)
  mkdir -p "$_o"
  _hmounted "$_o" || mount -t tmpfs tmpfs "$_o" || fail "mount tmpfs on $_o"
  mkdir -p "$_o/u" "$_o/w"
  mount -t overlay overlay -o "lowerdir=$HR$1,upperdir=$_o/u,workdir=$_o/w" "$HR$1" || fail "overlay on $HR$1"
}

engine_mounts_down() {
  for _d in /var/lib /etc/containers /etc/docker /var/tmp /var/cache; do
    _hmounted "$HR$_d" && { umount "$HR$_d" || umount -l "$HR$_d"; }
  done
  for _o in /tmp/ovl_*; do
    [ -d "$_o" ] && _hmounted "$_o" && umount "$_o"
  done
  return 0
}

docker_up() {
  _tmpfs /etc/docker
  _writable /var/lib
  chroot $HR dockerd --host unix:///run/docker.sock --storage-driver vfs --iptables=false \
    --ip6tables=false --bridge=none --exec-root /run/docker --pidfile /run/docker.pid \
    >/tmp/dockerd.log 2>&1 &
  DOCKERD_PID=$!
  _i=0
  until chroot $HR $DOCKER version >/dev/null 2>&1; do
    _i=$((_i + 1))
    [ $_i -lt 60 ] || fail "dockerd did not start: $(tail -n 20 /tmp/dockerd.log)"
    sleep 1
  done
  busybox_rootfs /run/sftest-image
  tar -C "$HR/run/sftest-image/rootfs" -cf "$HR/run/sftest-image.tar" . || fail "tar of the image failed"
  chroot $HR $DOCKER import /run/sftest-image.tar sftest/busybox:1 >/tmp/docker.import 2>&1 ||
    fail "docker import failed: $(cat /tmp/docker.import)"
}

docker_down() {
  chroot $HR sh -c "$DOCKER ps -aq | xargs -r $DOCKER rm -f" >/dev/null 2>&1
  kill "$DOCKERD_PID" 2>/dev/null
  wait "$DOCKERD_PID" 2>/dev/null
  return 0
}

podman_up() {
  _writable /var/lib
  _writable /etc/containers
  for _d in /var/tmp /var/cache; do _tmpfs $_d; done
  [ -f "$HR/run/sftest-image.tar" ] || {
    busybox_rootfs /run/sftest-image
    tar -C "$HR/run/sftest-image/rootfs" -cf "$HR/run/sftest-image.tar" . || fail "tar of the image failed"
  }
  chroot $HR $PODMAN import /run/sftest-image.tar sftest/busybox:1 >/tmp/podman.import 2>&1 ||
    fail "podman import failed: $(cat /tmp/podman.import)"
}

# The probe loop: a container running $SF_LOOP (with -v $SF_VOL:/vol)
# writes what getppid gets to /vol/r every 0.2 s, read from outside by
# last (`docker exec` here would not see the container's files,
# docs/testing.md); wait_last WANT WHAT waits up to 10 s for WANT.
SF_VOL=/run/sf-vol
SF_LOOP='while :; do sf-syscall 110 >/vol/r.new; cat /vol/r.new >/vol/r; sleep 0.2; done'
last() { cut -d" " -f1,2 "$HR$SF_VOL/r" 2>/dev/null; }
wait_last() {
  _i=0
  until [ "$(last)" = "$1" ]; do
    _i=$((_i + 1))
    [ "$_i" -lt 50 ] || fail "$2: the container's loop sees '$(last)', want '$1'"
    sleep 0.2
  done
}
