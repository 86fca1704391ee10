#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds a Debian package of sysfence with dpkg-deb alone (no debhelper):
# the static `sysfence` binary, its manual page(s) and shell completions,
# the module's DKMS source tree under /usr/src/sysfence-VERSION (with dkms
# installed, the package's postinst builds and installs the module, and
# DKMS rebuilds it for each new kernel), and an example modules-load.d
# file. Prints the .deb's path.
#
#   scripts/package-deb.sh [--binary PATH] [--out DIR]
#
# --binary   a sysfence binary to package; by default the static (musl)
#            release build, made the way scripts/build-initramfs.sh makes
#            the guest's, so an existing build is reused
# --out DIR  where the .deb goes (default target/sysfence/deb)
#
# SF_DEB_COMPRESSION=gzip trades size for speed (the default is xz, as
# Debian's own packages; the host test uses gzip to stay quick).
# The version is the workspace's (Cargo.toml). The binary is static, so the
# package depends on nothing; it recommends dkms for the module.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { sed -n '3,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
bin='' out=$SF_BUILD/deb
while [ $# -gt 0 ]; do
  case $1 in
    --binary) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "package-deb.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
command -v dpkg-deb >/dev/null || sf_die "dpkg-deb is missing (Debian: apt-get install dpkg)"

version=$(sf_version)
[ -n "$version" ] || sf_die "no version in $SF_ROOT/Cargo.toml"
if [ -z "$bin" ]; then
  target=x86_64-unknown-linux-musl
  sf_log "deb: building the static sysfence binary ($target, release)"
  # The same profile settings as build-initramfs.sh, so cargo reuses its
  # build instead of compiling the manager a second time.
  CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --quiet --release --manifest-path "$SF_ROOT/Cargo.toml" \
    --target "$target" -p sysfence
  bin=$SF_ROOT/target/$target/release/sysfence
fi
[ -x "$bin" ] || sf_die "$bin is not an executable sysfence binary"
# The package declares no dependencies, which only a static binary honours
# (a glibc build would need libc6 of at least its build machine's version).
if command -v readelf >/dev/null && LC_ALL=C readelf -l "$bin" 2>/dev/null | grep -q 'program interpreter'; then
  sf_die "$bin is dynamically linked; package the static build (leave out --binary, or build with --target x86_64-unknown-linux-musl)"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$out/sysfence_${version}_amd64
rm -rf "$root"
mkdir -p "$root/DEBIAN"
# Everything in the package is root's and world-readable whatever the
# builder's umask (dpkg-deb --root-owner-group sets the owners).
umask 022

# Stripped: the release profile keeps line tables for backtraces, tens of
# megabytes a package has no use for.
install -D -s -m 0755 "$bin" "$root/usr/bin/sysfence"

# Manual pages: one per command where the binary can write them all
# (`sysfence man --dir DIR`), else the top page from `sysfence man`.
man=$out/man
rm -rf "$man"
mkdir -p "$man"
if "$bin" man --help 2>/dev/null | grep -q -- '--dir'; then
  "$bin" man --dir "$man"
else
  "$bin" man >"$man/sysfence.1"
fi
n=0
for page in "$man"/*.[1-9]; do
  [ -f "$page" ] || continue
  section=${page##*.}
  install -D -m 0644 "$page" "$root/usr/share/man/man$section/$(basename "$page")"
  # Debian policy: gzip -9, without a timestamp (-n) so builds compare.
  gzip -9n "$root/usr/share/man/man$section/$(basename "$page")"
  n=$((n + 1))
done
rm -rf "$man"
[ "$n" -gt 0 ] || sf_die "$bin wrote no manual page"

# Completions where each shell's Debian package looks for them.
comp() { # SHELL PATH
  mkdir -p "$(dirname "$root/$2")"
  "$bin" completions "$1" >"$root/$2"
  chmod 0644 "$root/$2"
}
comp bash usr/share/bash-completion/completions/sysfence
comp zsh usr/share/zsh/vendor-completions/_sysfence
comp fish usr/share/fish/vendor_completions.d/sysfence.fish

# The module as DKMS source; the postinst below hands it to dkms.
"$SF_ROOT/scripts/dkms-source.sh" "$root/usr/src" >/dev/null

doc=$root/usr/share/doc/sysfence
mkdir -p "$doc/examples"
# Loading at boot is the operator's choice (a policy only exists once the
# manager sets one), so the package installs no modules-load.d file; this
# example is copied to /etc/modules-load.d/ by whoever wants it.
cat >"$doc/examples/modules-load.d-sysfence.conf" <<'EOF'
# Load sysfence.ko at boot (systemd-modules-load): copy this file to
# /etc/modules-load.d/sysfence.conf.
sysfence
EOF
cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sysfence

Files: *
License: GPL-2.0-only
 The kernel module, manager and tooling.

Files: usr/src/sysfence-$version/shared-abi/*
License: GPL-2.0 WITH Linux-syscall-note OR MIT

License: GPL-2.0-only
 On Debian systems, the full text is in /usr/share/common-licenses/GPL-2.
EOF
gzip -9n -c "$SF_ROOT/README.md" >"$doc/README.md.gz"

maintainer=${SF_DEB_MAINTAINER:-$(git -C "$SF_ROOT" log -1 --format='%an <%ae>' 2>/dev/null || true)}
cat >"$root/DEBIAN/control" <<EOF
Package: sysfence
Version: $version
Architecture: amd64
Maintainer: ${maintainer:-sysfence developers <root@localhost>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Recommends: dkms
Section: admin
Priority: optional
Description: live per-container syscall filter (manager and DKMS module source)
 sysfence attaches a syscall policy to a container's cgroup and lets an
 operator set, change or remove it while the container runs. This package
 has the sysfence command and the source of the sysfence.ko kernel module
 for DKMS, which builds it only for Linux 6.12 kernels built with Rust
 support (CONFIG_RUST) and a full build tree.
EOF

# What dh_dkms would generate, reduced to its core. A module that cannot
# be built for the running kernel (a distribution kernel without Rust, for
# one) must not fail the package's installation: DKMS builds it later for
# each suitable kernel (AUTOINSTALL in dkms.conf).
cat >"$root/DEBIAN/postinst" <<EOF
#!/bin/sh
set -e
if [ "\$1" = configure ] && command -v dkms >/dev/null 2>&1; then
	dkms add -m sysfence -v $version >/dev/null 2>&1 || true
	if ! dkms install -m sysfence -v $version -k "\$(uname -r)"; then
		echo "sysfence: module not built for \$(uname -r); DKMS will build it for each suitable kernel installed (Linux 6.12 with CONFIG_RUST and its full build tree; /usr/share/doc/sysfence/README.md.gz, 'On a real host')" >&2
	fi
fi
exit 0
EOF
cat >"$root/DEBIAN/prerm" <<EOF
#!/bin/sh
set -e
case "\$1" in
remove|upgrade|deconfigure)
	if command -v dkms >/dev/null 2>&1; then
		dkms remove -m sysfence -v $version --all >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

deb=$out/sysfence_${version}_amd64.deb
dpkg-deb --root-owner-group -Z"${SF_DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
rm -rf "$root"
sf_log "deb: $deb ($(du -h "$deb" | cut -f1))"
echo "$deb"
