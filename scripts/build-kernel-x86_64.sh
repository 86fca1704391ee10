#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the guest kernel from Debian's linux-source-6.12 with our config
# fragments, cached outside the repository.
#
#   scripts/build-kernel.sh [test|bench]     (default: test)
#
# Prints the path of the kernel build tree (the KDIR for the module) on
# stdout. The cache key covers the kernel source version, the fragments, this
# script, rustc, bindgen and clang, so any change of those rebuilds and
# nothing else does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavor=${1:-test}
case $flavor in test | bench) ;; *) sf_die "unknown kernel flavor '$flavor' (want test or bench)" ;; esac

tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || sf_die "$tarball is missing: run scripts/setup.sh"
pkgver=$(sf_kernel_pkg_version)
[ -n "$pkgver" ] || sf_die "linux-source-6.12 is not installed: run scripts/setup.sh"
command -v bindgen >/dev/null || sf_die "bindgen is missing: run scripts/setup.sh"

frags=("$SF_ROOT/qemu/kconfig/base.config" "$SF_ROOT/qemu/kconfig/$flavor.config")
key=$( {
  echo "$pkgver"
  cat "${frags[@]}" "$0"
  rustc -V
  bindgen --version
  clang --version | head -n 1
} | sha256sum | cut -c1-16)
out=$SF_CACHE/kernel/$flavor-$key
# One build of a kernel at a time: scripts/test.sh starts both flavors in
# the background early, and the guest suite's own call waits here for them.
mkdir -p "$SF_CACHE/kernel"
exec 9>"$SF_CACHE/kernel/.$flavor-$key.lock"
if ! flock -n 9; then
  sf_log "kernel ($flavor): another build of it is running; waiting for it"
  flock 9
fi
if [ -f "$out/.sysfence-complete" ]; then
  sf_log "kernel ($flavor): cached at $out"
  echo "$out"
  exit 0
fi

# One extracted source tree per source version, shared by both flavors.
src=$SF_CACHE/src/linux-$pkgver
if [ ! -f "$src/.sysfence-extracted" ]; then
  sf_log "extracting $tarball ($pkgver) to $src"
  rm -rf "$src"
  mkdir -p "$src"
  tar -xf "$tarball" -C "$src" --strip-components=1
  touch "$src/.sysfence-extracted"
fi

sf_log "kernel ($flavor): building in $out (about 10 minutes on 2 cores; progress every 30 s)"
rm -rf "$out"
mkdir -p "$out"
mk=(make -C "$src" O="$out" LLVM=1 -j"$(nproc)")
"${mk[@]}" -s tinyconfig >/dev/null
"${mk[@]}" -s kvm_guest.config >/dev/null
(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null)
"${mk[@]}" -s olddefconfig >/dev/null

# olddefconfig silently drops options whose dependencies are off: check that
# every option a fragment asks for is really what we got.
# A later fragment overrides an earlier one, as merge_config.sh does.
declare -A want=()
order=()
while IFS= read -r line; do
  case $line in
    CONFIG_*=*) opt=${line%%=*} ;;
    "# CONFIG_"*" is not set") opt=${line#\# } opt=${opt%% *} ;;
    *) continue ;;
  esac
  [ -n "${want[$opt]+x}" ] || order+=("$opt")
  want[$opt]=$line
done < <(cat "${frags[@]}")
dropped=()
for opt in "${order[@]}"; do
  line=${want[$opt]}
  case $line in
    CONFIG_*=*) grep -qxF "$line" "$out/.config" ||
      dropped+=("$line (got: $(grep -E "^(# )?$opt[= ]" "$out/.config" || echo absent))") ;;
    *) if grep -qE "^$opt=" "$out/.config"; then dropped+=("$line (got: $(grep -E "^$opt=" "$out/.config"))"); fi ;;
  esac
done
if [ ${#dropped[@]} -gt 0 ]; then
  printf '  %s\n' "${dropped[@]}" >&2
  sf_die "kernel ($flavor): ${#dropped[@]} requested option(s) were dropped by olddefconfig (listed above)"
fi
sf_log "kernel ($flavor): all ${#order[@]} requested options are set"

sf_run_with_progress "kernel ($flavor) build" "$out/build.log" "${mk[@]}"
# Out-of-tree Rust modules need the kernel crate's metadata from the tree.
[ -f "$out/rust/libkernel.rmeta" ] || sf_die "kernel ($flavor): rust/libkernel.rmeta missing after build"
touch "$out/.sysfence-complete"
echo "$out"
