# SPDX-License-Identifier: GPL-2.0
# First object-rule figure (issue 5): instructions per open(O_RDONLY) +
# close of an allowed path, without and with an active path rule, in one
# boot. Run with: bench/open-close.sh (icount: guest ns = instructions).
set -e
ITER=${ITER:-5000}
REPS=${REPS:-11}
F=/tmp/bench-file
echo x >"$F"
run() { printf '%-66s %s\n' "$1" "$(shift; "$@")"; }
# in_cg CGROUP CMD...: CMD run in CGROUP, from a child that moves itself
# there (a task under a policy may not move back out: containment).
in_cg() { _c=$1; shift; sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$_c" "$@"; }

rmmod sysfence 2>/dev/null || true
run "open+close, no module loaded" sf-bench --open "$F" "$ITER" "$REPS"
insmod "$SF_KO"
mkdir -p /sys/fs/cgroup/bench /sys/fs/cgroup/other
printf 'default: allow\nrules:\n  - {syscalls: [mount], action: errno}\n' | sysfence policy apply --cgroup bench - 2>/dev/null
run "open+close, filtered cgroup, no object rules (hooks off)" in_cg bench sf-bench --open "$F" "$ITER" "$REPS"
# A path rule on another cgroup: the hooks are on for every task.
printf 'default: allow\nobjects:\n  files:\n    - {prefix: /etc/secret, action: errno, errno: 13}\n' | sysfence policy apply --cgroup other - 2>/dev/null
run "open+close, caller unfiltered, path rule on another cgroup" sf-bench --open "$F" "$ITER" "$REPS"
printf 'default: allow\nrules:\n  - {syscalls: [mount], action: errno}\nobjects:\n  files:\n    - {prefix: /etc/secret, action: errno, errno: 13}\n' | sysfence policy apply --cgroup bench - 2>/dev/null
run "open+close, filtered cgroup with an active path rule (allowed)" in_cg bench sf-bench --open "$F" "$ITER" "$REPS"
sysfence policy delete --cgroup bench 2>/dev/null
sysfence policy delete --cgroup other 2>/dev/null
rmdir /sys/fs/cgroup/bench /sys/fs/cgroup/other
