#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Cross-builds the arm64 guest kernel (ARCH=arm64 LLVM=1: clang, lld and
# rustc need no cross toolchain) from Debian's linux-source-6.12, with
# base.config, the flavor's fragment and qemu/kconfig/arm64.config, cached
# outside the repository like the x86_64 kernels.
#
#   scripts/build-kernel.sh --arch arm64 [test|bench]   (default: test)
#
# Prints the path of the kernel build tree (the KDIR for the module; the
# image is arch/arm64/boot/Image) on stdout. The cache key covers the
# architecture, the kernel source version, the fragments, this script,
# rustc, bindgen and clang.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-test}
case $flavor in test | bench) ;; *) sf_die "unknown kernel flavor '$flavor' (want test or bench)" ;; esac
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || sf_die "$tarball is missing: run scripts/setup.sh"
pkgver=$(sf_kernel_pkg_version)
[ -n "$pkgver" ] || sf_die "linux-source-6.12 is not installed: run scripts/setup.sh"
command -v bindgen >/dev/null || sf_die "bindgen is missing: run scripts/setup.sh"

kc=$SF_ROOT/qemu/kconfig
frags=("$kc/base.config" "$kc/$flavor.config" "$kc/arm64.config")
cache_key() {
  {
    echo "arm64 $pkgver"
    cat "${frags[@]}" "$0"
    rustc -V
    bindgen --version
    clang --version | head -n 1
  } | sha256sum | cut -c1-16
}
key=$(cache_key)
out=$SF_CACHE/kernel/arm64-$flavor-$key
mk=(make -C "$SF_CACHE/src/linux-$pkgver" O="$out" ARCH=arm64 LLVM=1 -j"$(nproc)")

# The source tree is the one the x86_64 builds extract (one per version).
# It is extracted under a lock here; the x86_64 builder takes none, so do
# not start the first builds of both architectures at the same moment.
extract_source() {
  local src=$SF_CACHE/src/linux-$pkgver
  mkdir -p "$SF_CACHE/src"
  exec 8>"$SF_CACHE/src/.extract.lock"
  flock 8
  if [ ! -f "$src/.sysfence-extracted" ]; then
    sf_log "extracting $tarball ($pkgver) to $src"
    rm -rf "$src"
    mkdir -p "$src"
    tar -xf "$tarball" -C "$src" --strip-components=1
    touch "$src/.sysfence-extracted"
  fi
  exec 8>&-
}

configure() {
  "${mk[@]}" -s tinyconfig >/dev/null
  "${mk[@]}" -s kvm_guest.config >/dev/null
  (cd "$out" && "$SF_CACHE/src/linux-$pkgver/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null)
  "${mk[@]}" -s olddefconfig >/dev/null
  local n
  n=$(sf_kconfig_check "$out/.config" "${frags[@]}") ||
    sf_die "kernel (arm64 $flavor): requested options missing from $out/.config"
  sf_log "kernel (arm64 $flavor): all $n requested options are set"
}

# One build of a kernel at a time (the same lock as a second caller's).
mkdir -p "$SF_CACHE/kernel"
exec 9>"$SF_CACHE/kernel/.arm64-$flavor-$key.lock"
if ! flock -n 9; then
  sf_log "kernel (arm64 $flavor): another build of it is running; waiting for it"
  flock 9
fi
if [ -f "$out/.sysfence-complete" ]; then
  sf_log "kernel (arm64 $flavor): cached at $out"
  echo "$out"
  exit 0
fi
extract_source
sf_log "kernel (arm64 $flavor): building in $out (about 20 minutes on 2 cores; progress every 30 s)"
rm -rf "$out"
mkdir -p "$out"
configure
sf_run_with_progress "kernel (arm64 $flavor) build" "$out/build.log" "${mk[@]}"
[ -f "$out/arch/arm64/boot/Image" ] || sf_die "kernel (arm64 $flavor): arch/arm64/boot/Image missing after build"
# Out-of-tree Rust modules need the kernel crate's metadata from the tree.
[ -f "$out/rust/libkernel.rmeta" ] || sf_die "kernel (arm64 $flavor): rust/libkernel.rmeta missing after build"
touch "$out/.sysfence-complete"
echo "$out"
