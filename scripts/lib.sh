# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts in this folder. Source it; do not run it.

SF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything expensive (kernel trees, built images) lives outside the
# repository, so a fresh clone stays clean and a second run is fast.
SF_CACHE=${SYSFENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sysfence}
# Per-checkout build products that are cheap to redo (module, initramfs).
SF_BUILD=${SYSFENCE_BUILD:-$SF_ROOT/target/sysfence}
# Cargo's intermediate products (the dependencies compiled, build scripts'
# outputs, fingerprints) go to a build directory in the cache, shared by
# every checkout: a clean clone then compiles only the workspace's own
# crates, which cargo rebuilds when they change (their sources' times),
# and the dependencies when Cargo.lock, the toolchain or a flag changes.
# The binaries stay in target/. The arm64 programs (stable-arm64) and the
# fuzz targets (nightly) have their own (sf_cargo_build_dir NAME);
# scripts/setup.sh bounds their size.
sf_cargo_build_dir() { echo "$SF_CACHE/cargo/${1:-stable}"; }
export CARGO_BUILD_BUILD_DIR
CARGO_BUILD_BUILD_DIR=$(sf_cargo_build_dir stable)
# Debian's arm64 and armhf packages for the arm64 guest (scripts/setup.sh
# --arch arm64 unpacks them here: arm64/ and armhf/ roots).
SF_ARM64_USERLAND=$SF_CACHE/arm64-userland
# The kernel's Rust support needs LLVM; Debian installs clang-19 off PATH.
SF_LLVM_BIN=/usr/lib/llvm-19/bin
export PATH="$SF_LLVM_BIN:$HOME/.cargo/bin:$PATH"

sf_log() { printf '[sysfence %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
sf_die() { printf '[sysfence %s] error: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# The Debian package version of the kernel source, e.g. 6.12.117-1~deb12u1.
sf_kernel_pkg_version() {
  dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null
}

# Runs "$@" with its output in LOG, printing a progress line every 30 s
# (elapsed time, what it is doing now) instead of minutes of silence.
# Prints the log's tail and fails if the command fails.
sf_run_with_progress() {
  local what=$1 log=$2; shift 2
  local start=$SECONDS
  "$@" >"$log" 2>&1 &
  local pid=$! rc=0
  while kill -0 "$pid" 2>/dev/null; do
    local i
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      local e=$((SECONDS - start)) now
      now=$(grep -E '^\s+(CC|LD|AR|RUSTC|BINDGEN|AS|GEN|HOSTCC|OBJCOPY)' "$log" | tail -n 1 | sed 's/^ *//')
      sf_log "$what: $((e / 60))m$((e % 60))s elapsed, $(grep -c '' "$log") log lines, now: ${now:-starting}"
    fi
  done
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    sf_die "$what failed (exit $rc); full log: $log"
  fi
  local e=$((SECONDS - start))
  sf_log "$what: done in $((e / 60))m$((e % 60))s"
}

# The release version, from the workspace's Cargo.toml (the one version the
# manager, the .deb and the DKMS tree all carry).
sf_version() {
  sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$SF_ROOT/Cargo.toml"
}

# Checks that a configured kernel tree's .config has every option the
# fragments ask for (a later fragment overrides an earlier one, as
# merge_config.sh does): olddefconfig silently drops options whose
# dependencies are off. Lists what was dropped and fails; prints the
# number of options checked otherwise. (build-kernel-x86_64.sh has its own
# copy of this loop: its text is part of the x86 kernels' cache key.)
sf_kconfig_check() {
  local config=$1 line opt; shift
  local -A want=()
  local order=() dropped=()
  while IFS= read -r line; do
    case $line in
      CONFIG_*=*) opt=${line%%=*} ;;
      "# CONFIG_"*" is not set") opt=${line#\# } opt=${opt%% *} ;;
      *) continue ;;
    esac
    [ -n "${want[$opt]+x}" ] || order+=("$opt")
    want[$opt]=$line
  done < <(cat "$@")
  for opt in "${order[@]}"; do
    line=${want[$opt]}
    case $line in
      CONFIG_*=*) grep -qxF "$line" "$config" ||
        dropped+=("$line (got: $(grep -E "^(# )?$opt[= ]" "$config" || echo absent))") ;;
      *) if grep -qE "^$opt=" "$config"; then dropped+=("$line (got: $(grep -E "^$opt=" "$config"))"); fi ;;
    esac
  done
  if [ ${#dropped[@]} -gt 0 ]; then
    printf '  %s\n' "${dropped[@]}" >&2
    sf_log "${#dropped[@]} requested option(s) were dropped by olddefconfig (listed above)"
    return 1
  fi
  echo "${#order[@]}"
}

# Cross-builds for aarch64-unknown-linux-musl with LLVM alone: clang drives
# lld for the link (rustc brings musl's crt objects and libc.a itself), and
# compiles the crates' C code (ring) against Debian's arm64 musl headers.
# sf_arm64_diff_filters FLAVOR: builds arm64/t-differential's seccomp
# filters (tests/differential/arm64-filters.sh) with the host's libseccomp,
# for the release of the arm64 FLAVOR kernel (the arm64 guest cannot run
# the host root's x86 python3), and exports their directory as
# SF_DIFF_ARM64, which reaches the guest as every SF_* variable does.
sf_arm64_diff_filters() {
  local kdir
  kdir=$("$SF_ROOT/scripts/build-kernel.sh" --arch arm64 "$1") || return 1
  export SF_DIFF_ARM64=$SF_BUILD/differential-arm64
  "$SF_ROOT/tests/differential/arm64-filters.sh" "$SF_DIFF_ARM64" "$(cat "$kdir/include/config/kernel.release")"
}

sf_arm64_cross_env() {
  local inc=$SF_ARM64_USERLAND/arm64/usr/include/aarch64-linux-musl
  [ -d "$inc" ] || sf_die "no arm64 musl headers in $inc: run scripts/setup.sh --arch arm64"
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=clang
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C link-arg=--target=aarch64-linux-musl -C link-arg=-fuse-ld=lld"
  export CC_aarch64_unknown_linux_musl=clang
  export AR_aarch64_unknown_linux_musl=llvm-ar
  export CFLAGS_aarch64_unknown_linux_musl="--target=aarch64-linux-musl -nostdinc -isystem $(clang -print-resource-dir)/include -isystem $inc"
}
