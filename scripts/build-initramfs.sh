#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the guest initramfs for a kernel flavor: busybox, qemu/init, the
# module, the static manager and the static test programs.
#
#   scripts/build-initramfs.sh [test|bench]   prints the path of the .cpio.gz
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-test}
ko=$("$SF_ROOT/scripts/build-module.sh" "$flavor")

target=x86_64-unknown-linux-musl
sf_log "userspace: building static manager and test programs ($target)"
# No debug info: the initramfs gets stripped copies anyway, and generating
# it is a good part of the build's time.
if ! CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --quiet --release --manifest-path "$SF_ROOT/Cargo.toml" --target "$target" \
  -p sysfence -p sysfence-testprogs >"$SF_BUILD/cargo-musl.log" 2>&1; then
  cat "$SF_BUILD/cargo-musl.log" >&2
  sf_die "static userspace build failed"
fi
bins=$SF_ROOT/target/$target/release

root=$SF_BUILD/initramfs-$flavor
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,lib/sysfence,usr/bin,usr/sbin}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$SF_ROOT/qemu/init" "$root/init"
cp "$ko" "$root/lib/sysfence/sysfence.ko"
# Stripped: the manager with the node agent is about 100 MB of debug info.
install -s -m 0755 "$bins/sysfence" "$root/bin/sysfence"
for b in "$bins"/sf-*; do
  case $b in *.d) continue ;; esac
  install -s -m 0755 "$b" "$root/bin/"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$root/etc/group"
echo 'PS1="sysfence-guest:\w# "' >"$root/etc/profile"

out=$SF_BUILD/initramfs-$flavor.cpio.gz
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet --owner=0:0) | gzip -1 >"$out"
sf_log "initramfs ($flavor): $out ($(du -h "$out" | cut -f1))"
echo "$out"
