#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Writes the module's DKMS source tree: DIR/sysfence-VERSION/ with dkms.conf
# (packaging/dkms/dkms.conf, version filled in), kmod/ and shared-abi/src/
# (the module includes shared-abi's sources as ../shared-abi/src/*.rs), and
# the licence. Prints the tree's path.
#
#   scripts/dkms-source.sh [DIR]     (default /usr/src, where dkms looks)
#
# Sources only, by name: a kmod/ someone built in place keeps its objects.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:-/usr/src}
version=$(sf_version)
[ -n "$version" ] || sf_die "no version in $SF_ROOT/Cargo.toml"
tree=$dir/sysfence-$version
# A tree left by an older copy of the same version must not keep files the
# sources no longer have.
rm -rf "$tree"
mkdir -p "$tree/kmod" "$tree/shared-abi/src" "$tree/LICENSES"
sed "s/@VERSION@/$version/" "$SF_ROOT/packaging/dkms/dkms.conf" >"$tree/dkms.conf"
cp "$SF_ROOT"/kmod/{Kbuild,Makefile,*.rs,*.c,*.h} "$tree/kmod/"
cp "$SF_ROOT"/shared-abi/src/*.rs "$tree/shared-abi/src/"
cp "$SF_ROOT/LICENSE" "$tree/"
cp -r "$SF_ROOT"/LICENSES/. "$tree/LICENSES/"
chmod -R u=rwX,go=rX "$tree"
echo "$tree"
