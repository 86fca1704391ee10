#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The host test of README's "On a real host", for the parts that are cheap
# and deterministic on a build machine (scripts/test.sh runs it after the
# guest suite, which has built the module and the static binary it reuses):
#
#   host/install-module     `make -C kmod install` of the module built for
#                           the test kernel into a staging root: the .ko in
#                           lib/modules/RELEASE/extra, modules.dep lists it,
#                           modprobe resolves it there; then `make uninstall`
#   host/check-host         scripts/check-host.sh passes for that kernel's
#                           build tree (which the guests run)
#   host/check-host-no-rust check-host.sh fails for a tree without
#                           CONFIG_RUST, naming exactly what is missing
#   host/deb                scripts/package-deb.sh packages the static binary;
#                           dpkg-deb -c lists the binary, manual page,
#                           completions and DKMS tree; dpkg -x unpacks a
#                           binary that runs
#
# Prints "PASS|FAIL|SKIP NAME [why]" per check on stdout (SKIP when what it
# needs was not built in this run: the module and binary come from the guest
# suite's build), details on stderr; exits 1 if any check failed. Nothing
# is installed on this machine: everything goes to a scratch directory.
#
#   scripts/test-install.sh [--kdir DIR] [--module-dir DIR] [--binary PATH]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir='' moddir=$SF_BUILD/kmod-test/kmod bin=$SF_ROOT/target/x86_64-unknown-linux-musl/release/sysfence
while [ $# -gt 0 ]; do
  case $1 in
    --kdir) kdir=$2; shift 2 ;;
    --module-dir) moddir=$2; shift 2 ;;
    --binary) bin=$2; shift 2 ;;
    *) sf_die "unknown argument '$1' (see the head of $0)" ;;
  esac
done
# The tree the module was built against, as scripts/build-module.sh noted it.
[ -n "$kdir" ] || kdir=$(cat "$moddir/../.kdir" 2>/dev/null || true)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sysfence-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failed=0
verdict() { # PASS|FAIL|SKIP NAME [WHY]
  echo "$*"
  [ "$1" != FAIL ] || failed=1
}

# host/install-module
if [ ! -f "$moddir/sysfence.ko" ] || [ ! -f "$kdir/.sysfence-complete" ]; then
  verdict SKIP host/install-module "(no module built against a cached kernel in this run: $moddir)"
else
  stage=$scratch/stage
  rel=$(cat "$kdir/include/config/kernel.release")
  mods=$stage/lib/modules/$rel
  # The checkout's Makefile run in the directory the module was built in
  # (-f): that copy may predate a change to kmod/Makefile when the guest
  # suite had nothing to rebuild.
  mk=(make -s -C "$moddir" -f "$SF_ROOT/kmod/Makefile" KDIR="$kdir" LLVM=1 INSTALL_MOD_PATH="$stage")
  why=''
  if ! "${mk[@]}" install >&2; then
    why="make install failed"
  elif ! compgen -G "$mods/extra/sysfence.ko*" >/dev/null; then
    why="no $mods/extra/sysfence.ko"
  elif ! grep -q '^extra/sysfence\.ko[^:]*:' "$mods/modules.dep"; then
    why="modules.dep does not list extra/sysfence.ko"
  elif ! modprobe -d "$stage" -S "$rel" --show-depends sysfence 2>&1 | grep -q "$mods/extra/sysfence.ko"; then
    why="modprobe -d $stage does not resolve sysfence"
  elif ! "${mk[@]}" uninstall >&2; then
    why="make uninstall failed"
  elif compgen -G "$mods/extra/sysfence.ko*" >/dev/null || grep -q sysfence "$mods/modules.dep"; then
    why="make uninstall left the module or its modules.dep line"
  fi
  if [ -z "$why" ]; then verdict PASS host/install-module; else verdict FAIL host/install-module "($why)"; fi
fi

# host/check-host: the tree the guests' kernel was built in suits sysfence,
# so the checker's requirements are the ones the tested kernel meets.
if [ ! -f "$kdir/.sysfence-complete" ]; then
  verdict SKIP host/check-host "(no cached kernel tree in this run)"
elif "$SF_ROOT/scripts/check-host.sh" --kdir "$kdir" >&2; then
  verdict PASS host/check-host
else
  verdict FAIL host/check-host "(check-host.sh --kdir $kdir found something missing)"
fi

# host/check-host-no-rust: a synthetic tree, complete but for Rust, as a
# distribution's kernel is (Debian's 6.12 has HAVE_RUST, not RUST): exactly
# two lines missing, CONFIG_RUST and the Rust metadata.
fake=$scratch/fake-kdir
mkdir -p "$fake/include/config"
echo 6.12.0-norust >"$fake/include/config/kernel.release"
printf 'CONFIG_%s=y\n' X86_64 64BIT MODULES HAVE_RUST FTRACE_SYSCALLS KPROBES DYNAMIC_FTRACE_WITH_ARGS \
  SECURITY SECURITY_NETWORK SECURITY_PATH CGROUPS >"$fake/.config"
echo '# CONFIG_RUST is not set' >>"$fake/.config"
touch "$fake/Makefile" "$fake/Module.symvers"
rc=0
out=$("$SF_ROOT/scripts/check-host.sh" --kdir "$fake" 2>&1) || rc=$?
printf '%s\n' "$out" >&2
if [ "$rc" = 1 ] && [ "$(grep -c 'missing:' <<<"$out")" = 2 ] &&
  grep -q 'missing: CONFIG_RUST=y' <<<"$out" && grep -q 'missing: Rust metadata' <<<"$out"; then
  verdict PASS host/check-host-no-rust
else
  verdict FAIL host/check-host-no-rust "(exit $rc; want 1 with CONFIG_RUST and Rust metadata missing)"
fi

# host/deb
version=$(sf_version)
if [ ! -x "$bin" ]; then
  verdict SKIP host/deb "(no static binary built in this run: $bin)"
else
  why=''
  if ! deb=$(SF_DEB_COMPRESSION=gzip "$SF_ROOT/scripts/package-deb.sh" --binary "$bin" --out "$scratch/deb"); then
    why="package-deb.sh failed"
  else
    dpkg-deb -c "$deb" | awk '{print $NF}' >"$scratch/contents"
    for f in usr/bin/sysfence usr/share/man/man1/sysfence.1.gz \
      usr/share/bash-completion/completions/sysfence \
      "usr/src/sysfence-$version/dkms.conf" "usr/src/sysfence-$version/kmod/Kbuild" \
      "usr/src/sysfence-$version/kmod/Makefile" "usr/src/sysfence-$version/shared-abi/src/engine.rs" \
      usr/share/doc/sysfence/examples/modules-load.d-sysfence.conf; do
      grep -qx "./$f" "$scratch/contents" || why="${why:+$why, }no $f"
    done
    # The package only suggests loading at boot; it must not do it.
    ! grep -q '^\./etc/modules-load\.d/' "$scratch/contents" || why="${why:+$why, }installs a modules-load.d file"
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || why="${why:+$why, }Version is not $version"
    dpkg -x "$deb" "$scratch/root"
    grep -qx "PACKAGE_VERSION=\"$version\"" "$scratch/root/usr/src/sysfence-$version/dkms.conf" ||
      why="${why:+$why, }dkms.conf's PACKAGE_VERSION is not $version"
    "$scratch/root/usr/bin/sysfence" completions bash >/dev/null || why="${why:+$why, }the unpacked binary does not run"
  fi
  if [ -z "$why" ]; then verdict PASS host/deb; else verdict FAIL host/deb "($why)"; fi
fi

exit "$failed"
