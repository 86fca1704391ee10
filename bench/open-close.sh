#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boots the bench kernel (no debug options) under icount on one vCPU and
# prints instructions per open+close with and without an object path rule.
set -euo pipefail
cd "$(dirname "$0")/.."
exec qemu/run --kernel "${KERNEL:-bench}" --icount --timeout 1800 -- sh bench/guest/open-close.sh
