#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the guest initramfs for a kernel flavor: busybox, qemu/init, the
# module, the static manager and the static test programs.
#
#   scripts/build-initramfs.sh [--arch x86_64|arm64] [--no-module] [test|bench]
#                              prints the path of the .cpio.gz
#   scripts/build-initramfs.sh --arch A --userspace-only
#                              only the static programs (no kernel needed:
#                              scripts/test.sh builds both architectures'
#                              early with it)
#
# --arch arm64: Debian's arm64 busybox (and its armhf one as
# /bin/busybox-armhf, an AArch32 program for the compat ABI), the manager
# (without the Kubernetes agent) and test programs cross-built for
# aarch64-unknown-linux-musl, and the
# AArch32 /bin/sf-call32 (tests/progs/aarch32/sf-call32.c) (set-up:
# scripts/setup.sh --arch arm64). --no-module leaves sysfence.ko out, for a
# kernel the module does not build for. The kernel tree the image goes with
# is written next to it (initramfs-NAME.kdir), for qemu/run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=x86_64 module=1 only_userspace=0 features=()
while [ $# -gt 0 ]; do
  case $1 in
    --arch) arch=${2:?--arch needs x86_64 or arm64}; shift 2 ;;
    --no-module) module=0; shift ;;
    --userspace-only) only_userspace=1; shift ;;
    *) break ;;
  esac
done
flavor=${1:-test}
# x86_64 keeps its old names (initramfs-test, initramfs-bench).
name=$flavor
case $arch in
  x86_64)
    target=x86_64-unknown-linux-musl
    busybox=/bin/busybox
    ;;
  arm64)
    name=arm64-$flavor
    target=aarch64-unknown-linux-musl
    # The manager without the Kubernetes agent: no arm64 guest test runs
    # it (its tests are architecture-independent userland, run on
    # x86_64), and kube, k8s-openapi, rustls and tokio are most of a
    # cross build's time.
    features=(--no-default-features)
    # Cargo build and target directories of its own: built beside the
    # x86_64 programs (scripts/test.sh), it would otherwise hold the locks
    # of the host's release directories (build scripts, proc-macros) that
    # their no-op rebuild for each initramfs waits on.
    export CARGO_BUILD_BUILD_DIR CARGO_TARGET_DIR=$SF_ROOT/target/arm64
    CARGO_BUILD_BUILD_DIR=$(sf_cargo_build_dir stable-arm64)
    busybox=$SF_ARM64_USERLAND/arm64/bin/busybox
    [ -x "$busybox" ] || sf_die "no arm64 busybox at $busybox: run scripts/setup.sh --arch arm64"
    sf_arm64_cross_env
    ;;
  *) sf_die "unknown architecture '$arch' (want x86_64 or arm64)" ;;
esac
[ "$module" = 1 ] || name=$name-nomodule

if [ "$only_userspace" = 1 ]; then
  :
elif [ "$module" = 1 ]; then
  ko=$("$SF_ROOT/scripts/build-module.sh" --arch "$arch" "$flavor")
  kdir=$(cat "$(dirname "$ko")/../.kdir")
else
  kdir=$("$SF_ROOT/scripts/build-kernel.sh" --arch "$arch" "$flavor")
fi

sf_log "userspace: building static manager and test programs ($target)"
# No debug info: the initramfs gets stripped copies anyway, and generating
# it is a good part of the build's time.
mkdir -p "$SF_BUILD"
if ! CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --quiet --release --manifest-path "$SF_ROOT/Cargo.toml" --target "$target" \
  -p sysfence -p sysfence-testprogs ${features[@]+"${features[@]}"} >"$SF_BUILD/cargo-$target.log" 2>&1; then
  cat "$SF_BUILD/cargo-$target.log" >&2
  sf_die "static userspace build failed"
fi
bins=${CARGO_TARGET_DIR:-$SF_ROOT/target}/$target/release
[ "$only_userspace" = 0 ] || exit 0

root=$SF_BUILD/initramfs-$name
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,lib/sysfence,usr/bin,usr/sbin}
cp "$busybox" "$root/bin/busybox"
[ "$arch" != arm64 ] || cp "$SF_ARM64_USERLAND/armhf/bin/busybox" "$root/bin/busybox-armhf"
install -m 0755 "$SF_ROOT/qemu/init" "$root/init"
[ "$module" = 0 ] || cp "$ko" "$root/lib/sysfence/sysfence.ko"
# Stripped: the image carries no symbols.
# llvm-strip knows every architecture (Debian's strip only the host's).
install -s --strip-program=llvm-strip -m 0755 "$bins/sysfence" "$root/bin/sysfence"
for b in "$bins"/sf-*; do
  case $b in *.d) continue ;; esac
  install -s --strip-program=llvm-strip -m 0755 "$b" "$root/bin/"
done
if [ "$arch" = arm64 ]; then
  # sf-call32, which makes sf-battery's AArch32 calls (tests/progs/aarch32/):
  # freestanding C, so clang and lld alone build it.
  clang --target=armv7a-linux-gnueabihf -marm -O2 -fomit-frame-pointer -ffreestanding -nostdlib -static \
    -fuse-ld=lld -Wall -Wextra -Werror -o "$SF_BUILD/sf-call32" "$SF_ROOT/tests/progs/aarch32/sf-call32.c" ||
    sf_die "building the AArch32 sf-call32 failed"
  install -s --strip-program=llvm-strip -m 0755 "$SF_BUILD/sf-call32" "$root/bin/sf-call32"
fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$root/etc/group"
echo 'PS1="sysfence-guest:\w# "' >"$root/etc/profile"

out=$SF_BUILD/initramfs-$name.cpio.gz
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet --owner=0:0) | gzip -1 >"$out"
echo "$kdir" >"$SF_BUILD/initramfs-$name.kdir"
sf_log "initramfs ($name): $out ($(du -h "$out" | cut -f1))"
echo "$out"
