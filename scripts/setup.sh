#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs what a fresh Debian 12 machine lacks to build and test sysfence:
# Debian packages (kernel source, LLVM 19, QEMU, busybox, ...), the Rust
# standard library sources and musl targets, and a pinned bindgen-cli.
# Idempotent: a second run checks and changes nothing. Needs root for apt.
#
#   scripts/setup.sh [--arch x86_64|arm64]     (default: x86_64)
#
# --arch arm64 adds what the arm64 guest needs on this x86_64 host:
# qemu-system-aarch64, the aarch64 musl target, and Debian's arm64 and
# armhf busybox-static and arm64 musl-dev packages, downloaded and unpacked
# under ~/.cache/sysfence/ (not installed: they are foreign architectures).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=x86_64
if [ "${1:-}" = --arch ]; then
  arch=${2:?--arch needs x86_64 or arm64}
  shift 2
fi
case $arch in x86_64 | arm64) ;; *) sf_die "unknown architecture '$arch' (want x86_64 or arm64)" ;; esac

BINDGEN_VERSION=0.73.2
PACKAGES=(
  linux-source-6.12                              # the kernel we build and test on
  clang-19 lld-19 llvm-19 libclang-19-dev        # LLVM=1 builds (Rust needs them)
  bc bison flex libelf-dev libssl-dev cpio xz-utils make kmod  # kernel build deps
  busybox-static                                 # the guest's userland
  qemu-system-x86                                # the guest
  musl-tools                                     # static guest test programs
  libseccomp-dev python3-seccomp                 # real seccomp (libseccomp), to compare against
  strace crun python3                            # host tools tests use over 9p
  runc containerd                                # container runtimes the OCI hook is tested with
  docker.io podman                               # container engines (t-docker, t-podman)
  nginx-light redis-server redis-tools wrk curl  # real services and their clients (t-services)
  postgresql-15                                  # PostgreSQL and pgbench (t-postgres)
  ca-certificates                                # trust roots kube-rs loads (t-agent's stand-in API server)
)
# qemu-system-aarch64; clang and lld above cross-compile (no cross gcc).
[ "$arch" = arm64 ] && PACKAGES+=(qemu-system-arm)

failed=()

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sf_log "apt: installing ${#missing[@]} package(s): ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  if ! { $sudo apt-get update -q >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
    failed+=("apt-get install ${missing[*]}")
  fi
else
  sf_log "apt: all ${#PACKAGES[@]} packages present"
fi

command -v rustup >/dev/null || sf_die "rustup is missing: install Rust with rustup first (https://rustup.rs)"
if rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  sf_log "rustup: rust-src present"
else
  sf_log "rustup: adding rust-src (the kernel compiles core from it)"
  rustup component add rust-src >/dev/null || failed+=("rustup component add rust-src")
fi
targets=(x86_64-unknown-linux-musl)
[ "$arch" = arm64 ] && targets+=(aarch64-unknown-linux-musl)
for t in "${targets[@]}"; do
  if rustup target list --installed | grep -qx "$t"; then
    sf_log "rustup: target $t present"
  else
    sf_log "rustup: adding target $t (static guest binaries)"
    rustup target add "$t" >/dev/null || failed+=("rustup target add $t")
  fi
done

if [ "$(bindgen --version 2>/dev/null)" = "bindgen $BINDGEN_VERSION" ]; then
  sf_log "bindgen: $BINDGEN_VERSION present"
else
  sf_log "bindgen: installing bindgen-cli $BINDGEN_VERSION with cargo (about a minute)"
  env -u CARGO_BUILD_BUILD_DIR cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" || failed+=("cargo install bindgen-cli $BINDGEN_VERSION")
fi

# Coverage-guided fuzzing (fuzz/): a nightly toolchain and cargo-fuzz.
CARGO_FUZZ_VERSION=0.12.0
if rustup toolchain list | grep -q '^nightly'; then
  sf_log "rustup: nightly present (cargo fuzz)"
else
  sf_log "rustup: adding a minimal nightly toolchain (cargo fuzz)"
  rustup toolchain install nightly --profile minimal >/dev/null || failed+=("rustup toolchain install nightly")
fi
if [ "$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  sf_log "cargo-fuzz: $CARGO_FUZZ_VERSION present"
else
  sf_log "cargo-fuzz: installing $CARGO_FUZZ_VERSION with cargo (about a minute)"
  env -u CARGO_BUILD_BUILD_DIR cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" || failed+=("cargo install cargo-fuzz $CARGO_FUZZ_VERSION")
fi

# Cargo's build directories in the cache (scripts/lib.sh) grow by each
# Cargo.lock or toolchain they have seen: one over 12 GiB starts again
# empty (its next build compiles everything, as a clean machine does).
CARGO_CACHE_MAX_KIB=$((12 * 1024 * 1024))
for d in "$SF_CACHE"/cargo/*/; do
  [ -d "$d" ] || continue
  kib=$(du -sk "$d" 2>/dev/null | cut -f1)
  if [ "${kib:-0}" -gt "$CARGO_CACHE_MAX_KIB" ]; then
    sf_log "cargo cache: $d holds $((kib / 1024)) MiB, over 12 GiB: emptied"
    rm -rf "$d"
  fi
done

# Debian's arm64 (and armhf) userland for the arm64 guest: busybox-static
# for the guest's shell and tools (the armhf one runs as an AArch32 task),
# musl-dev for the C code of crates cross-built for aarch64-unknown-linux-musl
# (ring). apt downloads them as it would for those architectures, without
# adding them to dpkg: nothing foreign is installed on this host.
ARM64_DEBS=(busybox-static:arm64 busybox-static:armhf musl-dev:arm64)
arm64_userland() {
  local dir=$SF_ARM64_USERLAND deb
  [ -f "$dir/.sysfence-complete" ] && { sf_log "arm64 userland: present in $dir"; return 0; }
  sf_log "arm64 userland: downloading ${ARM64_DEBS[*]} into $dir"
  local apt=(apt-get -q -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o APT::Architectures::=armhf)
  rm -rf "$dir"
  mkdir -p "$dir/debs"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo "${apt[@]}" update >/dev/null || return 1
  (cd "$dir/debs" && "${apt[@]}" download "${ARM64_DEBS[@]}" >/dev/null 2>&1) || return 1
  for deb in "$dir"/debs/*_arm64.deb; do dpkg-deb -x "$deb" "$dir/arm64"; done
  for deb in "$dir"/debs/*_armhf.deb; do dpkg-deb -x "$deb" "$dir/armhf"; done
  [ -x "$dir/arm64/bin/busybox" ] && [ -x "$dir/armhf/bin/busybox" ] &&
    [ -f "$dir/arm64/usr/include/aarch64-linux-musl/stdio.h" ] || return 1
  touch "$dir/.sysfence-complete"
}
if [ "$arch" = arm64 ]; then
  arm64_userland || failed+=("arm64 userland (apt-get download ${ARM64_DEBS[*]})")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf '  failed: %s\n' "${failed[@]}" >&2
  sf_die "set-up incomplete (${#failed[@]} step(s) failed, listed above)"
fi
src=/usr/src/linux-source-6.12.tar.xz
[ -f "$src" ] || sf_die "$src missing after installing linux-source-6.12"
sf_log "set-up complete: rustc $(rustc -V | cut -d' ' -f2), $(bindgen --version), clang $(clang --version | head -n1 | grep -o '[0-9][0-9.]*' | head -n1)"
