#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job: set up, build, boot the test VM with sysfence.ko loaded and
# run tests/demo/live-policy.sh in it: a container-like workload in its own
# cgroup gets Docker's seccomp profile live, a denial shows in the events, the
# rule is relaxed live, and the policy removed, all without a restart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$SF_ROOT"
"$SF_ROOT/scripts/setup.sh"
exec qemu/run --timeout 900 -- sh tests/demo/live-policy.sh
