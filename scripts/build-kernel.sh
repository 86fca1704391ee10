#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds a guest kernel from Debian's linux-source-6.12 with our config
# fragments, cached outside the repository.
#
#   scripts/build-kernel.sh [--arch x86_64|arm64] [test|bench]
#                                        (defaults: x86_64, test)
#
# Prints the path of the kernel build tree (the KDIR for the module) on
# stdout. Each architecture has its own builder (build-kernel-ARCH.sh), whose
# text is part of its cache key: the x86_64 one is kept as it was, so the x86
# kernels already cached stay valid.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=x86_64
if [ "${1:-}" = --arch ]; then
  arch=${2:?--arch needs x86_64 or arm64}
  shift 2
fi
case $arch in x86_64 | arm64) ;; *) sf_die "unknown architecture '$arch' (want x86_64 or arm64)" ;; esac
exec "$SF_ROOT/scripts/build-kernel-$arch.sh" "$@"
