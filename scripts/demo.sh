#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job: set up, build, boot the test VM with sysfence.ko loaded and
# run tests/demo/live-policy.sh in it, which starts a container-like workload
# in its own cgroup and changes its syscall policy while it runs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SF_ROOT"
"$SF_ROOT/scripts/setup.sh"
exec qemu/run --timeout 900 -- sh tests/demo/live-policy.sh
